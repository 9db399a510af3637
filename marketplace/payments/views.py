"""The enterprise wallet: balances, held funds, transactions (with CSV export), bank-transfer top-ups.

Transactions are described in the reader's language (``descriptions.describe``); the stored memo stays the
audit record. The CSV keeps its machine-readable columns as they were and adds ``description`` (localized) last.
Withdrawal pages: ``withdrawal_views`` (registered on this blueprint).
"""

from __future__ import annotations

import csv
import io
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import and_, select
from sqlalchemy.orm import aliased

from marketplace import authz
from marketplace.creators import charts
from marketplace.creators.profile_views import tick_labels
from marketplace.db import get_session
from marketplace.enterprises.models import Enterprise
from marketplace.errors import DomainError
from marketplace.forms import ActionForm, apply_domain_error
from marketplace.ledger import flows
from marketplace.ledger.models import LedgerAccount, LedgerTransaction, Posting
from marketplace.ledger.services import get_account
from marketplace.main.templating import paginate
from marketplace.money import Money
from marketplace.payments import services
from marketplace.payments.descriptions import describe, kind_label
from marketplace.payments.forms import TopUpForm
from marketplace.payments.models import TopUp, Withdrawal

bp = Blueprint("payments", __name__)
BALANCE_BOX = charts.Box(width=720, height=200, left=72, right=16, top=12, bottom=30)  # the wallet's balance line
bp.add_app_template_global(describe, "transaction_description")
bp.add_app_template_global(kind_label, "transaction_kind_label")


@bp.app_template_filter("money_ticks")
def money_ticks(values) -> tuple[str, ...]:
    """Chart ticks of CNY amounts in minor units, the short way with the currency sign: ¥12K, -¥5K, ¥1.2万."""
    return tuple(f"-¥{label[1:]}" if label.startswith("-") else f"¥{label}"
                 for label in tick_labels(v / 100 for v in values))

KIND_LABELS_KEYS = ("top_up:bank", "top_up:stripe", "fund_escrow", "refund_escrow", "release_retention",
                    "hold_boost", "release_boost", "hold_withdrawal", "release_withdrawal", "brand_withdrawal")


@bp.app_template_global("withdrawal_code")
def _withdrawal_code(withdrawal_id: int) -> str:
    from marketplace.payments.withdrawals import withdrawal_code

    return withdrawal_code(withdrawal_id)


def load_enterprise(enterprise_id: int) -> Enterprise:
    """The enterprise in the URL, or 404."""
    enterprise = get_session().get(Enterprise, enterprise_id)
    if enterprise is None:
        abort(404)
    return enterprise


def card_top_ups_enabled() -> bool:
    from marketplace.payments.gateway import card_payments_enabled

    return card_payments_enabled(current_app.config)


def _wallet_postings(enterprise_id: int):
    """Postings on the enterprise's wallet, newest first, filtered by ?kind=&from=&to=."""
    db = get_session()
    account = get_account(db, flows.enterprise_available(enterprise_id))
    if account is None:
        return None, None
    query = (select(Posting).join(LedgerTransaction, LedgerTransaction.id == Posting.transaction_id)
             .where(Posting.account_id == account.id).order_by(Posting.id.desc()))
    kind = request.args.get("kind", "")
    if kind:
        query = query.where(LedgerTransaction.kind == kind)
    for arg, op in (("from", "ge"), ("to", "lt")):
        value = request.args.get(arg, "")
        if not value:
            continue
        try:
            day = datetime.combine(datetime.strptime(value, "%Y-%m-%d").date(), time.min)
        except ValueError:
            continue
        day = day.replace(tzinfo=ZoneInfo(current_user.timezone))
        if op == "lt":
            day += timedelta(days=1)
        query = query.where(LedgerTransaction.created_at >= day if op == "ge" else LedgerTransaction.created_at < day)
    return account, query


def held_funds(enterprise_id: int) -> list[tuple[LedgerAccount, int]]:
    """Escrow and boost-budget accounts funded from this wallet that still hold money."""
    db = get_session()
    wallet = get_account(db, flows.enterprise_available(enterprise_id))
    if wallet is None:
        return []
    mine, other = aliased(Posting), aliased(Posting)
    funded = (select(other.account_id).join(mine, and_(mine.transaction_id == other.transaction_id,
                                                       mine.account_id == wallet.id)))
    rows = db.scalars(select(LedgerAccount).where(LedgerAccount.id.in_(funded),
                                                  LedgerAccount.owner_type.in_(("order", "boost")),
                                                  LedgerAccount.balance != 0).order_by(LedgerAccount.id)).all()
    return [(row, row.normal_balance) for row in rows]


