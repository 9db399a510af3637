"""PostgreSQL connections are checked before use only when they sat idle in the pool (``db._ping_when_idle``).

What must hold: a connection the server dropped while it sat idle is replaced before a request gets it (no
error reaches the request); one in use moments ago is lent out without a check (no round trip), and if the server
dropped it in that moment, the one statement fails as a disconnect and the pool then replaces it.
"""

from __future__ import annotations

import time

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError

from marketplace.db import make_engine
from tests.conftest import create_test_database

pytestmark = pytest.mark.skipif("not __import__('os').environ.get('DATABASE_URL', '').startswith('postgres')",
                                reason="the ping is for PostgreSQL's pooled connections")

IDLE = 0.3  # seconds: the check's threshold in these tests


@pytest.fixture
def engines(tmp_root):
    url = create_test_database(tmp_root, "pool_ping")
    engine = make_engine(url, ping_after_idle=IDLE)
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    yield engine, admin
    engine.dispose()
    admin.dispose()


def _backend_pid(engine) -> int:
    with engine.connect() as connection:
        return connection.execute(text("SELECT pg_backend_pid()")).scalar_one()


def _terminate(admin, pid: int) -> None:
    with admin.connect() as connection:
        assert connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar_one()
    for _ in range(100):  # until the server has let it go
        with admin.connect() as connection:
            if not connection.execute(text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid"),
                                      {"pid": pid}).scalar_one():
                return
        time.sleep(0.02)


def test_a_connection_used_moments_ago_is_lent_out_as_it_is(engines):
    engine, _admin = engines
    first = _backend_pid(engine)
    pings = []
    original = engine.dialect.do_ping
    engine.dialect.do_ping = lambda connection: pings.append(1) or original(connection)  # SQLAlchemy's, counted
    try:
        for _ in range(5):
            assert _backend_pid(engine) == first
        assert pings == []
        time.sleep(IDLE * 1.5)
        assert _backend_pid(engine) == first
        assert pings == [1]  # idle long enough: checked once
    finally:
        engine.dialect.do_ping = original


def test_a_connection_dropped_while_idle_is_replaced_before_use(engines):
    engine, admin = engines
    first = _backend_pid(engine)
    _terminate(admin, first)
    time.sleep(IDLE * 1.5)
    second = _backend_pid(engine)  # no error: the check found it dead and the pool connected anew
    assert second != first


def test_a_connection_dropped_moments_after_use_fails_once_then_the_pool_recovers(engines):
    _engine, admin = engines
    engine = make_engine(admin.url.render_as_string(hide_password=False))  # the app's threshold: seconds
    first = _backend_pid(engine)
    _terminate(admin, first)
    with pytest.raises(DBAPIError) as raised:  # lent out unchecked: the statement meets the closed connection
        _backend_pid(engine)
    assert raised.value.connection_invalidated
    assert _backend_pid(engine) != first
    engine.dispose()
