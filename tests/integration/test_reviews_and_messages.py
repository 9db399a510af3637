"""Reviews (double-blind, once per side, within the window, the creator's rating on their row and in the search
index), order and application messages (unread counts, read marks), and notifications (the in-app inbox for
every event, an email only for the important kinds)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from marketplace.creators.search_index import CreatorSearch
from marketplace.errors import Conflict, InvalidTransition, NotAllowed, ValidationFailed
from marketplace.jobs import run_job
from marketplace.mail.models import OutboxEmail
from marketplace.notifications import services as notifications
from marketplace.notifications.models import Notification
from marketplace.orders import disputes, messaging, recruiting, reviews, services
from marketplace.orders.models import Review
from marketplace.orders.services import Actor
from tests.integration.order_world import (
    NOW,
    Deal,
    apply,
    new_creator,
    new_deal,
    new_reviewer,
    new_user,
    offer,
    open_job,
    order_in,
    row_counts,
)


@pytest.fixture
def deal(session) -> Deal:
    return new_deal(session, balance_fen=10_000_00)


def rating_of(session, creator) -> tuple:
    session.flush()
    session.refresh(creator)
    indexed = session.get(CreatorSearch, creator.id)
    session.refresh(indexed)
    assert indexed.rating_avg_x100 == creator.rating_avg_x100, "the search index follows the creator's rating"
    return creator.rating_avg_x100, creator.rating_count


def visible(session, order) -> list[tuple[str, int]]:
    return sorted(session.execute(select(Review.author_side, Review.rating)
                                  .where(Review.order_id == order.id, Review.visible.is_(True))).all())


# --- reviews --------------------------------------------------------------------------------------------------------


def test_reviews_are_double_blind_until_both_sides_wrote(session, deal):
    order = order_in(session, deal, "completed")
    assert order.review_until == order.completed_at + timedelta(days=7)
    assert rating_of(session, deal.creator) == (None, 0)

    reviews.write_review(session, order, deal.brand, rating=4, comment="Good work, a bit late", now=NOW)
    assert visible(session, order) == []
    assert rating_of(session, deal.creator) == (None, 0)  # not shown before the creator has written theirs
    told = session.scalars(select(Notification.user_id).where(Notification.kind == "review_received")).all()
    assert told == [deal.creator.user_id]

    reviews.write_review(session, order, deal.maker, rating=5, comment="Clear brief", now=NOW)
    assert visible(session, order) == [("brand", 4), ("creator", 5)]
    assert rating_of(session, deal.creator) == (400, 1)  # the brand's review of the creator counts


def test_the_rating_averages_visible_brand_reviews(session, deal):
    for rating in (5, 4, 4):
        order = order_in(session, deal, "completed")
        reviews.write_review(session, order, deal.brand, rating=rating, now=NOW)
        reviews.write_review(session, order, deal.maker, rating=1, now=NOW)  # the creator's review of the brand
    assert rating_of(session, deal.creator) == (433, 3)


def test_once_per_side(session, deal, make_member):
    order = order_in(session, deal, "completed")
    reviews.write_review(session, order, deal.brand, rating=4, now=NOW)
    manager = Actor("brand", make_member(deal.enterprise, "manager"))
    for actor in (deal.brand, manager):
        with pytest.raises(Conflict):
            reviews.write_review(session, order, actor, rating=1, now=NOW)
    assert session.scalars(select(Review.rating).where(Review.order_id == order.id)).all() == [4]


def test_who_may_review(session, deal, make_member):
    order = order_in(session, deal, "completed")
    viewer = Actor("brand", make_member(deal.enterprise, "viewer"))
    stranger = Actor("creator", new_creator(session).user)
    staff = Actor("staff", new_reviewer(session))
    for actor, error in ((viewer, NotAllowed), (stranger, NotAllowed), (staff, InvalidTransition)):
        with pytest.raises(error):
            reviews.write_review(session, order, actor, rating=5, now=NOW)
    assert visible(session, order) == []


def test_the_window_closes_and_reveals_a_lone_review(app, session, deal):
    order = order_in(session, deal, "completed")
    reviews.write_review(session, order, deal.brand, rating=3, now=NOW)
    with pytest.raises(InvalidTransition):
        reviews.write_review(session, order, deal.maker, rating=5, now=order.review_until)
    session.commit()

    assert run_job(app, "orders.review_window", now=order.review_until - timedelta(seconds=1)) == 0
    assert visible(session, order) == []
    assert run_job(app, "orders.review_window", now=order.review_until) == 1
    before = row_counts(session)
    assert run_job(app, "orders.review_window", now=order.review_until + timedelta(hours=1)) == 0
    assert row_counts(session) == before
    session.expire_all()
    assert visible(session, order) == [("brand", 3)]
    assert rating_of(session, deal.creator) == (300, 1)


def test_a_reminder_the_day_before_the_window_closes_once(app, session, deal):
    order = order_in(session, deal, "completed")
    reviews.write_review(session, order, deal.maker, rating=5, now=NOW)
    session.commit()
    at = order.review_until - timedelta(hours=12)
    run_job(app, "orders.review_window", now=at)
    run_job(app, "orders.review_window", now=at + timedelta(minutes=5))
    reminded = session.scalars(select(Notification.user_id)
                               .where(Notification.kind == "review_window_closing")).all()
    assert reminded == [deal.owner.id]  # only the side that has not written, once


def test_no_reviews_before_completion_or_after_a_dispute(session, deal):
    for state in ("offered", "in_progress", "published"):
        with pytest.raises(InvalidTransition):
            reviews.write_review(session, order_in(session, deal, state), deal.brand, rating=5, now=NOW)
    order = order_in(session, deal, "published")
    dispute = disputes.open_dispute(session, order, deal.brand, reason="late", description="Two weeks late now.",
                                    now=NOW)
    disputes.resolve_dispute(session, dispute, Actor("staff", new_reviewer(session)), decision="refund",
                             to_creator=None, note="Refund", now=NOW)
    with pytest.raises(InvalidTransition):
        reviews.write_review(session, order, deal.brand, rating=1, now=NOW)


def test_a_closed_order_can_still_be_reviewed_within_the_window(session, deal):
    order = order_in(session, deal, "completed")
    services.close_live_window(session, order, now=NOW + timedelta(days=1), removed_at=NOW + timedelta(days=1))
    assert order.state == "closed" and order.review_until > NOW + timedelta(days=2)
    reviews.write_review(session, order, deal.brand, rating=2, now=NOW + timedelta(days=2))


# --- messages ---------------------------------------------------------------------------------------------------------


def test_order_messages_unread_counts_and_read_marks(session, deal, make_member):
    order = order_in(session, deal, "in_progress")
    other = order_in(session, deal, "in_progress")
    manager = make_member(deal.enterprise, "manager")
    creator_user = deal.creator.user

    messaging.post_message(session, order, deal.brand, body="Hi! Any questions about the brief?", now=NOW)
    messaging.post_message(session, order, Actor("brand", manager), body="Also: mention the discount code",
                           now=NOW)
    messaging.post_message(session, other, deal.brand, body="Second order", now=NOW)
    ids = [order.id, other.id]
    assert messaging.unread_counts(session, creator_user, "order", ids) == {order.id: 2, other.id: 1}
    # posting marks the thread read up to one's own message: the owner has the manager's later one unread
    assert messaging.unread_counts(session, deal.owner, "order", ids) == {order.id: 1}
    assert messaging.unread_counts(session, manager, "order", ids) == {other.id: 1}

    reply = messaging.post_message(session, order, deal.maker, body="Got it, thanks!", now=NOW)
    # replying marks the thread read for the creator
    assert messaging.unread_counts(session, creator_user, "order", ids) == {other.id: 1}
    assert messaging.unread_counts(session, deal.owner, "order", ids) == {order.id: 2}
    messaging.mark_thread_read(session, deal.owner, "order", order.id)
    assert messaging.unread_counts(session, deal.owner, "order", ids) == {}
    messaging.mark_thread_read(session, deal.owner, "order", order.id, up_to=1)  # a read mark never goes back
    assert messaging.unread_counts(session, deal.owner, "order", ids) == {}

    thread = messaging.messages(session, "order", order.id)
    assert [m.body for m in thread][-1] == "Got it, thanks!" and thread[-1].id == reply.id
    assert [m.sender_side for m in thread] == ["brand", "brand", "creator"]
    assert messaging.unread_counts(session, deal.owner, "order", []) == {}


def test_message_notifications_go_to_the_other_side_in_app_only(session, deal, make_member):
    order = order_in(session, deal, "in_progress")
    manager = make_member(deal.enterprise, "manager")
    viewer = make_member(deal.enterprise, "viewer")
    session.commit()
    emails_before = row_counts(session)["emails"]
    messaging.post_message(session, order, deal.maker, body="Draft tomorrow", now=NOW)
    told = set(session.scalars(select(Notification.user_id).where(Notification.kind == "message")))
    assert told == {deal.owner.id, manager.id}  # owners and managers act on orders; viewers read the page
    assert viewer.id not in told
    assert row_counts(session)["emails"] == emails_before  # messages are not emailed


def test_a_message_with_an_attachment(session, deal):
    from marketplace.files.services import store_bytes

    order = order_in(session, deal, "in_progress")
    stored = store_bytes(session, b"%PDF-1.4 brief", "application/pdf", "brief.pdf", deal.owner.id)
    message = messaging.post_message(session, order, deal.brand, body="", file=stored, now=NOW)
    assert (message.body, message.file_id) == ("", stored.id)


def test_application_threads(session, deal, make_member):
    job = open_job(session, deal)
    creator = new_creator(session)
    application = apply(session, job, creator)
    as_creator = Actor("creator", creator.user)
    messaging.post_message(session, application, as_creator, body="I can deliver by Friday", now=NOW)
    messaging.post_message(session, application, deal.brand, body="Great, what about a second take?", now=NOW)
    assert messaging.unread_counts(session, creator.user, "application", [application.id]) == {application.id: 1}
    assert messaging.unread_counts(session, deal.owner, "application", [application.id]) == {}
    manager = make_member(deal.enterprise, "manager")
    assert messaging.unread_counts(session, manager, "application", [application.id]) == {application.id: 2}

    for intruder in (Actor("creator", new_creator(session).user), Actor("brand", make_member(deal.enterprise, "viewer")),
                     Actor("staff", new_reviewer(session)), Actor("brand", new_user(session))):
        with pytest.raises(NotAllowed):
            messaging.post_message(session, application, intruder, body="hello", now=NOW)
    assert len(messaging.messages(session, "application", application.id)) == 2


def test_message_rules(session, deal):
    order = order_in(session, deal, "in_progress")
    with pytest.raises(ValidationFailed):
        messaging.post_message(session, order, deal.brand, body="", now=NOW)
    with pytest.raises(InvalidTransition):  # reviewers write only during a dispute
        messaging.post_message(session, order, Actor("staff", new_reviewer(session)), body="Hi", now=NOW)


# --- notifications and emails ------------------------------------------------------------------------------------------


IMPORTANT = {"offer_received", "application_accepted", "job_rejected", "draft_submitted", "revision_requested",
             "confirmed", "dispute_opened", "dispute_decided",
             # the wallet's (payments: money notifications)
             "bank_top_up_credited", "bank_top_up_credited_other_amount", "withdrawal_paid", "withdrawal_rejected"}


def test_the_important_kinds_are_the_issues_list():
    assert {kind for kind, (_message, email) in notifications.KINDS.items() if email} == IMPORTANT


def _emails_match_important_notifications(session):
    """Every important notification has its email (same person, same sentence); nothing else is emailed."""
    expected = []
    for n in session.scalars(select(Notification).order_by(Notification.id)):
        if n.kind in IMPORTANT:
            from marketplace.accounts.models import User

            user = session.get(User, n.user_id)
            with force_locale(user.locale or "en"):
                expected.append((user.email, notifications.notification_text(n)[:150]))
    sent = [(e.to_address, e.subject) for e in session.scalars(select(OutboxEmail).where(
        OutboxEmail.kind == "notification").order_by(OutboxEmail.id))]
    assert sorted(sent) == sorted(expected)
    return expected


def test_a_whole_order_notifies_every_event_and_emails_the_important_ones(session, deal):
    session.commit()
    order = offer(session, deal)
    services.accept_offer(session, order, deal.maker, now=NOW)
    services.submit_draft(session, order, deal.maker, link_url="https://drive.example/1", now=NOW)
    services.request_revision(session, order, deal.brand, feedback="Brighter please", now=NOW)
    services.submit_draft(session, order, deal.maker, link_url="https://drive.example/2", now=NOW)
    services.approve_draft(session, order, deal.brand, now=NOW)
    from tests.integration.order_world import advance

    advance(session, order, deal, "completed")
    kinds = session.scalars(select(Notification.kind).order_by(Notification.id)).all()
    assert kinds == ["offer_received", "offer_accepted", "draft_submitted", "revision_requested", "draft_submitted",
                     "draft_approved", "published", "confirmed"]
    emailed = _emails_match_important_notifications(session)
    assert [subject.split(" ")[0] for _to, subject in emailed]  # readable sentences
    assert len(emailed) == 5  # offer received, 2 × draft submitted, revision requested, confirmed
    confirmed = session.scalars(select(Notification).where(Notification.kind == "confirmed")).one()
    assert "¥760.00" in notifications.notification_text(confirmed)
    assert confirmed.url == f"/orders/{order.id}"


def test_disputes_and_job_decisions_are_emailed(session, deal):
    session.commit()
    order = order_in(session, deal, "in_progress")
    dispute = disputes.open_dispute(session, order, deal.maker, reason="unresponsive",
                                    description="No answer for ten days.", now=NOW)
    disputes.resolve_dispute(session, dispute, Actor("staff", new_reviewer(session)), decision="split",
                             to_creator=300_00, note="Work partly done", now=NOW)
    job = open_job(session, deal)
    creator = new_creator(session)
    recruiting.accept_application(session, apply(session, job, creator), deal.brand, now=NOW)
    emailed = _emails_match_important_notifications(session)
    assert {subject for _to, subject in emailed if "split" in subject}  # the decision is in the sentence


def test_inbox_unread_and_mark_read(session, deal):
    order = offer(session, deal)
    services.decline_offer(session, order, deal.maker, now=NOW)
    user = deal.owner
    assert notifications.unread_count(session, user) == 1
    mine = session.scalars(select(Notification).where(Notification.user_id == user.id)).one()
    other_user = deal.creator.user
    theirs = session.scalars(select(Notification).where(Notification.user_id == other_user.id)).first()
    assert notifications.mark_read(session, user, theirs.id) == 0  # not someone else's
    assert notifications.mark_read(session, user, mine.id, now=NOW) == 1
    assert notifications.mark_read(session, user, mine.id) == 0  # once
    assert notifications.unread_count(session, user) == 0
    assert notifications.unread_count(session, other_user) == 1
    assert notifications.mark_read(session, other_user) == 1


def test_dedupe_and_inactive_users(session, deal):
    users = [deal.owner, deal.creator.user]
    assert notifications.notify(session, users, "offer_expiring", params={"title": "t"}, dedupe_key="k1") == 2
    assert notifications.notify(session, users, "offer_expiring", params={"title": "t"}, dedupe_key="k1") == 0
    deal.creator.user.is_active = False
    assert notifications.notify(session, users, "offer_expiring", params={"title": "t"}, dedupe_key="k2") == 1


def test_a_notification_text_survives_missing_params(session, deal):
    n = Notification(user_id=deal.owner.id, kind="offer_received", params={})
    assert notifications.notification_text(n)  # never a KeyError on the page
    assert notifications.notification_text(Notification(user_id=deal.owner.id, kind="gone", params={}))


# --- double submissions (a double click) on committed data -----------------------------------------------------------


@pytest.fixture(scope="module")
def committed(tmp_root):
    from tests.concurrency import committed_app

    with committed_app(tmp_root, "order_reviews") as app:
        yield app


def _committed_deal_and_order(app, state):
    from tests.concurrency import in_new_transaction

    def build(session):
        deal = new_deal(session, balance_fen=10_000_00)
        return order_in(session, deal, state).id, deal.owner.id, deal.creator.user_id

    return in_new_transaction(app, build)


def test_a_review_submitted_twice_at_once_is_one_review(committed):
    from marketplace.accounts.models import User
    from marketplace.orders.models import Order
    from tests.concurrency import in_new_transaction, race

    order_id, owner_id, _creator_user_id = _committed_deal_and_order(committed, "completed")

    def work(session):
        order = session.get(Order, order_id)
        return reviews.write_review(session, order, Actor("brand", session.get(User, owner_id)), rating=5,
                                    now=NOW).id

    outcomes = race([lambda: in_new_transaction(committed, work) for _ in range(2)])
    assert sorted(status for status, _ in outcomes) == ["error", "ok"], outcomes
    error = next(value for status, value in outcomes if status == "error")
    assert isinstance(error, Conflict), repr(error)


def test_a_message_sent_twice_at_once_is_two_messages_and_one_read_mark(committed):
    from marketplace.accounts.models import User
    from marketplace.orders.models import Message, Order, ThreadRead
    from tests.concurrency import in_new_transaction, race

    order_id, owner_id, creator_user_id = _committed_deal_and_order(committed, "in_progress")

    def work(session):
        order = session.get(Order, order_id)
        return messaging.post_message(session, order, Actor("brand", session.get(User, owner_id)),
                                      body="Are you there?", now=NOW).id

    outcomes = race([lambda: in_new_transaction(committed, work) for _ in range(2)])
    assert [status for status, _ in outcomes] == ["ok", "ok"], outcomes

    def read(session):
        messages = session.scalars(select(Message.id).where(Message.thread_type == "order",
                                                            Message.thread_id == order_id)).all()
        mark = session.get(ThreadRead, (owner_id, "order", order_id))
        unread = messaging.unread_counts(session, session.get(User, creator_user_id), "order", [order_id])
        return len(messages), mark.last_read_id == max(messages), unread

    assert in_new_transaction(committed, read) == (2, True, {order_id: 2})
