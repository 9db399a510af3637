"""The notification inbox (the bell in the top bar links here).

A user sees only their own notifications: another user's id answers 404, like one that does not exist.
Opening a notification marks it read and follows its stored link, only when that link is a path on this site
(``safe_next``); otherwise it lands back in the inbox.

The bell's count is one query on ``ix_notifications_user_id_read_at``, capped (``BELL_CAP``) so a user with a
mountain of unread notifications costs the same as one with three, and memoised per request on ``flask.g``:
``init_notifications(app)`` registers the ``unread_notifications()`` template global the bell uses.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from flask import (
    Blueprint,
    Flask,
    abort,
    flash,
    g,
    has_request_context,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import format_date, format_time, to_user_timezone
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import func, select

from marketplace.db import get_session, utcnow
from marketplace.forms import ActionForm, safe_next
from marketplace.main.templating import paginate
from marketplace.notifications.models import Notification
from marketplace.notifications.services import mark_read, notification_text

bp = Blueprint("notifications", __name__)

BELL_CAP = 100  # the bell shows "99+" from here on
_G_KEY = "_unread_notifications"

# A glyph per family of notification kinds (the inbox's icon column); the text says what happened.
KIND_ICONS = {"offer": "¥", "application": "✚", "job": "▤", "draft": "▣", "revision": "✎", "published": "▶",
              "confirm": "✓", "order": "◷", "cancel": "✕", "dispute": "⚖", "message": "✉", "removal": "⚠",
              "review": "★"}


def kind_icon(kind: str) -> str:
    for prefix, icon in KIND_ICONS.items():
        if kind.startswith(prefix):
            return icon
    return "•"


def unread_notifications() -> int:
    """The signed-in user's unread count for the bell, capped at ``BELL_CAP``; one query per request.

    Memoised on ``g`` with the request it was counted for: tests (and the CLI) keep one app context, and so one
    ``g``, around many requests, and a count from an earlier request must not be shown in a later one.
    """
    if not has_request_context() or not getattr(current_user, "is_authenticated", False):
        return 0
    this_request = request._get_current_object()
    memo = g.get(_G_KEY)
    if memo is None or memo[0] is not this_request:
        unread = (select(Notification.id)
                  .where(Notification.user_id == current_user.id, Notification.read_at.is_(None))
                  .limit(BELL_CAP).subquery())
        memo = (this_request, get_session().scalar(select(func.count()).select_from(unread)) or 0)
        setattr(g, _G_KEY, memo)
    return memo[1]


def init_notifications(app: Flask) -> None:
    """Register the bell's template globals (``templates/notifications/_bell.html`` uses them)."""
    app.jinja_env.globals.update(unread_notifications=unread_notifications, NOTIFICATIONS_BELL_CAP=BELL_CAP)


@dataclass(frozen=True)
class InboxRow:
    notification: Notification
    text: str  # in the reader's language
    time: str  # in the reader's zone
    day: str | None  # a heading before the first notification of each day


def _inbox_rows(notifications: list[Notification]) -> list[InboxRow]:
    today = to_user_timezone(utcnow()).date()
    named = {today: _("Today"), today - timedelta(days=1): _("Yesterday")}
    rows, previous = [], None
    for n in notifications:
        day = to_user_timezone(n.created_at).date()
        heading = (named.get(day) or format_date(day, "medium")) if day != previous else None
        rows.append(InboxRow(n, notification_text(n), format_time(n.created_at, "short"), heading))
        previous = day
    return rows


@bp.get("/notifications")
@login_required
def inbox():
    db = get_session()
    page = paginate(db, select(Notification).where(Notification.user_id == current_user.id)
                    .order_by(Notification.id.desc()), per_page=30)
    return render_template("notifications/inbox.html", page=page, rows=_inbox_rows(page.items), icon=kind_icon,
                           unread=unread_notifications(), bell_cap=BELL_CAP, action_form=ActionForm())


@bp.get("/notifications/<int:notification_id>", endpoint="open")
@login_required
def open_notification(notification_id: int):
    db = get_session(write=True)  # opening marks it read
    notification = db.get(Notification, notification_id)
    if notification is None or notification.user_id != current_user.id:
        abort(404)  # another user's notification is as absent as one that does not exist
    if notification.read_at is None:
        mark_read(db, current_user, notification.id)
        db.commit()
    return redirect(safe_next(notification.url) or url_for("notifications.inbox"))


@bp.post("/notifications/read")
@login_required
def read_all():
    if not ActionForm().validate_on_submit():
        abort(400)
    db = get_session()
    changed = mark_read(db, current_user)
    db.commit()
    if changed:
        flash(_("All your notifications are marked read."), "success")
    return redirect(url_for("notifications.inbox"))
