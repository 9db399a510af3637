"""Brand withdrawals (提现): unused prepaid balance paid back to the enterprise's own bank account.

Decision: **the amount is held when the withdrawal is requested.** ``request_withdrawal`` moves it from the
wallet into the withdrawal's own held account in one ledger transaction (``flows.hold_withdrawal``, key
``withdrawal:<id>:hold``), so money waiting for finance's bank transfer can never also be spent on an order or
a boost, nor requested twice. Finance then either pays it — after making the bank transfer, with the bank's
transfer reference — (``flows.complete_withdrawal``: held → out of ``platform:cash:bank``, key
``withdrawal:<id>:complete``), or rejects it with a reason (``flows.release_withdrawal``: held → back to the
wallet, key ``withdrawal:<id>:release``); the brand may cancel its own pending request (a release too).
``flows.brand_withdrawal`` (wallet → cash in one step) cannot express the time between request and payment,
so it is not used here.

Invariants:

- only owner and finance members (``enterprise.finance``) of a verified enterprise request withdrawals, of at most
  the wallet's positive available balance: a credit line is never withdrawn (the hold's floor is 0, whatever
  the wallet's credit floor is), and a request that would take the wallet below 0 writes nothing;
- the money moves through the ledger exactly once per step: each step's key is fixed by the withdrawal, a
  withdrawal is locked (``SELECT … FOR UPDATE`` on PostgreSQL; SQLite serializes writers) before its state is
  read, and the held account's floor of 0 makes "paid" and "returned" mutually exclusive even if two decisions
  raced past the state check;
- a form submitted twice makes one withdrawal (``request_key``, unique per enterprise);
- the withdrawal's bank account is in the enterprise's registered (legal) name: a company's balance goes back
  to the company's own account (对公账户), never to a person's;
- every request and decision is audited (who, when, before/after, reason, IP).

Notifications (``payments.services.notify_money_members``, in the transaction of the decision, dedupe key
``withdrawal:<id>:<state>``): the wallet's members hear when finance pays (with the bank reference) or rejects
(with the reason) a withdrawal, in-app and by email; when a member cancels one, the other members hear of it
in-app only.

Services flush; the request commits.
"""

from __future__ import annotations

import re
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from stdnum import luhn

from marketplace.accounts.models import User
from marketplace.audit.services import record_audit
from marketplace.db import utcnow
from marketplace.enterprises.models import Enterprise
from marketplace.errors import Conflict, InsufficientFunds, InvalidTransition, NotAllowed, ValidationFailed
from marketplace.ledger import flows
from marketplace.ledger.services import get_account
from marketplace.money import format_money
from marketplace.payments.models import Withdrawal
from marketplace.payments.services import notify_money_members
from marketplace.urls import path_for

CODE_PREFIX = "CNW"
ACCOUNT_NUMBER = re.compile(r"^\d{8,30}$")


def withdrawal_code(withdrawal_id: int) -> str:
    """The withdrawal's number as people quote it: ``CNW`` + 8 digits + a Luhn check digit."""
    digits = f"{withdrawal_id:08d}"
    return f"{CODE_PREFIX}{digits}{luhn.calc_check_digit(digits)}"


def compact_account_number(text: str) -> str:
    """A bank account number as typed ("6222 0212-3456") without spaces and dashes."""
    return "".join(ch for ch in (text or "") if ch not in " -\u00a0\u3000")


def _same_name(a: str, b: str) -> bool:
    """Company names compared as banks do: ignoring spaces and full-width vs half-width brackets."""
    def norm(text: str) -> str:
        return "".join((text or "").replace("（", "(").replace("）", ")").split()).casefold()

    return norm(a) == norm(b)


def withdrawable(session: Session, enterprise_id: int) -> int:
    """What the enterprise may withdraw now: its positive available balance (never credit)."""
    account = get_account(session, flows.enterprise_available(enterprise_id))
    return max(0, account.normal_balance if account else 0)


def _too_much(available: int):
    return ValidationFailed(_l("You can withdraw at most %(amount)s: your available balance, not counting "
                               "credit.", amount=format_money(available)), field="amount")


