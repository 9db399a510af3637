"""Worked examples for every money flow of design.md §6: each checks every affected balance and that the
ledger stays sound (trial balance zero, cached = recomputed)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from marketplace.errors import InsufficientFunds
from marketplace.ledger import flows
from marketplace.ledger.flows import EscrowRelease
from marketplace.ledger.models import LedgerAccount, LedgerTransaction, Posting
from marketplace.ledger.services import (
    IdempotencyConflict,
    Leg,
    PostedTransaction,
    UnbalancedTransaction,
    post,
    reverse,
    set_min_balance,
)
from tests.ledger_helpers import assert_balances, assert_ledger_sound

E, C, ORD, B, P = 7, 3, 11, 5, 9  # enterprise, creator, order, boost, payout ids
W = flows.enterprise_available(E)


def _txn_count(session) -> int:
    return session.scalar(select(func.count()).select_from(LedgerTransaction))


def test_bank_top_up_credits_the_wallet(session):
    flows.top_up(session, enterprise_id=E, amount=500_000, rail="bank", key="topup:1")
    assert_balances(session, {W: 500_000, flows.CASH_BANK: 500_000})
    assert_ledger_sound(session)


def test_stripe_top_up_books_the_fee_as_expense(session):
    flows.top_up(session, enterprise_id=E, amount=100_000, rail="stripe", fee=3_400, key="topup:s1")
    assert_balances(session, {W: 100_000, flows.CASH_STRIPE: 96_600, flows.EXPENSE_PROCESSING: 3_400})
    assert_ledger_sound(session)


def test_fund_release_clear_withhold_payout(session):
    flows.top_up(session, enterprise_id=E, amount=200_000, rail="bank", key="topup:1")
    flows.fund_escrow(session, order_id=ORD, enterprise_id=E, price=100_000, service_fee=5_000, key="order:11:fund")
    assert_balances(session, {W: 95_000, flows.order_escrow(ORD): 105_000})

    split = EscrowRelease(price=100_000, service_fee=5_000, commission=5_000, retention=19_000)
    flows.release_escrow(session, order_id=ORD, creator_id=C, split=split, key="order:11:release")
    assert_balances(session, {
        flows.order_escrow(ORD): 19_000, flows.creator_pending(C): 76_000,
        flows.REVENUE_SERVICE_FEE: 5_000, flows.REVENUE_COMMISSION: 5_000, W: 95_000,
    })

    flows.release_retention(session, order_id=ORD, creator_id=C, enterprise_id=E, to_creator=15_200,
                            to_enterprise=3_800, key="order:11:retention")
    assert_balances(session, {flows.order_escrow(ORD): 0, flows.creator_pending(C): 91_200, W: 98_800})

    flows.clear_pending(session, creator_id=C, amount=91_200, key="creator:3:clear:1")
    flows.withhold_tax(session, creator_id=C, amount=11_392, key="payout:9:tax")
    assert_balances(session, {flows.creator_pending(C): 0, flows.creator_available(C): 79_808,
                              flows.TAX_WITHHELD: 11_392})

    flows.start_payout(session, payout_id=P, creator_id=C, amount=79_808, key="payout:9:start")
    assert_balances(session, {flows.creator_available(C): 0, flows.PAYOUTS_IN_TRANSIT: 79_808})
    flows.complete_payout(session, payout_id=P, amount=79_808, rail="bank", key="payout:9:complete")
    assert_balances(session, {flows.PAYOUTS_IN_TRANSIT: 0, flows.CASH_BANK: 200_000 - 79_808})
    assert_ledger_sound(session)


def test_failed_payout_returns_the_money(session):
    flows.top_up(session, enterprise_id=E, amount=50_000, rail="bank", key="t")
    flows.fund_escrow(session, order_id=ORD, enterprise_id=E, price=50_000, service_fee=0, key="f")
    flows.release_escrow(session, order_id=ORD, creator_id=C, key="r",
                         split=EscrowRelease(price=50_000, service_fee=0, commission=0, retention=0))
    flows.clear_pending(session, creator_id=C, amount=50_000, key="c")
    flows.start_payout(session, payout_id=P, creator_id=C, amount=50_000, key="s")
    flows.fail_payout(session, payout_id=P, creator_id=C, amount=50_000, key="x")
    assert_balances(session, {flows.creator_available(C): 50_000, flows.PAYOUTS_IN_TRANSIT: 0,
                              flows.CASH_BANK: 50_000})
    assert_ledger_sound(session)


def test_refund_whole_and_part(session):
    flows.top_up(session, enterprise_id=E, amount=100_000, rail="bank", key="t")
    flows.fund_escrow(session, order_id=ORD, enterprise_id=E, price=60_000, service_fee=3_000, key="f")
    flows.refund_escrow(session, order_id=ORD, enterprise_id=E, amount=25_200, key="refund:part")
    assert_balances(session, {W: 62_200, flows.order_escrow(ORD): 37_800})
    flows.refund_escrow(session, order_id=ORD, enterprise_id=E, amount=37_800, key="refund:rest")
    assert_balances(session, {W: 100_000, flows.order_escrow(ORD): 0})
    with pytest.raises(InsufficientFunds):
        flows.refund_escrow(session, order_id=ORD, enterprise_id=E, amount=1, key="refund:more")
    assert_ledger_sound(session)


def test_boost_hold_spend_release_from_enterprise_and_creator(session):
    flows.top_up(session, enterprise_id=E, amount=30_000, rail="bank", key="t")
    flows.hold_boost(session, boost_id=B, payer=("enterprise", E), amount=20_000, key="b:hold")
    flows.spend_boost(session, boost_id=B, amount=7_350, key="b:slot:1")
    flows.spend_boost(session, boost_id=B, amount=2_650, key="b:slot:2")
    flows.release_boost(session, boost_id=B, payer=("enterprise", E), amount=10_000, key="b:refund")
    assert_balances(session, {W: 20_000, flows.boost_budget(B): 0, flows.REVENUE_BOOST: 10_000})

    flows.top_up(session, enterprise_id=E, amount=10_000, rail="bank", key="t2")
    flows.fund_escrow(session, order_id=ORD, enterprise_id=E, price=10_000, service_fee=0, key="f")
    flows.release_escrow(session, order_id=ORD, creator_id=C, key="r",
                         split=EscrowRelease(price=10_000, service_fee=0, commission=0, retention=0))
    flows.clear_pending(session, creator_id=C, amount=10_000, key="c")
    flows.hold_boost(session, boost_id=B + 1, payer=("creator", C), amount=10_000, key="b2:hold")
    assert_balances(session, {flows.creator_available(C): 0, flows.boost_budget(B + 1): 10_000})
    assert_ledger_sound(session)


def test_brand_withdrawal(session):
    flows.top_up(session, enterprise_id=E, amount=10_000, rail="bank", key="t")
    flows.brand_withdrawal(session, enterprise_id=E, amount=4_000, key="w")
    assert_balances(session, {W: 6_000, flows.CASH_BANK: 6_000})
    with pytest.raises(InsufficientFunds):
        flows.brand_withdrawal(session, enterprise_id=E, amount=6_001, key="w2")
    assert_balances(session, {W: 6_000, flows.CASH_BANK: 6_000})
    assert_ledger_sound(session)


def test_insufficient_funds_writes_nothing(session):
    flows.top_up(session, enterprise_id=E, amount=10_000, rail="bank", key="t")
    before = _txn_count(session)
    with pytest.raises(InsufficientFunds):
        flows.fund_escrow(session, order_id=ORD, enterprise_id=E, price=10_000, service_fee=500, key="f")
    assert _txn_count(session) == before
    assert_balances(session, {W: 10_000, flows.order_escrow(ORD): 0})
    assert_ledger_sound(session)


def test_credit_line_lets_the_wallet_go_negative_to_the_limit(session):
    flows.open_enterprise_wallet(session, E)
    set_min_balance(session, W, -50_000)
    flows.fund_escrow(session, order_id=ORD, enterprise_id=E, price=40_000, service_fee=2_000, key="f1")
    assert_balances(session, {W: -42_000})
    with pytest.raises(InsufficientFunds):
        flows.fund_escrow(session, order_id=ORD + 1, enterprise_id=E, price=8_000, service_fee=400, key="f2")
    flows.top_up(session, enterprise_id=E, amount=42_000, rail="bank", key="repay")
    assert_balances(session, {W: 0})
    assert_ledger_sound(session)


def test_same_key_same_content_posts_once(session):
    flows.top_up(session, enterprise_id=E, amount=10_000, rail="bank", key="t")
    first = flows.fund_escrow(session, order_id=ORD, enterprise_id=E, price=5_000, service_fee=250, key="f")
    again = flows.fund_escrow(session, order_id=ORD, enterprise_id=E, price=5_000, service_fee=250, key="f")
    assert again.id == first.id
    assert_balances(session, {W: 4_750, flows.order_escrow(ORD): 5_250})
    assert_ledger_sound(session)


def test_same_key_different_content_is_refused(session):
    flows.top_up(session, enterprise_id=E, amount=10_000, rail="bank", key="t")
    flows.fund_escrow(session, order_id=ORD, enterprise_id=E, price=5_000, service_fee=250, key="f")
    with pytest.raises(IdempotencyConflict):
        flows.fund_escrow(session, order_id=ORD, enterprise_id=E, price=6_000, service_fee=300, key="f")
    assert_balances(session, {W: 4_750, flows.order_escrow(ORD): 5_250})


def test_unbalanced_and_non_integer_legs_are_refused(session):
    flows.open_enterprise_wallet(session, E)
    flows.top_up(session, enterprise_id=E, amount=1_000, rail="bank", key="t")
    with pytest.raises(UnbalancedTransaction):
        post(session, kind="bad", key="bad1", legs=[Leg(W, 100), Leg(flows.CASH_BANK, -99)])
    with pytest.raises(UnbalancedTransaction):
        post(session, kind="bad", key="bad2", legs=[Leg(W, 1.5), Leg(flows.CASH_BANK, -1.5)])
    assert_ledger_sound(session)


def test_reversal_restores_every_balance(session):
    flows.top_up(session, enterprise_id=E, amount=10_000, rail="bank", key="t")
    txn = flows.fund_escrow(session, order_id=ORD, enterprise_id=E, price=5_000, service_fee=250, key="f")
    reverse(session, txn, key="f:reversal", memo="Funded by mistake")
    assert_balances(session, {W: 10_000, flows.order_escrow(ORD): 0})
    postings = session.scalar(select(func.count()).select_from(Posting))
    assert postings == 2 + 2 + 2  # nothing was edited or deleted: the reversal added its own postings
    assert_ledger_sound(session)


def test_post_returns_the_row_it_wrote(session, make_user):
    """``post`` hands back the transaction's values (no ORM object); ``load`` gives the ORM row and postings."""
    actor = make_user()
    flows.top_up(session, enterprise_id=E, amount=10_000, rail="bank", key="t")
    txn = flows.fund_escrow(session, order_id=ORD, enterprise_id=E, price=5_000, service_fee=250, key="f",
                            actor_id=actor.id)
    assert isinstance(txn, PostedTransaction)
    row = session.scalars(select(LedgerTransaction).where(LedgerTransaction.idempotency_key == "f")).one()
    assert txn == PostedTransaction.of(row)  # every value as stored, created_at to the microsecond
    assert (txn.kind, txn.reference_type, txn.reference_id, txn.created_by_id, txn.reverses_id, txn.memo) == (
        "fund_escrow", "order", ORD, actor.id, None, "")
    loaded = txn.load(session)
    assert loaded is row
    assert sorted((p.account.code, p.amount, p.balance_after) for p in loaded.postings) == [
        (W, 5_250, -4_750), (flows.order_escrow(ORD), -5_250, -5_250)]
    assert flows.fund_escrow(session, order_id=ORD, enterprise_id=E, price=5_000, service_fee=250, key="f",
                             actor_id=actor.id) == txn  # a replay returns the same values


