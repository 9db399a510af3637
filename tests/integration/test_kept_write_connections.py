"""SQLite write sessions run on a connection their thread keeps between them (``marketplace.db.SQLiteWriteSessions``).

What must hold: consecutive write sessions of a thread reuse one connection without taking more from the pool; two
sessions open at once never share a connection (nor a transaction); a session used again after ``close()`` takes a
pooled connection; a transaction left open by a session dropped without ``close()`` is rolled back, never joined; a
thread's connection goes back to the pool when the thread ends; a forked child, a disposed pool and an invalidated
connection each get a new one. Always on SQLite (a file of this module's own): PostgreSQL write sessions are plain.
"""

from __future__ import annotations

import gc
import multiprocessing
import threading

import pytest
from sqlalchemy import select

from marketplace.db import SQLiteWriteSession, SQLiteWriteSessions, database
from marketplace.ledger import flows
from marketplace.ledger.models import LedgerTransaction
from marketplace.ledger.services import balance
from tests.concurrency import can_take_sqlite_write_lock, other_sqlite_writer, sqlite_file_app
from tests.ledger_helpers import assert_ledger_sound


@pytest.fixture(scope="module")
def sqlite_app(tmp_root):
    with sqlite_file_app(tmp_root, "kept_write_connections") as app:
        yield app


@pytest.fixture
def factory(sqlite_app) -> SQLiteWriteSessions:
    factory = database(sqlite_app).write_session_factory
    assert isinstance(factory, SQLiteWriteSessions)
    return factory


@pytest.fixture
def other(sqlite_app):
    """Another writer: a plain driver connection to the same file that never waits for the lock."""
    with other_sqlite_writer(sqlite_app) as connection:
        yield connection


def driver_connection(session: SQLiteWriteSession):
    return session.connection().connection.dbapi_connection


def checked_out(app) -> int:
    return database(app).engine.pool.checkedout()


def top_up(session, enterprise: int, key: str, amount: int = 100) -> None:
    flows.top_up(session, enterprise_id=enterprise, amount=amount, rail="bank", key=key)


def committed(other, key: str) -> bool:
    return other.execute("SELECT 1 FROM ledger_transactions WHERE idempotency_key = ?", (key,)).fetchone() is not None


def test_consecutive_write_sessions_reuse_one_connection(sqlite_app, factory, other):
    with sqlite_app.app_context():
        first = factory()
        top_up(first, 951, "kept:951:1")
        kept = driver_connection(first)
        first.commit()
        first.close()
        out = checked_out(sqlite_app)
        for n in range(2, 5):
            session = factory()
            try:
                assert driver_connection(session) is kept
                top_up(session, 951, f"kept:951:{n}")
                session.commit()
                assert can_take_sqlite_write_lock(other)  # the commit ended the transaction on the kept connection
            finally:
                session.close()
            assert checked_out(sqlite_app) == out  # nothing more taken from the pool, nothing left behind
        assert all(committed(other, f"kept:951:{n}") for n in range(1, 5))
        session = factory()
        try:
            assert balance(session, flows.enterprise_available(951)) == 400
            assert_ledger_sound(session)
        finally:
            session.close()


def test_two_open_sessions_never_share_a_connection(sqlite_app, factory, other):
    with sqlite_app.app_context():
        first = factory()
        second = factory()  # opened while the first is open: a pooled connection
        try:
            top_up(first, 952, "kept:952:first")
            first_connection = driver_connection(first)
            first.commit()  # frees the write lock; the first session stays open
            top_up(second, 952, "kept:952:second")
            assert driver_connection(second) is not first_connection
            second.rollback()  # the second's transaction is its own: the first's committed work stays
            assert committed(other, "kept:952:first")
            assert not committed(other, "kept:952:second")
        finally:
            second.close()
            first.close()
        third = factory()  # both closed: the thread's connection again
        try:
            assert driver_connection(third) is first_connection
            third.rollback()
        finally:
            third.close()


def test_a_session_used_after_close_takes_a_pooled_connection(sqlite_app, factory, other):
    with sqlite_app.app_context():
        used = factory()
        kept = driver_connection(used)
        used.rollback()
        used.close()
        holder = factory()  # the thread's connection is lent to this one now
        try:
            assert driver_connection(holder) is kept
            holder.commit()
            top_up(used, 953, "kept:953:again")  # the closed session, used again
            assert driver_connection(used) is not kept
            used.commit()
            assert committed(other, "kept:953:again")
            assert not holder.in_transaction()  # the other session's work did not run on the holder's connection
        finally:
            used.close()
            holder.close()


def test_a_transaction_left_by_a_dropped_session_is_rolled_back_not_joined(sqlite_app, factory, other):
    with sqlite_app.app_context():
        dropped = factory()
        top_up(dropped, 954, "kept:954:dropped")
        kept = driver_connection(dropped)
        assert not can_take_sqlite_write_lock(other)  # its transaction holds the write lock
        del dropped
        gc.collect()
        session = factory()
        try:
            assert driver_connection(session) is kept
            top_up(session, 954, "kept:954:next")
            session.commit()
        finally:
            session.close()
        assert can_take_sqlite_write_lock(other)
        assert committed(other, "kept:954:next")
        assert not committed(other, "kept:954:dropped")


