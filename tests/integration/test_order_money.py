"""Worked examples: every order transition that moves money, with every affected balance in exact fen.

Each example asserts the brand's wallet, the order's escrow, the creator's pending earnings and the two revenue
accounts (the revenue accounts are platform-wide, so as a change from the start of the test), then that the
ledger is sound (trial balance zero, cached balances = postings, every transaction balanced). At the end of
an order, ``paid_to_creator`` and ``refunded_to_brand`` on the order must equal what the ledger moved.

Default terms (configuration): service fee 5 % on top of the price, commission 5 % of the price, retention
20 % of the creator's net, live window 30 days. For a ¥1,000.00 order: fee 50.00, commission 50.00, retention
190.00 (20 % of 950.00), the creator gets 760.00 on confirmation and 190.00 when the live window ends.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from marketplace.errors import InsufficientFunds
from marketplace.ledger import flows
from marketplace.ledger.models import LedgerTransaction
from marketplace.ledger.services import balance
from marketplace.orders import disputes, recruiting, services
from marketplace.orders.models import Order
from marketplace.orders.services import Actor
from tests.integration.order_world import (
    NOW,
    Deal,
    advance,
    apply,
    new_deal,
    new_reviewer,
    offer,
    open_job,
    order_in,
    revenue,
    row_counts,
)
from tests.ledger_helpers import assert_balances, assert_ledger_sound

START = 10_000_00


@pytest.fixture
def deal(session) -> Deal:
    return new_deal(session, balance_fen=START)


@pytest.fixture
def reviewer(session):
    return Actor("staff", new_reviewer(session))


class Books:
    """The balances one order touches, checked together (revenue relative to the test's start)."""

    def __init__(self, session, deal: Deal):
        self.session, self.deal = session, deal
        self.revenue0 = revenue(session)

    def check(self, order: Order, *, wallet: int, escrow: int, pending: int, fee: int = 0, commission: int = 0):
        assert_balances(self.session, {
            self.deal.wallet: wallet,
            flows.order_escrow(order.id): escrow,
            self.deal.pending: pending,
            flows.REVENUE_SERVICE_FEE: self.revenue0[0] + fee,
            flows.REVENUE_COMMISSION: self.revenue0[1] + commission,
        })
        assert_ledger_sound(self.session)

    def check_settled(self, order: Order):
        """The order is over: its escrow is empty and its own columns say where every fen went."""
        session = self.session
        assert balance(session, flows.order_escrow(order.id)) == 0
        assert order.paid_to_creator == balance(session, self.deal.pending)
        assert order.refunded_to_brand == balance(session, self.deal.wallet) - (START - order.total)
        fee, commission = (now - then for now, then in zip(revenue(session), self.revenue0, strict=True))
        assert order.paid_to_creator + order.refunded_to_brand + fee + commission == order.total


def kinds(session, order: Order) -> list[str]:
    return list(session.scalars(select(LedgerTransaction.kind).where(
        LedgerTransaction.reference_type == "order", LedgerTransaction.reference_id == order.id)
        .order_by(LedgerTransaction.id)))


# --- funding ----------------------------------------------------------------------------------------------------


def test_send_offer_funds_price_and_service_fee(session, deal):
    books = Books(session, deal)
    order = offer(session, deal, price=1_000_00)
    assert (order.price, order.service_fee, order.commission, order.retention) == (1_000_00, 50_00, 50_00, 190_00)
    assert order.total == 1_050_00
    books.check(order, wallet=START - 1_050_00, escrow=1_050_00, pending=0)
    assert kinds(session, order) == ["fund_escrow"]
    assert (order.paid_to_creator, order.refunded_to_brand) == (0, 0)


def test_the_rate_card_price_is_offered_when_no_price_is_given(session, deal):
    books = Books(session, deal)
    order = offer(session, deal, price=None)  # the creator's rate card: short video ¥1,000
    assert order.price == 1_000_00
    books.check(order, wallet=START - 1_050_00, escrow=1_050_00, pending=0)


def test_accept_application_funds_the_quote(session, deal):
    books = Books(session, deal)
    job = open_job(session, deal)
    application = apply(session, job, deal.creator, quote=750_00)
    order = recruiting.accept_application(session, application, deal.brand, now=NOW)
    assert (order.state, order.origin, order.job_id) == ("in_progress", "job", job.id)
    # fee 37.50, commission 37.50, retention 20 % of 712.50 = 142.50
    assert (order.price, order.service_fee, order.commission, order.retention) == (750_00, 37_50, 37_50, 142_50)
    books.check(order, wallet=START - 787_50, escrow=787_50, pending=0)
    assert kinds(session, order) == ["fund_escrow"]


# --- refunds ------------------------------------------------------------------------------------------------------


def test_decline_refunds_everything(session, deal):
    books = Books(session, deal)
    order = offer(session, deal)
    services.decline_offer(session, order, deal.maker, reason="Fully booked this month", now=NOW)
    assert order.state == "declined"
    books.check(order, wallet=START, escrow=0, pending=0)
    assert order.refunded_to_brand == 1_050_00
    books.check_settled(order)
    assert kinds(session, order) == ["fund_escrow", "refund_escrow"]


def test_expiry_refunds_everything(session, deal):
    books = Books(session, deal)
    order = offer(session, deal)
    assert services.expire_offer(session, order, now=order.offer_expires_at) is not None
    assert order.state == "expired"
    books.check(order, wallet=START, escrow=0, pending=0)
    books.check_settled(order)


def test_withdraw_refunds_everything(session, deal):
    books = Books(session, deal)
    order = offer(session, deal)
    services.withdraw_offer(session, order, deal.brand, now=NOW)
    assert order.state == "withdrawn"
    books.check(order, wallet=START, escrow=0, pending=0)
    books.check_settled(order)


def test_creator_cancel_refunds_everything(session, deal):
    books = Books(session, deal)
    order = order_in(session, deal, "in_progress")
    services.cancel(session, order, deal.maker, reason="I am ill", now=NOW)
    assert order.state == "cancelled"
    books.check(order, wallet=START, escrow=0, pending=0)
    books.check_settled(order)


@pytest.mark.parametrize("proposer", ["brand", "creator"])
def test_agreed_cancel_refunds_everything(session, deal, proposer):
    books = Books(session, deal)
    order = order_in(session, deal, "in_progress")
    first, second = (deal.brand, deal.maker) if proposer == "brand" else (deal.maker, deal.brand)
    services.request_cancel(session, order, first, reason="Plans changed", now=NOW)
    books.check(order, wallet=START - 1_050_00, escrow=1_050_00, pending=0)  # a proposal moves nothing
    services.cancel(session, order, second, now=NOW)
    assert order.state == "cancelled"
    assert order.refunded_to_brand == 1_050_00
    books.check(order, wallet=START, escrow=0, pending=0)
    books.check_settled(order)


# --- release and retention --------------------------------------------------------------------------------------


def test_confirm_releases_net_and_fees_keeps_retention(session, deal):
    books = Books(session, deal)
    order = order_in(session, deal, "published")
    books.check(order, wallet=START - 1_050_00, escrow=1_050_00, pending=0)  # delivering moves nothing
    services.confirm(session, order, deal.brand, now=NOW)
    books.check(order, wallet=START - 1_050_00, escrow=190_00, pending=760_00, fee=50_00, commission=50_00)
    assert order.paid_to_creator == 760_00
    assert kinds(session, order) == ["fund_escrow", "release_escrow"]


def test_auto_confirm_releases_like_confirm(session, deal):
    books = Books(session, deal)
    order = order_in(session, deal, "published")
    assert services.auto_confirm(session, order, now=order.auto_confirm_at - timedelta(seconds=1)) is None
    books.check(order, wallet=START - 1_050_00, escrow=1_050_00, pending=0)
    services.auto_confirm(session, order, now=order.auto_confirm_at)
    assert order.state == "completed"
    books.check(order, wallet=START - 1_050_00, escrow=190_00, pending=760_00, fee=50_00, commission=50_00)


def test_closing_the_live_window_pays_the_whole_retention(session, deal):
    books = Books(session, deal)
    order = order_in(session, deal, "completed")
    assert order.live_until == order.published_at + timedelta(days=30)
    assert services.close_live_window(session, order, now=order.live_until - timedelta(seconds=1)) is None
    services.close_live_window(session, order, now=order.live_until)
    assert order.state == "closed"
    books.check(order, wallet=START - 1_050_00, escrow=0, pending=950_00, fee=50_00, commission=50_00)
    assert (order.paid_to_creator, order.refunded_to_brand) == (950_00, 0)
    books.check_settled(order)
    assert kinds(session, order) == ["fund_escrow", "release_escrow", "release_retention"]


def test_an_upheld_removal_refunds_the_retention_pro_rata(session, deal, reviewer):
    books = Books(session, deal)
    order = order_in(session, deal, "completed")
    removed_at = order.published_at + timedelta(days=20)  # live 20 of 30 days: 10 days missed
    report = disputes.report_removed(session, order, deal.brand, note="The video shows “private”",
                                     removed_at=removed_at, now=removed_at + timedelta(hours=2))
    disputes.decide_removal(session, report, reviewer, uphold=True, note="Confirmed on the platform",
                            now=removed_at + timedelta(days=1))
    assert order.state == "closed"
    refund = 190_00 * 10 // 30  # 63.33 (floor: the fen left over goes to the creator)
    assert (refund, report.refund) == (63_33, 63_33)
    books.check(order, wallet=START - 1_050_00 + 63_33, escrow=0, pending=760_00 + 190_00 - 63_33,
                fee=50_00, commission=50_00)
    assert (order.paid_to_creator, order.refunded_to_brand) == (886_67, 63_33)
    books.check_settled(order)


def test_a_part_day_missed_counts_as_a_day(session, deal):
    books = Books(session, deal)
    order = order_in(session, deal, "completed")
    removed_at = order.live_until - timedelta(hours=1)  # one started day missed
    services.close_live_window(session, order, now=removed_at, removed_at=removed_at)
    assert order.refunded_to_brand == 190_00 // 30 == 6_33
    books.check(order, wallet=START - 1_050_00 + 6_33, escrow=0, pending=950_00 - 6_33, fee=50_00,
                commission=50_00)
    books.check_settled(order)


def test_a_removal_before_publishing_refunds_the_whole_retention(session, deal):
    books = Books(session, deal)
    order = order_in(session, deal, "completed")
    services.close_live_window(session, order, now=NOW, removed_at=order.published_at - timedelta(days=3))
    assert order.refunded_to_brand == 190_00
    books.check(order, wallet=START - 1_050_00 + 190_00, escrow=0, pending=760_00, fee=50_00, commission=50_00)
    books.check_settled(order)


# --- disputes ------------------------------------------------------------------------------------------------------


def _disputed(session, deal, state="published", price=1_000_00):
    order = order_in(session, deal, state, price=price)
    dispute = disputes.open_dispute(session, order, deal.brand, reason="not_as_briefed",
                                    description="The video does not show the product at all.", now=NOW)
    return order, dispute


def test_resolve_refund_returns_price_and_fee(session, deal, reviewer):
    books = Books(session, deal)
    order, dispute = _disputed(session, deal)
    disputes.resolve_dispute(session, dispute, reviewer, decision="refund", to_creator=None, note="Not delivered",
                             now=NOW)
    assert order.state == "resolved"
    books.check(order, wallet=START, escrow=0, pending=0)
    assert (order.paid_to_creator, order.refunded_to_brand) == (0, 1_050_00)
    books.check_settled(order)
    assert kinds(session, order) == ["fund_escrow", "settle_escrow"]


def test_resolve_release_pays_the_creator_in_full_without_retention(session, deal, reviewer):
    books = Books(session, deal)
    order, dispute = _disputed(session, deal)
    disputes.resolve_dispute(session, dispute, reviewer, decision="release", to_creator=None, note="Delivered",
                             now=NOW)
    books.check(order, wallet=START - 1_050_00, escrow=0, pending=950_00, fee=50_00, commission=50_00)
    assert (order.paid_to_creator, order.refunded_to_brand, dispute.to_creator) == (950_00, 0, 1_000_00)
    books.check_settled(order)


def test_resolve_split_60_40(session, deal, reviewer):
    books = Books(session, deal)
    order, dispute = _disputed(session, deal)
    disputes.resolve_dispute(session, dispute, reviewer, decision="split", to_creator=600_00, note="Partly right",
                             now=NOW)
    # creator: 600.00 − 5 % commission = 570.00; brand: 400.00 + the fee on its part (20.00) = 420.00;
    # platform keeps the fee on the creator's part (30.00) and the commission (30.00)
    books.check(order, wallet=START - 1_050_00 + 420_00, escrow=0, pending=570_00, fee=30_00, commission=30_00)
    assert (order.paid_to_creator, order.refunded_to_brand, dispute.to_creator) == (570_00, 420_00, 600_00)
    books.check_settled(order)


def test_resolve_odd_split_of_an_odd_price(session, deal, reviewer):
    books = Books(session, deal)
    order, dispute = _disputed(session, deal, state="in_progress", price=333_33)
    assert (order.service_fee, order.commission) == (16_67, 16_67)
    disputes.resolve_dispute(session, dispute, reviewer, decision="split", to_creator=111_11, note="A third",
                             now=NOW)
    # commission on 111.11 = 5.5555 → 5.56 (half up); fee kept = 16.67 × 111.11 / 333.33 = 5.5566 → 5.55 (floor)
    books.check(order, wallet=START - 350_00 + 233_34, escrow=0, pending=105_55, fee=5_55, commission=5_56)
    assert 105_55 + 233_34 + 5_55 + 5_56 == order.total
    books.check_settled(order)


def test_resolve_split_of_one_fen_either_way(session, deal, reviewer):
    books = Books(session, deal)
    order, dispute = _disputed(session, deal, price=3)  # 3 fen: fee 0, commission 0
    assert (order.service_fee, order.commission, order.retention) == (0, 0, 1)
    disputes.resolve_dispute(session, dispute, reviewer, decision="split", to_creator=1, note="One fen", now=NOW)
    books.check(order, wallet=START - 3 + 2, escrow=0, pending=1)
    books.check_settled(order)


# --- rounding -------------------------------------------------------------------------------------------------------


def test_one_fen_order_from_offer_to_closed(session, deal):
    books = Books(session, deal)
    order = offer(session, deal, price=1)
    assert (order.service_fee, order.commission, order.retention, order.total) == (0, 0, 0, 1)
    books.check(order, wallet=START - 1, escrow=1, pending=0)
    advance(session, order, deal, "completed")
    books.check(order, wallet=START - 1, escrow=0, pending=1)
    advance(session, order, deal, "closed")  # no retention: closing moves nothing
    books.check(order, wallet=START - 1, escrow=0, pending=1)
    assert (order.state, order.paid_to_creator) == ("closed", 1)
    books.check_settled(order)
    assert kinds(session, order) == ["fund_escrow", "release_escrow"]


def test_333_33_order_from_offer_to_closed(session, deal):
    books = Books(session, deal)
    order = offer(session, deal, price=333_33)
    # fee 5 % of 333.33 = 16.6665 → 16.67 (half up); commission the same; retention 20 % of 316.66 = 63.332 → 63.33
    assert (order.service_fee, order.commission, order.retention) == (16_67, 16_67, 63_33)
    books.check(order, wallet=START - 350_00, escrow=350_00, pending=0)
    advance(session, order, deal, "completed")
    books.check(order, wallet=START - 350_00, escrow=63_33, pending=253_33, fee=16_67, commission=16_67)
    advance(session, order, deal, "closed")
    books.check(order, wallet=START - 350_00, escrow=0, pending=316_66, fee=16_67, commission=16_67)
    books.check_settled(order)


def test_333_33_removal_seven_days_missed(session, deal):
    books = Books(session, deal)
    order = order_in(session, deal, "completed", price=333_33)
    removed_at = order.live_until - timedelta(days=7)
    services.close_live_window(session, order, now=removed_at, removed_at=removed_at)
    refund = 63_33 * 7 // 30  # 14.777 → 14.77
    assert order.refunded_to_brand == refund == 14_77
    books.check(order, wallet=START - 350_00 + 14_77, escrow=0, pending=316_66 - 14_77, fee=16_67,
                commission=16_67)
    books.check_settled(order)


def test_a_price_with_no_live_window_has_no_retention(session, deal):
    books = Books(session, deal)
    order = order_in(session, deal, "completed", live_days=0)
    assert order.retention == 0
    books.check(order, wallet=START - 1_050_00, escrow=0, pending=950_00, fee=50_00, commission=50_00)
    assert services.close_live_window(session, order, now=order.live_until) is not None
    books.check(order, wallet=START - 1_050_00, escrow=0, pending=950_00, fee=50_00, commission=50_00)
    books.check_settled(order)


@pytest.mark.parametrize("price", [1, 2, 19, 20, 99, 100_01, 333_33, 999_99, 1_234_567])
def test_fees_always_add_up(app, session, price):
    with app.app_context():
        fees = services.compute_fees(price, 30)
    assert 0 <= fees.commission + fees.retention <= price
    assert fees.service_fee == (price * 500 + 5_000) // 10_000  # half up
    assert fees.commission == (price * 500 + 5_000) // 10_000
    assert fees.retention == ((price - fees.commission) * 2_000 + 5_000) // 10_000


# --- not enough money: nothing written ------------------------------------------------------------------------------


def test_insufficient_funds_on_send_offer_writes_nothing(session):
    deal = new_deal(session, balance_fen=1_049_99)  # one fen short of ¥1,000 + 5 %
    session.commit()
    before = row_counts(session)
    with pytest.raises(InsufficientFunds):
        offer(session, deal, price=1_000_00)
    session.rollback()
    assert row_counts(session) == before
    assert balance(session, deal.wallet) == 1_049_99
    assert session.scalars(select(Order).where(Order.creator_id == deal.creator.id)).all() == []
    offer(session, deal, price=999_99)  # 999.99 + 50.00 = 1,049.99: exactly affordable
    assert balance(session, deal.wallet) == 0
    assert_ledger_sound(session)


def test_insufficient_funds_on_accept_application_writes_nothing(session):
    deal = new_deal(session, balance_fen=500_00)
    job = open_job(session, deal, slots=1)
    application = apply(session, job, deal.creator, quote=750_00)
    session.commit()
    before = row_counts(session)
    with pytest.raises(InsufficientFunds):
        recruiting.accept_application(session, application, deal.brand, now=NOW)
    session.rollback()
    assert row_counts(session) == before
    session.refresh(job)
    session.refresh(application)
    assert (job.state, job.slots_filled, application.state, application.order_id) == ("open", 0, "submitted", None)
    assert balance(session, deal.wallet) == 500_00
    assert_ledger_sound(session)
