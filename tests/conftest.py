"""Shared fixtures.

The suite runs on SQLite by default and on PostgreSQL when ``DATABASE_URL`` points at one; either way it
works in a database of its own (a temporary SQLite file, or a fresh PostgreSQL database created for this run
and dropped afterwards) built by the Alembic migrations, never ``create_all``.

- ``app``: one app for the run, bound to the migrated test database.
- ``session``: a SQLAlchemy session inside a transaction that is rolled back after the test; requests made
  by ``client`` during the test join the same transaction (their commits become savepoints), so each test
  is isolated without truncating anything.
- ``client``, ``login_as(user)``, factories ``make_user``/``make_enterprise``/``make_member``.
"""

from __future__ import annotations

import os
import re
import secrets
import tempfile
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from marketplace import create_app
from marketplace.db import database
from marketplace.extensions import limiter

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "correct horse battery staple 42"


def _test_env(database_url: str, tmp: Path) -> dict[str, str]:
    return {
        "CANAL_ENV": "test",
        "SECRET_KEY": "test-secret-key-" + "x" * 32,
        "DATABASE_URL": database_url,
        "MAIL_BACKEND": "console",
        "UPLOAD_DIR": str(tmp / "uploads"),
        "PUBLIC_URL": "http://canal.test",
    }


def _fast_hashing() -> dict:
    return {"ARGON2_MEMORY_KIB": 1024, "ARGON2_TIME_COST": 1}


@pytest.fixture(scope="session")
def tmp_root():
    with tempfile.TemporaryDirectory(prefix="canal-tests-") as tmp:
        yield Path(tmp)


def create_test_database(tmp_root: Path, name: str) -> str:
    """A fresh, empty database for this run: a SQLite file, or a new PostgreSQL database."""
    base = os.environ.get("DATABASE_URL", "")
    if not base.startswith("postgres"):
        return f"sqlite:///{tmp_root / (name + '.db')}"
    if base.startswith("postgresql://"):
        base = "postgresql+psycopg://" + base.split("://", 1)[1]
    url = make_url(base)
    db_name = f"canal_{name}_{os.getpid()}_{secrets.token_hex(3)}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{db_name}"'))
    admin.dispose()
    _CREATED_PG.append((url, db_name))
    return url.set(database=db_name).render_as_string(hide_password=False)


_CREATED_PG: list = []


def drop_test_databases() -> None:
    for url, db_name in _CREATED_PG:
        admin = create_engine(url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :name AND pid <> pg_backend_pid()"
            ), {"name": db_name})
            connection.execute(text(f'DROP DATABASE IF EXISTS "{db_name}"'))
        admin.dispose()
    _CREATED_PG.clear()


def pytest_sessionfinish(session, exitstatus):
    drop_test_databases()


# --- parallel runs (pytest-xdist, ``make test``: ``-n auto --dist loadgroup``) ---------------------------------
# Each worker is its own process with its own temporary directory, databases (above), in-memory rate limiter,
# live server port and Chromium. Tests of a module with a module-scoped fixture (a committed database of its own,
# a local server) are kept on one worker, so that fixture is built once rather than once per worker.

_WIDE_SCOPES = ("module", "class", "package")


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.get_closest_marker("xdist_group"):
            continue
        info = getattr(item, "_fixtureinfo", None)
        definitions = info.name2fixturedefs.values() if info else ()
        if any(defs and defs[-1].scope in _WIDE_SCOPES for defs in definitions):
            item.add_marker(pytest.mark.xdist_group(item.nodeid.split("::", 1)[0]))


NEXT_ITEM = pytest.StashKey()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item, nextitem):
    """Let fixtures see which test comes next (``item.stash[NEXT_ITEM]``): a fixture shared by consecutive
    tests (the access matrix's per-row world) is torn down when the next test is not one of them."""
    item.stash[NEXT_ITEM] = nextitem
    return (yield)


def build_app(database_url: str, tmp: Path, **overrides):
    from marketplace.cli import upgrade_database

    config = {"ENV": _test_env(database_url, tmp), "INSTANCE_PATH": str(tmp / "instance"), **_fast_hashing()}
    config.update(overrides)
    app = create_app(config)
    upgrade_database(app)
    return app


@pytest.fixture(scope="session")
def app(tmp_root):
    app = build_app(create_test_database(tmp_root, "main"), tmp_root)
    yield app
    database(app).engine.dispose()


@pytest.fixture(autouse=True)
def _reset_rate_limits():
    yield
    try:
        limiter.reset()
    except Exception:  # noqa: BLE001 - storage not initialised in pure unit tests
        pass


