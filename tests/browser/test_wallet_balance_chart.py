"""A brand's finance member sees the wallet's available balance over the last 30 days as a line, with its data a
click away, in English and in Simplified Chinese. The history is posted through the ledger's own flows at past
times (``live_db``); the page is the real one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from playwright.sync_api import Page, expect
from sqlalchemy import select

from marketplace.accounts.models import User
from marketplace.ledger import flows
from tests.browser.conftest import watch_console
from tests.browser.test_bank_top_up import log_in, main_nav, verified_enterprise_with_finance_member


def post_history(live_db, enterprise_id: int) -> None:
    """Top-ups and order funding over the last twelve days, the latest today, written in the order they happened."""
    now = datetime.now(UTC)
    wallet = flows.enterprise_available(enterprise_id)
    events = [(12, "top-up", 2_000_000), (10, 7001, 800_000), (9, "top-up", 500_000), (6, 7002, 1_050_000),
              (4, "top-up", 1_200_000), (2, 7003, 420_000), (0, "top-up", 300_000)]
    with live_db() as session:
        for days_ago, what, amount in events:
            when = now - timedelta(days=days_ago)
            if what == "top-up":
                flows.top_up(session, enterprise_id=enterprise_id, amount=amount, rail="bank",
                             key=f"chart-journey:{days_ago}", now=when)
            else:
                flows.post(session, kind="fund_escrow", key=f"chart-journey:{what}", reference=("order", what),
                           now=when, legs=[flows.debit(wallet, amount), flows.credit(flows.order_escrow(what), amount)])


def test_finance_member_sees_the_balance_over_the_last_30_days(page: Page, live, live_db, shot):
    enterprise_id = verified_enterprise_with_finance_member(live_db)
    post_history(live_db, enterprise_id)
    console_errors = watch_console(page)

    log_in(page, live, "fiona@example.com")
    main_nav(page).get_by_role("link", name="Wallet").click()
    chart = page.get_by_role("img", name="Available balance, last 30 days")
    expect(chart).to_be_visible()
    expect(page.get_by_test_id("available")).to_have_text("¥17,300.00")
    page.locator("#balance-chart summary").click()  # "Show the data"
    rows = page.locator("#balance-chart tbody tr")
    expect(rows).to_have_count(13)  # twelve days back and today
    expect(rows.first.locator("td").last).to_have_text("¥20,000.00")
    expect(rows.last.locator("td").last).to_have_text("¥17,300.00")
    shot(page, "wallet-balance-chart")

    with live_db() as session:
        session.scalar(select(User).where(User.email == "fiona@example.com")).locale = "zh_CN"
    page.reload()
    expect(page.get_by_role("img", name="近 30 天可用余额")).to_be_visible()
    shot(page, "wallet-balance-chart-zh")
    assert console_errors == []
