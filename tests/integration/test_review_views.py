"""The reviewers' pages over HTTP: the job queue, the dispute queue and page (with the split preview), removal
reports. Orders are built with the services (tests/integration/access_review.py builders); decisions go
through the real forms (CSRF token from the page), and every refused decision is checked to write nothing."""

from __future__ import annotations

import re
from dataclasses import dataclass
from html import unescape
from typing import Any

import pytest
from sqlalchemy import func, select

from marketplace.audit.models import AuditEntry
from marketplace.ledger import flows
from marketplace.ledger.models import LedgerTransaction
from marketplace.notifications.models import Notification
from marketplace.orders.models import Dispute, Job, JobEvent, LiveReport, Message, Order, OrderEvent
from marketplace.orders.services import retention_refund
from tests.conftest import csrf_from
from tests.integration.access_review import disputed_order, job_in_review, reported_order
from tests.integration.html_text import field_error
from tests.ledger_helpers import assert_balances, assert_ledger_sound

BALANCE = 10_000_00


@dataclass
class Scene:
    brand: Any
    owner: Any
    manager: Any
    viewer: Any
    finance: Any
    creator: Any
    reviewer: Any
    admin: Any
    finance_staff: Any


@pytest.fixture
def scene(session, make_funded_enterprise, make_listed_creator, make_user, make_member) -> Scene:
    brand = make_funded_enterprise(BALANCE)
    owner = brand.memberships[0].user
    return Scene(brand=brand, owner=owner, manager=make_member(brand, "manager"), viewer=make_member(brand, "viewer"),
                 finance=make_member(brand, "finance"), creator=make_listed_creator(),
                 reviewer=make_user(staff_role="reviewer"), admin=make_user(staff_role="admin"),
                 finance_staff=make_user(staff_role="finance"))


def _token(client, page: str) -> str:
    return csrf_from(client.get(page).get_data(as_text=True))


def _counts(session) -> dict[str, int]:
    """Rows a refused decision must not add to."""
    session.expire_all()
    tables = {"ledger": LedgerTransaction, "events": OrderEvent, "job_events": JobEvent, "audit": AuditEntry,
              "notifications": Notification, "messages": Message}
    return {name: session.scalar(select(func.count()).select_from(model)) for name, model in tables.items()}


def text_of(html: str) -> str:
    """The page's (or fragment's) text, tags dropped and whitespace normalised."""
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


# --- who may see the queues ------------------------------------------------------------------------------------


def test_queues_and_pages_are_for_reviewers_and_admins_only(client, session, login_as, scene):
    job = job_in_review(session, scene.owner, scene.brand)
    _, dispute = disputed_order(session, scene.owner, scene.brand, scene.creator)
    _, report = reported_order(session, scene.owner, scene.brand, scene.creator)
    pages = ["/staff/jobs", "/staff/disputes", f"/staff/disputes/{dispute.id}", "/staff/live-reports"]
    for user in (scene.reviewer, scene.admin):
        login_as(user, context="staff")
        for page in pages:
            response = client.get(page)
            assert response.status_code == 200, (user.staff_role, page)
    for user in (scene.owner, scene.manager, scene.viewer, scene.finance, scene.creator.user, scene.finance_staff):
        login_as(user)
        for page in pages:
            assert client.get(page).status_code == 403, page
    # Nor may they post decisions (a token from a page they can see).
    login_as(scene.owner)
    token = _token(client, "/settings")
    before = _counts(session)
    assert client.post(f"/staff/jobs/{job.id}/decide", data={"csrf_token": token,
                                                            f"job{job.id}-decision": "approve"}).status_code == 403
    assert client.post(f"/staff/disputes/{dispute.id}/resolve", data={
        "csrf_token": token, "decision": "refund", "note": "I decide myself."}).status_code == 403
    assert client.post(f"/staff/live-reports/{report.id}/decide", data={
        "csrf_token": token, f"report{report.id}-decision": "uphold", f"report{report.id}-note": "x"}).status_code == 403
    assert _counts(session) == before


