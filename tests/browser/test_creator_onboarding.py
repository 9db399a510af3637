"""A creator's onboarding in real Chromium: link the sandbox platform account, fill the profile (checkbox
groups, avatar upload) and the rate card, send a real-name request; a reviewer approves it in the staff
console; a brand member opens the creator's profile page and sees the verified badge, the rate card and the
charts drawn from the imported statistics.

The journey uses the real UI only; ``live_db`` creates the accounts and checks the result.
"""

from __future__ import annotations

import io

from PIL import Image
from playwright.sync_api import Page, expect
from sqlalchemy import select

from marketplace.accounts.services import create_user
from marketplace.creators.models import Creator, IdentityVerification
from marketplace.enterprises import services as enterprise_services
from marketplace.enterprises.models import Membership
from marketplace.staff.services import create_staff
from tests.browser.test_journeys import PASSWORD, log_in, main_nav, open_nav_menu
from tests.conftest import valid_uscc

VALID_RIC = "11010519491231002X"



def _picture(path, size=(640, 400), color=(230, 120, 150)) -> str:
    image = Image.new("RGB", size, color)
    image.paste((250, 250, 250), (size[0] // 2 - 80, size[1] // 2 - 80, size[0] // 2 + 80, size[1] // 2 + 80))
    out = io.BytesIO()
    image.save(out, format="JPEG")
    path.write_bytes(out.getvalue())
    return str(path)


def test_creator_onboards_is_verified_and_brands_see_the_profile(page: Page, browser, browser_context_args, live,
                                                                 live_db, shot, tmp_path):
    with live_db() as s:
        mia = create_user(s, email="mia@example.com", password=PASSWORD, display_name="Mia 米娅",
                          signup_kind="creator", verified=True)
        create_staff(s, email="reviewer@example.com", password=PASSWORD, role="reviewer")
        brand = create_user(s, email="brand@example.com", password=PASSWORD, display_name="Brand Buyer",
                            verified=True)
        enterprise = enterprise_services.create_enterprise(s, brand, enterprise_services.EnterpriseDetails(
            legal_name="上海测试品牌有限公司", display_name="Test Brand", uscc=valid_uscc(4242),
            contact_name="Buyer", contact_phone="+86 21 5555 0000", contact_email="brand@example.com",
            invoice_title="", tax_number=""))
        assert s.scalar(select(Membership.id).where(Membership.enterprise_id == enterprise.id))
        mia_id = mia.id

    errors: list[str] = []  # (the refused forms below answer 400, which the browser also logs)
    page.on("console", lambda msg: errors.append(msg.text)
            if msg.type == "error" and "status of 400" not in msg.text else None)
    log_in(page, live, "mia@example.com")
    expect(page.get_by_role("heading", name="Hello, Mia 米娅")).to_be_visible()
    shot(page, "dashboard-new")

    # 1. Link the sandbox account.
    open_nav_menu(page, "My profile")
    main_nav(page).get_by_role("link", name="Platform account").click()
    page.get_by_label("Account handle or profile URL").fill("@mia_beauty")
    page.get_by_role("button", name="Link account and import statistics").click()
    expect(page.get_by_role("heading", name="Linked to @mia_beauty")).to_be_visible()
    shot(page, "platform-linked")

    # 2. The profile: handle, checkbox groups, avatar.
    open_nav_menu(page, "My profile")
    main_nav(page).get_by_role("link", name="Profile").click()
    page.get_by_label("Handle").fill("mia_beauty")
    page.get_by_label("Bio").fill("美妆测评，每周三更新。")
    categories = page.get_by_role("group", name="Categories")
    categories.get_by_label("Beauty").check()
    categories.get_by_label("Fashion").check()
    page.get_by_role("group", name="Regions").get_by_label("Shanghai").check()
    page.get_by_role("group", name="Languages").get_by_label("Mandarin").check()
    page.get_by_label("Accepting orders").check()
    page.get_by_label("Profile picture").set_input_files(_picture(tmp_path / "me.jpg"))
    page.get_by_role("button", name="Save profile").click()
    expect(page.get_by_role("status")).to_contain_text("Your profile is saved.")
    expect(page.get_by_alt_text("Your current profile picture")).to_be_visible()
    shot(page, "profile-saved")

    # 3. The rate card, twice: two versions in the history.
    open_nav_menu(page, "My profile")
    main_nav(page).get_by_role("link", name="Rate card").click()
    page.get_by_label("Short video").fill("5000")
    page.get_by_label("Image-text post").fill("800")
    page.get_by_label("Notes for brands").fill("含 30 天使用权；加急另议。")
    page.get_by_role("button", name="Save as a new version").click()
    expect(page.get_by_role("status")).to_contain_text("Rate card version 1")
    page.get_by_label("Short video").fill("-5")
    page.get_by_role("button", name="Save as a new version").click()
    expect(page.locator("#price_short_video-error")).to_be_visible()
    page.get_by_label("Short video").fill("6,000")
    page.get_by_role("button", name="Save as a new version").click()
    expect(page.get_by_role("status")).to_contain_text("Rate card version 2")
    shot(page, "rate-card-history")

    # 4. Real-name verification.
    open_nav_menu(page, "My profile")
    main_nav(page).get_by_role("link", name="ID verification").click()
    page.get_by_label("Name on the document").fill("张三")
    page.get_by_label("Document", exact=True).select_option("resident_id")
    page.get_by_label("Document number").fill(VALID_RIC[:-1] + "1")  # a typo in the check digit
    page.get_by_label("Photo of the document").set_input_files(_picture(tmp_path / "id.jpg", (800, 500)))
    page.get_by_role("button", name="Send for review").click()
    expect(page.locator("#id_number-error")).to_contain_text("check digit")
    page.get_by_label("Document number").fill(VALID_RIC)
    page.get_by_label("Photo of the document").set_input_files(_picture(tmp_path / "id.jpg", (800, 500)))
    page.get_by_role("button", name="Send for review").click()
    expect(page.get_by_role("heading", name="Waiting for review")).to_be_visible()
    shot(page, "verification-pending")
    main_nav(page).get_by_role("link", name="Dashboard").click()
    shot(page, "dashboard-ready")

    # 5. A reviewer approves it.
    reviewer_context = browser.new_context(**browser_context_args)
    reviewer = reviewer_context.new_page()
    log_in(reviewer, live, "reviewer@example.com")
    main_nav(reviewer).get_by_role("link", name="Creator identity").click()
    reviewer.get_by_role("link", name="张三").click()
    expect(reviewer.get_by_alt_text("ID document of 张三")).to_be_visible()
    assert VALID_RIC not in reviewer.content()
    shot(reviewer, "staff-identity-review")
    reviewer.get_by_role("button", name="Approve — the document matches").click()
    expect(reviewer.get_by_role("status")).to_contain_text("张三 is verified.")
    reviewer_context.close()

    # 6. A brand member sees the profile with the badge, the rate card and the charts.
    with live_db() as s:
        creator = s.scalar(select(Creator).where(Creator.user_id == mia_id))
        assert creator.listed and creator.identity_verified_at is not None and creator.price_short_video == 6_000_00
        request = s.scalar(select(IdentityVerification).where(IdentityVerification.creator_id == creator.id))
        assert request.id_number_masked == "1*************002X"
        creator_id = creator.id
    brand_context = browser.new_context(**browser_context_args)
    brand_page = brand_context.new_page()
    log_in(brand_page, live, "brand@example.com")
    brand_page.goto(f"{live}/creators/{creator_id}")
    expect(brand_page.get_by_role("heading", name="Mia 米娅")).to_contain_text("Identity verified")
    expect(brand_page.get_by_role("img", name="Followers over the last 90 days")).to_be_visible()
    expect(brand_page.get_by_role("img", name="Audience by gender")).to_be_visible()
    expect(brand_page.get_by_role("img", name="Plays and engagement of recent works")).to_be_visible()
    assert brand_page.locator("#chart-trend circle.chart-point").count() == 90
    expect(brand_page.get_by_text("¥6,000.00")).to_be_visible()
    brand_page.locator("#chart-works summary").click()
    expect(brand_page.locator("#chart-works table")).to_be_visible()
    shot(brand_page, "brand-sees-profile")
    brand_context.close()
    assert errors == []
