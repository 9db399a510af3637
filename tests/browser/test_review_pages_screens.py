"""The reviewers' pages and the notification inbox in real Chromium, with screenshots: the job queue (a job
approved from it), the dispute page with the split preview updating as the reviewer types (htmx, no page load)
and then the 60/40 decision, the removal reports, and the brand owner's inbox with its "Mark all read".

Set-up goes through the services (``live_db``); everything after it is the real UI."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from marketplace.accounts.services import create_user
from marketplace.db import utcnow
from marketplace.enterprises import services as enterprise_services
from marketplace.files.services import store_bytes
from marketplace.notifications.models import Notification
from marketplace.orders.models import Dispute, Job
from marketplace.seed import licence_png
from tests.integration.access_review import (
    disputed_order,
    job_in_review,
    list_creator,
    reported_order,
    verify_and_fund,
)

PASSWORD = "harbour lantern review 58"


def _uscc(n: int) -> str:
    from stdnum.cn import uscc

    body = f"9131011{n:06d}ABCD"[:17]
    return body + uscc.calc_check_digit(body)


@pytest.fixture
def review_scene(live, live_db):
    """A verified, funded brand (owner Olivia), a listed creator, a reviewer; two jobs in review and one decided,
    a disputed order, a completed order reported removed. Returns the ids the test opens."""
    with live_db() as session:
        owner = create_user(session, email="olivia@review-example.com", password=PASSWORD, display_name="Olivia Owner")
        reviewer = create_user(session, email="rita@review-example.com", password=PASSWORD, display_name="Rita Reviewer")
        reviewer.staff_role = "reviewer"
        maker = create_user(session, email="chen@review-example.com", password=PASSWORD, display_name="Chen Creator",
                            signup_kind="creator")
        for user in (owner, reviewer, maker):
            user.email_verified_at = utcnow()
        details = enterprise_services.EnterpriseDetails(
            legal_name="上海露明化妆品有限公司", display_name="Lumen Beauty", uscc=_uscc(424242),
            contact_name="Olivia", contact_phone="+86 21 5555 0000", contact_email=owner.email, invoice_title="",
            tax_number="")
        brand = enterprise_services.create_enterprise(session, owner, details)
        brand.licence_file_id = store_bytes(session, licence_png("Lumen", brand.uscc), "image/png", "licence.png",
                                            owner.id).id
        verify_and_fund(session, brand, owner, reviewer, 20_000_00)
        creator = list_creator(session, maker, "chen_reviews")
        now = utcnow()
        decided = job_in_review(session, owner, brand, title="Summer sunscreen try-on", now=now - timedelta(days=2))
        from marketplace.orders import recruiting
        from marketplace.orders.services import Actor

        recruiting.review_job(session, decided, Actor("staff", reviewer), approve=False,
                              reason="Remove the claim “cures acne”: medical claims are not allowed.")
        first = job_in_review(session, owner, brand, title="Autumn serum launch", now=now - timedelta(hours=30))
        job_in_review(session, owner, brand, title="Lipstick swatch series", now=now - timedelta(hours=3))
        order, dispute = disputed_order(session, owner, brand, creator, price=1_000_00)
        reported_order(session, owner, brand, creator, price=2_000_00)
        session.flush()
        return {"job": first.id, "dispute": dispute.id, "order": order.id, "owner": owner.id}


def _log_in(page: Page, live: str, email: str) -> None:
    page.goto(live + "/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Log in", exact=True).click()
    expect(page.locator("details.user-menu")).to_be_visible()


def _watch_errors(page: Page) -> list[str]:
    """Script errors and CSP violations (a refused form's 400 answer is expected, not an error)."""
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text)
            if msg.type == "error" and "status of 400" not in msg.text else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    return errors


