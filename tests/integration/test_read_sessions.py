"""Read sessions (GET requests) end with COMMIT when they wrote nothing, and with ROLLBACK otherwise.

Why it matters: psycopg deallocates a connection's prepared statements on every rollback, so a page's statements
were planned afresh by PostgreSQL on every request. What must not change: a page that modified an object in
passing (flushed or not) never writes it.
"""

from __future__ import annotations

import pytest
from sqlalchemy import event, select, text

from marketplace.accounts.models import User
from marketplace.db import ReadSession, database, end_read_session, get_session, hold_transaction
from tests.conftest import build_app, create_test_database, sign_in, user_factory


@pytest.fixture(scope="module")
def own_app(tmp_root):
    """An app on a database of its own, with the real session factories (the ``session`` fixture replaces them),
    used by one thread at a time: its pool holds one connection, the one every request uses."""
    tmp = tmp_root / "read_sessions"
    tmp.mkdir(exist_ok=True)
    app = build_app(create_test_database(tmp_root, "read_sessions"), tmp)
    with app.app_context():
        session = database(app).write_session_factory()
        user = user_factory(session)(email="reader@example.com", display_name="Reader")
        session.commit()
        app.config["TEST_USER_ID"] = user.id
        app.config["TEST_USER"] = user
        session.close()
    database(app).engine.dispose()  # the pool starts empty: the requests' connection is the only one
    yield app
    database(app).engine.dispose()


def _name(app) -> str:
    with app.app_context():
        session = database(app).write_session_factory()
        try:
            return session.scalar(select(User.display_name).where(User.id == app.config["TEST_USER_ID"]))
        finally:
            session.close()


def test_a_get_request_has_a_read_session(own_app):
    with own_app.test_request_context("/", method="GET"):
        assert isinstance(get_session(), ReadSession)
    with own_app.test_request_context("/", method="POST"):
        assert not isinstance(get_session(), ReadSession)


@pytest.mark.parametrize("flush", [False, True], ids=["unflushed", "flushed"])
def test_a_read_session_that_changed_something_is_rolled_back(own_app, flush):
    with own_app.test_request_context("/", method="GET"):
        session = get_session()
        user = session.get(User, own_app.config["TEST_USER_ID"])
        user.display_name = "Changed in passing"
        if flush:
            session.execute(select(User.id)).all()  # autoflush: the UPDATE reaches the database's transaction
            assert session.flushed
        end_read_session(session)
        session.close()
    assert _name(own_app) == "Reader"


def test_a_clean_read_session_commits(own_app):
    with own_app.test_request_context("/", method="GET"):
        session = get_session()
        assert session.get(User, own_app.config["TEST_USER_ID"]).display_name == "Reader"
        ended: list[str] = []
        event.listen(session, "after_commit", lambda s: ended.append("commit"))
        event.listen(session, "after_rollback", lambda s: ended.append("rollback"))
        end_read_session(session)
        assert not session.in_transaction()
        assert ended == ["commit"]
        session.close()


def test_postgresql_keeps_prepared_statements_across_page_reads(own_app):
    if database(own_app).engine.dialect.name != "postgresql":
        pytest.skip("prepared statements are psycopg's")
    client = own_app.test_client()
    sign_in(client, own_app.config["TEST_USER"])
    for _ in range(8):  # psycopg prepares a statement from its fifth execution on a connection
        assert client.get("/dashboard").status_code == 200
    with own_app.app_context():
        connection = database(own_app).engine.connect()  # the pool's one connection, which served the requests
        try:
            prepared = connection.execute(text("SELECT count(*) FROM pg_prepared_statements")).scalar()
        finally:
            connection.close()
    assert prepared > 0


@pytest.mark.parametrize("flush", [False, True], ids=["clean", "flushed"])
def test_moving_on_to_a_write_session_keeps_loaded_objects_readable(own_app, flush):
    """A page that records that it was read asks for a write session after the user was loaded in the read
    session: the user object stays readable, and whatever the read session changed is not written."""
    with own_app.test_request_context("/", method="GET"):
        reads = get_session()
        user = reads.get(User, own_app.config["TEST_USER_ID"])
        if flush:
            user.display_name = "Changed in passing"
            reads.execute(select(User.id)).all()
        writes = get_session(write=True)
        assert writes is not reads and not isinstance(writes, ReadSession)
        assert user.email == "reader@example.com"  # loaded attributes survive (not expired, not refreshed)
        writes.close()
    assert _name(own_app) == "Reader"


