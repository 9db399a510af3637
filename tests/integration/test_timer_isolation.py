"""One order the timers cannot act on holds up none of the others (``marketplace.orders.timers``).

The failures are real, not simulated in our code: an order whose escrow holds less than its money effect needs
(finance posted an adjustment against the wrong account: the ledger refuses to take the escrow below zero), a
platform connector that times out for one work (a connector registered through the connector seam,
``PLATFORM_CONNECTOR``: configuration of the external boundary), and on PostgreSQL an order another transaction
holds locked past the lock timeout (a database error, which aborts the transaction until its savepoint rolls
back). Each time the failing order is the first due (the one that used to come first again on every run and
roll every run back): the others are acted on and their money moves, the failing one is untouched, its error
is logged with its id, and the next run tries it again, and acts once it can.
"""

from __future__ import annotations

import logging
import os
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import OperationalError

from marketplace.db import database
from marketplace.errors import InsufficientFunds
from marketplace.jobs import run_job
from marketplace.ledger import flows
from marketplace.ledger.services import PostedTransaction, balance, credit, debit, reverse
from marketplace.notifications.models import Notification
from marketplace.orders import timers
from marketplace.orders.models import Order, OrderEvent
from marketplace.platform import CONNECTORS
from marketplace.platform.sandbox import SandboxPlatform
from tests.concurrency import committed_app, in_new_transaction
from tests.integration.order_world import NOW, Deal, new_deal, offer, order_in, revenue, row_counts
from tests.ledger_helpers import assert_balances, assert_ledger_sound

START = 10_000_00
TOTAL = 1_050_00  # price 1,000.00 + the brand's 5% service fee
LOGGER = "canal.orders.timers"


def misposted(session, order: Order, amount: int) -> PostedTransaction:
    """Finance posts an adjustment against the wrong account: ``amount`` leaves the order's escrow for the brand's
    wallet. The ledger stays balanced; the escrow now holds less than the order's money effect will need."""
    return flows.post(session, kind="adjustment", key=f"misposted-adjustment:{order.id}",
                      legs=[debit(flows.order_escrow(order.id), amount),
                            credit(flows.enterprise_available(order.enterprise_id), amount)])


def corrected(session, posting: PostedTransaction) -> None:
    """Finance reverses the mistaken adjustment: the escrow holds the order's money again."""
    reverse(session, posting, key=f"correction:{posting.idempotency_key}", memo="Posted against the wrong account")


def held(deal: Deal, order: Order, wallet: int, escrow: int, pending: int) -> dict[str, int]:
    """The balances an order's money moves between: the brand's wallet, the escrow, the creator's pending."""
    return {deal.wallet: wallet, flows.order_escrow(order.id): escrow, deal.pending: pending}


def three_deals(session) -> list[Deal]:
    return [new_deal(session, balance_fen=START) for _ in range(3)]


def failures(caplog) -> list[tuple[str, type]]:
    """(message, exception type) of each error the timers logged."""
    return [(r.getMessage(), r.exc_info[0]) for r in caplog.records if r.name == LOGGER and r.levelno == logging.ERROR]


def events(session, order: Order) -> list[str]:
    return list(session.scalars(select(OrderEvent.action).where(OrderEvent.order_id == order.id)
                                .order_by(OrderEvent.id)))


def notifications(session, kind: str) -> int:
    return session.scalar(select(func.count()).select_from(Notification).where(Notification.kind == kind))


def run(app, session, name: str, now: datetime):
    """Run the job as the runner does (its own session; commits) on what the test wrote so far."""
    session.commit()
    result = run_job(app, name, now=now)
    session.expire_all()
    return result


def logged_failure(job: str, order: Order) -> str:
    return f"{job}: order {order.id} failed; its changes were rolled back and it is retried on the next run"


def assert_retried_in_vain(app, session, caplog, job: str, now: datetime, order: Order) -> None:
    """The next run tries the failing order again: it fails again (logged once more), and writes nothing."""
    logged = len(failures(caplog))
    before = row_counts(session)
    assert run(app, session, job, now) == 0
    assert row_counts(session) == before
    assert len(failures(caplog)) == logged + 1 and failures(caplog)[-1][0] == logged_failure(job, order)


# --- offer expiry ---------------------------------------------------------------------------------------------------


