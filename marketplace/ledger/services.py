"""Post balanced, idempotent ledger transactions — the only writer of the ledger tables.

``post`` is the one primitive: it validates that the legs balance, returns the earlier transaction when the
idempotency key was used before with the same content (and refuses it with different content), locks the
touched accounts (``SELECT … FOR UPDATE`` in id order on PostgreSQL, so concurrent writers queue instead of
deadlocking; SQLite write transactions are serialized by ``BEGIN IMMEDIATE``), refuses any movement that would
take an account below its ``min_balance`` (``InsufficientFunds``, nothing written), then appends the
transaction and its postings and updates the cached balances in the same database transaction.

``post`` is the hot path of every money flow, so it talks to the database in as few round trips as a
hand-written implementation would (``bench/ledger.py`` measures it against one): one ``SELECT … FOR UPDATE``
of the touched accounts (opening missing ones the caller knows how to open: ``open_accounts``), one
``INSERT … ON CONFLICT (idempotency_key) DO NOTHING RETURNING id`` for the transaction (the UNIQUE key, not a
prior look-up, decides a repeated or concurrent request; the existing row is only read when there is one),
one multi-row insert of the postings and one batched update of the cached balances — plain SQL on the DB-API
cursor of the session's connection, in the session's transaction, with no savepoint. ORM objects of the
touched accounts that the session already holds get the new balances. ``post`` returns a ``PostedTransaction``
— the values of the row it wrote (or found), not an ORM object: building and registering one cost as much as
the writes themselves, and callers only need its id; ``PostedTransaction.load(session)`` gives the ORM row
(with its postings) where one is needed.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from json.encoder import encode_basestring_ascii as _json_string
from typing import NamedTuple

from flask_babel import lazy_gettext as _l
from sqlalchemy import case, func, select
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from marketplace.db import utcnow
from marketplace.errors import Conflict, DomainError, InsufficientFunds
from marketplace.ledger.models import NORMAL_SIGN, LedgerAccount, LedgerTransaction, Posting
from marketplace.money import DEFAULT_CURRENCY


class UnbalancedTransaction(DomainError):
    """The legs of a transaction do not sum to zero (a programming error, never user input)."""

    status_code = 500


class IdempotencyConflict(Conflict):
    """The idempotency key was already used for a different transaction."""


class Leg(NamedTuple):
    """One side of a transaction: an account code and a signed amount in minor units (debit +, credit −)."""

    account: str
    amount: int


_new_leg = tuple.__new__  # ``Leg(account, amount)`` without the Python frame of the named tuple's ``__new__``


def debit(account: str, amount: int) -> Leg:
    return _new_leg(Leg, (account, amount))


def credit(account: str, amount: int) -> Leg:
    return _new_leg(Leg, (account, -amount))


def get_account(session: Session, code: str) -> LedgerAccount | None:
    return session.scalar(select(LedgerAccount).where(LedgerAccount.code == code))


@dataclass(frozen=True)
class AccountSpec:
    """How to open an account on first use."""

    type: str
    name: str
    owner_type: str = "platform"
    owner_id: int | None = None
    min_balance: int | None = None


class PostedTransaction(NamedTuple):
    """A transaction as ``post`` wrote it (or found under its idempotency key): the values of its row.

    Immutable and cheap to make (``post`` is the hot path of every money flow); ``load(session)`` gives the
    ORM ``LedgerTransaction`` (and through it the postings) where a caller needs more than the values.
    """

    id: int
    kind: str
    idempotency_key: str
    request_hash: str
    memo: str
    reference_type: str | None
    reference_id: int | None
    reverses_id: int | None
    created_by_id: int | None
    created_at: datetime

    @classmethod
    def of(cls, txn: LedgerTransaction) -> PostedTransaction:
        return cls(txn.id, txn.kind, txn.idempotency_key, txn.request_hash, txn.memo, txn.reference_type,
                   txn.reference_id, txn.reverses_id, txn.created_by_id, txn.created_at)

    def load(self, session: Session) -> LedgerTransaction:
        """The ORM row of this transaction (from the session's identity map when it holds it)."""
        return session.get_one(LedgerTransaction, self.id)


def _sqlite_timestamp(value: datetime) -> str:
    """``value`` as ``UTCDateTime`` stores it on SQLite (UTC, naive, ``YYYY-MM-DD HH:MM:SS.ffffff``)."""
    if value.tzinfo is not UTC:
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; use marketplace.db.utcnow()")
        value = value.astimezone(UTC)
    return value.isoformat(" ", "microseconds")[:26]  # without the "+00:00"


class _DriverSql:
    """``post``'s statements as the database driver takes them, for one dialect.

    ``post`` is the hot path of every money flow: compiling and executing through SQLAlchemy cost several times
    what the database itself spends on these rows (``bench/ledger.py``), so its few fixed statements go
    straight to the DB-API cursor of the session's connection, in the session's transaction. Values are
    converted by the columns' own SQLAlchemy bind processors (e.g. UTC datetimes on SQLite), so the rows are
    exactly what the ORM would have written.
    """

    _cache: dict[str, _DriverSql] = {}

    @classmethod
    def for_dialect(cls, dialect: Dialect) -> _DriverSql:
        try:
            return cls._cache[dialect.name]
        except KeyError:
            sql = cls._cache[dialect.name] = cls(dialect)
            return sql

    def __init__(self, dialect):
        self.postgresql = dialect.name == "postgresql"
        if dialect.name not in ("postgresql", "sqlite"):
            raise NotImplementedError(f"the ledger supports PostgreSQL and SQLite, not {dialect.name}")
        p = self.p = "%s" if self.postgresql else "?"
        # Timestamps as the columns' own types bind them for this dialect; on SQLite that is UTC text in
        # SQLAlchemy's format, which ``_sqlite_timestamp`` writes directly (a test holds it to the column type).
        created_at = LedgerTransaction.__table__.c.created_at.type.dialect_impl(dialect)
        self.datetime = (_sqlite_timestamp if dialect.name == "sqlite"
                         else created_at.bind_processor(dialect) or (lambda v: v))
        columns = "id, code, type, currency, balance, min_balance, posting_count"
        self._lock_head = f"SELECT {columns} FROM ledger_accounts WHERE code IN ("
        self._lock_tail = ") ORDER BY id" + (" FOR UPDATE" if self.postgresql else "")
        self._lock_sql: dict[int, str] = {}
        self.insert_account = (
            "INSERT INTO ledger_accounts (code, name, type, currency, owner_type, owner_id, balance, min_balance, "
            f"posting_count, created_at, updated_at) VALUES ({p}, {p}, {p}, {p}, {p}, {p}, 0, {p}, 0, {p}, {p}) "
            "ON CONFLICT (code) DO NOTHING" + (f" RETURNING {columns}" if self.postgresql else ""))
        self.insert_transaction = (
            "INSERT INTO ledger_transactions (kind, idempotency_key, request_hash, memo, reference_type, "
            f"reference_id, reverses_id, created_by_id, created_at) VALUES ({p}, {p}, {p}, {p}, {p}, {p}, {p}, {p}, "
            f"{p}) ON CONFLICT (idempotency_key) DO NOTHING RETURNING id")
        self._postings_sql: dict[int, str] = {}
        self.update_balance = (f"UPDATE ledger_accounts SET balance = balance + {p}, posting_count = posting_count "
                               f"+ {p}, updated_at = {p} WHERE id = {p}")

    def lock_sql(self, n: int) -> str:
        """The locking query for ``n`` account codes (one string per ``n``, so the driver's statement cache
        keeps it prepared)."""
        try:
            return self._lock_sql[n]
        except KeyError:
            sql = self._lock_sql[n] = self._lock_head + ", ".join([self.p] * n) + self._lock_tail
            return sql

    def lock(self, cursor, codes: Sequence[str]) -> dict[str, list]:
        """code -> [id, code, type, currency, balance, min_balance, posting_count] of the existing accounts,
        locked in id order (``FOR UPDATE``; on SQLite the write transaction already holds the database)."""
        cursor.execute(self.lock_sql(len(codes)), codes)
        return {row[1]: list(row) for row in cursor.fetchall()}

    def open(self, cursor, code: str, spec: AccountSpec, currency: str, stamp) -> list | None:
        """Insert the account unless it exists: the new row (which this transaction then holds), or None.
        ``stamp`` is the creation time as bound for the driver (``self.datetime``)."""
        cursor.execute(self.insert_account, (code, spec.name or code, spec.type, currency, spec.owner_type,
                                             spec.owner_id, spec.min_balance, stamp, stamp))
        if self.postgresql:
            row = cursor.fetchone()
            return list(row) if row else None
        # SQLite: the row inserted is the one written above (balance and posting count 0), under the id the
        # driver reports; RETURNING it cost a second step of the statement inside the write lock.
        if cursor.rowcount != 1:
            return None
        return [cursor.lastrowid, code, spec.type, currency, 0, spec.min_balance, 0]

    def postings_sql(self, n: int) -> str:
        """The insert of ``n`` postings in one statement (one string per ``n``)."""
        try:
            return self._postings_sql[n]
        except KeyError:
            sql = self._postings_sql[n] = (
                "INSERT INTO ledger_postings (transaction_id, account_id, amount, currency, balance_after) VALUES "
                + ", ".join([f"({self.p}, {self.p}, {self.p}, {self.p}, {self.p})"] * n))
            return sql


def open_account(session: Session, code: str, type_: str, *, name: str = "", currency: str = DEFAULT_CURRENCY,
                 owner_type: str = "platform", owner_id: int | None = None,
                 min_balance: int | None = None) -> LedgerAccount:
    """The account with ``code``, created if it does not exist yet (idempotent, safe under races)."""
    account = get_account(session, code)
    if account is not None:
        return account
    connection = session.connection()
    cursor = connection.connection.cursor()
    try:  # a concurrent insert wins and is kept
        sql = _DriverSql.for_dialect(connection.dialect)
        sql.open(cursor, code, AccountSpec(type_, name or code, owner_type, owner_id, min_balance), currency,
                 sql.datetime(utcnow()))
    finally:
        cursor.close()
    return get_account(session, code)


def set_min_balance(session: Session, code: str, min_balance: int | None) -> LedgerAccount:
    """Change an account's floor (e.g. a credit limit), under its row lock."""
    account = _lock_accounts(session, [code])[code]
    account.min_balance = min_balance
    session.flush()
    return account


def _request_hash(kind: str, currency: str, legs: Sequence[Leg], reference: tuple[str, int] | None) -> str:
    """The fingerprint of a request's content, stored with its transaction: the SHA-256 of
    ``json.dumps({"kind", "currency", "legs": sorted [account, amount] pairs, "reference"}, sort_keys=True)``.

    Never change what it hashes: stored fingerprints decide whether a repeated key is a replay or a conflict.
    The usual shapes (str codes, int amounts, a (str, int) reference or none) are written out directly, which
    gives the same text as ``json.dumps`` at a fraction of its cost; anything else goes through ``json.dumps``.
    """
    try:
        if reference:
            ref_type, ref_id = reference
            if ref_id.__class__ is not int:
                raise TypeError
            ref = f"[{_json_string(ref_type)}, {ref_id}]"
        else:
            ref = "null"
        text = (f'{{"currency": {_json_string(currency)}, "kind": {_json_string(kind)}, "legs": ['
                + ", ".join([f"[{_json_string(account)}, {int.__repr__(amount)}]" for account, amount in sorted(legs)])
                + f'], "reference": {ref}}}')
    except (TypeError, ValueError):  # not the usual shapes (the amounts are ints: ``post`` checked)
        text = _canonical_json(kind, currency, legs, reference)
    return hashlib.sha256(text.encode()).hexdigest()


def _canonical_json(kind: str, currency: str, legs: Sequence[Leg], reference) -> str:
    """What ``_request_hash`` hashes, spelled as ``json.dumps`` (the definition; the fast path must match it)."""
    return json.dumps({
        "kind": kind,
        "currency": currency,
        "legs": sorted([leg.account, leg.amount] for leg in legs),
        "reference": list(reference) if reference else None,
    }, sort_keys=True)


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


def _existing(session: Session, key: str, request_hash: str) -> PostedTransaction | None:
    txn = session.scalar(select(LedgerTransaction).where(LedgerTransaction.idempotency_key == key))
    if txn is None:
        return None
    if txn.request_hash != request_hash:
        raise IdempotencyConflict(_l("This request was already made with different details."))
    return PostedTransaction.of(txn)


def _write(session, sql: _DriverSql, cursor, key, legs, deltas, counts, request_hash, currency, open_accounts,
           extra_floors, transaction_row):
    """Lock, check, append, update (see ``post``): (transaction id, locked rows, None), or (None, …, the
    transaction already posted under ``key``). ``counts``: how many legs each account has."""
    codes = sorted(deltas)
    cursor.execute(sql.lock_sql(len(codes)), codes)
    accounts = {row[1]: list(row) for row in cursor.fetchall()}
    if len(accounts) < len(deltas):
        missing = [code for code in codes if code not in accounts]
        for code in missing:
            spec = open_accounts(code) if open_accounts else None
            if spec is None:
                if (found := _existing(session, key, request_hash)) is not None:
                    return None, accounts, found
                raise LookupError(f"ledger accounts not opened: {', '.join(missing)}")
            # None: opened concurrently since the lock query; lock it now (it has no postings of ours yet).
            accounts[code] = (sql.open(cursor, code, spec, currency, transaction_row[-1])
                              or sql.lock(cursor, [code])[code])

    for code, delta in deltas.items():
        _id, _code, type_, account_currency, cached, floor, _n = accounts[code]
        if extra_floors and code in extra_floors:
            floor = extra_floors[code] if floor is None else max(floor, extra_floors[code])
        if account_currency != currency or (
                floor is not None and delta * NORMAL_SIGN[type_] < 0 and (cached + delta) * NORMAL_SIGN[type_] < floor):
            # A repeated request returns what it posted even if it could not be posted now.
            if (found := _existing(session, key, request_hash)) is not None:
                return None, accounts, found
            if account_currency != currency:
                raise UnbalancedTransaction(f"{code} is in {account_currency}, not {currency}")
            raise InsufficientFunds(_l("Not enough funds: the balance would fall below the allowed minimum."))

    cursor.execute(sql.insert_transaction, transaction_row)
    row = cursor.fetchone()
    if row is None:  # the key is taken: by this very request (replay) or by another one (conflict)
        found = _existing(session, key, request_hash)
        if found is None:  # pragma: no cover - the conflicting row is committed or ours, so it is visible
            raise RuntimeError(f"idempotency key {key!r} conflicts but is not visible")
        return None, accounts, found
    txn_id = row[0]

    postings = []
    for account_code, amount in legs:
        account = accounts[account_code]
        account[4] += amount
        postings.extend((txn_id, account[0], amount, currency, account[4]))
    cursor.execute(sql.postings_sql(len(legs)), postings)
    stamp = transaction_row[-1]
    cursor.executemany(sql.update_balance, [(delta, counts[code], stamp, accounts[code][0])
                                            for code, delta in deltas.items()])
    return txn_id, accounts, None


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
    open_accounts: Callable[[str], AccountSpec | None] | None = None,
    floors: dict[str, int] | None = None,
) -> PostedTransaction:
    """Append one balanced transaction (or return the one already posted under ``key``).

    ``floors`` adds stricter minimum balances for this transaction only (e.g. a withdrawal may not draw on
    the credit line that spending may use).

    ``open_accounts(code)`` says how to open an account that does not exist yet (None, or no callable: it
    must exist).

    :raises UnbalancedTransaction: the legs do not sum to zero or an amount is not a non-zero int.
    :raises IdempotencyConflict: ``key`` was used with different content.
    :raises InsufficientFunds: an account would go below its floor; nothing is written.
    :raises LookupError: an account is not opened and ``open_accounts`` does not know it.
    """
    legs = list(legs)
    deltas: dict[str, int] = {}
    counts: dict[str, int] = {}
    for account, amount in legs:
        if amount.__class__ is not int and (not isinstance(amount, int) or isinstance(amount, bool)) or amount == 0:
            raise UnbalancedTransaction("a transaction needs two or more non-zero integer legs")
        deltas[account] = deltas.get(account, 0) + amount
        counts[account] = counts.get(account, 0) + 1
    if len(legs) < 2:
        raise UnbalancedTransaction("a transaction needs two or more non-zero integer legs")
    if sum(deltas.values()) != 0:
        raise UnbalancedTransaction(f"legs of {kind} do not sum to zero: {legs}")
    request_hash = _request_hash(kind, currency, legs, reference)
    reference_type, reference_id = reference if reference else (None, None)
    now = now or utcnow()
    # Everything that does not need the database is ready before the transaction starts (on SQLite, a write
    # session's first statement takes the database's write lock until the commit).
    sql = _DriverSql.for_dialect(session.get_bind().dialect)
    transaction_row = (kind, key, request_hash, memo, reference_type, reference_id, reverses_id, actor_id,
                       sql.datetime(now))

    session.flush()  # pending ORM changes first (a no-op when there are none)
    cursor = session.connection().connection.dbapi_connection.cursor()
    try:
        txn_id, accounts, found = _write(session, sql, cursor, key, legs, deltas, counts, request_hash, currency,
                                         open_accounts, floors, transaction_row)
    finally:
        cursor.close()
    if found is not None:
        return found

    # Keep ORM objects of these accounts that the session already holds in step with the database.
    held = session.identity_map
    if held:
        for code in deltas:
            account_id, _code, _t, _c, new_balance, _f, posting_count = accounts[code]
            cached_object = held.get(identity_key(LedgerAccount, account_id))
            if cached_object is not None:
                set_committed_value(cached_object, "balance", new_balance)
                set_committed_value(cached_object, "posting_count", posting_count + counts[code])
                set_committed_value(cached_object, "updated_at", now)
    return PostedTransaction(txn_id, kind, key, request_hash, memo, reference_type, reference_id, reverses_id,
                             actor_id, now)


def reverse(session: Session, original: PostedTransaction | LedgerTransaction, *, key: str, memo: str = "",
            actor_id: int | None = None) -> PostedTransaction:
    """Post the exact opposite of ``original`` (corrections never edit posted rows)."""
    if isinstance(original, PostedTransaction):
        original = original.load(session)
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
