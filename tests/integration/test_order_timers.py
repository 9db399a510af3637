"""The order-taking timers with a controllable clock: each acts when due (not a second before), moves the money
once, and does nothing more when run again — in sequence (through ``marketplace.jobs.run_job`` with ``now``) and
concurrently (two runners at once against committed data).

Also the live check: a work the sandbox platform takes down after the order completed closes the order with a
pro-rata refund of the retention.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from marketplace.db import database
from marketplace.jobs import run_job
from marketplace.ledger import flows
from marketplace.ledger.models import LedgerTransaction, Posting
from marketplace.ledger.services import balance
from marketplace.notifications.models import Notification
from marketplace.orders import services, timers
from marketplace.orders.models import Application, Job, LiveReport, Order, OrderEvent
from tests.concurrency import committed_app, in_new_transaction, race
from tests.integration.order_world import (
    NOW,
    Deal,
    advance,
    apply,
    new_creator,
    new_deal,
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


def run_twice(app, session, name, now):
    """Run the job twice at ``now``; what each run returned, and the rows the second run added (none)."""
    session.commit()
    first = run_job(app, name, now=now)
    after_first = row_counts(session)
    second = run_job(app, name, now=now)
    assert row_counts(session) == after_first, "the second run wrote something"
    session.expire_all()
    return first, second


def events(session, order_id: int) -> list[str]:
    return list(session.scalars(select(OrderEvent.action).where(OrderEvent.order_id == order_id)
                                .order_by(OrderEvent.id)))


def order_postings(session, order_id: int) -> int:
    return session.scalar(select(func.count()).select_from(Posting).join(LedgerTransaction).where(
        LedgerTransaction.reference_type == "order", LedgerTransaction.reference_id == order_id))


# --- offer expiry ---------------------------------------------------------------------------------------------------


def test_offers_expire_after_72_hours_and_are_refunded_once(app, session, deal):
    order = offer(session, deal)
    assert order.offer_expires_at == NOW + timedelta(hours=72)
    session.commit()
    assert run_job(app, "orders.expire_offers", now=order.offer_expires_at - timedelta(seconds=1)) == 0
    session.refresh(order)
    assert order.state == "offered"

    assert run_twice(app, session, "orders.expire_offers", order.offer_expires_at) == (1, 0)
    assert order.state == "expired"
    assert_balances(session, {deal.wallet: START, flows.order_escrow(order.id): 0})
    assert events(session, order.id) == ["send_offer", "expire"]
    assert order.refunded_to_brand == order.total
    assert_ledger_sound(session)
    kinds = session.scalars(select(Notification.kind).where(Notification.kind == "offer_expired")).all()
    assert len(kinds) == 2  # the brand's owner and the creator, once each


def test_an_accepted_offer_does_not_expire(app, session, deal):
    order = advance(session, offer(session, deal), deal, "in_progress")
    assert run_twice(app, session, "orders.expire_offers", NOW + timedelta(days=10)) == (0, 0)
    assert order.state == "in_progress"


# --- auto-confirm ---------------------------------------------------------------------------------------------------


def test_auto_confirm_releases_seven_days_after_publishing_once(app, session, deal):
    order = order_in(session, deal, "published")
    fee0, commission0 = revenue(session)
    assert order.auto_confirm_at == order.published_at + timedelta(days=7)
    session.commit()
    assert run_job(app, "orders.auto_confirm", now=order.auto_confirm_at - timedelta(seconds=1)) == 0
    session.refresh(order)
    assert order.state == "published"
    assert balance(session, deal.pending) == 0

    assert run_twice(app, session, "orders.auto_confirm", order.auto_confirm_at + timedelta(minutes=1)) == (1, 0)
    assert order.state == "completed"
    assert_balances(session, {deal.wallet: START - 1_050_00, flows.order_escrow(order.id): 190_00,
                              deal.pending: 760_00, flows.REVENUE_SERVICE_FEE: fee0 + 50_00,
                              flows.REVENUE_COMMISSION: commission0 + 50_00})
    assert events(session, order.id)[-1] == "auto_confirm"
    assert order.live_until == order.published_at + timedelta(days=30)
    assert_ledger_sound(session)


# --- live window ------------------------------------------------------------------------------------------------


def test_the_end_of_the_live_window_releases_the_retention_once(app, session, deal):
    order = order_in(session, deal, "completed")
    session.commit()
    assert run_job(app, "orders.live_window", now=order.live_until - timedelta(seconds=1)) == 0
    session.refresh(order)
    assert order.state == "completed"
    assert balance(session, flows.order_escrow(order.id)) == 190_00

    assert run_twice(app, session, "orders.live_window", order.live_until) == (1, 0)
    assert order.state == "closed"
    assert_balances(session, {flows.order_escrow(order.id): 0, deal.pending: 950_00, deal.wallet: START - 1_050_00})
    assert (order.paid_to_creator, order.refunded_to_brand) == (950_00, 0)
    assert events(session, order.id)[-1] == "close"
    assert_ledger_sound(session)


def test_the_live_check_keeps_the_orders_activity_time(app, session, deal):
    """Checking a live work moves the check's own clock, not ``updated_at`` (which orders the board)."""
    order = order_in(session, deal, "completed")
    session.commit()
    activity = order.updated_at
    checked_at = order.completed_at + timedelta(hours=1)
    assert timers.check_live_works(session, checked_at) == 0
    session.commit()
    session.refresh(order)
    assert order.state == "completed"
    assert (order.updated_at, order.live_checked_at) == (activity, checked_at)


