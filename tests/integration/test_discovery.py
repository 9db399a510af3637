"""Discovery: the search index (Chinese substrings of two and more characters, English, handles), every filter
and sort against expectations computed here independently from the fixture creators, the bounded count, bad
filter values, the index kept in sync with the creators, and shortlists and the comparison over HTTP.

The fixture is a dozen creators written straight to the tables (``listed`` set by hand, one left unlisted),
so the expectations below only use their fields and plain Python — never the code under test.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from flask_babel import force_locale
from sqlalchemy import select, text

from marketplace.accounts.models import User
from marketplace.creators import search as search_module
from marketplace.creators.models import Creator, CreatorCategory, CreatorRegion, Shortlist, ShortlistEntry
from marketplace.creators.search import SearchQuery, search_creators
from marketplace.creators.search_index import CreatorSearch
from marketplace.creators.taxonomy import CATEGORIES, REGIONS
from marketplace.db import utcnow
from tests.conftest import csrf_from


@dataclass
class Spec:
    key: str
    name: str
    handle: str
    bio: str
    categories: list[str]
    regions: list[str]
    followers: int
    engagement_bp: int
    female: int
    age: str
    authenticity: int | None
    rating: int | None
    prices: dict[str, int] = field(default_factory=dict)
    verified: bool = False
    accepting: bool = True
    listed: bool = True
    id: int = 0


SPECS = [
    Spec("mia", "米娅Mia", "mia_beauty", "美妆博主｜护肤心得和彩妆教程，每天分享平价好物", ["beauty"], ["31"],
         250_000, 420, 85, "18-23", 92, 480, {"short_video": 8_000_00, "livestream": 20_000_00}, True),
    Spec("skin", "护肤研究所", "skinlab", "成分党护肤测评 sensitive skin", ["beauty"], ["44"],
         1_200_000, 180, 78, "24-30", 55, None, {"short_video": 30_000_00}),
    Spec("leo", "Leo Eats", "leo_eats", "街头美食探店 street food vlog", ["food", "travel"], ["44", "51"],
         90_000, 610, 48, "24-30", 88, 450, {"short_video": 1_500_00, "long_video": 3_000_00}, True, False),
    Spec("chef", "川菜小厨", "sichuan_chef", "家常川菜食谱，美食教程", ["food"], ["51"],
         40_000, 350, 60, "31-40", 75, None, {"short_video": 600_00, "image_text": 300_00}),
    Spec("trip", "阿晴在路上", "qing_travel", "自驾旅行攻略 road trip vlog 露营", ["travel"], ["53"],
         15_000, 800, 62, "24-30", 97, None, {"short_video": 250_00}, True),
    Spec("game", "电竞老王", "laowang_gg", "王者荣耀攻略 游戏直播，和 leo_eats 联动过", ["gaming"], ["11"],
         3_000_000, 150, 22, "18-23", 35, 390, {"short_video": 50_000_00, "livestream": 120_000_00}),
    Spec("cat", "布偶猫米粒", "mili_cat", "养猫日常 cat daily", ["pets"], ["33"],
         520_000, 900, 70, "24-30", 90, 500, {"short_video": 10_000_00}, True),
    Spec("fit", "Coach Amy", "amyfit", "健身减脂 fitness coach, home workouts", ["fitness"], ["31"],
         75_000, 300, 66, "31-40", None, None, {}),
    Spec("hidden", "美妆隐藏号", "hidden_beauty", "美妆 护肤", ["beauty"], ["44"],
         999_999, 999, 90, "18-23", 99, 500, {"short_video": 100_00}, True, True, False),
    Spec("dad", "奶爸日记", "daddy_diary", "育儿 亲子 vlog", ["parenting"], ["32"],
         8_000, 500, 55, "31-40", 80, 420, {"short_video": 120_00}),
    Spec("tech", "数码小哥", "tech_bro", "手机开箱 数码测评", ["tech"], ["44"],
         180_000, 250, 30, "24-30", 70, None, {"short_video": 3_000_00, "long_video": 6_000_00}, True),
]


@pytest.fixture
def creators(session) -> dict[str, Spec]:
    specs = {}
    for n, spec in enumerate(SPECS):
        user = User(email=f"discovery{n}-{spec.key}@example.com", password_hash="!", display_name=spec.name,
                    signup_kind="creator", email_verified_at=utcnow())
        session.add(user)
        session.flush()
        creator = Creator(user_id=user.id, display_name=spec.name, handle=spec.handle, bio=spec.bio,
                          listed=spec.listed, accepting_orders=spec.accepting, followers=spec.followers,
                          engagement_bp=spec.engagement_bp, audience_female_pct=spec.female,
                          audience_main_age=spec.age, authenticity_score=spec.authenticity,
                          rating_avg_x100=spec.rating, rating_count=10 if spec.rating else 0,
                          identity_verified_at=utcnow() - timedelta(days=3) if spec.verified else None,
                          **{f"price_{k}": v for k, v in spec.prices.items()})
        creator.categories = [CreatorCategory(category=c) for c in spec.categories]
        creator.regions = [CreatorRegion(region=r) for r in spec.regions]
        session.add(creator)
        session.flush()
        spec.id = creator.id
        specs[spec.key] = spec
    return specs


def ids(page) -> list[int]:
    return [c.id for c in page.items]


def run(session, **kwargs) -> list[int]:
    return ids(search_creators(session, SearchQuery(**kwargs), per_page=50))


def listed(specs: dict[str, Spec]) -> list[Spec]:
    return [s for s in specs.values() if s.listed]


def by_followers(specs) -> list[int]:
    return [s.id for s in sorted(specs, key=lambda s: (-s.followers, -s.id))]


def searchable_text(spec: Spec) -> str:
    """Everything a keyword may match, in both languages (the labels as the catalogs translate them)."""
    labels = []
    for language in ("en", "zh_CN"):
        with force_locale(language):
            labels += [str(CATEGORIES[c]) for c in spec.categories] + [str(REGIONS[r]) for r in spec.regions]
    return " ".join([spec.name, spec.handle, spec.bio, *labels]).lower()


def expected_for(specs, keyword: str) -> set[int]:
    return {s.id for s in listed(specs) if keyword.lower() in searchable_text(s)}


# --- keywords -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("keyword", [
    "美妆",      # two characters: below a trigram, answered by the bigram index (also the beauty label)
    "护肤",      # two characters, in names and bios
    "攻略",      # two characters, in two bios
    "美食",      # two characters: a bio, and the food category's Chinese label
    "猫",        # one character
    "护肤心得",   # four characters (trigram index)
    "王者荣耀",   # four characters
    "川菜小厨",   # a whole display name
    "vlog",     # English word in bios
    "street food",  # two English words (both must match)
    "fitness",  # English: a bio word and the fitness category label
    "sichuan",  # a handle substring; also the region label of Sichuan (四川)
    "leo_eats",  # a whole handle, and a mention in another creator's bio
    "beauty",   # a handle substring and the category's English label
    "guangdong",  # a region's English label
    "广东",      # … and its Chinese label
])
def test_keyword_finds_exactly_the_creators_whose_text_contains_it(session, creators, keyword):
    found = set(run(session, q=keyword))
    expected = expected_for(creators, keyword) if " " not in keyword else set.intersection(
        *(expected_for(creators, word) for word in keyword.split()))
    assert expected, f"the fixture should contain {keyword!r}"
    assert found == expected
    assert creators["hidden"].id not in found  # never an unlisted creator


def test_two_character_chinese_keywords_hit_the_expected_creators(session, creators):
    # Spelled out for the two showcase keywords (the parametrised test derives them).
    c = creators
    assert set(run(session, q="美妆")) == {c["mia"].id, c["skin"].id}  # beauty label 美妆; hidden is unlisted
    assert set(run(session, q="护肤")) == {c["mia"].id, c["skin"].id}


def test_handle_substring_and_full_width_and_case_are_folded(session, creators):
    c = creators
    assert run(session, q="laowang") == [c["game"].id]
    assert run(session, q="LAOWANG") == [c["game"].id]
    assert run(session, q="ＬＡＯＷＡＮＧ") == [c["game"].id]  # full-width Latin (NFKC)
    assert run(session, q="@mili_cat") == [] or run(session, q="mili_cat") == [c["cat"].id]


def test_a_keyword_nobody_has_finds_nobody(session, creators):
    assert run(session, q="火星探险") == []
    assert run(session, q="zebra") == []


def test_relevance_puts_exact_and_name_hits_before_bio_hits(session, creators):
    c = creators
    # leo_eats is leo's handle exactly, and only mentioned in game's bio (game has far more followers).
    assert run(session, q="leo_eats") == [c["leo"].id, c["game"].id]
    # "leo": a prefix of leo's name, a bio substring for game.
    assert run(session, q="leo")[:2] == [c["leo"].id, c["game"].id]
    # "护肤": skin's name contains it (rank 2), mia only has it in the bio and label; then followers.
    assert run(session, q="护肤") == [c["skin"].id, c["mia"].id]


# --- filters and sorts ----------------------------------------------------------------------------------


FILTERS = [
    ({"category": "beauty"}, lambda s: "beauty" in s.categories),
    ({"category": "food"}, lambda s: "food" in s.categories),
    ({"region": "44"}, lambda s: "44" in s.regions),
    ({"region": "51", "category": "food"}, lambda s: "51" in s.regions and "food" in s.categories),
    ({"followers_min": 50_000}, lambda s: s.followers >= 50_000),
    ({"followers_max": 100_000}, lambda s: s.followers <= 100_000),
    ({"followers_min": 20_000, "followers_max": 600_000}, lambda s: 20_000 <= s.followers <= 600_000),
    ({"price_min": 1_000_00, "price_max": 10_000_00},
     lambda s: s.prices.get("short_video") is not None and 1_000_00 <= s.prices["short_video"] <= 10_000_00),
    ({"content_type": "livestream", "price_max": 50_000_00},
     lambda s: s.prices.get("livestream") is not None and s.prices["livestream"] <= 50_000_00),
    ({"content_type": "long_video", "price_min": 0}, lambda s: s.prices.get("long_video") is not None),
    ({"engagement_min_bp": 400}, lambda s: s.engagement_bp >= 400),
    ({"audience_gender": "female"}, lambda s: s.female >= 60),
    ({"audience_gender": "male"}, lambda s: s.female <= 40),
    ({"audience_age": "31-40"}, lambda s: s.age == "31-40"),
    ({"verified": True}, lambda s: s.verified),
    ({"accepting": True}, lambda s: s.accepting),
    ({"authenticity_min": 80}, lambda s: s.authenticity is not None and s.authenticity >= 80),
    ({"q": "vlog", "accepting": True, "engagement_min_bp": 450},
     lambda s: "vlog" in searchable_text(s) and s.accepting and s.engagement_bp >= 450),
]


@pytest.mark.parametrize(("filters", "predicate"), FILTERS, ids=[str(f) for f, _ in FILTERS])
def test_each_filter_returns_exactly_the_matching_listed_creators(session, creators, filters, predicate):
    expected = by_followers([s for s in listed(creators) if predicate(s)])
    assert expected, "the fixture should match this filter"
    sort = {"sort": "followers"} if "q" in filters else {}
    assert run(session, **filters, **sort) == expected


def _price(s: Spec, content_type: str):
    return s.prices.get(content_type)


SORTS = {
    "followers": lambda specs: by_followers(specs),
    "engagement": lambda specs: [s.id for s in sorted(specs, key=lambda s: (-s.engagement_bp, -s.id))],
    "price": lambda specs: [s.id for s in sorted((s for s in specs if _price(s, "short_video") is not None),
                                                 key=lambda s: (_price(s, "short_video"), s.id))],
    "rating": lambda specs: [s.id for s in sorted(specs, key=lambda s: (s.rating is None, -(s.rating or 0), -s.id))],
}


@pytest.mark.parametrize("sort", list(SORTS))
def test_each_sort_orders_as_computed(session, creators, sort):
    assert run(session, sort=sort) == SORTS[sort](listed(creators))


def test_relevance_without_a_keyword_is_by_followers(session, creators):
    assert run(session, sort="relevance") == by_followers(listed(creators))


def test_pagination_and_the_bounded_count(session, creators, monkeypatch):
    everyone = by_followers(listed(creators))
    page2 = search_creators(session, SearchQuery(sort="followers", page=2), per_page=3)
    assert ids(page2) == everyone[3:6]
    assert page2.total == len(everyone) and not page2.capped and page2.pages == 4
    last = search_creators(session, SearchQuery(sort="followers", page=4), per_page=3)
    assert ids(last) == everyone[9:] and last.total == len(everyone)
    beyond = search_creators(session, SearchQuery(sort="followers", page=9), per_page=3)
    assert beyond.items == [] and beyond.total == len(everyone)
    keyword_page = search_creators(session, SearchQuery(q="vlog", page=2), per_page=2)
    assert keyword_page.total == len(expected_for(creators, "vlog"))

    monkeypatch.setattr(search_module, "COUNT_CAP", 4)
    capped = search_creators(session, SearchQuery(sort="followers"), per_page=3)
    assert capped.capped and capped.total == 4 and ids(capped) == everyone[:3]
    capped_keyword = search_creators(session, SearchQuery(category="beauty", region="31", q="美"), per_page=3)
    assert not capped_keyword.capped  # one match


def test_cards_carry_the_price_for_the_chosen_content_type(session, creators):
    page = search_creators(session, SearchQuery(q="米娅", content_type="livestream"))
    (card,) = page.items
    assert card.price == 20_000_00 and card.verified and card.categories == ("beauty",)


# --- the index ------------------------------------------------------------------------------------------


def test_the_index_follows_changes_in_the_same_transaction(session, creators):
    c = creators
    creator = session.get(Creator, c["chef"].id)
    creator.bio = "重庆小面和火锅"
    session.flush()
    assert run(session, q="火锅") == [c["chef"].id]
    assert run(session, q="家常川菜") == []  # the old bio is gone from the trigram index…
    assert run(session, q="食谱") == []  # … and from the bigram index
    creator.categories.append(CreatorCategory(category="travel"))
    session.flush()
    assert c["chef"].id in run(session, q="旅行") or c["chef"].id in run(session, q="travel")
    creator.regions.clear()
    session.flush()
    assert c["chef"].id not in run(session, q="四川")
    creator.display_name, creator.handle = "山城面馆", "noodle_house"
    session.flush()
    assert run(session, q="noodle_house") == [c["chef"].id]
    assert run(session, q="山城") == [c["chef"].id]
    # The facets (filter and sort columns copied into the index) follow the creator too.
    creator.followers, creator.price_short_video = 7, None
    creator.identity_verified_at = utcnow()
    session.flush()
    assert run(session, q="山城", followers_min=10) == []
    assert run(session, q="山城", verified=True) == [c["chef"].id]
    assert run(session, q="山城", sort="price") == []
    creator.listed = False
    session.flush()
    assert run(session, q="山城") == []
    creator.listed = True
    session.delete(creator)
    session.flush()
    assert session.get(CreatorSearch, c["chef"].id) is None
    if session.get_bind().dialect.name == "sqlite":
        for table in ("creator_search_trgm", "creator_search_tokens"):
            session.execute(text(f"INSERT INTO {table}({table}) VALUES ('integrity-check')"))


def test_every_creator_has_exactly_one_search_row_with_its_facets(session, creators):
    rows = {r.creator_id: r for r in session.scalars(select(CreatorSearch))}
    assert sorted(rows) == sorted(s.id for s in creators.values())
    for spec in creators.values():
        row = rows[spec.id]
        assert (row.listed, row.followers, row.engagement_bp, row.verified, row.rating_avg_x100,
                row.price_short_video) == (spec.listed, spec.followers, spec.engagement_bp, spec.verified,
                                           spec.rating, spec.prices.get("short_video"))


def _plan(session, query: SearchQuery, build=search_module.search_statement) -> str:
    dialect = session.get_bind().dialect
    if dialect.name == "sqlite":
        stmt = build(query, dialect.name)
        sql = str(stmt.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
        return "\n".join(str(row) for row in session.execute(text("EXPLAIN QUERY PLAN " + sql)))
    # A dozen rows would rather be scanned: forbid scans to see that an index can answer the keyword at all.
    session.execute(text("SET LOCAL enable_seqscan = off; SET LOCAL enable_indexscan = off"))
    stmt = build(query, dialect.name)
    sql = str(stmt.compile(dialect=dialect, compile_kwargs={"literal_binds": True})).replace("%%", "%")
    return "\n".join(row[0] for row in session.execute(text("EXPLAIN " + sql)))


@pytest.mark.parametrize("build", [search_module.search_statement, search_module.page_statement],
                         ids=["ids", "page"])
@pytest.mark.parametrize(("keyword", "sqlite_index", "pg_index"), [
    ("美妆", "creator_tokens USING PRIMARY KEY (token=?", "ix_creator_tokens_search"),
    ("vl", "creator_search_tokens VIRTUAL TABLE INDEX", "ix_creator_search_tokens_gin"),  # a prefix only
    ("护肤心得", "creator_search_trgm VIRTUAL TABLE INDEX", "ix_creator_search_document_trgm"),
    ("vlog", "creator_search_trgm VIRTUAL TABLE INDEX", "ix_creator_search_document_trgm"),
])
def test_keywords_are_index_lookups_not_scans(session, creators, keyword, sqlite_index, pg_index, build):
    plan = _plan(session, SearchQuery(q=keyword, sort="followers"), build)
    assert (sqlite_index if session.get_bind().dialect.name == "sqlite" else pg_index) in plan, plan


def test_statements_are_built_once_per_shape():
    """Two searches that differ only in their values share one statement (its compiled form is kept)."""
    one = search_module._statements(search_module._shape(SearchQuery(q="美妆", followers_min=10), "sqlite"))
    two = search_module._statements(search_module._shape(SearchQuery(q="护肤", followers_min=99), "sqlite"))
    other = search_module._statements(search_module._shape(SearchQuery(q="护肤心得", followers_min=99), "sqlite"))
    assert one is two and one is not other


# --- pages ----------------------------------------------------------------------------------------------


@pytest.fixture
def brand(session, make_enterprise, make_member, make_user):
    owner = make_user()
    enterprise = make_enterprise(owner=owner)
    return {"enterprise": enterprise, "owner": owner, "manager": make_member(enterprise, "manager"),
            "viewer": make_member(enterprise, "viewer")}


def test_discover_page_finds_in_chinese_and_keeps_the_query_in_links(client, login_as, brand, creators):
    login_as(brand["owner"])
    page = client.get("/discover?q=美妆&sort=followers")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "护肤研究所" in html and "米娅Mia" in html and "美妆隐藏号" not in html
    assert 'hx-get="/discover"' in html and 'hx-push-url="true"' in html
    assert 'value="美妆"' in html  # the form shows the search it ran
    assert "2 creators" in html


def test_htmx_gets_only_the_results_region(client, login_as, brand, creators):
    login_as(brand["owner"])
    response = client.get("/discover?q=vlog", headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and html.lstrip().startswith('<section id="results"')
    assert "<html" not in html and "Leo Eats" in html
    assert "HX-Request" in response.headers.get("Vary", "")
    restore = client.get("/discover?q=vlog", headers={"HX-Request": "true", "HX-History-Restore-Request": "true"})
    assert "<html" in restore.get_data(as_text=True)


def test_empty_result_hints_to_widen_the_filters(client, login_as, brand, creators):
    login_as(brand["viewer"])
    html = client.get("/discover?q=火星探险&region=54").get_data(as_text=True)
    assert "No creators match this search" in html and "Widen the filters" in html


@pytest.mark.parametrize(("query", "message"), [
    ("category=nope", "Unknown category"),
    ("region=99", "Unknown region"),
    ("sort=cheapest", "Unknown sort order"),
    ("content_type=podcast", "Unknown content type"),
    ("audience_gender=other", "Unknown audience choice"),
    ("audience_age=12-17", "Unknown age band"),
    ("followers_min=lots", "Enter a number of followers"),
    ("followers_min=-5", "0 or more"),
    ("followers_min=500&followers_max=100", "below the lower bound"),
    ("price_min=-100", "Enter a positive amount"),
    ("price_max=abc", "Enter an amount in yuan"),
    ("engagement_min=150", "between 0 and 100"),
    ("authenticity_min=101", "between 0 and 100"),
])
def test_unknown_or_bad_filter_values_get_a_clear_message(client, login_as, brand, creators, query, message):
    login_as(brand["owner"])
    response = client.get("/discover?" + query)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    fragment = client.get("/discover?" + query, headers={"HX-Request": "true"})
    assert fragment.status_code == 422 and message in fragment.get_data(as_text=True)


def test_discover_needs_an_enterprise_context(client, login_as, session, creators):
    from marketplace.creators.services import become_creator

    lone = User(email="lone@example.com", password_hash="!", display_name="Lone", email_verified_at=utcnow())
    session.add(lone)
    session.flush()
    become_creator(session, lone)
    login_as(lone)
    assert client.get("/discover").status_code == 403


# --- shortlists and comparison ---------------------------------------------------------------------------


def _post(client, path: str, data: dict, **kwargs):
    token = csrf_from(client.get("/settings").get_data(as_text=True))
    return client.post(path, data={"csrf_token": token, **data}, **kwargs)


def test_a_manager_builds_a_shortlist_from_search_results(client, login_as, session, brand, creators):
    e = brand["enterprise"]
    login_as(brand["manager"])
    created = _post(client, f"/enterprises/{e.id}/shortlists", {"name": "Spring launch"})
    assert created.status_code == 302
    shortlist = session.scalar(select(Shortlist).where(Shortlist.enterprise_id == e.id))
    assert shortlist.name == "Spring launch"

    # From a search result, without JavaScript: back to the search.
    back = "/discover?q=美妆"
    added = _post(client, f"/enterprises/{e.id}/shortlists/entries",
                  {"shortlist": str(shortlist.id), "creator_id": str(creators["mia"].id), "next": back})
    assert added.status_code == 302 and added.location.endswith("/discover?q=%E7%BE%8E%E5%A6%86") or \
        added.location.endswith(back)
    # With htmx: the widget comes back, saying so; adding again is harmless.
    fragment = _post(client, f"/enterprises/{e.id}/shortlists/entries",
                     {"shortlist": str(shortlist.id), "creator_id": str(creators["skin"].id), "next": back},
                     headers={"HX-Request": "true"})
    html = fragment.get_data(as_text=True)
    assert fragment.status_code == 200 and "Added to “Spring launch”" in html and "<html" not in html
    again = _post(client, f"/enterprises/{e.id}/shortlists/entries",
                  {"shortlist": str(shortlist.id), "creator_id": str(creators["skin"].id)}, headers={"HX-Request": "true"})
    assert "Already on “Spring launch”" in again.get_data(as_text=True)
    # "default": the list named "Shortlist", created once; "new": another list with the next free name.
    for key in ("cat", "tech"):
        _post(client, f"/enterprises/{e.id}/shortlists/entries", {"shortlist": "default", "creator_id": str(creators[key].id)})
    _post(client, f"/enterprises/{e.id}/shortlists/entries", {"shortlist": "new", "creator_id": str(creators["cat"].id)})
    names = session.scalars(select(Shortlist.name).where(Shortlist.enterprise_id == e.id, Shortlist.id != shortlist.id)
                            .order_by(Shortlist.id)).all()
    assert names == ["Shortlist", "Shortlist 2"]
    default = session.scalar(select(Shortlist).where(Shortlist.name == "Shortlist", Shortlist.enterprise_id == e.id))
    assert {en.creator_id for en in default.entries} == {creators["cat"].id, creators["tech"].id}

    note = _post(client, f"/enterprises/{e.id}/shortlists/{shortlist.id}/entries/{creators['mia'].id}/note",
                 {"note": "Great fit, ask for a livestream quote"})
    assert note.status_code == 302
    page = client.get(f"/enterprises/{e.id}/shortlists/{shortlist.id}").get_data(as_text=True)
    assert "米娅Mia" in page and "护肤研究所" in page and "Great fit, ask for a livestream quote" in page
    assert 'form="compare-form"' in page and "Compare selected" in page

    removed = _post(client, f"/enterprises/{e.id}/shortlists/{shortlist.id}/entries/{creators['skin'].id}/remove", {},
                    headers={"HX-Request": "true"})
    assert removed.status_code == 200 and removed.get_data(as_text=True) == ""
    assert session.scalars(select(ShortlistEntry.creator_id).where(ShortlistEntry.shortlist_id == shortlist.id)).all() \
        == [creators["mia"].id]

    renamed = _post(client, f"/enterprises/{e.id}/shortlists/{shortlist.id}/rename", {"name": "Spring 2027"})
    assert renamed.status_code == 302
    deleted = _post(client, f"/enterprises/{e.id}/shortlists/{shortlist.id}/delete", {})
    assert deleted.status_code == 302
    shortlist_id = shortlist.id
    session.expire_all()
    assert session.scalar(select(Shortlist.id).where(Shortlist.id == shortlist_id)) is None


def test_shortlist_input_errors_are_clear_and_write_nothing(client, login_as, session, brand, creators):
    e = brand["enterprise"]
    login_as(brand["owner"])
    _post(client, f"/enterprises/{e.id}/shortlists", {"name": "Skincare"})
    shortlist = session.scalar(select(Shortlist).where(Shortlist.enterprise_id == e.id))
    duplicate = _post(client, f"/enterprises/{e.id}/shortlists", {"name": "skincare"})
    assert duplicate.status_code == 400 and "already a shortlist called" in duplicate.get_data(as_text=True)
    blank = _post(client, f"/enterprises/{e.id}/shortlists", {"name": "   "})
    assert blank.status_code == 400
    unlisted = _post(client, f"/enterprises/{e.id}/shortlists/entries",
                     {"shortlist": str(shortlist.id), "creator_id": str(creators["hidden"].id)},
                     headers={"HX-Request": "true"})
    assert unlisted.status_code == 422 and "not available" in unlisted.get_data(as_text=True)
    long_note = _post(client, f"/enterprises/{e.id}/shortlists/{shortlist.id}/entries/{creators['mia'].id}/note",
                      {"note": "x"})
    assert long_note.status_code == 404  # not on the list
    assert session.scalar(select(Shortlist.id).where(Shortlist.enterprise_id == e.id, Shortlist.id != shortlist.id)) is None
    assert session.scalars(select(ShortlistEntry).where(ShortlistEntry.shortlist_id == shortlist.id)).all() == []


def test_shortlist_authorization(client, login_as, session, brand, creators, make_enterprise):
    e = brand["enterprise"]
    shortlist = Shortlist(enterprise_id=e.id, name="Brand list")
    session.add(shortlist)
    session.flush()
    session.add(ShortlistEntry(shortlist_id=shortlist.id, creator_id=creators["mia"].id, note="secret plan"))
    session.flush()

    # A viewer sees the list but cannot change it (and is not offered the controls).
    login_as(brand["viewer"])
    page = client.get(f"/enterprises/{e.id}/shortlists/{shortlist.id}")
    assert page.status_code == 200 and "secret plan" in page.get_data(as_text=True)
    assert "Delete shortlist" not in page.get_data(as_text=True)
    assert _post(client, f"/enterprises/{e.id}/shortlists", {"name": "Mine"}).status_code == 403
    assert _post(client, f"/enterprises/{e.id}/shortlists/{shortlist.id}/entries/{creators['mia'].id}/remove",
                 {}).status_code == 403
    assert _post(client, f"/enterprises/{e.id}/shortlists/entries",
                 {"shortlist": str(shortlist.id), "creator_id": str(creators["cat"].id)}).status_code == 403
    search = client.get("/discover?q=米娅").get_data(as_text=True)
    assert "shortlist-widget" not in search and "Brand list" in search  # "On: Brand list", no add button

    # Another enterprise's owner can see neither the lists nor this list, and cannot reach it through their own.
    other_owner = brand["owner"].__class__(email="other-owner@example.com", password_hash="!", display_name="Other",
                                           email_verified_at=utcnow())
    session.add(other_owner)
    session.flush()
    other = make_enterprise(owner=other_owner)
    login_as(other_owner)
    assert client.get(f"/enterprises/{e.id}/shortlists").status_code == 403
    assert client.get(f"/enterprises/{e.id}/shortlists/{shortlist.id}").status_code == 403
    assert client.get(f"/enterprises/{other.id}/shortlists/{shortlist.id}").status_code == 404
    assert _post(client, f"/enterprises/{other.id}/shortlists/{shortlist.id}/delete", {}).status_code == 404
    assert "secret plan" not in client.get("/discover?q=米娅").get_data(as_text=True)
    assert session.get(Shortlist, shortlist.id) is not None


def test_compare_up_to_four(client, login_as, brand, creators):
    login_as(brand["viewer"])
    c = creators
    four = ",".join(str(c[k].id) for k in ("mia", "skin", "leo", "cat"))
    page = client.get(f"/compare?ids={four}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    for label in ("Followers", "Engagement", "Average plays", "Audience: women", "Audience: main age",
                  "Short video", "Livestream mention", "Authenticity", "Identity verified", "Rating",
                  "Accepting orders"):
        assert label in html
    assert html.index("米娅Mia") < html.index("护肤研究所") < html.index("Leo Eats") < html.index("布偶猫米粒")
    repeated = client.get(f"/compare?ids={c['mia'].id}&ids={c['leo'].id}")
    assert repeated.status_code == 200 and "Leo Eats" in repeated.get_data(as_text=True)

    five = four + f",{c['tech'].id}"
    refused = client.get(f"/compare?ids={five}")
    assert refused.status_code == 400
    assert "at most 4 creators at a time; you chose 5" in refused.get_data(as_text=True)
    unknown = client.get(f"/compare?ids={c['mia'].id},999999,{c['hidden'].id}")
    assert unknown.status_code == 404
    assert re.search(r"No listed creator with id 999999, \d+", unknown.get_data(as_text=True))
    assert client.get("/compare?ids=1,abc").status_code == 400
    assert client.get("/compare").status_code == 400


def test_the_profile_page_offers_the_shortlist_control_to_editors(client, login_as, session, brand, creators):
    e, mia = brand["enterprise"], creators["mia"]
    login_as(brand["manager"])
    html = client.get(f"/creators/{mia.id}").get_data(as_text=True)
    assert 'class="shortlist-widget"' in html and f'value="/creators/{mia.id}"' in html
    added = _post(client, f"/enterprises/{e.id}/shortlists/entries",
                  {"shortlist": "default", "creator_id": str(mia.id), "next": f"/creators/{mia.id}"})
    assert added.status_code == 302 and added.location.endswith(f"/creators/{mia.id}")
    assert "On:" in client.get(f"/creators/{mia.id}").get_data(as_text=True)
    login_as(brand["viewer"])
    assert 'class="shortlist-widget"' not in client.get(f"/creators/{mia.id}").get_data(as_text=True)
