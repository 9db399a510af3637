"""Top-up and credit-line rules.

Bank transfer (对公转账): the brand asks for an amount and gets a reference code (``CNL`` + 8 digits + a Luhn
check digit) to write in the transfer remark; finance confirms the amount actually received, which is what
the wallet is credited (once: ledger key ``topup:<id>``), or cancels it.

Card (Stripe Checkout): a pending top-up is created first, then the Checkout Session (with the top-up id as
Stripe idempotency key); only a verified webhook completes it (``complete_card_top_up``), booking Stripe's fee as
an expense.

Credit lines: finance grants, changes or revokes a limit for a verified enterprise, with a reason, audited;
the wallet's floor becomes ``-limit``.

Notifications: the members who see the wallet (``money_members``: active holders of ``enterprise.finance``) hear
about money arriving and leaving (``notify_money_members``), in the transaction that moves it and once per event
(a ``dedupe_key`` per top-up or withdrawal step, besides each service's own once-only guard).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, tzinfo

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session
from stdnum import luhn

from marketplace.accounts.models import User
from marketplace.audit.services import record_audit
from marketplace.authz import ENTERPRISE_ROLE_PERMISSIONS
from marketplace.db import utcnow
from marketplace.enterprises.models import Enterprise, Membership
from marketplace.errors import Conflict, InvalidTransition, NotAllowed, ValidationFailed
from marketplace.ledger import flows
from marketplace.ledger.models import NORMAL_SIGN, LedgerTransaction, Posting
from marketplace.ledger.services import get_account, set_min_balance
from marketplace.money import format_money
from marketplace.notifications.services import notify
from marketplace.payments.models import CreditLine, TopUp
from marketplace.urls import path_for

MIN_TOP_UP = 100_00  # ¥100
MAX_TOP_UP = 10_000_000_00  # ¥10,000,000 per request
REFERENCE_PREFIX = "CNL"


def reference_code(top_up_id: int) -> str:
    digits = f"{top_up_id:08d}"
    return f"{REFERENCE_PREFIX}{digits}{luhn.calc_check_digit(digits)}"


def parse_reference_code(text: str) -> int | None:
    """The top-up id in a reference code (spaces, dashes and case ignored), or None when it is not valid."""
    compact = "".join(ch for ch in (text or "").upper() if ch.isalnum())
    if not compact.startswith(REFERENCE_PREFIX) or len(compact) != len(REFERENCE_PREFIX) + 9:
        return None
    digits = compact[len(REFERENCE_PREFIX):]
    if not digits.isdigit() or not luhn.is_valid(digits):
        return None
    return int(digits[:-1])


def _check_amount(amount: int, field: str = "amount") -> None:
    if amount < MIN_TOP_UP:
        raise ValidationFailed(_l("The minimum top-up is ¥100."), field=field)
    if amount > MAX_TOP_UP:
        raise ValidationFailed(_l("The maximum for one top-up is ¥10,000,000."), field=field)


def _require_verified(enterprise: Enterprise) -> None:
    if not enterprise.is_verified:
        raise NotAllowed(_l("Only verified enterprises can add funds. Submit your enterprise for verification first."))


# Who hears about money ----------------------------------------------------------------------------------------

WALLET_PERMISSION = "enterprise.finance"  # the permission that opens the wallet (marketplace.authz)


def money_members(session: Session, enterprise_id: int) -> list[User]:
    """The enterprise's active members who see its wallet (the roles holding ``enterprise.finance``)."""
    roles = sorted(role for role, permissions in ENTERPRISE_ROLE_PERMISSIONS.items()
                   if WALLET_PERMISSION in permissions)
    return list(session.scalars(select(User).join(Membership, Membership.user_id == User.id)
                                .where(Membership.enterprise_id == enterprise_id, Membership.role.in_(roles),
                                       User.is_active.is_(True))
                                .order_by(User.id)))


