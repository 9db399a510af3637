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
