"""Card top-ups after the Checkout Session exists: Stripe webhook events applied to top-ups.

Invariants:

- every verified Stripe event is stored by its id (``StripeEvent``'s primary key) before anything else, in the
  same database transaction that applies it: a second delivery of the same id (sequential or concurrent) fails
  on the key and changes nothing (``DuplicateEvent``);
- a top-up is credited only by ``checkout.session.completed`` with payment_status "paid" or
  ``checkout.session.async_payment_succeeded``, with the amount Stripe says was paid (the session's
  ``amount_total``) and the fee from the charge's balance transaction; crediting goes through
  ``complete_card_top_up`` (ledger key ``topup:<id>``), so however many events say "paid", in whatever order,
  the wallet is credited once;
- ``…async_payment_failed`` fails a pending top-up and never reverses a credited one; completed with
  payment_status "unpaid" leaves it pending; events about sessions we do not know are stored and ignored;
- ``checkout.session.expired`` (Stripe's own 24-hour expiry, or ours when the brand cancels: ``cancel_card_top_up``)
  cancels a pending top-up and changes nothing else. An expired session can never be paid (Stripe refuses to
  complete it), so no "paid" event can follow; and if one ever did, ``complete_card_top_up``'s ledger key
  ``topup:<id>`` still credits a top-up at most once.
- the wallet's members get one in-app notification when a top-up is credited (no email: the payer saw it), in
  the transaction that credits it (dedupe key ``topup:<id>:credited``).

Services flush; the webhook view commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from marketplace.db import utcnow
from marketplace.payments.gateway import Payment, WebhookEvent
from marketplace.payments.models import StripeEvent, TopUp
from marketplace.payments.services import (
    cancel_expired_card_top_up,
    complete_card_top_up,
    fail_card_top_up,
    notify_card_top_up_credited,
)

COMPLETED = "checkout.session.completed"
ASYNC_SUCCEEDED = "checkout.session.async_payment_succeeded"
ASYNC_FAILED = "checkout.session.async_payment_failed"
EXPIRED = "checkout.session.expired"
HANDLED = (COMPLETED, ASYNC_SUCCEEDED, ASYNC_FAILED, EXPIRED)


class DuplicateEvent(Exception):
    """This Stripe event id was stored before: it has been (or is being) processed already."""


class PaymentNeeded(Exception):
    """Crediting this event needs what Stripe's balance transaction says about ``payment_intent``."""

    def __init__(self, payment_intent: str):
        super().__init__(payment_intent)
        self.payment_intent = payment_intent


@dataclass(frozen=True)
class Triage:
    """What a webhook needs before its write transaction: is it new, and which payment to ask Stripe about."""

    seen: bool
    payment_intent: str | None


def attach_checkout_session(session: Session, top_up: TopUp, checkout_session_id: str) -> TopUp:
    """Remember the Checkout Session that pays ``top_up`` (webhooks find the top-up by it)."""
    top_up.stripe_session_id = checkout_session_id
    session.flush()
    return top_up


def says_paid(event: WebhookEvent) -> bool:
    """Does this event say the session's money arrived?"""
    return event.type == ASYNC_SUCCEEDED or (event.type == COMPLETED and event.object.get("payment_status") == "paid")


def top_up_for(session: Session, checkout: dict[str, Any], *, lock: bool = False) -> TopUp | None:
    """The card top-up a Checkout Session pays: by its stored session id, else by the session's metadata
    (a webhook that overtook the storing of the id) when that top-up has no other session."""
    def run(query):
        if lock:  # row lock on PostgreSQL (SQLite write transactions are serialized); read the locked row afresh
            query = query.with_for_update().execution_options(populate_existing=True)
        return session.scalar(query)

    top_up = run(select(TopUp).where(TopUp.stripe_session_id == str(checkout.get("id") or "")))
    if top_up is not None:
        return top_up
    metadata = checkout.get("metadata") or {}
    try:
        top_up_id, enterprise_id = int(metadata.get("top_up_id")), int(metadata.get("enterprise_id"))
    except (TypeError, ValueError):
        return None
    return run(select(TopUp).where(TopUp.id == top_up_id, TopUp.enterprise_id == enterprise_id,
                                   TopUp.method == "card", TopUp.stripe_session_id.is_(None)))


