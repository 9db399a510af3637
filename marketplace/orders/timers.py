"""The order-taking timers: idempotent jobs in the job registry (``marketplace.jobs``).

Each walks the rows that are due by an index on (state, deadline), from the earliest, and acts on each one in
its own savepoint-free step guarded by the order's row lock and a re-check of the state: running a timer twice,
or two runners at once, acts once (the second finds the state changed; the money keys are per order anyway).
``now`` comes from the runner, so tests drive them with a controllable clock.

- ``orders.expire_offers``: offers past 72 h → expired, escrow refunded;
- ``orders.auto_confirm``: published orders 7 days after publishing → completed, escrow released;
- ``orders.live_window``: completed orders whose live window passed → closed, retention released; and a
  check with the platform connector that works still in their window are live (removed → pro-rata refund);
- ``orders.close_jobs``: open jobs past their application deadline → closed;
- ``orders.review_window``: reviews revealed when the window closes;
- ``orders.reminders``: a notification a day before each deadline (offer expiry, auto-confirm).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.orders import disputes, recruiting, reviews, services
from marketplace.orders.models import Job, LiveReport, Order

BATCH = 200


def _due(session: Session, state: str, column, now: datetime, limit: int = BATCH) -> list[int]:
    return list(session.scalars(select(Order.id).where(Order.state == state, column.is_not(None), column <= now)
                                .order_by(column, Order.id).limit(limit)))


def expire_offers(session: Session, now: datetime) -> int:
    """Expire offers nobody answered in time; refund their escrow."""
    done = 0
    for order_id in _due(session, "offered", Order.offer_expires_at, now):
        if services.expire_offer(session, session.get(Order, order_id), now=now) is not None:
            done += 1
    return done


def auto_confirm_orders(session: Session, now: datetime) -> int:
    """Confirm published orders the brand did not confirm within the window; release their escrow."""
    done = 0
    for order_id in _due(session, "published", Order.auto_confirm_at, now):
        if services.auto_confirm(session, session.get(Order, order_id), now=now) is not None:
            done += 1
    return done


def end_live_windows(session: Session, now: datetime) -> int:
    """Close completed orders whose live window passed (retention to the creator); an order with a removal
    report waiting for a reviewer waits for the decision."""
    pending = select(LiveReport.id).where(LiveReport.order_id == Order.id, LiveReport.state == "pending").exists()
    ids = list(session.scalars(select(Order.id).where(Order.state == "completed", Order.live_until.is_not(None),
                                                      Order.live_until <= now, ~pending)
                               .order_by(Order.live_until, Order.id).limit(BATCH)))
    done = 0
    for order_id in ids:
        if services.close_live_window(session, session.get(Order, order_id), now=now) is not None:
            done += 1
    return done


def check_live_works(session: Session, now: datetime, limit: int = 100) -> int:
    """Ask the platform whether works still in their live window are live; a removed one closes pro rata.

    Checks the orders checked longest ago (never checked first) by ``live_checked_at``, ``limit`` per run; the
    check does not touch ``updated_at``, which orders the lists by real activity."""
    from marketplace.creators.stats import current_connector

    connector = current_connector()
    removed = 0
    ids = list(session.scalars(select(Order.id).where(Order.state == "completed", Order.live_until > now,
                                                      Order.work_url != "")
                               .order_by(Order.live_checked_at.is_not(None), Order.live_checked_at, Order.id)
                               .limit(limit)))
    for order_id in ids:
        order = services.lock_order(session, order_id)
        if order.state != "completed":
            continue
        work = connector.lookup_work(order.work_url, now=now)
        if work is not None and work.is_live:
            order.live_checked_at = now  # checked: go to the back of the queue
            continue
        if disputes.record_platform_removal(session, order, now=now) is not None:
            removed += 1
    session.flush()
    return removed


def live_window(session: Session, now: datetime) -> int:
    return end_live_windows(session, now) + check_live_works(session, now)


def close_due_jobs(session: Session, now: datetime) -> int:
    """Close open jobs whose application deadline passed."""
    done = 0
    ids = list(session.scalars(select(Job.id).where(Job.state == "open", Job.application_deadline <= now)
                               .order_by(Job.application_deadline).limit(BATCH)))
    for job_id in ids:
        # Lock and re-read: another runner (or the last slot being filled) may have closed it meanwhile.
        job = recruiting._lock_job(session, job_id)
        if job.state == "open" and job.application_deadline <= now:
            recruiting.close_job(session, job, services.SYSTEM, note="The application deadline passed.", now=now)
            done += 1
    return done


def send_reminders(session: Session, now: datetime) -> int:
    """A notification one reminder period before each deadline (once: deduplicated per order and deadline);
    how many notifications were added (0 when run again)."""
    ahead = now + timedelta(hours=current_app.config["ORDER_REMINDER_HOURS"])
    sent = 0
    for order in session.scalars(select(Order).where(Order.state == "offered", Order.offer_expires_at > now,
                                                     Order.offer_expires_at <= ahead).limit(BATCH)):
        sent += services.notify_side(session, order, "creator", "offer_expiring", now=now,
                                     dedupe_key=f"offer-expiring:{order.id}")
    for order in session.scalars(select(Order).where(Order.state == "published", Order.auto_confirm_at > now,
                                                     Order.auto_confirm_at <= ahead).limit(BATCH)):
        sent += services.notify_side(session, order, "brand", "confirm_reminder", now=now,
                                     dedupe_key=f"confirm-reminder:{order.id}")
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
