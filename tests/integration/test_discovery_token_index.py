"""The token index (``creator_tokens``): a short keyword's search through it gives exactly what the general
path gives (PostgreSQL: ``creator_search`` through its tsvector's GIN index; SQLite: the FTS5 token index and a
covering index of creators) — the same creators, in the same order, with the same total — for every filter and
sort, on every page; and its rows follow the creators.

The creators are generated (a fixed seed) to share many tokens, tie on followers, lack prices and ratings, and
carry names that equal or start with a token (the relevance ranks).
"""

from __future__ import annotations

import dataclasses
import random
from datetime import timedelta

import pytest
from sqlalchemy import select

from marketplace.accounts.models import User
from marketplace.creators import search as search_module
from marketplace.creators.models import Creator, CreatorCategory, CreatorRegion
from marketplace.creators.search import SearchQuery, search_creators
from marketplace.creators.search_index import CreatorSearch, creator_tokens, facets_of, token_rows, tokens_of
from marketplace.db import utcnow

WORDS = "护肤 美妆 彩妆 口红 美食 探店 火锅 旅行 露营 健身 猫咪 数码 测评 分享 日常 vlog daily beauty cat".split()
NAMES = ["护肤", "美妆", "护肤小课堂", "小美妆", "猫", "日常记录", "Vlog Life", "cat lover"]
CATEGORIES = ["beauty", "food", "travel", "fitness", "pets", "tech", "lifestyle"]
REGIONS = ["11", "31", "44", "51", "33"]
AGES = ["18-23", "24-30", "31-40"]
HANDLES = ["cat", "vlog", "beauty", "护肤心得"]


@pytest.fixture
def many(session) -> list[int]:
    rng = random.Random(20261128)
    names = [rng.choice(NAMES) if n % 5 == 0 else f"{rng.choice(WORDS)}{rng.choice(WORDS)}{n}" for n in range(140)]
    users = [User(email=f"token-index-{n}@example.com", password_hash="!", display_name=name,
                  signup_kind="creator", email_verified_at=utcnow()) for n, name in enumerate(names)]
    session.add_all(users)
    session.flush()
    creators = []
    for n, (name, user) in enumerate(zip(names, users, strict=True)):
        rated = rng.random() < 0.6
        creator = Creator(
            user_id=user.id, display_name=name, handle={0: "护肤", 7: "美妆", 14: "猫"}.get(n, f"h{n}_{rng.choice(HANDLES)}"),
            bio=" ".join(rng.sample(WORDS, rng.randint(1, 6))), listed=rng.random() < 0.9,
            accepting_orders=rng.random() < 0.7, followers=rng.choice([1_000, 5_000, 20_000, 20_000, 300_000]),
            engagement_bp=rng.choice([100, 250, 250, 600]), audience_female_pct=rng.choice([30, 50, 70, 85]),
            audience_main_age=rng.choice(AGES), authenticity_score=rng.choice([None, 40, 80, 95]),
            rating_avg_x100=rng.choice([400, 450, 500]) if rated else None, rating_count=5 if rated else 0,
            identity_verified_at=utcnow() - timedelta(days=2) if rng.random() < 0.4 else None,
            price_short_video=rng.choice([None, 500_00, 2_000_00, 2_000_00]),
            price_livestream=rng.choice([None, 9_000_00]))
        creator.categories = [CreatorCategory(category=c) for c in rng.sample(CATEGORIES, rng.randint(1, 2))]
        creator.regions = [CreatorRegion(region=r) for r in rng.sample(REGIONS, rng.randint(1, 2))]
        creators.append(creator)
    session.add_all(creators)
    session.flush()  # one flush: the search rows and token rows of all of them in one reindex
    return [c.id for c in creators]


def _both_paths(session, query: SearchQuery, per_page: int = 10):
    """(rows through the token index, rows through creator_search) of the page statement, and the shape."""
    dialect = session.get_bind().dialect.name
    shape = search_module._shape(query, dialect)
    params = {**search_module._params(query, dialect), "offset": (query.page - 1) * per_page, "limit": per_page}
    general = search_module._Statements(dataclasses.replace(shape, index_tokens=()))
    connection = session.connection()
    via_tokens = connection.execute(search_module._statements(shape).page, params).all()
    via_search = connection.execute(general.page, params).all()
    return via_tokens, via_search, shape


FILTERS = [
    {},
    {"followers_min": 5_000},
    {"followers_min": 5_000, "followers_max": 20_000, "accepting": True},
    {"engagement_min_bp": 250, "verified": True},
    {"audience_gender": "female", "audience_age": "24-30"},
    {"audience_gender": "male"},
    {"authenticity_min": 80},
    {"price_min": 1_000_00, "price_max": 2_000_00},
    {"content_type": "livestream", "price_max": 10_000_00},
    {"category": "beauty"},
    {"region": "44", "followers_min": 1_000},
    {"category": "food", "region": "31", "accepting": True},
]


