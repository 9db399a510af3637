"""Campaign, job and application pages in real Chromium, with screenshots of each: the brand's campaign page
(budget bar), the job form, the job page comparing applicants; the creator's job board (filters through htmx,
no page load), the apply form, the application thread and the applications list."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from marketplace.accounts.models import User
from marketplace.accounts.services import create_user
from marketplace.db import utcnow
from marketplace.enterprises import services as enterprise_services
from marketplace.ledger import flows
from marketplace.orders import recruiting
from marketplace.orders.models import Application, Job
from marketplace.orders.services import brand as brand_actor
from marketplace.orders.services import staff
from tests.browser.test_journeys import log_in

PASSWORD = "harbour lantern violet 4821"


def _user(session, email: str, name: str, kind: str = "brand", staff_role: str | None = None) -> User:
    return create_user(session, email=email, password=PASSWORD, display_name=name, signup_kind=kind, locale="en",
                       staff_role=staff_role, verified=True)


def _creator(session, email: str, name: str, handle: str, categories, followers: int, score: int, reasons=()):
    from marketplace.creators import services as creator_services
    from marketplace.creators import stats

    creator = creator_services.become_creator(session, _user(session, email, name, kind="creator"))
    stats.link_platform_account(session, creator, f"@{handle}")
    creator_services.update_profile(session, creator, handle=handle, display_name=name, kind="individual",
                                    bio="护肤测评 · skincare reviews", categories=list(categories), regions=["31"],
                                    languages=["zh"], accepting_orders=True)
    creator_services.save_rate_card(session, creator, {"short_video": 2_800_00, "image_text": 900_00}, 2, 7, "")
    creator.followers, creator.authenticity_score, creator.authenticity_reasons = followers, score, list(reasons)
    creator.audience_female_pct, creator.audience_main_age = 78, "24-30"
    return creator


def _terms(title: str, **overrides):
    from tests.integration.access_jobs import job_terms

    values = dict(brief="拍一条 60 秒的真实测评：第一周使用感受、质地、吸收速度。Show the bottle in the first 3 seconds; "
                        "no before/after claims.", budget=3_000_00, slots=3,
                  deliverables="One vertical video (9:16), 45–60 s, with #LumenSerum.")
    values.update(overrides)
    return job_terms(title, **values)


@pytest.fixture
def world(live, live_db):
    """Lumen (verified, funded) with a campaign, an open job with three applicants (one hired), more open jobs
    for the board; the creator Mia (beauty, Shanghai) who has applied to nothing yet."""
    with live_db() as session:
        reviewer = _user(session, "reviewer@canal.example.com", "Canal reviewer", staff_role="reviewer")
        owner = _user(session, "owner@lumen.example.com", "Chen Jing")
        from marketplace.seed import _enterprise

        lumen = _enterprise(session, owner, "上海流明化妆品有限公司", "Lumen Cosmetics", "91310115MA1K4DEM3")
        enterprise_services.submit_for_verification(session, owner, lumen)
        enterprise_services.approve_enterprise(session, reviewer, lumen)
        flows.top_up(session, enterprise_id=lumen.id, amount=60_000_00, rail="bank", key="screens-top-up")
        b = brand_actor(owner)
        campaign = recruiting.save_campaign(session, b, lumen, name="Autumn serum launch 秋季精华",
                                            goal="300 short videos reviewing the new serum before Double 11.",
                                            budget=20_000_00, starts_on=utcnow().date(),
                                            ends_on=(utcnow() + timedelta(days=60)).date())

        def open_job(title, **overrides):
            job = recruiting.save_job(session, b, lumen, _terms(title, campaign_id=campaign.id, **overrides))
            recruiting.submit_job(session, job, b)
            recruiting.review_job(session, job, staff(reviewer), approve=True)
            return job

        serum = open_job("Serum review — first week 精华一周测评")
        open_job("Sunscreen in real life 防晒实测", budget=1_800_00, content_type="image_text",
                 criteria_categories=[], application_deadline=utcnow() + timedelta(days=4))
        open_job("Travel kit unboxing 旅行套装开箱", budget=4_500_00, criteria_categories=["travel"])
        recruiting.save_job(session, b, lumen, _terms("Holiday gift set (draft)"))
        creators = [
            _creator(session, "yun@creators.example.com", "Yun 云朵", "yun_skin", ["beauty"], 86_000, 92),
            _creator(session, "kai@creators.example.com", "Kai 凯", "kai_daily", ["beauty", "lifestyle"], 240_000, 58,
                     [{"code": "low_engagement", "params": {"actual_pct": "0.9", "expected_pct": "4.2",
                                                      "category": "beauty", "tier": "mid"}}]),
            _creator(session, "lin@creators.example.com", "Lin 林", "lin_glow", ["beauty"], 31_000, 81),
        ]
        pitches = ("I test every serum for 7 days on sensitive skin; my audience is 78% women aged 24–30.",
                   "Daily routine videos, 240k followers. I can film this week.",
                   "Ingredient-focused reviews; my last serum video reached 120k plays.")
        apps = [recruiting.apply_to_job(session, serum, c, quote=q, pitch=p)
                for c, q, p in zip(creators, (2_800_00, 3_600_00, 2_500_00), pitches, strict=True)]
        recruiting.shortlist_application(session, apps[0], b)
        recruiting.accept_application(session, apps[2], b)
        mia = _creator(session, "mia@creators.example.com", "Mia 米娅", "mia_beauty", ["beauty"], 52_000, 88)
        session.flush()
        return {"lumen": lumen.id, "campaign": campaign.id, "serum": serum.id, "mia": mia.id}


def test_brand_campaign_job_form_and_applicants(page, live, world, shot):
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    log_in(page, live, "owner@lumen.example.com", PASSWORD)
    expect(page.locator("details.user-menu")).to_be_visible()

    page.goto(f"{live}/enterprises/{world['lumen']}/campaigns")
    expect(page.get_by_role("heading", name="Campaigns", exact=True)).to_be_visible()
    shot(page, "campaigns")
    page.get_by_role("link", name="Autumn serum launch 秋季精华").click()
    expect(page.locator(".stat").filter(has_text="Committed")).to_contain_text("¥2,625.00")  # 2,500 + 5 % fee
    expect(page.locator("rect.budget-seg-committed")).to_have_count(1)
    shot(page, "campaign")

    page.get_by_role("link", name="+ New job in this campaign").click()
    page.get_by_label("Title").fill("Night cream first look")
    page.get_by_label("Brief").fill("Show the texture and your night routine; keep it honest.")
    page.get_by_label("Budget per creator (CNY)").fill("0")
    page.get_by_role("group", name="Categories").get_by_label("Beauty").check()
    deadline = utcnow() + timedelta(days=8)
    page.get_by_label("Applications close").fill(deadline.strftime("%Y-%m-%dT18:00"))
    page.get_by_label("Publish from").fill((deadline + timedelta(days=2)).strftime("%Y-%m-%d"))
    page.get_by_label("Publish by").fill((deadline + timedelta(days=20)).strftime("%Y-%m-%d"))
    page.get_by_role("button", name="Save draft").click()
    expect(page.locator("#budget-error")).to_contain_text("Enter an amount above zero.")
    shot(page, "job-form-error")
    page.get_by_label("Budget per creator (CNY)").fill("2,000")
    page.get_by_role("button", name="Save draft").click()
    expect(page.locator(".flashes")).to_contain_text("Draft saved")
    expect(page.get_by_role("button", name="Submit for review")).to_be_visible()
    shot(page, "job-draft")

    page.goto(f"{live}/jobs/{world['serum']}")
    rows = page.locator("tbody.applicant")
    expect(rows).to_have_count(3)
    expect(page.locator(".applicants")).to_contain_text("20.0% above budget")
    shot(page, "job-applicants")
    page.get_by_role("link", name=re.compile(r"^Shortlisted")).click()
    expect(rows).to_have_count(1)
    assert not errors, errors


def test_creator_board_apply_and_thread(page, live, world, live_db, shot):
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    log_in(page, live, "mia@creators.example.com", PASSWORD)
    expect(page.locator("details.user-menu")).to_be_visible()

    page.goto(f"{live}/creator/jobs")
    cards = page.locator("article.job-card")
    expect(cards).to_have_count(2)  # the travel job wants travel creators
    page.evaluate("window.__noReload = true")
    shot(page, "board")
    page.get_by_label("Only jobs I qualify for").uncheck()
    expect(page).to_have_url(re.compile(r"f=1"))
    expect(cards).to_have_count(3)
    expect(page.locator("article.job-card").filter(has_text="Travel kit")).to_contain_text("Not a match")
    page.get_by_label("Sort by").select_option("budget")
    expect(page).to_have_url(re.compile(r"sort=budget"))
    expect(cards.first).to_contain_text("Travel kit")
    assert page.evaluate("window.__noReload === true"), "the filters reloaded the page"
    page.wait_for_load_state("networkidle")
    expect(page.locator("#job-results.htmx-request")).to_have_count(0)
    shot(page, "board-all-by-budget")

    page.get_by_role("link", name="Serum review — first week 精华一周测评").click()
    expect(page.locator(".qualify")).to_contain_text("You qualify")
    expect(page.get_by_label("Your price (CNY)")).to_have_value("2800")
    shot(page, "apply-form")
    page.get_by_label("Your price (CNY)").fill("0")
    page.get_by_label("Pitch").fill("Sensitive-skin routines every Friday; I test for a full week.")
    page.get_by_role("button", name="Send application").click()
    expect(page.locator("#quote-error")).to_contain_text("above zero")
    page.get_by_label("Your price (CNY)").fill("2,900")
    page.get_by_role("button", name="Send application").click()
    expect(page.locator(".flashes")).to_contain_text("Your application is sent")
    page.get_by_label("Message", exact=True).fill("Can I film at home, or do you need a studio look?")
    page.get_by_role("button", name="Send").click()
    expect(page.locator(".thread .message")).to_have_count(1)
    shot(page, "thread")

    page.goto(f"{live}/creator/applications")
    expect(page.locator("table.table tbody tr")).to_have_count(1)
    shot(page, "my-applications")
    with live_db() as session:
        application = session.scalar(select(Application).where(Application.creator_id == world["mia"]))
        assert application.quote == 2_900_00 and session.get(Job, world["serum"]).application_count == 4
    assert not errors, errors