def _work_taken_down_later(now):
    """(handle, work) of a sandbox account with a work published before ``now`` that the platform takes down
    (made private) three days after it was published.

    Deterministic: the sandbox is seeded, ``now`` is fixed and the handles are scanned in order."""
    from marketplace.creators.stats import current_connector

    connector = current_connector()
    for i in range(3000):
        handle = f"livecheck_{i}"
        account = connector.lookup_account(f"@{handle}")
        if account is None:
            continue
        for work in connector.list_works(account.external_id, 3, now=now):
            later = connector.lookup_work(work.url, now=work.published_at + timedelta(days=3))
            if later is not None and not later.is_live:
                return handle, work
    raise AssertionError("no sandbox work goes down in the scanned accounts")


def test_a_work_taken_down_on_the_platform_closes_the_order_pro_rata(app, session):
    handle, work = _work_taken_down_later(NOW)
    deal = new_deal(session, balance_fen=START, handle=handle)
    accepted = work.published_at - timedelta(hours=1)  # the order started just before the creator posted it
    order = advance(session, offer(session, deal, now=accepted), deal, "draft_approved", now=accepted)
    published = work.published_at + timedelta(hours=1)
    services.publish(session, order, deal.maker, work_url=work.url, now=published)  # live when published
    services.confirm(session, order, deal.brand, now=published)
    assert order.live_until == published + timedelta(days=30)
    session.commit()

    assert run_job(app, "orders.live_window", now=published + timedelta(hours=1)) == 0  # still live: nothing
    session.expire_all()
    assert order.state == "completed"

    checked_at = work.published_at + timedelta(days=3)
    assert run_twice(app, session, "orders.live_window", checked_at) == (1, 0)
    assert order.state == "closed"
    days_missed = 28  # found down 3 days after posting: 27 days and 1 hour of the window missed, a started day counts
    assert order.live_until - checked_at == timedelta(days=27, hours=1)
    refund = 190_00 * days_missed // 30
    assert (order.refunded_to_brand, order.paid_to_creator) == (refund, 950_00 - refund)
    report = session.scalars(select(LiveReport).where(LiveReport.order_id == order.id)).one()
    assert (report.source, report.state, report.refund) == ("platform", "upheld", refund)
    assert events(session, order.id)[-2:] == ["work_removed", "close"]
    assert_balances(session, {flows.order_escrow(order.id): 0, deal.wallet: START - 1_050_00 + refund,
                              deal.pending: 950_00 - refund})
    assert_ledger_sound(session)


