"""The enterprise wallet, bank-transfer top-ups, credit lines and the finance console, through the web.

Each money test checks every affected balance (the enterprise wallet and ``platform:cash:bank``, plus escrow
where a credit line is used) and that the ledger stays sound (trial balance zero, cached = recomputed).
"""

from __future__ import annotations

import csv
import html as htmllib
import io
import re
from datetime import UTC, datetime
from html.parser import HTMLParser

import pytest
from sqlalchemy import func, select

from marketplace.audit.models import AuditEntry
from marketplace.errors import InsufficientFunds
from marketplace.ledger import flows
from marketplace.ledger.models import LedgerTransaction
from marketplace.ledger.services import get_account
from marketplace.payments.models import CreditLine, TopUp
from marketplace.payments.services import parse_reference_code, reference_code
from tests.conftest import csrf_from
from tests.ledger_helpers import assert_balances, assert_ledger_sound

CASH = flows.CASH_BANK
Y = "¥"  # CNY is shown as ¥ in every language (marketplace.money.format_money)


# --- reading pages ---------------------------------------------------------------------------------------

def squash(text: str) -> str:
    return " ".join(htmllib.unescape(text).split())


def page_text(html: str) -> str:
    """The visible text of a page (tags dropped, entities decoded, whitespace collapsed)."""
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return squash(re.sub(r"<[^>]+>", " ", html))


def field_error(html: str, field_id: str) -> str:
    match = re.search(rf'<p class="field-error" id="{re.escape(field_id)}-error"[^>]*>(.*?)</p>', html, re.S)
    assert match, f"no error beside {field_id!r}: {re.findall(r'field-error[^>]*>(.*?)<', html)}"
    return squash(match.group(1))


def flashes(html: str, category: str = r"\w+") -> list[str]:
    """The text of the alerts (flash messages) on a page, of one category or all."""
    found = re.findall(rf'<div class="alert alert-{category}"[^>]*>(.*?)</div>', html, re.S)
    return [squash(re.sub(r"<[^>]+>", " ", m)) for m in found]


def by_testid(html: str, name: str) -> str:
    match = re.search(rf'data-testid="{re.escape(name)}"[^>]*>(.*?)</', html, re.S)
    assert match, f"no element with data-testid={name!r}"
    return squash(match.group(1))


class _Rows(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tables: list[list[list[str]]] = []
        self.row: list[str] | None = None
        self.cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.row = []
        elif tag in ("td", "th") and self.row is not None:
            self.cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self.cell is not None and self.row is not None:
            self.row.append(" ".join("".join(self.cell).split()))
            self.cell = None
        elif tag == "tr" and self.row is not None:
            if self.tables:
                self.tables[-1].append(self.row)
            self.row = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell.append(data)


def tables(html: str) -> list[list[list[str]]]:
    parser = _Rows()
    parser.feed(html)
    return parser.tables


def transaction_rows(html: str) -> list[list[str]]:
    """Body rows of the wallet's Transactions table: [date, type, details, amount, balance]."""
    for table in tables(html):
        if table and table[0][:4] == ["Date", "Type", "Details", "Amount"]:
            return table[1:]
    return []


def top_up_codes_listed(html: str) -> list[str]:
    """Reference codes in the first column of the finance top-ups table."""
    for table in tables(html):
        if table and table[0][:2] == ["Reference code", "Enterprise"]:
            return [row[0] for row in table[1:]]
    return []


def csv_rows(body: str) -> list[dict[str, str]]:
    assert body.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(body[1:])))


# --- database reads (the views commit in their own sessions on the same connection) -------------------

def count(session, model, *where) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model).where(*where))


def top_up_by_id(session, top_up_id: int) -> TopUp:
    session.expire_all()
    return session.get(TopUp, top_up_id)


def audits(session, action: str, object_id: int) -> list[AuditEntry]:
    session.expire_all()
    return list(session.scalars(select(AuditEntry).where(AuditEntry.action == action,
                                                         AuditEntry.object_id == object_id)
                                .order_by(AuditEntry.id)))


def balances(session, enterprise_id: int, expected_wallet: int, expected_cash: int, **others: int) -> None:
    session.expire_all()
    assert_balances(session, {flows.enterprise_available(enterprise_id): expected_wallet, CASH: expected_cash,
                              **others})
    assert_ledger_sound(session)


def money_snapshot(session) -> tuple:
    """Everything a refused request must leave unchanged."""
    session.expire_all()
    return (count(session, LedgerTransaction), count(session, TopUp), count(session, AuditEntry),
            count(session, CreditLine),
            [(t.id, t.state, t.amount_received, t.ledger_transaction_id)
             for t in session.scalars(select(TopUp).order_by(TopUp.id))])


