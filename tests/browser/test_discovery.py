"""Discovery in real Chromium, with the demo data: a brand owner searches in Chinese, narrows with filters, the
results change in place (htmx: no page load, the address follows the search), shortlists two creators from the
results, and compares them side by side. The same search also works with JavaScript turned off."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from marketplace.accounts.models import User
from marketplace.seed import seed_demo

PASSWORD = "canal-demo-2026"


@pytest.fixture
def demo(live, live_app, live_db):
    seed_demo(live_app)
    with live_db() as session:  # the demo owner reads Chinese; this journey reads the English labels
        session.scalar(select(User).where(User.email == "owner@lumen.demo")).locale = "en"
    return live


def _login(page, base: str, email: str = "owner@lumen.demo") -> None:
    page.goto(base + "/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("details.user-menu")).to_be_visible()


def _query(page) -> dict[str, list[str]]:
    return parse_qs(urlsplit(page.url).query)


def test_brand_searches_in_chinese_shortlists_and_compares(browser, demo, shot):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    _login(page, demo)

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Find creators").click()
    expect(page.get_by_role("heading", name="Find creators")).to_be_visible()
    page.evaluate("window.__noReload = true")  # gone if the page reloads

    # A two-character Chinese keyword: the results region is swapped, the address carries the search.
    page.get_by_label("Keywords").fill("美妆")
    page.get_by_label("Keywords").press("Enter")
    expect(page).to_have_url(re.compile(r"q=%E7%BE%8E%E5%A6%86"))
    cards = page.locator("#results article.creator-card")
    expect(cards.first).to_be_visible()
    assert page.evaluate("window.__noReload === true"), "the search reloaded the page"
    shot(page, "keyword")

    # A filter applies on change, still in place.
    page.get_by_label("Followers from").fill("10000")
    page.get_by_label("Followers from").press("Tab")  # a typed value applies when it is committed
    page.get_by_label("Sort by").select_option("followers")
    expect(page).to_have_url(re.compile(r"sort=followers"))
    expect(page).to_have_url(re.compile(r"followers_min=10000"))
    page.wait_for_load_state("networkidle")
    assert page.evaluate("window.__noReload === true")
    expect(cards.first).to_be_visible()
    followers = _query(page)
    assert followers["q"] == ["美妆"]
    shot(page, "filtered")

    # Shortlist the first two results (the first creates the list named "Shortlist").
    first, second = cards.nth(0), cards.nth(1)
    first_name = first.locator("h3").inner_text()
    second_name = second.locator("h3").inner_text()
    first.get_by_role("button", name="Shortlist").click()
    expect(first.get_by_role("status")).to_contain_text("Added to “Shortlist”")
    # The second card was drawn before the list existed; its "Shortlist" still means that same list.
    second.get_by_role("button", name="Shortlist").click()
    expect(second.get_by_role("status")).to_contain_text("Added to “Shortlist”")
    assert page.evaluate("window.__noReload === true")
    shot(page, "shortlisted")

    # The shortlist, then the comparison of both.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Shortlists").click()
    page.get_by_role("link", name="Shortlist", exact=True).click()
    expect(page.get_by_role("heading", name="Shortlist", exact=True)).to_be_visible()
    page.get_by_label("Note", exact=True).first.fill("Ask for a livestream quote")
    page.get_by_role("button", name="Save note").first.click()
    expect(page.get_by_role("status").first).to_contain_text("Saved")
    shot(page, "shortlist")
    page.get_by_role("button", name="Compare selected").click()
    expect(page.get_by_role("heading", name="Compare creators")).to_be_visible()
    table = page.locator("table.compare-table")
    expect(table).to_contain_text(first_name)
    expect(table).to_contain_text(second_name)
    expect(table).to_contain_text("Engagement")
    shot(page, "compare")
    assert errors == []
    context.close()


def test_search_works_without_javascript(browser, demo, shot):
    context = browser.new_context(java_script_enabled=False, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    _login(page, demo)
    page.goto(demo + "/discover")
    page.get_by_label("Keywords").fill("美食")
    page.get_by_label("Category").select_option("food")
    page.get_by_role("button", name="Search").click()
    assert _query(page)["q"] == ["美食"] and _query(page)["category"] == ["food"]
    expect(page.locator("#results article.creator-card").first).to_be_visible()
    page.get_by_label("Keywords").fill("没有这种创作者zzz")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("heading", name="No creators match this search")).to_be_visible()
    shot(page, "empty")
    context.close()


def test_swapping_results_never_applies_inline_style(browser, demo):
    """Screenshot tools and browser extensions write style attributes through the CSSOM (Playwright's screenshots
    hide the caret that way, and leave ``style=""`` behind). htmx's settle step copied the ``style`` attribute of
    the element being replaced onto its replacement with ``setAttribute``, which the page's CSP
    (``style-src 'self'``) refuses: a console error. The page's htmx config settles classes, not styles."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    _login(page, demo)
    page.goto(demo + "/discover")
    page.evaluate("document.getElementById('results').style.setProperty('caret-color', 'transparent')")
    assert page.get_attribute("#results", "style")  # what a screenshot or an extension leaves behind

    page.get_by_label("Keywords").fill("美妆")
    page.get_by_label("Keywords").press("Enter")
    expect(page).to_have_url(re.compile(r"q=%E7%BE%8E%E5%A6%86"))
    expect(page.locator("#results article.creator-card").first).to_be_visible()
    expect(page.locator("#results.htmx-settling, .htmx-request")).to_have_count(0)
    page.wait_for_timeout(100)  # past htmx's settle delay (20 ms), when the copied attributes are put back
    assert not [e for e in errors if "Content Security Policy" in e], errors
    context.close()
