"""The main navigation on a phone (390 × 844): below 860 px the links leave the top bar and a Menu button opens
them as a panel under it. For a brand owner, a creator and a staff member: the links are hidden until the button
is pressed, then visible, large enough to tap and marked where the reader is; one of them leads to its page; the
button says whether the panel is open; the bar's other parts (bell, context switcher, account) stay in place and
reachable; the page never scrolls sideways; the browser reports no error (a CSP violation would show up here).
Without JavaScript the button still opens the panel (a popover: no script needed). Above 860 px the bar is the
bar it was: no button, the links in it."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from marketplace.accounts.models import User
from marketplace.extensions import limiter
from tests.browser.conftest import LiveDB
from tests.browser.test_tour import _login as log_in
from tests.browser.test_tour import demo_site  # noqa: F401 - a fixture: the demo data, seeded once a module

PHONE = {"width": 390, "height": 844}

# (email, the page the reader lands on, the group a link is in or None, the link followed)
ROLES = [
    ("owner@lumen.demo", "Overview", None, "Orders"),
    ("mia@creators.demo", "Dashboard", "My profile", "Rate card"),
    ("reviewer@canal.demo", "Console", None, "Creator identity"),
]


@pytest.fixture
def demo(demo_site, live_app):  # noqa: F811
    """The tour's demo data (seeded once for the module), read in English."""
    limiter.reset()
    with LiveDB(live_app) as session:
        for user in session.scalars(select(User)):
            user.locale = "en"
    return demo_site


def _login(page, base: str, email: str) -> None:
    log_in(page, base, email)
    page.wait_for_load_state("load")  # the stylesheet applied


def _watch_errors(page) -> list[str]:
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(f"{page.url}: {msg.text}") if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(f"{page.url}: {exc}"))
    return errors


def _menu_button(page):
    return page.locator("header.topbar").get_by_role("button", name="Menu")


def _visible_nav_links(page) -> list[str]:
    return page.evaluate("""() => [...document.querySelectorAll('nav.mainnav a, nav.mainnav summary')]
        .filter(e => e.checkVisibility()).map(e => e.textContent.trim())""")


def _horizontal_overflow(page) -> int:
    return page.evaluate("document.scrollingElement.scrollWidth")


def _bar_parts(page) -> list[tuple[str, float, float, float, float]]:
    """The top bar's parts from left to right as (selector, left, right, top, bottom) of what is drawn."""
    return page.evaluate("""() => ['.topbar-inner > .brand', '.nav-toggle', '.topbar-right > .bell',
        '.topbar-right > .context-menu > summary', '.topbar-right > .user-menu > summary'].map(sel => {
            const el = document.querySelector(sel);
            const rects = [el, ...el.querySelectorAll('*')].filter(e => e.checkVisibility())
                .map(e => e.getBoundingClientRect()).filter(r => r.width > 0);
            return [sel, Math.min(...rects.map(r => r.left)), Math.max(...rects.map(r => r.right)),
                    Math.min(...rects.map(r => r.top)), Math.max(...rects.map(r => r.bottom))];
        })""")


def _assert_bar_fits(page, width: int) -> None:
    parts = _bar_parts(page)
    for (left_name, _, left_end, _, _), (right_name, right_start, _, _, _) in zip(parts, parts[1:], strict=False):
        assert left_end <= right_start + 0.5, (left_name, right_name, parts)
    assert parts[0][1] >= 0 and parts[-1][2] <= width, parts
    assert all(bottom <= 61 for *_, bottom in parts), parts  # all on the one line of the bar


@pytest.mark.parametrize(("email", "landing", "group", "link"), ROLES)
def test_the_menu_opens_the_navigation_on_a_phone(browser, demo, shot, email, landing, group, link):
    context = browser.new_context(viewport=PHONE, locale="en-US")
    page = context.new_page()
    errors = _watch_errors(page)
    name = email.split("@")[0]
    _login(page, demo, email)

    button = _menu_button(page)
    expect(button).to_be_visible()
    expect(button).to_have_attribute("aria-expanded", "false")
    expect(button).to_have_attribute("aria-controls", "main-nav-panel")
    assert _visible_nav_links(page) == []  # closed: no link shows
    _assert_bar_fits(page, PHONE["width"])
    assert _horizontal_overflow(page) <= PHONE["width"]
    shot(page, f"{name}-closed")

    button.click()
    expect(button).to_have_attribute("aria-expanded", "true")
    nav = page.get_by_role("navigation", name="Main")
    expect(nav).to_be_visible()
    expect(nav.locator("a[aria-current=page]")).to_have_text(landing)  # where the reader is, marked
    shown = _visible_nav_links(page)
    assert landing in shown and (group or link) in shown, shown
    bar = page.locator("header.topbar").bounding_box()
    bar_bottom = bar["y"] + bar["height"]
    for target in nav.locator("a, summary").all():
        if not target.is_visible():
            continue  # a group's links, until the group opens
        box = target.bounding_box()
        assert box["height"] >= 44 and box["width"] >= 44, (target.text_content(), box)  # a tap target
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], (target.text_content(), box)
        assert box["y"] >= bar_bottom - 0.5, (target.text_content(), box)  # under the bar, not over it
    _assert_bar_fits(page, PHONE["width"])  # the bar stays as it was, every part of it in view
    assert _horizontal_overflow(page) <= PHONE["width"]
    shot(page, f"{name}-open")

    page.keyboard.press("Escape")  # closes it again
    expect(button).to_have_attribute("aria-expanded", "false")
    assert _visible_nav_links(page) == []

    # The bar's account menu is reachable with the panel open: one tap opens it and closes the panel.
    button.click()
    expect(nav).to_be_visible()
    page.locator(".user-menu > summary").click()
    expect(page.get_by_role("menuitem", name="Settings")).to_be_visible()
    expect(button).to_have_attribute("aria-expanded", "false")
    assert _visible_nav_links(page) == []
    page.keyboard.press("Escape")

    button.click()
    if group:
        nav.locator("summary", has_text=group).click()
        expect(nav.get_by_role("link", name=link)).to_be_visible()
        box = nav.get_by_role("link", name=link).bounding_box()
        assert box["height"] >= 44 and box["x"] + box["width"] <= PHONE["width"], box
        shot(page, f"{name}-group-open")
    target = nav.get_by_role("link", name=link, exact=True)
    href = target.get_attribute("href")
    target.click()
    page.wait_for_url(demo + href)
    expect(page.locator("h1").first).to_be_visible()
    expect(button).to_have_attribute("aria-expanded", "false")  # a new page, the panel closed
    assert _visible_nav_links(page) == []
    button.click()
    expect(nav.locator("a[aria-current=page]")).to_have_text(link)  # the new page is the one marked
    assert _horizontal_overflow(page) <= PHONE["width"]
    shot(page, f"{name}-landed-open")
    assert errors == []
    context.close()