# --- fixtures --------------------------------------------------------------------------------------------

@pytest.fixture
def brand(make_user, make_enterprise, make_member):
    """A verified enterprise with an owner, a finance member, a manager and a viewer."""
    owner = make_user(display_name="Olivia Owner")
    enterprise = make_enterprise(owner=owner, state="verified", display_name="Lakeside Tea",
                                 legal_name="杭州湖畔茶饮有限公司")

    class Brand:
        pass

    b = Brand()
    b.enterprise, b.id, b.owner = enterprise, enterprise.id, owner
    b.finance = make_member(enterprise, "finance", make_user(display_name="Fiona Finance"))
    b.manager = make_member(enterprise, "manager")
    b.viewer = make_member(enterprise, "viewer")
    b.wallet = f"/enterprises/{enterprise.id}/wallet"
    b.account = flows.enterprise_available(enterprise.id)
    return b


@pytest.fixture
def finance_staff(make_user):
    return make_user(staff_role="finance", display_name="Fei Finance", signup_kind="brand")


@pytest.fixture
def request_top_up(client, login_as, post_form):
    """As ``user``, ask for a bank top-up of ``amount`` (typed text) for ``enterprise_id``."""

    def do(user, enterprise_id: int, amount: str, follow: bool = False):
        login_as(user)
        base = f"/enterprises/{enterprise_id}/wallet"
        return post_form(f"{base}/top-up", {"amount": amount}, url=f"{base}/top-up/bank",
                         follow_redirects=follow)

    return do


@pytest.fixture
def confirm(client, login_as):
    """As ``user``, confirm top-up ``top_up_id`` with ``amount`` received, through the finance form."""

    def do(user, top_up_id: int, amount: str, note: str = "", follow: bool = False):
        login_as(user)
        token = csrf_from(client.get("/finance/top-ups?state=all").get_data(as_text=True))
        prefix = f"t{top_up_id}-"
        return client.post(f"/finance/top-ups/{top_up_id}/confirm",
                           data={prefix + "csrf_token": token, prefix + "amount_received": amount,
                                 prefix + "note": note},
                           follow_redirects=follow)

    return do


def new_top_up_id(response) -> int:
    assert response.status_code == 302, response.status_code
    match = re.search(r"/wallet/top-ups/(\d+)/bank$", response.headers["Location"])
    assert match, response.headers["Location"]
    return int(match.group(1))


# --- requesting a bank top-up -----------------------------------------------------------------------------


def test_finance_member_requests_a_bank_top_up_and_gets_the_instructions(app, session, client, brand,
                                                                          request_top_up):
    response = request_top_up(brand.finance, brand.id, "12,345.67")
    top_up_id = new_top_up_id(response)

    top_up = top_up_by_id(session, top_up_id)
    assert (top_up.enterprise_id, top_up.method, top_up.state) == (brand.id, "bank", "pending")
    assert top_up.amount_requested == 1_234_567  # exactly, no float on the way
    assert top_up.amount_received is None and top_up.ledger_transaction_id is None
    assert top_up.created_by_id == brand.finance.id
    assert top_up.reference_code == reference_code(top_up_id)
    assert re.fullmatch(r"CNL\d{9}", top_up.reference_code)

    page = client.get(response.headers["Location"])
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert by_testid(html, "reference-code") == top_up.reference_code
    text = page_text(html)
    for expected in ("Bank transfer details", app.config["PLATFORM_BANK_ACCOUNT_NAME"],
                     app.config["PLATFORM_BANK_NAME"], app.config["PLATFORM_BANK_ACCOUNT_NUMBER"],
                     f" {Y}12,345.67 "):
        assert expected in text, expected
    assert re.search(r'<span class="badge badge-pending">\s*pending\s*</span>', html)

    # Nothing is credited before finance confirms; the wallet lists the pending request.
    balances(session, brand.id, 0, 0)
    wallet = page_text(client.get(brand.wallet).get_data(as_text=True))
    assert "Pending top-ups" in wallet and top_up.reference_code in wallet and f" {Y}12,345.67 " in wallet


def test_the_reference_code_has_a_check_digit_that_catches_any_one_character_typo(session, brand,
                                                                                   request_top_up):
    code = top_up_by_id(session, new_top_up_id(request_top_up(brand.finance, brand.id, "500"))).reference_code
    top_up_id = parse_reference_code(code)
    assert top_up_id is not None and reference_code(top_up_id) == code
    # How people copy it from a bank statement: spaces, dashes, lower case.
    assert parse_reference_code(f" {code[:3].lower()}-{code[3:7]} {code[7:]} ") == top_up_id

    typos = [code[:i] + d + code[i + 1:] for i in range(3, len(code)) for d in "0123456789" if d != code[i]]
    assert len(typos) == 81
    assert [t for t in typos if parse_reference_code(t) is not None] == []
    for bad in ("CNM" + code[3:], code[:-1], code + "0", "", "CNL12345678X"):
        assert parse_reference_code(bad) is None, bad