def test_unknown_objects_are_404_for_reviewers(client, login_as, scene):
    login_as(scene.reviewer, context="staff")
    assert client.get("/staff/disputes/999999").status_code == 404
    token = _token(client, "/staff/jobs")
    assert client.post("/staff/jobs/999999/decide", data={"csrf_token": token}).status_code == 404
    assert client.post("/staff/live-reports/999999/decide", data={"csrf_token": token}).status_code == 404


# --- the job queue ---------------------------------------------------------------------------------------------


def test_job_queue_shows_what_a_reviewer_checks_oldest_first(client, session, login_as, scene):
    from datetime import timedelta

    from marketplace.db import utcnow

    older = job_in_review(session, scene.owner, scene.brand, title="Older job", now=utcnow() - timedelta(hours=5))
    newer = job_in_review(session, scene.owner, scene.brand, title="Newer job")
    login_as(scene.reviewer, context="staff")
    html = client.get("/staff/jobs").get_data(as_text=True)
    text = text_of(html)
    assert text.index("Older job") < text.index("Newer job")
    assert scene.brand.display_name in text and scene.brand.legal_name in text and "verified" in text.lower()
    assert "¥800.00 × 3" in text and "¥2,400.00 in all" in text
    assert "Short video" in text and "Beauty" in text and "Shanghai" in text and "10,000–500,000 followers" in text
    assert "Film a 30-second routine" in text
    assert f'action="/staff/jobs/{older.id}/decide"' in html and f'action="/staff/jobs/{newer.id}/decide"' in html
    assert "No decisions yet." in text


def test_job_queue_empty_state(client, login_as, scene):
    login_as(scene.admin, context="staff")
    text = text_of(client.get("/staff/jobs").get_data(as_text=True))
    assert "No job waits for review" in text


def test_approve_via_http_opens_the_job(client, session, login_as, scene):
    job = job_in_review(session, scene.owner, scene.brand)
    login_as(scene.reviewer, context="staff")
    response = client.post(f"/staff/jobs/{job.id}/decide", data={
        "csrf_token": _token(client, "/staff/jobs"), f"job{job.id}-decision": "approve"})
    assert response.status_code == 302 and response.location.endswith("/staff/jobs")
    session.expire_all()
    assert session.get(Job, job.id).state == "open"
    assert session.scalar(select(AuditEntry.action).where(AuditEntry.object_type == "job",
                                                          AuditEntry.object_id == job.id)) == "job.approve"
    assert session.scalar(select(func.count()).select_from(Notification).where(
        Notification.user_id == scene.owner.id, Notification.kind == "job_approved")) == 1
    text = text_of(client.get("/staff/jobs").get_data(as_text=True))
    assert "Recently decided" in text and "Approved" in text and "Autumn serum launch" in text


def test_reject_needs_a_reason_beside_the_field_and_writes_nothing(client, session, login_as, scene):
    job = job_in_review(session, scene.owner, scene.brand)
    login_as(scene.reviewer, context="staff")
    before = _counts(session)
    response = client.post(f"/staff/jobs/{job.id}/decide", data={
        "csrf_token": _token(client, "/staff/jobs"), f"job{job.id}-decision": "reject", f"job{job.id}-reason": "  "})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert field_error(html, f"job{job.id}-reason") == "Give the brand a reason."
    assert _counts(session) == before
    assert session.get(Job, job.id).state == "in_review"

    response = client.post(f"/staff/jobs/{job.id}/decide", data={
        "csrf_token": _token(client, "/staff/jobs"), f"job{job.id}-decision": "reject",
        f"job{job.id}-reason": "Say what the serum does and drop the medical claims."})
    assert response.status_code == 302
    session.expire_all()
    job = session.get(Job, job.id)
    assert job.state == "rejected" and job.rejection_reason.startswith("Say what the serum does")


