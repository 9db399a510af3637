"""Helpers for tests that need real concurrency: an app on a committed database of its own (no rolled-back
test transaction), work in a transaction of its own, and threads started at the same moment."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from flask import Flask

from marketplace.db import database
from tests.conftest import build_app, create_test_database

JOIN_TIMEOUT = 60  # seconds for all threads together: generous; a deadlock or a lost wake-up fails the test


@contextmanager
def committed_app(tmp_root: Path, name: str) -> Iterator[Flask]:
    """An app on a fresh database called ``name`` where work really commits (dropped with the test run)."""
    tmp = tmp_root / name
    tmp.mkdir(exist_ok=True)
    app = build_app(create_test_database(tmp_root, name), tmp)
    try:
        yield app
    finally:
        database(app).engine.dispose()


def in_read_session(app: Flask, work: Callable):
    """``work(session)`` in a read session of its own (what the threads committed, as a page would read it)."""
    with app.app_context():
        session = database(app).session_factory()
        try:
            return work(session)
        finally:
            session.close()


def in_new_transaction(app: Flask, work: Callable):
    """Run ``work(session)`` in a write session of its own and commit (roll back on any error)."""
    with app.app_context():
        session = database(app).write_session_factory()
        try:
            result = work(session)
            session.commit()
            return result
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()


@contextmanager
def sqlite_file_app(tmp_root: Path, name: str) -> Iterator[Flask]:
    """An app on a SQLite file of its own (``tmp_root/name/name.db``), whatever ``DATABASE_URL`` says."""
    tmp = tmp_root / name
    tmp.mkdir(exist_ok=True)
    app = build_app(f"sqlite:///{tmp / (name + '.db')}", tmp)
    try:
        yield app
    finally:
        database(app).engine.dispose()


@contextmanager
def other_sqlite_writer(app: Flask) -> Iterator[sqlite3.Connection]:
    """Another writer on ``app``'s SQLite file: a plain driver connection that never waits for the lock."""
    connection = sqlite3.connect(database(app).engine.url.database, timeout=0, isolation_level=None)
    try:
        yield connection
    finally:
        connection.close()


def can_take_sqlite_write_lock(connection: sqlite3.Connection) -> bool:
    """Whether another writer (``connection``, opened with ``timeout=0``) could begin a write transaction now."""
    try:
        connection.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as error:
        assert "locked" in str(error)
        return False
    connection.execute("ROLLBACK")
    return True


def race(works: list[Callable[[], object]]) -> list[tuple[str, object]]:
    """Start every ``work()`` in its own thread at the same moment; ("ok", result) or ("error", exception) each."""
    barrier = threading.Barrier(len(works))
    outcomes: list = [None] * len(works)

    def run(i: int, work: Callable[[], object]) -> None:
        try:
            barrier.wait(timeout=JOIN_TIMEOUT)
            outcomes[i] = ("ok", work())
        except BaseException as exc:  # noqa: BLE001 - reported to the test, which asserts on it
            outcomes[i] = ("error", exc)

    threads = [threading.Thread(target=run, args=(i, w), daemon=True) for i, w in enumerate(works)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=JOIN_TIMEOUT)
    stuck = [t.name for t in threads if t.is_alive()]
    assert not stuck, f"threads did not finish within {JOIN_TIMEOUT}s (deadlock?): {stuck}"
    return outcomes