@pytest.mark.parametrize("typed, message", [
    ("abc", "Enter an amount in yuan, with at most two decimals."),
    ("-5", "Enter a positive amount."),
    ("12.345", "Enter an amount in yuan, with at most two decimals."),
    ("99", "The minimum top-up is ¥100."),
    ("99.99", "The minimum top-up is ¥100."),
    ("10,000,000.01", "The maximum for one top-up is ¥10,000,000."),
    ("", "This field is required."),
])
def test_a_bad_amount_is_refused_beside_the_field_and_writes_nothing(session, brand, request_top_up, typed,
                                                                      message):
    before = money_snapshot(session)
    response = request_top_up(brand.finance, brand.id, typed)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert field_error(html, "amount") == message
    assert 'aria-invalid="true"' in html
    assert money_snapshot(session) == before


def test_the_limits_themselves_are_accepted(session, brand, request_top_up):
    low = new_top_up_id(request_top_up(brand.finance, brand.id, "¥100"))
    high = new_top_up_id(request_top_up(brand.finance, brand.id, "10000000.00"))
    assert top_up_by_id(session, low).amount_requested == 100_00
    assert top_up_by_id(session, high).amount_requested == 10_000_000_00


@pytest.mark.parametrize("state", ["unverified", "pending", "rejected"])
def test_an_unverified_enterprise_cannot_top_up(session, client, make_user, make_enterprise, request_top_up, state):
    owner = make_user()
    enterprise = make_enterprise(owner=owner, state=state)
    before = money_snapshot(session)

    response = request_top_up(owner, enterprise.id, "1,000")
    assert 400 <= response.status_code < 500
    assert flashes(response.get_data(as_text=True), "error") == [
        "Only verified enterprises can add funds. Submit your enterprise for verification first."]
    assert money_snapshot(session) == before

    wallet = client.get(f"/enterprises/{enterprise.id}/wallet").get_data(as_text=True)
    assert "Only verified enterprises can add funds." in page_text(wallet)
    assert f'href="/enterprises/{enterprise.id}/wallet/top-up"' not in wallet  # no "Add funds" button


# --- finance: finding and confirming ----------------------------------------------------------------------


def test_finance_finds_the_top_up_by_code_and_is_warned_about_a_wrong_check_digit(session, client, login_as,
                                                                                    brand, finance_staff,
                                                                                    make_user, make_enterprise,
                                                                                    request_top_up):
    other_owner = make_user()
    other = make_enterprise(owner=other_owner, state="verified", display_name="Harbour Coffee")
    mine = top_up_by_id(session, new_top_up_id(request_top_up(brand.finance, brand.id, "12,345.67")))
    theirs = top_up_by_id(session, new_top_up_id(request_top_up(other_owner, other.id, "800")))
    login_as(finance_staff)

    listing = client.get("/finance/top-ups")
    assert listing.status_code == 200
    assert top_up_codes_listed(listing.get_data(as_text=True)) == [mine.reference_code, theirs.reference_code]

    found = client.get("/finance/top-ups", query_string={"q": mine.reference_code})
    html = found.get_data(as_text=True)
    assert top_up_codes_listed(html) == [mine.reference_code]
    assert "Lakeside Tea" in page_text(html) and f" {Y}12,345.67 " in page_text(html)
    assert "check digit does not match" not in html

    spaced = client.get("/finance/top-ups", query_string={"q": mine.reference_code.lower()[:7] + " " +
                                                           mine.reference_code[7:]})
    assert top_up_codes_listed(spaced.get_data(as_text=True)) == [mine.reference_code]

    by_name = client.get("/finance/top-ups", query_string={"q": "harbour"})
    assert top_up_codes_listed(by_name.get_data(as_text=True)) == [theirs.reference_code]

    last = mine.reference_code[-1]
    typo = mine.reference_code[:-1] + str((int(last) + 1) % 10)
    warned = client.get("/finance/top-ups", query_string={"q": typo}).get_data(as_text=True)
    assert f"{typo} is not a valid reference code: its check digit does not match." in page_text(warned)
    assert top_up_codes_listed(warned) == []


