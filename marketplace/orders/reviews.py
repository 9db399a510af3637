"""Reviews after completion: each side rates the other once (1–5 stars and a comment) within the window.

Reviews are double-blind: a review becomes visible when both sides have written theirs, or when the window
closes (the ``orders.review_window`` timer). The creator's average rating (shown on profiles and in search)
counts visible brand reviews only, and is recomputed whenever one becomes visible.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import partial

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from marketplace.creators.models import Creator
from marketplace.db import utcnow
from marketplace.errors import Conflict, InvalidTransition, ValidationFailed
from marketplace.orders import services
from marketplace.orders.models import Order, Review
from marketplace.orders.services import Actor

REVIEWABLE_STATES = frozenset({"completed", "closed"})


def write_review(session: Session, order: Order, actor: Actor, *, rating: int | None, comment: str = "",
                 now: datetime | None = None) -> Review:
    """Rate the other side of a completed order, once, within the window.

    :raises ValidationFailed: rating not 1–5. :raises Conflict: reviewed already.
    :raises InvalidTransition: not completed, or the window closed.
    """
    now = now or utcnow()
    order = services.lock_order(session, order.id)  # a side's two submissions at once: the second sees the first
    services.check_actor(session, order, actor)
    if actor.side not in ("brand", "creator"):
        raise InvalidTransition(_l("Only the brand and the creator review an order."))
    if order.state not in REVIEWABLE_STATES or order.review_until is None:
        raise InvalidTransition(_l("Reviews open when the order is completed."))
    if order.review_until <= now:
        raise InvalidTransition(_l("The review window closed on %(when)s.", when=order.review_until.date().isoformat()))
    if rating is None or not 1 <= rating <= 5:
        raise ValidationFailed(_l("Choose 1 to 5 stars."), field="rating")
    if session.scalar(select(Review.id).where(Review.order_id == order.id, Review.author_side == actor.side)):
        raise Conflict(_l("You already reviewed this order."))
    review = Review(order_id=order.id, creator_id=order.creator_id, enterprise_id=order.enterprise_id,
                    author_side=actor.side, author_id=actor.user_id, rating=rating, comment=(comment or "").strip(),
                    created_at=now)
    session.add(review)
    session.flush()
    services.record_event(session, order, "review", actor, from_state=order.state, to_state=order.state,
                          data={"rating": rating}, now=now)
    services.notify_side(session, order, services.other_side(actor.side), "review_received", now=now)
    if session.scalar(select(func.count()).select_from(Review).where(Review.order_id == order.id)) == 2:
        reveal(session, order)
    return review


def reveal(session: Session, order: Order) -> int:
    """Make the order's reviews visible and refresh the creator's rating; how many became visible."""
    changed = session.execute(update(Review).where(Review.order_id == order.id, Review.visible.is_(False))
                              .values(visible=True)).rowcount
    if changed:
        refresh_creator_rating(session, order.creator_id)
    return changed


def refresh_creator_rating(session: Session, creator_id: int) -> None:
    avg, count = session.execute(select(func.avg(Review.rating), func.count())
                                 .where(Review.creator_id == creator_id, Review.author_side == "brand",
                                        Review.visible.is_(True))).one()
    creator = session.get(Creator, creator_id)
    creator.rating_count = int(count or 0)
    creator.rating_avg_x100 = round(float(avg) * 100) if count else None
    session.flush()  # the search index follows the creator's rating columns (creators.search_index)


def _remind_unwritten(session: Session, now: datetime, order: Order, dedupe_key: str) -> int:
    """Remind each side of ``order`` that has not reviewed it that the window closes soon; how many were notified."""
    written = set(session.scalars(select(Review.author_side).where(Review.order_id == order.id)))
    return sum(services.notify_side(session, order, side, "review_window_closing", now=now, dedupe_key=dedupe_key)
               for side in ("brand", "creator") if side not in written)


def close_review_windows(session: Session, now: datetime) -> int:
    """Timer: reveal the reviews of orders whose window closed; remind one day before. Safe to run twice; how many
    reviews became visible.

    Walked like the deadline timers (``timers._walk``: keyset on (review_until, id), ``BATCH`` orders a run, each
    locked and acted on in a savepoint of its own). Only the orders still holding a hidden review are selected
    (through the partial index on hidden reviews), so the revealed ones never take a run's batch again, and a
    window closed long ago (the timer stopped for a while) is revealed too: there is no look-back limit. The
    reminder goes to the sides that have not written, once per ``review_until`` (``timers.remind_before``, the
    order's ``review_reminded_for``).
    """
    from marketplace.orders.timers import _walk, remind_before  # the timers module imports this one

    revealed = 0

    def close(order_id: int) -> object:
        nonlocal revealed
        order = services.lock_order(session, order_id)  # a review written at the last moment is seen, or waits
        if order.review_until is None or order.review_until > now:
            return None
        changed = reveal(session, order)
        revealed += changed
        return changed

    # IN rather than EXISTS: SQLite then reads the few hidden reviews (their partial index) and looks their orders
    # up, instead of probing every order whose window ever closed.
    hidden = select(Review.order_id).where(~Review.visible)
    due = select(Order.review_until, Order.id).where(Order.id.in_(hidden), Order.review_until <= now)
    _walk(session, "orders.review_window", "order", due, Order.review_until, Order.id, close)
    remind_before(session, "orders.review_window", states=REVIEWABLE_STATES, deadline=Order.review_until,
                  reminded=Order.review_reminded_for, key="review-closing", now=now, ahead=now + timedelta(days=1),
                  notify=partial(_remind_unwritten, session, now))
    return revealed
