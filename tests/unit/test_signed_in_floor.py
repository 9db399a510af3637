"""What every signed-in page pays for (the "floor": the user and their contexts, the bell, the navigation, the
layout) is paid once and stays right: the bell's count comes with the user in one round trip and is counted again
when the request changes the user's notifications; a changed or revoked membership shows on the next request; the
language, time zone, CSRF token and security headers are the user's and the request's."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from flask import g
from sqlalchemy import delete, event, update

from marketplace.db import database
from marketplace.enterprises.models import Membership
from marketplace.notifications.models import Notification
from marketplace.notifications.services import (
    forget_unread,
    mark_read,
    notify,
    remember_unread,
    remembered_unread,
)
from marketplace.notifications.views import unread_notifications


@pytest.fixture
def statements(app):
    """The SQL statements the app runs while the ``with`` block of the returned list is open."""
    seen: list[str] = []

    def record(conn, cursor, statement, *args):
        seen.append(statement)

    engine = database(app).engine
    event.listen(engine, "before_cursor_execute", record)
    yield seen
    event.remove(engine, "before_cursor_execute", record)


def _unread(session, user, n: int) -> None:
    for i in range(n):
        notify(session, [user], "job_closed", params={"title": f"J{i}"}, email=False)
    session.flush()


def _page_statements(seen: list[str]) -> list[str]:
    return [s for s in seen if not s.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK", "BEGIN"))]


def test_overview_is_two_statements_and_the_bell_counts_right(client, session, login_as, make_enterprise,
                                                              statements):
    enterprise = make_enterprise()
    owner = enterprise.memberships[0].user
    _unread(session, owner, 3)
    login_as(owner)
    client.get(f"/enterprises/{enterprise.id}")  # the first request settles the session
    statements.clear()
    html = client.get(f"/enterprises/{enterprise.id}").get_data(as_text=True)
    assert 'aria-label="Notifications, 3 unread"' in html and '<span class="bell-count" aria-hidden="true">3</span>' in html
    page = _page_statements(statements)
    # The user with their contexts and the bell's count; the verification events with the member count and the
    # licence file.
    assert len(page) == 2, page
    assert "notifications" in page[0] and "memberships" in page[0]
    assert f'<div class="stat-value"><a href="/enterprises/{enterprise.id}/members">1</a></div>' in html
    assert enterprise.licence_file.original_name in html  # the licence file came with the events


def test_bell_caps_at_99_plus_with_the_user(client, session, login_as, make_enterprise):
    enterprise = make_enterprise()
    owner = enterprise.memberships[0].user
    _unread(session, owner, 120)
    login_as(owner)
    html = client.get(f"/enterprises/{enterprise.id}").get_data(as_text=True)
    assert 'aria-label="Notifications, 99+ unread"' in html and ">99+</span>" in html


def test_an_htmx_request_loads_the_user_without_the_bell(client, session, login_as, make_enterprise, statements):
    """An htmx request is for a fragment, which has no top bar: the user's statement leaves the count out (and a
    page that shows the bell all the same counts it on its own, right)."""
    enterprise = make_enterprise()
    owner = enterprise.memberships[0].user
    _unread(session, owner, 2)
    login_as(owner)
    client.get(f"/enterprises/{enterprise.id}")
    statements.clear()
    html = client.get(f"/enterprises/{enterprise.id}", headers={"HX-Request": "true"}).get_data(as_text=True)
    page = _page_statements(statements)
    assert "memberships" in page[0] and "notifications" not in page[0]
    assert 'aria-label="Notifications, 2 unread"' in html


def test_the_bell_counts_again_after_the_request_changes_notifications(app, session, make_user):
    user = make_user()
    _unread(session, user, 2)
    with app.test_request_context("/"):
        from flask_login import login_user

        login_user(user)
        assert unread_notifications() == 2
        remember_unread(2)
        assert remembered_unread() == 2
        mark_read(session, user)
        assert remembered_unread() is None  # forgotten: the next bell counts
        assert unread_notifications() == 0
        notify(session, [user], "job_closed", params={"title": "later"}, email=False)
        assert remembered_unread() is None
        assert unread_notifications() == 1
        forget_unread()
        assert g.get("_unread_notifications") is None


def test_a_count_from_an_earlier_request_is_not_shown(app):
    with app.test_request_context("/"):
        remember_unread(5)
    with app.test_request_context("/"):
        assert remembered_unread() is None


def test_a_changed_or_revoked_membership_shows_on_the_next_request(client, session, login_as, make_enterprise,
                                                                   make_member):
    enterprise = make_enterprise()
    member = make_member(enterprise, "owner")
    login_as(member)
    page = f"/enterprises/{enterprise.id}"
    html = client.get(page).get_data(as_text=True)
    assert f'href="/enterprises/{enterprise.id}/wallet"' in html and f'href="/enterprises/{enterprise.id}/edit"' in html
    session.execute(update(Membership).where(Membership.user_id == member.id).values(role="viewer"))
    session.flush()
    html = client.get(page).get_data(as_text=True)
    assert f'href="/enterprises/{enterprise.id}/wallet"' not in html
    assert f'href="/enterprises/{enterprise.id}/edit"' not in html
    session.execute(delete(Membership).where(Membership.user_id == member.id))
    session.flush()
    assert client.get(page).status_code == 403


def test_language_time_zone_csrf_and_headers_are_the_users(client, session, login_as, make_enterprise):
    enterprise = make_enterprise(state="verified")
    enterprise.verified_at = datetime(2026, 11, 20, 20, 30, tzinfo=UTC)
    owner = enterprise.memberships[0].user
    owner.locale, owner.timezone = "zh_CN", "America/New_York"
    session.flush()
    login_as(owner)
    response = client.get(f"/enterprises/{enterprise.id}")
    html = response.get_data(as_text=True)
    assert '<html lang="zh-CN">' in html and "概览" in html  # the navigation in the user's language
    assert "2026年11月20日 15:30:00" in html  # 20:30 UTC in New York, in Chinese
    tokens = set(re.findall(r'name="csrf_token" value="([^"]+)"', html))
    assert len(tokens) == 1  # one token for the page's forms (context switch, logout, language)
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["Cache-Control"] == "no-store"
    owner.locale, owner.timezone = "en", "Asia/Shanghai"
    session.flush()
    g.pop("_flask_babel", None)  # each request has its own app context, and so its own g (these tests share one)
    html = client.get(f"/enterprises/{enterprise.id}").get_data(as_text=True)
    assert '<html lang="en">' in html and "Nov 21, 2026, 4:30:00" in html  # the next request: the new settings


def test_a_changed_session_version_signs_the_user_out(client, session, login_as, make_enterprise):
    enterprise = make_enterprise()
    owner = enterprise.memberships[0].user
    login_as(owner)
    assert client.get(f"/enterprises/{enterprise.id}").status_code == 200
    owner.session_version += 1
    session.flush()
    response = client.get(f"/enterprises/{enterprise.id}")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_unread_rows_of_others_do_not_count(client, session, login_as, make_enterprise, make_user):
    enterprise = make_enterprise()
    owner = enterprise.memberships[0].user
    _unread(session, make_user(), 4)
    _unread(session, owner, 1)
    session.execute(update(Notification).where(Notification.user_id == owner.id).values(read_at=datetime.now(UTC)))
    _unread(session, owner, 1)
    login_as(owner)
    html = client.get(f"/enterprises/{enterprise.id}").get_data(as_text=True)
    assert 'aria-label="Notifications, 1 unread"' in html


def test_a_steady_page_read_neither_re_signs_the_session_nor_touches_the_rate_limiter(client, login_as, post_form,
                                                                                    make_enterprise):
    """Once the session has settled, a page read sends no Set-Cookie (nothing changed: the cookie is not signed
    again); and a page without a rate limit never reaches the limiter's storage (Redis in production)."""
    from marketplace.extensions import limiter

    enterprise = make_enterprise()
    login_as(enterprise.memberships[0].user)
    page = f"/enterprises/{enterprise.id}"
    client.get(page)
    assert limiter.enabled
    storage = limiter.storage
    calls: list[str] = []
    originals = {}
    for name in ("incr", "get", "get_expiry", "check", "clear", "acquire_entry", "get_moving_window",
                 "acquire_sliding_window_entry", "get_sliding_window"):
        if hasattr(storage, name):
            originals[name] = getattr(storage, name)
            setattr(storage, name, lambda *a, _name=name, **k: calls.append(_name) or originals[_name](*a, **k))
    try:
        response = client.get(page)
        assert calls == []
        post_form(page, url="/verify-email/resend")  # a rate-limited action does reach it
        assert calls
    finally:
        for name, original in originals.items():
            setattr(storage, name, original)
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers
