# ruff: noqa: F811 - fixtures imported from test_wallet_bank_topups are requested by name
"""Brand withdrawals (提现), through the web: request (held at once), finance pays or rejects, the brand cancels.

Worked example used throughout: Lakeside Tea has ¥10,000.00 from a bank top-up (wallet 10,000, platform bank
cash 10,000). It asks to withdraw ¥3,000.00: wallet 7,000, ``withdrawal:<id>:held`` 3,000, cash 10,000 (the
money has not left yet). Paid: held 0, cash 7,000, wallet 7,000. Rejected or cancelled instead: held 0, wallet
10,000, cash 10,000. Every step checks every affected balance and that the trial balance is zero.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from marketplace.audit.models import AuditEntry
from marketplace.ledger import flows
from marketplace.ledger.models import LedgerTransaction
from marketplace.payments.models import Withdrawal
from marketplace.payments.withdrawals import withdrawal_code
from tests.conftest import csrf_from
from tests.integration.test_wallet_bank_topups import (  # noqa: F401 - fixtures and page readers
    brand,
    by_testid,
    csv_rows,
    field_error,
    finance_staff,
    flashes,
    page_text,
    transaction_rows,
)
from tests.integration.test_wallet_bank_topups import tables as tables_of
from tests.ledger_helpers import assert_balances, assert_ledger_sound

BANK = "招商银行上海陆家嘴支行"
ACCOUNT = "6214 8301 2345 6789"


def fund(session, enterprise_id: int, amount: int = 10_000_00) -> None:
    flows.top_up(session, enterprise_id=enterprise_id, amount=amount, rail="bank", key=f"wd-test:{enterprise_id}")
    session.flush()


def expect(session, b, *, wallet: int, cash: int, held: dict[int, int] | None = None) -> None:
    session.expire_all()
    assert_balances(session, {b.account: wallet, flows.CASH_BANK: cash,
                              **{flows.withdrawal_held(w): v for w, v in (held or {}).items()}})
    assert_ledger_sound(session)


def snapshot(session) -> tuple:
    session.expire_all()
    return tuple(session.scalar(select(func.count()).select_from(m)) for m in (LedgerTransaction, Withdrawal,
                                                                                 AuditEntry))


def withdraw_form(client, b) -> tuple[str, dict]:
    html = client.get(f"{b.wallet}/withdraw").get_data(as_text=True)
    token = csrf_from(html)
    key = re.search(r'id="request_key" name="request_key" type="hidden" value="([^"]+)"', html)
    assert key, "no request_key on the form"
    return html, {"csrf_token": token, "request_key": key.group(1)}


@pytest.fixture
def request_withdrawal(client, login_as, brand):
    """As ``user`` (default: the finance member), submit the withdrawal form; the response."""

    def do(amount: str = "3,000", user=None, account_name: str | None = None, bank: str = BANK,
           number: str = ACCOUNT, base: dict | None = None):
        login_as(user or brand.finance)
        if base is None:
            _, base = withdraw_form(client, brand)
        data = {**base, "amount": amount, "account_name": brand.enterprise.legal_name if account_name is None
                else account_name, "bank_name": bank, "account_number": number}
        return client.post(f"{brand.wallet}/withdraw", data=data)

    return do


def new_withdrawal(session, response) -> Withdrawal:
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    match = re.search(r"/wallet/withdrawals/(\d+)$", response.headers["Location"])
    assert match, response.headers["Location"]
    session.expire_all()
    return session.get(Withdrawal, int(match.group(1)))


@pytest.fixture
def decide(client, login_as, finance_staff):
    """As finance staff, pay (with a bank reference) or reject (with a reason) through the console's row forms."""

    def do(withdrawal_id: int, action: str, text: str, user=None):
        login_as(user or finance_staff)
        token = csrf_from(client.get("/finance/withdrawals").get_data(as_text=True))
        prefix, field = ("p", "bank_reference") if action == "pay" else ("r", "reason")
        return client.post(f"/finance/withdrawals/{withdrawal_id}/{action}",
                           data={f"{prefix}{withdrawal_id}-csrf_token": token,
                                 f"{prefix}{withdrawal_id}-{field}": text})

    return do


