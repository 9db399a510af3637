"""Journey: Canal finance rejects a brand's pending withdrawal in the console; the brand's finance member sees the
bell light up, reads why in the inbox (the owner got it too, and an email), follows it to the withdrawal, and finds
the amount back in the wallet, the summary no longer holding anything for withdrawals. Real UI for everything but
the set-up (a funded wallet and a pending withdrawal, made by ``live_db`` through the services)."""

from __future__ import annotations

from playwright.sync_api import expect
from sqlalchemy import select

from marketplace.accounts.models import User
from marketplace.enterprises.models import Enterprise
from marketplace.ledger import flows
from marketplace.mail.models import OutboxEmail
from marketplace.notifications.models import Notification
from marketplace.payments.withdrawals import request_withdrawal, withdrawal_code
from tests.browser.conftest import watch_console
from tests.browser.test_bank_top_up import (  # noqa: F401 - staff_page is a fixture
    log_in,
    main_nav,
    staff_page,
    verified_enterprise_with_finance_member,
)
from tests.ledger_helpers import assert_balances, assert_ledger_sound

Y = "¥"
REASON = "The account is closed at the bank."


def test_a_rejected_withdrawal_reaches_the_brand_through_the_bell(page, staff_page, live, live_db, shot):  # noqa: F811
    enterprise_id = verified_enterprise_with_finance_member(live_db)
    with live_db() as session:
        flows.top_up(session, enterprise_id=enterprise_id, amount=10_000_00, rail="bank", key="browser-notify")
        fiona = session.scalar(select(User).where(User.email == "fiona@example.com"))
        withdrawal = request_withdrawal(session, fiona, session.get(Enterprise, enterprise_id), amount=3_000_00,
                                        account_name="杭州湖畔茶饮有限公司", bank_name="招商银行杭州西湖支行",
                                        account_number="6214830123456789", request_key="browser-notify")
        withdrawal_id, code = withdrawal.id, withdrawal_code(withdrawal.id)
    errors = watch_console(page, staff_page)

    # The brand's wallet: the pending withdrawal is held, and the summary says so.
    log_in(page, live, "fiona@example.com")
    main_nav(page).get_by_role("link", name="Wallet").click()
    expect(page.get_by_test_id("available")).to_have_text(f"{Y}7,000.00")
    expect(page.get_by_test_id("held-withdrawals")).to_have_text(f"{Y}3,000.00")
    expect(page.get_by_role("link", name="Notifications, 0 unread")).to_be_visible()

    # Canal finance rejects it, with the reason.
    log_in(staff_page, live, "fei@canal.example")
    staff_page.goto(live + "/finance/withdrawals")
    row = staff_page.get_by_role("row").filter(has_text=code)
    row.get_by_label(f"Reason for rejecting {code}").fill(REASON)
    row.get_by_role("button", name="Reject").click()
    expect(staff_page.get_by_role("status").filter(has_text=f"{code} rejected")).to_be_visible()

    # The brand's next page shows the bell lit; the inbox says what happened and why.
    page.reload()
    bell = page.get_by_role("link", name="Notifications, 1 unread")
    expect(bell).to_be_visible()
    bell.click()
    text = (f"Withdrawal {code} of {Y}3,000.00 from Lakeside Tea was rejected and the amount is back in the wallet. "
            f"Reason: {REASON}")
    item = page.locator("li.notification.is-unread")
    expect(item).to_have_count(1)
    expect(item).to_contain_text(text)
    shot(page, "brand-inbox-withdrawal-rejected")

    # Following it opens the withdrawal, rejected; the wallet has the money back and holds nothing for withdrawals.
    item.get_by_role("link").click()
    expect(page.get_by_role("heading", name=f"Withdrawal {code}", level=1)).to_be_visible()
    expect(page.get_by_test_id("withdrawal-state")).to_have_text("rejected")
    expect(page.get_by_role("link", name="Notifications, 0 unread")).to_be_visible()
    shot(page, "brand-withdrawal-rejected")
    main_nav(page).get_by_role("link", name="Wallet").click()
    expect(page.get_by_test_id("available")).to_have_text(f"{Y}10,000.00")
    expect(page.get_by_test_id("held-withdrawals")).to_have_count(0)
    shot(page, "brand-wallet-after-rejection")
    assert errors == [], errors

    with live_db() as session:
        owner = session.scalar(select(User).where(User.email == "olivia@example.com"))
        fiona = session.scalar(select(User).where(User.email == "fiona@example.com"))
        notes = session.scalars(select(Notification).where(Notification.kind == "withdrawal_rejected")
                                .order_by(Notification.user_id)).all()
        assert sorted(n.user_id for n in notes) == sorted([owner.id, fiona.id])
        assert all(n.url == f"/enterprises/{enterprise_id}/wallet/withdrawals/{withdrawal_id}" for n in notes)
        mails = session.scalars(select(OutboxEmail).where(OutboxEmail.kind == "notification")).all()
        assert sorted(m.to_address for m in mails) == ["fiona@example.com", "olivia@example.com"]
        assert all(m.subject == text for m in mails)
        assert_balances(session, {flows.enterprise_available(enterprise_id): 10_000_00,
                                  flows.CASH_BANK: 10_000_00, flows.withdrawal_held(withdrawal_id): 0})
        assert_ledger_sound(session)
