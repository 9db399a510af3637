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

The board and the creator's order list read everything they show in one statement (``list_page``): the columns'
counts, the page's orders with what their rows show of the other party, and each order's unread messages for the
reader — plain rows, no ORM objects (one round trip instead of three, and no identity map for twenty rows).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

from sqlalchemy import (
    JSON,
    Integer,
    bindparam,
    func,
    literal_column,
    or_,
    select,
    true,
    type_coerce,
    union_all,
)
from sqlalchemy.engine import Row
from sqlalchemy.orm import Session, contains_eager

from marketplace.creators.models import Creator
from marketplace.enterprises.models import Enterprise
from marketplace.orders import states
from marketplace.orders.models import Campaign, Message, Order, ThreadRead

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


def _constant(code: str):
    """A state (or thread type) written into the statement, not bound: fewer parameters to process on every run,
    and PostgreSQL's generic plan for the prepared statement knows each branch's state."""
    if not code.replace("_", "").isalnum():
        raise ValueError(f"not a code: {code!r}")
    return literal_column(f"'{code}'")


def _cached(key: tuple, build):
    statement = _STATEMENTS.get(key)
    if statement is None:
        statement = _STATEMENTS[key] = build()
    return statement


def _counts_select(owner_column):
    owner, cap = bindparam("owner_id"), bindparam("cap", type_=Integer)

    def entries(column_states):
        branches = [select(literal_column("1")).where(owner_column == owner, Order.state == _constant(state))
                    for state in column_states]
        return (branches[0] if len(branches) == 1 else union_all(*branches)).limit(cap).subquery()

    return select(*[select(func.count()).select_from(entries(column_states)).scalar_subquery().label(column)
                    for column, column_states in states.BOARD_COLUMNS.items()])


def _counts_statement(owner_column):
    return _cached(("counts", owner_column.key), lambda: _counts_select(owner_column))


def _page_ids(owner_column, party, column: str, campaign: bool, search: bool):
    """The ids (and ``updated_at``) of a page of the owner's ``column``, newest activity first: a subquery.

    Parameters: ``owner_id``, ``limit``, ``offset``, ``branch_limit`` (= limit + offset), and ``campaign_id`` /
    ``like`` when filtered. Each state of the column is one branch walking its index from the newest row; with a
    campaign, the campaign's index ``(campaign_id, state, updated_at, id)``, which holds the campaign's orders only
    (SQLite's statistics cannot tell a campaign from its brand and would walk the brand's column filtering it: the
    owner's condition is written ``owner + 0`` so that no index answers it)."""
    owner = bindparam("owner_id")
    limit, offset = bindparam("limit", type_=Integer), bindparam("offset", type_=Integer)

    def branch(*where):
        if campaign:  # the campaign's index; the owner (``+ 0``: not an index term) only checks
            query = select(Order.id, Order.updated_at).where(
                Order.campaign_id == bindparam("campaign_id"), *where, (owner_column + 0) == owner)
        else:
            query = select(Order.id, Order.updated_at).where(owner_column == owner, *where)
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
        return branch().limit(limit).offset(offset).subquery("ids")
    if len(column_states) == 1:
        return branch(Order.state == _constant(column_states[0])).limit(limit).offset(offset).subquery("ids")
    branch_limit = bindparam("branch_limit", type_=Integer)
    merged = union_all(*[select(branch(Order.state == _constant(state)).limit(branch_limit).subquery())
                         for state in column_states]).subquery()
    return (select(merged.c.id, merged.c.updated_at).order_by(merged.c.updated_at.desc(), merged.c.id.desc())
            .limit(limit).offset(offset).subquery("ids"))


def _page_statement(owner_column, party, column: str, campaign: bool, search: bool):
    """The orders of a page of the owner's ``column`` with their ``party``, newest activity first (ORM objects)."""
    def build():
        ids = _page_ids(owner_column, party, column, campaign, search)
        relationship = Order.creator if party is Creator else Order.enterprise
        return (select(Order).join(ids, ids.c.id == Order.id).join(relationship)
                .options(contains_eager(relationship).load_only(*PARTY_COLUMNS[party]))
                .order_by(Order.updated_at.desc(), Order.id.desc()))

    if column not in states.BOARD_COLUMNS:
        column = "all"
    return _cached(("page", owner_column.key, party.__name__, column, campaign, search), build)


