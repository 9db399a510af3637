"""Campaign, job and application pages over HTTP: who sees what, each action changes what the services say, and
bad input answers 400 with the message beside its field and writes nothing."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from marketplace.db import utcnow
from marketplace.ledger import flows
from marketplace.ledger.services import balance
from marketplace.orders import messaging, recruiting
from marketplace.orders.models import Application, Campaign, Job, Message, Order
from marketplace.orders.services import brand as brand_actor
from marketplace.orders.services import staff
from tests.integration.access_jobs import job_form, job_terms
from tests.integration.html_text import alerts, field_error, input_values, texts
from tests.integration.test_security import _check_no_inline

SETTINGS = "/settings"  # any page with a CSRF token


@pytest.fixture
def brand(session, make_user, make_funded_enterprise, make_member):
    owner = make_user()
    enterprise = make_funded_enterprise(10_000_00, owner=owner)
    return SimpleNamespace(enterprise=enterprise, owner=owner, viewer=make_member(enterprise, "viewer"),
                           reviewer=make_user(staff_role="reviewer"))


@pytest.fixture
def creator(make_listed_creator):
    return make_listed_creator(categories=("beauty",), regions=("31",))


def _open_job(session, brand, title: str = "Serum review", **overrides) -> Job:
    job = recruiting.save_job(session, brand_actor(brand.owner), brand.enterprise, job_terms(title, **overrides))
    recruiting.submit_job(session, job, brand_actor(brand.owner))
    recruiting.review_job(session, job, staff(brand.reviewer), approve=True)
    session.flush()
    return job


def _as_brand(login_as, brand, user=None):
    return login_as(user or brand.owner, context=f"enterprise:{brand.enterprise.id}")


def _count(session, model, *where) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model).where(*where))


# --- campaigns ---------------------------------------------------------------------------------------------------


def test_campaign_created_with_budget_in_yuan_and_shown_with_totals(client, session, login_as, post_form, brand,
                                                                    creator):
    _as_brand(login_as, brand)
    assert client.get(f"/enterprises/{brand.enterprise.id}/campaigns").status_code == 200  # the empty state
    response = post_form(SETTINGS, {"name": "Autumn launch", "goal": "Launch the serum", "budget": "50,000.50",
                                    "starts_on": "2026-12-01", "ends_on": "2027-01-31"},
                         url=f"/enterprises/{brand.enterprise.id}/campaigns/new")
    assert response.status_code == 302
    campaign = session.scalar(select(Campaign).where(Campaign.enterprise_id == brand.enterprise.id))
    assert (campaign.name, campaign.budget) == ("Autumn launch", 5_000_050)
    assert response.location == f"/campaigns/{campaign.id}"

    # An order under the campaign: its total is committed.
    job = _open_job(session, brand, campaign_id=campaign.id)
    application = recruiting.apply_to_job(session, job, creator, quote=1_000_00, pitch="I film serums weekly.")
    order = recruiting.accept_application(session, application, brand_actor(brand.owner))
    session.flush()
    totals = recruiting.campaign_totals(session, campaign)
    assert totals.committed == order.total == 1_050_00

    page = client.get(f"/campaigns/{campaign.id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    stats = " ".join(texts(html, cls="stat"))
    assert "¥50,000.50" in stats and "¥1,050.00" in stats and "¥48,950.50" in stats
    assert 'class="budget-seg budget-seg-committed"' in html and "Serum review" in html
    assert f"/orders/{order.id}" in html
    _check_no_inline(page, "campaign")
    listing = client.get(f"/enterprises/{brand.enterprise.id}/campaigns").get_data(as_text=True)
    assert "Autumn launch" in listing and "budget-svg" in listing

    edit = post_form(f"/campaigns/{campaign.id}/edit", {"name": "Autumn launch 2", "goal": "", "budget": "60000",
                                                        "starts_on": "", "ends_on": ""})
    assert edit.status_code == 302
    session.expire_all()
    assert (campaign.name, campaign.budget, campaign.starts_on) == ("Autumn launch 2", 6_000_000, None)


def test_campaign_ending_before_it_starts_is_refused_beside_the_field(client, session, login_as, post_form, brand):
    _as_brand(login_as, brand)
    response = post_form(SETTINGS, {"name": "Backwards", "budget": "1000", "starts_on": "2027-02-01",
                                    "ends_on": "2027-01-01"}, url=f"/enterprises/{brand.enterprise.id}/campaigns/new")
    assert response.status_code == 400
    assert "ends before it starts" in field_error(response.get_data(as_text=True), "ends_on")
    assert _count(session, Campaign, Campaign.enterprise_id == brand.enterprise.id) == 0


def test_viewer_reads_campaigns_but_may_not_create(client, login_as, brand):
    _as_brand(login_as, brand, brand.viewer)
    assert client.get(f"/enterprises/{brand.enterprise.id}/campaigns").status_code == 200
    assert client.get(f"/enterprises/{brand.enterprise.id}/campaigns/new").status_code == 403


# --- jobs: the brand ---------------------------------------------------------------------------------------------


def test_job_form_saves_a_draft_with_the_deadline_in_the_users_time_zone(client, session, login_as, post_form,
                                                                          brand):
    _as_brand(login_as, brand)
    assert brand.owner.timezone == "Asia/Shanghai"
    day = (utcnow() + timedelta(days=10)).date()
    response = post_form(f"/enterprises/{brand.enterprise.id}/jobs/new", job_form(
        "Serum review", application_deadline=f"{day.isoformat()}T20:00", criteria_regions=["31", "44"],
        criteria_min_followers="5000"))
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    job = session.scalar(select(Job).where(Job.enterprise_id == brand.enterprise.id))
    assert response.location == f"/jobs/{job.id}"
    assert job.state == "draft" and job.budget == 1_200_00 and job.slots == 3
    assert job.application_deadline == datetime(day.year, day.month, day.day, 12, 0, tzinfo=UTC)
    assert (job.criteria_categories, job.criteria_regions, job.criteria_min_followers) == (["beauty"], ["31", "44"], 5000)
    # Editing shows the deadline as it was typed.
    edit = client.get(f"/jobs/{job.id}/edit").get_data(as_text=True)
    assert input_values(edit, "application_deadline") == [f"{day.isoformat()}T20:00"]


@pytest.mark.parametrize(("change", "field", "message"), [
    ({"budget": "0"}, "budget", "above zero"),
    ({"application_deadline": "2020-01-01T10:00"}, "application_deadline", "must be in the future"),
    ({"criteria_categories": ["beauty", "astrology"]}, "criteria_categories", "Unknown category: astrology"),
    ({"publish_until": (utcnow() + timedelta(days=3)).strftime("%Y-%m-%d"),
      "publish_from": (utcnow() + timedelta(days=2)).strftime("%Y-%m-%d")}, "publish_until", "after the application deadline"),
    ({"slots": "0"}, "slots", "Between 1 and 500"),
    ({"campaign_id": "999999"}, "campaign_id", "one of your campaigns"),
])
def test_bad_job_input_is_refused_beside_the_field_and_writes_nothing(client, session, login_as, post_form, brand,
                                                                      change, field, message):
    _as_brand(login_as, brand)
    response = post_form(f"/enterprises/{brand.enterprise.id}/jobs/new", job_form("Bad job", **change))
    assert response.status_code == 400
    assert message in field_error(response.get_data(as_text=True), field)
    assert _count(session, Job, Job.enterprise_id == brand.enterprise.id) == 0


def test_job_submit_close_cancel_change_the_state(client, session, login_as, post_form, brand):
    _as_brand(login_as, brand)
    draft = recruiting.save_job(session, brand_actor(brand.owner), brand.enterprise, job_terms("Draft job"))
    session.flush()
    page = client.get(f"/jobs/{draft.id}").get_data(as_text=True)
    assert "Submit for review" in page and "Created as a draft" in page
    assert post_form(SETTINGS, url=f"/jobs/{draft.id}/submit").status_code == 302
    session.expire_all()
    assert draft.state == "in_review"
    # A reviewer rejects it: the page shows the reason; the brand edits and resubmits.
    recruiting.review_job(session, draft, staff(brand.reviewer), approve=False, reason="Name the product.")
    session.flush()
    page = client.get(f"/jobs/{draft.id}").get_data(as_text=True)
    assert "Rejected by a reviewer" in page and "Name the product." in page
    assert post_form(f"/jobs/{draft.id}/edit", job_form("Draft job, with the product")).status_code == 302
    assert post_form(SETTINGS, url=f"/jobs/{draft.id}/submit").status_code == 302
    session.expire_all()
    assert (draft.state, draft.title) == ("in_review", "Draft job, with the product")

    job = _open_job(session, brand, "Open job")
    assert post_form(SETTINGS, url=f"/jobs/{job.id}/close").status_code == 302
    session.expire_all()
    assert job.state == "closed"
    # Closing twice: the page with the reason and a 409, nothing changes.
    again = post_form(SETTINGS, url=f"/jobs/{job.id}/close")
    assert again.status_code == 409 and "that action is not possible now" in " ".join(alerts(again.get_data(as_text=True)))
    assert post_form(SETTINGS, url=f"/jobs/{draft.id}/cancel").status_code == 302
    session.expire_all()
    assert draft.state == "cancelled"

    tabs = client.get(f"/enterprises/{brand.enterprise.id}/jobs?state=closed").get_data(as_text=True)
    assert "Open job" in tabs and "Draft job" not in tabs
    ended = client.get(f"/enterprises/{brand.enterprise.id}/jobs?state=ended").get_data(as_text=True)
    assert "Draft job, with the product" in ended


def test_viewer_reads_a_job_without_actions_and_may_not_act(client, session, login_as, post_form, brand):
    draft = recruiting.save_job(session, brand_actor(brand.owner), brand.enterprise, job_terms("Draft job"))
    session.flush()
    _as_brand(login_as, brand, brand.viewer)
    page = client.get(f"/jobs/{draft.id}")
    assert page.status_code == 200 and "Submit for review" not in page.get_data(as_text=True)
    assert post_form(SETTINGS, url=f"/jobs/{draft.id}/submit").status_code == 403
    assert client.get(f"/jobs/{draft.id}/edit").status_code == 403
    session.expire_all()
    assert draft.state == "draft"


def test_applicants_are_compared_shortlisted_rejected_and_accepted(client, session, login_as, post_form, brand,
                                                                    make_listed_creator):
    job = _open_job(session, brand, slots=2)
    one, two, three = (make_listed_creator(categories=("beauty",)) for _ in range(3))
    one.authenticity_score, one.authenticity_reasons = 55, [{"code": "engagement_low", "params": {}}]
    apps = [recruiting.apply_to_job(session, job, c, quote=q, pitch=f"Pitch of {c.display_name}")
            for c, q in ((one, 1_100_00), (two, 900_00), (three, 1_000_00))]
    session.flush()
    _as_brand(login_as, brand)
    page = client.get(f"/jobs/{job.id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    _check_no_inline(page, "job page")
    assert all(c.display_name in html for c in (one, two, three))
    assert "10.0% above budget" in html and "10.0% below budget" in html and "at budget" in html
    assert "Suspicious 55" in html  # the authenticity badge
    assert "Accept · ¥1,155.00" in html  # quote + 5 % service fee

    assert post_form(SETTINGS, {"shortlisted": "1"}, url=f"/applications/{apps[0].id}/shortlist").status_code == 302
    session.expire_all()
    assert apps[0].state == "shortlisted"
    shortlisted = client.get(f"/jobs/{job.id}?state=shortlisted").get_data(as_text=True)
    assert one.display_name in shortlisted and two.display_name not in shortlisted
    assert post_form(SETTINGS, {"shortlisted": "0"}, url=f"/applications/{apps[0].id}/shortlist").status_code == 302
    session.expire_all()
    assert apps[0].state == "submitted"

    # Rejecting needs a reason; then the creator sees it.
    empty = post_form(SETTINGS, {f"a{apps[1].id}-reason": ""}, url=f"/applications/{apps[1].id}/reject")
    assert empty.status_code == 400
    field_error(empty.get_data(as_text=True), f"a{apps[1].id}-reason")
    session.expire_all()
    assert apps[1].state == "submitted"
    assert post_form(SETTINGS, {f"a{apps[1].id}-reason": "Budget is fixed."},
                     url=f"/applications/{apps[1].id}/reject").status_code == 302
    session.expire_all()
    assert (apps[1].state, apps[1].rejection_reason) == ("rejected", "Budget is fixed.")

    wallet = flows.enterprise_available(brand.enterprise.id)
    before = balance(session, wallet)
    accepted = post_form(SETTINGS, url=f"/applications/{apps[2].id}/accept")
    assert accepted.status_code == 302
    session.expire_all()
    order = session.get(Order, apps[2].order_id)
    assert apps[2].state == "accepted" and order.price == 1_000_00 and order.job_id == job.id
    assert accepted.location == f"/orders/{order.id}"
    assert balance(session, wallet) == before - order.total
    assert job.slots_filled == 1


def test_accepting_without_enough_funds_says_how_much_and_writes_nothing(client, session, login_as, post_form,
                                                                         make_user, make_funded_enterprise, creator):
    owner = make_user()
    poor = SimpleNamespace(enterprise=make_funded_enterprise(500_00, owner=owner), owner=owner,
                           reviewer=make_user(staff_role="reviewer"))
    job = _open_job(session, poor)
    application = recruiting.apply_to_job(session, job, creator, quote=1_000_00, pitch="I film serums weekly.")
    session.flush()
    wallet = flows.enterprise_available(poor.enterprise.id)
    before = balance(session, wallet)
    _as_brand(login_as, poor)
    response = post_form(SETTINGS, url=f"/applications/{application.id}/accept")
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    text = " ".join(alerts(html))
    assert "Not enough funds" in text and "¥1,050.00" in text and "¥500.00" in text and "¥550.00" in text
    assert f"/enterprises/{poor.enterprise.id}/wallet" in html
    session.expire_all()
    assert application.state == "submitted" and application.order_id is None
    assert _count(session, Order, Order.job_id == job.id) == 0
    assert balance(session, wallet) == before and job.slots_filled == 0


# --- who may see what --------------------------------------------------------------------------------------------


def test_other_brands_creators_and_staff_see_what_they_may(client, session, login_as, make_user, make_enterprise,
                                                           brand, creator):
    draft = recruiting.save_job(session, brand_actor(brand.owner), brand.enterprise, job_terms("Draft job"))
    job = _open_job(session, brand)
    campaign = recruiting.save_campaign(session, brand_actor(brand.owner), brand.enterprise, name="Secret")
    application = recruiting.apply_to_job(session, job, creator, quote=1_000_00, pitch="I film serums weekly.")
    session.flush()
    other = make_user()
    b = make_enterprise(owner=other, state="verified")
    login_as(other, context=f"enterprise:{b.id}")
    for path in (f"/jobs/{job.id}", f"/jobs/{draft.id}", f"/campaigns/{campaign.id}",
                 f"/enterprises/{brand.enterprise.id}/jobs", f"/enterprises/{brand.enterprise.id}/campaigns",
                 f"/applications/{application.id}", "/creator/jobs"):
        assert client.get(path).status_code == 403, path
    for path in ("/jobs/999999", "/campaigns/999999", "/applications/999999"):
        assert client.get(path).status_code == 404, path

    login_as(creator.user, context="creator")
    assert client.get(f"/jobs/{job.id}").status_code == 200
    assert client.get(f"/jobs/{draft.id}").status_code == 403  # not open, not applied to
    assert client.get(f"/campaigns/{campaign.id}").status_code == 403
    assert client.get(f"/enterprises/{brand.enterprise.id}/jobs").status_code == 403
    recruiting.close_job(session, job, brand_actor(brand.owner))
    session.flush()
    assert client.get(f"/jobs/{job.id}").status_code == 200  # closed, but they applied to it

    login_as(brand.reviewer, context="staff")
    page = client.get(f"/jobs/{draft.id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Read-only" in html and "Submit for review" not in html
    assert client.get(f"/applications/{application.id}").status_code == 403


# --- the creator's side --------------------------------------------------------------------------------------------


def test_job_board_lists_matching_jobs_with_filters_and_htmx(client, session, login_as, brand, creator):
    serum = _open_job(session, brand, "Serum review", budget=1_500_00)
    _open_job(session, brand, "Street food tour", criteria_categories=["food"], budget=3_000_00)
    _open_job(session, brand, "Lipstick haul", criteria_categories=[], content_type="image_text", budget=500_00)
    recruiting.save_job(session, brand_actor(brand.owner), brand.enterprise, job_terms("Unpublished draft"))
    session.flush()
    login_as(creator.user, context="creator")

    page = client.get("/creator/jobs")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    _check_no_inline(page, "board")
    titles = texts(html, cls="job-card")
    assert len(titles) == 2 and "Street food tour" not in html and "Unpublished draft" not in html
    assert "You qualify" in html

    everything = client.get("/creator/jobs?f=1&sort=budget").get_data(as_text=True)
    cards = texts(everything, cls="job-card")
    assert "Street food tour" in cards[0] and "Not a match" in cards[0]  # sorted by budget, highest first

    keyword = client.get("/creator/jobs?q=lipstick").get_data(as_text=True)
    assert "Lipstick haul" in keyword and "Serum review" not in keyword
    typed = client.get("/creator/jobs?content_type=image_text").get_data(as_text=True)
    assert "Lipstick haul" in typed and "Serum review" not in typed
    rich = client.get("/creator/jobs?budget_min=1000").get_data(as_text=True)
    assert "Serum review" in rich and "Lipstick haul" not in rich

    fragment = client.get("/creator/jobs?q=Serum+review", headers={"HX-Request": "true"})
    body = fragment.get_data(as_text=True)
    assert fragment.status_code == 200 and "<html" not in body and 'id="job-results"' in body
    assert "HX-Request" in fragment.headers.get("Vary", "")
    assert f"/jobs/{serum.id}" in body

    empty = client.get("/creator/jobs?q=nothing-like-this").get_data(as_text=True)
    assert "No open jobs you qualify for match this search" in empty
    bad = client.get("/creator/jobs?category=astrology")
    assert bad.status_code == 400 and "Unknown category" in bad.get_data(as_text=True)


def test_board_paginates(client, session, login_as, brand, creator):
    for n in range(14):
        _open_job(session, brand, f"Job number {n:02d}", criteria_categories=[])
    login_as(creator.user, context="creator")
    first = client.get("/creator/jobs").get_data(as_text=True)
    second = client.get("/creator/jobs?page=2").get_data(as_text=True)
    assert len(texts(first, cls="job-card")) == 12 and len(texts(second, cls="job-card")) == 2
    assert "13–14 of 14" in second


def test_creator_applies_with_a_quote_prefilled_from_the_rate_card(client, session, login_as, post_form, brand,
                                                                   creator):
    job = _open_job(session, brand)
    login_as(creator.user, context="creator")
    page = client.get(f"/jobs/{job.id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    _check_no_inline(page, "creator job page")
    assert "You qualify" in html and input_values(html, "quote") == ["1000"]

    zero = post_form(SETTINGS, {"quote": "0", "pitch": "I film serums weekly."}, url=f"/jobs/{job.id}/apply")
    assert zero.status_code == 400
    assert "above zero" in field_error(zero.get_data(as_text=True), "quote")
    assert _count(session, Application, Application.job_id == job.id) == 0

    sent = post_form(SETTINGS, {"quote": "1,100", "pitch": "I film serums weekly."}, url=f"/jobs/{job.id}/apply")
    assert sent.status_code == 302
    application = session.scalar(select(Application).where(Application.job_id == job.id))
    assert (application.quote, application.creator_id) == (1_100_00, creator.id)
    assert sent.location == f"/applications/{application.id}"

    twice = post_form(SETTINGS, {"quote": "900", "pitch": "Again, cheaper."}, url=f"/jobs/{job.id}/apply")
    assert twice.status_code == 409
    assert "You already applied to this job." in " ".join(alerts(twice.get_data(as_text=True)))
    assert _count(session, Application, Application.job_id == job.id) == 1


def test_creator_who_does_not_qualify_is_told_why_and_refused(client, session, login_as, post_form, brand, creator):
    job = _open_job(session, brand, criteria_categories=["food"], criteria_regions=["44"],
                    criteria_min_followers=10_000_000)
    login_as(creator.user, context="creator")
    html = client.get(f"/jobs/{job.id}").get_data(as_text=True)
    reason = " ".join(texts(html, cls="qualify"))
    assert "You don't qualify because" in reason and "Food" in reason and "Guangdong" in reason
    assert "at least 10,000,000 followers" in reason
    refused = post_form(SETTINGS, {"quote": "1000", "pitch": "I film serums weekly."}, url=f"/jobs/{job.id}/apply")
    assert refused.status_code == 400 and "does not meet this job's criteria" in refused.get_data(as_text=True)
    assert _count(session, Application, Application.job_id == job.id) == 0


def test_my_applications_show_states_reasons_orders_and_withdraw(client, session, login_as, post_form, brand,
                                                                 creator):
    jobs = [_open_job(session, brand, f"Job {n}") for n in range(3)]
    apps = [recruiting.apply_to_job(session, j, creator, quote=1_000_00, pitch="I film serums weekly.") for j in jobs]
    recruiting.reject_application(session, apps[0], brand_actor(brand.owner), reason="We went with a bigger account.")
    order = recruiting.accept_application(session, apps[1], brand_actor(brand.owner))
    session.flush()
    login_as(creator.user, context="creator")
    page = client.get("/creator/applications")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    _check_no_inline(page, "my applications")
    assert "We went with a bigger account." in html and "Not selected" in html and "Accepted" in html
    assert f"/orders/{order.id}" in html
    assert post_form(SETTINGS, url=f"/applications/{apps[2].id}/withdraw").status_code == 302
    session.expire_all()
    assert apps[2].state == "withdrawn"
    again = post_form(SETTINGS, url=f"/applications/{apps[2].id}/withdraw")
    assert again.status_code == 409 and "already decided" in " ".join(alerts(again.get_data(as_text=True)))


def test_creator_may_not_withdraw_or_open_another_creators_application(client, session, login_as, post_form, brand,
                                                                      creator, make_listed_creator):
    job = _open_job(session, brand)
    application = recruiting.apply_to_job(session, job, creator, quote=1_000_00, pitch="I film serums weekly.")
    session.flush()
    login_as(make_listed_creator().user, context="creator")
    assert client.get(f"/applications/{application.id}").status_code == 403
    assert post_form(SETTINGS, url=f"/applications/{application.id}/withdraw").status_code == 403
    session.expire_all()
    assert application.state == "submitted"


# --- the application's thread ----------------------------------------------------------------------------------


def test_thread_messages_with_attachment_and_unread_marks(client, session, login_as, post_form, brand, creator):
    from marketplace.seed import licence_png

    job = _open_job(session, brand)
    application = recruiting.apply_to_job(session, job, creator, quote=1_000_00, pitch="I film serums weekly.")
    session.flush()
    login_as(creator.user, context="creator")
    png = licence_png("Moodboard", "91310000MA1FL8XQ30")
    sent = post_form(SETTINGS, {"body": "Here is my moodboard.", "file": (io.BytesIO(png), "mood.png")},
                     url=f"/applications/{application.id}/messages", content_type="multipart/form-data")
    assert sent.status_code == 302
    message = session.scalar(select(Message).where(Message.thread_type == "application",
                                                   Message.thread_id == application.id))
    assert message.body == "Here is my moodboard." and message.file.content_type == "image/png"

    wrong = post_form(SETTINGS, {"body": "A text file", "file": (io.BytesIO(b"just text"), "notes.txt")},
                      url=f"/applications/{application.id}/messages", content_type="multipart/form-data")
    assert wrong.status_code == 400
    assert "not an accepted type" in field_error(wrong.get_data(as_text=True), "file")
    empty = post_form(SETTINGS, {"body": "  "}, url=f"/applications/{application.id}/messages")
    assert empty.status_code == 400 and "Write a message" in field_error(empty.get_data(as_text=True), "body")
    assert _count(session, Message, Message.thread_id == application.id, Message.thread_type == "application") == 1

    _as_brand(login_as, brand)
    assert messaging.unread_counts(session, brand.owner, "application", [application.id]) == {application.id: 1}
    job_page = client.get(f"/jobs/{job.id}").get_data(as_text=True)
    assert texts(job_page, cls="count-unread") == ["1"]
    thread = client.get(f"/applications/{application.id}")
    html = thread.get_data(as_text=True)
    assert thread.status_code == 200 and "Here is my moodboard." in html and "mood.png" in html
    _check_no_inline(thread, "thread")
    session.expire_all()
    assert messaging.unread_counts(session, brand.owner, "application", [application.id]) == {}
    attachment = client.get(f"/applications/{application.id}/files/{message.file_id}")
    assert attachment.status_code == 200 and attachment.mimetype == "image/png"
    assert client.get(f"/applications/{application.id}/files/999999").status_code == 404

    assert post_form(SETTINGS, {"body": "When can you film?"}, url=f"/applications/{application.id}/messages") \
        .status_code == 302
    _as_brand(login_as, brand, brand.viewer)
    viewer_page = client.get(f"/applications/{application.id}").get_data(as_text=True)
    assert "When can you film?" in viewer_page and "owners and managers write" in viewer_page
    assert post_form(SETTINGS, {"body": "Viewer here"}, url=f"/applications/{application.id}/messages").status_code == 403