def test_confirming_a_different_amount_received_credits_exactly_that_once(app, session, client, login_as, brand,
                                                                           finance_staff, request_top_up,
                                                                           confirm):
    top_up_id = new_top_up_id(request_top_up(brand.finance, brand.id, "12,345.67"))
    code = top_up_by_id(session, top_up_id).reference_code

    response = confirm(finance_staff, top_up_id, "12,300.00", note="Bank line 2024-03-11 #17", follow=True)
    assert response.status_code == 200
    assert f"{code} confirmed: Lakeside Tea was credited." in flashes(response.get_data(as_text=True))

    top_up = top_up_by_id(session, top_up_id)
    assert (top_up.state, top_up.amount_requested, top_up.amount_received) == ("completed", 1_234_567, 1_230_000)
    assert top_up.decided_by_id == finance_staff.id and top_up.completed_at is not None
    assert top_up.note == "Bank line 2024-03-11 #17"
    balances(session, brand.id, 1_230_000, 1_230_000)

    txn = session.get(LedgerTransaction, top_up.ledger_transaction_id)
    assert (txn.kind, txn.idempotency_key, txn.reference_type, txn.reference_id) == (
        "top_up:bank", f"topup:{top_up_id}", "top_up", top_up_id)
    assert txn.created_by_id == finance_staff.id and txn.memo == f"Bank transfer {code}"
    assert sorted((p.account.code, p.amount) for p in txn.postings) == sorted(
        [(CASH, 1_230_000), (brand.account, -1_230_000)])

    [entry] = audits(session, "top_up.confirm", top_up_id)
    assert (entry.actor_id, entry.object_type) == (finance_staff.id, "top_up")
    assert entry.before == {"state": "pending", "amount_received": None}
    assert entry.after == {"state": "completed", "amount_received": 1_230_000, "requested": 1_234_567}
    assert entry.reason == "Bank line 2024-03-11 #17"

    # The finance list shows both amounts; the transaction page shows its postings and its cause.
    done = client.get("/finance/top-ups?state=completed").get_data(as_text=True)
    assert top_up_codes_listed(done) == [code]
    assert f"{Y}12,345.67 received {Y}12,300.00 completed" in page_text(done)
    detail = page_text(client.get(f"/finance/transactions/{txn.id}").get_data(as_text=True))
    assert f"Top-up {code} of Lakeside Tea" in detail and brand.account in detail and CASH in detail
    trial = client.get("/finance/trial-balance").get_data(as_text=True)
    assert by_testid(trial, "net-CNY") == f"{Y}0.00"
    assert "Cached balances equal the sum of postings" in trial

    # The brand sees the money and the transaction, formatted.
    login_as(brand.finance)
    wallet = client.get(brand.wallet)
    assert wallet.status_code == 200
    html = wallet.get_data(as_text=True)
    assert by_testid(html, "available") == f"{Y}12,300.00"
    assert "Pending top-ups" not in html
    [row] = transaction_rows(html)
    assert row[1:] == ["Top-up by bank transfer", f"Bank transfer {code}", f"+{Y}12,300.00",
                       f"{Y}12,300.00"]
    instructions = page_text(client.get(f"{brand.wallet}/top-ups/{top_up_id}/bank").get_data(as_text=True))
    assert "completed" in instructions and f"Received {Y}12,300.00" in instructions


def test_confirming_twice_posts_once_and_another_amount_is_a_conflict(session, brand, finance_staff,
                                                                      request_top_up, confirm):
    top_up_id = new_top_up_id(request_top_up(brand.finance, brand.id, "12,345.67"))
    assert confirm(finance_staff, top_up_id, "12,300.00").status_code == 302
    txns = count(session, LedgerTransaction)
    ledger_id = top_up_by_id(session, top_up_id).ledger_transaction_id

    again = confirm(finance_staff, top_up_id, "12300")  # the same amount, typed differently
    assert again.status_code == 302
    assert count(session, LedgerTransaction) == txns
    assert top_up_by_id(session, top_up_id).ledger_transaction_id == ledger_id
    assert len(audits(session, "top_up.confirm", top_up_id)) == 1
    balances(session, brand.id, 1_230_000, 1_230_000)

    before = money_snapshot(session)
    other = confirm(finance_staff, top_up_id, "12,345.67", follow=False)
    assert other.status_code == 409
    assert money_snapshot(session) == before
    balances(session, brand.id, 1_230_000, 1_230_000)
    assert top_up_by_id(session, top_up_id).amount_received == 1_230_000


@pytest.mark.parametrize("typed", ["abc", "0", "-1", "1.001", ""])
def test_a_bad_amount_received_is_refused(session, brand, finance_staff, request_top_up, confirm, typed):
    top_up_id = new_top_up_id(request_top_up(brand.finance, brand.id, "1,000"))
    before = money_snapshot(session)
    response = confirm(finance_staff, top_up_id, typed)
    assert response.status_code == 400
    assert money_snapshot(session) == before
    assert top_up_by_id(session, top_up_id).state == "pending"
    balances(session, brand.id, 0, 0)


