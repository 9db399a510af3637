"""Post balanced, idempotent ledger transactions — the only writer of the ledger tables.

``post`` is the one primitive: it validates that the legs balance, returns the earlier transaction when the
idempotency key was used before with the same content (and refuses it with different content), locks the
touched accounts (``SELECT … FOR UPDATE`` in id order on PostgreSQL, so concurrent writers queue instead of
deadlocking; SQLite write transactions are serialized by ``BEGIN IMMEDIATE``), refuses any movement that would
take an account below its ``min_balance`` (``InsufficientFunds``, nothing written), then appends the
transaction and its postings and updates the cached balances in the same database transaction.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import case, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from marketplace.db import utcnow
from marketplace.errors import Conflict, DomainError, InsufficientFunds
from marketplace.ledger.models import NORMAL_SIGN, LedgerAccount, LedgerTransaction, Posting
from marketplace.money import DEFAULT_CURRENCY


class UnbalancedTransaction(DomainError):
    """The legs of a transaction do not sum to zero (a programming error, never user input)."""

    status_code = 500


class IdempotencyConflict(Conflict):
    """The idempotency key was already used for a different transaction."""


@dataclass(frozen=True)
class Leg:
    """One side of a transaction: an account code and a signed amount in minor units (debit +, credit −)."""

    account: str
    amount: int


def debit(account: str, amount: int) -> Leg:
    return Leg(account, amount)


def credit(account: str, amount: int) -> Leg:
    return Leg(account, -amount)


def get_account(session: Session, code: str) -> LedgerAccount | None:
    return session.scalar(select(LedgerAccount).where(LedgerAccount.code == code))


def open_account(session: Session, code: str, type_: str, *, name: str = "", currency: str = DEFAULT_CURRENCY,
                 owner_type: str = "platform", owner_id: int | None = None,
                 min_balance: int | None = None) -> LedgerAccount:
    """The account with ``code``, created if it does not exist yet (idempotent, safe under races)."""
    account = get_account(session, code)
    if account is not None:
        return account
    account = LedgerAccount(code=code, type=type_, name=name or code, currency=currency, owner_type=owner_type,
                            owner_id=owner_id, min_balance=min_balance)
    try:
        with session.begin_nested():
            session.add(account)
            session.flush()
    except IntegrityError:  # opened concurrently by another request
        account = get_account(session, code)
        if account is None:
            raise
    return account


def set_min_balance(session: Session, code: str, min_balance: int | None) -> LedgerAccount:
    """Change an account's floor (e.g. a credit limit), under its row lock."""
    account = _lock_accounts(session, [code])[code]
    account.min_balance = min_balance
    session.flush()
    return account


def _request_hash(kind: str, currency: str, legs: Sequence[Leg], reference: tuple[str, int] | None) -> str:
    canonical = {
        "kind": kind,
        "currency": currency,
        "legs": sorted([leg.account, leg.amount] for leg in legs),
        "reference": list(reference) if reference else None,
    }
    return hashlib.sha256(json.dumps(canonical, sort_keys=True).encode()).hexdigest()


def _lock_accounts(session: Session, codes: Iterable[str]) -> dict[str, LedgerAccount]:
    codes = sorted(set(codes))
    # Lock in id order: concurrent transactions touching the same accounts queue in the same order.
    rows = session.scalars(
        select(LedgerAccount).where(LedgerAccount.code.in_(codes)).order_by(LedgerAccount.id)
        .with_for_update().execution_options(populate_existing=True)
    ).all()
    found = {a.code: a for a in rows}
    missing = [c for c in codes if c not in found]
    if missing:
        raise LookupError(f"ledger accounts not opened: {', '.join(missing)}")
    return found


def _existing(session: Session, key: str, request_hash: str) -> LedgerTransaction | None:
    txn = session.scalar(select(LedgerTransaction).where(LedgerTransaction.idempotency_key == key))
    if txn is not None and txn.request_hash != request_hash:
        raise IdempotencyConflict(_l("This request was already made with different details."))
    return txn


