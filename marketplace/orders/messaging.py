"""Messages on an order's thread (and on an application's), with unread counts.

Who may post and read: the order's creator, the members of its enterprise (every role reads; owners and
managers write), and reviewers (read, and write on a disputed order). A message is text and/or one
attachment (checked and stored by the view). Reading a thread moves the reader's ``ThreadRead`` mark.
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from marketplace.accounts.models import User
from marketplace.db import database, utcnow
from marketplace.errors import InvalidTransition, ValidationFailed
from marketplace.notifications.services import notify
from marketplace.orders import services
from marketplace.orders.models import Application, Message, Order, ThreadRead
from marketplace.orders.services import Actor
from marketplace.urls import path_for

MAX_MESSAGE_LENGTH = 4000


def thread_of(obj: Order | Application) -> tuple[str, int]:
    return ("order", obj.id) if isinstance(obj, Order) else ("application", obj.id)


def post_message(session: Session, obj: Order | Application, actor: Actor, *, body: str, file=None,
                 now: datetime | None = None) -> Message:
    """Post a message (text and/or an attachment) and notify the other side.

    :raises ValidationFailed: empty or too long. :raises NotAllowed: not a party to the thread.
    """
    now = now or utcnow()
    body = (body or "").strip()
    if not body and file is None:
        raise ValidationFailed(_l("Write a message or attach a file."), field="body")
    if len(body) > MAX_MESSAGE_LENGTH:
        raise ValidationFailed(_l("At most %(n)s characters.", n=MAX_MESSAGE_LENGTH), field="body")
    order = obj if isinstance(obj, Order) else None
    if order is not None:
        services.check_actor(session, order, actor)
        if actor.side == "staff" and order.state != "disputed":
            raise InvalidTransition(_l("Reviewers write on an order only during a dispute."))
    else:
        _check_application_party(session, obj, actor)
    thread_type, thread_id = thread_of(obj)
    message = Message(thread_type=thread_type, thread_id=thread_id, sender_id=actor.user_id, sender_side=actor.side,
                      body=body, file_id=file.id if file is not None else None, created_at=now)
    session.add(message)
    session.flush()
    mark_thread_read(session, actor.user, thread_type, thread_id, message.id)
    sender = actor.user.display_name if actor.user else "Canal"
    if order is not None:
        order.updated_at = now
        sides = ("brand", "creator") if actor.side == "staff" else (services.other_side(actor.side),)
        for side in sides:
            services.notify_side(session, order, side, "message", now=now, sender=sender,
                                 dedupe_key=f"message:order:{order.id}:{message.id}")
    else:
        application = obj
        recipients = (services.brand_users(session, application.job.enterprise_id) if actor.side == "creator"
                      else [application.creator.user])
        url = (path_for("jobs.application", application_id=application.id))
        notify(session, recipients, "message", url=url, params={"title": application.job.title, "sender": sender},
               now=now)
    return message


def _check_application_party(session: Session, application: Application, actor: Actor) -> None:
    from marketplace.errors import NotAllowed

    if actor.side == "creator" and application.creator.user_id == (actor.user_id or -1):
        return
    if actor.side == "brand" and services.brand_role(session, actor.user, application.job.enterprise_id) in \
            services.BRAND_ACTING_ROLES:
        return
    raise NotAllowed(_l("This is not your conversation."))


def messages(session: Session, thread_type: str, thread_id: int, limit: int = 200) -> list[Message]:
    rows = session.scalars(select(Message).where(Message.thread_type == thread_type, Message.thread_id == thread_id)
                           .order_by(Message.id.desc()).limit(limit))
    return list(reversed(list(rows)))


def mark_thread_read(session: Session, user: User | None, thread_type: str, thread_id: int,
                     up_to: int | None = None) -> None:
    """Move the user's read mark to ``up_to`` (default: the newest message); it never moves back."""
    if user is None:
        return
    if up_to is None:
        up_to = session.scalar(select(func.max(Message.id)).where(Message.thread_type == thread_type,
                                                                  Message.thread_id == thread_id)) or 0
    if session.get(ThreadRead, (user.id, thread_type, thread_id)) is None:
        session.flush()  # the caller's pending rows first, outside the savepoint
        try:
            with session.begin_nested():
                session.add(ThreadRead(user_id=user.id, thread_type=thread_type, thread_id=thread_id,
                                       last_read_id=up_to))
            return
        except IntegrityError:
            pass  # the user's other request (a double click) made the mark meanwhile: move it forward below
    # One UPDATE that only moves the mark forward (two requests at once never move it back).
    session.execute(update(ThreadRead).where(ThreadRead.user_id == user.id, ThreadRead.thread_type == thread_type,
                                             ThreadRead.thread_id == thread_id, ThreadRead.last_read_id < up_to)
                    .values(last_read_id=up_to))


def mark_read_in_own_transaction(reads: Session, user: User, thread_type: str, thread_id: int,
                                 up_to: int | None = None) -> None:
    """A page (GET) that shows a thread moves the reader's mark in a short write transaction of its own: a GET
    reads in a read session (on SQLite a read transaction must not turn into a write; on PostgreSQL it runs in
    autocommit). ``reads`` is the page's session: nothing is written when the mark is already there."""
    if up_to is None:
        up_to = reads.scalar(select(func.max(Message.id)).where(Message.thread_type == thread_type,
                                                                Message.thread_id == thread_id)) or 0
    mark = reads.get(ThreadRead, (user.id, thread_type, thread_id))
    if mark is not None and mark.last_read_id >= up_to:
        return
    reads.commit()  # end the read transaction first (nothing to write in it)
    writer = database().write_session_factory()
    try:
        mark_thread_read(writer, user, thread_type, thread_id, up_to)
        writer.commit()
    finally:
        writer.close()


def _unread_statement():
    user, thread_type = bindparam("user_id"), bindparam("thread_type")
    mark = (select(ThreadRead.last_read_id).where(ThreadRead.user_id == user, ThreadRead.thread_type == thread_type,
                                                  ThreadRead.thread_id == Message.thread_id)
            .scalar_subquery())
    return (select(Message.thread_id, func.count())
            .where(Message.thread_type == thread_type, Message.thread_id.in_(bindparam("thread_ids", expanding=True)),
                   (Message.sender_id.is_(None)) | (Message.sender_id != user),
                   Message.id > func.coalesce(mark, 0))
            .group_by(Message.thread_id))


# Built once (building it and its cache key cost more than the database's answer); run with parameters.
UNREAD_STATEMENT = _unread_statement()


def unread_counts(session: Session, user: User, thread_type: str, thread_ids: list[int]) -> dict[int, int]:
    """Unread messages per thread for ``user`` (messages they did not send, after their read mark)."""
    if not thread_ids:
        return {}
    rows = session.execute(UNREAD_STATEMENT, {"user_id": user.id, "thread_type": thread_type,
                                              "thread_ids": list(thread_ids)}).all()
    return {thread_id: count for thread_id, count in rows}