def test_deciding_a_job_no_longer_in_review_is_a_clear_409(client, session, login_as, scene):
    job = job_in_review(session, scene.owner, scene.brand)
    login_as(scene.reviewer, context="staff")
    token = _token(client, "/staff/jobs")
    assert client.post(f"/staff/jobs/{job.id}/decide", data={
        "csrf_token": token, f"job{job.id}-decision": "approve"}).status_code == 302
    before = _counts(session)
    again = client.post(f"/staff/jobs/{job.id}/decide", data={
        "csrf_token": token, f"job{job.id}-decision": "reject", f"job{job.id}-reason": "Too late."})
    assert again.status_code == 409
    assert "This job is Open: that action is not possible now." in text_of(again.get_data(as_text=True))
    assert _counts(session) == before


# --- disputes --------------------------------------------------------------------------------------------------


def test_dispute_queue_lists_open_disputes_with_parties_money_reason_and_age(client, session, login_as, scene):
    order, dispute = disputed_order(session, scene.owner, scene.brand, scene.creator)
    login_as(scene.reviewer, context="staff")
    html = client.get("/staff/disputes").get_data(as_text=True)
    text = text_of(html)
    assert "春季新品测评" in text and scene.brand.display_name in text and scene.creator.display_name in text
    assert "¥1,050.00" in text  # price + service fee held in escrow
    assert "The work does not match the brief" in text and "Brand" in text
    assert f"/staff/disputes/{dispute.id}" in html
    assert "No dispute has been decided yet." in text


def test_dispute_page_shows_the_whole_file(client, session, login_as, scene):
    order, dispute = disputed_order(session, scene.owner, scene.brand, scene.creator)
    login_as(scene.reviewer, context="staff")
    html = client.get(f"/staff/disputes/{dispute.id}").get_data(as_text=True)
    text = text_of(html)
    # The claim and its evidence.
    assert "The work does not match the brief" in text and "does not show the product at all" in text
    assert "brief-vs-draft.png" in text
    # Drafts and their files, both sides' messages, the whole timeline.
    assert "Draft 1" in text and "cut1-cover.png" in text and "https://drive.example/cut1" in text
    assert "I will send the first cut on Friday." in text and "The bottle never appears." in text
    for label in ("Offer sent", "Offer accepted", "Draft submitted", "Dispute opened"):
        assert label in text
    # The money: price, service fee, escrow held (read from the ledger).
    assert "¥1,000.00" in text and "¥50.00" in text and "Held in escrow now ¥1,050.00" in text
    # The split table: 60/40 gives the creator 600 − 30 and the brand 400 + 20.
    assert re.search(r"60 % / 40 %\s+¥570\.00\s+¥420\.00", text), text
    # The decision form with its live preview (htmx, no inline script) and the staff message form.
    assert f'hx-get="/staff/disputes/{dispute.id}"' in html and 'hx-target="#split-preview"' in html
    assert f'action="/staff/disputes/{dispute.id}/resolve"' in html
    assert f'action="/staff/disputes/{dispute.id}/messages"' in html


