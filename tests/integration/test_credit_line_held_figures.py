# ruff: noqa: F811 - fixtures imported from the wallet and withdrawal tests are requested by name
"""Finance's credit-line page shows the brand's wallet summary as the brand sees it, held money included: what
orders and boosts hold and what pending withdrawals hold (the wallet page and the credit-line page get their figures
from one function, ``payments.views.wallet_holds``). Before, the credit-line page said "Held for orders and boosts
¥0.00" whatever was held and never showed the withdrawals tile, so finance weighed a credit line on half the picture.

Worked example: Lakeside Tea is credited ¥10,000.00 (wallet 10,000, platform bank cash 10,000), sends an offer of
¥1,000.00 plus Canal's service fee (the order's escrow holds both, the wallet pays them) and asks to withdraw
¥3,000.00 (held for the withdrawal). Wallet + escrow + withdrawal held = 10,000 = cash.
"""

from __future__ import annotations

import re

import pytest
from flask_babel import refresh

from marketplace.ledger import flows
from marketplace.ledger.services import balance
from marketplace.orders import services as order_services
from marketplace.orders.services import Actor
from tests.integration.order_world import new_creator
from tests.integration.test_wallet_bank_topups import brand, finance_staff, page_text  # noqa: F401
from tests.integration.test_withdrawals import decide, fund, new_withdrawal, request_withdrawal  # noqa: F401
from tests.ledger_helpers import assert_balances, assert_ledger_sound

Y = "¥"
TILES = ("available", "held", "held-withdrawals")


def tiles(html: str) -> dict[str, str | None]:
    """The summary tiles' figures by data-testid (None: the tile is not shown)."""
    found = {}
    for name in TILES:
        match = re.search(rf'data-testid="{name}"[^>]*>(.*?)</', html, re.S)
        found[name] = " ".join(match.group(1).split()) if match else None
    return found


def minor(shown: str) -> int:
    sign, shown = (-1, shown[1:]) if shown.startswith("-") else (1, shown)
    assert shown.startswith(Y), shown
    yuan, _, fen = shown[1:].replace(",", "").partition(".")
    return sign * (int(yuan) * 100 + int(fen or 0))


@pytest.fixture
def held_brand(session, brand, request_withdrawal):
    """``brand`` with ¥10,000.00 credited, an offer funded from it (escrow) and a pending withdrawal of ¥3,000."""
    fund(session, brand.id)
    creator = new_creator(session)
    brand.order = order_services.send_offer(session, Actor("brand", brand.owner), brand.enterprise, creator,
                                            title="Spring serum", content_type="short_video", price=1_000_00)
    session.flush()
    brand.escrow = brand.order.price + brand.order.service_fee
    assert brand.escrow > 1_000_00  # the service fee is held too
    brand.withdrawal = new_withdrawal(session, request_withdrawal("3,000"))
    session.expire_all()
    assert_balances(session, {brand.account: 10_000_00 - brand.escrow - 3_000_00, flows.CASH_BANK: 10_000_00,
                              flows.order_escrow(brand.order.id): brand.escrow,
                              flows.withdrawal_held(brand.withdrawal.id): 3_000_00})
    assert_ledger_sound(session)
    return brand


def both_pages(client, login_as, b, staff) -> tuple[str, str]:
    """(the brand's wallet page as its finance member sees it, finance's credit-line page of the brand)."""
    login_as(b.finance)
    wallet = client.get(b.wallet)
    login_as(staff)
    credit_line = client.get(f"/finance/enterprises/{b.id}/credit-line")
    assert (wallet.status_code, credit_line.status_code) == (200, 200)
    return wallet.get_data(as_text=True), credit_line.get_data(as_text=True)


def money(amount: int) -> str:
    return f"{Y}{amount // 100:,}.{amount % 100:02d}"


