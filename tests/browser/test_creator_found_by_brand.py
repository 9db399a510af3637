"""The issue's journey end to end, in real Chromium: a creator signs up, confirms the email, links the sandbox
platform account, fills the profile and the rate card; a brand owner finds that creator by a Chinese keyword and
by filters, shortlists them next to another creator and compares the two side by side."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from marketplace.accounts.models import User
from marketplace.creators.models import Creator
from marketplace.seed import seed_demo
from tests.browser.test_journeys import log_in, main_nav, open_nav_menu

NAME = "小雅 Xiaoya"
EMAIL = "xiaoya@example.com"
PASSWORD = "tangerine orbit lantern 77"


@pytest.fixture

def demo(live, live_app, live_db):
    seed_demo(live_app)
    with live_db() as session:  # the demo owner reads Chinese; this journey reads the English labels
        session.scalar(select(User).where(User.email == "owner@lumen.demo")).locale = "en"
    return live


def test_new_creator_is_found_shortlisted_and_compared(page, browser, browser_context_args, demo, live_db,
                                                      outbox_link, shot):
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    # The creator signs up and confirms the email.
    page.goto(demo + "/signup")
    page.get_by_label("A creator — I want to get orders").check()
    page.get_by_label("Your name").fill(NAME)
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page.locator(".flashes")).to_contain_text("We sent a confirmation link")
    page.goto(outbox_link(EMAIL, "/verify-email/"))
    expect(page.locator(".flashes")).to_contain_text("is confirmed")
    shot(page, "creator-signed-up")

    # Links the sandbox account, fills the profile and the rate card.
    open_nav_menu(page, "My profile")
    main_nav(page).get_by_role("link", name="Platform account").click()
    page.get_by_label("Account handle or profile URL").fill("@xiaoya_beauty_e2e")
    page.get_by_role("button", name="Link account and import statistics").click()
    expect(page.get_by_role("heading", name="Linked to @xiaoya_beauty_e2e")).to_be_visible()
    open_nav_menu(page, "My profile")
    main_nav(page).get_by_role("link", name="Profile").click()
    page.get_by_label("Handle").fill("xiaoya_skin")
    page.get_by_label("Bio").fill("敏感肌护肤｜成分党测评，每周五更新。")
    page.get_by_role("group", name="Categories").get_by_label("Beauty").check()
    page.get_by_role("group", name="Regions").get_by_label("Zhejiang").check()
    page.get_by_role("group", name="Languages").get_by_label("Mandarin").check()
    page.get_by_label("Accepting orders").check()
    page.get_by_role("button", name="Save profile").click()
    expect(page.get_by_role("status")).to_contain_text("Your profile is saved.")
    open_nav_menu(page, "My profile")
    main_nav(page).get_by_role("link", name="Rate card").click()
    page.get_by_label("Short video").fill("3,000")
    page.get_by_role("button", name="Save as a new version").click()
    expect(page.get_by_role("status")).to_contain_text("Rate card version 1")
    shot(page, "creator-rate-card")
    with live_db() as session:
        creator = session.scalar(select(Creator).join(User).where(User.email == EMAIL))
        assert creator.listed and creator.accepting_orders and creator.price_short_video == 3_000_00

    # A brand owner finds the creator by a Chinese keyword, then by filters.
    context = browser.new_context(**browser_context_args)
    brand = context.new_page()
    brand.on("pageerror", lambda exc: errors.append(str(exc)))
    log_in(brand, demo, "owner@lumen.demo", password="canal-demo-2026")
    main_nav(brand).get_by_role("link", name="Find creators").click()
    brand.get_by_label("Keywords").fill("成分党")
    brand.get_by_label("Keywords").press("Enter")
    expect(brand).to_have_url(re.compile(r"q=%E6%88%90%E5%88%86%E5%85%9A"))
    card = brand.locator("#results article.creator-card").filter(has_text=NAME)
    expect(card).to_be_visible()
    shot(brand, "found-by-keyword")
    brand.get_by_label("Keywords").fill("")
    brand.get_by_label("Category").select_option("beauty")
    brand.get_by_label("Region").select_option("33")
    brand.get_by_label("Accepting orders only").check()
    expect(brand).to_have_url(re.compile(r"region=33"))
    expect(brand).to_have_url(re.compile(r"category=beauty"))
    brand.wait_for_load_state("networkidle")
    expect(card).to_be_visible()
    shot(brand, "found-by-filters")

    # Shortlists the creator and one more from the same results, then compares them.
    card.get_by_role("button", name="Shortlist").click()
    expect(card.get_by_role("status")).to_contain_text("Added to “Shortlist”")
    other = brand.locator("#results article.creator-card").filter(has_not_text=NAME).first
    other_name = other.locator("h3").inner_text()
    other.get_by_role("button", name="Shortlist").click()
    expect(other.get_by_role("status")).to_contain_text("Added to “Shortlist”")
    main_nav(brand).get_by_role("link", name="Shortlists").click()
    brand.get_by_role("link", name="Shortlist", exact=True).click()
    brand.get_by_role("button", name="Compare selected").click()
    table = brand.locator("table.compare-table")
    expect(table).to_contain_text(NAME)
    expect(table).to_contain_text(other_name)
    shot(brand, "compared")
    context.close()
    assert errors == []
