# ruff: noqa: F811 - fixtures imported from the wallet and withdrawal tests are requested by name
"""Money events tell the members who see the wallet (owners and finance members: ``enterprise.finance``), through the
real pages and the real webhook: a bank transfer confirmed by Canal finance, a card top-up paid at Stripe, a
withdrawal paid or rejected by finance (in-app and by email), a withdrawal cancelled by a member (the other
members, in-app only). Managers, viewers, deactivated members, other enterprises and the staff who acted hear
nothing; a second click or a second delivery adds nothing. The wallet's summary shows what pending withdrawals
hold, and its tiles add up to the ledger.

Worked example (as in test_withdrawals): Lakeside Tea is credited ¥10,000.00 by a bank transfer (wallet 10,000,
platform bank cash 10,000) and asks to withdraw ¥3,000.00 (wallet 7,000, held 3,000, cash 10,000); paid: cash
7,000; rejected or cancelled: wallet 10,000 again.
"""

from __future__ import annotations

import pytest
from flask_babel import force_locale, refresh
from sqlalchemy import select

from marketplace.ledger import flows
from marketplace.ledger.services import balance
from marketplace.mail.models import OutboxEmail
from marketplace.notifications.models import Notification
from marketplace.notifications.services import notification_text
from marketplace.payments.models import TopUp
from marketplace.payments.withdrawals import withdrawal_code
from tests.conftest import csrf_from
from tests.integration.test_stripe_topups import deliver, start_card_top_up
from tests.integration.test_wallet_bank_topups import (  # noqa: F401 - fixtures and page readers
    balances,
    brand,
    by_testid,
    confirm,
    finance_staff,
    new_top_up_id,
    page_text,
    request_top_up,
    top_up_by_id,
)
from tests.integration.test_withdrawals import (  # noqa: F401 - fixtures and helpers
    decide,
    expect,
    fund,
    new_withdrawal,
    request_withdrawal,
)
from tests.ledger_helpers import assert_balances, assert_ledger_sound

pytest_plugins = ("tests.stripe_fixtures",)  # the stripe_server and stripe_app fixtures

Y = "¥"


def minor(shown: str) -> int:
    """"¥4,500.50" -> 450050."""
    assert shown.startswith(Y), shown
    yuan, _, fen = shown[1:].replace(",", "").partition(".")
    return int(yuan) * 100 + int(fen or 0)


@pytest.fixture
def world(brand, make_user, make_enterprise, make_member):
    """``brand`` (owner, finance, manager, viewer) plus a second finance member who reads Chinese, a deactivated
    finance member, and another verified enterprise with its own owner and finance member."""
    brand.finance2 = make_member(brand.enterprise, "finance", make_user(display_name="Fang Finance", locale="zh_CN"))
    brand.gone = make_member(brand.enterprise, "finance", make_user(display_name="Gone Finance"))
    brand.gone.is_active = False
    other_owner = make_user(display_name="Other Owner")
    other = make_enterprise(owner=other_owner, state="verified", display_name="Other Brand")
    brand.outsiders = [other_owner, make_member(other, "finance")]
    return brand


def everyone(world, finance_staff) -> list:
    return [world.owner, world.finance, world.finance2, world.manager, world.viewer, world.gone, finance_staff,
            *world.outsiders]


def notifications(session, users) -> dict[str, list[Notification]]:
    """Each user's notifications (by display name), oldest first."""
    session.expire_all()
    return {u.display_name: list(session.scalars(select(Notification).where(Notification.user_id == u.id)
                                                 .order_by(Notification.id))) for u in users}


def emails(session, users) -> dict[str, list[OutboxEmail]]:
    session.expire_all()
    return {u.display_name: list(session.scalars(select(OutboxEmail).where(OutboxEmail.to_address == u.email,
                                                                           OutboxEmail.kind == "notification")
                                                 .order_by(OutboxEmail.id))) for u in users}


def assert_only(found: dict[str, list], expected: dict[str, int]) -> None:
    """Exactly ``expected`` (name -> count) have rows; everybody else has none."""
    assert {name: len(rows) for name, rows in found.items() if rows} == expected


def text_in(note: Notification, locale: str) -> str:
    with force_locale(locale):
        return notification_text(note)


def money_readers(world) -> dict[str, int]:
    return {world.owner.display_name: 1, world.finance.display_name: 1, world.finance2.display_name: 1}


# --- top-ups ---------------------------------------------------------------------------------------------------


