"""Withdrawals under real concurrency (threads, each with its own connection and committed transaction; row locks
on PostgreSQL, serialized writers on SQLite).

- Many withdrawal requests at once from one wallet that can afford K of them: exactly K are held, the others are
  refused with the amount error and write nothing, the wallet is exact.
- Finance pays and rejects the same withdrawal at the same moment: exactly one wins, the money moves once.
"""

from __future__ import annotations

from itertools import count

import pytest
from sqlalchemy import func, select

from marketplace.accounts.models import User
from marketplace.accounts.services import create_user
from marketplace.enterprises import services as enterprise_services
from marketplace.enterprises.models import Enterprise, Membership
from marketplace.errors import InvalidTransition, ValidationFailed
from marketplace.files.services import store_bytes
from marketplace.ledger import flows
from marketplace.ledger.services import balance
from marketplace.payments import withdrawals
from marketplace.payments.models import Withdrawal
from marketplace.seed import licence_png
from tests.concurrency import committed_app, in_new_transaction, in_read_session, race
from tests.conftest import PASSWORD, valid_uscc
from tests.ledger_helpers import assert_ledger_sound

THREADS = 12
_n = count(1)


@pytest.fixture(scope="module")
def concurrent_app(tmp_root):
    with committed_app(tmp_root, "withdrawals") as app:
        yield app


read = in_read_session


def funded_brand(app, amount: int) -> tuple[int, int, int]:
    """A verified enterprise with ``amount`` in its wallet: (enterprise id, finance member id, finance staff id)."""
    n = next(_n)

    def build(s):
        owner = create_user(s, email=f"wd-owner{n}@example.com", password=PASSWORD, display_name="Owner",
                            verified=True)
        details = enterprise_services.EnterpriseDetails(
            legal_name=f"并发测试{n}有限公司", display_name=f"Race {n}", uscc=valid_uscc(900 + n), contact_name="C",
            contact_phone="+86 21 5555 0000", contact_email=owner.email, invoice_title="", tax_number="")
        enterprise = enterprise_services.create_enterprise(s, owner, details)
        enterprise.licence_file_id = store_bytes(s, licence_png("Race", details.uscc), "image/png", "licence.png",
                                                 owner.id).id
        enterprise_services.submit_for_verification(s, owner, enterprise)
        reviewer = create_user(s, email=f"wd-rev{n}@example.com", password=PASSWORD, display_name="R",
                               staff_role="reviewer", verified=True)
        enterprise_services.approve_enterprise(s, reviewer, enterprise)
        member = create_user(s, email=f"wd-fin{n}@example.com", password=PASSWORD, display_name="F", verified=True)
        s.add(Membership(enterprise_id=enterprise.id, user_id=member.id, role="finance"))
        staff = create_user(s, email=f"wd-staff{n}@example.com", password=PASSWORD, display_name="S",
                            staff_role="finance", verified=True)
        s.flush()
        flows.top_up(s, enterprise_id=enterprise.id, amount=amount, rail="bank", key=f"wd-race:{enterprise.id}")
        return enterprise.id, member.id, staff.id

    return in_new_transaction(app, build)


def test_many_requests_from_a_wallet_that_affords_k_hold_exactly_k(concurrent_app):
    app, K, each = concurrent_app, 4, 1_000_00
    funded = K * each + each - 1  # one fen short of a (K+1)th withdrawal
    enterprise_id, member_id, _staff = funded_brand(app, funded)

    def ask(i: int):
        def work(s):
            enterprise, member = s.get(Enterprise, enterprise_id), s.get(User, member_id)
            return withdrawals.request_withdrawal(s, member, enterprise, amount=each, account_name=enterprise.legal_name,
                                                  bank_name="招商银行", account_number="6214830123456789",
                                                  request_key=f"race-{i}").id
        return lambda: in_new_transaction(app, work)

    outcomes = race([ask(i) for i in range(THREADS)])

    unexpected = [v for status, v in outcomes if status == "error" and not isinstance(v, ValidationFailed)]
    assert unexpected == []
    held = [v for status, v in outcomes if status == "ok"]
    assert len(held) == len(set(held)) == K
    refused = [v for status, v in outcomes if status == "error"]
    assert len(refused) == THREADS - K and all(e.field == "amount" for e in refused)

    def check(s):
        assert balance(s, flows.enterprise_available(enterprise_id)) == funded - K * each == each - 1
        assert sorted(balance(s, flows.withdrawal_held(w)) for w in held) == [each] * K
        assert s.scalar(select(func.count()).select_from(Withdrawal)
                        .where(Withdrawal.enterprise_id == enterprise_id)) == K
        assert_ledger_sound(s)

    read(app, check)


def test_paying_and_rejecting_at_the_same_moment_moves_the_money_once(concurrent_app):
    app, amount = concurrent_app, 2_000_00
    enterprise_id, member_id, staff_id = funded_brand(app, amount)

    def ask(s):
        enterprise, member = s.get(Enterprise, enterprise_id), s.get(User, member_id)
        return withdrawals.request_withdrawal(s, member, enterprise, amount=amount, account_name=enterprise.legal_name,
                                              bank_name="招商银行", account_number="6214830123456789",
                                              request_key="race-decide").id

    withdrawal_id = in_new_transaction(app, ask)

    def decide(action: str):
        def work(s):
            staff, w = s.get(User, staff_id), s.get(Withdrawal, withdrawal_id)
            if action == "pay":
                return withdrawals.pay_withdrawal(s, staff, w, "CMB 777").state
            return withdrawals.reject_withdrawal(s, staff, w, "Account details do not match").state
        return lambda: in_new_transaction(app, work)

    cash_before = read(app, lambda s: balance(s, flows.CASH_BANK))
    outcomes = race([decide("pay"), decide("reject")] * 3)

    states = {v for status, v in outcomes if status == "ok"}
    errors = [v for status, v in outcomes if status == "error"]
    assert len(states) == 1 and all(isinstance(e, InvalidTransition) for e in errors) and errors
    final = states.pop()

    def check(s):
        assert s.get(Withdrawal, withdrawal_id).state == final
        assert balance(s, flows.withdrawal_held(withdrawal_id)) == 0
        wallet, cash = balance(s, flows.enterprise_available(enterprise_id)), balance(s, flows.CASH_BANK)
        if final == "paid":
            assert (wallet, cash) == (0, cash_before - amount)
        else:
            assert (wallet, cash) == (amount, cash_before)
        assert_ledger_sound(s)

    read(app, check)
