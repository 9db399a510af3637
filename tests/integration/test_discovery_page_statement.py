"""Discovery's search page in one statement: the shortlist marks it brings along (the same as ``shortlist_marks``,
in the same orders, for the brand's own lists only) and the result cards the view writes (escaped, in English
and Chinese).

Uses the dozen fixture creators of ``test_discovery``; expectations come from the rows written here.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from markupsafe import escape

from marketplace.creators.models import Creator, Shortlist, ShortlistEntry
from marketplace.creators.search import SearchQuery, search_creators, shortlist_marks
from marketplace.db import utcnow
from tests.integration.test_discovery import brand, creators  # noqa: F401 - fixtures


@pytest.fixture
def lists(session, brand, creators, make_enterprise):  # noqa: F811 - fixtures
    """Four shortlists of the brand whose name order, creation order and id order all differ; another brand's."""
    e = brand["enterprise"]
    now = utcnow()
    made = {}
    for key, name, age_days in (("b", "b list", 1), ("a", "A list", 3), ("zh", "护肤 精选", 2), ("c", "<c> & co", 0)):
        made[key] = Shortlist(enterprise_id=e.id, name=name, created_at=now - timedelta(days=age_days))
    other = Shortlist(enterprise_id=make_enterprise().id, name="Not yours")
    session.add_all([*made.values(), other])
    session.flush()
    for key, creator in (("b", "mia"), ("a", "mia"), ("c", "mia"), ("zh", "skin")):
        session.add(ShortlistEntry(shortlist_id=made[key].id, creator_id=creators[creator].id))
    session.add(ShortlistEntry(shortlist_id=other.id, creator_id=creators["mia"].id))
    session.add(ShortlistEntry(shortlist_id=other.id, creator_id=creators["leo"].id))
    session.flush()
    return made


def _pairs(marks) -> list[tuple[int, str]]:
    return [(m.id, m.name) for m in marks]


@pytest.mark.parametrize("query", [
    SearchQuery(q="美妆", sort="followers"),                 # keyword: matches counted in the statement
    SearchQuery(sort="followers"),                         # sort index walk, count separate
    SearchQuery(category="food", sort="engagement"),       # category list
    SearchQuery(q="vlog", sort="relevance", page=1),
])
def test_the_page_brings_the_same_shortlist_marks_as_shortlist_marks(session, brand, creators, lists, query):  # noqa: F811
    e = brand["enterprise"]
    page = search_creators(session, query, enterprise_id=e.id)
    plain = search_creators(session, query)
    assert [c.id for c in page.items] == [c.id for c in plain.items] and page.total == plain.total
    assert plain.shortlists == [] and plain.shortlisted == {}

    choices, on = shortlist_marks(session, e.id, [c.id for c in page.items])
    assert _pairs(page.shortlists) == _pairs(choices)
    assert {cid: _pairs(marks) for cid, marks in page.shortlisted.items()} == \
        {cid: _pairs(marks) for cid, marks in on.items()}

    # Independently: the brand's lists newest first; a creator's lists by name; never another brand's.
    newest_first = sorted(lists.values(), key=lambda s: (s.created_at, s.id), reverse=True)
    assert _pairs(page.shortlists) == [(s.id, s.name) for s in newest_first]
    shown = {c.id for c in page.items}
    expected = {creators["mia"].id: sorted([lists["b"], lists["a"], lists["c"]], key=lambda s: (s.name, s.id)),
                creators["skin"].id: [lists["zh"]]}
    assert set(page.shortlisted) == {cid for cid in expected if cid in shown}
    for cid, marks in expected.items():
        if cid in shown:
            assert _pairs(page.shortlisted[cid]) == [(s.id, s.name) for s in marks]


def test_a_brand_without_shortlists_gets_none(session, brand, creators):  # noqa: F811
    page = search_creators(session, SearchQuery(q="美妆"), enterprise_id=brand["enterprise"].id)
    assert page.items and page.shortlists == [] and page.shortlisted == {}


def test_no_results_no_marks(session, brand, creators, lists):  # noqa: F811
    page = search_creators(session, SearchQuery(q="火星探险"), enterprise_id=brand["enterprise"].id)
    assert page.items == [] and page.total == 0 and page.shortlists == []


def _card(html: str, creator_id: int) -> str:
    start = html.index(f'<article class="creator-card" aria-labelledby="creator-{creator_id}-name">')
    return html[start:html.index("</article>", start)]


def _text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


@pytest.mark.parametrize(("locale", "labels"), [
    ("en", ["Followers", "Engagement", "Short video", "Beauty", "✓ Verified", "Authentic 92", "250K", "4.2%",
            "¥8,000.00"]),
    ("zh_CN", ["粉丝数", "互动率", "短视频", "美妆", "✓ 已实名认证", "真实度高 92", "25万", "4.2%", "¥8,000.00"]),
])
def test_a_result_card_in_english_and_chinese(client, login_as, session, brand, creators, lists, locale,  # noqa: F811
                                             labels):
    brand["manager"].locale = locale
    session.flush()
    login_as(brand["manager"])
    html = client.get("/discover?q=美妆&sort=followers").get_data(as_text=True)
    card = _card(html, creators["mia"].id)
    for label in labels:
        assert label in _text(card), (label, _text(card))
    assert f'href="/creators/{creators["mia"].id}"' in card and "@mia_beauty" in card
    # On three of the brand's lists, by name, linked; the control offers every list of the brand, newest first.
    on = re.findall(r'<a href="/enterprises/\d+/shortlists/(\d+)">([^<]*)</a>', card)
    assert on == [(str(s.id), str(escape(s.name))) for s in sorted([lists["b"], lists["a"], lists["c"]],
                                                                   key=lambda s: (s.name, s.id))]
    offered = re.findall(r'<option value="(\w+)">', card)
    newest_first = sorted(lists.values(), key=lambda s: (s.created_at, s.id), reverse=True)
    assert offered == [str(s.id) for s in newest_first] + ["new"]
    assert "Not yours" not in html


def test_card_text_is_escaped(client, login_as, session, brand, creators):  # noqa: F811
    creator = session.get(Creator, creators["mia"].id)
    creator.display_name = '<i>Mia</i> & "Co"'
    session.flush()
    login_as(brand["viewer"])
    html = client.get("/discover?q=美妆&sort=followers").get_data(as_text=True)
    card = _card(html, creator.id)
    assert "<i>Mia</i>" not in card
    assert "&lt;i&gt;Mia&lt;/i&gt; &amp; &#34;Co&#34;" in card
    assert '<span class="creator-avatar creator-avatar-initial" aria-hidden="true">&lt;</span>' in card
    # A viewer sees which lists a creator is on elsewhere, but no control to change them.
    assert "shortlist-widget" not in html