# --- cancelling -------------------------------------------------------------------------------------------


def test_the_brand_cancels_its_request_and_it_can_no_longer_be_confirmed(session, client, post_form, brand,
                                                                         finance_staff, request_top_up, confirm):
    top_up_id = new_top_up_id(request_top_up(brand.finance, brand.id, "2,000"))
    code = top_up_by_id(session, top_up_id).reference_code
    instructions = f"{brand.wallet}/top-ups/{top_up_id}/bank"

    response = post_form(instructions, url=f"{brand.wallet}/top-ups/{top_up_id}/cancel", follow_redirects=True)
    assert response.status_code == 200
    assert f"The top-up request {code} was cancelled." in flashes(response.get_data(as_text=True))
    top_up = top_up_by_id(session, top_up_id)
    assert (top_up.state, top_up.decided_by_id) == ("cancelled", brand.finance.id)
    assert "Pending top-ups" not in response.get_data(as_text=True)

    before = money_snapshot(session)
    refused = confirm(finance_staff, top_up_id, "2,000")
    assert refused.status_code == 409
    assert money_snapshot(session) == before
    balances(session, brand.id, 0, 0)

    # The finance queue no longer lists it as pending.
    assert code not in top_up_codes_listed(client.get("/finance/top-ups").get_data(as_text=True))


def test_finance_cancels_a_request_audited_and_it_can_no_longer_be_confirmed(session, client, login_as, brand,
                                                                           finance_staff, request_top_up,
                                                                           confirm):
    top_up_id = new_top_up_id(request_top_up(brand.finance, brand.id, "2,000"))
    code = top_up_by_id(session, top_up_id).reference_code
    login_as(finance_staff)
    token = csrf_from(client.get("/finance/top-ups").get_data(as_text=True))
    response = client.post(f"/finance/top-ups/{top_up_id}/cancel",
                           data={"csrf_token": token, "reason": "No matching transfer after 30 days"},
                           follow_redirects=True)
    assert response.status_code == 200
    assert f"{code} was cancelled." in flashes(response.get_data(as_text=True))
    top_up = top_up_by_id(session, top_up_id)
    assert (top_up.state, top_up.decided_by_id, top_up.note) == (
        "cancelled", finance_staff.id, "No matching transfer after 30 days")
    [entry] = audits(session, "top_up.cancel", top_up_id)
    assert (entry.actor_id, entry.object_type, entry.before, entry.after, entry.reason) == (
        finance_staff.id, "top_up", {"state": "pending"}, {"state": "cancelled"}, "No matching transfer after 30 days")

    before = money_snapshot(session)
    assert confirm(finance_staff, top_up_id, "2,000").status_code == 409
    assert money_snapshot(session) == before
    balances(session, brand.id, 0, 0)


def test_a_confirmed_top_up_cannot_be_cancelled(session, client, login_as, brand, finance_staff, request_top_up,
                                                confirm):
    top_up_id = new_top_up_id(request_top_up(brand.finance, brand.id, "2,000"))
    confirm(finance_staff, top_up_id, "2,000")
    before = money_snapshot(session)

    token = csrf_from(client.get("/finance/top-ups").get_data(as_text=True))
    assert client.post(f"/finance/top-ups/{top_up_id}/cancel",
                       data={"csrf_token": token, "reason": "oops"}).status_code == 409
    login_as(brand.owner)
    token = csrf_from(client.get(brand.wallet).get_data(as_text=True))
    assert client.post(f"{brand.wallet}/top-ups/{top_up_id}/cancel", data={"csrf_token": token}).status_code == 409
    assert money_snapshot(session) == before
    assert top_up_by_id(session, top_up_id).state == "completed"
    balances(session, brand.id, 200_000, 200_000)


# --- wallet transactions: CSV and filters ------------------------------------------------------------------


