"""Read queries of order-taking's list pages: the brand's order board and the creator's order list.

They must cost the same with 1,000 or 1,000,000 orders in the table, and with a page of an account holding 50
orders or 50,000 (design.md §9). Each reads a bounded slice of the index that starts with the owner and the state
(``ix_orders_enterprise_id_state_updated_at`` / ``ix_orders_creator_id_state_updated_at``):

- a page of a column is the newest ``offset + per_page + 1`` entries of *each* of the column's states, each walked
  backwards on the index (one ``UNION ALL`` branch per state; PostgreSQL merges them in order), cut to the page;
  the page's orders and their creator or brand are then fetched by primary key in the same statement. With a
  plain ``state IN (...) ORDER BY updated_at`` neither database can walk the index in order across the states:
  they either sort the whole column (31,000 rows for a big brand's "completed") or walk the owner's state-less
  index filtering every row by state, which is quick while the column's rows are the newest ones and reads the
  owner's whole history when they are not (a brand's few active orders among 50,000 old ones) — and the plan
  PostgreSQL caches for a prepared statement takes the second for every account;
- counts per column are capped (``COUNT_CAP``: "1,000+"), all in one statement: a column's states' index entries
  are read one state after the other (one branch each) until the cap, at most ``COUNT_CAP + 1`` entries.

Statements are built once per shape and run with parameters, and the party shown beside each order is loaded with
the columns the list pages show (``PARTY_COLUMNS``) only: building a five-branch statement and reading a creator's
JSON statistics for twenty rows cost more Python time than the database takes to answer.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Integer, bindparam, func, literal, or_, select, union_all
from sqlalchemy.orm import Session, contains_eager

from marketplace.creators.models import Creator
from marketplace.enterprises.models import Enterprise
from marketplace.orders import states
from marketplace.orders.models import Order

COUNT_CAP = 1000
PER_PAGE = 20

# What the list pages show of the other party (anything else would be loaded row by row on access).
PARTY_COLUMNS = {
    Creator: (Creator.id, Creator.user_id, Creator.display_name, Creator.handle, Creator.avatar_file_id,
              Creator.listed),
    Enterprise: (Enterprise.id, Enterprise.display_name, Enterprise.verification_state),
}


@dataclass(frozen=True)
class OrderPage:
    orders: list[Order]
    page: int
    per_page: int
    has_next: bool

    @property
    def has_prev(self) -> bool:
        return self.page > 1


def column_counts(session: Session, owner_column, owner_id: int) -> dict[str, int]:
    """Orders per board column, capped at ``COUNT_CAP + 1`` (the page says "1,000+"), in one statement.

    A column counts the ``UNION ALL`` of its states' index entries, each branch ``state = :s`` (an index condition),
    and stops at the cap: at most ``COUNT_CAP + 1`` entries per column. A ``state IN (...)`` would do the same in
    a one-off plan, but PostgreSQL's generic plan for the prepared statement walks all the owner's entries
    filtering them instead (38,000 instead of 1,000 for a big brand's "active" column: 20 ms)."""
    row = session.execute(_counts_statement(owner_column), {"owner_id": owner_id, "cap": COUNT_CAP + 1}).one()
    return {column: int(row[i] or 0) for i, column in enumerate(states.BOARD_COLUMNS)}


_STATEMENTS: dict[tuple, object] = {}


def _cached(key: tuple, build):
    statement = _STATEMENTS.get(key)
    if statement is None:
        statement = _STATEMENTS[key] = build()
    return statement


def _counts_statement(owner_column):
    def build():
        owner, cap = bindparam("owner_id"), bindparam("cap", type_=Integer)

        def entries(column_states):
            branches = [select(literal(1)).where(owner_column == owner, Order.state == state)
                        for state in column_states]
            return (branches[0] if len(branches) == 1 else union_all(*branches)).limit(cap).subquery()

        return select(*[select(func.count()).select_from(entries(column_states)).scalar_subquery().label(column)
                        for column, column_states in states.BOARD_COLUMNS.items()])
    return _cached(("counts", owner_column.key), build)


def _page_statement(owner_column, party, column: str, campaign: bool, search: bool):
    """The orders of a page of the owner's ``column`` with their ``party``, newest activity first.

    Parameters: ``owner_id``, ``limit``, ``offset``, ``branch_limit`` (= limit + offset), and ``campaign_id`` /
    ``like`` when filtered. Each state of the column is one branch walking its index from the newest row."""
    def build():
        owner = bindparam("owner_id")
        limit, offset = bindparam("limit", type_=Integer), bindparam("offset", type_=Integer)

        def branch(*where):
            query = select(Order.id, Order.updated_at).where(owner_column == owner, *where)
            if campaign:
                query = query.where(Order.campaign_id == bindparam("campaign_id"))
            if search:
                like = bindparam("like")
                if party is Creator:
                    query = query.join(Creator, Creator.id == Order.creator_id).where(or_(
                        Order.title.ilike(like), Creator.display_name.ilike(like), Creator.handle.ilike(like)))
                else:
                    query = query.join(Enterprise, Enterprise.id == Order.enterprise_id).where(or_(
                        Order.title.ilike(like), Enterprise.display_name.ilike(like)))
            return query.order_by(Order.updated_at.desc(), Order.id.desc())

        column_states = states.BOARD_COLUMNS.get(column)
        if column_states is None:  # every state: the state-less index
            ids = branch().limit(limit).offset(offset).subquery()
        elif len(column_states) == 1:
            ids = branch(Order.state == column_states[0]).limit(limit).offset(offset).subquery()
        else:
            branch_limit = bindparam("branch_limit", type_=Integer)
            merged = union_all(*[select(branch(Order.state == state).limit(branch_limit).subquery())
                                 for state in column_states]).subquery()
            ids = (select(merged.c.id).order_by(merged.c.updated_at.desc(), merged.c.id.desc())
                   .limit(limit).offset(offset).subquery())
        relationship = Order.creator if party is Creator else Order.enterprise
        return (select(Order).join(ids, ids.c.id == Order.id).join(relationship)
                .options(contains_eager(relationship).load_only(*PARTY_COLUMNS[party]))
                .order_by(Order.updated_at.desc(), Order.id.desc()))

    if column not in states.BOARD_COLUMNS:
        column = "all"
    return _cached(("page", owner_column.key, party.__name__, column, campaign, search), build)


def _page(session: Session, owner_column, owner_id: int, party, column: str, page: int, per_page: int, *,
          campaign_id: int | None = None, q: str = "") -> OrderPage:
    page = max(1, page)
    q = q.strip()
    statement = _page_statement(owner_column, party, column, bool(campaign_id), bool(q))
    offset = (page - 1) * per_page
    params = {"owner_id": owner_id, "limit": per_page + 1, "offset": offset, "branch_limit": per_page + 1 + offset}
    if campaign_id:
        params["campaign_id"] = campaign_id
    if q:
        params["like"] = f"%{q}%"
    rows = list(session.scalars(statement, params))
    return OrderPage(rows[:per_page], page, per_page, len(rows) > per_page)


def board_page(session: Session, enterprise_id: int, *, column: str = "active", campaign_id: int | None = None,
               q: str = "", page: int = 1, per_page: int = PER_PAGE) -> OrderPage:
    """A page of the enterprise's orders in one board column, newest activity first (with their creators)."""
    return _page(session, Order.enterprise_id, enterprise_id, Creator, column, page, per_page,
                 campaign_id=campaign_id, q=q)


def creator_orders_page(session: Session, creator_id: int, *, column: str = "active", q: str = "", page: int = 1,
                        per_page: int = PER_PAGE) -> OrderPage:
    """A page of the creator's orders in one column (offers, active, completed, ended), with their brands."""
    return _page(session, Order.creator_id, creator_id, Enterprise, column, page, per_page, q=q)