def audit_actions(session, withdrawal_id: int) -> list[str]:
    session.expire_all()
    return list(session.scalars(select(AuditEntry.action).where(AuditEntry.object_type == "withdrawal",
                                                                AuditEntry.object_id == withdrawal_id)
                                .order_by(AuditEntry.id)))


# --- the worked example: request, then paid --------------------------------------------------------------------


def test_a_withdrawal_is_held_on_request_and_leaves_cash_when_finance_pays_it(session, client, brand, finance_staff,
                                                                              request_withdrawal, decide):
    fund(session, brand.id)
    w = new_withdrawal(session, request_withdrawal("3,000"))
    assert (w.state, w.amount, w.account_name, w.bank_name, w.account_number) == (
        "pending", 3_000_00, brand.enterprise.legal_name, BANK, "6214830123456789")
    expect(session, brand, wallet=7_000_00, cash=10_000_00, held={w.id: 3_000_00})
    code = withdrawal_code(w.id)

    page = client.get(f"{brand.wallet}/withdrawals/{w.id}").get_data(as_text=True)
    assert f"{code} requested: ¥3,000.00 is held until Canal finance pays it." in page_text(page)
    assert by_testid(page, "withdrawal-state") == "pending"
    wallet = client.get(brand.wallet).get_data(as_text=True)
    assert "Pending withdrawals" in wallet and code in wallet
    [row, _top_up] = transaction_rows(wallet)
    assert row[1:] == ["Withdrawal requested (held)", f"Withdrawal {code} requested: the amount is held",
                       "-¥3,000.00", "¥7,000.00"]
    assert client.get("/finance/withdrawals").status_code == 403  # the brand does not see the console

    response = decide(w.id, "pay", "CMB 2026112800417")
    assert response.status_code == 302
    expect(session, brand, wallet=7_000_00, cash=7_000_00, held={w.id: 0})
    w = session.get(Withdrawal, w.id)
    assert (w.state, w.bank_reference, w.decided_by_id) == ("paid", "CMB 2026112800417", finance_staff.id)
    settle = session.get(LedgerTransaction, w.settle_transaction_id)
    assert (settle.kind, settle.idempotency_key, settle.memo) == (
        "complete_withdrawal", f"withdrawal:{w.id}:complete", f"Withdrawal {code} paid, bank reference CMB 2026112800417")
    assert audit_actions(session, w.id) == ["withdrawal.request", "withdrawal.pay"]

    # Paying again with the same reference changes nothing; another reference is a conflict; rejecting is refused.
    before = snapshot(session)
    assert decide(w.id, "pay", "CMB 2026112800417").status_code == 302
    assert decide(w.id, "pay", "CMB 999999").status_code == 409
    assert decide(w.id, "reject", "Changed my mind").status_code == 409
    assert snapshot(session) == before
    expect(session, brand, wallet=7_000_00, cash=7_000_00, held={w.id: 0})



def test_the_brand_sees_the_paid_withdrawal_with_the_bank_reference(session, client, login_as, brand,
                                                                    request_withdrawal, decide):
    fund(session, brand.id)
    w = new_withdrawal(session, request_withdrawal("1,234.56"))
    decide(w.id, "pay", "ICBC-778812")
    login_as(brand.owner)
    html = client.get(f"{brand.wallet}/withdrawals/{w.id}").get_data(as_text=True)
    assert by_testid(html, "withdrawal-state") == "paid"
    assert by_testid(html, "bank-reference") == "ICBC-778812"
    assert "Paid to your bank account" in html
    listing = page_text(client.get(f"{brand.wallet}/withdrawals").get_data(as_text=True))
    assert withdrawal_code(w.id) in listing and "paid" in listing and "¥1,234.56" in listing


# --- rejected, cancelled ---------------------------------------------------------------------------------------