# --- jobs past their deadline ------------------------------------------------------------------------------------


def test_a_job_closes_at_its_deadline_and_rejects_open_applications_once(app, session, deal):
    job = open_job(session, deal, slots=3)
    first, second = new_creator(session), new_creator(session)
    applications = [apply(session, job, first), apply(session, job, second)]
    session.commit()
    assert run_job(app, "orders.close_jobs", now=job.application_deadline - timedelta(seconds=1)) == 0
    session.refresh(job)
    assert job.state == "open"

    assert run_twice(app, session, "orders.close_jobs", job.application_deadline) == (1, 0)
    assert job.state == "closed"
    for application in applications:
        session.refresh(application)
        assert application.state == "rejected"
    rejected = session.scalars(select(Notification.user_id).where(Notification.kind == "application_rejected"))
    assert sorted(rejected) == sorted([first.user_id, second.user_id])


# --- reminders ------------------------------------------------------------------------------------------------------


def test_reminders_are_sent_once_a_day_ahead(app, session, deal):
    offered = offer(session, deal)
    published = order_in(session, deal, "published")
    session.commit()

    def reminders():
        return sorted(session.execute(select(Notification.kind, Notification.user_id)
                                      .where(Notification.kind.in_(("offer_expiring", "confirm_reminder")))).all())

    assert run_job(app, "orders.reminders", now=offered.offer_expires_at - timedelta(hours=25)) == 0
    assert reminders() == []
    at = offered.offer_expires_at - timedelta(hours=23)
    assert published.auto_confirm_at - at > timedelta(days=1)
    first, second = run_twice(app, session, "orders.reminders", at)
    assert first == 1 and second == 0
    assert reminders() == [("offer_expiring", deal.creator.user_id)]

    at = published.auto_confirm_at - timedelta(hours=2)
    run_twice(app, session, "orders.reminders", at)
    assert reminders() == sorted([("offer_expiring", deal.creator.user_id), ("confirm_reminder", deal.owner.id)])


# --- two runners at once, on committed data --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def shared_app(tmp_root):
    with committed_app(tmp_root, "order_timers") as app:
        yield app


def _read(app, work):
    with app.app_context():
        session = database(app).session_factory()
        try:
            return work(session)
        finally:
            session.close()


def _committed_order(app, state: str, **terms) -> tuple[int, int, int]:
    """An order in ``state`` on the committed database: (order id, enterprise id, creator id)."""
    def build(session):
        deal = new_deal(session, balance_fen=START)
        order = order_in(session, deal, state, **terms)
        return order.id, deal.enterprise.id, deal.creator.id

    return in_new_transaction(app, build)


def _race_job(app, name, now, runners=2):
    """Run the job from ``runners`` threads at once: all succeed; what each returned (sorted)."""
    outcomes = race([lambda: run_job(app, name, now=now) for _ in range(runners)])
    assert [status for status, _ in outcomes] == ["ok"] * runners, outcomes
    return sorted(result for _, result in outcomes)


def _due_orders(app, state, column, now) -> int:
    """How many orders of the shared database (this test's and earlier tests') the timer finds due."""
    return _read(app, lambda s: len(timers._due(s, state, column, now)))


def _money_of(app, order_id, enterprise_id, creator_id):
    def read(session):
        order = session.get(Order, order_id)
        return (order.state,
                balance(session, flows.enterprise_available(enterprise_id)),
                balance(session, flows.order_escrow(order_id)),
                balance(session, flows.creator_pending(creator_id)),
                events(session, order_id), order_postings(session, order_id))
    return _read(app, read)


def _sound(app):
    _read(app, assert_ledger_sound)


