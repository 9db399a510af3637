"""Journey of issue 4: a brand's finance member tops up by bank transfer, a Canal finance staff member confirms
the amount that actually arrived (a little less than asked), and the brand sees the new balance and the
transaction. Real UI only; ``live_db`` sets up the verified enterprise and checks the ledger afterwards."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from marketplace.accounts.services import create_user
from marketplace.audit.models import AuditEntry
from marketplace.enterprises import services as enterprise_services
from marketplace.enterprises.models import Membership
from marketplace.files.services import store_bytes
from marketplace.ledger import flows
from marketplace.payments.models import TopUp
from marketplace.payments.services import parse_reference_code
from marketplace.seed import licence_png
from marketplace.staff.services import create_staff
from tests.browser.conftest import watch_console
from tests.ledger_helpers import assert_balances, assert_ledger_sound

PASSWORD = "walnut ledger harbour 31"
Y = "¥"  # CNY is shown as ¥ in every language (marketplace.money.format_money)


def uscc_for(body17: str) -> str:
    from stdnum.cn import uscc

    return body17 + uscc.calc_check_digit(body17)


def log_in(page: Page, live: str, email: str) -> None:
    page.goto(live + "/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Log in", exact=True).click()
    expect(main_nav(page)).to_be_visible()  # logged in


def main_nav(page: Page):
    return page.get_by_role("navigation", name="Main")


@pytest.fixture
def staff_page(browser, browser_context_args):
    """A page in a browser context of its own (its own cookies), closed after the test."""
    context = browser.new_context(**browser_context_args)
    try:
        yield context.new_page()
    finally:
        context.close()


def verified_enterprise_with_finance_member(live_db) -> int:
    """As tests/conftest.py's make_enterprise(state="verified") + make_member(role="finance"), committed."""
    with live_db() as session:
        owner = create_user(session, email="olivia@example.com", password=PASSWORD, display_name="Olivia Owner",
                            verified=True)
        uscc = uscc_for("91330106MA2H7TEA0")
        details = enterprise_services.EnterpriseDetails(
            legal_name="杭州湖畔茶饮有限公司", display_name="Lakeside Tea", uscc=uscc, contact_name="Olivia Owner",
            contact_phone="+86 571 5555 0000", contact_email="olivia@example.com", invoice_title="", tax_number="")
        enterprise = enterprise_services.create_enterprise(session, owner, details)
        stored = store_bytes(session, licence_png("Lakeside Tea", uscc), "image/png", "licence.png", owner.id)
        enterprise.licence_file_id = stored.id
        enterprise_services.submit_for_verification(session, owner, enterprise)
        reviewer = create_user(session, email="rev@example.com", password=PASSWORD, display_name="Rita",
                               staff_role="reviewer", verified=True)
        enterprise_services.approve_enterprise(session, reviewer, enterprise)
        fiona = create_user(session, email="fiona@example.com", password=PASSWORD, display_name="Fiona Finance",
                            verified=True)
        session.add(Membership(enterprise_id=enterprise.id, user_id=fiona.id, role="finance"))
        create_staff(session, email="fei@canal.example", password=PASSWORD, role="finance", display_name="Fei")
        session.flush()
        return enterprise.id