def notify_money_members(session: Session, enterprise: Enterprise, kind: str, *, amounts: dict[str, int],
                         currency: str, url: str, dedupe_key: str, params: dict | None = None,
                         exclude: User | None = None, now: datetime | None = None) -> int:
    """Notify the wallet's members (but ``exclude``) of a money event, once per ``dedupe_key``; how many were added.

    ``amounts`` (param name -> minor units) are stored formatted, as the other kinds store theirs, each in its
    reader's locale; the other ``params`` are stored as they are.
    """
    readers: dict[str, list[User]] = {}
    for user in money_members(session, enterprise.id):
        if exclude is None or user.id != exclude.id:
            readers.setdefault(user.locale or "en", []).append(user)
    added = 0
    for locale, users in readers.items():
        added += notify(session, users, kind, url=url, dedupe_key=dedupe_key, now=now,
                        params={"enterprise": enterprise.display_name, **(params or {}),
                                **{name: format_money(minor, currency, locale=locale)
                                   for name, minor in amounts.items()}})
    return added


def wallet_path(enterprise_id: int) -> str:
    return path_for("payments.wallet", enterprise_id=enterprise_id)


def notify_card_top_up_credited(session: Session, top_up: TopUp, now: datetime | None = None) -> int:
    """Tell the wallet's members a card (online) top-up was credited (in-app only: the payer saw it)."""
    return notify_money_members(session, top_up.enterprise, "card_top_up_credited",
                                amounts={"amount": top_up.amount_received}, currency=top_up.currency,
                                url=wallet_path(top_up.enterprise_id), dedupe_key=f"topup:{top_up.id}:credited",
                                now=now)


def request_bank_top_up(session: Session, actor: User, enterprise: Enterprise, amount: int) -> TopUp:
    """Open a pending bank-transfer top-up with its reference code. :raises ValidationFailed, NotAllowed:"""
    _require_verified(enterprise)
    _check_amount(amount)
    top_up = TopUp(enterprise_id=enterprise.id, method="bank", amount_requested=amount, created_by_id=actor.id)
    session.add(top_up)
    session.flush()
    top_up.reference_code = reference_code(top_up.id)
    session.flush()
    return top_up


def confirm_bank_top_up(session: Session, finance: User, top_up: TopUp, amount_received: int, note: str = "",
                        ip_address: str = "", now: datetime | None = None) -> TopUp:
    """Credit the wallet with what the bank actually received (once; audited).

    :raises InvalidTransition: not a pending bank top-up; :raises Conflict: already confirmed with another amount;
    :raises ValidationFailed: amount not positive.
    """
    if top_up.method != "bank":
        raise InvalidTransition(_l("Only bank transfers are confirmed by hand."))
    if top_up.state == "completed":
        if top_up.amount_received == amount_received:
            return top_up
        raise Conflict(_l("This transfer was already confirmed with another amount."))
    if top_up.state != "pending":
        raise InvalidTransition(_l("This top-up is no longer pending."))
    if amount_received <= 0:
        raise ValidationFailed(_l("Enter the amount that arrived on the bank statement."), field="amount_received")
    before = {"state": top_up.state, "amount_received": top_up.amount_received}
    txn = flows.top_up(session, enterprise_id=top_up.enterprise_id, amount=amount_received, rail="bank",
                       key=f"topup:{top_up.id}", reference=("top_up", top_up.id), actor_id=finance.id,
                       memo=f"Bank transfer {top_up.reference_code}", now=now)
    top_up.state = "completed"
    top_up.amount_received = amount_received
    top_up.ledger_transaction_id = txn.id
    top_up.decided_by_id = finance.id
    top_up.completed_at = now or utcnow()
    top_up.note = note.strip()
    session.flush()
    record_audit(session, actor=finance, action="top_up.confirm", object_type="top_up", object_id=top_up.id,
                 before=before, after={"state": "completed", "amount_received": amount_received,
                                       "requested": top_up.amount_requested}, reason=note.strip(),
                 ip_address=ip_address)
    other_amount = amount_received != top_up.amount_requested
    notify_money_members(session, top_up.enterprise,
                         "bank_top_up_credited_other_amount" if other_amount else "bank_top_up_credited",
                         amounts={"amount": amount_received,
                                  **({"requested": top_up.amount_requested} if other_amount else {})},
                         currency=top_up.currency, url=wallet_path(top_up.enterprise_id),
                         dedupe_key=f"topup:{top_up.id}:credited", params={"reference": top_up.reference_code},
                         now=now)
    return top_up


