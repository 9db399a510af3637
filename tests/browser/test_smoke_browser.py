"""Real Chromium reaches the live site, runs our script under the CSP, and logs in."""

import re

from playwright.sync_api import expect

from marketplace.accounts.services import create_user


def test_login_in_chromium(page, live, live_db, shot):
    with live_db() as session:
        create_user(session, email="ann@example.com", password="tangerine orbit lantern 77",
                    display_name="Ann", verified=True)
    console_errors = []
    page.on("console", lambda msg: console_errors.append(msg.text) if msg.type == "error" else None)
    page.goto(live + "/login")
    page.get_by_label("Email").fill("ann@example.com")
    page.get_by_label("Password").fill("tangerine orbit lantern 77")
    shot(page, "login-form")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Welcome, Ann")).to_be_visible()
    # canal.js is deferred: it runs once the document is parsed, which may be after the heading shows.
    expect(page.locator("html")).to_have_class(re.compile(r"\bjs\b"))  # canal.js ran
    shot(page, "start")
    assert console_errors == []