def test_reviewer_queues_and_dispute_split(browser, live, live_db, review_scene, shot):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    page = context.new_page()
    errors = _watch_errors(page)
    _log_in(page, live, "rita@review-example.com")

    # The job queue: oldest first, with the brand, budget × slots, criteria; the decided job on the side.
    page.goto(live + "/staff/jobs")
    expect(page.get_by_role("heading", name="Jobs to review")).to_be_visible()
    cards = page.locator("article.review-item")
    expect(cards).to_have_count(2)
    expect(cards.first).to_contain_text("Autumn serum launch")
    expect(cards.first).to_contain_text("¥800.00 × 3")
    expect(page.get_by_text("Summer sunscreen try-on")).to_be_visible()
    shot(page, "job-queue")

    # Rejecting without a reason: the message beside the field; then approving the first job.
    first = cards.first
    first.get_by_role("button", name="Reject with this reason").click()
    expect(page.locator(f"#job{review_scene['job']}-reason-error")).to_have_text("Give the brand a reason.")
    page.locator("article.review-item").first.get_by_role("button", name="Approve and open").click()
    expect(page.locator(".alert-success")).to_contain_text("is approved and open to creators")
    expect(page.locator("article.review-item")).to_have_count(1)
    with live_db() as session:
        assert session.get(Job, review_scene["job"]).state == "open"

    # The dispute queue, then the dispute page.
    page.get_by_role("navigation", name="Review queues").get_by_role("link", name="Disputes").click()
    expect(page.get_by_role("heading", name="Disputes", exact=True)).to_be_visible()
    expect(page.locator("table.table").first).to_contain_text("¥1,050.00")
    shot(page, "dispute-queue")
    page.get_by_role("link", name="Review", exact=True).click()
    expect(page.get_by_role("heading", name="Decision")).to_be_visible()
    page.evaluate("window.__noReload = true")

    # The live preview: typing the creator's part shows what each side gets (server-side, through htmx).
    page.get_by_label("Split the price").check()
    amount = page.get_by_label("Creator's part of the price (CNY)")
    amount.fill("1200")
    expect(page.locator("#split-preview")).to_contain_text("less than the price")
    amount.fill("600")
    preview = page.locator("#split-preview")
    expect(preview).to_contain_text("Creator receives ¥570.00")
    expect(preview).to_contain_text("Brand gets back ¥420.00")
    expect(preview).to_contain_text("Canal keeps ¥60.00")
    assert page.evaluate("window.__noReload === true"), "the preview reloaded the page"
    page.get_by_label("Explanation for both sides").fill(
        "The draft misses the product shot the brief asked for; the creator delivered most of the work. 60/40.")
    page.evaluate("window.scrollTo(0, 0)")  # the full-page shot starts at the top (the top bar is sticky)
    shot(page, "dispute-split-preview")

    page.get_by_role("button", name="Decide and move the money").click()
    expect(page.locator(".alert-success")).to_contain_text("The dispute is decided")
    expect(page.get_by_role("heading", name="Decided", exact=True)).to_be_visible()
    expect(page.locator("main")).to_contain_text("¥570.00")
    shot(page, "dispute-decided")
    with live_db() as session:
        dispute = session.get(Dispute, review_scene["dispute"])
        assert (dispute.state, dispute.to_creator) == ("resolved", 600_00)

    # Removal reports: the pro-rata refund is on the button.
    page.get_by_role("link", name="Dispute queue").click()
    page.get_by_role("navigation", name="Review queues").get_by_role("link", name="Removal reports").click()
    expect(page.locator("article.review-item")).to_have_count(1)
    expect(page.locator("article.review-item")).to_contain_text("Refund if upheld")
    shot(page, "live-reports")
    assert not errors, errors
    context.close()


def test_brand_owner_inbox(browser, live, live_db, review_scene, shot):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    page = context.new_page()
    errors = _watch_errors(page)
    _log_in(page, live, "olivia@review-example.com")
    page.goto(live + "/notifications")
    expect(page.get_by_role("heading", name="Notifications")).to_be_visible()
    items = page.locator("li.notification")
    expect(items.first).to_be_visible()
    expect(page.locator("li.notification.is-unread").first).to_be_visible()
    expect(page.locator("main")).to_contain_text("A dispute was opened on “春季新品测评”")
    shot(page, "inbox")

    page.get_by_role("button", name="Mark all read").click()
    expect(page.locator(".alert-success")).to_contain_text("marked read")
    expect(page.locator("li.notification.is-unread")).to_have_count(0)
    expect(page.get_by_text("You are all caught up.")).to_be_visible()
    shot(page, "inbox-read")
    with live_db() as session:
        unread = session.scalars(select(Notification).where(Notification.user_id == review_scene["owner"],
                                                            Notification.read_at.is_(None))).all()
        assert unread == []
    assert not errors, errors
    context.close()
