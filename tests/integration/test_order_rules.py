"""Bad input and wrong actors, at the service level: a clear error (a ``DomainError`` with a readable message,
and the form field when it is about one input) and nothing written — neither when the error is raised (the
services check before they write) nor after the caller's rollback.

"Nothing written" is counted over every table order-taking and the ledger write: orders, events, drafts,
disputes, messages, reviews, jobs, applications, ledger transactions and postings, notifications, emails.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from marketplace.errors import Conflict, DomainError, InvalidTransition, NotAllowed, ValidationFailed
from marketplace.ledger.services import balance
from marketplace.orders import disputes, messaging, recruiting, reviews, services
from marketplace.orders.models import Order
from marketplace.orders.services import Actor
from tests.integration.order_world import (
    NOW,
    Deal,
    advance,
    apply,
    new_creator,
    new_deal,
    new_enterprise,
    new_reviewer,
    new_user,
    offer,
    open_job,
    order_in,
    row_counts,
)
from tests.ledger_helpers import assert_ledger_sound


@pytest.fixture
def deal(session) -> Deal:
    return new_deal(session, balance_fen=10_000_00)


def refused(session, call, error: type[DomainError], field: str | None = None) -> DomainError:
    """``call()`` raises ``error`` and writes nothing, before and after the caller's rollback."""
    session.commit()
    before = row_counts(session)
    with pytest.raises(error) as caught:
        call()
    assert row_counts(session) == before, "written before the error"
    session.rollback()
    assert row_counts(session) == before, "written after the rollback"
    assert str(caught.value.message).strip(), "a message the user can read"
    if field is not None:
        assert caught.value.field == field
    assert_ledger_sound(session)
    return caught.value


def state_of(session, order: Order) -> str:
    session.expire_all()
    return session.get(Order, order.id).state


# --- wrong actors ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("state", ["offered", "in_progress", "draft_approved"])
def test_a_creator_cannot_act_on_another_creators_order(session, deal, state):
    order = order_in(session, deal, state)
    intruder = Actor("creator", new_creator(session).user)
    calls = {
        "offered": lambda: services.accept_offer(session, order, intruder, now=NOW),
        "in_progress": lambda: services.submit_draft(session, order, intruder, link_url="https://x.example/d",
                                                     now=NOW),
        "draft_approved": lambda: services.publish(session, order, intruder, work_url="https://x.example/v", now=NOW),
    }
    error = refused(session, calls[state], NotAllowed)
    assert "not your order" in str(error.message)
    assert state_of(session, order) == state


def test_another_creator_cannot_decline_cancel_or_dispute(session, deal):
    intruder = Actor("creator", new_creator(session).user)
    offered = offer(session, deal)
    refused(session, lambda: services.decline_offer(session, offered, intruder, now=NOW), NotAllowed)
    working = order_in(session, deal, "in_progress")
    refused(session, lambda: services.cancel(session, working, intruder, now=NOW), NotAllowed)
    refused(session, lambda: services.request_cancel(session, working, intruder, now=NOW), NotAllowed)
    refused(session, lambda: disputes.open_dispute(session, working, intruder, reason="late",
                                                   description="It is two weeks late now.", now=NOW), NotAllowed)
    refused(session, lambda: messaging.post_message(session, working, intruder, body="hello", now=NOW), NotAllowed)


@pytest.mark.parametrize("role", ["viewer", "finance"])
def test_a_brand_member_without_the_acting_role_cannot_confirm(session, deal, make_member, role):
    order = order_in(session, deal, "published")
    member = Actor("brand", make_member(deal.enterprise, role))
    error = refused(session, lambda: services.confirm(session, order, member, now=NOW), NotAllowed)
    assert role in str(error.message)
    assert state_of(session, order) == "published"


@pytest.mark.parametrize("role", ["viewer", "finance"])
def test_non_acting_roles_cannot_send_offers_or_review_drafts(session, deal, make_member, role):
    member = Actor("brand", make_member(deal.enterprise, role))
    refused(session, lambda: services.send_offer(session, member, deal.enterprise, deal.creator, title="t",
                                                 content_type="short_video", price=100_00, now=NOW), NotAllowed)
    order = order_in(session, deal, "draft_submitted")
    refused(session, lambda: services.approve_draft(session, order, member, now=NOW), NotAllowed)
    refused(session, lambda: services.request_revision(session, order, member, feedback="Redo it", now=NOW),
            NotAllowed)
    refused(session, lambda: messaging.post_message(session, order, member, body="hello", now=NOW), NotAllowed)