def test_post_keeps_loaded_accounts_in_step(session):
    """Accounts the session already holds see the new balances without a reload."""
    flows.top_up(session, enterprise_id=E, amount=10_000, rail="bank", key="t")
    wallet = session.scalars(select(LedgerAccount).where(LedgerAccount.code == W)).one()
    assert (wallet.balance, wallet.posting_count) == (-10_000, 1)
    flows.fund_escrow(session, order_id=ORD, enterprise_id=E, price=5_000, service_fee=250, key="f")
    assert (wallet.balance, wallet.posting_count) == (-4_750, 2)
    assert session.scalar(select(LedgerAccount.balance).where(LedgerAccount.code == W)) == -4_750


def test_reversal_of_a_loaded_transaction(session):
    flows.top_up(session, enterprise_id=E, amount=10_000, rail="bank", key="t")
    txn = flows.fund_escrow(session, order_id=ORD, enterprise_id=E, price=5_000, service_fee=250, key="f")
    reversal = reverse(session, txn.load(session), key="f:reversal")
    assert (reversal.kind, reversal.reverses_id, reversal.memo) == ("reversal:fund_escrow", txn.id,
                                                                    f"Reversal of #{txn.id}")
    assert_balances(session, {W: 10_000, flows.order_escrow(ORD): 0})
    assert_ledger_sound(session)