def test_the_credit_line_page_shows_what_the_wallet_page_shows_held(session, client, login_as, held_brand,
                                                                    finance_staff):
    b = held_brand
    wallet, credit_line = both_pages(client, login_as, b, finance_staff)
    expected = {"available": money(10_000_00 - b.escrow - 3_000_00), "held": money(b.escrow),
                "held-withdrawals": f"{Y}3,000.00"}
    assert tiles(wallet) == expected
    assert tiles(credit_line) == expected
    text = page_text(credit_line)
    assert f"Held for orders and boosts {money(b.escrow)}" in text
    assert f"Held for pending withdrawals {Y}3,000.00" in text
    # The tiles add up to what the brand has with Canal (the ledger's balances of the wallet and what it holds).
    assert sum(minor(v) for v in tiles(credit_line).values()) == sum(
        balance(session, code) for code in (b.account, flows.order_escrow(b.order.id),
                                            flows.withdrawal_held(b.withdrawal.id))) == 10_000_00


def test_the_notes_speak_to_the_brand_on_its_wallet_and_of_it_to_canal_staff(client, login_as, held_brand,
                                                                            finance_staff):
    wallet, credit_line = (page_text(html) for html in both_pages(client, login_as, held_brand, finance_staff))
    to_brand = ("Released to creators when you confirm, or returned to you.",
                "Paid to your bank account by Canal finance, or returned to you.",
                "No credit line. Canal finance can grant one for regular spending.")
    of_brand = ("Released to creators when the brand confirms, or returned to the brand.",
                "To be paid to the brand's bank account by Canal finance, or returned to its wallet.",
                "No credit line yet.")
    for note in to_brand:
        assert note in wallet and note not in credit_line
    for note in of_brand[:2]:
        assert note in credit_line and note not in wallet


def test_the_held_figures_follow_the_withdrawal_on_both_pages(session, client, login_as, held_brand, finance_staff,
                                                              decide):
    b = held_brand
    assert decide(b.withdrawal.id, "reject", "The account is closed at the bank.").status_code == 302
    session.expire_all()
    assert_balances(session, {b.account: 10_000_00 - b.escrow, flows.CASH_BANK: 10_000_00,
                              flows.order_escrow(b.order.id): b.escrow, flows.withdrawal_held(b.withdrawal.id): 0})
    assert_ledger_sound(session)
    wallet, credit_line = both_pages(client, login_as, b, finance_staff)
    expected = {"available": money(10_000_00 - b.escrow), "held": money(b.escrow), "held-withdrawals": None}
    assert tiles(wallet) == tiles(credit_line) == expected
    assert "Held for pending withdrawals" not in page_text(credit_line)


def test_the_credit_line_page_in_chinese(session, client, login_as, held_brand, finance_staff):
    b = held_brand
    b.finance.locale = finance_staff.locale = "zh_CN"
    session.flush()
    refresh()  # the test's one app context remembers the locale of the requests above (each real request has its own)
    wallet, credit_line = both_pages(client, login_as, b, finance_staff)
    assert tiles(credit_line) == tiles(wallet) == {
        "available": money(10_000_00 - b.escrow - 3_000_00), "held": money(b.escrow),
        "held-withdrawals": f"{Y}3,000.00"}
    text = page_text(credit_line)
    assert f"订单与粉丝头条冻结金额 {money(b.escrow)}" in text
    assert f"待处理提现冻结金额 {Y}3,000.00" in text


def test_only_canal_finance_reads_the_credit_line_page(client, login_as, held_brand, make_user):
    """The brand's own owner and finance member (who see the wallet) and a reviewer are refused; an admin reads."""
    b = held_brand
    url = f"/finance/enterprises/{b.id}/credit-line"
    for user, status in [(b.owner, 403), (b.finance, 403), (make_user(staff_role="reviewer"), 403),
                         (make_user(staff_role="admin"), 200)]:
        login_as(user)
        response = client.get(url)
        assert response.status_code == status, user.email
        shown = tiles(response.get_data(as_text=True))
        assert shown == ({name: None for name in TILES} if status == 403 else {
            "available": money(10_000_00 - b.escrow - 3_000_00), "held": money(b.escrow),
            "held-withdrawals": f"{Y}3,000.00"})