def test_a_member_of_another_enterprise_cannot_act(session, deal):
    other = new_enterprise(session)
    stranger = Actor("brand", other.memberships[0].user)
    order = order_in(session, deal, "published")
    error = refused(session, lambda: services.confirm(session, order, stranger, now=NOW), NotAllowed)
    assert "enterprise" in str(error.message)
    refused(session, lambda: services.send_offer(session, stranger, deal.enterprise, deal.creator, title="t",
                                                 content_type="short_video", price=100_00, now=NOW), NotAllowed)


def test_the_wrong_side_is_not_allowed(session, deal):
    order = order_in(session, deal, "published")
    as_creator = Actor("creator", deal.creator.user)
    refused(session, lambda: services.confirm(session, order, as_creator, now=NOW), NotAllowed)
    staff = Actor("staff", new_reviewer(session))
    refused(session, lambda: services.confirm(session, order, staff, now=NOW), NotAllowed)
    # the brand's owner pretending to be the creator
    working = order_in(session, deal, "in_progress")
    refused(session, lambda: services.submit_draft(session, working, Actor("creator", deal.owner),
                                                   link_url="https://x.example/d", now=NOW), NotAllowed)
    # a plain user pretending to be staff
    completed = order_in(session, deal, "completed")
    pretender = Actor("staff", new_user(session))
    refused(session, lambda: services.close_live_window(session, completed, now=NOW, removed_at=NOW,
                                                        actor=pretender), NotAllowed)


@pytest.mark.parametrize("side", ["staff", "system"])
def test_only_the_parties_propose_a_cancellation(session, deal, side):
    """A reviewer's (or the system's) "proposal" must not let the brand cancel alone."""
    order = order_in(session, deal, "in_progress")
    actor = Actor("staff", new_reviewer(session)) if side == "staff" else services.SYSTEM
    refused(session, lambda: services.request_cancel(session, order, actor, now=NOW), NotAllowed)
    refused(session, lambda: services.cancel(session, order, deal.brand, now=NOW), NotAllowed)
    assert state_of(session, order) == "in_progress"


def test_a_brand_alone_cannot_cancel_an_order_in_progress(session, deal):
    order = order_in(session, deal, "in_progress")
    refused(session, lambda: services.cancel(session, order, deal.brand, now=NOW), NotAllowed)
    services.request_cancel(session, order, deal.brand, now=NOW)
    refused(session, lambda: services.request_cancel(session, order, deal.brand, now=NOW), Conflict)
    refused(session, lambda: services.cancel(session, order, deal.brand, now=NOW), NotAllowed)


# --- wrong moments -------------------------------------------------------------------------------------------------------


def test_confirming_twice(session, deal):
    order = order_in(session, deal, "published")
    services.confirm(session, order, deal.brand, now=NOW)
    refused(session, lambda: services.confirm(session, order, deal.brand, now=NOW), InvalidTransition)
    assert state_of(session, order) == "completed"


def test_accepting_an_expired_offer_before_the_timer_ran(session, deal):
    order = offer(session, deal)
    late = order.offer_expires_at + timedelta(minutes=1)
    error = refused(session, lambda: services.accept_offer(session, order, deal.maker, now=late), InvalidTransition)
    assert "expired" in str(error.message)
    assert state_of(session, order) == "offered"  # the timer will expire and refund it
    refused(session, lambda: services.accept_offer(session, order, deal.maker, now=order.offer_expires_at),
            InvalidTransition)  # the deadline itself is too late


def test_accepting_an_offer_after_the_timer_expired_it(session, deal):
    order = offer(session, deal)
    services.expire_offer(session, order, now=order.offer_expires_at)
    refused(session, lambda: services.accept_offer(session, order, deal.maker, now=NOW), InvalidTransition)