def test_postings_are_append_only_on_postgresql(session):
    if session.bind.dialect.name != "postgresql":
        pytest.skip("the append-only trigger is PostgreSQL's; SQLite relies on the ledger module")
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    flows.top_up(session, enterprise_id=E, amount=10_000, rail="bank", key="t")
    with pytest.raises(DBAPIError, match="append-only"):
        with session.begin_nested():
            session.execute(text("UPDATE ledger_postings SET amount = amount + 1"))
    with pytest.raises(DBAPIError, match="append-only"):
        with session.begin_nested():
            session.execute(text("DELETE FROM ledger_transactions"))


def test_database_refuses_an_unbalanced_transaction_on_postgresql(session):
    if session.bind.dialect.name != "postgresql":
        pytest.skip("the deferred balance trigger is PostgreSQL's")
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    flows.top_up(session, enterprise_id=E, amount=10_000, rail="bank", key="t")
    account_id = session.scalar(text("SELECT id FROM ledger_accounts WHERE code = :c"), {"c": W})
    with pytest.raises(DBAPIError, match="does not balance"):
        with session.begin_nested():
            txn = session.scalar(text(
                "INSERT INTO ledger_transactions (kind, idempotency_key, request_hash, memo, created_at) "
                "VALUES ('bad', 'raw-bad', 'x', '', now()) RETURNING id"))
            session.execute(text("INSERT INTO ledger_postings (transaction_id, account_id, amount, currency, "
                                 "balance_after) VALUES (:t, :a, 100, 'CNY', 0)"), {"t": txn, "a": account_id})
            session.execute(text("SET CONSTRAINTS ALL IMMEDIATE"))