def _postgresql_only(app) -> None:
    if database(app).engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL read sessions run in autocommit; SQLite's read transactions cost no round trip")


def _transaction_status(session) -> str:
    return session.connection().connection.dbapi_connection.info.transaction_status.name


def test_postgresql_page_reads_run_without_begin_and_commit(own_app):
    _postgresql_only(own_app)
    with own_app.test_request_context("/", method="GET"):
        session = get_session()
        assert session.get(User, own_app.config["TEST_USER_ID"]).display_name == "Reader"
        assert _transaction_status(session) == "IDLE"  # the SELECT ran and ended: no transaction left open
        end_read_session(session)
        session.close()


def test_hold_transaction_keeps_set_local_until_the_read_session_ends(own_app):
    _postgresql_only(own_app)
    with own_app.test_request_context("/", method="GET"):
        session = get_session()
        hold_transaction(session, "SET LOCAL random_page_cost = 1.1")
        assert _transaction_status(session) == "INTRANS"
        assert session.scalar(text("SHOW random_page_cost")) == "1.1"
        hold_transaction(session, "SET LOCAL random_page_cost = 1.2")  # already in one: no second BEGIN
        assert session.scalar(text("SHOW random_page_cost")) == "1.2"
        end_read_session(session)
        assert _transaction_status(session) == "IDLE"
        session.close()
    with own_app.test_request_context("/", method="GET"):  # the pool's one connection again
        session = get_session()
        assert session.scalar(text("SHOW random_page_cost")) == "4"  # the setting ended with its transaction
        assert _transaction_status(session) == "IDLE"
        session.close()


def test_hold_transaction_in_a_session_already_in_a_transaction_only_runs_the_statements(own_app):
    with own_app.app_context():
        session = database(own_app).write_session_factory()
        try:
            session.execute(select(User.id)).all()
            hold_transaction(session, "SELECT 1")  # no BEGIN: a second one would fail
            hold_transaction(session)
            assert session.in_transaction()
        finally:
            session.close()


def test_a_write_session_after_a_read_session_is_transactional_again(own_app):
    """The pool's one connection served a read session in autocommit; the next write session on it runs in a
    transaction (SQLAlchemy resets the isolation level when the read session gives the connection back)."""
    _postgresql_only(own_app)
    with own_app.test_request_context("/", method="GET"):
        reads = get_session()
        reads.execute(select(User.id)).all()
        assert _transaction_status(reads) == "IDLE"
        served = reads.connection().connection.dbapi_connection
        end_read_session(reads)
        reads.close()
    with own_app.app_context():
        writes = database(own_app).write_session_factory()
        try:
            writes.execute(select(User.id)).all()
            assert writes.connection().connection.dbapi_connection is served  # the same pooled connection
            assert _transaction_status(writes) == "INTRANS"
            assert writes.connection().connection.dbapi_connection.autocommit is False
        finally:
            writes.close()


def test_a_read_session_that_writes_through_a_savepoint_or_a_statement_does_so_in_a_transaction(own_app):
    """A GET that writes (a savepoint, an UPDATE statement) and commits: on PostgreSQL the read session's autocommit
    gives way to a transaction first — the savepoint works, and a failure before the commit writes nothing."""
    from sqlalchemy import update

    user_id = own_app.config["TEST_USER_ID"]
    with own_app.test_request_context("/", method="GET"):
        session = get_session()
        with session.begin_nested():
            session.get(User, user_id).display_name = "Saved in a savepoint"
        session.commit()
        session.close()
    assert _name(own_app) == "Saved in a savepoint"
    with own_app.test_request_context("/", method="GET"):
        session = get_session()
        session.execute(update(User).where(User.id == user_id).values(display_name="Not committed"))
        session.rollback()  # the page failed before its commit
        session.close()
    assert _name(own_app) == "Saved in a savepoint"
    with own_app.test_request_context("/", method="GET"):
        session = get_session()
        session.execute(update(User).where(User.id == user_id).values(display_name="Reader"))
        session.commit()
        session.close()
    assert _name(own_app) == "Reader"
