"""A brand's finance member tops up by card in real Chromium: Canal -> the Stripe sandbox's pay page -> Pay ->
the signed webhook reaches the live site -> back on Canal, the top-up is completed and the balance credited."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect
from sqlalchemy import select

from marketplace.accounts.services import create_user
from marketplace.enterprises import services as enterprise_services
from marketplace.enterprises.models import Membership
from marketplace.files.services import store_bytes
from marketplace.ledger import flows
from marketplace.ledger.services import balance
from marketplace.payments.models import StripeEvent, TopUp
from marketplace.payments.stripe_server import StripeTestServer
from marketplace.seed import licence_png
from tests.stripe_fixtures import configure_stripe

PASSWORD = "tangerine orbit lantern 77"
USCC = "91310115MA1K4CARD" + "0"


def _verified_enterprise_with_finance_member(live_db) -> tuple[int, str]:
    from stdnum.cn import uscc

    code = USCC[:17] + uscc.calc_check_digit(USCC[:17])
    with live_db() as session:
        owner = create_user(session, email="owner@lanterntea.example", password=PASSWORD, display_name="Owner",
                            verified=True)
        finance = create_user(session, email="mei@lanterntea.example", password=PASSWORD, display_name="Mei",
                              verified=True)
        reviewer = create_user(session, email="reviewer@canal.example", password=PASSWORD, display_name="Rita",
                               verified=True, staff_role="reviewer")
        enterprise = enterprise_services.create_enterprise(session, owner, enterprise_services.EnterpriseDetails(
            legal_name="上海灯笼茶饮有限公司", display_name="Lantern Tea", uscc=code, contact_name="Owner",
            contact_phone="+86 21 5555 0000", contact_email=owner.email, invoice_title="", tax_number=""))
        enterprise.licence_file_id = store_bytes(session, licence_png("Lantern Tea", code), "image/png",
                                                 "licence.png", owner.id).id
        enterprise_services.submit_for_verification(session, owner, enterprise)
        enterprise_services.approve_enterprise(session, reviewer, enterprise)
        session.add(Membership(enterprise_id=enterprise.id, user_id=finance.id, role="finance"))
        session.flush()
        return enterprise.id, finance.email


def _log_in(page: Page, live: str, email: str) -> None:
    page.goto(live + "/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Log in", exact=True).click()
    expect(page.get_by_role("navigation", name="Main")).to_be_visible()


def test_finance_member_tops_up_by_card_through_the_sandbox(page, live, live_app, live_db, shot):
    enterprise_id, email = _verified_enterprise_with_finance_member(live_db)
    console_errors: list[str] = []
    page.on("console", lambda msg: console_errors.append(msg.text) if msg.type == "error" else None)

    with StripeTestServer(webhook_url=live + "/webhooks/stripe") as stripe, \
            configure_stripe(live_app, stripe, STRIPE_SANDBOX=True):
        _log_in(page, live, email)
        page.goto(f"{live}/enterprises/{enterprise_id}/wallet/top-up")
        expect(page.get_by_text("Stripe sandbox — no real money")).to_be_visible()
        page.locator("#card-amount").fill("1,000")
        shot(page, "add-funds")
        page.get_by_role("button", name="Continue to payment").click()

        # Stripe's hosted page (here: the sandbox's), on its own origin.
        expect(page).to_have_url(re.compile(re.escape(stripe.base_url) + r"/pay/cs_test_\w+"))
        expect(page.get_by_role("heading", name="¥1,000.00")).to_be_visible()
        expect(page.get_by_text("Stripe sandbox — no real money")).to_be_visible()
        shot(page, "sandbox-checkout")
        page.get_by_role("button", name="Pay", exact=True).click()

        # Back on Canal: the webhook arrived before the redirect, so the top-up is already completed.
        expect(page).to_have_url(re.compile(rf"{re.escape(live)}/enterprises/{enterprise_id}/wallet/top-ups/\d+$"))
        expect(page.get_by_role("heading", name="Top-up completed")).to_be_visible()
        expect(page.get_by_test_id("top-up-credited")).to_have_text(re.compile(r"¥1,000\.00"))
        expect(page.get_by_test_id("top-up-fee")).to_contain_text("¥35.00")
        shot(page, "top-up-completed")
        assert [(kind, status) for _, kind, status in stripe.deliveries] == [("checkout.session.completed", 200)]

        page.get_by_role("link", name="Back to the wallet").first.click()
        expect(page.get_by_test_id("available")).to_have_text(re.compile(r"¥1,000\.00"))
        shot(page, "wallet")

    with live_db() as session:
        top_up = session.scalar(select(TopUp).where(TopUp.enterprise_id == enterprise_id))
        assert (top_up.method, top_up.state, top_up.amount_received, top_up.fee) == ("card", "completed",
                                                                                       100_000, 3_500)
        assert balance(session, flows.enterprise_available(enterprise_id)) == 100_000
        assert balance(session, flows.CASH_STRIPE) == 96_500
        assert balance(session, flows.EXPENSE_PROCESSING) == 3_500
        assert [e.type for e in session.scalars(select(StripeEvent))] == ["checkout.session.completed"]
    assert console_errors == []
