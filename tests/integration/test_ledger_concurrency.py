"""The ledger under real concurrency: threads, each with its own connection and committed transaction, against
a committed database of this module's own (PostgreSQL row locks; SQLite serialized ``BEGIN IMMEDIATE`` writes).

- Many orders funded at once from one wallet that can afford only K of them: exactly K succeed, the others
  get ``InsufficientFunds``, the wallet is exact, nothing deadlocks.
- One idempotency key posted from many threads with the same content: one transaction, money moved once,
  every caller gets the same transaction.
- One key with different content from two threads: one wins, the other gets ``IdempotencyConflict``.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import count

import pytest
from sqlalchemy import func, select

from marketplace.db import database
from marketplace.errors import InsufficientFunds
from marketplace.ledger import flows
from marketplace.ledger.models import LedgerTransaction, Posting
from marketplace.ledger.services import IdempotencyConflict, balance
from tests.concurrency import can_take_sqlite_write_lock, committed_app, in_new_transaction, in_read_session
from tests.concurrency import race as shared_race
from tests.ledger_helpers import assert_ledger_sound

THREADS = 16
_ids = count(1)


@pytest.fixture(scope="module")
def concurrent_app(tmp_root):
    with committed_app(tmp_root, "concurrency") as app:
        yield app


def race(app, works: list[Callable]) -> list[tuple[str, object]]:
    """Each ``work(session)`` in its own thread and committed transaction, all started at the same moment."""
    return shared_race([lambda work=work: in_new_transaction(app, work) for work in works])


read = in_read_session


def txn_count(session, **where) -> int:
    query = select(func.count()).select_from(LedgerTransaction)
    for column, value in where.items():
        query = query.where(getattr(LedgerTransaction, column) == value)
    return session.scalar(query)


def errors_of(outcomes, kind: type) -> list:
    return [value for status, value in outcomes if status == "error" and isinstance(value, kind)]


def test_many_orders_from_one_wallet_that_affords_only_k(concurrent_app):
    app, K, price, fee = concurrent_app, 5, 10_000, 500
    total = price + fee
    e = 800_000 + next(_ids)
    base = 810_000 + 100 * next(_ids)
    orders = [base + i for i in range(THREADS)]
    funded = K * total + total - 1  # one fen short of a (K+1)th order
    in_new_transaction(app, lambda s: flows.top_up(s, enterprise_id=e, amount=funded, rail="bank",
                                                   key=f"conc:{e}:topup"))

    def fund(order_id: int) -> Callable:
        return lambda s: flows.fund_escrow(s, order_id=order_id, enterprise_id=e, price=price, service_fee=fee,
                                           key=f"conc:{e}:order:{order_id}:fund").id

    outcomes = race(app, [fund(o) for o in orders])

    unexpected = [v for status, v in outcomes if status == "error" and not isinstance(v, InsufficientFunds)]
    assert unexpected == []
    succeeded = [v for status, v in outcomes if status == "ok"]
    assert len(succeeded) == K
    assert len(set(succeeded)) == K
    assert len(errors_of(outcomes, InsufficientFunds)) == THREADS - K

    def check(s):
        assert balance(s, flows.enterprise_available(e)) == funded - K * total == total - 1
        escrows = [balance(s, flows.order_escrow(o)) for o in orders]
        assert sorted(escrows) == [0] * (THREADS - K) + [total] * K
        assert s.scalar(select(func.count()).select_from(LedgerTransaction)
                        .where(LedgerTransaction.idempotency_key.like(f"conc:{e}:order:%"))) == K
        assert_ledger_sound(s)

    read(app, check)


def test_one_key_from_many_threads_posts_once(concurrent_app):
    app = concurrent_app
    e, order = 800_000 + next(_ids), 820_000 + next(_ids)
    key = f"conc:{e}:order:{order}:fund"
    in_new_transaction(app, lambda s: flows.top_up(s, enterprise_id=e, amount=100_000, rail="bank",
                                                   key=f"conc:{e}:topup"))

    def fund(s):
        return flows.fund_escrow(s, order_id=order, enterprise_id=e, price=20_000, service_fee=1_000, key=key).id

    outcomes = race(app, [fund] * THREADS)

    assert [v for status, v in outcomes if status == "error"] == []
    ids = {v for _, v in outcomes}
    assert len(ids) == 1

    def check(s):
        assert txn_count(s, idempotency_key=key) == 1
        (txn_id,) = ids
        assert s.scalar(select(LedgerTransaction.id).where(LedgerTransaction.idempotency_key == key)) == txn_id
        assert s.scalar(select(func.count()).select_from(Posting).where(Posting.transaction_id == txn_id)) == 2
        assert balance(s, flows.enterprise_available(e)) == 100_000 - 21_000
        assert balance(s, flows.order_escrow(order)) == 21_000
        assert_ledger_sound(s)

    read(app, check)


@pytest.mark.parametrize("other", ["same accounts", "other accounts"])
def test_one_key_with_different_content_from_two_threads(concurrent_app, other):
    """Same key, other amount on the same accounts (the row locks serialize them), or on entirely different
    accounts (nothing to lock in common: the UNIQUE key decides)."""
    app = concurrent_app
    e, e2, order = 800_000 + next(_ids), 800_000 + next(_ids), 830_000 + next(_ids)
    key = f"conc:{e}:order:{order}:fund"
    in_new_transaction(app, lambda s: flows.top_up(s, enterprise_id=e, amount=100_000, rail="bank",
                                                   key=f"conc:{e}:topup"))
    in_new_transaction(app, lambda s: flows.open_enterprise_wallet(s, e2))

    def fund(s):
        return ("fund", flows.fund_escrow(s, order_id=order, enterprise_id=e, price=20_000, service_fee=1_000,
                                          key=key).id)

    def rival(s):
        if other == "same accounts":
            return ("rival", flows.fund_escrow(s, order_id=order, enterprise_id=e, price=30_000, service_fee=1_500,
                                               key=key).id)
        return ("rival", flows.top_up(s, enterprise_id=e2, amount=7_000, rail="stripe", key=key).id)

    outcomes = race(app, [fund, rival])

    winners = [v for status, v in outcomes if status == "ok"]
    conflicts = errors_of(outcomes, IdempotencyConflict)
    assert len(winners) == 1, outcomes
    assert len(conflicts) == 1, outcomes
    winner, txn_id = winners[0]

    def check(s):
        assert txn_count(s, idempotency_key=key) == 1
        assert s.scalar(select(LedgerTransaction.id).where(LedgerTransaction.idempotency_key == key)) == txn_id
        wallet, escrow = balance(s, flows.enterprise_available(e)), balance(s, flows.order_escrow(order))
        other_wallet = balance(s, flows.enterprise_available(e2))
        if winner == "fund":
            assert (wallet, escrow, other_wallet) == (79_000, 21_000, 0)
        elif other == "same accounts":
            assert (wallet, escrow, other_wallet) == (68_500, 31_500, 0)
        else:
            assert (wallet, escrow, other_wallet) == (100_000, 0, 7_000)
        assert_ledger_sound(s)

    read(app, check)


def test_sqlite_write_sessions_take_the_write_lock_when_they_begin(concurrent_app):
    """What serializes ledger writers on SQLite: a write session's transaction begins IMMEDIATE (holding the
    write lock until it ends); a read session's begins deferred and blocks no writer."""
    import sqlite3

    db = database(concurrent_app)
    if db.engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL writers rely on row locks")
    other = sqlite3.connect(db.engine.url.database, timeout=0, isolation_level=None)

    def other_writer_can_begin() -> bool:
        return can_take_sqlite_write_lock(other)

    with concurrent_app.app_context():
        try:
            for factory, blocks in ((db.write_session_factory, True), (db.session_factory, False)):
                session = factory()
                connection = session.connection()  # the transaction has begun
                assert connection.exec_driver_sql("SELECT count(*) FROM ledger_accounts").scalar() >= 0
                assert other_writer_can_begin() is not blocks
                with session.begin_nested():  # savepoints work inside it
                    session.connection().exec_driver_sql("SELECT 1")
                session.commit()
                assert other_writer_can_begin()
                session.close()
        finally:
            other.close()