def test_an_offer_whose_refund_fails_does_not_hold_up_the_others_and_is_retried(app, session, caplog):
    deals = three_deals(session)
    bad, *good = [offer(session, deal, now=NOW + timedelta(minutes=i)) for i, deal in enumerate(deals)]
    assert bad.offer_expires_at < good[0].offer_expires_at < good[1].offer_expires_at  # the bad one is due first
    mistake = misposted(session, bad, 100_00)
    due = good[1].offer_expires_at
    escrows = [flows.order_escrow(o.id) for o in (bad, *good)]

    caplog.set_level(logging.ERROR, logger=LOGGER)
    assert run(app, session, "orders.expire_offers", due) == 2
    for order in good:
        assert (order.state, order.refunded_to_brand) == ("expired", TOTAL)
        assert events(session, order) == ["send_offer", "expire"]
    assert (bad.state, bad.refunded_to_brand) == ("offered", 0)
    assert events(session, bad) == ["send_offer"]
    assert_balances(session, {deals[0].wallet: START - TOTAL + 100_00, escrows[0]: TOTAL - 100_00,
                              deals[1].wallet: START, escrows[1]: 0, deals[2].wallet: START, escrows[2]: 0})
    assert notifications(session, "offer_expired") == 4  # brand owner and creator of each expired offer
    assert_ledger_sound(session)
    assert failures(caplog) == [(logged_failure("orders.expire_offers", bad), InsufficientFunds)]

    # The next run tries it again, in vain; the others are not acted on twice.
    assert_retried_in_vain(app, session, caplog, "orders.expire_offers", due + timedelta(seconds=30), bad)
    assert bad.state == "offered"

    # Finance corrects the mistake: the next run expires it and refunds all of its escrow, once.
    corrected(session, mistake)
    assert run(app, session, "orders.expire_offers", due + timedelta(minutes=1)) == 1
    assert (bad.state, bad.refunded_to_brand) == ("expired", TOTAL)
    assert events(session, bad) == ["send_offer", "expire"]
    assert_balances(session, {deals[0].wallet: START, escrows[0]: 0, deals[1].wallet: START, escrows[1]: 0,
                              deals[2].wallet: START, escrows[2]: 0})
    assert notifications(session, "offer_expired") == 6
    assert_ledger_sound(session)
    assert len(failures(caplog)) == 2
    assert run(app, session, "orders.expire_offers", due + timedelta(minutes=2)) == 0


def test_more_failing_offers_than_a_batch_still_let_the_next_one_expire(app, session, caplog, monkeypatch):
    """A run acts on up to ``BATCH`` orders; failing ones do not count, the walk goes on past them (a batch of
    two here, so that two failing offers would fill it)."""
    monkeypatch.setattr(timers, "BATCH", 2)
    deals = three_deals(session)
    first, second, third = [offer(session, deal, now=NOW + timedelta(minutes=i)) for i, deal in enumerate(deals)]
    misposted(session, first, 1)
    misposted(session, second, 1)

    caplog.set_level(logging.ERROR, logger=LOGGER)
    assert run(app, session, "orders.expire_offers", third.offer_expires_at) == 1
    assert [o.state for o in (first, second, third)] == ["offered", "offered", "expired"]
    assert_balances(session, {deals[0].wallet: START - TOTAL + 1, flows.order_escrow(first.id): TOTAL - 1,
                              deals[1].wallet: START - TOTAL + 1, flows.order_escrow(second.id): TOTAL - 1,
                              deals[2].wallet: START, flows.order_escrow(third.id): 0})
    assert_ledger_sound(session)
    logged = failures(caplog)
    assert logged == [(logged_failure("orders.expire_offers", first), InsufficientFunds),
                      (logged_failure("orders.expire_offers", second), InsufficientFunds)]


def test_a_run_tries_a_bounded_number_of_rows_when_everything_fails(app, session, caplog, monkeypatch):
    """When every due row fails (the ledger refuses each refund here), a run stops after ``TRIES × BATCH`` tries and
    says so; the next run starts again from the earliest (a batch of one and two tries here)."""
    monkeypatch.setattr(timers, "BATCH", 1)
    monkeypatch.setattr(timers, "TRIES", 2)
    deals = three_deals(session)
    offers = [offer(session, deal, now=NOW + timedelta(minutes=i)) for i, deal in enumerate(deals)]
    for order in offers:
        misposted(session, order, 1)

    caplog.set_level(logging.ERROR, logger=LOGGER)
    assert run(app, session, "orders.expire_offers", offers[-1].offer_expires_at) == 0
    assert [o.state for o in offers] == ["offered"] * 3
    logged = [(r.getMessage(), r.exc_info[0] if r.exc_info else None)
              for r in caplog.records if r.name == LOGGER and r.levelno == logging.ERROR]
    assert logged == [(logged_failure("orders.expire_offers", offers[0]), InsufficientFunds),
                      (logged_failure("orders.expire_offers", offers[1]), InsufficientFunds),
                      ("orders.expire_offers: 2 rows tried, 0 acted on; the rest waits for the next run", None)]
    assert_ledger_sound(session)


