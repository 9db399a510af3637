"""SQLite write sessions hold the database's one write lock from ``BEGIN IMMEDIATE`` to the driver's COMMIT, and
their commit releases it before SQLAlchemy's own bookkeeping (``marketplace.db.SQLiteWriteSession``).

What must hold: the commit writes everything the session holds (pending changes included) in one transaction,
``before_commit`` hooks still run inside that transaction, a COMMIT the database refuses raises and commits
nothing, a session carries on after a commit or a failed BEGIN, and the lock is free once ``commit`` returns.
Always on SQLite (a file of this module's own), whatever ``DATABASE_URL`` says: PostgreSQL writers use row locks.
"""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy import event, exc, select

from marketplace.db import SQLiteWriteSession, database, utcnow
from marketplace.ledger import flows
from marketplace.ledger.models import LedgerAccount, Posting
from marketplace.ledger.services import AccountSpec, _DriverSql, balance
from tests.concurrency import can_take_sqlite_write_lock, other_sqlite_writer, sqlite_file_app
from tests.conftest import user_factory
from tests.ledger_helpers import assert_ledger_sound


@pytest.fixture(scope="module")
def sqlite_app(tmp_root):
    with sqlite_file_app(tmp_root, "sqlite_write_sessions") as app:
        yield app


@pytest.fixture
def other(sqlite_app):
    """Another writer: a plain driver connection to the same file that never waits for the lock."""
    with other_sqlite_writer(sqlite_app) as connection:
        yield connection


def write_session(app) -> SQLiteWriteSession:
    session = database(app).write_session_factory()
    assert isinstance(session, SQLiteWriteSession)
    return session


def test_a_commit_writes_and_frees_the_lock_and_the_session_carries_on(sqlite_app, other):
    with sqlite_app.app_context():
        session = write_session(sqlite_app)
        try:
            for n, amount in enumerate((7_000, 3_000)):  # two transactions in one session
                flows.top_up(session, enterprise_id=901, amount=amount, rail="bank", key=f"writes:901:{n}")
                assert not can_take_sqlite_write_lock(other)  # held since the session's transaction began
                session.commit()
                assert can_take_sqlite_write_lock(other)
                assert not session.in_transaction()
            assert other.execute("SELECT balance FROM ledger_accounts WHERE code = ?",
                                 (flows.enterprise_available(901),)).fetchone() == (-10_000,)
            assert balance(session, flows.enterprise_available(901)) == 10_000
            assert_ledger_sound(session)
        finally:
            session.close()


def test_pending_changes_are_flushed_into_the_committed_transaction(sqlite_app, other):
    with sqlite_app.app_context():
        session = write_session(sqlite_app)
        try:
            user = user_factory(session)(email="pending@example.com", display_name="Before")
            session.commit()
            flows.top_up(session, enterprise_id=902, amount=500, rail="bank", key="writes:902")
            user.display_name = "After"  # not flushed: the commit must write it
            assert session.dirty
            session.commit()
        finally:
            session.close()
    assert other.execute("SELECT display_name FROM users WHERE email = 'pending@example.com'").fetchone() == ("After",)
    assert other.execute("SELECT balance FROM ledger_accounts WHERE code = ?",
                         (flows.enterprise_available(902),)).fetchone() == (-500,)


def test_before_commit_hooks_run_inside_the_transaction(sqlite_app, other):
    seen = []

    def hook(session):
        seen.append(session.connection().connection.dbapi_connection.in_transaction)
        flows.top_up(session, enterprise_id=903, amount=200, rail="bank", key="writes:903:hook")

    with sqlite_app.app_context():
        session = write_session(sqlite_app)
        event.listen(session, "before_commit", hook)
        try:
            flows.top_up(session, enterprise_id=903, amount=100, rail="bank", key="writes:903")
            session.commit()
        finally:
            session.close()
    assert seen == [True]  # the driver had not committed yet
    assert other.execute("SELECT balance FROM ledger_accounts WHERE code = ?",
                         (flows.enterprise_available(903),)).fetchone() == (-300,)


def test_a_savepoint_still_open_is_committed_with_the_rest(sqlite_app, other):
    with sqlite_app.app_context():
        session = write_session(sqlite_app)
        try:
            flows.top_up(session, enterprise_id=904, amount=100, rail="bank", key="writes:904:a")
            session.begin_nested()
            flows.top_up(session, enterprise_id=904, amount=50, rail="bank", key="writes:904:b")
            session.commit()
            assert can_take_sqlite_write_lock(other)
        finally:
            session.close()
    assert other.execute("SELECT balance FROM ledger_accounts WHERE code = ?",
                         (flows.enterprise_available(904),)).fetchone() == (-150,)