def test_a_rejected_withdrawal_returns_the_held_amount_once(session, client, login_as, brand, request_withdrawal,
                                                            decide):
    fund(session, brand.id)
    w = new_withdrawal(session, request_withdrawal("3,000"))
    response = decide(w.id, "reject", "Account name does not match the licence")
    assert response.status_code == 302
    expect(session, brand, wallet=10_000_00, cash=10_000_00, held={w.id: 0})
    w = session.get(Withdrawal, w.id)
    assert (w.state, w.reason) == ("rejected", "Account name does not match the licence")
    before = snapshot(session)
    assert decide(w.id, "reject", "Account name does not match the licence").status_code == 302  # no-op
    assert decide(w.id, "pay", "CMB 1234").status_code == 409
    assert snapshot(session) == before
    assert audit_actions(session, w.id) == ["withdrawal.request", "withdrawal.reject"]
    login_as(brand.finance)
    wallet = client.get(brand.wallet).get_data(as_text=True)
    assert transaction_rows(wallet)[0][1:3] == [
        "Withdrawal returned", f"Withdrawal {withdrawal_code(w.id)} rejected, returned to the balance: Account name "
                               "does not match the licence"]


@pytest.mark.parametrize("action, text, field, message", [
    ("pay", "", "p{id}-bank_reference", "This field is required."),
    ("pay", "ab", "p{id}-bank_reference", "Enter the bank's transfer reference (4 to 80 characters)."),
    ("reject", "no", "r{id}-reason", "Give the reason for this decision (at least 5 characters)."),
])
def test_a_decision_without_its_reference_or_reason_is_refused_beside_the_field(session, brand, request_withdrawal,
                                                                               decide, action, text, field, message):
    fund(session, brand.id)
    w = new_withdrawal(session, request_withdrawal("3,000"))
    before = snapshot(session)
    response = decide(w.id, action, text)
    assert response.status_code == 400
    assert field_error(response.get_data(as_text=True), field.format(id=w.id)) == message
    assert snapshot(session) == before
    expect(session, brand, wallet=7_000_00, cash=10_000_00, held={w.id: 3_000_00})


def test_the_brand_cancels_its_pending_withdrawal(session, client, brand, request_withdrawal, decide):
    fund(session, brand.id)
    w = new_withdrawal(session, request_withdrawal("3,000"))
    html = client.get(f"{brand.wallet}/withdrawals/{w.id}").get_data(as_text=True)
    response = client.post(f"{brand.wallet}/withdrawals/{w.id}/cancel", data={"csrf_token": csrf_from(html)})
    assert response.status_code == 302
    expect(session, brand, wallet=10_000_00, cash=10_000_00, held={w.id: 0})
    assert session.get(Withdrawal, w.id).state == "cancelled"
    assert decide(w.id, "pay", "CMB 1234").status_code == 409
    expect(session, brand, wallet=10_000_00, cash=10_000_00, held={w.id: 0})


# --- bad input: 4xx, the error beside the field, nothing written -------------------------------------------------


@pytest.mark.parametrize("amount, name, number, field, message", [
    ("abc", None, ACCOUNT, "amount", "Enter an amount in yuan, with at most two decimals."),
    ("0", None, ACCOUNT, "amount", "Enter a positive amount."),
    ("", None, ACCOUNT, "amount", "This field is required."),
    ("10,000.01", None, ACCOUNT, "amount",
     "You can withdraw at most ¥10,000.00: your available balance, not counting credit."),
    ("500", "王小明", ACCOUNT, "account_name", "The account must be in the enterprise's registered name: "
                                                "杭州湖畔茶饮有限公司."),
    ("500", None, "6214-83AB", "account_number", "Enter the account number: 8 to 30 digits."),
    ("500", None, "", "account_number", "This field is required."),
])
def test_a_bad_request_is_refused_beside_the_field_and_writes_nothing(session, brand, request_withdrawal, amount,
                                                                      name, number, field, message):
    fund(session, brand.id)
    before = snapshot(session)
    response = request_withdrawal(amount, account_name=name, number=number)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert field_error(html, field) == message
    assert 'aria-invalid="true"' in html
    assert snapshot(session) == before
    expect(session, brand, wallet=10_000_00, cash=10_000_00)


def test_the_account_name_may_differ_in_spaces_and_bracket_width(session, brand, request_withdrawal):
    fund(session, brand.id)
    brand.enterprise.legal_name = "杭州湖畔（茶饮）有限公司"
    session.flush()
    w = new_withdrawal(session, request_withdrawal("100", account_name=" 杭州湖畔(茶饮) 有限公司"))
    assert w.account_name == "杭州湖畔（茶饮）有限公司"


