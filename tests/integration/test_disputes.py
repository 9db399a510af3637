"""Disputes and removal reports at the service level: opening from every active state, the frozen order, a
reviewer's decision (refund / release / split) moving the money once, evidence, and who may decide.

The money of each decision is checked fen by fen in ``test_order_money.py``; here the rules around it.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from marketplace.audit.models import AuditEntry
from marketplace.errors import Conflict, InvalidTransition, NotAllowed, ValidationFailed
from marketplace.files.services import store_bytes
from marketplace.ledger import flows
from marketplace.ledger.services import balance
from marketplace.mail.models import OutboxEmail
from marketplace.notifications.models import Notification
from marketplace.orders import disputes, messaging, reviews, services, states, timers
from marketplace.orders.models import Dispute, DisputeEvidence, LiveReport, Order, OrderEvent
from marketplace.orders.services import Actor
from tests.integration.order_world import (
    NOW,
    Deal,
    new_creator,
    new_deal,
    new_reviewer,
    new_user,
    order_in,
    row_counts,
)
from tests.ledger_helpers import assert_ledger_sound

DESCRIPTION = "The video does not show the product at all."


@pytest.fixture
def deal(session) -> Deal:
    return new_deal(session, balance_fen=10_000_00)


@pytest.fixture
def reviewer(session) -> Actor:
    return Actor("staff", new_reviewer(session))


def evidence_file(session, user, name="screenshot.png"):
    from marketplace.seed import licence_png

    return store_bytes(session, licence_png("Evidence", "x"), "image/png", name, user.id)


def open_on(session, deal: Deal, state: str, side: str = "brand", **kwargs) -> tuple[Order, Dispute]:
    order = order_in(session, deal, state)
    actor = deal.brand if side == "brand" else deal.maker
    dispute = disputes.open_dispute(session, order, actor, reason="not_as_briefed", description=DESCRIPTION, now=NOW,
                                    **kwargs)
    return order, dispute


def nothing_written(session, call, error):
    session.commit()
    before = row_counts(session)
    with pytest.raises(error):
        call()
    session.rollback()
    assert row_counts(session) == before


# --- opening ------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("side", ["brand", "creator"])
@pytest.mark.parametrize("state", states.ACTIVE_STATES)
def test_either_side_opens_a_dispute_from_each_active_state(session, deal, state, side):
    order, dispute = open_on(session, deal, state, side)
    assert (order.state, order.disputed_from) == ("disputed", state)
    assert (dispute.state, dispute.opened_by_side, dispute.reason) == ("open", side, "not_as_briefed")
    assert disputes.open_dispute_of(session, order) == dispute
    event = session.scalars(select(OrderEvent).where(OrderEvent.order_id == order.id)
                            .order_by(OrderEvent.id.desc())).first()
    assert (event.action, event.from_state, event.to_state, event.actor_side) == ("open_dispute", state, "disputed",
                                                                                   side)
    notified = set(session.scalars(select(Notification.user_id).where(Notification.kind == "dispute_opened")))
    assert notified == {deal.owner.id, deal.creator.user_id}
    emails = set(session.scalars(select(OutboxEmail.to_address).where(OutboxEmail.subject.contains("dispute"))))
    assert emails == {deal.owner.email, deal.creator.user.email}
    assert balance(session, flows.order_escrow(order.id)) == order.total  # frozen, still held


@pytest.mark.parametrize("state", ["offered", "completed", "closed"])
def test_no_dispute_outside_the_active_states(session, deal, state):
    order = order_in(session, deal, state)
    nothing_written(session, lambda: disputes.open_dispute(session, order, deal.brand, reason="late",
                                                           description=DESCRIPTION, now=NOW), InvalidTransition)


@pytest.mark.parametrize(("reason", "description", "field"), [
    ("because", DESCRIPTION, "reason"), ("late", "bad", "description"), ("late", "          ", "description")])
def test_a_dispute_needs_a_reason_and_a_description(session, deal, reason, description, field):
    order = order_in(session, deal, "in_progress")
    with pytest.raises(ValidationFailed) as caught:
        disputes.open_dispute(session, order, deal.brand, reason=reason, description=description, now=NOW)
    assert caught.value.field == field
    assert order.state == "in_progress"


def test_a_disputed_order_cannot_be_disputed_again(session, deal):
    order, _ = open_on(session, deal, "published")
    nothing_written(session, lambda: disputes.open_dispute(session, order, deal.maker, reason="late",
                                                           description=DESCRIPTION, now=NOW), InvalidTransition)


# --- frozen ---------------------------------------------------------------------------------------------------------


def test_a_disputed_order_is_frozen(app, session, deal):
    order, _ = open_on(session, deal, "published")
    # the table: nothing but "resolve" by staff
    for action in states.ORDER_ACTIONS:
        for side in ("brand", "creator", "staff", "system"):
            if (action, side) == ("resolve", "staff"):
                continue
            with pytest.raises((InvalidTransition, NotAllowed)):
                states.next_order_state("disputed", action, side)
    # and every service
    b, c = deal.brand, deal.maker
    calls = [
        lambda: services.confirm(session, order, b, now=NOW),
        lambda: services.approve_draft(session, order, b, now=NOW),
        lambda: services.request_revision(session, order, b, feedback="Again", now=NOW),
        lambda: services.submit_draft(session, order, c, link_url="https://d.example/x", now=NOW),
        lambda: services.publish(session, order, c, work_url=order.work_url, now=NOW),
        lambda: services.request_cancel(session, order, b, now=NOW),
        lambda: services.cancel(session, order, c, now=NOW),
        lambda: services.withdraw_offer(session, order, b, now=NOW),
        lambda: services.decline_offer(session, order, c, now=NOW),
        lambda: services.accept_offer(session, order, c, now=NOW),
        lambda: reviews.write_review(session, order, b, rating=5, now=NOW),
        lambda: disputes.report_removed(session, order, b, note="It is gone now", now=NOW),
    ]
    for call in calls:
        nothing_written(session, call, (InvalidTransition, ValidationFailed))
    # the timers pass it by, even when its deadlines are due
    later = order.auto_confirm_at + timedelta(days=60)
    assert services.auto_confirm(session, order, now=later) is None
    assert services.close_live_window(session, order, now=later) is None
    session.commit()
    for name in ("orders.auto_confirm", "orders.live_window", "orders.expire_offers"):
        from marketplace.jobs import run_job

        run_job(app, name, now=later)
    session.expire_all()
    assert session.get(Order, order.id).state == "disputed"
    assert balance(session, flows.order_escrow(order.id)) == order.total


# --- deciding ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("decision", "to_creator", "paid", "refunded"), [
    ("refund", None, 0, 1_050_00), ("release", None, 950_00, 0), ("split", 600_00, 570_00, 420_00)])
def test_a_reviewer_resolves(session, deal, reviewer, decision, to_creator, paid, refunded):
    order, dispute = open_on(session, deal, "draft_submitted", "creator")
    disputes.resolve_dispute(session, dispute, reviewer, decision=decision, to_creator=to_creator,
                             note="Decided on the evidence", now=NOW, ip_address="10.0.0.1")
    assert (order.state, dispute.state, dispute.decision) == ("resolved", "resolved", decision)
    assert (order.paid_to_creator, order.refunded_to_brand) == (paid, refunded)
    assert balance(session, flows.order_escrow(order.id)) == 0
    assert (dispute.decided_by_id, dispute.decided_at, order.closed_at) == (reviewer.user_id, NOW, NOW)
    audit = session.scalars(select(AuditEntry).where(AuditEntry.action == "dispute.resolve",
                                                     AuditEntry.object_id == order.id)).one()
    assert (audit.actor_id, audit.ip_address, audit.after["to_creator"]) == (reviewer.user_id, "10.0.0.1", paid)
    decided = set(session.scalars(select(Notification.user_id).where(Notification.kind == "dispute_decided")))
    assert decided == {deal.owner.id, deal.creator.user_id}
    assert_ledger_sound(session)


def test_an_admin_may_resolve(session, deal):
    order, dispute = open_on(session, deal, "in_progress")
    admin = Actor("staff", new_user(session, staff_role="admin"))
    disputes.resolve_dispute(session, dispute, admin, decision="refund", to_creator=None, note="Refund", now=NOW)
    assert order.state == "resolved"


@pytest.mark.parametrize("who", ["brand", "creator", "finance staff", "plain user as staff"])
def test_only_a_reviewer_resolves(session, deal, who):
    order, dispute = open_on(session, deal, "published")
    actor = {"brand": deal.brand, "creator": deal.maker,
             "finance staff": Actor("staff", new_user(session, staff_role="finance")),
             "plain user as staff": Actor("staff", new_user(session))}[who]
    nothing_written(session, lambda: disputes.resolve_dispute(session, dispute, actor, decision="release",
                                                              to_creator=None, note="Mine", now=NOW), NotAllowed)
    session.expire_all()
    assert (session.get(Order, order.id).state, session.get(Dispute, dispute.id).state) == ("disputed", "open")


def test_deciding_twice_is_a_conflict(session, deal, reviewer):
    order, dispute = open_on(session, deal, "published")
    disputes.resolve_dispute(session, dispute, reviewer, decision="split", to_creator=500_00, note="Half", now=NOW)
    other = Actor("staff", new_reviewer(session))
    for decision in ("refund", "release", "split"):
        nothing_written(session, lambda decision=decision: disputes.resolve_dispute(
            session, dispute, other, decision=decision, to_creator=100_00, note="Again", now=NOW), Conflict)
    assert order.paid_to_creator == 475_00


@pytest.mark.parametrize(("decision", "to_creator", "note", "field"), [
    ("split", None, "x", "to_creator"), ("split", 0, "x", "to_creator"), ("split", 1_000_00, "x", "to_creator"),
    ("split", -5, "x", "to_creator"), ("split", 2_000_00, "x", "to_creator"), ("halve", None, "x", "decision"),
    ("refund", None, "   ", "note")])
def test_bad_decisions(session, deal, reviewer, decision, to_creator, note, field):
    order, dispute = open_on(session, deal, "published")
    session.commit()
    before = row_counts(session)
    with pytest.raises(ValidationFailed) as caught:
        disputes.resolve_dispute(session, dispute, reviewer, decision=decision, to_creator=to_creator, note=note,
                                 now=NOW)
    assert caught.value.field == field
    session.rollback()
    assert row_counts(session) == before
    assert session.get(Dispute, dispute.id).state == "open"


def test_dispute_split_always_sums_to_what_escrow_holds(session, deal):
    order = order_in(session, deal, "in_progress", price=333_33)
    for share in (1, 2, 111_11, 166_66, 166_67, 333_32):
        to_creator, to_brand, fee, commission = disputes.dispute_split(order, "split", share)
        assert min(to_creator, to_brand, fee, commission) >= 0
        assert to_creator + to_brand + fee + commission == order.total
        assert to_creator + commission == share


# --- evidence and the conversation -----------------------------------------------------------------------------------------


def test_evidence_from_both_sides(session, deal, reviewer):
    shot = evidence_file(session, deal.owner)
    order, dispute = open_on(session, deal, "published", evidence=[shot])
    assert [(e.file_id, e.side) for e in dispute.evidence] == [(shot.id, "brand")]
    reply = evidence_file(session, deal.creator.user, "reply.png")
    disputes.add_evidence(session, dispute, deal.maker, [reply], now=NOW)
    rows = session.scalars(select(DisputeEvidence).where(DisputeEvidence.dispute_id == dispute.id)
                           .order_by(DisputeEvidence.id)).all()
    assert [(e.file_id, e.side) for e in rows] == [(shot.id, "brand"), (reply.id, "creator")]

    stranger = Actor("creator", new_creator(session).user)
    nothing_written(session, lambda: disputes.add_evidence(session, dispute, stranger,
                                                           [evidence_file(session, stranger.user)]), NotAllowed)
    disputes.resolve_dispute(session, dispute, reviewer, decision="release", to_creator=None, note="OK", now=NOW)
    late = evidence_file(session, deal.owner, "late.png")
    nothing_written(session, lambda: disputes.add_evidence(session, dispute, deal.brand, [late]),
                    InvalidTransition)


def test_the_reviewer_writes_only_while_disputed(session, deal, reviewer):
    order, dispute = open_on(session, deal, "published")
    message = messaging.post_message(session, order, reviewer, body="Please both send the original files.", now=NOW)
    assert message.sender_side == "staff"
    told = set(session.scalars(select(Notification.user_id).where(Notification.kind == "message")))
    assert told == {deal.owner.id, deal.creator.user_id}
    disputes.resolve_dispute(session, dispute, reviewer, decision="release", to_creator=None, note="OK", now=NOW)
    nothing_written(session, lambda: messaging.post_message(session, order, reviewer, body="One more thing",
                                                            now=NOW), InvalidTransition)


def test_concurrent_decisions_on_postgresql_one_wins(tmp_root):
    """Two reviewers decide the same dispute at the same moment: one decision, the other gets Conflict."""
    from tests.concurrency import committed_app, in_new_transaction, race

    with committed_app(tmp_root, "order_disputes") as app:
        def build(session):
            deal = new_deal(session, balance_fen=10_000_00)
            order, dispute = open_on(session, deal, "published")
            return dispute.id, [new_reviewer(session).id for _ in range(2)]

        dispute_id, reviewer_ids = in_new_transaction(app, build)

        def decide(reviewer_id, decision):
            def work(session):
                from marketplace.accounts.models import User

                actor = Actor("staff", session.get(User, reviewer_id))
                dispute = session.get(Dispute, dispute_id)
                return disputes.resolve_dispute(session, dispute, actor, decision=decision, to_creator=None,
                                                note="Decided", now=NOW).state
            return lambda: in_new_transaction(app, work)

        outcomes = race([decide(reviewer_ids[0], "refund"), decide(reviewer_ids[1], "release")])
        assert sorted(status for status, _ in outcomes) == ["error", "ok"], outcomes
        error = next(value for status, value in outcomes if status == "error")
        assert isinstance(error, Conflict), error

        def read(session):
            dispute = session.get(Dispute, dispute_id)
            order = session.get(Order, dispute.order_id)
            resolves = session.scalars(select(OrderEvent.action).where(OrderEvent.order_id == order.id,
                                                                       OrderEvent.action == "resolve")).all()
            assert_ledger_sound(session)
            return order.state, len(resolves), balance(session, flows.order_escrow(order.id))

        assert in_new_transaction(app, read) == ("resolved", 1, 0)


# --- removal reports (the must-stay-live guarantee) ---------------------------------------------------------------------


def _reported(session, deal, days_live=10):
    order = order_in(session, deal, "completed")
    at = order.published_at + timedelta(days=days_live)
    report = disputes.report_removed(session, order, deal.brand, note="The video shows “private”", removed_at=at,
                                     now=at + timedelta(hours=1))
    return order, report, at


def test_a_report_waits_for_a_reviewer_and_a_dismissal_moves_nothing(session, deal, reviewer):
    order, report, at = _reported(session, deal)
    assert (report.state, report.source, order.state) == ("pending", "brand", "completed")
    nothing_written(session, lambda: disputes.report_removed(session, order, deal.brand, note="Still private",
                                                             now=at + timedelta(hours=2)), Conflict)
    disputes.decide_removal(session, report, reviewer, uphold=False, note="It is public", now=at + timedelta(days=1))
    assert (report.state, order.state) == ("dismissed", "completed")
    assert balance(session, flows.order_escrow(order.id)) == order.retention
    nothing_written(session, lambda: disputes.decide_removal(session, report, reviewer, uphold=True, note="Oops",
                                                             now=at + timedelta(days=1)), Conflict)


def test_only_the_brand_reports_and_only_in_the_window(session, deal):
    order = order_in(session, deal, "completed")
    nothing_written(session, lambda: disputes.report_removed(session, order, deal.maker, note="It is gone",
                                                             now=NOW), ValidationFailed)
    nothing_written(session, lambda: disputes.report_removed(session, order, deal.brand, note="It is gone",
                                                             now=order.live_until), InvalidTransition)
    nothing_written(session, lambda: disputes.report_removed(session, order, deal.brand, note="gone",
                                                             now=NOW), ValidationFailed)


@pytest.mark.parametrize("who", ["creator", "brand"])
def test_only_a_reviewer_decides_a_removal_report(session, deal, who):
    """The parties of the order may not decide the report about it (a creator dismissing the brand's report)."""
    order, report, at = _reported(session, deal)
    actor = deal.maker if who == "creator" else deal.brand
    for uphold in (False, True):
        nothing_written(session, lambda uphold=uphold: disputes.decide_removal(
            session, report, actor, uphold=uphold, note="Decided by me", now=at + timedelta(days=1)), NotAllowed)
    session.expire_all()
    assert session.get(LiveReport, report.id).state == "pending"


def test_the_live_window_waits_for_a_pending_report(app, session, deal, reviewer):
    """The timer does not pay the retention to the creator while the brand's report waits for a reviewer;
    an upheld report then refunds the brand pro rata, a dismissed one pays the creator."""
    order, report, at = _reported(session, deal, days_live=20)
    after_window = order.live_until + timedelta(hours=1)
    assert timers.end_live_windows(session, after_window) == 0
    assert order.state == "completed"
    disputes.decide_removal(session, report, reviewer, uphold=True, note="Confirmed private",
                            now=after_window + timedelta(hours=1))
    assert order.state == "closed"
    assert report.refund == order.refunded_to_brand == order.retention * 10 // 30


def test_a_dismissal_after_the_window_closes_the_order(session, deal, reviewer):
    order, report, at = _reported(session, deal, days_live=20)
    after_window = order.live_until + timedelta(hours=1)
    assert timers.end_live_windows(session, after_window) == 0
    disputes.decide_removal(session, report, reviewer, uphold=False, note="It is public", now=after_window)
    assert order.state == "closed"
    assert (order.paid_to_creator, order.refunded_to_brand) == (950_00, 0)
    assert_ledger_sound(session)
