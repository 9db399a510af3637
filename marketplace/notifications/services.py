"""Notify users of what happened: an in-app notification per recipient, and an email for the important kinds.

``notify`` adds rows to the session (the caller's transaction commits them with the event that caused them);
emails go through the outbox (``mail.services.queue_email``), so nothing leaves before the commit. A
``dedupe_key`` makes a notification once-only per user (timers' reminders run every few seconds), also when
two runners send it at the same moment (the unique constraint decides; the loser skips it).

Texts live in ``KINDS``: one lazy message per kind, filled with the notification's ``params`` when shown, in
the reader's language.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from functools import cache

from flask import g, has_request_context, request
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, bindparam, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from marketplace.accounts.models import User
from marketplace.db import utcnow
from marketplace.notifications.models import Notification

# kind -> (message with %(params)s, send an email too?)
KINDS = {
    "offer_received": (_l("%(brand)s sent you an offer: “%(title)s” for %(price)s."), True),
    "offer_accepted": (_l("%(creator)s accepted your offer “%(title)s”."), False),
    "offer_declined": (_l("%(creator)s declined your offer “%(title)s”. The escrow was refunded."), False),
    "offer_expired": (_l("The offer “%(title)s” expired. The escrow was refunded."), False),
    "offer_withdrawn": (_l("%(brand)s withdrew the offer “%(title)s”."), False),
    "offer_expiring": (_l("The offer “%(title)s” expires in less than a day."), False),
    "application_received": (_l("%(creator)s applied to your job “%(title)s”."), False),
    "application_accepted": (_l("%(brand)s accepted your application to “%(title)s”. The order is funded: you can start."), True),
    "application_rejected": (_l("Your application to “%(title)s” was not selected."), False),
    "job_approved": (_l("Your job “%(title)s” is approved and open to creators."), False),
    "job_rejected": (_l("Your job “%(title)s” was not approved: %(reason)s"), True),
    "job_closed": (_l("Your job “%(title)s” is closed."), False),
    "draft_submitted": (_l("%(creator)s submitted a draft for “%(title)s”."), True),
    "revision_requested": (_l("%(brand)s asked for a revision of “%(title)s”."), True),
    "draft_approved": (_l("%(brand)s approved your draft for “%(title)s”. You can publish it."), False),
    "published": (_l("%(creator)s published “%(title)s”. Confirm it, or it is confirmed automatically on %(date)s."), False),
    "confirm_reminder": (_l("“%(title)s” will be confirmed automatically in less than a day."), False),
    "confirmed": (_l("“%(title)s” is confirmed: %(amount)s is on its way to your earnings."), True),
    "order_closed": (_l("The live window of “%(title)s” ended; the retention was settled."), False),
    "cancel_requested": (_l("The other side proposed to cancel “%(title)s”."), False),
    "cancelled": (_l("The order “%(title)s” was cancelled; the escrow was refunded to the brand."), False),
    "dispute_opened": (_l("A dispute was opened on “%(title)s”. The order is frozen until a reviewer decides."), True),
    "dispute_decided": (_l("The dispute on “%(title)s” was decided: %(decision)s."), True),
    "message": (_l("New message on “%(title)s” from %(sender)s."), False),
    "removal_reported": (_l("The brand reported that the work for “%(title)s” is no longer live."), False),
    "removal_decided": (_l("The report that the work for “%(title)s” was removed was %(decision)s."), False),
    "review_received": (_l("You received a review for “%(title)s”."), False),
    "review_window_closing": (_l("You can review “%(title)s” for one more day."), False),
    # Money (marketplace.payments), to the members who see the wallet; amounts stored formatted in the reader's locale.
    "bank_top_up_credited": (_l("The bank transfer %(reference)s arrived: %(amount)s was added to the wallet of "
                                "%(enterprise)s."), True),
    "bank_top_up_credited_other_amount": (_l("The bank transfer %(reference)s arrived: %(amount)s, the amount the "
                                             "bank received, was added to the wallet of %(enterprise)s (the request "
                                             "was for %(requested)s)."), True),
    "card_top_up_credited": (_l("A top-up of %(amount)s paid online was added to the wallet of %(enterprise)s."),
                             False),
    "withdrawal_paid": (_l("Withdrawal %(code)s of %(amount)s from %(enterprise)s was paid to the bank account "
                           "(bank reference %(bank_reference)s)."), True),
    "withdrawal_rejected": (_l("Withdrawal %(code)s of %(amount)s from %(enterprise)s was rejected and the amount "
                               "is back in the wallet. Reason: %(reason)s"), True),
    "withdrawal_cancelled": (_l("%(member)s cancelled withdrawal %(code)s of %(amount)s from %(enterprise)s; the "
                                "amount is back in the wallet."), False),
}


# Params stored as codes and shown in the reader's language (a notification is read long after it is written).
PARAM_LABELS = {
    "decision": {
        "refund": _l("full refund to the brand"),
        "release": _l("full payment to the creator"),
        "split": _l("split"),
        "upheld": _l("upheld"),
        "dismissed": _l("dismissed"),
    },
}


def notification_text(notification: Notification) -> str:
    """The notification's sentence in the current language."""
    message, _email = KINDS.get(notification.kind, (_l("Something happened."), False))
    params = {k: PARAM_LABELS[k].get(v, v) if k in PARAM_LABELS and isinstance(v, str) else v
              for k, v in (notification.params or {}).items()}
    try:
        return str(message) % {k: str(v) for k, v in params.items()}
    except (KeyError, TypeError, ValueError):
        return str(message).split("%(")[0].strip() or notification.kind