# --- auto-confirm ---------------------------------------------------------------------------------------------------


def test_an_auto_confirm_whose_release_fails_does_not_hold_up_the_others_and_is_retried(app, session, caplog):
    deals = three_deals(session)
    orders = [order_in(session, deal, "published") for deal in deals]
    # Publishing follows each creator's own next work on the platform: the bad one is whichever is due first.
    ordered = sorted(zip(orders, deals, strict=True), key=lambda pair: (pair[0].auto_confirm_at, pair[0].id))
    (bad, bad_deal), *rest = ordered
    mistake = misposted(session, bad, 200_00)  # escrow 850.00; the release takes out 860.00 (all but retention)
    due = max(order.auto_confirm_at for order in orders)
    fee0, commission0 = revenue(session)

    caplog.set_level(logging.ERROR, logger=LOGGER)
    assert run(app, session, "orders.auto_confirm", due) == 2
    for order, deal in rest:
        assert order.state == "completed" and events(session, order)[-1] == "auto_confirm"
        assert_balances(session, held(deal, order, START - TOTAL, 190_00, 760_00))  # the retention stays held
    assert bad.state == "published" and "auto_confirm" not in events(session, bad)
    assert (bad.completed_at, bad.live_until, bad.paid_to_creator) == (None, None, 0)
    assert_balances(session, held(bad_deal, bad, START - TOTAL + 200_00, TOTAL - 200_00, 0))
    assert revenue(session) == (fee0 + 2 * 50_00, commission0 + 2 * 50_00)
    assert notifications(session, "confirmed") == 2
    assert_ledger_sound(session)
    assert failures(caplog) == [(logged_failure("orders.auto_confirm", bad), InsufficientFunds)]

    assert_retried_in_vain(app, session, caplog, "orders.auto_confirm", due + timedelta(minutes=1), bad)
    assert bad.state == "published"

    corrected(session, mistake)
    assert run(app, session, "orders.auto_confirm", due + timedelta(minutes=2)) == 1
    assert bad.state == "completed" and events(session, bad).count("auto_confirm") == 1
    for order, deal in ordered:
        assert_balances(session, held(deal, order, START - TOTAL, 190_00, 760_00))
    assert revenue(session) == (fee0 + 3 * 50_00, commission0 + 3 * 50_00)
    assert_ledger_sound(session)
    assert len(failures(caplog)) == 2


# --- the end of the live window --------------------------------------------------------------------------------------


def test_a_retention_release_that_fails_does_not_hold_up_the_others(app, session, caplog):
    deals = three_deals(session)
    orders = [order_in(session, deal, "completed") for deal in deals]
    ordered = sorted(zip(orders, deals, strict=True), key=lambda pair: (pair[0].live_until, pair[0].id))
    (bad, bad_deal), *rest = ordered
    mistake = misposted(session, bad, 1)  # 189.99 held: the retention of 190.00 cannot be released
    due = max(order.live_until for order in orders)

    caplog.set_level(logging.ERROR, logger=LOGGER)
    # ``orders.live_window`` also asks the platform about works still in their window: none are at ``due``.
    assert run(app, session, "orders.live_window", due) == 2
    for order, deal in rest:
        assert (order.state, order.paid_to_creator) == ("closed", 950_00)
        assert_balances(session, held(deal, order, START - TOTAL, 0, 950_00))
    assert (bad.state, bad.closed_at) == ("completed", None)
    assert_balances(session, held(bad_deal, bad, START - TOTAL + 1, 190_00 - 1, 760_00))
    assert_ledger_sound(session)
    assert failures(caplog) == [(logged_failure("orders.live_window", bad), InsufficientFunds)]

    corrected(session, mistake)
    assert run(app, session, "orders.live_window", due + timedelta(minutes=5)) == 1
    assert (bad.state, bad.paid_to_creator) == ("closed", 950_00)
    assert_balances(session, held(bad_deal, bad, START - TOTAL, 0, 950_00))
    assert_ledger_sound(session)


# --- the live check: a platform connector failing for one work ------------------------------------------------------


class _PlatformTimingOut(SandboxPlatform):
    """The sandbox platform, except that asking about the works in ``failing`` times out."""

    failing: set[str] = set()

    def lookup_work(self, url, *, now=None):
        if url in self.failing:
            raise TimeoutError(f"the platform did not answer for {url}")
        return super().lookup_work(url, now=now)