def test_credit_is_never_withdrawn(session, client, login_as, brand, finance_staff, request_withdrawal):
    from marketplace.payments.services import set_credit_line

    fund(session, brand.id, 1_000_00)
    set_credit_line(session, finance_staff, brand.enterprise, 5_000_00, "Regular campaign budget")
    session.flush()
    response = request_withdrawal("1,000.01")
    assert response.status_code == 400
    assert field_error(response.get_data(as_text=True), "amount") == (
        "You can withdraw at most ¥1,000.00: your available balance, not counting credit.")
    w = new_withdrawal(session, request_withdrawal("1,000"))
    expect(session, brand, wallet=0, cash=1_000_00, held={w.id: 1_000_00})
    # Spending on credit is still possible afterwards, withdrawing is not.
    response = request_withdrawal("0.01")
    assert response.status_code == 400
    assert "at most ¥0.00" in field_error(response.get_data(as_text=True), "amount")


def test_submitting_the_same_form_twice_makes_one_withdrawal(session, client, login_as, brand, request_withdrawal):
    fund(session, brand.id)
    login_as(brand.finance)
    _, base = withdraw_form(client, brand)
    first = new_withdrawal(session, request_withdrawal("3,000", base=base))
    second = new_withdrawal(session, request_withdrawal("3,000", base=base))
    assert first.id == second.id
    expect(session, brand, wallet=7_000_00, cash=10_000_00, held={first.id: 3_000_00})
    assert session.scalar(select(func.count()).select_from(Withdrawal)) == 1


def test_an_unverified_enterprise_cannot_withdraw(session, client, login_as, make_user, make_enterprise):
    owner = make_user()
    enterprise = make_enterprise(owner=owner, state="pending")
    login_as(owner)
    html = client.get(f"/enterprises/{enterprise.id}/wallet/withdraw").get_data(as_text=True)
    token = csrf_from(html)
    key = re.search(r'name="request_key" type="hidden" value="([^"]+)"', html).group(1)
    before = snapshot(session)
    response = client.post(f"/enterprises/{enterprise.id}/wallet/withdraw",
                           data={"csrf_token": token, "request_key": key, "amount": "100",
                                 "account_name": enterprise.legal_name, "bank_name": BANK,
                                 "account_number": ACCOUNT})
    assert response.status_code == 403
    assert flashes(response.get_data(as_text=True), "error") == [
        "Only verified enterprises can withdraw. Submit your enterprise for verification first."]
    assert snapshot(session) == before


def test_without_a_csrf_token_nothing_is_requested(session, client, login_as, brand):
    fund(session, brand.id)
    login_as(brand.finance)
    before = snapshot(session)
    response = client.post(f"{brand.wallet}/withdraw", data={"request_key": "k" * 32, "amount": "100",
                                                             "account_name": brand.enterprise.legal_name,
                                                             "bank_name": BANK, "account_number": ACCOUNT})
    assert response.status_code == 400
    assert snapshot(session) == before


# --- access ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["manager", "viewer"])
def test_managers_and_viewers_cannot_withdraw_or_see_withdrawals(session, client, login_as, brand, request_withdrawal,
                                                                 role):
    fund(session, brand.id)
    w = new_withdrawal(session, request_withdrawal("100"))
    member = getattr(brand, role)
    login_as(member)
    for url in (f"{brand.wallet}/withdraw", f"{brand.wallet}/withdrawals", f"{brand.wallet}/withdrawals/{w.id}"):
        assert client.get(url).status_code == 403, url
    token = csrf_from(client.get("/settings").get_data(as_text=True))
    before = snapshot(session)
    assert client.post(f"{brand.wallet}/withdraw", data={"csrf_token": token, "request_key": "k" * 32,
                                                         "amount": "100", "account_name": "x", "bank_name": BANK,
                                                         "account_number": ACCOUNT}).status_code == 403
    assert client.post(f"{brand.wallet}/withdrawals/{w.id}/cancel", data={"csrf_token": token}).status_code == 403
    assert client.get("/finance/withdrawals").status_code == 403
    assert client.post(f"/finance/withdrawals/{w.id}/pay", data={"csrf_token": token, f"p{w.id}-bank_reference": "CMB 1234"}).status_code == 403
    assert snapshot(session) == before