def request_withdrawal(session: Session, actor: User, enterprise: Enterprise, *, amount: int, account_name: str,
                       bank_name: str, account_number: str, request_key: str, ip_address: str = "",
                       now: datetime | None = None) -> Withdrawal:
    """Request a withdrawal to the enterprise's bank account and hold its amount (the same ``request_key`` again
    returns the first request).

    :raises NotAllowed: the enterprise is not verified;
    :raises ValidationFailed: amount not positive or above the withdrawable balance, account not in the
        enterprise's legal name, malformed account number (with the field it concerns).
    """
    if not enterprise.is_verified:
        raise NotAllowed(_l("Only verified enterprises can withdraw. Submit your enterprise for verification first."))
    existing = session.scalar(select(Withdrawal).where(Withdrawal.enterprise_id == enterprise.id,
                                                       Withdrawal.request_key == request_key))
    if existing is not None:
        return existing
    if amount <= 0:
        raise ValidationFailed(_l("Enter a positive amount."), field="amount")
    available = withdrawable(session, enterprise.id)
    if amount > available:
        raise _too_much(available)
    if not _same_name(account_name, enterprise.legal_name):
        raise ValidationFailed(_l("The account must be in the enterprise's registered name: %(name)s.",
                                  name=enterprise.legal_name), field="account_name")
    number = compact_account_number(account_number)
    if not ACCOUNT_NUMBER.match(number):
        raise ValidationFailed(_l("Enter the account number: 8 to 30 digits."), field="account_number")
    now = now or utcnow()
    withdrawal = Withdrawal(enterprise_id=enterprise.id, request_key=request_key, amount=amount,
                            account_name=enterprise.legal_name, bank_name=" ".join(bank_name.split()),
                            account_number=number, created_by_id=actor.id, created_at=now)
    session.flush()
    try:
        with session.begin_nested():  # the same form, submitted twice at the same moment: one row wins
            session.add(withdrawal)
            session.flush()
    except IntegrityError:
        found = session.scalar(select(Withdrawal).where(Withdrawal.enterprise_id == enterprise.id,
                                                        Withdrawal.request_key == request_key))
        if found is None:
            raise
        return found
    try:
        txn = flows.hold_withdrawal(session, withdrawal_id=withdrawal.id, enterprise_id=enterprise.id, amount=amount,
                                    key=f"withdrawal:{withdrawal.id}:hold", actor_id=actor.id,
                                    memo=f"Withdrawal {withdrawal_code(withdrawal.id)} requested", now=now)
    except InsufficientFunds as error:  # spent or withdrawn by a concurrent request since the check above
        raise _too_much(withdrawable(session, enterprise.id)) from error
    withdrawal.hold_transaction_id = txn.id
    session.flush()
    record_audit(session, actor=actor, action="withdrawal.request", object_type="withdrawal",
                 object_id=withdrawal.id, after={"state": "pending", "amount": amount, "bank_name": withdrawal.bank_name,
                                                 "account_number": number}, ip_address=ip_address)
    return withdrawal


def _notify(session: Session, withdrawal: Withdrawal, kind: str, *, exclude: User | None = None,
            now: datetime | None = None, **params) -> int:
    """Tell the wallet's members (but ``exclude``) what became of ``withdrawal`` (once per state)."""
    url = path_for("payments.withdrawal_detail", enterprise_id=withdrawal.enterprise_id, withdrawal_id=withdrawal.id)
    return notify_money_members(
        session, withdrawal.enterprise, kind, amounts={"amount": withdrawal.amount}, currency=withdrawal.currency,
        url=url, dedupe_key=f"withdrawal:{withdrawal.id}:{withdrawal.state}", exclude=exclude, now=now,
        params={"code": withdrawal_code(withdrawal.id), **params})


def _locked(session: Session, withdrawal: Withdrawal) -> Withdrawal:
    """The withdrawal, read afresh under its row lock (PostgreSQL; SQLite writers are serialized)."""
    return session.scalar(select(Withdrawal).where(Withdrawal.id == withdrawal.id).with_for_update()
                          .execution_options(populate_existing=True))