def _params(owner_id: int, page: int, per_page: int, campaign_id: int | None, q: str) -> dict:
    offset = (page - 1) * per_page
    params = {"owner_id": owner_id, "limit": per_page + 1, "offset": offset, "branch_limit": per_page + 1 + offset}
    if campaign_id:
        params["campaign_id"] = campaign_id
    if q:
        params["like"] = f"%{q}%"
    return params


def _page(session: Session, owner_column, owner_id: int, party, column: str, page: int, per_page: int, *,
          campaign_id: int | None = None, q: str = "") -> OrderPage:
    page = max(1, page)
    q = q.strip()
    statement = _page_statement(owner_column, party, column, bool(campaign_id), bool(q))
    rows = list(session.scalars(statement, _params(owner_id, page, per_page, campaign_id, q)))
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


# --- the list pages in one statement ----------------------------------------------------------------------------

# What a row of the board (brand side: the creator) and of the creator's list (the brand) shows.
ROW_COLUMNS = (Order.id, Order.title, Order.state, Order.content_type, Order.currency, Order.price, Order.commission,
               Order.campaign_id, Order.offer_expires_at, Order.auto_confirm_at, Order.publish_until,
               Order.live_until)
PARTY_ROW_COLUMNS = {
    Creator: (Creator.id.label("party_id"), Creator.display_name.label("party_name"),
              Creator.handle.label("party_handle"), Creator.avatar_file_id.label("party_avatar_file_id")),
    Enterprise: (Enterprise.id.label("party_id"), Enterprise.display_name.label("party_name")),
}


class CampaignChoice(NamedTuple):
    id: int
    name: str


@dataclass(frozen=True)
class ListPage:
    """A page of a list: its rows (``ROW_COLUMNS``, the party's ``party_*`` columns and ``unread``: the reader's
    unread messages on the order), the columns' capped counts, whether there is a next page, and (the board) the
    brand's campaigns as ``recruiting.campaigns_of`` lists them, for the campaign filter."""

    rows: list[Row]
    counts: dict[str, int]
    page: int
    per_page: int
    has_next: bool
    campaigns: list[CampaignChoice] = field(default_factory=list)

    @property
    def has_prev(self) -> bool:
        return self.page > 1


def _campaigns_column(dialect: str):
    """The enterprise's campaigns that are not archived, newest first (``campaigns_of``), as one JSON array of
    ``[id, name]`` (``[]`` or NULL when there are none)."""
    owner = bindparam("owner_id")
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import aggregate_order_by

        aggregate = (select(func.json_agg(aggregate_order_by(func.json_build_array(Campaign.id, Campaign.name),
                                                             Campaign.created_at.desc(), Campaign.id.desc())))
                     .where(Campaign.enterprise_id == owner, Campaign.archived.is_(False)))
    else:
        newest = (select(Campaign.id, Campaign.name)
                  .where(Campaign.enterprise_id == owner, Campaign.archived.is_(False))
                  .order_by(Campaign.created_at.desc(), Campaign.id.desc()).subquery())
        aggregate = select(func.json_group_array(func.json_array(newest.c.id, newest.c.name))).select_from(newest)
    return type_coerce(aggregate.scalar_subquery(), JSON).label("campaigns")