def test_concurrent_expiry_refunds_once(shared_app):
    order_id, e, c = _committed_order(shared_app, "offered")
    due = _read(shared_app, lambda s: s.get(Order, order_id).offer_expires_at)
    expected = _due_orders(shared_app, "offered", Order.offer_expires_at, due)
    assert _race_job(shared_app, "orders.expire_offers", due) == [0, expected]
    state, wallet, escrow, pending, actions, postings = _money_of(shared_app, order_id, e, c)
    assert (state, wallet, escrow, pending) == ("expired", START, 0, 0)
    assert actions == ["send_offer", "expire"]
    assert postings == 4  # fund (2 legs) + refund (2 legs)
    _sound(shared_app)


def test_concurrent_auto_confirm_releases_once(shared_app):
    order_id, e, c = _committed_order(shared_app, "published")
    due = _read(shared_app, lambda s: s.get(Order, order_id).auto_confirm_at)
    expected = _due_orders(shared_app, "published", Order.auto_confirm_at, due)
    assert _race_job(shared_app, "orders.auto_confirm", due) == [0, expected]
    state, wallet, escrow, pending, actions, postings = _money_of(shared_app, order_id, e, c)
    assert (state, wallet, escrow, pending) == ("completed", START - 1_050_00, 190_00, 760_00)
    assert actions[-1] == "auto_confirm" and actions.count("auto_confirm") == 1
    assert postings == 2 + 4  # fund + release (escrow, pending, fee, commission)
    _sound(shared_app)


def test_concurrent_live_window_end_releases_retention_once(shared_app):
    order_id, e, c = _committed_order(shared_app, "completed")
    due = _read(shared_app, lambda s: s.get(Order, order_id).live_until)
    expected = _due_orders(shared_app, "completed", Order.live_until, due)
    assert expected >= 1
    assert _race_job(shared_app, "orders.live_window", due) == [0, expected]
    state, wallet, escrow, pending, actions, postings = _money_of(shared_app, order_id, e, c)
    assert (state, wallet, escrow, pending) == ("closed", START - 1_050_00, 0, 950_00)
    assert actions.count("close") == 1
    assert postings == 2 + 4 + 2
    _sound(shared_app)


def test_concurrent_job_deadline_closes_once(shared_app):
    def build(session):
        deal = new_deal(session, balance_fen=START)
        job = open_job(session, deal, slots=2)
        apply(session, job, new_creator(session))
        return job.id, job.application_deadline

    job_id, deadline = in_new_transaction(shared_app, build)
    expected = _read(shared_app, lambda s: s.scalar(select(func.count()).select_from(Job).where(
        Job.state == "open", Job.application_deadline <= deadline)))
    assert _race_job(shared_app, "orders.close_jobs", deadline) == [0, expected]

    def read(session):
        from marketplace.orders.models import JobEvent

        job = session.get(Job, job_id)
        closes = session.scalar(select(func.count()).select_from(JobEvent)
                                .where(JobEvent.job_id == job_id, JobEvent.to_state == "closed"))
        states = session.scalars(select(Application.state).where(Application.job_id == job_id)).all()
        return job.state, closes, states
    assert _read(shared_app, read) == ("closed", 1, ["rejected"])


def test_concurrent_reminders_notify_once(shared_app):
    order_id, e, c = _committed_order(shared_app, "offered")
    at = _read(shared_app, lambda s: s.get(Order, order_id).offer_expires_at) - timedelta(hours=1)
    _race_job(shared_app, "orders.reminders", at)
    count = _read(shared_app, lambda s: s.scalar(select(func.count()).select_from(Notification).where(
        Notification.dedupe_key == f"offer-expiring:{order_id}")))
    assert count == 1


def test_timers_directly_with_now(session, deal):
    """The timer functions take ``now`` too (what the registry calls)."""
    order = offer(session, deal)
    assert timers.expire_offers(session, order.offer_expires_at) == 1
    assert timers.expire_offers(session, order.offer_expires_at) == 0
    assert order.state == "expired"
