"""The notification inbox (the bell in the top bar links here).

A user sees only their own notifications: another user's id answers 404, like one that does not exist.
Opening a notification marks it read and follows its stored link, only when that link is a path on this site
(``safe_next``); otherwise it lands back in the inbox.

The bell's count walks ``ix_notifications_user_id_read_at`` up to a cap (``BELL_CAP``) so a user with a mountain
of unread notifications costs the same as one with three; a page read gets it with the user (one round trip, see
``unread_notifications``), and it is memoised per request on ``flask.g``: ``init_notifications(app)`` registers
the ``unread_notifications()`` template global the bell uses.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from flask import (
    Blueprint,
    Flask,
    abort,
    flash,
    has_request_context,
    redirect,
    render_template,
    url_for,
)
from flask_babel import format_date, format_time, to_user_timezone
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from marketplace.db import get_session, utcnow
from marketplace.forms import ActionForm, safe_next
from marketplace.main.templating import paginate
from marketplace.notifications.models import Notification
from marketplace.notifications.services import (
    BELL_CAP,
    capped_unread_statement,
    mark_read,
    notification_text,
    remember_unread,
    remembered_unread,
)

bp = Blueprint("notifications", __name__)


# A glyph per family of notification kinds (the inbox's icon column); the text says what happened. Matched by
# prefix, first match wins; every kind in ``notifications.services.KINDS`` has one (a test checks it). Money: a
# top-up added to the wallet (⊕), a withdrawal paid out to the bank (↗), or its amount back in the wallet (↩).
KIND_ICONS = {"offer": "¥", "application": "✚", "job": "▤", "draft": "▣", "revision": "✎", "published": "▶",
              "confirm": "✓", "order": "◷", "cancel": "✕", "dispute": "⚖", "message": "✉", "removal": "⚠",
              "review": "★", "bank_top_up": "⊕", "card_top_up": "⊕", "withdrawal_paid": "↗",
              "withdrawal_rejected": "↩", "withdrawal_cancelled": "↩"}


def kind_icon(kind: str) -> str:
    for prefix, icon in KIND_ICONS.items():
        if kind.startswith(prefix):
            return icon
    return "•"


def unread_notifications() -> int:
    """The signed-in user's unread count for the bell, capped at ``BELL_CAP``; at most one query per request.

    A page read (GET) usually has it already: the user loader reads it with the user and their contexts, in the
    same round trip (``authz.load_user_with_contexts``). Otherwise one statement counts it here. Either way it is
    remembered for the request, and forgotten when the request marks notifications read or adds some.
    """
    if not has_request_context() or not getattr(current_user, "is_authenticated", False):
        return 0
    count = remembered_unread()
    if count is None:
        count = get_session().scalar(capped_unread_statement(), {"user_id": current_user.id}) or 0
        remember_unread(count)
    return count


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