def _list_statement(owner_column, party, column: str, campaign: bool, search: bool, campaigns_for: str = ""):
    """Counts, page rows and unread counts together: ``counts LEFT JOIN page ON true`` (the counts come on every
    row, and alone — with NULL order columns — on an empty page). Extra parameter: ``reader_id``. With
    ``campaigns_for`` (a dialect's name), the owner's campaigns too (``_campaigns_column``)."""
    def build():
        ids = _page_ids(owner_column, party, column, campaign, search)
        reader = bindparam("reader_id")
        mark = (select(ThreadRead.last_read_id)
                .where(ThreadRead.user_id == reader, ThreadRead.thread_type == _constant("order"),
                       ThreadRead.thread_id == Order.id)
                .correlate(Order).scalar_subquery())
        unread = (select(func.count()).select_from(Message)  # as messaging.unread_counts, per order
                  .where(Message.thread_type == _constant("order"), Message.thread_id == Order.id,
                         (Message.sender_id.is_(None)) | (Message.sender_id != reader),
                         Message.id > func.coalesce(mark, literal_column("0")))
                  .correlate(Order).scalar_subquery())
        party_key = Order.creator_id if party is Creator else Order.enterprise_id
        page = (select(*ROW_COLUMNS, Order.updated_at, *PARTY_ROW_COLUMNS[party], unread.label("unread"))
                .select_from(ids.join(Order, Order.id == ids.c.id).join(party, party.id == party_key))
                .subquery("page"))
        counts = _counts_select(owner_column)
        if campaigns_for:
            counts = counts.add_columns(_campaigns_column(campaigns_for))
        counts = counts.subquery("counts")
        return (select(*counts.c, *[c for c in page.c if c.key != "updated_at"])
                .select_from(counts.outerjoin(page, true()))
                .order_by(page.c.updated_at.desc(), page.c.id.desc()))

    return _cached(("list", owner_column.key, party.__name__, column, campaign, search, campaigns_for), build)


def _list_page(session: Session, owner_column, owner_id: int, party, reader_id: int, column: str, page: int,
               per_page: int, *, campaign_id: int | None = None, q: str = "", campaigns: bool = False) -> ListPage:
    if column not in states.BOARD_COLUMNS:
        raise ValueError(f"no list column {column!r}")
    page, q = max(1, page), q.strip()
    params = _params(owner_id, page, per_page, campaign_id, q)
    params.update(reader_id=reader_id, cap=COUNT_CAP + 1)
    dialect = session.get_bind().dialect.name if campaigns else ""
    statement = _list_statement(owner_column, party, column, bool(campaign_id), bool(q), dialect)
    # Core execution on the session's connection: the statement selects columns, no ORM entities to load, and the
    # ORM's execution path costs 0.08-0.15 ms more (measured on the board's statement). What it would do first:
    # flush pending changes.
    if session.autoflush:
        session.flush()
    rows = session.connection().execute(statement, params).all()
    first = rows[0]
    counts = {name: int(first[i] or 0) for i, name in enumerate(states.BOARD_COLUMNS)}
    choices = [CampaignChoice(int(c[0]), c[1]) for c in first.campaigns or ()] if campaigns else []
    if first.id is None:  # an empty page: the counts alone
        rows = []
    return ListPage(rows[:per_page], counts, page, per_page, len(rows) > per_page, choices)


def board_list(session: Session, enterprise_id: int, reader_id: int, *, column: str = "active",
               campaign_id: int | None = None, q: str = "", page: int = 1, per_page: int = PER_PAGE) -> ListPage:
    """The board's page: a column of the enterprise's orders with their creators, newest activity first, the
    columns' counts, the reader's unread messages per order and the enterprise's campaigns.

    ``campaign_id`` filters by one of those campaigns; any other (archived, another brand's) is ignored, as if not
    given (read again without it: a request with a stale or forged id pays a second statement)."""
    result = _list_page(session, Order.enterprise_id, enterprise_id, Creator, reader_id, column, page, per_page,
                        campaign_id=campaign_id, q=q, campaigns=True)
    if campaign_id and campaign_id not in {c.id for c in result.campaigns}:
        result = _list_page(session, Order.enterprise_id, enterprise_id, Creator, reader_id, column, page,
                            per_page, q=q, campaigns=True)
    return result


def creator_list(session: Session, creator_id: int, reader_id: int, *, column: str = "active", q: str = "",
                 page: int = 1, per_page: int = PER_PAGE) -> ListPage:
    """The creator's order list: a column of their orders with their brands, the counts and unread messages."""
    return _list_page(session, Order.creator_id, creator_id, Enterprise, reader_id, column, page, per_page, q=q)
