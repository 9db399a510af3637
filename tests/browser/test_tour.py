"""A tour of every page with the demo data, as each kind of user, in both languages: each page renders
its heading, our script runs, and the browser reports no errors (a CSP violation would show up here)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from marketplace.extensions import limiter
from marketplace.seed import seed_demo
from tests.browser.conftest import _empty_tables

PASSWORD = "canal-demo-2026"

TOURS = {
    "owner@lumen.demo": ["/dashboard", "/enterprises/1", "/enterprises/1/members", "/enterprises/1/edit",
                         "/creator/", "/settings", "/settings/password", "/enterprises/new", "/discover",
                         "/discover?q=美妆&followers_min=10000&sort=followers", "/discover?q=zzzz火星",
                         "/enterprises/1/shortlists"],
    "finance@lumen.demo": ["/enterprises/1/wallet", "/enterprises/1/wallet/top-up",
                           "/enterprises/1/wallet/top-ups/4/bank", "/enterprises/1/wallet/withdraw",
                           "/enterprises/1/wallet/withdrawals", "/enterprises/1/wallet/withdrawals/1",
                           "/enterprises/1/wallet/withdrawals/2"],
    "finance@canal.demo": ["/finance/", "/finance/top-ups", "/finance/accounts", "/finance/accounts/2",
                           "/finance/transactions/1", "/finance/trial-balance", "/finance/credit-lines",
                           "/finance/enterprises/1/credit-line", "/finance/withdrawals",
                           "/finance/withdrawals?state=all"],
    "viewer@lumen.demo": ["/enterprises/1", "/enterprises/1/members", "/creators/2"],
    "owner@nimbus.demo": ["/dashboard"],
    "reviewer@canal.demo": ["/staff/", "/staff/enterprises", "/staff/enterprises?state=rejected",
                            "/staff/enterprises/2", "/staff/identity", "/staff/identity?state=approved"],
    "mia@creators.demo": ["/creator/", "/creator/profile", "/creator/platform", "/creator/rate-card",
                          "/creator/verification", "/creators/2"],
    "admin@canal.demo": ["/staff/audit", "/staff/users"],
}


@pytest.fixture(scope="module")
def demo_site(live_app, live_server):
    """The demo data, seeded once for the whole tour (~7 s of CPU a seeding; the tours only sign in and read
    pages): tables emptied before and after the module, as ``live`` does around each test."""
    _empty_tables(live_app)
    seed_demo(live_app)
    yield live_server
    _empty_tables(live_app)


@pytest.fixture
def demo(demo_site):
    limiter.reset()
    return demo_site


def _login(page, base, email):
    page.goto(base + "/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("details.user-menu")).to_be_visible()


@pytest.mark.parametrize("email", list(TOURS))
def test_page_tour(browser, demo, email, shot):
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(f"{page.url}: {msg.text}") if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(f"{page.url}: {exc}"))
    _login(page, demo, email)
    for path in TOURS[email]:
        response = page.goto(demo + path)
        assert response.status == 200, (path, response.status)
        expect(page.locator("h1").first).to_be_visible()
        assert page.evaluate("document.documentElement.classList.contains('js')")
        shot(page, email.split("@")[0] + path.replace("/", "_"))
    assert errors == []
    context.close()


def test_public_pages_in_chinese(browser, demo, shot):
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 860})
    page = context.new_page()
    for path in ("/", "/login", "/signup", "/password/forgot", "/nope-404"):
        page.goto(demo + path)
        expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
        shot(page, "zh" + path.replace("/", "_"))
    context.close()


def _boxes_in_order(page) -> list[tuple[str, float, float]]:
    """The top bar's parts from left to right: (name, left, right) of the logo, the navigation, the bell, the
    context switcher and the account menu."""
    # What is drawn, not the boxes' layout: a squeezed box's content overflows it (the navigation's did).
    return page.evaluate("""() => ['.topbar-inner > .brand', '.mainnav', '.topbar-right > .bell',
        '.topbar-right > .context-menu', '.topbar-right > .user-menu'].map(sel => {
            const el = document.querySelector(sel);
            const rects = [el, ...el.querySelectorAll('*')].filter(e => e.checkVisibility())
                .map(e => e.getBoundingClientRect()).filter(r => r.width > 0);
            return [sel, Math.min(...rects.map(r => r.left)), Math.max(...rects.map(r => r.right))];
        })""")


@pytest.mark.parametrize("email", ["owner@lumen.demo", "finance@lumen.demo", "finance@canal.demo", "mia@creators.demo"])
def test_the_top_bar_never_overlaps(browser, demo, email, shot):
    """However long the brand's name and whichever context's navigation, each part of the bar keeps to itself
    (a long name used to push the bell over the navigation), in both languages and at desktop widths."""
    for locale in ("en-US", "zh-CN"):
        for width in (1280, 1024, 880):
            context = browser.new_context(locale=locale, viewport={"width": width, "height": 700})
            page = context.new_page()
            page.goto(demo + "/login")
            page.locator("input[name=email]").fill(email)
            page.locator("input[name=password]").fill(PASSWORD)
            page.locator("form button[type=submit]").last.click()
            expect(page.locator("details.user-menu")).to_be_visible()
            page.wait_for_load_state("load")  # the stylesheet applied (unstyled, every part starts at the body's margin)
            boxes = _boxes_in_order(page)
            for (left_name, _, left_end), (right_name, right_start, _) in zip(boxes, boxes[1:], strict=False):
                assert left_end <= right_start + 0.5, (locale, width, left_name, right_name, boxes)
            assert boxes[-1][2] <= width, (locale, width, boxes)
            if width in (1024, 880):
                shot(page, f"topbar-{email.split('@')[0]}-{locale}-{width}")
            context.close()