def test_a_thread_gives_its_connection_back_when_it_ends(sqlite_app, factory, other):
    before = checked_out(sqlite_app)
    seen: list[object] = []

    def work() -> None:
        with sqlite_app.app_context():
            for n in range(3):
                session = factory()
                try:
                    top_up(session, 955, f"kept:955:{n}")
                    seen.append(driver_connection(session))
                    session.commit()
                finally:
                    session.close()
            seen.append(checked_out(sqlite_app))

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    assert seen[0] is seen[1] is seen[2]
    assert seen[3] == before + 1  # kept while the thread ran
    seen.clear()  # the driver connections it holds
    gc.collect()
    assert checked_out(sqlite_app) == before
    assert all(committed(other, f"kept:955:{n}") for n in range(3))


def _child_writes(app, inherited_id: int, results) -> None:
    try:
        database(app).engine.dispose(close=False)  # what a forked process does with its parent's pool
        with app.app_context():
            factory = database(app).write_session_factory
            session = factory()
            try:
                top_up(session, 956, "kept:956:child")
                session.commit()
                results.put(id(session._kept.connection) != inherited_id or "the parent's connection was used")
            finally:
                session.close()
    except BaseException as error:  # noqa: BLE001 - reported to the parent
        results.put(repr(error))


def test_a_forked_child_never_uses_its_parents_connection(sqlite_app, factory, other):
    with sqlite_app.app_context():
        session = factory()
        try:
            top_up(session, 956, "kept:956:parent")
            session.commit()
        finally:
            session.close()
        parent_connection = factory._local.kept.connection
        context = multiprocessing.get_context("fork")
        results = context.Queue()
        child = context.Process(target=_child_writes, args=(sqlite_app, id(parent_connection), results))
        child.start()
        outcome = results.get(timeout=60)
        child.join(timeout=60)
        assert outcome is True, outcome
        assert child.exitcode == 0
        assert committed(other, "kept:956:child")
        session = factory()  # the parent's connection is still its own and works
        try:
            assert session._kept.connection is parent_connection
            top_up(session, 956, "kept:956:parent-again")
            session.commit()
        finally:
            session.close()
        assert committed(other, "kept:956:parent-again")


def test_a_disposed_pool_or_an_invalidated_connection_is_replaced(sqlite_app, factory, other):
    with sqlite_app.app_context():
        session = factory()
        try:
            session.connection()
            old = session._kept.connection
        finally:
            session.close()
        database(sqlite_app).engine.dispose()
        session = factory()
        try:
            top_up(session, 957, "kept:957:after-dispose")
            session.commit()
            assert session._kept.connection is not old
            assert session._kept.pool is database(sqlite_app).engine.pool
            assert old.closed
            renewed = session._kept.connection
            session.connection()
            session.invalidate()  # e.g. after a disconnect: the transaction's connection is discarded
        finally:
            session.close()
        assert renewed.invalidated
        session = factory()
        try:
            assert session._kept.connection is not renewed
            top_up(session, 957, "kept:957:after-invalidate")
            session.commit()
        finally:
            session.close()
        assert committed(other, "kept:957:after-dispose") and committed(other, "kept:957:after-invalidate")
        session = factory()
        try:
            keys = set(session.scalars(select(LedgerTransaction.idempotency_key)
                                       .where(LedgerTransaction.idempotency_key.like("kept:957:%"))))
            assert keys == {"kept:957:after-dispose", "kept:957:after-invalidate"}
            assert_ledger_sound(session)
        finally:
            session.close()


def test_a_connection_inherited_from_another_process_is_neither_used_nor_closed(sqlite_app, factory):
    """What a forked child finds in its thread's slot (the parent's kept connection, same pool): it is left alone —
    neither lent nor closed (closing a SQLite handle inherited across fork is unsafe)."""
    from marketplace import db

    with sqlite_app.app_context():
        session = factory()
        session.close()
        inherited = factory._local.kept
        inherited.pid += 1  # as seen from a child process
        parent_connection = inherited.connection
        del inherited
        session = factory()
        try:
            assert session._kept.connection is not parent_connection
            session.connection()
            session.rollback()
        finally:
            session.close()
        assert not parent_connection.closed
        assert any(kept is parent_connection for kept in db._INHERITED_CONNECTIONS)
        db._INHERITED_CONNECTIONS.remove(parent_connection)
        parent_connection.close()


def test_only_a_database_file_gets_the_larger_pool():
    from marketplace.db import make_engine

    memory = make_engine("sqlite://")  # SQLAlchemy's own pool for a memory database: one connection per thread
    assert type(memory.pool).__name__ == "SingletonThreadPool"
    memory.dispose()


def test_closing_a_write_session_detaches_what_it_holds(sqlite_app, factory):
    """``SQLiteWriteSession.expunge_all`` skips only the empty case: loaded, new and deleted objects still leave."""
    from sqlalchemy import inspect

    from marketplace.ledger.models import LedgerAccount

    with sqlite_app.app_context():
        session = factory()
        top_up(session, 958, "kept:958:1")
        session.commit()
        loaded = session.scalars(select(LedgerAccount).where(LedgerAccount.code.like("enterprise:958:%"))).all()
        assert loaded
        session.close()
        assert all(inspect(account).detached for account in loaded)
        session = factory()
        try:
            added = LedgerAccount(code="kept:958:new", name="New", type="asset", currency="CNY", owner_type="platform",
                                  balance=0, posting_count=0)
            session.add(added)
            assert added in session
        finally:
            session.close()
        assert inspect(added).transient and added not in session
        session = factory()
        session.close()  # nothing held: nothing to detach
        assert not session.identity_map and not session.new