def test_a_commit_the_database_refuses_raises_and_commits_nothing(sqlite_app, other):
    """A deferred foreign key fails at COMMIT (SQLite keeps the transaction open): the error reaches the caller
    as SQLAlchemy's, the rollback undoes everything, and the session works afterwards."""
    with sqlite_app.app_context():
        session = write_session(sqlite_app)
        try:
            flows.top_up(session, enterprise_id=905, amount=100, rail="bank", key="writes:905:lost")
            cursor = session.connection().connection.dbapi_connection.cursor()
            cursor.execute("PRAGMA defer_foreign_keys = ON")
            cursor.execute("INSERT INTO ledger_postings (transaction_id, account_id, amount, currency, balance_after)"
                           " VALUES (987654321, 987654321, 1, 'CNY', 1)")
            cursor.close()
            with pytest.raises(exc.IntegrityError, match="FOREIGN KEY"):
                session.commit()
            session.rollback()
            assert can_take_sqlite_write_lock(other)
            flows.top_up(session, enterprise_id=905, amount=40, rail="bank", key="writes:905:kept")
            session.commit()
            assert session.scalar(select(Posting.id).where(Posting.transaction_id == 987654321)) is None
            assert balance(session, flows.enterprise_available(905)) == 40
            assert_ledger_sound(session)
        finally:
            session.close()


def test_a_begin_that_cannot_take_the_lock_leaves_the_session_usable(sqlite_app, other):
    with sqlite_app.app_context():
        session = write_session(sqlite_app)
        try:
            # The pooled connection the session is about to use gives up on the lock at once.
            session.connection().connection.dbapi_connection.execute("PRAGMA busy_timeout = 0")
            session.commit()
            other.execute("BEGIN IMMEDIATE")
            try:
                with pytest.raises(sqlite3.OperationalError, match="locked"):
                    session.connection()
            finally:
                other.execute("ROLLBACK")
            # The session's connection (the one its thread keeps) has no transaction open in SQLAlchemy or in the
            # driver, and nothing else is checked out of the pool.
            kept = session._kept.connection
            assert kept.get_transaction() is None
            assert not kept.connection.dbapi_connection.in_transaction
            assert database(sqlite_app).engine.pool.checkedout() == 1
            flows.top_up(session, enterprise_id=906, amount=60, rail="bank", key="writes:906")
            session.commit()
            assert balance(session, flows.enterprise_available(906)) == 60
        finally:
            session.connection().connection.dbapi_connection.execute("PRAGMA busy_timeout = 15000")
            session.close()
    assert can_take_sqlite_write_lock(other)


def test_a_connection_whose_begin_failed_can_begin_again(sqlite_app, other):
    writer = database(sqlite_app).write_session_factory.kw["bind"]
    with writer.connect() as connection:
        connection.connection.dbapi_connection.execute("PRAGMA busy_timeout = 0")
        other.execute("BEGIN IMMEDIATE")
        try:
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                connection.begin()
            assert connection.get_transaction() is None
            assert not connection.connection.dbapi_connection.in_transaction
        finally:
            other.execute("ROLLBACK")
        with connection.begin():
            assert not can_take_sqlite_write_lock(other)
        assert can_take_sqlite_write_lock(other)
        connection.connection.dbapi_connection.execute("PRAGMA busy_timeout = 15000")


def test_opening_an_account_gives_the_row_written(sqlite_app):
    """``post`` opens accounts inside its write transaction and goes on with the row ``open`` hands back (on
    SQLite built from the values written and the id the driver reports, not read back): it is the stored row,
    and a second open of the same code (taken meanwhile) gives None."""
    with sqlite_app.app_context():
        session = write_session(sqlite_app)
        try:
            connection = session.connection()
            sql = _DriverSql.for_dialect(connection.dialect)
            cursor = connection.connection.dbapi_connection.cursor()
            stamp = sql.datetime(utcnow())
            for code, spec in (("order:907:escrow", flows.account_spec("order:907:escrow")),
                               ("platform:test:asset", AccountSpec("asset", "Test asset"))):
                row = sql.open(cursor, code, spec, "CNY", stamp)
                stored = session.execute(select(LedgerAccount.id, LedgerAccount.code, LedgerAccount.type,
                                                LedgerAccount.currency, LedgerAccount.balance,
                                                LedgerAccount.min_balance, LedgerAccount.posting_count)
                                         .where(LedgerAccount.code == code)).one()
                assert row == list(stored)
                assert sql.open(cursor, code, spec, "CNY", stamp) is None
            cursor.close()
            session.commit()
        finally:
            session.close()
