"""Read queries of order-taking's list pages: the brand's order board and the creator's order list.

They must cost the same with 1,000 or 1,000,000 orders in the table (design.md §9): each walks one index that
starts with the owner (``ix_orders_enterprise_id_state_updated_at`` / ``ix_orders_creator_id_state_updated_at``
and their state-less twins), newest activity first, and stops after a page; counts per column are capped
(``COUNT_CAP``: "1,000+"), so a huge account never counts all its rows.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, contains_eager

from marketplace.creators.models import Creator
from marketplace.enterprises.models import Enterprise
from marketplace.orders import states
from marketplace.orders.models import Order

COUNT_CAP = 1000
PER_PAGE = 20


@dataclass(frozen=True)
class OrderPage:
    orders: list[Order]
    page: int
    per_page: int
    has_next: bool

    @property
    def has_prev(self) -> bool:
        return self.page > 1


def _capped_count(session: Session, query) -> int:
    """min(count, COUNT_CAP + 1): the page says "1,000+" past the cap."""
    return session.scalar(select(func.count()).select_from(query.limit(COUNT_CAP + 1).subquery())) or 0


def column_counts(session: Session, owner_column, owner_id: int) -> dict[str, int]:
    """Orders per board column (capped), for the tabs."""
    counts = {}
    for column, column_states in states.BOARD_COLUMNS.items():
        query = select(Order.id).where(owner_column == owner_id, Order.state.in_(column_states))
        counts[column] = _capped_count(session, query)
    return counts


def _page(session: Session, query, page: int, per_page: int) -> OrderPage:
    page = max(1, page)
    rows = list(session.scalars(query.limit(per_page + 1).offset((page - 1) * per_page)).unique())
    return OrderPage(rows[:per_page], page, per_page, len(rows) > per_page)


def board_page(session: Session, enterprise_id: int, *, column: str = "active", campaign_id: int | None = None,
               q: str = "", page: int = 1, per_page: int = PER_PAGE) -> OrderPage:
    """A page of the enterprise's orders in one board column, newest activity first (with their creators)."""
    query = (select(Order).join(Order.creator).options(contains_eager(Order.creator))
             .where(Order.enterprise_id == enterprise_id))
    if column in states.BOARD_COLUMNS:
        query = query.where(Order.state.in_(states.BOARD_COLUMNS[column]))
    if campaign_id:
        query = query.where(Order.campaign_id == campaign_id)
    if q:
        like = f"%{q.strip()}%"
        query = query.where(or_(Order.title.ilike(like), Creator.display_name.ilike(like), Creator.handle.ilike(like)))
    return _page(session, query.order_by(Order.updated_at.desc(), Order.id.desc()), page, per_page)


def creator_orders_page(session: Session, creator_id: int, *, column: str = "active", q: str = "", page: int = 1,
                        per_page: int = PER_PAGE) -> OrderPage:
    """A page of the creator's orders in one column (offers, active, completed, ended), with their brands."""
    query = (select(Order).join(Order.enterprise).options(contains_eager(Order.enterprise))
             .where(Order.creator_id == creator_id))
    if column in states.BOARD_COLUMNS:
        query = query.where(Order.state.in_(states.BOARD_COLUMNS[column]))
    if q:
        like = f"%{q.strip()}%"
        query = query.where(or_(Order.title.ilike(like), Enterprise.display_name.ilike(like)))
    return _page(session, query.order_by(Order.updated_at.desc(), Order.id.desc()), page, per_page)
