"""The notification inbox and the bell: each user sees only their own notifications, newest first, in their
time zone; opening one marks it read and follows its link (only a link on this site); the bell's count is one
query per request, for the signed-in user only."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from html import unescape

import pytest
from flask import render_template
from flask_login import login_user
from sqlalchemy import event, select

from marketplace.db import database
from marketplace.notifications.models import Notification
from marketplace.notifications.services import notify
from marketplace.notifications.views import init_notifications
from tests.conftest import csrf_from

WHEN = datetime(2026, 11, 20, 4, 0, tzinfo=UTC)  # noon in Shanghai, 11 PM the day before in New York


def text_of(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


@pytest.fixture
def bell(app):
    """The bell's template globals (``create_app`` registers them once the lead wires ``init_notifications``)."""
    init_notifications(app)
    return app


@pytest.fixture
def people(session, make_user):
    alice, bob = make_user(display_name="Alice"), make_user(display_name="Bob")
    bob.timezone = "America/New_York"
    notify(session, [alice], "job_approved", url="/notifications", params={"title": "Alice job 1"}, email=False,
           now=WHEN)
    notify(session, [alice], "offer_accepted", url="/orders/1", params={"creator": "Cleo", "title": "Alice order"},
           email=False, now=WHEN + timedelta(minutes=5))
    notify(session, [bob], "job_closed", url="/notifications", params={"title": "Bob secret job"}, email=False,
           now=WHEN)
    session.flush()
    return alice, bob


def _mine(session, user) -> list[Notification]:
    session.expire_all()
    return list(session.scalars(select(Notification).where(Notification.user_id == user.id)
                                .order_by(Notification.id)))


def test_inbox_shows_the_users_own_notifications_newest_first_in_their_zone(client, login_as, people):
    alice, bob = people
    login_as(alice)
    html = client.get("/notifications").get_data(as_text=True)
    text = text_of(html)
    assert "Cleo accepted your offer “Alice order”." in text  # the text filled from params
    assert "Your job “Alice job 1” is approved and open to creators." in text
    assert text.index("Alice order") < text.index("Alice job 1")  # newest first
    assert "Bob secret job" not in text
    assert "2 unread" in text and "Mark all read" in text
    assert html.count('class="notification is-unread"') == 2
    assert "12:00 PM" in text and "Nov 20, 2026" in text  # Asia/Shanghai, the default zone


def test_times_are_shown_in_the_readers_zone(client, login_as, people):
    # (A test of its own: Flask-Babel caches the zone on ``g``, which the tests' app context keeps across requests.)
    _, bob = people
    login_as(bob)
    text = text_of(client.get("/notifications").get_data(as_text=True))
    assert "Bob secret job" in text and "Alice" not in text
    assert "11:00 PM" in text and "Nov 19, 2026" in text  # America/New_York


def test_inbox_empty_state(client, login_as, make_user):
    login_as(make_user())
    text = text_of(client.get("/notifications").get_data(as_text=True))
    assert "No notifications yet" in text and "You are all caught up." in text and "Mark all read" not in text


def test_inbox_is_paginated(client, session, login_as, make_user):
    user = make_user()
    for i in range(35):
        notify(session, [user], "job_closed", params={"title": f"Job {i:02d}"}, email=False, now=WHEN)
    session.flush()
    login_as(user)
    first = text_of(client.get("/notifications").get_data(as_text=True))
    assert "Job 34" in first and "Job 04" not in first and "1–30 of 35" in first
    second = text_of(client.get("/notifications?page=2").get_data(as_text=True))
    assert "Job 04" in second and "Job 34" not in second


def test_opening_marks_read_and_follows_the_stored_link(client, session, login_as, people):
    alice, _ = people
    order_note = _mine(session, alice)[1]
    login_as(alice)
    response = client.get(f"/notifications/{order_note.id}")
    assert response.status_code == 302 and response.location == "/orders/1"
    assert _mine(session, alice)[1].read_at is not None
    assert _mine(session, alice)[0].read_at is None
    html = client.get("/notifications").get_data(as_text=True)
    assert html.count('class="notification is-unread"') == 1 and "1 unread" in text_of(html)


@pytest.mark.parametrize("url", ["https://evil.example/phish", "//evil.example/x", "javascript:alert(1)", ""])
def test_a_link_off_the_site_lands_in_the_inbox(client, session, login_as, make_user, url):
    user = make_user()
    notify(session, [user], "job_closed", url=url, params={"title": "T"}, email=False)
    session.flush()
    login_as(user)
    note = _mine(session, user)[0]
    response = client.get(f"/notifications/{note.id}")
    assert response.status_code == 302 and response.location == "/notifications"
    assert _mine(session, user)[0].read_at is not None