def pay_withdrawal(session: Session, finance: User, withdrawal: Withdrawal, bank_reference: str,
                   ip_address: str = "", now: datetime | None = None) -> Withdrawal:
    """Record that the bank transfer was made: the held amount leaves platform bank cash (once; audited).

    :raises ValidationFailed: no bank reference; :raises InvalidTransition: not pending;
    :raises Conflict: already paid with another bank reference.
    """
    reference = " ".join((bank_reference or "").split())
    if not 4 <= len(reference) <= 80:
        raise ValidationFailed(_l("Enter the bank's transfer reference (4 to 80 characters)."),
                               field="bank_reference")
    withdrawal = _locked(session, withdrawal)
    if withdrawal.state == "paid":
        if withdrawal.bank_reference == reference:
            return withdrawal
        raise Conflict(_l("This withdrawal was already paid with another bank reference."))
    if withdrawal.state != "pending":
        raise InvalidTransition(_l("This withdrawal is no longer pending."))
    now = now or utcnow()
    code = withdrawal_code(withdrawal.id)
    txn = flows.complete_withdrawal(session, withdrawal_id=withdrawal.id, amount=withdrawal.amount,
                                    currency=withdrawal.currency, key=f"withdrawal:{withdrawal.id}:complete",
                                    actor_id=finance.id, memo=f"Withdrawal {code} paid, bank reference {reference}",
                                    now=now)
    withdrawal.state = "paid"
    withdrawal.bank_reference = reference
    withdrawal.settle_transaction_id = txn.id
    withdrawal.decided_by_id = finance.id
    withdrawal.decided_at = now
    session.flush()
    record_audit(session, actor=finance, action="withdrawal.pay", object_type="withdrawal", object_id=withdrawal.id,
                 before={"state": "pending"}, after={"state": "paid", "amount": withdrawal.amount,
                                                     "bank_reference": reference}, ip_address=ip_address)
    _notify(session, withdrawal, "withdrawal_paid", now=now, bank_reference=reference)
    return withdrawal


def _release(session: Session, actor: User, withdrawal: Withdrawal, state: str, reason: str, memo: str,
             ip_address: str, now: datetime | None) -> Withdrawal:
    now = now or utcnow()
    withdrawal = _locked(session, withdrawal)
    if withdrawal.state == state:
        return withdrawal
    if withdrawal.state != "pending":
        raise InvalidTransition(_l("This withdrawal is no longer pending."))
    txn = flows.release_withdrawal(session, withdrawal_id=withdrawal.id, enterprise_id=withdrawal.enterprise_id,
                                   amount=withdrawal.amount, currency=withdrawal.currency,
                                   key=f"withdrawal:{withdrawal.id}:release", actor_id=actor.id, memo=memo,
                                   now=now)
    withdrawal.state = state
    withdrawal.reason = reason
    withdrawal.settle_transaction_id = txn.id
    withdrawal.decided_by_id = actor.id
    withdrawal.decided_at = now
    session.flush()
    record_audit(session, actor=actor, action=f"withdrawal.{'reject' if state == 'rejected' else 'cancel'}",
                 object_type="withdrawal", object_id=withdrawal.id, before={"state": "pending"},
                 after={"state": state, "amount": withdrawal.amount}, reason=reason, ip_address=ip_address)
    if state == "rejected":
        _notify(session, withdrawal, "withdrawal_rejected", now=now, reason=reason)
    else:  # cancelled by a member, who knows: the others hear of it
        _notify(session, withdrawal, "withdrawal_cancelled", exclude=actor, now=now, member=actor.display_name)
    return withdrawal


def reject_withdrawal(session: Session, finance: User, withdrawal: Withdrawal, reason: str, ip_address: str = "",
                      now: datetime | None = None) -> Withdrawal:
    """Refuse a pending withdrawal with a reason: the held amount returns to the wallet (once; audited).

    :raises ValidationFailed: no reason; :raises InvalidTransition: not pending.
    """
    reason = " ".join((reason or "").split())
    if len(reason) < 5:
        raise ValidationFailed(_l("Give the reason for this decision (at least 5 characters)."), field="reason")
    code = withdrawal_code(withdrawal.id)
    return _release(session, finance, withdrawal, "rejected", reason, f"Withdrawal {code} rejected: {reason}",
                    ip_address, now)


def cancel_withdrawal(session: Session, actor: User, withdrawal: Withdrawal, ip_address: str = "",
                      now: datetime | None = None) -> Withdrawal:
    """The brand takes back its pending request: the held amount returns to the wallet. :raises InvalidTransition:"""
    code = withdrawal_code(withdrawal.id)
    return _release(session, actor, withdrawal, "cancelled", "",
                    f"Withdrawal {code} cancelled by the enterprise", ip_address, now)


def pending_withdrawals_total(session: Session, enterprise_id: int | None = None) -> tuple[int, int]:
    """(count, amount) of pending withdrawals, of one enterprise or all."""
    query = select(func.count(), func.coalesce(func.sum(Withdrawal.amount), 0)).where(Withdrawal.state == "pending")
    if enterprise_id is not None:
        query = query.where(Withdrawal.enterprise_id == enterprise_id)
    count, amount = session.execute(query).one()
    return int(count), int(amount)