def test_a_confirmed_bank_transfer_notifies_the_wallets_members_once_with_an_email(
        app, session, client, login_as, world, finance_staff, request_top_up, confirm):
    top_up_id = new_top_up_id(request_top_up(world.finance, world.id, "10,000"))
    code = top_up_by_id(session, top_up_id).reference_code
    people = everyone(world, finance_staff)
    assert_only(notifications(session, people), {})  # asking for a top-up tells nobody

    assert confirm(finance_staff, top_up_id, "10,000.00").status_code == 302
    balances(session, world.id, 10_000_00, 10_000_00)

    found = notifications(session, people)
    assert_only(found, money_readers(world))
    [note] = found[world.owner.display_name]
    assert (note.kind, note.url) == ("bank_top_up_credited", world.wallet)
    assert note.dedupe_key == f"topup:{top_up_id}:credited"
    english = f"The bank transfer {code} arrived: {Y}10,000.00 was added to the wallet of Lakeside Tea."
    assert text_in(note, "en") == english
    chinese = text_in(note, "zh_CN")
    assert chinese == f"对公转账 {code} 已到账：{Y}10,000.00 已存入Lakeside Tea的钱包。"
    [zh_note] = found[world.finance2.display_name]
    assert zh_note.params["amount"] == f"{Y}10,000.00"

    sent = emails(session, people)
    assert_only(sent, money_readers(world))
    assert sent[world.owner.display_name][0].subject == english
    assert sent[world.finance2.display_name][0].subject == chinese  # in the reader's language
    assert world.wallet in sent[world.owner.display_name][0].body_text

    # The same confirmation clicked again (the same amount, typed differently): nothing more.
    assert confirm(finance_staff, top_up_id, "10000").status_code == 302
    assert_only(notifications(session, people), money_readers(world))
    assert_only(emails(session, people), money_readers(world))
    balances(session, world.id, 10_000_00, 10_000_00)

    # The reader opens it from the inbox and lands on the wallet.
    login_as(world.owner)
    inbox = page_text(client.get("/notifications").get_data(as_text=True))
    assert english in inbox
    opened = client.get(f"/notifications/{note.id}")
    assert opened.status_code == 302 and opened.headers["Location"].endswith(world.wallet)
    assert client.get(opened.headers["Location"]).status_code == 200


def test_a_bank_transfer_credited_with_another_amount_says_what_was_credited(
        session, world, finance_staff, request_top_up, confirm):
    top_up_id = new_top_up_id(request_top_up(world.owner, world.id, "12,345.67"))
    code = top_up_by_id(session, top_up_id).reference_code
    assert confirm(finance_staff, top_up_id, "12,300.00").status_code == 302
    balances(session, world.id, 12_300_00, 12_300_00)

    found = notifications(session, everyone(world, finance_staff))
    assert_only(found, money_readers(world))
    [note] = found[world.finance.display_name]
    assert note.kind == "bank_top_up_credited_other_amount"
    assert text_in(note, "en") == (f"The bank transfer {code} arrived: {Y}12,300.00, the amount the bank received, "
                                   f"was added to the wallet of Lakeside Tea (the request was for {Y}12,345.67).")
    assert text_in(note, "zh_CN") == (f"对公转账 {code} 已到账：已按银行实收金额 {Y}12,300.00 存入Lakeside Tea的钱包"
                                      f"（申请金额为 {Y}12,345.67）。")
    assert_only(emails(session, everyone(world, finance_staff)), money_readers(world))


def test_a_cancelled_bank_top_up_tells_nobody(session, client, login_as, world, finance_staff, request_top_up):
    top_up_id = new_top_up_id(request_top_up(world.finance, world.id, "1,000"))
    login_as(finance_staff)
    token = csrf_from(client.get("/finance/top-ups").get_data(as_text=True))
    response = client.post(f"/finance/top-ups/{top_up_id}/cancel",
                           data={"csrf_token": token, "reason": "No matching transfer after 30 days"})
    assert response.status_code == 302
    assert top_up_by_id(session, top_up_id).state == "cancelled"
    assert_only(notifications(session, everyone(world, finance_staff)), {})
    balances(session, world.id, 0, 0)


