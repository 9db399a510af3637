"""Database plumbing: declarative base, engine and session per app, session per request.

Invariants: every constraint has a deterministic name (``NAMING_CONVENTION``) so migrations can address it;
datetimes are stored in UTC and always come back timezone-aware; on SQLite, foreign keys are enforced, the
journal is WAL and transactions are real (``BEGIN`` is emitted by Canal's connection classes, not by the driver,
so savepoints work; write sessions begin ``IMMEDIATE``, and their commit releases the write lock before
SQLAlchemy's bookkeeping: ``SQLiteWriteSession``).
Services flush; the request (or the CLI command / job runner) commits.
"""

from __future__ import annotations

import os
import threading
import time
import weakref
from datetime import UTC, datetime
from typing import Any

from flask import Flask, current_app, g, has_request_context, request
from sqlalchemy import DateTime, MetaData, create_engine, event, exc, make_url
from sqlalchemy.engine import Connection, Engine, RootTransaction
from sqlalchemy.orm import DeclarativeBase, ORMExecuteState, Session, SessionTransaction, sessionmaker
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every backend (SQLite stores it naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; use marketplace.db.utcnow()")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime}


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy control transactions (pysqlite's implicit BEGIN breaks SAVEPOINT).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=15000")
        # 16 MiB of page cache per connection (SQLite's default is 2 MiB): a page of search results reads a few
        # thousand index entries, which a 2 MiB cache shared with the rest of the request keeps evicting.
        cursor.execute("PRAGMA cache_size=-16384")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    # BEGIN is emitted by the connections themselves rather than by a "begin" event listener: any connection
    # event on the engine makes every connection dispatch its events (connect, begin, commit), which costs a
    # SQLite write session about as much as its BEGIN … COMMIT (``bench/ledger.py``, session_overhead_per_txn).
    engine._connection_cls = _SQLiteConnection


class _SQLiteConnection(Connection):
    """A SQLite connection that starts its transactions with ``BEGIN`` (the driver's own is switched off)."""

    begin_statement = "BEGIN"

    def begin(self) -> RootTransaction:
        transaction = super().begin()  # raises its own error when a transaction is open already
        # Straight to the driver (SQLAlchemy's statement path costs more than SQLite's own BEGIN), once
        # SQLAlchemy's bookkeeping is done: a write transaction holds the write lock from here.
        try:
            self.connection.dbapi_connection.execute(self.begin_statement)
        except BaseException:
            transaction.rollback()  # nothing began: the connection is as it was
            raise
        return transaction

    def _commit_impl(self) -> None:
        if self._has_events or self._echo or self.engine._has_events:
            super()._commit_impl()
        else:
            self._driver_commit()

    def _driver_commit(self) -> None:
        """``Connection._commit_impl`` when no event or echo is to see it: the driver's COMMIT (without the pool
        proxy's attribute look-up), its errors raised as SQLAlchemy raises them."""
        try:
            self.connection.dbapi_connection.commit()
        except BaseException as error:
            self._handle_dbapi_exception(error, None, None, None, None)

    def commit_ahead(self, transaction: Any) -> None:
        """The driver's COMMIT of ``transaction`` now, before SQLAlchemy ends it (``SQLiteWriteSession.commit``):
        only when it is this connection's open transaction with no savepoint in it, and no connection event or
        echo would see the COMMIT twice. Its own COMMIT later finds no transaction open in the driver (a no-op)."""
        if (transaction is self._transaction and self._nested_transaction is None and transaction.is_active
                and not (self._has_events or self._echo or self.engine._has_events)):
            self._driver_commit()


class _SQLiteWriteConnection(_SQLiteConnection):
    """A write session's connection: it takes the write lock up front, so concurrent writers queue (busy_timeout)
    instead of failing when a deferred transaction tries to upgrade from reading to writing."""

    begin_statement = "BEGIN IMMEDIATE"


def _sqlite_writer(engine: Engine) -> Engine:
    """The engine of SQLite write sessions: ``engine``'s pool and settings, transactions begun IMMEDIATE."""
    writer = engine.execution_options(canal_write=True)
    writer._connection_cls = _SQLiteWriteConnection
    return writer


# A PostgreSQL connection that sat in the pool longer than this is checked (a round trip) before it is lent out.
PING_AFTER_IDLE_SECONDS = 5.0


def make_engine(url: str, echo: bool = False, ping_after_idle: float = PING_AFTER_IDLE_SECONDS) -> Engine:
    """Create the engine for ``url`` with the backend-specific settings Canal relies on."""
    if url.startswith("sqlite"):
        # A file's pool: each thread that writes keeps a connection (``SQLiteWriteSessions``) beside the ones its
        # reads borrow, so room for 25 such threads at once before a checkout waits (SQLite connections are cheap).
        pool = {} if make_url(url).database in (None, "", ":memory:") else {"pool_size": 10, "max_overflow": 40}
        engine = create_engine(url, echo=echo, connect_args={"check_same_thread": False, "timeout": 15}, **pool)
        _configure_sqlite(engine)
        return engine
    engine = create_engine(url, echo=echo, pool_size=10, max_overflow=20)
    _ping_when_idle(engine, ping_after_idle)
    return engine


def _ping_when_idle(engine: Engine, idle_seconds: float) -> None:
    """``pool_pre_ping``, for the connections that need it: one that sat unused in the pool for ``idle_seconds``
    or more is checked with the dialect's ping before it is lent out, and replaced if the server dropped it (a
    restart, an idle timeout on the way). A connection back from a request moments ago is lent out as it is:
    pinging it too cost every request a round trip (a third of a read page's on a busy board). Should the server
    drop it in those few seconds, that one statement fails as a disconnect, and SQLAlchemy then replaces every
    connection the pool held before it."""

    @event.listens_for(engine, "checkin")
    def _idle_from(_dbapi_connection, record) -> None:
        record.info["canal_idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping_if_idle(dbapi_connection, record, _proxy) -> None:
        since = record.info.pop("canal_idle_since", None)
        if since is None or time.monotonic() - since < idle_seconds:
            return  # a new connection, or one in use moments ago
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as error:
            raise exc.DisconnectionError(f"the database dropped an idle connection: {error}") from error


class SQLiteWriteSession(Session):
    """The session of SQLite writes: its commit releases the database's write lock first.

    A write transaction holds SQLite's one write lock from ``BEGIN IMMEDIATE`` to the driver's COMMIT, and every
    other writer waits for it. ``Session.commit`` goes through its session transaction's and the connection's
    transaction's bookkeeping before it reaches the driver, and back after it; here, when the commit has nothing
    left to flush and no ``before_commit`` hook, the driver commits first and that bookkeeping follows (the same
    steps, the same events, the transaction's own COMMIT then a no-op for the driver). Any other commit (pending
    changes, a hook, a savepoint open, a transaction the session joined rather than began) is ``Session.commit``
    itself.

    A session from ``SQLiteWriteSessions`` runs on its thread's kept connection (``_kept``) until it is closed;
    then it is bound to the write engine again, so a session used after ``close()`` takes a pooled connection.
    """

    _kept: _KeptConnection | None = None

    def commit(self) -> None:
        trans = self._transaction
        # One connection, the session's own (``_connections`` holds it under the connection and its engine).
        if (trans is not None and trans._parent is None and len(trans._connections) == 2 and not self._flushing
                and self._is_clean() and not self.dispatch.before_commit):
            for connection, transaction, should_commit, _autoclose in trans._connections.values():
                if should_commit and isinstance(connection, _SQLiteConnection):
                    connection.commit_ahead(transaction)
                break
        super().commit()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._give_back()

    def reset(self) -> None:
        try:
            super().reset()
        finally:
            self._give_back()

    def invalidate(self) -> None:
        try:
            super().invalidate()
        finally:
            self._give_back()

    def expunge_all(self) -> None:
        # Closing a write session that holds no objects (a ledger request's usual case) skips making a new, empty
        # identity map and detaching nothing.
        if self.identity_map or self._new or self._deleted:
            super().expunge_all()

    def _give_back(self) -> None:
        kept = self._kept
        if kept is not None:
            self._kept = None
            self.bind = kept.engine  # used again after close(): a pooled connection, never the kept one
            kept.session = None


class _KeptConnection:
    """One thread's SQLite write connection, kept between its write sessions (``SQLiteWriteSessions``)."""

    __slots__ = ("engine", "connection", "pool", "pid", "session", "__weakref__")

    def __init__(self, engine: Engine):
        self.engine = engine
        self.connection = engine.connect()
        self.pool = engine.pool
        self.pid = os.getpid()
        self.session: weakref.ref[SQLiteWriteSession] | None = None  # the session it is lent to

    def lent(self) -> bool:
        """An open session uses it (one dropped without ``close()`` no longer does once it is collected)."""
        return self.session is not None and self.session() is not None

    def usable(self) -> bool:
        """Still this process's, of the engine's current pool and valid; never in a transaction when it is."""
        connection = self.connection
        if (self.pid != os.getpid() or self.pool is not self.engine.pool or connection.closed
                or connection.invalidated):
            return False
        if connection.in_transaction():  # left open by a session dropped without close(): never joined
            connection.rollback()
        return True

    def __del__(self) -> None:
        # The thread ended or the connection was replaced: back to the pool. A forked child keeps its parent's
        # connection untouched (closing a SQLite handle inherited across fork is unsafe), for as long as it runs.
        try:
            if self.pid != os.getpid():
                _INHERITED_CONNECTIONS.append(self.connection)
            else:
                self.connection.close()
        except Exception:  # noqa: BLE001 - interpreter shutdown, a closed database: nothing left to give back
            pass


_INHERITED_CONNECTIONS: list[Connection] = []


class SQLiteWriteSessions:
    """``Database.write_session_factory`` on SQLite: write sessions on a connection their thread keeps.

    A session bound to the engine checks a connection out of the pool when its transaction begins and back in
    when it ends (a ``Connection``, the pool's proxy, a reset); on SQLite, whose one write lock serializes every
    write, that plumbing cost about as much as a ledger transaction's own statements (``bench/ledger.py``). Here
    each thread checks one connection out for its write sessions and keeps it between them:

    - a session is lent the thread's connection only while no other open session has it: a second write
      session opened while the first is open gets a pooled connection (two sessions never share a transaction);
    - it is never lent inside a transaction (one left by a session dropped without ``close()`` is rolled back);
    - a forked child never uses its parent's, one from a disposed pool or invalidated is replaced;
    - it goes back to the pool when its thread ends.

    Called with arguments (``bind=``, ``autoflush=``…) it is the plain ``sessionmaker`` of write sessions.
    """

    def __init__(self, engine: Engine):
        self.engine = engine
        self.sessionmaker = sessionmaker(bind=engine, class_=SQLiteWriteSession, expire_on_commit=False)
        self.kw = self.sessionmaker.kw
        self._local = threading.local()

    def __call__(self, **options: Any) -> SQLiteWriteSession:
        if options:
            return self.sessionmaker(**options)
        kept = getattr(self._local, "kept", None)
        if kept is not None and kept.lent():
            return self.sessionmaker()  # this thread's connection is in use: a pooled one
        if kept is None or not kept.usable():
            kept = self._local.kept = _KeptConnection(self.engine)  # the one it replaces goes back in __del__
        session = SQLiteWriteSession(bind=kept.connection, expire_on_commit=False)
        session._kept = kept
        kept.session = weakref.ref(session)
        return session


class Database:
    """The engine and session factories of one app (``app.extensions['canal_db']``).

    ``session_factory`` serves reads (GET requests); ``write_session_factory`` serves requests and jobs that
    write: on SQLite its transactions begin with ``BEGIN IMMEDIATE`` (writes are serialized); on PostgreSQL
    both are the same and writers rely on row locks.
    """

    def __init__(self, engine: Engine, session_factory: sessionmaker[Session],
                 write_session_factory: sessionmaker[Session] | SQLiteWriteSessions | None = None):
        self.engine = engine
        self.session_factory = session_factory
        self.write_session_factory = write_session_factory or session_factory

    @classmethod
    def from_url(cls, url: str, echo: bool = False) -> Database:
        engine = make_engine(url, echo)
        sqlite = engine.dialect.name == "sqlite"
        writer = _sqlite_writer(engine) if sqlite else engine
        # PostgreSQL reads in autocommit (see ``ReadSession``); SQLite's read transactions are free (no round trip).
        reader = engine if sqlite else engine.execution_options(isolation_level="AUTOCOMMIT")
        return cls(engine, sessionmaker(bind=reader, class_=ReadSession, expire_on_commit=False),
                   SQLiteWriteSessions(writer) if sqlite
                   else sessionmaker(bind=writer, class_=Session, expire_on_commit=False))


class ReadSession(Session):
    """The session of a request that only reads (GET, HEAD, OPTIONS; ``Database.session_factory``).

    When it wrote nothing it ends with COMMIT rather than ROLLBACK (``end_read_session``): the same for the
    database, but psycopg deallocates every prepared statement of the connection on a rollback, so PostgreSQL
    would plan each page's statements afresh on every request. A session that flushed anything, or holds
    unflushed changes, is rolled back as before: a page that changed an object in passing never writes it.

    On PostgreSQL its statements run in autocommit: no BEGIN and COMMIT round trips around a page's one or two
    SELECTs (under READ COMMITTED each statement saw its own snapshot anyway). What needs a transaction gets one
    with ``hold_transaction``: ``SET LOCAL`` (the search's planner settings), a flush, a savepoint and an
    ``insert``/``update``/``delete`` executed through the session each begin one first, so what a page changed in
    passing is still rolled back, never written, and a page that does write (and commits) writes atomically.
    Pages that record that they were read write in a short write session of their own
    (``messaging.mark_read_in_own_transaction``) or ask ``get_session(write=True)``.
    """

    flushed = False

    def begin_nested(self) -> SessionTransaction:
        hold_transaction(self)  # a savepoint needs a transaction (PostgreSQL reads run in autocommit)
        return super().begin_nested()


@event.listens_for(ReadSession, "do_orm_execute")
def _write_in_transaction(state: ORMExecuteState) -> None:
    """An ``insert``/``update``/``delete`` through a read session runs in a transaction, as a flush does."""
    if state.is_insert or state.is_update or state.is_delete:
        hold_transaction(state.session)


@event.listens_for(ReadSession, "before_flush")
def _flush_in_transaction(session: ReadSession, _flush_context: Any, _instances: Any) -> None:
    hold_transaction(session)


@event.listens_for(ReadSession, "after_flush")
def _note_flush(session: ReadSession, _flush_context: Any) -> None:
    session.flushed = True


def hold_transaction(session: Session, statements: str = "") -> None:
    """Run ``statements`` (e.g. ``SET LOCAL …``; none: only the transaction) in a database transaction that lasts
    until the session ends. Sessions are in one already, except a PostgreSQL ``ReadSession`` (autocommit): there
    ``BEGIN`` goes first, in the same round trip, when the connection is not in a transaction yet."""
    connection = session.connection()
    dbapi_connection = connection.connection.dbapi_connection
    if getattr(dbapi_connection, "autocommit", None) is True and not dbapi_connection.info.transaction_status:
        statements = f"BEGIN; {statements}" if statements else "BEGIN"  # transaction_status 0: IDLE
    if statements:
        connection.exec_driver_sql(statements)


def end_read_session(session: Session) -> None:
    """Before closing a read session: COMMIT its transaction when it wrote nothing (see ``ReadSession``).

    Anything else is left to ``close()``, which rolls the transaction back without expiring the objects it
    detaches (the signed-in user stays readable when a page moves on to a write session)."""
    if (isinstance(session, ReadSession) and not session.flushed and session.in_transaction()
            and not (session.new or session.dirty or session.deleted)):
        session.commit()


def init_app(app: Flask) -> None:
    if "canal_db" not in app.extensions:
        app.extensions["canal_db"] = Database.from_url(app.config["DATABASE_URL"], app.config["SQL_ECHO"])

    def _close_session(exc: BaseException | None = None) -> None:
        session: Session | None = g.pop("db_session", None)
        if session is not None:
            if exc is not None:
                session.rollback()
            elif isinstance(session, ReadSession):
                end_read_session(session)
            session.close()

    @app.teardown_request
    def _end_request(exc: BaseException | None) -> None:
        # Request-scoped state lives on g; drop it with the request even when the app context outlives it
        # (tests push one app context around many requests).
        _close_session(exc)
        for key in REQUEST_SCOPED_G_KEYS:
            g.pop(key, None)

    app.teardown_appcontext(_close_session)


# Flask-WTF caches the signed CSRF token (and whether this request's token was valid) on g: a token cached
# from before the session was cleared (login, logout, password reset) would no longer match the session.
REQUEST_SCOPED_G_KEYS = ("_login_user", "_context", "_memberships", "_available_contexts", "_is_member", "csrf_token",
                         "csrf_valid")


def database(app: Flask | None = None) -> Database:
    return (app or current_app).extensions["canal_db"]


def get_session(write: bool = False) -> Session:
    """The session of the current request / app context (created on first use).

    Requests that may write (anything but GET/HEAD/OPTIONS) and work outside requests (CLI, jobs) get a write
    session; safe requests get a read session, unless the view asks for a write session first (``write=True``:
    a page that records that it was read, e.g. a notification or a message thread).
    """
    if "db_session" in g and write and g.get("db_session_reads"):
        # A read session is open (the user loader ran first): end its read transaction and continue in a write
        # session, so the write takes the write lock up front instead of upgrading a read snapshot (SQLite).
        reads = g.pop("db_session")
        end_read_session(reads)
        reads.close()
    if "db_session" not in g:
        reading = not write and has_request_context() and request.method in ("GET", "HEAD", "OPTIONS")
        db = database()
        g.db_session = (db.session_factory if reading else db.write_session_factory)()
        g.db_session_reads = reading
    return g.db_session