def test_the_menu_opens_without_javascript(browser, demo, shot):
    context = browser.new_context(viewport=PHONE, locale="en-US", java_script_enabled=False)
    page = context.new_page()
    errors = _watch_errors(page)  # a CSP violation is reported with or without script
    _login(page, demo, "owner@lumen.demo")
    assert "js" not in (page.locator("html").get_attribute("class") or "")  # our script did not run
    button = _menu_button(page)
    expect(button).to_be_visible()
    expect(page.locator("nav.mainnav")).to_be_hidden()
    _assert_bar_fits(page, PHONE["width"])
    button.click()
    nav = page.get_by_role("navigation", name="Main")
    expect(nav).to_be_visible()
    expect(nav.locator("a[aria-current=page]")).to_have_text("Overview")
    assert _horizontal_overflow(page) <= PHONE["width"]
    shot(page, "owner-open-no-js")
    page.keyboard.press("Escape")  # the browser closes a popover
    expect(page.locator("nav.mainnav")).to_be_hidden()
    button.click()
    target = nav.get_by_role("link", name="Find creators")
    href = target.get_attribute("href")
    target.click()
    page.wait_for_url(demo + href)
    expect(page.locator("nav.mainnav")).to_be_hidden()
    button.click()
    expect(nav.locator("a[aria-current=page]")).to_have_text("Find creators")
    assert errors == []
    context.close()


@pytest.mark.parametrize("width", [1280, 880])
@pytest.mark.parametrize("email", [email for email, *_ in ROLES])
def test_wide_screens_keep_the_links_in_the_bar(browser, demo, shot, email, width):
    context = browser.new_context(viewport={"width": width, "height": 700}, locale="en-US")
    page = context.new_page()
    errors = _watch_errors(page)
    _login(page, demo, email)
    shot(page, f"{email.split('@')[0]}-bar-{width}")
    expect(page.locator(".nav-toggle")).to_have_count(1)
    expect(page.locator(".nav-toggle")).to_be_hidden()
    nav = page.get_by_role("navigation", name="Main")
    expect(nav).to_be_visible()
    header = page.locator("header.topbar").bounding_box()
    for target in nav.locator(":scope > a").all():  # every top-level link in the bar, on its one line
        box = target.bounding_box()
        assert header["y"] <= box["y"] and box["y"] + box["height"] <= header["y"] + header["height"], box
    assert errors == []
    context.close()


def test_the_bar_fits_a_phone_in_chinese(browser, demo, live_app, shot):
    """In Simplified Chinese the button reads 菜单 and the bar (bell, context switcher with the enterprise's Chinese
    name, account) still fits 390 px on one line; the panel's links are the Chinese ones."""
    with LiveDB(live_app) as session:
        session.scalar(select(User).where(User.email == "owner@lumen.demo")).locale = "zh_CN"
    context = browser.new_context(viewport=PHONE, locale="en-US")
    page = context.new_page()
    errors = _watch_errors(page)
    _login(page, demo, "owner@lumen.demo")  # the login form in English; the pages after it in the user's language
    button = page.locator("header.topbar").get_by_role("button", name="菜单")
    expect(button).to_be_visible()
    _assert_bar_fits(page, PHONE["width"])
    assert _horizontal_overflow(page) <= PHONE["width"]
    # The overview's details list stacks each term above its value (side by side left the values ~90 px wide).
    term, value = page.locator("dl.details dt").first.bounding_box(), page.locator("dl.details dd").first.bounding_box()
    assert value["y"] >= term["y"] + term["height"] - 1 and abs(value["x"] - term["x"]) < 1, (term, value)
    shot(page, "owner-zh-closed")
    button.click()
    expect(page.locator("nav.mainnav")).to_be_visible()  # its accessible name is in Chinese too
    links = _visible_nav_links(page)
    assert any("达人" in text for text in links), links  # 发现达人 (Find creators)
    assert not any(text in links for text in ("Overview", "Find creators", "Orders")), links
    assert _horizontal_overflow(page) <= PHONE["width"]
    shot(page, "owner-zh-open")
    assert errors == []
    context.close()
