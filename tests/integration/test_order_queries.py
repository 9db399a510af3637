"""The order list queries on generated data (the benchmark's generator at a tiny scale): every column and page
equals the obvious query, counts are exact below the cap and capped above it, and the rows the generator writes
pass the database's constraints (PostgreSQL checks them on COPY)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from bench.orders_data import BIG_BRAND, BIG_CREATOR, Population, generate_orders, generate_people
from marketplace.accounts.models import User
from marketplace.db import database
from marketplace.enterprises.models import Enterprise
from marketplace.orders import queries, recruiting, states
from marketplace.orders.models import Order
from tests.conftest import build_app, create_test_database

SMALL = Population(enterprises=12, creators=40, big_brand_orders=400, big_creator_orders=60)
TOTAL = 900


@pytest.fixture(scope="module")
def generated(tmp_root):
    root = tmp_root / "order_queries"
    root.mkdir(exist_ok=True)
    url = create_test_database(tmp_root, "order_queries")
    app = build_app(url, root)
    with app.app_context():
        from marketplace.accounts.services import create_user
        from marketplace.enterprises import services
        from marketplace.seed import make_uscc

        session = database(app).write_session_factory()
        owner = create_user(session, email="q-brand@example.com", password="violet harbour compass 9182",
                            display_name="Q", signup_kind="brand", verified=True)
        services.create_enterprise(session, owner, services.EnterpriseDetails(
            legal_name="查询品牌有限公司", display_name="Q Brand", uscc=make_uscc("91310115MA1K4QRY1"),
            contact_name="Q", contact_phone="+86 21 5555 0000", contact_email="q-brand@example.com",
            invoice_title="", tax_number=""))
        session.commit()
        session.close()
    quiet = lambda line: None  # noqa: E731
    generate_people(url, SMALL, log=quiet)
    generate_orders(url, 1, 500, SMALL, log=quiet)
    generate_orders(url, 501, TOTAL - 500, SMALL, log=quiet)  # grown in two steps, as the benchmark does
    yield app
    database(app).engine.dispose()


@pytest.fixture
def db(generated):
    with generated.app_context():
        session = database(generated).session_factory()
        yield session
        session.close()


def naive(db, owner_column, owner_id, column):
    query = select(Order.id).where(owner_column == owner_id)
    if column in states.BOARD_COLUMNS:
        query = query.where(Order.state.in_(states.BOARD_COLUMNS[column]))
    return list(db.scalars(query.order_by(Order.updated_at.desc(), Order.id.desc())))


def test_generated_population(db):
    assert db.scalar(select(func.count()).select_from(Order)) == TOTAL
    assert db.scalar(select(func.count()).where(Order.enterprise_id == BIG_BRAND)) == SMALL.big_brand_orders
    assert db.scalar(select(func.count()).where(Order.creator_id == BIG_CREATOR)) == SMALL.big_creator_orders
    assert set(db.scalars(select(Order.state).where(Order.enterprise_id == BIG_BRAND))) >= {
        "offered", "in_progress", "draft_submitted", "completed", "closed", "declined", "expired"}
    bad_money = db.scalar(select(func.count()).where(Order.paid_to_creator + Order.refunded_to_brand
                                                     > Order.price + Order.service_fee))
    assert bad_money == 0
    assert db.scalar(select(func.count()).where(Order.updated_at < Order.created_at)) == 0


@pytest.mark.parametrize("column", [*states.BOARD_COLUMNS, "all"])
def test_board_pages_walk_the_column_newest_first(db, column):
    expected = naive(db, Order.enterprise_id, BIG_BRAND, column)
    seen, page = [], 1
    while True:
        result = queries.board_page(db, BIG_BRAND, column=column, page=page, per_page=7)
        seen += [o.id for o in result.orders]
        assert all(o.creator.display_name for o in result.orders)
        if not result.has_next:
            break
        page += 1
    assert seen == expected


@pytest.mark.parametrize("column", ["offers", "active", "completed", "ended"])
def test_creator_pages_walk_the_column_newest_first(db, column):
    expected = naive(db, Order.creator_id, BIG_CREATOR, column)
    result = queries.creator_orders_page(db, BIG_CREATOR, column=column, per_page=500)
    assert [o.id for o in result.orders] == expected and not result.has_next
    assert all(o.enterprise.display_name for o in result.orders)
    second = queries.creator_orders_page(db, BIG_CREATOR, column=column, page=2, per_page=3)
    assert [o.id for o in second.orders] == expected[3:6]


def test_board_search_and_campaign_filters(db):
    some = db.scalar(select(Order).where(Order.enterprise_id == BIG_BRAND, Order.state == "closed").limit(1))
    word = some.title.split(" #")[0]
    result = queries.board_page(db, BIG_BRAND, column="completed", q=word, per_page=500)
    expected = [o for o in naive(db, Order.enterprise_id, BIG_BRAND, "completed")
                if word in db.get(Order, o).title]
    assert [o.id for o in result.orders] == expected
    assert queries.board_page(db, BIG_BRAND, column="completed", campaign_id=999_999).orders == []
    handle = some.creator.handle
    found = queries.board_page(db, BIG_BRAND, column="completed", q=handle, per_page=500).orders
    assert some.id in [o.id for o in found]


def test_column_counts_are_exact_below_the_cap_and_capped_above(db, monkeypatch):
    for owner_column, owner_id in ((Order.enterprise_id, BIG_BRAND), (Order.creator_id, BIG_CREATOR)):
        exact = {column: len(naive(db, owner_column, owner_id, column)) for column in states.BOARD_COLUMNS}
        assert queries.column_counts(db, owner_column, owner_id) == exact
    monkeypatch.setattr(queries, "COUNT_CAP", 50)
    capped = queries.column_counts(db, Order.enterprise_id, BIG_BRAND)
    exact = {column: len(naive(db, Order.enterprise_id, BIG_BRAND, column)) for column in states.BOARD_COLUMNS}
    assert capped == {column: min(n, 51) for column, n in exact.items()}
    assert capped["completed"] == 51


# --- the list pages' one statement (board_list / creator_list) ------------------------------------------------------


def _page_of(db, owner_column, owner_id, column, **filters):
    if owner_column is Order.enterprise_id:
        return queries.board_page(db, owner_id, column=column, **filters)
    return queries.creator_orders_page(db, owner_id, column=column, **filters)


@pytest.mark.parametrize("side", ["brand", "creator"])
@pytest.mark.parametrize("column", list(states.BOARD_COLUMNS))
def test_list_pages_hold_the_pages_orders_their_party_and_the_counts(db, side, column):
    owner_column, owner_id = (Order.enterprise_id, BIG_BRAND) if side == "brand" else (Order.creator_id, BIG_CREATOR)
    listing = queries.board_list if side == "brand" else queries.creator_list
    counts = queries.column_counts(db, owner_column, owner_id)
    for page in (1, 2, 40):
        expected = _page_of(db, owner_column, owner_id, column, page=page, per_page=7)
        got = listing(db, owner_id, reader_id=-1, column=column, page=page, per_page=7)
        assert [r.id for r in got.rows] == [o.id for o in expected.orders]
        assert (got.has_next, got.has_prev, got.page) == (expected.has_next, expected.has_prev, page)
        assert got.counts == counts  # on an empty page too
        for row, order in zip(got.rows, expected.orders, strict=True):
            party = order.creator if side == "brand" else order.enterprise
            assert (row.party_id, row.party_name) == (party.id, party.display_name)
            assert (row.title, row.state, row.price, row.commission, row.campaign_id, row.publish_until) == (
                order.title, order.state, order.price, order.commission, order.campaign_id, order.publish_until)
            assert row.offer_expires_at == order.offer_expires_at and row.live_until == order.live_until
            assert row.unread == 0
            if side == "brand":
                assert (row.party_handle, row.party_avatar_file_id) == (party.handle, party.avatar_file_id)


def test_list_pages_count_the_readers_unread_messages_as_messaging_does(db):
    from marketplace.orders import messaging
    from marketplace.orders.models import Message, ThreadRead

    brand_owner = db.scalar(select(User).where(User.email == "q-brand@example.com"))
    orders = queries.board_page(db, BIG_BRAND, column="active", per_page=5).orders
    first, second, third = orders[0].id, orders[1].id, orders[2].id
    try:
        for thread_id, sender in ((first, None), (first, 10_000_001), (first, brand_owner.id), (second, 10_000_001),
                                  (second, 10_000_001), (third, 10_000_001)):
            db.add(Message(thread_type="order", thread_id=thread_id, sender_id=sender, sender_side="creator",
                           body="hello"))
            db.add(Message(thread_type="application", thread_id=thread_id, sender_id=None, sender_side="system",
                           body="not an order's"))
        db.flush()
        mark = db.scalar(select(func.min(Message.id)).where(Message.thread_id == second,
                                                            Message.thread_type == "order"))
        db.add(ThreadRead(user_id=brand_owner.id, thread_type="order", thread_id=second, last_read_id=mark))
        db.flush()
        page = queries.board_list(db, BIG_BRAND, brand_owner.id, column="active", per_page=5)
        unread = {row.id: row.unread for row in page.rows}
        expected = messaging.unread_counts(db, brand_owner, "order", [row.id for row in page.rows])
        assert {k: v for k, v in unread.items() if v} == expected == {first: 2, second: 1, third: 1}
    finally:
        db.rollback()


def test_the_campaign_filter_walks_the_campaigns_orders_only(db):
    from marketplace.orders.models import Campaign

    try:
        campaign = Campaign(enterprise_id=BIG_BRAND, name="Q campaign")
        other = Campaign(enterprise_id=BIG_BRAND, name="Other")
        db.add_all([campaign, other])
        db.flush()
        ids = list(db.scalars(select(Order.id).where(Order.enterprise_id == BIG_BRAND).order_by(Order.id)))
        db.execute(Order.__table__.update().where(Order.id.in_(ids[::3])).values(campaign_id=campaign.id))
        db.execute(Order.__table__.update().where(Order.id.in_(ids[1::3])).values(campaign_id=other.id))
        for column in states.BOARD_COLUMNS:
            expected = [o for o in naive(db, Order.enterprise_id, BIG_BRAND, column) if o in set(ids[::3])]
            got = queries.board_list(db, BIG_BRAND, -1, column=column, campaign_id=campaign.id, per_page=500)
            assert [r.id for r in got.rows] == expected
            assert all(r.campaign_id == campaign.id for r in got.rows)
            second = queries.board_list(db, BIG_BRAND, -1, column=column, campaign_id=campaign.id, page=2,
                                        per_page=4)
            assert [r.id for r in second.rows] == expected[4:8]
        # the brand's campaigns come with the page, as campaigns_of lists them (archived ones left out)
        archived = Campaign(enterprise_id=BIG_BRAND, name="Old", archived=True)
        db.add(archived)
        db.flush()
        page = queries.board_list(db, BIG_BRAND, -1, column="active")
        assert page.campaigns == [(c.id, c.name) for c in recruiting.campaigns_of(db, BIG_BRAND)]
        assert {c.name for c in page.campaigns} == {"Q campaign", "Other"}
        # another brand's campaign, or an archived one, is ignored: the unfiltered page
        for brand, foreign in ((2, campaign.id), (BIG_BRAND, archived.id)):
            unfiltered = queries.board_list(db, brand, -1, column="completed")
            ignored = queries.board_list(db, brand, -1, column="completed", campaign_id=foreign)
            assert [r.id for r in ignored.rows] == [r.id for r in unfiltered.rows] != []
        assert queries.board_list(db, 2, -1, column="completed").campaigns == []
    finally:
        db.rollback()


def test_the_list_pages_keyword_search_matches_the_order_pages(db):
    some = db.scalar(select(Order).where(Order.enterprise_id == BIG_BRAND, Order.state == "closed").limit(1))
    word = some.title.split(" #")[0]
    for q in (word, some.creator.handle):
        got = queries.board_list(db, BIG_BRAND, -1, column="completed", q=q, per_page=500)
        assert [r.id for r in got.rows] == [o.id for o in queries.board_page(db, BIG_BRAND, column="completed", q=q,
                                                                              per_page=500).orders]
    brand_name = db.get(Enterprise, 2).display_name
    got = queries.creator_list(db, BIG_CREATOR, -1, column="ended", q=brand_name, per_page=500)
    assert [r.id for r in got.rows] == [o.id for o in queries.creator_orders_page(
        db, BIG_CREATOR, column="ended", q=brand_name, per_page=500).orders]


def test_the_list_pages_refuse_a_column_they_do_not_have(db):
    with pytest.raises(ValueError):
        queries.board_list(db, BIG_BRAND, -1, column="all")