@pytest.fixture
def session(app):
    """A session in a transaction rolled back after the test; app requests share it."""
    db = database(app)
    connection = db.engine.connect()
    outer = connection.begin()
    factory = sessionmaker(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    original = (db.session_factory, db.write_session_factory)
    db.session_factory = db.write_session_factory = factory
    ctx = app.app_context()
    ctx.push()
    session: Session = factory()
    try:
        yield session
    finally:
        session.close()
        ctx.pop()
        db.session_factory, db.write_session_factory = original
        if outer.is_active:
            outer.rollback()
        connection.close()


@pytest.fixture
def client(app, session):
    return app.test_client()


# --- factories -------------------------------------------------------------------------------------------

_counter = {"n": 0}


def _next() -> int:
    _counter["n"] += 1
    return _counter["n"]


@pytest.fixture
def make_user(session):
    return user_factory(session)


def user_factory(session):
    """``make_user`` for a given session (fixtures that build data in a session of their own use these)."""
    from marketplace.accounts.services import create_user

    def factory(**overrides):
        n = _next()
        values = {
            "email": f"user{n}@example.com",
            "password": PASSWORD,
            "display_name": f"User {n}",
            "signup_kind": "brand",
            "verified": True,
        }
        values.update(overrides)
        user = create_user(session, **values)
        session.flush()
        return user

    return factory


def valid_uscc(n: int | None = None) -> str:
    from stdnum.cn import uscc

    body = f"9131011{(n if n is not None else _next()):06d}ABCD"[:17]
    return body + uscc.calc_check_digit(body)


@pytest.fixture
def make_enterprise(session, make_user):
    return enterprise_factory(session, make_user)


def enterprise_factory(session, make_user):
    from marketplace.enterprises import services
    from marketplace.enterprises.models import Enterprise
    from marketplace.files.services import store_bytes
    from marketplace.seed import licence_png

    def factory(owner=None, state: str = "unverified", licence: bool = True, **overrides) -> Enterprise:
        owner = owner or make_user()
        n = _next()
        uscc = overrides.pop("uscc", valid_uscc(n))
        details = services.EnterpriseDetails(
            legal_name=overrides.pop("legal_name", f"测试企业{n}有限公司"),
            display_name=overrides.pop("display_name", f"Brand {n}"),
            uscc=uscc, contact_name="Contact", contact_phone="+86 21 5555 0000",
            contact_email=owner.email, invoice_title="", tax_number="",
        )
        enterprise = services.create_enterprise(session, owner, details)
        if licence:
            stored = store_bytes(session, licence_png("Test", uscc), "image/png", "licence.png", owner.id)
            enterprise.licence_file_id = stored.id
        if state in ("pending", "verified", "rejected"):
            services.submit_for_verification(session, owner, enterprise)
        if state in ("verified", "rejected"):
            reviewer = make_user(staff_role="reviewer")
            if state == "verified":
                services.approve_enterprise(session, reviewer, enterprise)
            else:
                services.reject_enterprise(session, reviewer, enterprise, "Licence is blurry, please rescan.")
        for key, value in overrides.items():
            setattr(enterprise, key, value)
        session.flush()
        return enterprise

    return factory


@pytest.fixture
def make_member(session, make_user):
    return member_factory(session, make_user)


def member_factory(session, make_user):
    from marketplace.enterprises.models import Membership

    def factory(enterprise, role: str, user=None):
        user = user or make_user()
        membership = Membership(enterprise_id=enterprise.id, user_id=user.id, role=role)
        session.add(membership)
        session.flush()
        return user

    return factory


@pytest.fixture
def login_as(client):
    """Sign ``user`` in on the test client (the real login form is tested on its own)."""
    return lambda user, context=None: sign_in(client, user, context)


def sign_in(client, user, context: str | None = None):
    with client.session_transaction() as sess:
        sess["_user_id"] = user.get_id()
        sess["_fresh"] = True
        if context:
            sess["context"] = context
    return user


CSRF_RE = re.compile(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"')


def csrf_from(html: str) -> str:
    match = CSRF_RE.search(html) or re.search(r'value="([^"]+)"[^>]*name="csrf_token"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


@pytest.fixture
def post_form(client):
    """GET ``page`` for a CSRF token, then POST ``data`` (with the token) to ``url`` (default: the page)."""

    def do(page: str, data: dict | None = None, url: str | None = None, **kwargs):
        response = client.get(page)
        token = csrf_from(response.get_data(as_text=True))
        payload = {"csrf_token": token, **(data or {})}
        return client.post(url or page, data=payload, **kwargs)

    return do


# --- order-taking ------------------------------------------------------------------------------------------


@pytest.fixture
def make_listed_creator(session, make_user):
    """A creator brands can hire: profile, linked sandbox account (real connector numbers), rate card, accepting."""
    from marketplace.creators import services as creator_services
    from marketplace.creators import stats

    def factory(handle: str | None = None, *, categories=("beauty",), regions=("31",), prices=None,
                revision_rounds: int = 2, user=None, now=None):
        n = _next()
        handle = handle or f"order_creator_{n}"
        creator = creator_services.become_creator(session, user or make_user(signup_kind="creator"))
        stats.link_platform_account(session, creator, f"@{handle}", now=now)
        creator_services.update_profile(session, creator, handle=handle.replace(".", "_")[:30],
                                        display_name=f"Creator {n}", kind="individual", bio="测评达人 short videos",
                                        categories=list(categories), regions=list(regions), languages=["zh"],
                                        accepting_orders=True)
        creator_services.save_rate_card(session, creator, prices or {"short_video": 1_000_00, "image_text": 400_00},
                                        revision_rounds, 7, "")
        session.flush()
        assert creator.listed
        return creator

    return factory


@pytest.fixture
def make_funded_enterprise(session, make_enterprise):
    """A verified enterprise with ``balance`` (fen) in its wallet, from a confirmed bank top-up."""
    from marketplace.ledger import flows

    def factory(balance: int = 100_000_00, **kwargs):
        enterprise = make_enterprise(state="verified", **kwargs)
        if balance:
            flows.top_up(session, enterprise_id=enterprise.id, amount=balance, rail="bank",
                         key=f"test-top-up:{enterprise.id}")
        else:
            flows.open_enterprise_wallet(session, enterprise.id)
        session.flush()
        return enterprise

    return factory