@pytest.fixture
def timing_out_platform(app, monkeypatch):
    monkeypatch.setitem(CONNECTORS, "timing-out", lambda config: _PlatformTimingOut(
        seed=int(config.get("PLATFORM_SANDBOX_SEED", 2026))))
    monkeypatch.setitem(app.config, "PLATFORM_CONNECTOR", "timing-out")
    monkeypatch.setattr(_PlatformTimingOut, "failing", set())
    return _PlatformTimingOut


def test_a_live_check_that_fails_goes_to_the_back_of_the_queue(app, session, caplog, timing_out_platform):
    deals = three_deals(session)
    bad, *good = [order_in(session, deal, "completed") for deal in deals]
    assert bad.id < good[0].id < good[1].id  # never checked: checked in id order, the bad one first
    timing_out_platform.failing.add(bad.work_url)
    first = max(order.completed_at for order in (bad, *good)) + timedelta(hours=1)
    session.commit()

    caplog.set_level(logging.ERROR, logger=LOGGER)
    assert timers.check_live_works(session, first, limit=1) == 0
    session.commit()
    session.expire_all()
    assert (bad.state, bad.live_checked_at) == ("completed", first)  # asked (and failed): to the back
    assert failures(caplog) == [(logged_failure("orders.live_window", bad), TimeoutError)]

    # The next checks reach the other orders instead of failing on the same one again.
    second = first + timedelta(minutes=5)
    assert timers.check_live_works(session, second, limit=2) == 0
    session.commit()
    session.expire_all()
    assert [(o.state, o.live_checked_at) for o in good] == [("completed", second)] * 2
    assert bad.live_checked_at == first
    assert len(failures(caplog)) == 1

    # Its turn again, the platform answering: checked, still live.
    timing_out_platform.failing.clear()
    third = second + timedelta(minutes=5)
    assert timers.check_live_works(session, third, limit=1) == 0
    session.commit()
    session.expire_all()
    assert (bad.state, bad.live_checked_at) == ("completed", third)
    assert len(failures(caplog)) == 1
    assert_ledger_sound(session)


# --- PostgreSQL: a database error in one row (the transaction is aborted until the savepoint rolls back) ----------


@pytest.mark.skipif(not os.environ.get("DATABASE_URL", "").startswith("postgres"),
                    reason="row locks and lock timeouts are PostgreSQL's (SQLite serializes writers)")
def test_an_order_locked_past_the_lock_timeout_is_skipped_on_postgresql(tmp_root, caplog):
    with committed_app(tmp_root, "timer_isolation") as app:
        def build(session):
            deals = three_deals(session)
            orders = [offer(session, deal, now=NOW + timedelta(minutes=i)) for i, deal in enumerate(deals)]
            return [(o.id, d.enterprise.id) for o, d in zip(orders, deals, strict=True)]

        (bad_id, bad_enterprise), *good = in_new_transaction(app, build)
        due = NOW + timedelta(hours=72, minutes=2)

        def expire_with_lock_timeout(session):
            session.execute(text("SET LOCAL lock_timeout = '300ms'"))
            return timers.expire_offers(session, due)

        caplog.set_level(logging.ERROR, logger=LOGGER)
        with app.app_context():
            holder = database(app).write_session_factory()
            try:
                # Another transaction (a brand accepting, a runner elsewhere) holds the first due order.
                holder.execute(select(Order.id).where(Order.id == bad_id).with_for_update())
                assert in_new_transaction(app, expire_with_lock_timeout) == 2
            finally:
                holder.rollback()
                holder.close()

        def read(session):
            """Each order's (state, escrow), each brand's wallet."""
            ids = [bad_id] + [order_id for order_id, _ in good]
            return ({o.id: (o.state, balance(session, flows.order_escrow(o.id)))
                     for o in session.scalars(select(Order).where(Order.id.in_(ids)))},
                    {e: balance(session, flows.enterprise_available(e)) for e in [bad_enterprise] + [e for _, e in good]})

        orders, wallets = in_new_transaction(app, read)
        assert orders == {bad_id: ("offered", TOTAL), good[0][0]: ("expired", 0), good[1][0]: ("expired", 0)}
        assert wallets == {bad_enterprise: START - TOTAL, good[0][1]: START, good[1][1]: START}
        logged = failures(caplog)
        assert len(logged) == 1 and logged[0][0].startswith(f"orders.expire_offers: order {bad_id} failed")
        assert logged[0][1] is OperationalError  # LockNotAvailable, as SQLAlchemy raises it

        # The lock released, the next run expires it.
        assert in_new_transaction(app, expire_with_lock_timeout) == 1
        orders, wallets = in_new_transaction(app, read)
        assert set(orders.values()) == {("expired", 0)}
        assert wallets == {bad_enterprise: START, good[0][1]: START, good[1][1]: START}
        in_new_transaction(app, assert_ledger_sound)