def wallet_holds(enterprise_id: int) -> dict:
    """What the wallet summary (``payments/_summary.html``) shows held beside the available balance, as template
    context: ``held`` (``held_funds``), ``held_total`` (their sum) and ``pending_withdrawals`` (newest first).
    The brand's wallet page and finance's credit-line page both show them."""
    held = held_funds(enterprise_id)
    pending_withdrawals = get_session().scalars(select(Withdrawal).where(Withdrawal.enterprise_id == enterprise_id,
                                                                         Withdrawal.state == "pending")
                                                .order_by(Withdrawal.id.desc())).all()
    return {"held": held, "held_total": sum(amount for _, amount in held), "pending_withdrawals": pending_withdrawals}


@bp.get("/enterprises/<int:enterprise_id>/wallet")
@login_required
def wallet(enterprise_id: int):
    enterprise = load_enterprise(enterprise_id)
    authz.require("enterprise.finance", enterprise)
    db = get_session()
    summary = services.wallet_summary(db, enterprise.id)
    holds = wallet_holds(enterprise.id)
    pending = db.scalars(select(TopUp).where(TopUp.enterprise_id == enterprise.id, TopUp.state == "pending")
                         .order_by(TopUp.id.desc())).all()
    account, query = _wallet_postings(enterprise.id)
    page = paginate(db, query, per_page=25) if query is not None else None
    history = services.balance_history(db, enterprise.id, ZoneInfo(current_user.timezone))
    balance_chart = charts.line_chart(history, BALANCE_BOX, include_zero=True) if len(history) >= 2 else None
    return render_template(
        "payments/wallet.html", enterprise=enterprise, summary=summary, **holds, pending=pending, page=page,
        balance_chart=balance_chart, balance_days=services.BALANCE_HISTORY_DAYS, form=TopUpForm(),
        card_enabled=card_top_ups_enabled(), kinds=KIND_LABELS_KEYS, kind=request.args.get("kind", ""),
        date_from=request.args.get("from", ""), date_to=request.args.get("to", ""), action_form=ActionForm(),
    )


