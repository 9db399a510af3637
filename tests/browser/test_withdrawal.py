"""Journey: a brand's finance member withdraws unused balance to the company's bank account (the amount is held at
once), a Canal finance staff member makes the transfer and marks it paid with the bank's reference, and the brand
sees it paid. Real UI only; ``live_db`` funds the wallet and checks the ledger afterwards."""

from __future__ import annotations

import re

from playwright.sync_api import expect
from sqlalchemy import select

from marketplace.audit.models import AuditEntry
from marketplace.ledger import flows
from marketplace.payments.models import Withdrawal
from marketplace.payments.withdrawals import withdrawal_code
from tests.browser.conftest import watch_console
from tests.browser.test_bank_top_up import (  # noqa: F401 - staff_page is a fixture
    log_in,
    main_nav,
    staff_page,
    verified_enterprise_with_finance_member,
)
from tests.ledger_helpers import assert_balances, assert_ledger_sound

Y = "¥"


def test_brand_withdraws_and_finance_pays_it(page, staff_page, live, live_db, shot):  # noqa: F811
    enterprise_id = verified_enterprise_with_finance_member(live_db)
    with live_db() as session:
        flows.top_up(session, enterprise_id=enterprise_id, amount=10_000_00, rail="bank", key="browser-withdrawal")
    console_errors = watch_console(page, staff_page)

    # The brand's finance member opens the wallet and asks to withdraw ¥3,000 to the company's account.
    log_in(page, live, "fiona@example.com")
    main_nav(page).get_by_role("link", name="Wallet").click()
    expect(page.get_by_test_id("available")).to_have_text(f"{Y}10,000.00")
    page.get_by_role("link", name="Withdraw funds").click()
    expect(page.get_by_role("heading", name="Withdraw to your bank account", level=1)).to_be_visible()
    expect(page.get_by_test_id("withdrawable")).to_have_text(f"{Y}10,000.00")
    expect(page.get_by_label("Account name")).to_have_value("杭州湖畔茶饮有限公司")  # the registered name

    # Too much first: refused beside the field, nothing held.
    page.get_by_label("Amount (CNY)").fill("12,000")
    page.get_by_label("Bank and branch").fill("招商银行杭州西湖支行")
    page.get_by_label("Account number").fill("6214 8301 2345 6789")
    page.get_by_role("button", name="Request the withdrawal").click()
    amount = page.get_by_label("Amount (CNY)")
    expect(amount).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#amount-error")).to_have_text(
        f"You can withdraw at most {Y}10,000.00: your available balance, not counting credit.")
    shot(page, "brand-withdraw-too-much")
    amount.fill("3,000")
    shot(page, "brand-withdraw-form")
    page.get_by_role("button", name="Request the withdrawal").click()

    heading = page.get_by_role("heading", level=1)
    expect(heading).to_have_text(re.compile(r"^Withdrawal CNW\d{9}$"))
    code = heading.inner_text().split()[-1]
    expect(page.get_by_role("status").filter(has_text=f"{code} requested")).to_be_visible()
    expect(page.get_by_test_id("withdrawal-state")).to_have_text("pending")
    shot(page, "brand-withdrawal-pending")
    main_nav(page).get_by_role("link", name="Wallet").click()
    expect(page.get_by_test_id("available")).to_have_text(f"{Y}7,000.00")
    expect(page.get_by_role("row").filter(has_text=code).first).to_contain_text(f"{Y}3,000.00")
    held_row = page.get_by_role("row").filter(has_text=f"Withdrawal {code} requested")
    expect(held_row).to_contain_text("Withdrawal requested (held)")
    expect(held_row.get_by_role("cell").nth(3)).to_have_text(f"-{Y}3,000.00")
    shot(page, "brand-wallet-withdrawal-held")

    # Finance staff, in a browser of their own, find it in the console and mark it paid after the transfer.
    log_in(staff_page, live, "fei@canal.example")
    main_nav(staff_page).get_by_role("link", name="Finance").click()
    expect(staff_page.get_by_test_id("withdrawals-pending")).to_have_text("1")
    staff_page.get_by_role("navigation", name="Finance").get_by_role("link", name="Withdrawals").click()
    expect(staff_page.get_by_role("heading", name="Withdrawals", level=1)).to_be_visible()
    row = staff_page.get_by_role("row").filter(has_text=code)
    expect(row).to_contain_text("杭州湖畔茶饮有限公司")
    expect(row).to_contain_text("6214830123456789")
    expect(row).to_contain_text(f"{Y}3,000.00")
    shot(staff_page, "finance-withdrawals-queue")
    row.get_by_label(f"Bank transfer reference {code}").fill("CMB 2026112800417")
    row.get_by_role("button", name="Mark paid").click()
    expect(staff_page.get_by_role("status").filter(has_text=f"{code} marked as paid to Lakeside Tea.")).to_be_visible()
    expect(staff_page.get_by_role("row").filter(has_text=code)).to_have_count(0)  # left the pending queue
    staff_page.get_by_label("State").select_option(label="paid")
    staff_page.get_by_role("button", name="Search").click()
    done = staff_page.get_by_role("row").filter(has_text=code)
    expect(done).to_contain_text("CMB 2026112800417")
    expect(done).to_contain_text("fei@canal.example")
    shot(staff_page, "finance-withdrawal-paid")

    # The brand sees it paid, with the bank's reference; the balance stays 7,000 (the hold was the debit).
    page.get_by_role("link", name="All withdrawals").click()
    expect(page.get_by_role("heading", name="Withdrawals", level=1)).to_be_visible()
    listed = page.get_by_role("row").filter(has_text=code)
    expect(listed.get_by_test_id("withdrawal-state")).to_have_text("paid")
    listed.get_by_role("link", name=code).click()
    expect(page.get_by_role("heading", name="Paid to your bank account")).to_be_visible()
    expect(page.get_by_test_id("bank-reference")).to_have_text("CMB 2026112800417")
    shot(page, "brand-withdrawal-paid")
    main_nav(page).get_by_role("link", name="Wallet").click()
    expect(page.get_by_test_id("available")).to_have_text(f"{Y}7,000.00")
    expect(page.get_by_role("heading", name="Pending withdrawals")).to_have_count(0)

    # The refused request answered 400 on purpose (Chromium logs every 4xx page it loads); nothing else.
    assert console_errors == ["Failed to load resource: the server responded with a status of 400 (BAD REQUEST)"]

    with live_db() as session:
        withdrawal = session.scalar(select(Withdrawal))
        assert withdrawal_code(withdrawal.id) == code
        assert (withdrawal.state, withdrawal.amount, withdrawal.bank_reference) == ("paid", 3_000_00,
                                                                                     "CMB 2026112800417")
        assert_balances(session, {flows.enterprise_available(enterprise_id): 7_000_00, flows.CASH_BANK: 7_000_00,
                                  flows.withdrawal_held(withdrawal.id): 0})
        assert_ledger_sound(session)
        actions = session.scalars(select(AuditEntry.action).where(AuditEntry.object_type == "withdrawal")
                                  .order_by(AuditEntry.id)).all()
        assert actions == ["withdrawal.request", "withdrawal.pay"]