def test_brand_tops_up_by_bank_transfer_and_finance_confirms_what_arrived(page, staff_page, live, live_db, shot):
    enterprise_id = verified_enterprise_with_finance_member(live_db)
    console_errors = watch_console(page, staff_page)

    # The brand's finance member opens the wallet from the navigation: nothing in it yet.
    log_in(page, live, "fiona@example.com")
    main_nav(page).get_by_role("link", name="Wallet").click()
    expect(page.get_by_role("heading", name="Wallet", level=1)).to_be_visible()
    expect(page.get_by_test_id("available")).to_have_text(f"{Y}0.00")
    expect(page.get_by_role("heading", name="No transactions yet")).to_be_visible()
    shot(page, "brand-empty-wallet")

    # Add funds → bank transfer of ¥12,345.67.
    page.get_by_role("link", name="Add funds").click()
    expect(page.get_by_role("heading", name="Add funds", level=1)).to_be_visible()
    page.get_by_label("Amount (CNY)").first.fill("12,345.67")
    shot(page, "brand-add-funds")
    page.get_by_role("button", name="Get the payment details").click()
    expect(page.get_by_role("heading", name="Bank transfer details", level=1)).to_be_visible()
    code_cell = page.get_by_test_id("reference-code")
    expect(code_cell).to_have_text(re.compile(r"^CNL\d{9}$"))
    code = code_cell.inner_text().strip()
    assert parse_reference_code(code) is not None
    details = page.locator("dl.bank-details")
    expect(details).to_contain_text(f"{Y}12,345.67")
    expect(details).to_contain_text("6225 8801 2345 6789")
    expect(details).to_contain_text("Canal Technology (Shanghai) Co., Ltd.")
    shot(page, "brand-bank-details")
    wallet_url = f"{live}/enterprises/{enterprise_id}/wallet"
    main_nav(page).get_by_role("link", name="Wallet").click()
    expect(page).to_have_url(wallet_url)
    pending_row = page.get_by_role("row").filter(has_text=code)
    expect(pending_row).to_contain_text("Bank transfer")
    expect(pending_row).to_contain_text(f"{Y}12,345.67")
    expect(page.get_by_test_id("available")).to_have_text(f"{Y}0.00")
    shot(page, "brand-pending")

    # Finance staff, in a browser of their own, find it and confirm the ¥12,300.00 that arrived.
    log_in(staff_page, live, "fei@canal.example")
    main_nav(staff_page).get_by_role("link", name="Finance").click()
    staff_page.get_by_role("navigation", name="Finance").get_by_role("link", name="Bank top-ups").click()
    expect(staff_page.get_by_role("heading", name="Bank top-ups", level=1)).to_be_visible()
    row = staff_page.get_by_role("row").filter(has_text=code)
    expect(row).to_contain_text("杭州湖畔茶饮有限公司")
    expect(row).to_contain_text(f"{Y}12,345.67")
    received = row.get_by_label(f"Amount received (CNY) {code}")
    expect(received).to_have_value("12345.67")  # prefilled with what was asked
    shot(staff_page, "finance-queue")
    received.fill("12,300.00")
    row.get_by_label("Note").fill("Statement line 17: 12,300.00, remark " + code)
    shot(staff_page, "finance-amount-typed")
    row.get_by_role("button", name="Confirm received").click()
    expect(staff_page.get_by_role("status").filter(has_text=f"{code} confirmed: Lakeside Tea was credited.")
           ).to_be_visible()
    expect(staff_page.get_by_role("row").filter(has_text=code)).to_have_count(0)  # left the pending queue
    shot(staff_page, "finance-confirmed")
    staff_page.get_by_label("State").select_option(label="completed")
    staff_page.get_by_role("button", name="Search").click()
    done = staff_page.get_by_role("row").filter(has_text=code)
    expect(done).to_contain_text(f"received {Y}12,300.00")
    expect(done).to_contain_text("fei@canal.example")
    shot(staff_page, "finance-completed-list")

    # Back at the brand: reload the wallet, the balance and the transaction are there.
    page.reload()
    expect(page.get_by_test_id("available")).to_have_text(f"{Y}12,300.00")
    expect(page.get_by_role("heading", name="Pending top-ups")).to_have_count(0)
    txn_row = page.get_by_role("row").filter(has_text=f"Bank transfer {code}")
    expect(txn_row).to_contain_text("Top-up by bank transfer")
    expect(txn_row.get_by_role("cell").nth(3)).to_have_text(f"+{Y}12,300.00")
    expect(txn_row.get_by_role("cell").nth(4)).to_have_text(f"{Y}12,300.00")
    shot(page, "brand-credited")

    assert console_errors == []

    with live_db() as session:
        top_up = session.scalar(select(TopUp).where(TopUp.reference_code == code))
        assert (top_up.state, top_up.amount_requested, top_up.amount_received) == ("completed", 1_234_567,
                                                                                   1_230_000)
        assert_balances(session, {flows.enterprise_available(enterprise_id): 1_230_000, flows.CASH_BANK: 1_230_000})
        assert_ledger_sound(session)
        [entry] = session.scalars(select(AuditEntry).where(AuditEntry.action == "top_up.confirm")).all()
        assert (entry.object_id, entry.actor.email, entry.after["amount_received"]) == (
            top_up.id, "fei@canal.example", 1_230_000)