def test_another_enterprises_withdrawal_is_invisible(session, client, login_as, make_user, make_enterprise, brand,
                                                     request_withdrawal):
    fund(session, brand.id)
    w = new_withdrawal(session, request_withdrawal("100"))
    other_owner = make_user()
    other = make_enterprise(owner=other_owner, state="verified")
    login_as(other_owner)
    assert client.get(f"{brand.wallet}/withdrawals/{w.id}").status_code == 403
    assert client.get(f"/enterprises/{other.id}/wallet/withdrawals/{w.id}").status_code == 404
    token = csrf_from(client.get(f"/enterprises/{other.id}/wallet").get_data(as_text=True))
    assert client.post(f"/enterprises/{other.id}/wallet/withdrawals/{w.id}/cancel",
                       data={"csrf_token": token}).status_code == 404
    listing = client.get(f"/enterprises/{other.id}/wallet/withdrawals").get_data(as_text=True)
    assert withdrawal_code(w.id) not in listing and "No withdrawals yet" in listing
    session.expire_all()
    assert session.get(Withdrawal, w.id).state == "pending"


def test_an_admin_reads_the_withdrawals_queue_but_cannot_decide(session, client, login_as, make_user, brand,
                                                                request_withdrawal, decide):
    fund(session, brand.id)
    w = new_withdrawal(session, request_withdrawal("100"))
    admin = make_user(staff_role="admin")
    login_as(admin)
    page = client.get("/finance/withdrawals").get_data(as_text=True)
    assert withdrawal_code(w.id) in page and "Mark paid" not in page
    before = snapshot(session)
    assert decide(w.id, "pay", "CMB 1234", user=admin).status_code == 403
    assert snapshot(session) == before


# --- descriptions in the reader's language -------------------------------------------------------------------------


def test_descriptions_follow_the_readers_language_and_the_memo_stays_english(session, client, login_as, brand,
                                                                             finance_staff, request_withdrawal):
    from flask_babel import refresh

    from marketplace.payments.services import confirm_bank_top_up, request_bank_top_up

    top_up = request_bank_top_up(session, brand.finance, brand.enterprise, 5_000_00)
    confirm_bank_top_up(session, finance_staff, top_up, 5_000_00)
    session.flush()
    w = new_withdrawal(session, request_withdrawal("1,000"))
    code, bank_code = withdrawal_code(w.id), top_up.reference_code

    brand.finance.locale = "zh_CN"
    session.flush()
    refresh()  # the test's one app context remembers the locale of the requests above (each real request has its own)
    login_as(brand.finance)
    html = client.get(brand.wallet).get_data(as_text=True)
    rows = [row[1:3] for row in tables_of(html)[-1][1:]]
    assert rows == [["提现已申请（冻结）", f"提现 {code} 已申请：金额已冻结"],
                    ["对公转账充值", f"对公转账 {bank_code}"]]
    assert "提现" in page_text(html).split("导出 CSV")[1][:20]  # the "Withdraw funds" button

    rows = csv_rows(client.get(f"{brand.wallet}/transactions.csv").get_data(as_text=True))
    assert list(rows[0]) == ["transaction_id", "created_at_utc", "kind", "memo", "amount_cny", "balance_after_cny",
                             "description"]
    assert [(r["kind"], r["memo"], r["amount_cny"]) for r in rows] == [
        ("hold_withdrawal", f"Withdrawal {code} requested", "-1000.00"),
        ("top_up:bank", f"Bank transfer {bank_code}", "5000.00")]
    assert rows[0]["description"] == f"提现已申请（冻结）: 提现 {code} 已申请：金额已冻结"
    assert rows[1]["description"] == f"对公转账充值: 对公转账 {bank_code}"

    # Stored memos are the audit record: never rewritten.
    session.expire_all()
    assert session.get(LedgerTransaction, w.hold_transaction_id).memo == f"Withdrawal {code} requested"

    # Finance staff reading in Chinese see both on the transaction page.
    finance_staff.locale = "zh_CN"
    session.flush()
    refresh()
    login_as(finance_staff)
    page = client.get(f"/finance/transactions/{w.hold_transaction_id}").get_data(as_text=True)
    assert by_testid(page, "description") == f"提现 {code} 已申请：金额已冻结"
    assert by_testid(page, "memo") == f"Withdrawal {code} requested"