def test_csv_export_has_a_bom_and_exact_decimal_amounts(session, client, login_as, brand, finance_staff,
                                                        request_top_up, confirm):
    first = new_top_up_id(request_top_up(brand.finance, brand.id, "12,345.67"))
    second = new_top_up_id(request_top_up(brand.finance, brand.id, "100.07"))
    confirm(finance_staff, first, "12,300.00")
    confirm(finance_staff, second, "100.07")
    balances(session, brand.id, 1_240_007, 1_240_007)
    codes = {t: top_up_by_id(session, t).reference_code for t in (first, second)}
    txn_ids = {t: top_up_by_id(session, t).ledger_transaction_id for t in (first, second)}

    login_as(brand.owner)
    response = client.get(f"{brand.wallet}/transactions.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == f'attachment; filename="canal-wallet-{brand.id}.csv"'
    assert response.data.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM for Excel
    rows = csv_rows(response.get_data(as_text=True))
    assert [(r["transaction_id"], r["kind"], r["memo"], r["amount_cny"], r["balance_after_cny"]) for r in rows] == [
        (str(txn_ids[second]), "top_up:bank", f"Bank transfer {codes[second]}", "100.07", "12400.07"),
        (str(txn_ids[first]), "top_up:bank", f"Bank transfer {codes[first]}", "12300.00", "12300.00"),
    ]
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", r["created_at_utc"]) for r in rows)


def test_wallet_transaction_filters_by_kind_and_local_date(session, client, login_as, brand):
    # 2024-03-10 15:00 UTC is 23:00 on the 10th in Shanghai; 17:30 UTC is 01:30 on the 11th.
    late_10th = flows.top_up(session, enterprise_id=brand.id, amount=300_000, rail="bank", key="probe:a",
                             memo="Probe A", now=datetime(2024, 3, 10, 15, 0, tzinfo=UTC))
    early_11th = flows.top_up(session, enterprise_id=brand.id, amount=200_000, rail="bank", key="probe:b",
                              memo="Probe B", now=datetime(2024, 3, 10, 17, 30, tzinfo=UTC))
    later = flows.top_up(session, enterprise_id=brand.id, amount=100_000, rail="bank", key="probe:c",
                         memo="Probe C", now=datetime(2024, 4, 2, 4, 0, tzinfo=UTC))
    funded = flows.fund_escrow(session, order_id=9101, enterprise_id=brand.id, price=50_000, service_fee=2_500,
                               key="order:9101:fund")
    session.flush()
    balances(session, brand.id, 547_500, 600_000, **{flows.order_escrow(9101): 52_500})
    login_as(brand.finance)

    def shown(**query) -> list[str]:
        html = client.get(brand.wallet, query_string=query).get_data(as_text=True)
        return [row[2] for row in transaction_rows(html)]

    def exported(**query) -> list[int]:
        body = client.get(f"{brand.wallet}/transactions.csv", query_string=query).get_data(as_text=True)
        return [int(r["transaction_id"]) for r in csv_rows(body)]

    assert shown() == ["Order #9101", "Probe C", "Probe B", "Probe A"]
    assert shown(kind="fund_escrow") == ["Order #9101"]
    assert exported(kind="fund_escrow") == [funded.id]
    assert shown(kind="top_up:bank") == ["Probe C", "Probe B", "Probe A"]
    assert shown(kind="top_up:stripe") == []
    assert "No transactions match these filters." in page_text(
        client.get(brand.wallet, query_string={"kind": "top_up:stripe"}).get_data(as_text=True))

    # Dates are the reader's days (Asia/Shanghai), "to" included.
    assert shown(**{"from": "2024-03-10", "to": "2024-03-10"}) == ["Probe A"]
    assert shown(**{"from": "2024-03-11", "to": "2024-03-11"}) == ["Probe B"]
    assert shown(**{"from": "2024-03-10", "to": "2024-04-01"}) == ["Probe B", "Probe A"]
    assert shown(**{"from": "2024-03-11"}) == ["Order #9101", "Probe C", "Probe B"]
    assert shown(to="2024-04-02") == ["Probe C", "Probe B", "Probe A"]
    assert exported(**{"from": "2024-03-11", "to": "2024-04-02", "kind": "top_up:bank"}) == [later.id,
                                                                                         early_11th.id]
    assert exported(**{"from": "not-a-date"}) == [funded.id, later.id, early_11th.id, late_10th.id]

    # The page keeps the filters in the export link and the form.
    html = client.get(brand.wallet, query_string={"kind": "top_up:bank", "from": "2024-03-11"}).get_data(
        as_text=True)
    assert re.search(r'href="[^"]*/wallet/transactions\.csv\?[^"]*kind=top_up(%3A|:)bank', html)
    assert 'value="2024-03-11"' in html


# --- credit lines -----------------------------------------------------------------------------------------


def set_credit(client, login_as, user, enterprise_id: int, limit: str, reason: str, follow: bool = False):
    login_as(user)
    url = f"/finance/enterprises/{enterprise_id}/credit-line"
    token = csrf_from(client.get(url).get_data(as_text=True))
    return client.post(url, data={"csrf_token": token, "limit": limit, "reason": reason}, follow_redirects=follow)


def test_finance_grants_a_credit_line_and_the_wallet_may_go_negative_up_to_it(session, client, login_as, brand,
                                                                            finance_staff):
    flows.top_up(session, enterprise_id=brand.id, amount=1_000_000, rail="bank", key="seed:topup")
    session.flush()

    response = set_credit(client, login_as, finance_staff, brand.id, "50,000", "Annual framework contract 2024",
                          follow=True)
    assert response.status_code == 200
    assert f"Credit line of Lakeside Tea set to {Y}50,000.00." in flashes(response.get_data(as_text=True))
    session.expire_all()
    line = session.scalar(select(CreditLine).where(CreditLine.enterprise_id == brand.id))
    assert (line.limit, line.reason, line.updated_by_id) == (5_000_000, "Annual framework contract 2024",
                                                            finance_staff.id)
    assert get_account(session, brand.account).min_balance == -5_000_000
    [entry] = audits(session, "credit_line.set", brand.id)
    assert (entry.actor_id, entry.object_type, entry.before, entry.after, entry.reason) == (
        finance_staff.id, "enterprise", {"limit": 0}, {"limit": 5_000_000}, "Annual framework contract 2024")

    # Spend the balance and the whole line: ¥10,000 + ¥50,000 = ¥60,000.
    flows.fund_escrow(session, order_id=9201, enterprise_id=brand.id, price=5_714_286, service_fee=285_714,
                      key="order:9201:fund")
    balances(session, brand.id, -5_000_000, 1_000_000, **{flows.order_escrow(9201): 6_000_000})
    txns = count(session, LedgerTransaction)
    with pytest.raises(InsufficientFunds):
        flows.fund_escrow(session, order_id=9202, enterprise_id=brand.id, price=1, service_fee=0,
                          key="order:9202:fund")
    assert count(session, LedgerTransaction) == txns
    balances(session, brand.id, -5_000_000, 1_000_000, **{flows.order_escrow(9201): 6_000_000,
                                                          flows.order_escrow(9202): 0})

    login_as(brand.owner)
    html = client.get(brand.wallet).get_data(as_text=True)
    assert by_testid(html, "available") == f"-{Y}50,000.00"
    text = page_text(html)
    assert f"Credit line {Y}50,000.00 Used: {Y}50,000.00" in text and f"Spendable with credit: {Y}0.00" in text

    # Revoke (0): the floor returns to zero, so not a fen more can be spent; top-ups still credit.
    response = set_credit(client, login_as, finance_staff, brand.id, "0", "Contract ended, repay the balance")
    assert response.status_code == 302
    session.expire_all()
    assert session.scalar(select(CreditLine.limit).where(CreditLine.enterprise_id == brand.id)) == 0
    assert get_account(session, brand.account).min_balance == 0
    assert [(e.before, e.after) for e in audits(session, "credit_line.set", brand.id)] == [
        ({"limit": 0}, {"limit": 5_000_000}), ({"limit": 5_000_000}, {"limit": 0})]
    flows.top_up(session, enterprise_id=brand.id, amount=5_100_000, rail="bank", key="seed:repay")
    balances(session, brand.id, 100_000, 6_100_000, **{flows.order_escrow(9201): 6_000_000})
    with pytest.raises(InsufficientFunds):
        flows.fund_escrow(session, order_id=9203, enterprise_id=brand.id, price=100_001, service_fee=0,
                          key="order:9203:fund")
    balances(session, brand.id, 100_000, 6_100_000, **{flows.order_escrow(9203): 0})


def test_a_credit_line_is_refused_for_an_unverified_enterprise(session, client, login_as, make_enterprise,
                                                              finance_staff):
    enterprise = make_enterprise(state="pending")
    before = money_snapshot(session)
    response = set_credit(client, login_as, finance_staff, enterprise.id, "10,000", "Trusted partner of a client")
    assert response.status_code == 403
    html = response.get_data(as_text=True)
    assert flashes(html, "error") == ["Only verified enterprises can be granted credit."]
    assert money_snapshot(session) == before
    assert get_account(session, flows.enterprise_available(enterprise.id)) is None


@pytest.mark.parametrize("reason, message", [
    ("", "This field is required."),
    ("   ", "This field is required."),
    ("ok", "Field must be between 5 and 1000 characters long."),
])
def test_a_credit_line_needs_a_reason(session, client, login_as, brand, finance_staff, reason, message):
    before = money_snapshot(session)
    response = set_credit(client, login_as, finance_staff, brand.id, "10,000", reason)
    assert response.status_code == 400
    assert field_error(response.get_data(as_text=True), "reason") == message
    assert money_snapshot(session) == before


def test_a_negative_or_malformed_credit_limit_is_refused(session, client, login_as, brand, finance_staff):
    before = money_snapshot(session)
    for typed in ("-1", "lots", "1.234"):
        response = set_credit(client, login_as, finance_staff, brand.id, typed, "Framework contract")
        assert response.status_code == 400, typed
        assert field_error(response.get_data(as_text=True), "limit")
    assert money_snapshot(session) == before


# --- who may do what ----------------------------------------------------------------------------------------


def test_an_admin_reads_the_finance_console_but_changes_nothing(session, client, login_as, make_user, brand,
                                                                request_top_up):
    top_up_id = new_top_up_id(request_top_up(brand.finance, brand.id, "1,000"))
    login_as(make_user(staff_role="admin"))
    for url in ("/finance/", "/finance/top-ups", "/finance/accounts", "/finance/trial-balance",
                "/finance/credit-lines", f"/finance/enterprises/{brand.id}/credit-line"):
        assert client.get(url).status_code == 200, url
    listing = client.get("/finance/top-ups").get_data(as_text=True)
    assert top_up_codes_listed(listing) == [top_up_by_id(session, top_up_id).reference_code]
    assert "Confirm received" not in listing  # no buttons for what they may not do
    assert "Only finance staff change credit lines." in page_text(
        client.get(f"/finance/enterprises/{brand.id}/credit-line").get_data(as_text=True))

    token = csrf_from(listing)
    before = money_snapshot(session)
    assert client.post(f"/finance/top-ups/{top_up_id}/confirm",
                       data={f"t{top_up_id}-csrf_token": token,
                             f"t{top_up_id}-amount_received": "1000"}).status_code == 403
    assert client.post(f"/finance/top-ups/{top_up_id}/cancel",
                       data={"csrf_token": token, "reason": "x"}).status_code == 403
    assert client.post(f"/finance/enterprises/{brand.id}/credit-line",
                       data={"csrf_token": token, "limit": "10000", "reason": "Admin says so"}).status_code == 403
    assert money_snapshot(session) == before


@pytest.mark.parametrize("who", ["reviewer", "brand_owner", "brand_finance"])
def test_others_cannot_open_the_finance_console(client, login_as, make_user, brand, who):
    user = {"reviewer": lambda: make_user(staff_role="reviewer"), "brand_owner": lambda: brand.owner,
            "brand_finance": lambda: brand.finance}[who]()
    login_as(user)
    for url in ("/finance/", "/finance/top-ups", "/finance/trial-balance", "/finance/credit-lines",
                f"/finance/enterprises/{brand.id}/credit-line"):
        assert client.get(url).status_code == 403, url


def test_only_owner_and_finance_members_see_the_wallet(client, login_as, make_user, make_enterprise, brand):
    stranger = make_user()
    make_enterprise(owner=stranger, state="verified")
    cases = [(brand.owner, 200), (brand.finance, 200), (brand.manager, 403), (brand.viewer, 403), (stranger, 403)]
    for user, status in cases:
        login_as(user)
        for path in ("", "/transactions.csv", "/top-up"):
            assert client.get(brand.wallet + path).status_code == status, (user.email, path)


def test_another_enterprises_owner_is_refused_everywhere(session, client, login_as, make_user, make_enterprise,
                                                         brand, request_top_up):
    top_up_id = new_top_up_id(request_top_up(brand.finance, brand.id, "1,000"))
    outsider = make_user()
    make_enterprise(owner=outsider, state="verified")
    login_as(outsider)
    before = money_snapshot(session)
    for path in ("", "/transactions.csv", "/top-up", f"/top-ups/{top_up_id}/bank"):
        assert client.get(brand.wallet + path).status_code == 403, path
    token = csrf_from(client.get("/settings").get_data(as_text=True))
    assert client.post(f"{brand.wallet}/top-up/bank", data={"csrf_token": token, "amount": "1000"}).status_code == 403
    assert client.post(f"{brand.wallet}/top-ups/{top_up_id}/cancel", data={"csrf_token": token}).status_code == 403
    assert money_snapshot(session) == before


def test_a_top_up_is_not_found_under_another_enterprises_url(session, client, login_as, make_user,
                                                             make_enterprise, brand, request_top_up):
    top_up_id = new_top_up_id(request_top_up(brand.finance, brand.id, "1,000"))
    owner_b = make_user()
    enterprise_b = make_enterprise(owner=owner_b, state="verified")
    login_as(owner_b)
    wallet_b = f"/enterprises/{enterprise_b.id}/wallet"
    assert client.get(f"{wallet_b}/top-ups/{top_up_id}/bank").status_code == 404
    before = money_snapshot(session)
    token = csrf_from(client.get(wallet_b).get_data(as_text=True))
    assert client.post(f"{wallet_b}/top-ups/{top_up_id}/cancel", data={"csrf_token": token}).status_code == 404
    assert money_snapshot(session) == before
    assert top_up_by_id(session, top_up_id).state == "pending"
    assert client.get(f"{wallet_b}/top-ups/999999/bank").status_code == 404


def test_anonymous_visitors_are_sent_to_log_in(client, brand):
    response = client.get(brand.wallet)
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    response = client.get("/finance/top-ups")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