def test_ledger_check_command_recomputes_every_balance(app, session):
    from sqlalchemy import text

    flows.top_up(session, enterprise_id=E, amount=10_000, rail="bank", key="t")
    session.flush()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["ledger", "check"])
    assert result.exit_code == 0, result.output
    assert "ledger sound" in result.output
    session.execute(text("UPDATE ledger_accounts SET balance = balance - 1 WHERE code = :c"), {"c": W})
    session.flush()
    result = runner.invoke(args=["ledger", "check"])
    assert result.exit_code == 1
    assert f"MISMATCH {W}: cached -10001, postings -10000" in result.output


def test_withdrawal_never_draws_on_the_credit_line(session):
    flows.top_up(session, enterprise_id=E, amount=10_000, rail="bank", key="t")
    set_min_balance(session, W, -50_000)
    with pytest.raises(InsufficientFunds):
        flows.brand_withdrawal(session, enterprise_id=E, amount=10_001, key="w")
    flows.brand_withdrawal(session, enterprise_id=E, amount=10_000, key="w2")
    assert_balances(session, {W: 0, flows.CASH_BANK: 0})
    flows.fund_escrow(session, order_id=ORD, enterprise_id=E, price=20_000, service_fee=0, key="f")  # spending may
    assert_balances(session, {W: -20_000})
    assert_ledger_sound(session)
