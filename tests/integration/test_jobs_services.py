"""Open jobs (招募) and applications at the service level: the job's review cycle, applying, the brand's
decisions, slots filling closing the job, campaigns' totals — and two acceptances racing for the last slot.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from marketplace.errors import Conflict, InvalidTransition, NotAllowed, ValidationFailed
from marketplace.ledger import flows
from marketplace.ledger.services import balance
from marketplace.mail.models import OutboxEmail
from marketplace.notifications.models import Notification
from marketplace.orders import disputes, recruiting, services
from marketplace.orders.models import Application, Job, JobEvent, Order
from marketplace.orders.services import Actor
from tests.integration.order_world import (
    NOW,
    Deal,
    advance,
    apply,
    job_terms,
    new_creator,
    new_deal,
    new_enterprise,
    new_reviewer,
    offer,
    open_job,
    order_in,
    row_counts,
)
from tests.ledger_helpers import assert_ledger_sound


@pytest.fixture
def deal(session) -> Deal:
    return new_deal(session, balance_fen=10_000_00)


@pytest.fixture
def reviewer(session) -> Actor:
    return Actor("staff", new_reviewer(session))


def job_states(session, job) -> list[tuple[str | None, str]]:
    return session.execute(select(JobEvent.from_state, JobEvent.to_state).where(JobEvent.job_id == job.id)
                           .order_by(JobEvent.id)).all()


# --- the job's review cycle -----------------------------------------------------------------------------------------


def test_draft_rejected_edited_resubmitted_approved(session, deal, reviewer):
    job = recruiting.save_job(session, deal.brand, deal.enterprise, job_terms(), now=NOW)
    assert (job.state, job.slots_filled, job.application_count) == ("draft", 0, 0)
    job = recruiting.save_job(session, deal.brand, deal.enterprise, job_terms(title="双十一测评（修改）"), job=job, now=NOW)
    recruiting.submit_job(session, job, deal.brand, now=NOW)
    assert (job.state, job.submitted_at) == ("in_review", NOW)
    assert recruiting.jobs_for_review(session) == [job]
    with pytest.raises(ValidationFailed):
        recruiting.review_job(session, job, reviewer, approve=False, reason=" ", now=NOW)
    with pytest.raises(InvalidTransition):  # not editable while in review
        recruiting.save_job(session, deal.brand, deal.enterprise, job_terms(), job=job, now=NOW)
    recruiting.review_job(session, job, reviewer, approve=False, reason="Say what the creator may not claim.",
                          now=NOW)
    assert (job.state, job.rejection_reason) == ("rejected", "Say what the creator may not claim.")
    rejected = session.scalars(select(Notification).where(Notification.kind == "job_rejected")).one()
    assert rejected.user_id == deal.owner.id
    assert session.scalars(select(OutboxEmail).where(OutboxEmail.to_address == deal.owner.email,
                                                     OutboxEmail.subject.contains("not approved"))).one()

    recruiting.save_job(session, deal.brand, deal.enterprise, job_terms(brief="No medical claims. " * 3), job=job,
                        now=NOW)
    recruiting.submit_job(session, job, deal.brand, now=NOW)
    assert job.rejection_reason == ""
    recruiting.review_job(session, job, reviewer, approve=True, now=NOW)
    assert (job.state, job.opened_at, job.reviewed_by_id) == ("open", NOW, reviewer.user_id)
    assert job_states(session, job) == [(None, "draft"), ("draft", "in_review"), ("in_review", "rejected"),
                                        ("rejected", "in_review"), ("in_review", "open")]
    assert recruiting.jobs_for_review(session) == []


def test_who_may_write_submit_and_review_jobs(session, deal, make_member):
    for role in ("viewer", "finance"):
        member = Actor("brand", make_member(deal.enterprise, role))
        with pytest.raises(NotAllowed):
            recruiting.save_job(session, member, deal.enterprise, job_terms(), now=NOW)
    stranger = Actor("brand", new_enterprise(session).memberships[0].user)
    with pytest.raises(NotAllowed):
        recruiting.save_job(session, stranger, deal.enterprise, job_terms(), now=NOW)
    job = recruiting.save_job(session, deal.brand, deal.enterprise, job_terms(), now=NOW)
    with pytest.raises(NotAllowed):
        recruiting.submit_job(session, job, stranger, now=NOW)
    recruiting.submit_job(session, job, deal.brand, now=NOW)
    for actor in (deal.brand, deal.maker, Actor("staff", deal.owner)):
        with pytest.raises(NotAllowed):
            recruiting.review_job(session, job, actor, approve=True, now=NOW)
    assert job.state == "in_review"


def test_an_unverified_enterprise_cannot_publish_a_job(session):
    enterprise = new_enterprise(session, state="unverified")
    owner = Actor("brand", enterprise.memberships[0].user)
    job = recruiting.save_job(session, owner, enterprise, job_terms(), now=NOW)  # a draft is fine
    with pytest.raises(NotAllowed):
        recruiting.submit_job(session, job, owner, now=NOW)
    assert job.state == "draft"


def test_a_job_past_its_deadline_cannot_be_submitted(session, deal):
    job = recruiting.save_job(session, deal.brand, deal.enterprise, job_terms(), now=NOW)
    with pytest.raises(ValidationFailed) as caught:
        recruiting.submit_job(session, job, deal.brand, now=job.application_deadline)
    assert caught.value.field == "application_deadline"


@pytest.mark.parametrize(("overrides", "field"), [
    ({"title": " "}, "title"), ({"brief": "too short"}, "brief"), ({"content_type": "x"}, "content_type"),
    ({"budget": 0}, "budget"), ({"budget": None}, "budget"), ({"slots": 0}, "slots"), ({"slots": 501}, "slots"),
    ({"application_deadline": NOW}, "application_deadline"), ({"publish_from": None}, "publish_from"),
    ({"publish_until": (NOW + timedelta(days=3)).date()}, "publish_until"),
    ({"publish_until": (NOW + timedelta(days=2)).date(), "publish_from": NOW.date()}, "publish_until"),
    ({"criteria_categories": ["astrology"]}, "criteria_categories"), ({"criteria_regions": ["99"]}, "criteria_regions"),
    ({"criteria_min_followers": -1}, "criteria_min_followers"),
    ({"criteria_min_followers": 10, "criteria_max_followers": 5}, "criteria_max_followers"),
    ({"revision_rounds": 11}, "revision_rounds"), ({"live_days": 366}, "live_days"),
    ({"usage_rights_days": -1}, "usage_rights_days"), ({"campaign_id": 10**9}, "campaign_id"),
])
def test_bad_job_terms_write_nothing(session, deal, overrides, field):
    session.commit()
    before = row_counts(session)
    with pytest.raises(ValidationFailed) as caught:
        recruiting.save_job(session, deal.brand, deal.enterprise, job_terms(**overrides), now=NOW)
    assert caught.value.field == field
    session.rollback()
    assert row_counts(session) == before


@pytest.mark.parametrize("state", ["draft", "in_review", "rejected", "open"])
def test_a_job_can_be_cancelled_until_it_closes(session, deal, reviewer, state):
    job = recruiting.save_job(session, deal.brand, deal.enterprise, job_terms(), now=NOW)
    if state != "draft":
        recruiting.submit_job(session, job, deal.brand, now=NOW)
    if state in ("rejected", "open"):
        recruiting.review_job(session, job, reviewer, approve=state == "open", reason="No", now=NOW)
    applied = apply(session, job, new_creator(session)) if state == "open" else None
    recruiting.cancel_job(session, job, deal.brand, now=NOW)
    assert job.state == "cancelled"
    if applied is not None:
        assert applied.state == "rejected"
    with pytest.raises(InvalidTransition):
        recruiting.cancel_job(session, job, deal.brand, now=NOW)


# --- applying -------------------------------------------------------------------------------------------------------


def test_apply_once_to_an_open_job_that_matches(session, deal):
    job = open_job(session, deal, criteria_categories=["beauty"], criteria_regions=["31"])
    creator = new_creator(session)
    application = apply(session, job, creator, quote=700_00)
    assert (application.state, application.quote, job.application_count) == ("submitted", 700_00, 1)
    told = session.scalars(select(Notification.user_id).where(Notification.kind == "application_received")).all()
    assert told == [deal.owner.id]
    with pytest.raises(Conflict):
        apply(session, job, creator)
    outsider = new_creator(session, categories=("food",))
    assert not recruiting.creator_matches(outsider, job)
    with pytest.raises(ValidationFailed):
        apply(session, job, outsider)
    with pytest.raises(InvalidTransition):
        apply(session, job, new_creator(session), now=job.application_deadline)


def test_the_job_board(session, deal):
    beauty = open_job(session, deal, title="美妆 serum review", criteria_categories=["beauty"], budget=900_00)
    food = open_job(session, deal, title="Hotpot tasting", criteria_categories=["food"], budget=500_00)
    big = open_job(session, deal, title="Only big accounts", criteria_min_followers=10**9)
    creator = new_creator(session)
    matching = recruiting.matching_jobs(session, creator, list(session.scalars(recruiting.job_board_query(creator,
                                                                                                        now=NOW))))
    ids = {j.id for j in matching}
    assert beauty.id in ids and food.id not in ids and big.id not in ids
    everything = {j.id for j in session.scalars(recruiting.job_board_query(creator, matching_only=False, now=NOW))}
    assert {beauty.id, food.id, big.id} <= everything
    found = list(session.scalars(recruiting.job_board_query(creator, q="美妆", matching_only=False, now=NOW)))
    assert [j.id for j in found] == [beauty.id]
    rich = {j.id for j in session.scalars(recruiting.job_board_query(creator, budget_min=800_00, matching_only=False,
                                                                     now=NOW))}
    assert beauty.id in rich and food.id not in rich
    assert not list(session.scalars(recruiting.job_board_query(creator, now=beauty.application_deadline)
                                    .where(Job.id == beauty.id)))


def test_withdrawing_an_application(session, deal):
    job = open_job(session, deal)
    creator, other = new_creator(session), new_creator(session)
    application = apply(session, job, creator)
    with pytest.raises(NotAllowed):
        recruiting.withdraw_application(session, application, other)
    recruiting.withdraw_application(session, application, creator, now=NOW)
    assert application.state == "withdrawn"
    with pytest.raises(InvalidTransition):
        recruiting.accept_application(session, application, deal.brand, now=NOW)
    with pytest.raises(InvalidTransition):
        recruiting.withdraw_application(session, application, creator, now=NOW)


# --- the brand decides ------------------------------------------------------------------------------------------------


def test_shortlist_reject_accept(session, deal, make_member):
    job = open_job(session, deal, slots=3)
    a, b, c = (apply(session, job, new_creator(session), quote=q) for q in (600_00, 700_00, 800_00))
    recruiting.shortlist_application(session, b, deal.brand)
    assert b.state == "shortlisted"
    assert [x.id for x in recruiting.applicants(session, job)] == [b.id, a.id, c.id]  # shortlisted first
    viewer = Actor("brand", make_member(deal.enterprise, "viewer"))
    for call in (lambda: recruiting.shortlist_application(session, a, viewer),
                 lambda: recruiting.reject_application(session, a, viewer, reason="No"),
                 lambda: recruiting.accept_application(session, a, viewer, now=NOW)):
        with pytest.raises(NotAllowed):
            call()
    with pytest.raises(ValidationFailed):
        recruiting.reject_application(session, a, deal.brand, reason=" ")
    recruiting.reject_application(session, a, deal.brand, reason="Audience too young", now=NOW)
    assert (a.state, a.rejection_reason) == ("rejected", "Audience too young")
    with pytest.raises(InvalidTransition):
        recruiting.accept_application(session, a, deal.brand, now=NOW)

    order = recruiting.accept_application(session, b, deal.brand, now=NOW)
    assert (b.state, b.order_id, order.state, order.price) == ("accepted", order.id, "in_progress", 700_00)
    assert (order.revision_rounds, order.live_days, order.title) == (job.revision_rounds, job.live_days, job.title)
    assert balance(session, flows.order_escrow(order.id)) == 735_00
    assert (job.state, job.slots_filled) == ("open", 1)
    accepted = session.scalars(select(Notification).where(Notification.kind == "application_accepted")).one()
    assert accepted.url == f"/orders/{order.id}"
    with pytest.raises(InvalidTransition):  # decided
        recruiting.accept_application(session, b, deal.brand, now=NOW)
    assert session.scalars(select(Order).where(Order.job_id == job.id)).all() == [order]
    assert_ledger_sound(session)


def test_filling_the_last_slot_closes_the_job(session, deal):
    job = open_job(session, deal, slots=2)
    first, second, third = (apply(session, job, new_creator(session)) for _ in range(3))
    recruiting.accept_application(session, first, deal.brand, now=NOW)
    assert job.state == "open"
    recruiting.accept_application(session, second, deal.brand, now=NOW)
    assert (job.state, job.slots_filled, job.closed_at) == ("closed", 2, NOW)
    session.refresh(third)
    assert third.state == "rejected"
    closed = session.scalars(select(Notification.user_id).where(Notification.kind == "job_closed")).all()
    assert closed == [deal.owner.id]
    with pytest.raises(InvalidTransition):
        recruiting.accept_application(session, third, deal.brand, now=NOW)
    with pytest.raises(InvalidTransition):
        apply(session, job, new_creator(session))


def test_closing_a_job_by_hand(session, deal):
    job = open_job(session, deal, slots=5)
    waiting = apply(session, job, new_creator(session))
    recruiting.close_job(session, job, deal.brand, now=NOW)
    session.refresh(waiting)
    assert (job.state, waiting.state) == ("closed", "rejected")
    with pytest.raises(InvalidTransition):
        recruiting.close_job(session, job, deal.brand, now=NOW)


# --- campaigns ---------------------------------------------------------------------------------------------------------


def test_campaign_totals_follow_the_money(session, deal):
    reviewer = Actor("staff", new_reviewer(session))
    campaign = recruiting.save_campaign(session, deal.brand, deal.enterprise, name="Double 11", goal="Launch",
                                        budget=5_000_00)
    cid = campaign.id
    offered = offer(session, deal, campaign_id=cid)  # held 1,050
    completed = order_in(session, deal, "completed", campaign_id=cid)  # held 190 (retention), spent 860
    closed = order_in(session, deal, "closed", campaign_id=cid)  # spent 1,050
    declined = offer(session, deal, campaign_id=cid)
    services.decline_offer(session, declined, deal.maker, now=NOW)  # nothing
    split = order_in(session, deal, "published", campaign_id=cid)
    dispute = disputes.open_dispute(session, split, deal.brand, reason="late", description="Two weeks late now.",
                                    now=NOW)
    disputes.resolve_dispute(session, dispute, reviewer, decision="split", to_creator=600_00, note="60/40", now=NOW)
    # split: the creator's 570 and the platform's 30 + 30 are spent; 420 came back
    offer(session, deal)  # no campaign: not counted
    totals = recruiting.campaign_totals(session, campaign)
    assert totals.committed == 1_050_00 + 190_00
    assert totals.spent == 860_00 + 1_050_00 + 630_00
    assert totals.remaining == 5_000_00 - totals.committed - totals.spent
    assert (totals.orders, totals.jobs, totals.budget) == (5, 0, 5_000_00)
    assert [offered, completed, closed] and recruiting.campaigns_of(session, deal.enterprise.id) == [campaign]
    # the books agree: what the campaign spent or holds left the wallet
    held_or_spent = totals.committed + totals.spent + 1_050_00  # + the offer outside the campaign
    assert balance(session, deal.wallet) == 10_000_00 - held_or_spent


def test_bad_campaigns(session, deal):
    with pytest.raises(ValidationFailed):
        recruiting.save_campaign(session, deal.brand, deal.enterprise, name=" ")
    with pytest.raises(ValidationFailed):
        recruiting.save_campaign(session, deal.brand, deal.enterprise, name="x", budget=-1)
    with pytest.raises(ValidationFailed):
        recruiting.save_campaign(session, deal.brand, deal.enterprise, name="x", starts_on=NOW.date(),
                                 ends_on=NOW.date() - timedelta(days=1))
    other = new_deal(session)
    foreign = recruiting.save_campaign(session, other.brand, other.enterprise, name="Theirs")
    with pytest.raises(ValidationFailed) as caught:
        offer(session, deal, campaign_id=foreign.id)
    assert caught.value.field == "campaign_id"


# --- racing for the last slot --------------------------------------------------------------------------------------------


def test_two_acceptances_race_for_the_last_slot(tmp_root):
    """Two managers accept two applications for a one-slot job at the same moment: exactly one order, one
    funding, the other acceptance refused cleanly (no deadlock, no database error); the job closes once."""
    from marketplace.accounts.models import User
    from marketplace.enterprises.models import Enterprise, Membership
    from tests.concurrency import committed_app, in_new_transaction, race

    with committed_app(tmp_root, "order_jobs") as app:
        def build(session):
            deal = new_deal(session, balance_fen=10_000_00)
            manager = new_creator(session).user  # any user, made a manager of the brand
            session.add(Membership(enterprise_id=deal.enterprise.id, user_id=manager.id, role="manager"))
            return deal.enterprise.id, [deal.owner.id, manager.id]

        enterprise_id, user_ids = in_new_transaction(app, build)

        def one_slot_job(session):
            enterprise = session.get(Enterprise, enterprise_id)
            job = open_job(session, Deal(enterprise, session.get(User, user_ids[0]), None), slots=1)
            return job.id, [apply(session, job, new_creator(session)).id for _ in range(2)]

        def accept(user_id, application_id):
            def work(session):
                actor = Actor("brand", session.get(User, user_id))
                return recruiting.accept_application(session, session.get(Application, application_id), actor,
                                                     now=NOW).id
            return lambda: in_new_transaction(app, work)

        def after(job_id):
            def read(session):
                job = session.get(Job, job_id)
                orders = session.scalars(select(Order).where(Order.job_id == job_id)).all()
                states = sorted(session.scalars(select(Application.state).where(Application.job_id == job_id)))
                closes = session.scalars(select(JobEvent).where(JobEvent.job_id == job_id,
                                                                JobEvent.to_state == "closed")).all()
                assert_ledger_sound(session)
                return job.state, job.slots_filled, [o.total for o in orders], states, len(closes)
            return in_new_transaction(app, read)

        spent = 0
        for _attempt in range(3):  # the race is real: run it on three fresh jobs
            job_id, application_ids = in_new_transaction(app, one_slot_job)
            outcomes = race([accept(user_ids[0], application_ids[0]), accept(user_ids[1], application_ids[1])])
            assert sorted(status for status, _ in outcomes) == ["error", "ok"], outcomes
            error = next(value for status, value in outcomes if status == "error")
            assert isinstance(error, InvalidTransition), repr(error)
            state, filled, totals, states, closes = after(job_id)
            assert (state, filled, len(totals), states, closes) == ("closed", 1, 1, ["accepted", "rejected"], 1)
            spent += totals[0]
            wallet = in_new_transaction(app, lambda s: balance(s, flows.enterprise_available(enterprise_id)))
            assert wallet == 10_000_00 - spent


def test_advance_is_not_needed_for_jobs(session, deal):
    """An order from a job continues like any other (delivered, confirmed)."""
    job = open_job(session, deal, slots=1)
    order = recruiting.accept_application(session, apply(session, job, deal.creator), deal.brand, now=NOW)
    advance(session, order, deal, "completed")
    assert balance(session, deal.pending) == order.price - order.commission - order.retention


def test_an_application_racing_the_jobs_closing_is_refused(tmp_root):
    """A creator applies while the brand closes the job: the application either comes first (and is then
    rejected by the closing) or is refused — never left open on a closed job."""
    import threading
    import time

    from tests.concurrency import committed_app, in_new_transaction

    with committed_app(tmp_root, "order_jobs_close") as app:
        def build(session):
            deal = new_deal(session, balance_fen=0)
            job = open_job(session, deal, slots=3)
            return job.id, deal.owner.id, new_creator(session).id

        job_id, owner_id, creator_id = in_new_transaction(app, build)
        locked, outcome = threading.Event(), {}

        def close(session):
            from marketplace.accounts.models import User

            job = session.get(Job, job_id)
            recruiting.close_job(session, job, Actor("brand", session.get(User, owner_id)), now=NOW)
            locked.set()
            time.sleep(1.0)  # hold the job's lock while the application arrives

        def application():
            from marketplace.creators.models import Creator

            locked.wait(10)
            try:
                outcome["ok"] = in_new_transaction(app, lambda s: apply(s, s.get(Job, job_id),
                                                                        s.get(Creator, creator_id)).id)
            except InvalidTransition as exc:
                outcome["refused"] = exc

        thread = threading.Thread(target=application)
        thread.start()
        in_new_transaction(app, close)
        thread.join(30)
        states = in_new_transaction(app, lambda s: s.scalars(select(Application.state)
                                                             .where(Application.job_id == job_id)).all())
        assert "refused" in outcome, (outcome, states)
        assert states == []


def test_a_double_submitted_application_is_one_application(tmp_root):
    """The same creator's "Apply" arriving twice at once (a double click): one application, the other refused
    with Conflict — not a database error."""
    from marketplace.creators.models import Creator
    from tests.concurrency import committed_app, in_new_transaction, race

    with committed_app(tmp_root, "order_jobs_apply") as app:
        def build(session):
            job = open_job(session, new_deal(session, balance_fen=0), slots=3)
            return job.id, new_creator(session).id

        job_id, creator_id = in_new_transaction(app, build)

        def work(session):
            return apply(session, session.get(Job, job_id), session.get(Creator, creator_id)).id

        outcomes = race([lambda: in_new_transaction(app, work) for _ in range(2)])
        assert sorted(status for status, _ in outcomes) == ["error", "ok"], outcomes
        error = next(value for status, value in outcomes if status == "error")
        assert isinstance(error, Conflict), repr(error)
        count = in_new_transaction(app, lambda s: (s.get(Job, job_id).application_count,
                                                   len(s.scalars(select(Application).where(
                                                       Application.job_id == job_id)).all())))
        assert count == (1, 1)
