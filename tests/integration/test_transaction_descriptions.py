"""Transaction descriptions in the reader's language, from kind + reference (+ the memo's free-text details),
and the withdrawal flows as ledger worked examples."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from marketplace.errors import InsufficientFunds
from marketplace.ledger import flows
from marketplace.ledger.models import LedgerTransaction
from marketplace.payments.descriptions import describe, kind_label
from marketplace.payments.services import reference_code
from marketplace.payments.withdrawals import withdrawal_code
from tests.ledger_helpers import assert_balances, assert_ledger_sound


def txn(kind, memo="", reference=(None, None), reverses_id=None):
    return SimpleNamespace(kind=kind, memo=memo, reference_type=reference[0], reference_id=reference[1],
                           reverses_id=reverses_id)


W = withdrawal_code(7)
CASES = [
    (txn("top_up:bank", f"Bank transfer {reference_code(12)}", ("top_up", 12)),
     f"Bank transfer {reference_code(12)}", f"对公转账 {reference_code(12)}"),
    (txn("top_up:bank", "", ("top_up", 12)), f"Bank transfer {reference_code(12)}", f"对公转账 {reference_code(12)}"),
    (txn("top_up:stripe", "Card top-up pi_3Abc_9", ("top_up", 3)), "Card top-up pi_3Abc_9", "银行卡充值 pi_3Abc_9"),
    (txn("top_up:stripe", "Card top-up", ("top_up", 3)), "Card top-up", "银行卡充值"),
    (txn("reversal:top_up:bank", "Reversal of #12", ("top_up", 12), reverses_id=12), "Reversal of #12", "冲正 #12"),
    (txn("fund_escrow", "", ("order", 41)), "Order #41", "订单 #41"),
    (txn("hold_withdrawal", f"Withdrawal {W} requested", ("withdrawal", 7)),
     f"Withdrawal {W} requested: the amount is held", f"提现 {W} 已申请：金额已冻结"),
    (txn("complete_withdrawal", f"Withdrawal {W} paid, bank reference CMB 1", ("withdrawal", 7)),
     f"Withdrawal {W} paid, bank reference CMB 1", f"提现 {W} 已打款，银行流水号 CMB 1"),
    (txn("release_withdrawal", f"Withdrawal {W} rejected: wrong account", ("withdrawal", 7)),
     f"Withdrawal {W} rejected, returned to the balance: wrong account", f"提现 {W} 被驳回，金额退回余额：wrong account"),
    (txn("release_withdrawal", f"Withdrawal {W} cancelled by the enterprise", ("withdrawal", 7)),
     f"Withdrawal {W} cancelled, returned to the balance", f"提现 {W} 已取消，金额退回余额"),
    (txn("something_new", "Adjustment by hand"), "Adjustment by hand", "Adjustment by hand"),  # unknown: as stored
    (txn("clear_pending"), "", ""),
]


@pytest.mark.parametrize("transaction, english, chinese", CASES)
def test_descriptions_in_english_and_chinese(app, transaction, english, chinese):
    with app.test_request_context():
        with force_locale("en"):
            assert describe(transaction) == english
        with force_locale("zh_CN"):
            assert describe(transaction) == chinese


def test_kind_labels_include_the_withdrawal_kinds(app):
    with app.test_request_context(), force_locale("zh_CN"):
        assert kind_label("hold_withdrawal") == "提现已申请（冻结）"
        assert kind_label("top_up:bank") == "对公转账充值"
        assert kind_label("reversal:hold_withdrawal").endswith("提现已申请（冻结）")


def test_withdrawal_flows_worked_example(session):
    """¥800 in the wallet: hold ¥500 (wallet 300, held 500), complete (held 0, cash 300); a second withdrawal of
    ¥300 held then released (wallet back to 300). Each key posts once; a released hold cannot also complete."""
    e = 990_001
    wallet = flows.enterprise_available(e)
    flows.top_up(session, enterprise_id=e, amount=800_00, rail="bank", key="desc:topup")
    flows.hold_withdrawal(session, withdrawal_id=1, enterprise_id=e, amount=500_00, key="desc:w1:hold")
    assert_balances(session, {wallet: 300_00, flows.withdrawal_held(1): 500_00, flows.CASH_BANK: 800_00})
    again = flows.hold_withdrawal(session, withdrawal_id=1, enterprise_id=e, amount=500_00, key="desc:w1:hold")
    assert again.kind == "hold_withdrawal"
    assert_balances(session, {wallet: 300_00, flows.withdrawal_held(1): 500_00})
    flows.complete_withdrawal(session, withdrawal_id=1, amount=500_00, key="desc:w1:complete")
    assert_balances(session, {wallet: 300_00, flows.withdrawal_held(1): 0, flows.CASH_BANK: 300_00})

    flows.hold_withdrawal(session, withdrawal_id=2, enterprise_id=e, amount=300_00, key="desc:w2:hold")
    assert_balances(session, {wallet: 0, flows.withdrawal_held(2): 300_00})
    with pytest.raises(InsufficientFunds):  # the wallet is empty: nothing more can be held
        flows.hold_withdrawal(session, withdrawal_id=3, enterprise_id=e, amount=1, key="desc:w3:hold")
    flows.release_withdrawal(session, withdrawal_id=2, enterprise_id=e, amount=300_00, key="desc:w2:release")
    with pytest.raises(InsufficientFunds):  # released: it can no longer be paid out
        flows.complete_withdrawal(session, withdrawal_id=2, amount=300_00, key="desc:w2:complete")
    assert_balances(session, {wallet: 300_00, flows.withdrawal_held(2): 0, flows.CASH_BANK: 300_00})
    assert_ledger_sound(session)
    session.flush()
    assert session.scalar(select(func.count()).select_from(LedgerTransaction)
                          .where(LedgerTransaction.idempotency_key.like("desc:%"))) == 5


def test_a_hold_never_draws_on_the_credit_line(session):
    from marketplace.ledger.services import set_min_balance

    e = 990_002
    wallet = flows.open_enterprise_wallet(session, e)
    flows.top_up(session, enterprise_id=e, amount=100_00, rail="bank", key="desc:credit:topup")
    set_min_balance(session, wallet, -1_000_00)  # a ¥1,000 credit line
    with pytest.raises(InsufficientFunds):
        flows.hold_withdrawal(session, withdrawal_id=9, enterprise_id=e, amount=100_01, key="desc:credit:hold")
    flows.hold_withdrawal(session, withdrawal_id=9, enterprise_id=e, amount=100_00, key="desc:credit:hold")
    assert_balances(session, {wallet: 0, flows.withdrawal_held(9): 100_00})
    assert_ledger_sound(session)