def test_acting_out_of_order(session, deal):
    offered = offer(session, deal)
    refused(session, lambda: services.confirm(session, offered, deal.brand, now=NOW), InvalidTransition)
    refused(session, lambda: services.submit_draft(session, offered, deal.maker, link_url="https://x.example/d",
                                                   now=NOW), InvalidTransition)
    working = order_in(session, deal, "in_progress")
    refused(session, lambda: services.withdraw_offer(session, working, deal.brand, now=NOW), InvalidTransition)
    refused(session, lambda: services.approve_draft(session, working, deal.brand, now=NOW), InvalidTransition)
    # the state is checked before the link: "not possible now", not "we could not find this work"
    refused(session, lambda: services.publish(session, working, deal.maker,
                                              work_url="https://sandbox.video/@x/v/0000000abcd", now=NOW),
            InvalidTransition)
    done = order_in(session, deal, "completed")
    refused(session, lambda: services.request_cancel(session, done, deal.brand, now=NOW), InvalidTransition)
    refused(session, lambda: disputes.open_dispute(session, done, deal.brand, reason="late",
                                                   description="It is two weeks late now.", now=NOW),
            InvalidTransition)


# --- bad input ---------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("price", [0, -100])
def test_a_price_of_zero_or_less(session, deal, price):
    refused(session, lambda: offer(session, deal, price=price), ValidationFailed, field="price")


def test_a_price_above_the_ceiling(app, session, deal):
    refused(session, lambda: offer(session, deal, price=app.config["ORDER_MAX_PRICE"] + 1), ValidationFailed,
            field="price")


@pytest.mark.parametrize(("terms", "field"), [
    ({"title": "  "}, "title"),
    ({"content_type": "hologram"}, "content_type"),
    ({"publish_from": NOW.date(), "publish_until": NOW.date() - timedelta(days=1)}, "publish_until"),
    ({"publish_until": NOW.date() - timedelta(days=2)}, "publish_until"),
    ({"revision_rounds": 11}, "revision_rounds"),
    ({"live_days": -1}, "live_days"),
    ({"usage_rights_days": 4000}, "usage_rights_days"),
    ({"campaign_id": 10**9}, "campaign_id"),
])
def test_bad_offer_terms(session, deal, terms, field):
    refused(session, lambda: offer(session, deal, **terms), ValidationFailed, field=field)


def test_no_rate_card_price_for_the_content_type_and_no_price(session, deal):
    refused(session, lambda: offer(session, deal, price=None, content_type="livestream"), ValidationFailed,
            field="price")


def test_a_quote_of_zero(session, deal):
    job = open_job(session, deal)
    creator = new_creator(session)
    refused(session, lambda: apply(session, job, creator, quote=0), ValidationFailed, field="quote")
    refused(session, lambda: recruiting.apply_to_job(session, job, creator, quote=500_00, pitch="hi", now=NOW),
            ValidationFailed, field="pitch")


def test_revision_beyond_the_included_rounds(session, deal):
    order = order_in(session, deal, "draft_submitted", revision_rounds=1)
    services.request_revision(session, order, deal.brand, feedback="Brighter, please", now=NOW)
    services.submit_draft(session, order, deal.maker, link_url="https://drive.example/d2", now=NOW)
    error = refused(session, lambda: services.request_revision(session, order, deal.brand, feedback="Again", now=NOW),
                    ValidationFailed, field="feedback")
    assert "1" in str(error.message)
    assert state_of(session, order) == "draft_submitted"
    none_included = order_in(session, deal, "draft_submitted", revision_rounds=0)
    refused(session, lambda: services.request_revision(session, none_included, deal.brand, feedback="Redo",
                                                       now=NOW), ValidationFailed, field="feedback")
    refused(session, lambda: services.request_revision(session, none_included, deal.brand, feedback="  ", now=NOW),
            ValidationFailed, field="feedback")


def test_a_draft_needs_a_file_or_a_real_link(session, deal):
    order = order_in(session, deal, "in_progress")
    refused(session, lambda: services.submit_draft(session, order, deal.maker, note="here", now=NOW),
            ValidationFailed, field="files")
    refused(session, lambda: services.submit_draft(session, order, deal.maker, link_url="javascript:alert(1)",
                                                   now=NOW), ValidationFailed, field="link_url")