def cancel_top_up(session: Session, actor: User, top_up: TopUp, reason: str = "", ip_address: str = "") -> TopUp:
    """Cancel a pending top-up (the brand's own, or by finance, audited). :raises InvalidTransition:"""
    if top_up.state != "pending":
        raise InvalidTransition(_l("This top-up is no longer pending."))
    top_up.state = "cancelled"
    top_up.decided_by_id = actor.id
    top_up.note = reason.strip()
    session.flush()
    if actor.staff_role:
        record_audit(session, actor=actor, action="top_up.cancel", object_type="top_up", object_id=top_up.id,
                     before={"state": "pending"}, after={"state": "cancelled"}, reason=reason.strip(),
                     ip_address=ip_address)
    return top_up


def start_card_top_up(session: Session, actor: User, enterprise: Enterprise, amount: int,
                      payment_method_types: list[str]) -> TopUp:
    """Open a pending card top-up (the Checkout Session is created by the caller after commit)."""
    _require_verified(enterprise)
    _check_amount(amount)
    top_up = TopUp(enterprise_id=enterprise.id, method="card", amount_requested=amount, created_by_id=actor.id,
                   payment_method_types=",".join(payment_method_types))
    session.add(top_up)
    session.flush()
    return top_up


def complete_card_top_up(session: Session, top_up: TopUp, *, amount: int, fee: int, currency: str,
                         payment_intent: str | None, now: datetime | None = None) -> TopUp:
    """Credit a paid card top-up (from a verified webhook): ``amount`` to the wallet, ``fee`` as expense.

    Idempotent: a completed top-up is left as it is.
    """
    if top_up.state == "completed":
        return top_up
    txn = flows.top_up(session, enterprise_id=top_up.enterprise_id, amount=amount, fee=fee, rail="stripe",
                       currency=currency, key=f"topup:{top_up.id}", reference=("top_up", top_up.id),
                       memo=f"Card top-up {payment_intent or ''}".strip(), now=now)
    top_up.state = "completed"
    top_up.amount_received = amount
    top_up.fee = fee
    top_up.stripe_payment_intent = payment_intent
    top_up.ledger_transaction_id = txn.id
    top_up.completed_at = now or utcnow()
    session.flush()
    return top_up


def cancel_expired_card_top_up(session: Session, top_up: TopUp, actor: User | None = None,
                               reason: str = "The payment page expired at Stripe.") -> TopUp:
    """Cancel a pending card top-up whose Checkout Session is expired (nothing can be paid through it any more).

    Idempotent: a top-up that is no longer pending is left as it is.
    """
    if top_up.method == "card" and top_up.state == "pending":
        top_up.state = "cancelled"
        top_up.decided_by_id = actor.id if actor else None
        top_up.note = reason
        session.flush()
    return top_up


def fail_card_top_up(session: Session, top_up: TopUp, reason: str = "") -> TopUp:
    if top_up.state == "pending":
        top_up.state = "failed"
        top_up.note = reason
        session.flush()
    return top_up


# Credit lines -----------------------------------------------------------------------------------------------

def credit_line_of(session: Session, enterprise_id: int) -> CreditLine | None:
    return session.scalar(select(CreditLine).where(CreditLine.enterprise_id == enterprise_id))


