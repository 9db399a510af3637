"""Card top-ups through Stripe Checkout: start, the return page, and the Stripe webhook.

Start: load (404) -> authorize ``enterprise.finance`` (403) -> card payments enabled (404) -> validate the
amount -> ``start_card_top_up`` -> commit -> create the Checkout Session through the gateway (after the commit,
idempotent per top-up) -> remember the session id -> commit -> 303 to Stripe's hosted page.

Webhook (public, CSRF-exempt, no login): verify the signature (400 when it does not verify) -> a read-only
triage (already stored? which payment's fee to ask Stripe about) -> ask Stripe, outside any write transaction
-> store the event by id and apply it in one transaction -> commit -> 200. A duplicate id is a 200 that
changes nothing; Stripe being unreachable is a 503, so Stripe retries the delivery later.
"""

from __future__ import annotations

import logging

from flask import Blueprint, abort, current_app, flash, jsonify, redirect, render_template, request
from flask_babel import gettext as _
from flask_login import current_user, login_required

from marketplace import authz
from marketplace.db import get_session
from marketplace.enterprises.models import Enterprise
from marketplace.errors import DomainError
from marketplace.extensions import csrf
from marketplace.forms import ActionForm, apply_domain_error
from marketplace.payments import card_services, services
from marketplace.payments.forms import TopUpForm
from marketplace.payments.gateway import (
    GatewayError,
    InvalidWebhook,
    card_payments_enabled,
    gateway,
    payment_method_types,
)
from marketplace.payments.views import load_enterprise, load_top_up
from marketplace.urls import external_url

log = logging.getLogger("canal.payments")

bp = Blueprint("payments_card", __name__)


def _card_page(enterprise: Enterprise, form: TopUpForm, status: int):
    return render_template("payments/card_top_up.html", enterprise=enterprise, form=form), status


@bp.post("/enterprises/<int:enterprise_id>/wallet/top-up/card")
@login_required
def start(enterprise_id: int):
    enterprise = load_enterprise(enterprise_id)
    authz.require("enterprise.finance", enterprise)
    if not card_payments_enabled(current_app.config):
        abort(404)
    form = TopUpForm()
    if not form.validate_on_submit():
        return _card_page(enterprise, form, 400)
    db = get_session()
    try:
        top_up = services.start_card_top_up(db, current_user, enterprise, form.amount.minor,
                                            payment_method_types(current_app.config))
        db.commit()
    except DomainError as error:
        db.rollback()
        if not apply_domain_error(form, error):
            flash(error.message, "error")
        return _card_page(enterprise, form, error.status_code)
    status_url = external_url("payments_card.top_up_status", enterprise_id=enterprise.id, top_up_id=top_up.id)
    try:
        checkout = gateway().create_checkout_session(top_up, success_url=status_url,
                                                     cancel_url=status_url + "?cancelled=1")
    except GatewayError as error:
        log.warning("card top-up %s: no Checkout Session: %s", top_up.id, error)
        services.fail_card_top_up(db, top_up, "Stripe could not open the payment page.")
        db.commit()
        flash(_("We couldn't reach the card payment service, so nothing was charged. Try again in a few minutes, "
                "or pay by bank transfer."), "error")
        return _card_page(enterprise, form, 503)
    card_services.attach_checkout_session(db, top_up, checkout.id)
    db.commit()
    return redirect(checkout.url, code=303)


@bp.get("/enterprises/<int:enterprise_id>/wallet/top-ups/<int:top_up_id>")
@login_required
def top_up_status(enterprise_id: int, top_up_id: int):
    enterprise = load_enterprise(enterprise_id)
    authz.require("enterprise.finance", enterprise)
    top_up = load_top_up(enterprise, top_up_id)
    left_checkout = request.args.get("cancelled") == "1" and top_up.method == "card" and top_up.state == "pending"
    return render_template("payments/top_up_status.html", enterprise=enterprise, top_up=top_up,
                           left_checkout=left_checkout, action_form=ActionForm())


@bp.post("/webhooks/stripe")
@csrf.exempt
def stripe_webhook():
    if not card_payments_enabled(current_app.config):
        return jsonify(error="Stripe webhooks are not configured here."), 400
    stripe = gateway()
    try:
        event = stripe.parse_webhook(request.get_data(), request.headers.get("Stripe-Signature"))
    except InvalidWebhook as error:
        log.warning("refused a Stripe webhook from %s: %s", request.remote_addr, error)
        return jsonify(error="The Stripe signature does not verify."), 400
    db = get_session()
    triage = card_services.triage(db, event)
    db.rollback()  # end the read before talking to Stripe: no write lock is held across the network call
    if triage.seen:
        return jsonify(received=True, duplicate=True)
    payment = None
    for _attempt in range(2):
        if triage.payment_intent and (payment is None or payment.payment_intent != triage.payment_intent):
            try:
                payment = stripe.payment_of(triage.payment_intent)
            except GatewayError as error:
                log.warning("Stripe event %s: %s (Stripe will retry)", event.id, error)
                return jsonify(error="Could not read the payment from Stripe; retry later."), 503
        try:
            row = card_services.record_stripe_event(db, event, payment)
            db.commit()
        except card_services.DuplicateEvent:
            db.rollback()
            return jsonify(received=True, duplicate=True)
        except card_services.PaymentNeeded as needed:  # the top-up appeared after the triage
            db.rollback()
            triage = card_services.Triage(seen=False, payment_intent=needed.payment_intent)
            continue
        log.info("Stripe event %s (%s): %s", event.id, event.type, row.outcome)
        return jsonify(received=True, outcome=row.outcome)
    return jsonify(error="The payment could not be matched; retry later."), 503
