"""Journey: before granting a brand credit, Canal finance opens its credit-line page and sees the brand's wallet as the
brand sees it: the available balance, what its orders hold and what its pending withdrawals hold (before, the page
said "Held for orders and boosts ¥0.00" whatever was held, and never showed the withdrawals). ``live_db`` sets up
¥10,000.00 credited, an offer of ¥1,000.00 (escrow: price + service fee) and a pending withdrawal of ¥3,000.00."""

from __future__ import annotations

from playwright.sync_api import expect

from marketplace.enterprises.models import Enterprise
from marketplace.ledger import flows
from marketplace.orders import services as order_services
from marketplace.orders.services import Actor
from marketplace.payments.withdrawals import request_withdrawal
from tests.browser.test_bank_top_up import (  # noqa: F401 - staff_page is a fixture
    log_in,
    main_nav,
    staff_page,
    verified_enterprise_with_finance_member,
)
from tests.integration.order_world import new_creator
from tests.ledger_helpers import assert_balances, assert_ledger_sound

Y = "¥"


def money(amount: int) -> str:
    return f"{Y}{amount // 100:,}.{amount % 100:02d}"


def test_finance_sees_what_the_brand_has_held_before_granting_credit(page, staff_page, live, live_db,  # noqa: F811
                                                                     shot):
    enterprise_id = verified_enterprise_with_finance_member(live_db)
    with live_db() as session:
        enterprise = session.get(Enterprise, enterprise_id)
        owner = enterprise.memberships[0].user
        flows.top_up(session, enterprise_id=enterprise_id, amount=10_000_00, rail="bank", key="browser-credit-line")
        order = order_services.send_offer(session, Actor("brand", owner), enterprise, new_creator(session),
                                          title="Spring serum", content_type="short_video", price=1_000_00)
        withdrawal = request_withdrawal(session, owner, enterprise, amount=3_000_00, account_name=enterprise.legal_name,
                                        bank_name="招商银行杭州西湖支行", account_number="6214830123456789",
                                        request_key="browser-credit-line")
        session.flush()
        escrow, order_id, withdrawal_id = order.price + order.service_fee, order.id, withdrawal.id
    available = 10_000_00 - escrow - 3_000_00
    with live_db() as session:
        assert_balances(session, {flows.enterprise_available(enterprise_id): available, flows.CASH_BANK: 10_000_00,
                                  flows.order_escrow(order_id): escrow, flows.withdrawal_held(withdrawal_id): 3_000_00})
        assert_ledger_sound(session)

    # The brand's finance member sees its wallet.
    log_in(page, live, "fiona@example.com")
    main_nav(page).get_by_role("link", name="Wallet").click()
    wallet = {name: page.get_by_test_id(name) for name in ("available", "held", "held-withdrawals")}
    expect(wallet["available"]).to_have_text(money(available))
    expect(wallet["held"]).to_have_text(money(escrow))
    expect(wallet["held-withdrawals"]).to_have_text(f"{Y}3,000.00")
    shot(page, "brand-wallet")

    # Canal finance opens the brand's credit line from the console: the same three figures.
    log_in(staff_page, live, "fei@canal.example")
    main_nav(staff_page).get_by_role("link", name="Finance").click()
    staff_page.get_by_role("navigation", name="Finance").get_by_role("link", name="Credit lines").click()
    staff_page.get_by_role("row").filter(has_text="杭州湖畔茶饮有限公司").get_by_role("link", name="Grant").click()
    expect(staff_page.get_by_role("heading", name="Credit line", level=1)).to_be_visible()
    for name, locator in wallet.items():
        expect(staff_page.get_by_test_id(name)).to_have_text(locator.inner_text())
    expect(staff_page.locator(".stat").filter(has_text="Held for orders and boosts")).to_contain_text(money(escrow))
    expect(staff_page.locator(".stat").filter(has_text="Held for pending withdrawals")).to_contain_text(
        f"{Y}3,000.00")
    shot(staff_page, "finance-credit-line")
