"""The order-taking timers: idempotent jobs in the job registry (``marketplace.jobs``).

Each walks the rows that are due by an index on (state, deadline), from the earliest, and acts on each one
guarded by the order's row lock and a re-check of the state: running a timer twice, or two runners at once,
acts once (the second finds the state changed; the money keys are per order anyway). ``now`` comes from the
runner, so tests drive them with a controllable clock.

- ``orders.expire_offers``: offers past 72 h → expired, escrow refunded;
- ``orders.auto_confirm``: published orders 7 days after publishing → completed, escrow released;
- ``orders.live_window``: completed orders whose live window passed → closed, retention released; and a
  check with the platform connector that works still in their window are live (removed → pro-rata refund);
- ``orders.close_jobs``: open jobs past their application deadline → closed;
- ``orders.review_window``: reviews revealed when the window closes (``reviews.close_review_windows``), and a
  reminder a day before to each side that has not written;
- ``orders.reminders``: a notification a day before each deadline (offer expiry, auto-confirm), once per
  deadline (``remind_before``: the order keeps the deadline it was reminded of).

One row's failure is that row's alone. A run is one transaction (the runner commits it), and each due row is
acted on in a savepoint of its own (``_isolated``): when acting on it raises (a domain error from a state
nobody expected, money that cannot move, a platform connector that fails, a lock timeout or another database
error), the savepoint rolls back what that row did (state change, event, ledger postings, notifications,
emails), the error is logged (logger ``canal.orders.timers``: the job, the order or job id, the traceback)
and the run goes on with the next rows; what the others did commits. Without that, one bad order (the first
due, so the first again on every run) rolled back every run, and every refund, payout and retention release
behind it stopped. The row lock an action takes (``services.lock_order``: ``SELECT … FOR UPDATE`` on
PostgreSQL) is the run's once its savepoint is released, so a second runner still waits for the commit and
then finds the state changed; a rolled-back savepoint lets its locks go. On SQLite a run holds the write lock
from its first statement, and savepoints work because Canal's connections emit ``BEGIN`` (``marketplace.db``).

A row that failed is retried on the next run (the failure may be transient: a connector timeout, a lock held
elsewhere), and it does not hold up the others, even when more rows fail than a run's ``BATCH``: the deadline
timers walk the due rows page by page in deadline order (keyset on (deadline, id)) until they have acted on
``BATCH`` rows or none are left, so each failing row costs a run an attempt and a logged error, never the rows
behind it. The live check, which goes by when each work was last asked about rather than by a deadline, notes
a failed check as asked (``live_checked_at``): the order goes to the back of the queue and is retried when its
turn comes round again, so failing works cannot take a run's whole ``limit`` every time. When the connection or
the run's transaction itself is lost, the run cannot go on: that error goes up to the runner
(``marketplace.jobs``), which rolls the run back, logs it and runs the job again on a later tick.

The reminders and the review window walk the same way, and select only the rows not yet dealt with (an order
not reminded of its deadline yet, an order with hidden reviews), so more due rows than a ``BATCH`` are all
reached in a few runs rather than the same first ``BATCH`` coming back every time.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection
from datetime import datetime, timedelta
from functools import partial

from flask import current_app
from sqlalchemy import Select, and_, or_, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from marketplace.orders import disputes, recruiting, reviews, services
from marketplace.orders.models import Job, LiveReport, Order

log = logging.getLogger("canal.orders.timers")

BATCH = 200  # rows a deadline timer acts on in one run (rows that fail, or that another runner did, do not count)
TRIES = 10  # a run tries at most TRIES × BATCH rows: when everything fails (the ledger or the database is broken),
# a run must not go through every due row, every 30 s

FAILED = object()  # what ``_isolated`` returns for a row whose action raised


def _isolated(session: Session, job: str, noun: str, row_id: int, act: Callable[[int], object]) -> object:
    """``act(row_id)`` in a savepoint of its own: what it returned, or ``FAILED`` when it raised (its changes
    rolled back, the error logged; the session goes on in the run's transaction).

    :raises Exception: the error, when it left nothing to go on with: the connection was lost, or the run's
        transaction can no longer be used.
    """
    try:
        with session.begin_nested():
            return act(row_id)
    except Exception as error:
        if not session.is_active or (isinstance(error, DBAPIError) and error.connection_invalidated):
            raise
        log.exception("%s: %s %s failed; its changes were rolled back and it is retried on the next run",
                      job, noun, row_id)
        # The rollback expires the objects the savepoint changed through the ORM, not the balances the ledger
        # set on account objects the session held (``ledger.services.post``): forget everything, read it again.
        session.expire_all()
        return FAILED


def _acted(result: object) -> bool:
    return result is not None and result is not FAILED and bool(result)


def _walk(session: Session, job: str, noun: str, due: Select, deadline, key, act: Callable[[int], object]) -> int:
    """Act on the rows ``due`` selects (its columns: ``deadline``, ``key``), earliest deadline first, each in
    isolation, until ``BATCH`` were acted on, ``TRIES × BATCH`` were tried, or none are left; how many were acted
    on.

    Page by page, each page starting after the last row of the one before (a row that failed is still due)."""
    done = tried = 0
    after: tuple | None = None
    while True:
        page = due if after is None else due.where(
            or_(deadline > after[0], and_(deadline == after[0], key > after[1])))
        rows = session.execute(page.order_by(deadline, key).limit(BATCH)).all()
        for _deadline, row_id in rows:
            if done >= BATCH or tried >= TRIES * BATCH:
                if tried >= TRIES * BATCH:
                    log.error("%s: %s rows tried, %s acted on; the rest waits for the next run", job, tried, done)
                return done
            tried += 1
            done += _acted(_isolated(session, job, noun, row_id, act))
        if len(rows) < BATCH:
            return done
        after = tuple(rows[-1])


def _due_orders(state: str, column, now: datetime) -> Select:
    """(deadline, id) of the orders in ``state`` whose ``column`` deadline passed."""
    return select(column, Order.id).where(Order.state == state, column.is_not(None), column <= now)


def _due(session: Session, state: str, column, now: datetime) -> list[int]:
    """The ids of the first ``BATCH`` due orders: what a run acts on when none fails."""
    return [order_id for _, order_id in session.execute(
        _due_orders(state, column, now).order_by(column, Order.id).limit(BATCH))]


def expire_offers(session: Session, now: datetime) -> int:
    """Expire offers nobody answered in time; refund their escrow."""
    return _walk(session, "orders.expire_offers", "order", _due_orders("offered", Order.offer_expires_at, now),
                 Order.offer_expires_at, Order.id,
                 lambda order_id: services.expire_offer(session, session.get(Order, order_id), now=now))


def auto_confirm_orders(session: Session, now: datetime) -> int:
    """Confirm published orders the brand did not confirm within the window; release their escrow."""
    return _walk(session, "orders.auto_confirm", "order", _due_orders("published", Order.auto_confirm_at, now),
                 Order.auto_confirm_at, Order.id,
                 lambda order_id: services.auto_confirm(session, session.get(Order, order_id), now=now))


def end_live_windows(session: Session, now: datetime) -> int:
    """Close completed orders whose live window passed (retention to the creator); an order with a removal
    report waiting for a reviewer waits for the decision."""
    pending = select(LiveReport.id).where(LiveReport.order_id == Order.id, LiveReport.state == "pending").exists()
    return _walk(session, "orders.live_window", "order", _due_orders("completed", Order.live_until, now).where(~pending),
                 Order.live_until, Order.id,
                 lambda order_id: services.close_live_window(session, session.get(Order, order_id), now=now))


def check_live_works(session: Session, now: datetime, limit: int = 100) -> int:
    """Ask the platform whether works still in their live window are live; a removed one closes pro rata.

    Checks the orders checked longest ago (never checked first) by ``live_checked_at``, ``limit`` per run; the
    check does not touch ``updated_at``, which orders the lists by real activity. A check that fails counts as
    asked: the order goes to the back of the queue (see the module's docstring)."""
    from marketplace.creators.stats import current_connector

    connector = current_connector()

    def check(order_id: int) -> object:
        order = services.lock_order(session, order_id)
        if order.state != "completed":
            return None
        work = connector.lookup_work(order.work_url, now=now)
        if work is not None and work.is_live:
            order.live_checked_at = now  # checked: go to the back of the queue
            return None
        return disputes.record_platform_removal(session, order, now=now)

    def note_asked(order_id: int) -> None:
        session.execute(update(Order).where(Order.id == order_id, Order.state == "completed")
                        .values(live_checked_at=now))

    removed = 0
    ids = list(session.scalars(select(Order.id).where(Order.state == "completed", Order.live_until > now,
                                                      Order.work_url != "")
                               .order_by(Order.live_checked_at.is_not(None), Order.live_checked_at, Order.id)
                               .limit(limit)))
    for order_id in ids:
        result = _isolated(session, "orders.live_window", "order", order_id, check)
        if result is FAILED:
            _isolated(session, "orders.live_window", "order", order_id, note_asked)
        removed += _acted(result)
    return removed


def live_window(session: Session, now: datetime) -> int:
    return end_live_windows(session, now) + check_live_works(session, now)


def close_due_jobs(session: Session, now: datetime) -> int:
    """Close open jobs whose application deadline passed."""

    def close(job_id: int) -> object:
        # Lock and re-read: another runner (or the last slot being filled) may have closed it meanwhile.
        job = recruiting._lock_job(session, job_id)
        if job.state != "open" or job.application_deadline > now:
            return None
        return recruiting.close_job(session, job, services.SYSTEM, note="The application deadline passed.", now=now)

    due = select(Job.application_deadline, Job.id).where(Job.state == "open", Job.application_deadline <= now)
    return _walk(session, "orders.close_jobs", "job", due, Job.application_deadline, Job.id, close)


def _dedupe_key(key: str, order_id: int, reminded_for: datetime | None, deadline: datetime) -> str:
    # An order's first reminder has the key reminders always had (an order reminded before the reminded-for
    # columns existed is not reminded twice); the reminder of a moved deadline adds the deadline.
    if reminded_for is None:
        return f"{key}:{order_id}"
    return f"{key}:{order_id}:{deadline:%Y%m%dT%H%M%S}"


def remind_before(session: Session, job: str, *, states: Collection[str], deadline, reminded, key: str,
                  now: datetime, ahead: datetime, notify: Callable[[Order, str], int]) -> int:
    """Remind the orders in ``states`` whose ``deadline`` falls in (``now``, ``ahead``] and which were not reminded
    of that deadline yet (``reminded``, the column holding the deadline last reminded of, differs from it):
    ``notify(order, dedupe_key)`` for each, in deadline order, ``BATCH`` orders a run; how many notifications it
    added.

    Each order is locked and checked again before it is reminded (two runners at once remind it once), and its
    ``reminded`` column is set to the deadline even when nobody could be notified (no active user, or the dedupe
    key found the notification already there): it is dealt with, and the next run does not pick it up again."""
    sent = 0

    def remind(order_id: int) -> object:
        nonlocal sent
        order = services.lock_order(session, order_id)
        due, reminded_for = getattr(order, deadline.key), getattr(order, reminded.key)
        if order.state not in states or due is None or not now < due <= ahead or reminded_for == due:
            return None  # another runner reminded it, or it moved on meanwhile
        added = notify(order, _dedupe_key(key, order.id, reminded_for, due))
        setattr(order, reminded.key, due)
        session.flush()  # before counting: a failure here is the row's (its savepoint rolls back)
        sent += added
        return True

    due = select(deadline, Order.id).where(Order.state.in_(tuple(states)), deadline > now, deadline <= ahead,
                                           reminded.is_distinct_from(deadline))
    _walk(session, job, "order", due, deadline, Order.id, remind)
    return sent


def _notify(session: Session, side: str, kind: str, now: datetime, order: Order, dedupe_key: str) -> int:
    return services.notify_side(session, order, side, kind, now=now, dedupe_key=dedupe_key)


def send_reminders(session: Session, now: datetime) -> int:
    """A notification one reminder period (``ORDER_REMINDER_HOURS``) before each deadline: to the creator before
    an offer expires, to the brand before a published order is confirmed automatically. How many notifications
    were added (0 when run again).

    Once per deadline, kept on the order: ``offer_reminded_for`` / ``confirm_reminded_for`` hold the deadline a
    reminder was sent for, and a run selects only the orders within the period whose column differs from their
    deadline (``remind_before``), paging through the period (keyset on (deadline, id)), so reminded orders do not
    take a run's ``BATCH`` again and the ones behind them are reminded in turn. A column on the order rather than
    a NOT EXISTS on the notifications: those are per user (the brand's side is several) and their unique
    (user_id, dedupe_key) index does not serve a lookup by the key alone, and a side with no active user gets no
    notification, so its order would be selected again on every run. A deadline that moves (no service moves one
    today; a revision pushing ``auto_confirm_at`` later would) is a new deadline: reminded once more, once, with
    the deadline in the notification's dedupe key.
    """
    ahead = now + timedelta(hours=current_app.config["ORDER_REMINDER_HOURS"])
    reminders = (("offered", Order.offer_expires_at, Order.offer_reminded_for, "creator", "offer_expiring",
                  "offer-expiring"),
                 ("published", Order.auto_confirm_at, Order.confirm_reminded_for, "brand", "confirm_reminder",
                  "confirm-reminder"))
    sent = 0
    for state, deadline, reminded, side, kind, key in reminders:
        sent += remind_before(session, "orders.reminders", states=(state,), deadline=deadline, reminded=reminded,
                              key=key, now=now, ahead=ahead, notify=partial(_notify, session, side, kind, now))
    return sent


def register(register_job) -> None:
    """Put the timers in the job registry (called by ``marketplace.jobs.register_builtin_jobs``)."""
    register_job("orders.expire_offers", every_seconds=30,
                 description="Expire unanswered direct offers and refund their escrow.")(expire_offers)
    register_job("orders.auto_confirm", every_seconds=60,
                 description="Confirm published orders after the confirmation window; release escrow.")(auto_confirm_orders)
    register_job("orders.live_window", every_seconds=300,
                 description="Release retention when live windows end; check works are still live.")(live_window)
    register_job("orders.close_jobs", every_seconds=60,
                 description="Close open jobs past their application deadline.")(close_due_jobs)
    register_job("orders.review_window", every_seconds=300,
                 description="Reveal reviews when the review window closes.")(reviews.close_review_windows)
    register_job("orders.reminders", every_seconds=300,
                 description="Remind of deadlines a day ahead (offer expiry, auto-confirm).")(send_reminders)