def post(
    session: Session,
    *,
    kind: str,
    key: str,
    legs: Sequence[Leg],
    currency: str = DEFAULT_CURRENCY,
    memo: str = "",
    reference: tuple[str, int] | None = None,
    actor_id: int | None = None,
    reverses_id: int | None = None,
    now: datetime | None = None,
) -> LedgerTransaction:
    """Append one balanced transaction (or return the one already posted under ``key``).

    :raises UnbalancedTransaction: the legs do not sum to zero or an amount is not a non-zero int.
    :raises IdempotencyConflict: ``key`` was used with different content.
    :raises InsufficientFunds: an account would go below its floor; nothing is written.
    """
    legs = [leg for leg in legs]
    if len(legs) < 2 or any(not isinstance(l.amount, int) or isinstance(l.amount, bool) or l.amount == 0
                            for l in legs):
        raise UnbalancedTransaction("a transaction needs two or more non-zero integer legs")
    if sum(leg.amount for leg in legs) != 0:
        raise UnbalancedTransaction(f"legs of {kind} do not sum to zero: {legs}")
    request_hash = _request_hash(kind, currency, legs, reference)
    found = _existing(session, key, request_hash)
    if found is not None:
        return found

    accounts = _lock_accounts(session, (leg.account for leg in legs))
    found = _existing(session, key, request_hash)  # posted while we waited for the locks
    if found is not None:
        return found

    deltas: dict[str, int] = defaultdict(int)
    for leg in legs:
        deltas[leg.account] += leg.amount
    for code, delta in deltas.items():
        account = accounts[code]
        if account.currency != currency:
            raise UnbalancedTransaction(f"{code} is in {account.currency}, not {currency}")
        if account.min_balance is None:
            continue
        new_normal = (account.balance + delta) * NORMAL_SIGN[account.type]
        if delta * NORMAL_SIGN[account.type] < 0 and new_normal < account.min_balance:
            raise InsufficientFunds(_l("Not enough funds: the balance would fall below the allowed minimum."))

    now = now or utcnow()
    txn = LedgerTransaction(kind=kind, idempotency_key=key, request_hash=request_hash, memo=memo,
                            reference_type=reference[0] if reference else None,
                            reference_id=reference[1] if reference else None,
                            reverses_id=reverses_id, created_by_id=actor_id, created_at=now)
    try:
        with session.begin_nested():
            session.add(txn)
            session.flush()
    except IntegrityError:  # the same key committed concurrently (SQLite, or a race past the lock)
        found = _existing(session, key, request_hash)
        if found is None:
            raise
        return found
    for leg in legs:
        account = accounts[leg.account]
        account.balance += leg.amount
        account.posting_count += 1
        account.updated_at = now
        session.add(Posting(transaction_id=txn.id, account_id=account.id, amount=leg.amount, currency=currency,
                            balance_after=account.balance))
    session.flush()
    return txn


def reverse(session: Session, original: LedgerTransaction, *, key: str, memo: str = "",
            actor_id: int | None = None) -> LedgerTransaction:
    """Post the exact opposite of ``original`` (corrections never edit posted rows)."""
    legs = [Leg(p.account.code, -p.amount) for p in original.postings]
    currency = original.postings[0].currency
    return post(session, kind=f"reversal:{original.kind}"[:40], key=key, legs=legs, currency=currency,
                memo=memo or f"Reversal of #{original.id}",
                reference=(original.reference_type, original.reference_id) if original.reference_type else None,
                actor_id=actor_id, reverses_id=original.id)


def balance(session: Session, code: str) -> int:
    """The account's balance in its natural sign (0 for an account never opened)."""
    account = get_account(session, code)
    return account.normal_balance if account else 0


def recomputed_balances(session: Session) -> dict[int, int]:
    """Every account's balance recomputed from its postings."""
    return dict(session.execute(select(Posting.account_id, func.sum(Posting.amount)).group_by(Posting.account_id)).all())


def balance_mismatches(session: Session) -> list[tuple[str, int, int]]:
    """(code, cached, recomputed) for every account whose cached balance differs from its postings."""
    recomputed = recomputed_balances(session)
    out = []
    for account in session.scalars(select(LedgerAccount).order_by(LedgerAccount.id)):
        actual = int(recomputed.get(account.id, 0))
        if account.balance != actual:
            out.append((account.code, account.balance, actual))
    return out


def unbalanced_transactions(session: Session) -> list[int]:
    """Ids of transactions whose postings do not sum to zero per currency (always empty)."""
    return list(session.scalars(
        select(Posting.transaction_id).group_by(Posting.transaction_id, Posting.currency)
        .having(func.sum(Posting.amount) != 0)
    ))


@dataclass(frozen=True)
class TrialBalanceRow:
    type: str
    currency: str
    debit: int
    credit: int


def trial_balance(session: Session) -> tuple[list[TrialBalanceRow], dict[str, int]]:
    """Debit and credit totals per account type and currency, and the net per currency (always zero)."""
    positive = case((LedgerAccount.balance > 0, LedgerAccount.balance), else_=0)
    negative = case((LedgerAccount.balance < 0, -LedgerAccount.balance), else_=0)
    rows = session.execute(
        select(LedgerAccount.type, LedgerAccount.currency, func.coalesce(func.sum(positive), 0),
               func.coalesce(func.sum(negative), 0))
        .group_by(LedgerAccount.type, LedgerAccount.currency).order_by(LedgerAccount.currency, LedgerAccount.type)
    ).all()
    out: list[TrialBalanceRow] = []
    net: dict[str, int] = defaultdict(int)
    for type_, currency, debits, credits in rows:
        out.append(TrialBalanceRow(type_, currency, int(debits), int(credits)))
        net[currency] += int(debits) - int(credits)
    return out, dict(net)