def test_split_preview_is_computed_server_side(client, session, login_as, scene):
    _, dispute = disputed_order(session, scene.owner, scene.brand, scene.creator)
    login_as(scene.reviewer, context="staff")
    fragment = client.get(f"/staff/disputes/{dispute.id}?to_creator=600", headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and "<html" not in fragment.get_data(as_text=True)
    text = text_of(fragment.get_data(as_text=True))
    assert "Creator receives ¥570.00" in text and "Brand gets back ¥420.00" in text and "Canal keeps ¥60.00" in text
    for bad, message in (("0", "more than zero and less than the price"),
                         ("1000", "more than zero and less than the price"),
                         ("12.345", "at most two decimals")):
        fragment = client.get(f"/staff/disputes/{dispute.id}?to_creator={bad}", headers={"HX-Request": "true"})
        assert message in text_of(fragment.get_data(as_text=True)), bad
    # Without JavaScript, the table's links prefill the form and show the same preview in the page.
    page = text_of(client.get(f"/staff/disputes/{dispute.id}?to_creator=600.00").get_data(as_text=True))
    assert "Creator receives ¥570.00" in page


def test_resolving_60_40_via_http_moves_every_fen_and_notifies_both_sides(client, session, login_as, scene):
    order, dispute = disputed_order(session, scene.owner, scene.brand, scene.creator)
    wallet, escrow = flows.enterprise_available(scene.brand.id), flows.order_escrow(order.id)
    pending = flows.creator_pending(scene.creator.id)
    assert_balances(session, {wallet: BALANCE - 1_050_00, escrow: 1_050_00})
    login_as(scene.reviewer, context="staff")
    response = client.post(f"/staff/disputes/{dispute.id}/resolve", data={
        "csrf_token": _token(client, f"/staff/disputes/{dispute.id}"), "decision": "split", "to_creator": "600",
        "note": "The draft missed the product; the creator did most of the work. 60/40."})
    assert response.status_code == 302 and response.location.endswith(f"/staff/disputes/{dispute.id}")
    session.expire_all()
    # Creator: 600 − 5 % commission = 570. Brand: 400 back + the 5 % service fee on it (20) = 420.
    # Platform: the service fee on the creator's part (30) and the commission on it (30).
    assert_balances(session, {wallet: BALANCE - 1_050_00 + 420_00, escrow: 0, pending: 570_00,
                              flows.REVENUE_SERVICE_FEE: 30_00, flows.REVENUE_COMMISSION: 30_00})
    assert_ledger_sound(session)
    order = session.get(Order, order.id)
    assert order.state == "resolved" and (order.paid_to_creator, order.refunded_to_brand) == (570_00, 420_00)
    dispute = session.get(Dispute, dispute.id)
    assert (dispute.state, dispute.decision, dispute.to_creator) == ("resolved", "split", 600_00)
    decided = session.scalars(select(Notification.user_id).where(Notification.kind == "dispute_decided")).all()
    assert scene.creator.user_id in decided and scene.owner.id in decided and scene.manager.id in decided
    assert scene.viewer.id not in decided  # viewers do not act on orders
    assert session.scalar(select(AuditEntry.action).where(AuditEntry.object_type == "order",
                                                          AuditEntry.object_id == order.id)) == "dispute.resolve"
    # The page now shows the decision instead of the form.
    text = text_of(client.get(f"/staff/disputes/{dispute.id}").get_data(as_text=True))
    assert "To the creator ¥570.00" in text and "Back to the brand ¥420.00" in text and "Platform kept ¥60.00" in text
    assert "the creator did most of the work" in text and "Decide and move the money" not in text
    queue = text_of(client.get("/staff/disputes").get_data(as_text=True))
    assert "No open dispute" in queue and "¥570.00" in queue


def test_resolving_twice_is_a_clear_409_and_writes_nothing(client, session, login_as, scene):
    _, dispute = disputed_order(session, scene.owner, scene.brand, scene.creator)
    login_as(scene.reviewer, context="staff")
    token = _token(client, f"/staff/disputes/{dispute.id}")
    assert client.post(f"/staff/disputes/{dispute.id}/resolve", data={
        "csrf_token": token, "decision": "refund", "note": "Nothing usable was delivered."}).status_code == 302
    before = _counts(session)
    again = client.post(f"/staff/disputes/{dispute.id}/resolve", data={
        "csrf_token": token, "decision": "release", "note": "Changed my mind."})
    assert again.status_code == 409
    assert "This dispute is already decided." in text_of(again.get_data(as_text=True))
    assert _counts(session) == before
    assert session.get(Dispute, dispute.id).decision == "refund"


@pytest.mark.parametrize(("data", "field", "message"), [
    ({"decision": "split", "to_creator": "0"}, "to_creator", "more than zero and less than the price"),
    ({"decision": "split", "to_creator": "1000"}, "to_creator", "more than zero and less than the price"),
    ({"decision": "split", "to_creator": "1500.50"}, "to_creator", "more than zero and less than the price"),
    ({"decision": "split", "to_creator": ""}, "to_creator", "more than zero and less than the price"),
    ({"decision": "split", "to_creator": "six hundred"}, "to_creator", "Enter an amount in yuan"),
    ({"decision": "split", "to_creator": "600", "note": ""}, "note", "Explain the decision to both sides."),
    ({"decision": "", "to_creator": ""}, "decision", "Choose a decision."),
])
def test_a_bad_decision_gets_a_message_beside_its_field_and_writes_nothing(client, session, login_as, scene, data,
                                                                           field, message):
    _, dispute = disputed_order(session, scene.owner, scene.brand, scene.creator)
    login_as(scene.reviewer, context="staff")
    before = _counts(session)
    response = client.post(f"/staff/disputes/{dispute.id}/resolve", data={
        "csrf_token": _token(client, f"/staff/disputes/{dispute.id}"), "note": "Fair split.", **data})
    assert response.status_code == 400
    assert message in field_error(response.get_data(as_text=True), field)
    assert _counts(session) == before
    assert session.get(Dispute, dispute.id).state == "open"


def test_staff_message_reaches_both_sides(client, session, login_as, scene):
    order, dispute = disputed_order(session, scene.owner, scene.brand, scene.creator)
    login_as(scene.reviewer, context="staff")
    token = _token(client, f"/staff/disputes/{dispute.id}")
    empty = client.post(f"/staff/disputes/{dispute.id}/messages", data={"csrf_token": token, "body": " "})
    assert empty.status_code == 400 and field_error(empty.get_data(as_text=True), "body") == "Write a message."
    response = client.post(f"/staff/disputes/{dispute.id}/messages", data={
        "csrf_token": token, "body": "Please both send the raw footage by Monday."})
    assert response.status_code == 302 and response.location.endswith("#messages")
    message = session.scalar(select(Message).where(Message.thread_type == "order", Message.thread_id == order.id)
                             .order_by(Message.id.desc()))
    assert message.sender_side == "staff" and message.body.startswith("Please both send")
    told = set(session.scalars(select(Notification.user_id).where(Notification.kind == "message",
                                                                  Notification.created_at >= message.created_at)))
    assert {scene.owner.id, scene.creator.user_id} <= told
    text = text_of(client.get(f"/staff/disputes/{dispute.id}").get_data(as_text=True))
    assert "Reviewer" in text and "Please both send the raw footage by Monday." in text


def test_staff_cannot_message_once_the_dispute_is_decided(client, session, login_as, scene):
    _, dispute = disputed_order(session, scene.owner, scene.brand, scene.creator)
    login_as(scene.reviewer, context="staff")
    token = _token(client, f"/staff/disputes/{dispute.id}")
    client.post(f"/staff/disputes/{dispute.id}/resolve", data={"csrf_token": token, "decision": "release",
                                                              "note": "The draft follows the brief."})
    before = _counts(session)
    late = client.post(f"/staff/disputes/{dispute.id}/messages", data={"csrf_token": token, "body": "One more thing"})
    assert late.status_code == 409 and "only during a dispute" in text_of(late.get_data(as_text=True))
    assert _counts(session) == before


# --- removal reports -------------------------------------------------------------------------------------------


def test_live_report_queue_shows_the_pro_rata_refund_and_upholding_pays_it(client, session, login_as, scene):
    order, report = reported_order(session, scene.owner, scene.brand, scene.creator)
    refund = retention_refund(order, report.removed_at)
    assert 0 < refund <= order.retention
    login_as(scene.reviewer, context="staff")
    html = client.get("/staff/live-reports").get_data(as_text=True)
    text = text_of(html)
    assert "618 大促口播" in text and order.work_url in html and "days left" in text
    money = f"¥{refund / 100:,.2f}"
    assert f"Refund if upheld {money}" in text and "The video shows “private”" in text

    wallet = flows.enterprise_available(scene.brand.id)
    wallet_before = session.get(Order, order.id) and _balance(session, wallet)
    token = _token(client, "/staff/live-reports")
    missing = client.post(f"/staff/live-reports/{report.id}/decide", data={
        "csrf_token": token, f"report{report.id}-decision": "uphold", f"report{report.id}-note": ""})
    assert missing.status_code == 400
    assert field_error(missing.get_data(as_text=True), f"report{report.id}-note") == "Explain the decision."
    response = client.post(f"/staff/live-reports/{report.id}/decide", data={
        "csrf_token": token, f"report{report.id}-decision": "uphold",
        f"report{report.id}-note": "Private on the platform since the reported date."})
    assert response.status_code == 302
    session.expire_all()
    report = session.get(LiveReport, report.id)
    assert report.state == "upheld" and report.refund == refund
    assert session.get(Order, order.id).state == "closed"
    assert _balance(session, wallet) == wallet_before + refund
    assert _balance(session, flows.order_escrow(order.id)) == 0
    assert_ledger_sound(session)
    text = text_of(client.get("/staff/live-reports").get_data(as_text=True))
    assert "No report waits" in text and "Upheld" in text


def _balance(session, code: str) -> int:
    from marketplace.ledger.services import balance

    return balance(session, code)


def test_dismissing_a_report_keeps_the_money(client, session, login_as, scene):
    order, report = reported_order(session, scene.owner, scene.brand, scene.creator)
    escrow = flows.order_escrow(order.id)
    held = _balance(session, escrow)
    login_as(scene.admin, context="staff")
    response = client.post(f"/staff/live-reports/{report.id}/decide", data={
        "csrf_token": _token(client, "/staff/live-reports"), f"report{report.id}-decision": "dismiss",
        f"report{report.id}-note": "The work is public when we check."})
    assert response.status_code == 302
    session.expire_all()
    assert session.get(LiveReport, report.id).state == "dismissed"
    assert _balance(session, escrow) == held == order.retention


def test_reviewer_pages_need_no_inline_script_or_style(client, session, login_as, scene):
    from tests.integration.test_security import _check_no_inline

    job_in_review(session, scene.owner, scene.brand)
    _, dispute = disputed_order(session, scene.owner, scene.brand, scene.creator)
    reported_order(session, scene.owner, scene.brand, scene.creator)
    login_as(scene.reviewer, context="staff")
    for page in ("/staff/jobs", "/staff/disputes", f"/staff/disputes/{dispute.id}", "/staff/live-reports"):
        _check_no_inline(client.get(page), page)


def test_a_refused_decision_on_a_later_page_of_the_queue_is_still_shown(client, session, login_as, scene):
    from datetime import timedelta

    from marketplace.db import utcnow

    jobs = [job_in_review(session, scene.owner, scene.brand, title=f"Job {i:02d}", now=utcnow() - timedelta(hours=20 - i))
            for i in range(11)]
    last = jobs[-1]  # the 11th oldest: on page 2
    login_as(scene.reviewer, context="staff")
    response = client.post(f"/staff/jobs/{last.id}/decide", data={
        "csrf_token": _token(client, "/staff/jobs"), f"job{last.id}-decision": "reject"})
    assert response.status_code == 400
    assert "Give the brand a reason." in text_of(response.get_data(as_text=True))
    assert session.get(Job, last.id).state == "in_review"


def test_the_dispute_pages_file_links_open_for_the_reviewer(app, client, session, login_as, scene):
    _, dispute = disputed_order(session, scene.owner, scene.brand, scene.creator)
    login_as(scene.reviewer, context="staff")
    html = client.get(f"/staff/disputes/{dispute.id}").get_data(as_text=True)
    links = re.findall(r'href="(/orders/\d+/files/\d+)"', html)
    assert len(links) == 2  # the evidence and the draft's file
    for link in links:
        response = client.get(link)
        assert response.status_code == 200 and response.mimetype == "image/png", link
