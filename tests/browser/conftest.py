"""Browser fixtures: the app served on a random local port with committed data, driven by Playwright in the
Debian Chromium (``/usr/bin/chromium``). Every test starts from empty tables; screenshots go to
``test-artifacts/screenshots/``."""

from __future__ import annotations

import os
import re
import threading
from pathlib import Path

import pytest
from sqlalchemy import delete, select, text
from werkzeug.serving import make_server

from marketplace.db import database
from marketplace.models import metadata
from tests.conftest import ROOT, build_app, create_test_database

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS, "headless": True}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": {"width": 1280, "height": 860}, "locale": "en-US"}


@pytest.fixture(scope="session")
def live_app(tmp_root):
    tmp = tmp_root / "browser"
    tmp.mkdir(exist_ok=True)
    app = build_app(create_test_database(tmp_root, "browser"), tmp,
                    LOGIN_RATE_LIMIT="200 per minute", LOGIN_IP_RATE_LIMIT="1000 per minute",
                    SIGNUP_RATE_LIMIT="1000 per hour", RESET_RATE_LIMIT="1000 per hour")
    yield app
    database(app).engine.dispose()


@pytest.fixture(scope="session")
def live_server(live_app):
    server = make_server("127.0.0.1", 0, live_app, threaded=True)
    base_url = f"http://127.0.0.1:{server.server_port}"
    live_app.config["PUBLIC_URL"] = base_url
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    yield base_url
    server.shutdown()
    thread.join(timeout=5)


def _empty_tables(app) -> None:
    engine = database(app).engine
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
            connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            # Foreign keys are checked at commit, when every table is empty: the creators ↔ rate card versions
            # cycle has no deletion order that satisfies them row by row.
            connection.exec_driver_sql("PRAGMA defer_foreign_keys = ON")
            for table in reversed(metadata.sorted_tables):
                connection.execute(delete(table))


@pytest.fixture
def live(live_app, live_server):
    """The base URL of the live site, with empty tables before and after the test."""
    from marketplace.extensions import limiter

    _empty_tables(live_app)
    limiter.reset()
    yield live_server
    _empty_tables(live_app)


class LiveDB:
    """Run service code against the live site's database and commit (set-up and checks in browser tests)."""

    def __init__(self, app):
        self.app = app

    def __enter__(self):
        self._ctx = self.app.app_context()
        self._ctx.push()
        self.session = database(self.app).write_session_factory()
        return self.session

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            self.session.commit()
        else:
            self.session.rollback()
        self.session.close()
        self._ctx.pop()


@pytest.fixture
def live_db(live_app):
    return lambda: LiveDB(live_app)


@pytest.fixture
def outbox_link(live_app):
    """The last link emailed to ``address`` whose path starts with ``path_prefix``."""
    from marketplace.mail.models import OutboxEmail

    def find(address: str, path_prefix: str) -> str:
        with LiveDB(live_app) as session:
            bodies = session.scalars(select(OutboxEmail.body_text).where(OutboxEmail.to_address == address)
                                     .order_by(OutboxEmail.id.desc())).all()
        for body in bodies:
            for url in re.findall(r"https?://\S+", body):
                if path_prefix in url:
                    return url
        raise AssertionError(f"no email to {address} with a link to {path_prefix}")

    return find


def watch_console(*pages) -> list[str]:
    """Every script error and console error (CSP reports included) of ``pages``, as they happen: a test asserts
    the list at its end."""
    errors: list[str] = []
    for p in pages:
        p.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
        p.on("pageerror", lambda error: errors.append(str(error)))
    return errors


@pytest.fixture
def shot(request):
    """Save a full-page screenshot named after the test and a step."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    counter = {"n": 0}

    def take(page, step: str) -> Path:
        counter["n"] += 1
        name = re.sub(r"[^a-zA-Z0-9_-]+", "-", f"{request.node.name}-{counter['n']:02d}-{step}")
        path = SCREENSHOTS / f"{name}.png"
        # Written whole and renamed into place: another run (the other backend in CI) may save the same name.
        partial = path.with_name(f".{path.name}.{os.getpid()}")
        partial.write_bytes(page.screenshot(full_page=True))
        os.replace(partial, path)
        return path

    return take
