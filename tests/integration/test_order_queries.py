"""The order list queries on generated data (the benchmark's generator at a tiny scale): every column and page
equals the obvious query, counts are exact below the cap and capped above it, and the rows the generator writes
pass the database's constraints (PostgreSQL checks them on COPY)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from bench.orders_data import BIG_BRAND, BIG_CREATOR, Population, generate_orders, generate_people
from marketplace.db import database
from marketplace.orders import queries, states
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