def test_another_users_notification_is_404_and_stays_unread(client, session, login_as, people):
    alice, bob = people
    bobs = _mine(session, bob)[0]
    login_as(alice)
    assert client.get(f"/notifications/{bobs.id}").status_code == 404
    assert client.get("/notifications/999999").status_code == 404
    assert _mine(session, bob)[0].read_at is None


def test_mark_all_read_touches_only_the_users_own(client, session, login_as, people):
    alice, bob = people
    login_as(alice)
    token = csrf_from(client.get("/notifications").get_data(as_text=True))
    response = client.post("/notifications/read", data={"csrf_token": token})
    assert response.status_code == 302 and response.location == "/notifications"
    assert all(n.read_at is not None for n in _mine(session, alice))
    assert all(n.read_at is None for n in _mine(session, bob))
    assert "You are all caught up." in text_of(client.get("/notifications").get_data(as_text=True))


def test_mark_all_read_needs_a_csrf_token(client, session, login_as, people):
    alice, _ = people
    login_as(alice)
    client.get("/notifications")
    assert client.post("/notifications/read", data={}).status_code == 400
    assert all(n.read_at is None for n in _mine(session, alice))


def test_inbox_needs_login(client):
    response = client.get("/notifications")
    assert response.status_code == 302 and "/login?next=" in response.location


# --- the bell -----------------------------------------------------------------------------------------------


def _render_bell(app, user) -> tuple[str, int]:
    """The bell as ``user`` sees it in one request, rendered twice; and how many SQL statements it took."""
    engine = database(app).engine
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        if "notifications" in statement:
            statements.append(statement)

    with app.test_request_context("/"):
        login_user(user)
        event.listen(engine, "before_cursor_execute", count)
        try:
            html = render_template("notifications/_bell.html") + render_template("notifications/_bell.html")
        finally:
            event.remove(engine, "before_cursor_execute", count)
    return html, len(statements)


def test_bell_counts_the_right_users_unread_with_one_query(bell, session, people):
    alice, bob = people
    html, queries = _render_bell(bell, alice)
    assert queries == 1  # memoised for the request
    assert 'aria-label="Notifications, 2 unread"' in html and 'href="/notifications"' in html
    assert '<span class="bell-count" aria-hidden="true">2</span>' in html
    html, _ = _render_bell(bell, bob)
    assert 'aria-label="Notifications, 1 unread"' in html


def test_bell_without_unread_has_no_badge_and_caps_large_counts(bell, session, make_user):
    quiet, busy = make_user(), make_user()
    html, _ = _render_bell(bell, quiet)
    assert 'aria-label="Notifications, 0 unread"' in html and "bell-count" not in html
    for i in range(120):
        notify(session, [busy], "job_closed", params={"title": f"J{i}"}, email=False)
    session.flush()
    html, _ = _render_bell(bell, busy)
    assert 'aria-label="Notifications, 99+ unread"' in html and ">99+</span>" in html


def test_bell_count_is_fresh_in_each_request(bell, client, session, login_as, people):
    """One app context around many requests (as in these tests) must not show an earlier request's count."""
    alice, _ = people
    first, _ = _render_bell(bell, alice)
    login_as(alice)
    token = csrf_from(client.get("/notifications").get_data(as_text=True))
    client.post("/notifications/read", data={"csrf_token": token})
    second, _ = _render_bell(bell, alice)
    assert "2 unread" in first and "0 unread" in second


def test_inbox_and_bell_need_no_inline_script_or_style(bell, client, login_as, people):
    from tests.integration.test_security import _check_no_inline

    alice, _ = people
    login_as(alice)
    _check_no_inline(client.get("/notifications"), "/notifications")
    html, _ = _render_bell(bell, alice)
    assert " style=" not in html and "<script" not in html


def test_decisions_in_notifications_read_in_the_readers_language(app, session):
    """A decision is stored as a code and shown translated when read (not frozen in the writer's language)."""
    from flask_babel import force_locale

    from marketplace.notifications.models import Notification
    from marketplace.notifications.services import notification_text

    note = Notification(user_id=1, kind="dispute_decided", params={"title": "春季测评", "decision": "split"})
    with app.test_request_context(), force_locale("en"):
        assert notification_text(note) == "The dispute on “春季测评” was decided: split."
    with app.test_request_context(), force_locale("zh_CN"):
        text = notification_text(note)
    assert "split" not in text and "春季测评" in text