def notify(session: Session, users: Iterable[User], kind: str, *, url: str = "", params: dict | None = None,
           dedupe_key: str | None = None, email: bool | None = None, now: datetime | None = None) -> int:
    """Notify each user (once per ``dedupe_key``); queue an email for important kinds. How many were added."""
    from marketplace.mail.services import queue_email

    message, important = KINDS[kind]
    send_email = important if email is None else email
    added = 0
    for user in {u.id: u for u in users if u is not None and u.is_active}.values():
        if dedupe_key and session.scalar(select(Notification.id).where(
                Notification.user_id == user.id, Notification.dedupe_key == dedupe_key)) is not None:
            continue
        notification = Notification(user_id=user.id, kind=kind, params=dict(params or {}), url=url,
                                    dedupe_key=dedupe_key, created_at=now or utcnow())
        if dedupe_key:
            # Two runners of the same timer may both find no row: the unique (user, dedupe_key) lets one insert
            # win; the other's savepoint rolls back and its transaction goes on.
            session.flush()  # the caller's pending rows first, outside the savepoint
            try:
                with session.begin_nested():
                    session.add(notification)
            except IntegrityError:
                continue
        else:
            session.add(notification)
        added += 1
        if send_email:
            with force_locale(user.locale or "en"):
                text = notification_text(notification)
            queue_email(session, to=user.email, kind="notification", subject=text[:150], locale=user.locale or "en",
                        user=user, text=text, url=url)
    if added:
        session.flush()
        forget_unread()
    return added


# --- the bell: the unread count, capped ------------------------------------------------------------------------

BELL_CAP = 100  # the bell shows "99+" from here on
_BELL_G_KEY = "_unread_notifications"


def capped_unread(user_id) -> Select:
    """``SELECT count(*)`` of the user's unread notifications, at most ``BELL_CAP`` (``user_id``: a value, column or
    bind parameter): one walk of ``ix_notifications_user_id_read_at`` that stops at the cap, so a user with a
    mountain of unread notifications costs the same as one with three."""
    unread = (select(Notification.id).where(Notification.user_id == user_id, Notification.read_at.is_(None))
              .limit(BELL_CAP).subquery())
    return select(func.count()).select_from(unread)


@cache
def capped_unread_statement() -> Select:
    """``capped_unread`` for a ``user_id`` bind parameter, built once (building it cost more than running it)."""
    return capped_unread(bindparam("user_id"))


def remembered_unread() -> int | None:
    """The bell's count already read in this request (``remember_unread``), else None."""
    memo = g.get(_BELL_G_KEY) if has_request_context() else None
    # Tests (and the CLI) keep one app context, and so one ``g``, around many requests: a count from an earlier
    # request must not be shown in a later one.
    if memo is None or memo[0] is not request._get_current_object():
        return None
    return memo[1]


def remember_unread(count: int) -> None:
    """Keep the bell's count for the rest of this request (read with the user, or by the bell itself)."""
    if has_request_context():
        setattr(g, _BELL_G_KEY, (request._get_current_object(), count))


def forget_unread() -> None:
    """This request changed the user's notifications: the bell counts again when it is shown."""
    if has_request_context():
        g.pop(_BELL_G_KEY, None)


def unread_count(session: Session, user: User) -> int:
    return session.scalar(select(func.count()).select_from(Notification)
                          .where(Notification.user_id == user.id, Notification.read_at.is_(None))) or 0


def mark_read(session: Session, user: User, notification_id: int | None = None, now: datetime | None = None) -> int:
    """Mark one notification (or all of the user's) read; how many changed."""
    query = update(Notification).where(Notification.user_id == user.id, Notification.read_at.is_(None))
    if notification_id is not None:
        query = query.where(Notification.id == notification_id)
    forget_unread()
    return session.execute(query.values(read_at=now or utcnow())).rowcount