def set_credit_line(session: Session, finance: User, enterprise: Enterprise, limit: int, reason: str,
                    ip_address: str = "") -> CreditLine:
    """Grant, change or revoke (limit 0) an enterprise's credit line. Audited.

    :raises NotAllowed: the enterprise is not verified; :raises ValidationFailed: negative limit or no reason.
    """
    if limit > 0 and not enterprise.is_verified:
        raise NotAllowed(_l("Only verified enterprises can be granted credit."))
    if limit < 0:
        raise ValidationFailed(_l("The limit cannot be negative."), field="limit")
    if len(reason.strip()) < 5:
        raise ValidationFailed(_l("Give the reason for this decision (at least 5 characters)."), field="reason")
    line = credit_line_of(session, enterprise.id)
    before = {"limit": line.limit if line else 0}
    if line is None:
        line = CreditLine(enterprise_id=enterprise.id)
        session.add(line)
    line.limit = limit
    line.reason = reason.strip()
    line.updated_by_id = finance.id
    line.updated_at = utcnow()
    flows.open_enterprise_wallet(session, enterprise.id)
    set_min_balance(session, flows.enterprise_available(enterprise.id), -limit)
    session.flush()
    record_audit(session, actor=finance, action="credit_line.set", object_type="enterprise", object_id=enterprise.id,
                 before=before, after={"limit": limit}, reason=reason.strip(), ip_address=ip_address)
    return line


BALANCE_HISTORY_DAYS = 30


def balance_history(session: Session, enterprise_id: int, zone: tzinfo, days: int = BALANCE_HISTORY_DAYS,
                    now: datetime | None = None) -> list[tuple[date, int]]:
    """The wallet's available balance at the end of each day (in ``zone``) of the last ``days`` days up to today,
    in minor units and the wallet's own sign (what the brand may spend; below 0 is credit used).

    From the day of the wallet's first posting when that is later (a new wallet's line starts with it); a day
    without postings carries the day before's balance; empty when the wallet has no postings yet. Read from the
    window's postings alone, in the order of their transactions' times (postings written with a past time, as the
    demo data is, count when they happened): the balance at the window's start is today's less what the window
    moved."""
    account = get_account(session, flows.enterprise_available(enterprise_id))
    if account is None or not account.posting_count:
        return []
    sign = NORMAL_SIGN[account.type]
    today = (now or utcnow()).astimezone(zone).date()
    first_day = today - timedelta(days=days - 1)
    start = datetime.combine(first_day, time.min, tzinfo=zone)
    moves = session.execute(
        select(LedgerTransaction.created_at, Posting.amount)
        .join(LedgerTransaction, LedgerTransaction.id == Posting.transaction_id)
        .where(Posting.account_id == account.id, LedgerTransaction.created_at >= start)
        .order_by(LedgerTransaction.created_at, Posting.id)).all()
    balance = account.balance - sum(amount for _, amount in moves)
    closing: dict[date, int] = {}
    for created_at, amount in moves:
        balance += amount
        closing[created_at.astimezone(zone).date()] = balance * sign  # the day's last posting wins
    if len(moves) == account.posting_count:  # nothing before the window: the line starts on the first day
        first_day = min(closing)
    balance = (account.balance - sum(amount for _, amount in moves)) * sign
    series = []
    day = first_day
    while day <= today:
        balance = closing.get(day, balance)
        series.append((day, balance))
        day += timedelta(days=1)
    return series


def wallet_summary(session: Session, enterprise_id: int) -> dict:
    """Available balance, credit limit and credit used (all minor units)."""
    account = get_account(session, flows.enterprise_available(enterprise_id))
    available = account.normal_balance if account else 0
    line = credit_line_of(session, enterprise_id)
    limit = line.limit if line else 0
    return {"available": available, "credit_limit": limit, "credit_used": max(0, -available),
            "spendable": available + limit}