def test_a_card_top_up_paid_at_stripe_notifies_in_app_once_without_email(
        stripe_app, stripe_server, client, login_as, session, world, finance_staff):
    assert start_card_top_up(client, login_as, world.enterprise, world.finance).status_code == 303
    session.expire_all()
    top_up = session.scalar(select(TopUp).where(TopUp.enterprise_id == world.id))
    [event] = stripe_server.checkout(top_up.stripe_session_id, "paid")

    responses = [deliver(client, stripe_server, event) for _ in range(3)]  # Stripe retries: one credit
    assert [r.status_code for r in responses] == [200, 200, 200]
    session.expire_all()
    assert session.get(TopUp, top_up.id).state == "completed"
    assert_balances(session, {world.account: 100_000, flows.CASH_STRIPE: 96_500, flows.EXPENSE_PROCESSING: 3_500})
    assert_ledger_sound(session)

    people = everyone(world, finance_staff)
    found = notifications(session, people)
    assert_only(found, money_readers(world))
    [note] = found[world.owner.display_name]
    assert (note.kind, note.url, note.dedupe_key) == ("card_top_up_credited", world.wallet,
                                                      f"topup:{top_up.id}:credited")
    assert text_in(note, "en") == f"A top-up of {Y}1,000.00 paid online was added to the wallet of Lakeside Tea."
    assert text_in(note, "zh_CN") == f"在线支付的充值 {Y}1,000.00 已存入Lakeside Tea的钱包。"
    assert_only(emails(session, people), {})  # the payer saw it at Stripe


def test_an_asynchronous_card_payment_notifies_once_when_it_succeeds(
        stripe_app, stripe_server, client, login_as, session, world, finance_staff):
    assert start_card_top_up(client, login_as, world.enterprise, world.finance).status_code == 303
    session.expire_all()
    top_up = session.scalar(select(TopUp).where(TopUp.enterprise_id == world.id))
    completed_unpaid, succeeded = stripe_server.checkout(top_up.stripe_session_id, "later")

    assert deliver(client, stripe_server, completed_unpaid).status_code == 200
    assert_only(notifications(session, everyone(world, finance_staff)), {})  # not paid yet: nothing to say
    for _ in range(2):
        assert deliver(client, stripe_server, succeeded).status_code == 200
    assert_only(notifications(session, everyone(world, finance_staff)), money_readers(world))


# --- withdrawals -----------------------------------------------------------------------------------------------


def test_a_paid_withdrawal_notifies_with_the_bank_reference_and_an_email_once(
        session, world, finance_staff, request_withdrawal, decide):
    fund(session, world.id)
    w = new_withdrawal(session, request_withdrawal("3,000"))
    people = everyone(world, finance_staff)
    assert_only(notifications(session, people), {})  # the request itself tells nobody
    code = withdrawal_code(w.id)

    assert decide(w.id, "pay", "CMB 2026112800417").status_code == 302
    expect(session, world, wallet=7_000_00, cash=7_000_00, held={w.id: 0})
    found = notifications(session, people)
    assert_only(found, money_readers(world))
    [note] = found[world.finance.display_name]
    assert note.kind == "withdrawal_paid" and note.dedupe_key == f"withdrawal:{w.id}:paid"
    assert note.url == f"{world.wallet}/withdrawals/{w.id}"
    english = (f"Withdrawal {code} of {Y}3,000.00 from Lakeside Tea was paid to the bank account "
               f"(bank reference CMB 2026112800417).")
    assert text_in(note, "en") == english
    assert text_in(note, "zh_CN") == (f"Lakeside Tea的提现 {code}（{Y}3,000.00）已打款至银行账户"
                                      f"（银行流水号 CMB 2026112800417）。")
    sent = emails(session, people)
    assert_only(sent, money_readers(world))
    assert sent[world.owner.display_name][0].subject == english

    assert decide(w.id, "pay", "CMB 2026112800417").status_code == 302  # clicked again: already paid, no news
    assert_only(notifications(session, people), money_readers(world))
    assert_only(emails(session, people), money_readers(world))
    expect(session, world, wallet=7_000_00, cash=7_000_00, held={w.id: 0})


def test_a_rejected_withdrawal_notifies_with_the_reason_and_an_email_once(
        session, world, finance_staff, request_withdrawal, decide):
    fund(session, world.id)
    w = new_withdrawal(session, request_withdrawal("3,000"))
    code = withdrawal_code(w.id)
    reason = "The account is closed at the bank."

    assert decide(w.id, "reject", reason).status_code == 302
    expect(session, world, wallet=10_000_00, cash=10_000_00, held={w.id: 0})
    people = everyone(world, finance_staff)
    found = notifications(session, people)
    assert_only(found, money_readers(world))
    [note] = found[world.owner.display_name]
    assert note.kind == "withdrawal_rejected" and note.params["reason"] == reason
    assert text_in(note, "en") == (f"Withdrawal {code} of {Y}3,000.00 from Lakeside Tea was rejected and the amount "
                                   f"is back in the wallet. Reason: {reason}")
    assert text_in(note, "zh_CN") == f"Lakeside Tea的提现 {code}（{Y}3,000.00）被驳回，金额已退回钱包。原因：{reason}"
    assert_only(emails(session, people), money_readers(world))

    assert decide(w.id, "reject", reason).status_code == 302  # the same decision again
    assert_only(notifications(session, people), money_readers(world))
    assert_only(emails(session, people), money_readers(world))
    expect(session, world, wallet=10_000_00, cash=10_000_00, held={w.id: 0})