def test_publishing_another_creators_work(session, deal):
    from tests.integration.order_world import live_work

    order = order_in(session, deal, "draft_approved")
    other = new_creator(session)
    url = live_work(other, NOW).url
    error = refused(session, lambda: services.publish(session, order, deal.maker, work_url=url, now=NOW),
                    ValidationFailed, field="work_url")
    assert "another account" in str(error.message)
    assert state_of(session, order) == "draft_approved"


def test_publishing_a_work_older_than_the_order(app, session, deal, monkeypatch):
    """A work published before the order was accepted is not the work the order paid for."""
    from marketplace.creators.stats import current_connector

    monkeypatch.setitem(app.config, "ORDER_WORK_AFTER_ACCEPTANCE", True)
    order = order_in(session, deal, "draft_approved")
    old = current_connector().list_works(deal.creator.platform_account.external_id, 5, now=order.accepted_at)[0]
    assert old.is_live and old.published_at < order.accepted_at
    error = refused(session, lambda: services.publish(session, order, deal.maker, work_url=old.url,
                                                      now=order.accepted_at + timedelta(days=5)),
                    ValidationFailed, field="work_url")
    assert "before" in str(error.message)
    assert state_of(session, order) == "draft_approved"


@pytest.mark.parametrize("url", ["", "https://example.com/video/1", "https://sandbox.video/@nobody_here/v/7397000abcd", "https://sandbox.video/@x/v/1"])
def test_publishing_an_unknown_url(session, deal, url):
    order = order_in(session, deal, "draft_approved")
    refused(session, lambda: services.publish(session, order, deal.maker, work_url=url, now=NOW), ValidationFailed,
            field="work_url")


def test_publishing_a_work_not_published_yet(session, deal):
    """A work of the creator's own account published after ``now`` does not exist yet on the platform."""
    from marketplace.creators.stats import current_connector

    order = order_in(session, deal, "draft_approved")
    works = current_connector().list_works(deal.creator.platform_account.external_id, 30,
                                           now=NOW + timedelta(days=60))
    future = next(w for w in reversed(works) if w.published_at > NOW)
    refused(session, lambda: services.publish(session, order, deal.maker, work_url=future.url, now=NOW),
            ValidationFailed, field="work_url")


# --- who may hire whom ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("state", ["unverified", "pending"])
def test_an_unverified_enterprise_cannot_send_an_offer(session, state):
    enterprise = new_enterprise(session, state=state, balance_fen=10_000_00)
    deal = Deal(enterprise, enterprise.memberships[0].user, new_creator(session))
    error = refused(session, lambda: offer(session, deal), NotAllowed)
    assert "verified" in str(error.message)
    assert balance(session, deal.wallet) == 10_000_00


def test_a_creator_not_accepting_orders(session, deal):
    deal.creator.accepting_orders = False
    session.flush()
    error = refused(session, lambda: offer(session, deal), ValidationFailed)
    assert deal.creator.display_name in str(error.message)


def test_a_creator_cannot_send_an_offer_to_themselves(session, deal, make_member):
    make_member(deal.enterprise, "manager", user=deal.creator.user)
    own = Deal(deal.enterprise, deal.creator.user, deal.creator)
    refused(session, lambda: offer(session, own), ValidationFailed)


def test_reviews_and_messages_refuse_bad_input(session, deal):
    order = order_in(session, deal, "completed")
    refused(session, lambda: reviews.write_review(session, order, deal.brand, rating=0, now=NOW), ValidationFailed,
            field="rating")
    refused(session, lambda: reviews.write_review(session, order, deal.brand, rating=6, now=NOW), ValidationFailed,
            field="rating")
    refused(session, lambda: messaging.post_message(session, order, deal.brand, body="   ", now=NOW),
            ValidationFailed, field="body")
    refused(session, lambda: messaging.post_message(session, order, deal.brand, body="x" * 4001, now=NOW),
            ValidationFailed, field="body")
    working = order_in(session, deal, "in_progress")
    refused(session, lambda: reviews.write_review(session, working, deal.brand, rating=5, now=NOW),
            InvalidTransition)


def test_advance_helper_reaches_every_state(session, deal):
    """(The other tests rely on it.)"""
    for state in ("offered", "in_progress", "draft_submitted", "revision_requested", "draft_approved", "published",
                  "completed", "closed"):
        assert advance(session, offer(session, deal), deal, state).state == state