def triage(session: Session, event: WebhookEvent) -> Triage:
    """Read-only look before the write: already stored? does crediting need Stripe's fee for a payment?"""
    if session.get(StripeEvent, event.id) is not None:
        return Triage(seen=True, payment_intent=None)
    if not says_paid(event):
        return Triage(seen=False, payment_intent=None)
    top_up = top_up_for(session, event.object)
    intent = event.object.get("payment_intent")
    if top_up is None or top_up.state == "completed" or not isinstance(intent, str):
        return Triage(seen=False, payment_intent=None)
    return Triage(seen=False, payment_intent=intent)


def record_stripe_event(session: Session, event: WebhookEvent, payment: Payment | None,
                        now: datetime | None = None) -> StripeEvent:
    """Store a verified event by its id, then apply it to its top-up (same transaction).

    ``payment`` is what Stripe's balance transaction says about the event's PaymentIntent (needed when the
    event says "paid" for a top-up not credited yet: see ``triage``).

    :raises DuplicateEvent: the event id is already stored (nothing is written);
    :raises PaymentNeeded: ``payment`` is missing for an event that credits (roll back, ask Stripe, call again).
    """
    row = StripeEvent(id=event.id, type=event.type, payload=event.payload)
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError as error:
        raise DuplicateEvent(event.id) from error
    now = now or utcnow()
    row.outcome = _apply(session, event, payment, now)[:200]
    row.processed_at = now
    session.flush()
    return row


def _money(minor: int, currency: str) -> str:
    return f"{Decimal(minor).scaleb(-2):.2f} {currency}"


def _apply(session: Session, event: WebhookEvent, payment: Payment | None, now: datetime) -> str:
    """Apply one new event; return what happened (stored as the event's outcome)."""
    if event.type not in HANDLED:
        return f"ignored: {event.type} is not used"
    checkout = event.object
    top_up = top_up_for(session, checkout, lock=True)
    if top_up is None:
        return f"ignored: no card top-up for session {checkout.get('id')}"
    if says_paid(event):
        if top_up.state == "completed":
            return f"no change: top-up #{top_up.id} was already credited"
        currency = str(checkout.get("currency") or "").upper()
        amount = checkout.get("amount_total")
        if currency != top_up.currency or not isinstance(amount, int) or amount <= 0:
            return f"ignored: top-up #{top_up.id} paid {amount!r} {currency}, expected {top_up.currency}"
        intent = checkout.get("payment_intent")
        if payment is None or payment.payment_intent != intent:
            if not isinstance(intent, str):
                return f"ignored: session {checkout.get('id')} says paid without a payment_intent"
            raise PaymentNeeded(intent)
        fee = payment.fee if payment.currency == currency else 0
        complete_card_top_up(session, top_up, amount=amount, fee=fee, currency=currency, payment_intent=intent,
                             now=now)
        notify_card_top_up_credited(session, top_up, now=now)
        return f"credited top-up #{top_up.id}: {_money(amount, currency)}, fee {_money(fee, currency)}"
    if event.type == EXPIRED:
        if top_up.state != "pending":
            return f"no change: top-up #{top_up.id} is {top_up.state}"
        cancel_expired_card_top_up(session, top_up)
        return f"top-up #{top_up.id} cancelled: its Checkout Session expired"
    if event.type == COMPLETED:
        if top_up.state == "pending":
            return f"top-up #{top_up.id} awaits the asynchronous payment ({checkout.get('payment_status')})"
        return f"no change: top-up #{top_up.id} is {top_up.state}"
    # ASYNC_FAILED
    if top_up.state == "completed":
        return f"no change: top-up #{top_up.id} was already credited (a failure never reverses it)"
    if top_up.state != "pending":
        return f"no change: top-up #{top_up.id} is {top_up.state}"
    fail_card_top_up(session, top_up, "The payment failed at Stripe.")
    return f"top-up #{top_up.id} failed"