def test_a_cancelled_withdrawal_tells_the_other_members_in_app_only(session, client, login_as, world,
                                                                   finance_staff, request_withdrawal):
    fund(session, world.id)
    w = new_withdrawal(session, request_withdrawal("3,000"))  # asked by the finance member
    code = withdrawal_code(w.id)
    login_as(world.owner)
    url = f"{world.wallet}/withdrawals/{w.id}"
    token = csrf_from(client.get(url).get_data(as_text=True))
    assert client.post(f"{url}/cancel", data={"csrf_token": token}).status_code == 302
    expect(session, world, wallet=10_000_00, cash=10_000_00, held={w.id: 0})

    people = everyone(world, finance_staff)
    found = notifications(session, people)
    assert_only(found, {world.finance.display_name: 1, world.finance2.display_name: 1})  # not the owner who did it
    [note] = found[world.finance.display_name]
    assert note.kind == "withdrawal_cancelled" and note.url == url
    assert text_in(note, "en") == (f"Olivia Owner cancelled withdrawal {code} of {Y}3,000.00 from Lakeside Tea; "
                                   f"the amount is back in the wallet.")
    assert text_in(note, "zh_CN") == f"Olivia Owner 取消了Lakeside Tea的提现 {code}（{Y}3,000.00），金额已退回钱包。"
    assert_only(emails(session, people), {})

    client.post(f"{url}/cancel", data={"csrf_token": token})  # a second click: already cancelled
    assert_only(notifications(session, people), {world.finance.display_name: 1, world.finance2.display_name: 1})
    expect(session, world, wallet=10_000_00, cash=10_000_00, held={w.id: 0})


# --- the wallet's summary --------------------------------------------------------------------------------------


def test_the_summary_shows_what_pending_withdrawals_hold_and_adds_up_to_the_ledger(
        session, client, login_as, world, finance_staff, request_withdrawal, decide):
    fund(session, world.id)
    login_as(world.finance)
    html = client.get(world.wallet).get_data(as_text=True)
    assert by_testid(html, "available") == f"{Y}10,000.00"
    assert 'data-testid="held-withdrawals"' not in html and "Held for pending withdrawals" not in html

    first = new_withdrawal(session, request_withdrawal("3,000"))
    second = new_withdrawal(session, request_withdrawal("1,500.50"))
    expect(session, world, wallet=5_499_50, cash=10_000_00, held={first.id: 3_000_00, second.id: 1_500_50})
    login_as(world.finance)
    html = client.get(world.wallet).get_data(as_text=True)
    assert "Held for pending withdrawals" in page_text(html)
    assert by_testid(html, "available") == f"{Y}5,499.50"
    assert by_testid(html, "held") == f"{Y}0.00"
    assert by_testid(html, "held-withdrawals") == f"{Y}4,500.50"
    # The tiles add up to what the brand has with Canal: its wallet and the held accounts (the ledger's balances).
    tiles = sum(minor(by_testid(html, name)) for name in ("available", "held", "held-withdrawals"))
    assert tiles == sum(balance(session, code) for code in (world.account, flows.withdrawal_held(first.id),
                                                              flows.withdrawal_held(second.id))) == 10_000_00

    assert decide(first.id, "pay", "CMB 2026112800417").status_code == 302
    login_as(world.finance)
    html = client.get(world.wallet).get_data(as_text=True)
    assert by_testid(html, "held-withdrawals") == f"{Y}1,500.50"
    assert decide(second.id, "reject", "Wrong branch name").status_code == 302
    expect(session, world, wallet=7_000_00, cash=7_000_00, held={first.id: 0, second.id: 0})
    login_as(world.finance)
    html = client.get(world.wallet).get_data(as_text=True)
    assert by_testid(html, "available") == f"{Y}7,000.00"
    assert 'data-testid="held-withdrawals"' not in html


def test_the_pending_withdrawals_tile_in_chinese(session, client, login_as, world, request_withdrawal):
    fund(session, world.id)
    new_withdrawal(session, request_withdrawal("3,000"))
    world.finance.locale = "zh_CN"
    session.flush()
    refresh()  # the test's one app context remembers the locale of the requests above (each real request has its own)
    login_as(world.finance)
    html = client.get(world.wallet).get_data(as_text=True)
    assert "待处理提现冻结金额" in html and "订单与粉丝头条冻结金额" in html
    assert by_testid(html, "held-withdrawals") == f"{Y}3,000.00"