@pytest.mark.parametrize("sort", ["followers", "engagement", "price", "rating", "relevance"])
def test_the_token_index_answers_exactly_as_the_general_path(session, many, sort):
    for keyword in ("护肤", "美妆", "猫", "分享", "护 c", "日常 vl", "美 妆"):
        answered = 0
        for filters in FILTERS:
            for page in (1, 2, 3):
                query = SearchQuery(q=keyword, sort=sort, page=page, **filters)
                via_tokens, via_search, shape = _both_paths(session, query)
                if not shape.index_tokens:
                    continue  # this keyword and sort are the general path's (relevance over several tokens)
                answered += 1
                assert [tuple(r) for r in via_tokens] == [tuple(r) for r in via_search], (query, via_tokens,
                                                                                          via_search)
        if sort != "relevance" or " " not in keyword:
            assert answered == len(FILTERS) * 3, keyword  # the token index did answer these


BROWSE_FILTERS = [
    {"category": "beauty"},
    {"category": "food", "followers_min": 5_000},
    {"category": "travel", "engagement_min_bp": 250, "accepting": True},
    {"region": "44"},
    {"region": "31", "audience_gender": "female", "verified": True},
    {"category": "food", "region": "31"},
    {"category": "pets", "region": "44", "price_max": 2_000_00, "authenticity_min": 80},
    {"category": "beauty", "content_type": "livestream", "price_min": 1_000_00},
]


@pytest.mark.parametrize("sort", ["followers", "engagement", "price", "rating"])
def test_browsing_a_category_or_region_through_the_token_index_answers_as_the_general_path(session, many, sort):
    """Without a keyword, a category and a region are ranges of the token index (their ``#c:``/``#r:`` tokens):
    the same creators, order and total as the category and region lists of the general path."""
    for filters in BROWSE_FILTERS:
        for page in (1, 2, 3):
            query = SearchQuery(sort=sort, page=page, **filters)
            via_tokens, via_search, shape = _both_paths(session, query)
            assert shape.facet_tokens and len(shape.index_tokens) == ("category" in filters) + ("region" in filters)
            assert [tuple(r) for r in via_tokens] == [tuple(r) for r in via_search], (query, via_tokens, via_search)
    assert _both_paths(session, SearchQuery(category="beauty", sort=sort))[0]  # not vacuous: beauty creators exist


def test_searches_the_token_index_answers(session, many):
    """Which keywords go through the token index: short ones with an exact token; relevance only for one token."""
    def tokens(q, sort="followers"):
        return search_module._shape(SearchQuery(q=q, sort=sort), "postgresql").index_tokens

    assert tokens("护肤") == (False,)
    assert tokens("护肤", "relevance") == (False,)
    assert tokens("vl 护") == (False, True)  # exact first
    assert tokens("vl") == ()  # a prefix alone: the tsvector's
    assert tokens("护肤 vl", "relevance") == ()  # relevance over several tokens: the general path
    assert tokens("护肤心得") == ()  # a trigram term
    assert search_module._shape(SearchQuery(q="护肤"), "sqlite").index_tokens == (False,)  # both backends
    assert tokens("") == ()  # no keyword, category or region: a sort index of creators
    assert search_module._params(SearchQuery(category="food", region="31"), "sqlite")["token_1"] == "#r:31"
    assert tokens("护肤 日常") == (False, False)  # with a keyword, category and region stay lists to intersect
    page = search_creators(session, SearchQuery(q="美妆", sort="relevance"), per_page=5)
    assert page.total == len({c for c in many if _has_token(session, c, "美妆")})


def _has_token(session, creator_id: int, token: str) -> bool:
    row = session.get(CreatorSearch, creator_id)
    return row.listed and token in tokens_of(row.document)


def _token_table(session) -> set[tuple]:
    columns = [creator_tokens.c[name] for name in ("token", "creator_id", "followers", "rank", "accepting_orders",
                                                    "verified", "price_short_video", "rating_avg_x100")]
    return {tuple(row) for row in session.execute(select(*columns))}


def _expected(session) -> set[tuple]:
    rows = set()
    for creator in session.scalars(select(Creator)):
        search = session.get(CreatorSearch, creator.id)
        document = {"names": search.names, "labels": search.labels, "tokens": " ".join(tokens_of(search.document))}
        for r in token_rows(creator.id, document, facets_of(creator), [c.category for c in creator.categories],
                            [r.region for r in creator.regions]):
            rows.add((r["token"], r["creator_id"], r["followers"], r["rank"], r["accepting_orders"], r["verified"],
                      r["price_short_video"], r["rating_avg_x100"]))
    return rows


def test_token_rows_follow_the_creators_in_the_same_transaction(session, many):
    assert _token_table(session) == _expected(session)
    some = [session.get(Creator, i) for i in many[:6]]
    some[0].bio = "重庆小面 火锅"  # text
    some[1].followers, some[1].price_short_video = 123_456, None  # facets
    some[2].identity_verified_at = utcnow()
    some[3].listed = not some[3].listed  # in or out of the index
    some[4].categories.append(CreatorCategory(category="auto"))
    some[4].display_name = "护肤"  # rank 0 for 护肤 now
    some[0].regions = [CreatorRegion(region="65")]  # a region replaced
    session.delete(some[5])
    session.flush()
    assert _token_table(session) == _expected(session)
    tokens = {(t, c) for t, c, *_ in _token_table(session)}
    assert ("#c:auto", some[4].id) in tokens and ("#r:65", some[0].id) in tokens
    assert ("护肤", some[4].id) in {(t, c) for t, c, _f, rank, *_ in _token_table(session) if rank == 0}
    assert not {c for _t, c, *_ in _token_table(session)} & {many[5]}
    if not some[3].listed:
        assert not {c for _t, c, *_ in _token_table(session)} & {some[3].id}
