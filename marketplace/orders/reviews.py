"""Reviews after completion: each side rates the other once (1–5 stars and a comment) within the window.

Reviews are double-blind: a review becomes visible when both sides have written theirs, or when the window
closes (the ``orders.review_window`` timer). The creator's average rating (shown on profiles and in search)
counts visible brand reviews only, and is recomputed whenever one becomes visible.
"""

from __future__ import annotations

from datetime import datetime, timedelta

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


def close_review_windows(session: Session, now: datetime, limit: int = 200) -> int:
    """Timer: reveal the reviews of orders whose window closed; remind one day before. Safe to run twice."""
    from marketplace.orders.models import Order as O

    due = list(session.scalars(select(O).where(O.review_until.is_not(None), O.review_until <= now,
                                               O.review_until > now - timedelta(days=30))
                               .order_by(O.review_until).limit(limit)))
    revealed = sum(reveal(session, order) for order in due)
    soon = session.scalars(select(O).where(O.review_until > now, O.review_until <= now + timedelta(days=1),
                                           O.state.in_(REVIEWABLE_STATES)).limit(limit))
    for order in soon:
        written = set(session.scalars(select(Review.author_side).where(Review.order_id == order.id)))
        for side in ("brand", "creator"):
            if side not in written:
                services.notify_side(session, order, side, "review_window_closing", now=now,
                                     dedupe_key=f"review-closing:{order.id}")
    return revealed