@bp.get("/enterprises/<int:enterprise_id>/wallet/transactions.csv")
@login_required
def wallet_csv(enterprise_id: int):
    enterprise = load_enterprise(enterprise_id)
    authz.require("enterprise.finance", enterprise)
    account, query = _wallet_postings(enterprise.id)
    out = io.StringIO()
    out.write("\ufeff")  # Excel opens UTF-8 CSV with Chinese text correctly only with a BOM
    writer = csv.writer(out)
    # Machine-readable columns first, unchanged; the description in the reader's language last.
    writer.writerow(["transaction_id", "created_at_utc", "kind", "memo", "amount_cny", "balance_after_cny",
                     "description"])
    if query is not None:
        for posting in get_session().scalars(query.limit(100_000)):
            txn = posting.transaction
            writer.writerow([txn.id, txn.created_at.strftime("%Y-%m-%d %H:%M:%S"), txn.kind, txn.memo,
                             f"{Money(-posting.amount, posting.currency).to_decimal():f}",
                             f"{Money(-posting.balance_after, posting.currency).to_decimal():f}",
                             _csv_text(f"{kind_label(txn.kind)}: {describe(txn)}".rstrip(": "))])
    filename = f"canal-wallet-{enterprise.id}.csv"
    return Response(out.getvalue(), mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def _csv_text(text: str) -> str:
    """Text a spreadsheet shows as text: a leading =, +, - or @ would be read as a formula (CSV injection)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


@bp.post("/enterprises/<int:enterprise_id>/wallet/top-up/bank")
@login_required
def bank_top_up(enterprise_id: int):
    enterprise = load_enterprise(enterprise_id)
    authz.require("enterprise.finance", enterprise)
    form = TopUpForm()
    db = get_session()
    if form.validate_on_submit():
        try:
            top_up = services.request_bank_top_up(db, current_user, enterprise, form.amount.minor)
            db.commit()
        except DomainError as error:
            db.rollback()
            if not apply_domain_error(form, error):
                flash(error.message, "error")
        else:
            return redirect(url_for("payments.bank_instructions", enterprise_id=enterprise.id, top_up_id=top_up.id))
    summary = services.wallet_summary(db, enterprise.id)
    return render_template("payments/wallet_top_up.html", enterprise=enterprise, form=form, summary=summary,
                           card_enabled=card_top_ups_enabled()), 400


@bp.get("/enterprises/<int:enterprise_id>/wallet/top-up")
@login_required
def top_up_form(enterprise_id: int):
    enterprise = load_enterprise(enterprise_id)
    authz.require("enterprise.finance", enterprise)
    summary = services.wallet_summary(get_session(), enterprise.id)
    return render_template("payments/wallet_top_up.html", enterprise=enterprise, form=TopUpForm(), summary=summary,
                           card_enabled=card_top_ups_enabled())


def load_top_up(enterprise: Enterprise, top_up_id: int) -> TopUp:
    """A top-up of this enterprise, or 404 (another enterprise's top-up is not found here)."""
    top_up = get_session().get(TopUp, top_up_id)
    if top_up is None or top_up.enterprise_id != enterprise.id:
        abort(404)
    return top_up


@bp.get("/enterprises/<int:enterprise_id>/wallet/top-ups/<int:top_up_id>/bank")
@login_required
def bank_instructions(enterprise_id: int, top_up_id: int):
    enterprise = load_enterprise(enterprise_id)
    authz.require("enterprise.finance", enterprise)
    top_up = load_top_up(enterprise, top_up_id)
    if top_up.method != "bank":
        abort(404)
    return render_template("payments/wallet_bank.html", enterprise=enterprise, top_up=top_up,
                           action_form=ActionForm())


@bp.post("/enterprises/<int:enterprise_id>/wallet/top-ups/<int:top_up_id>/cancel")
@login_required
def cancel_top_up(enterprise_id: int, top_up_id: int):
    """Cancel a pending top-up. A card top-up's Checkout Session is expired at Stripe first (outside any write
    transaction), so the payment page can no longer take the money: only then is the top-up marked cancelled.
    If Stripe already took the payment, nothing is cancelled (409); if Stripe cannot be reached, 503."""
    enterprise = load_enterprise(enterprise_id)
    authz.require("enterprise.finance", enterprise)
    top_up = load_top_up(enterprise, top_up_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    db = get_session()
    if top_up.method == "card" and top_up.state == "pending" and top_up.stripe_session_id:
        checkout_session_id = top_up.stripe_session_id
        db.rollback()  # no write lock is held across the call to Stripe
        outcome = _expire_checkout(checkout_session_id)
        if outcome is not None:
            return outcome
        top_up = load_top_up(enterprise, top_up_id)  # afresh: the expired webhook may have cancelled it already
        if top_up.state == "cancelled":
            flash(_("The top-up request %(code)s was cancelled.", code=f"#{top_up.id}"), "info")
            return redirect(url_for("payments.wallet", enterprise_id=enterprise.id))
    try:
        services.cancel_top_up(db, current_user, top_up, _("Cancelled by the enterprise"))
        db.commit()
    except DomainError as error:
        db.rollback()
        flash(error.message, "error")
        return wallet(enterprise.id), error.status_code
    flash(_("The top-up request %(code)s was cancelled.", code=top_up.reference_code or f"#{top_up.id}"), "info")
    return redirect(url_for("payments.wallet", enterprise_id=enterprise.id))


def _expire_checkout(checkout_session_id: str):
    """Expire the Checkout Session at Stripe: None when it can no longer be paid, else the response to send."""
    from marketplace.payments.gateway import GatewayError, gateway

    try:
        status = gateway().expire_checkout_session(checkout_session_id)
    except GatewayError as error:
        current_app.logger.warning("could not expire Checkout Session %s: %s", checkout_session_id, error)
        flash(_("We couldn't reach the card payment service, so the top-up is still open. Try again in a few "
                "minutes."), "error")
        return _wallet_after_refusal(503)
    if status == "complete":
        flash(_("This payment already went through at Stripe, so it can no longer be cancelled. Your balance is "
                "credited as soon as Stripe confirms it."), "error")
        return _wallet_after_refusal(409)
    return None


def _wallet_after_refusal(status: int):
    enterprise_id = request.view_args["enterprise_id"]
    get_session().rollback()
    return wallet(enterprise_id), status


from marketplace.payments import withdrawal_views  # noqa: E402,F401 - registers the withdrawal pages on ``bp``
