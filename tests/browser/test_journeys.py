"""End-to-end journeys in real Chromium: a brand from sign-up to a verified enterprise, an invited viewer who
sees only what the role allows, and switching the interface to Chinese.

The journeys use the real UI only; ``live_db`` sets up what a journey does not cover and checks the result.
"""

from __future__ import annotations

import re

import pytest
from flask_babel import force_locale, gettext
from playwright.sync_api import Page, expect
from sqlalchemy import select

from marketplace.accounts.services import create_user
from marketplace.audit.models import AuditEntry
from marketplace.enterprises import services as enterprise_services
from marketplace.enterprises.models import Enterprise
from marketplace.files.services import store_bytes
from marketplace.seed import licence_png
from marketplace.staff.services import create_staff

PASSWORD = "tangerine orbit lantern 77"



def open_nav_menu(page, group: str) -> None:
    """Open a group of the main navigation (a details menu) unless it is open already."""
    menu = page.get_by_role("navigation", name="Main").locator("details", has=page.locator("summary", has_text=group))
    if menu.get_attribute("open") is None:
        menu.locator("summary").click()

def uscc_for(body17: str) -> str:
    """A USCC with a valid check digit for an 17-character body."""
    from stdnum.cn import uscc

    assert len(body17) == 17
    return body17 + uscc.calc_check_digit(body17)


def log_in(page: Page, live: str, email: str, password: str = PASSWORD, labels=None) -> None:
    """Log in through the login form; ``labels`` translates the form's labels (default: English)."""
    t = labels or (lambda s: s)
    page.goto(live + "/login")
    page.get_by_label(t("Email")).fill(email)
    page.get_by_label(t("Password"), exact=True).fill(password)
    page.get_by_role("button", name=t("Log in"), exact=True).click()


def main_nav(page: Page):
    return page.get_by_role("navigation", name="Main")


@pytest.fixture
def second_page(browser, browser_context_args):
    """A page in a separate browser context (its own cookies), closed after the test."""
    context = browser.new_context(**browser_context_args)
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture
def zh(live_app):
    """The app's own Simplified Chinese translation of a message (the English text when untranslated)."""

    def translate(message: str) -> str:
        with live_app.test_request_context(), force_locale("zh_CN"):
            return gettext(message)

    return translate


# --- 1. brand sign-up to verified enterprise --------------------------------------------------------------


def test_brand_signup_verify_create_enterprise_and_get_verified(page, second_page, live, live_db, outbox_link,
                                                                 shot, tmp_path):
    email = "li.wei@example.com"
    legal_name = "上海橘子轨道科技有限公司"
    display_name = "Tangerine Orbit"
    uscc = uscc_for("91310115MA1K4XY0" + "1")
    licence_file = tmp_path / "licence.png"
    licence_file.write_bytes(licence_png(legal_name, uscc))
    console_errors: list[str] = []
    for p in (page, second_page):
        p.on("console", lambda msg: console_errors.append(msg.text) if msg.type == "error" else None)

    # Sign up as a brand.
    page.goto(live + "/signup")
    page.get_by_role("radio", name="A brand").check()
    page.get_by_label("Your name").fill("Li Wei")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    shot(page, "signup-form")
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("status").filter(has_text="Welcome to Canal!")).to_be_visible()
    expect(page.get_by_text(f"Confirm your email address: we sent a link to {email}.")).to_be_visible()
    expect(page.get_by_role("heading", name="Welcome, Li Wei")).to_be_visible()
    shot(page, "signed-up-unconfirmed")

    # Confirm the email address with the emailed link.
    page.goto(outbox_link(email, "/verify-email/"))
    expect(page.get_by_role("status").filter(has_text=f"Thanks, {email} is confirmed.")).to_be_visible()
    expect(page.get_by_text("Confirm your email address: we sent a link")).to_have_count(0)
    shot(page, "email-confirmed")

    # Create the enterprise with its licence.
    page.get_by_role("main").get_by_role("link", name="Create an enterprise").click()
    expect(page.get_by_role("heading", name="Create an enterprise", level=1)).to_be_visible()
    page.get_by_label("Legal name").fill(legal_name)
    page.get_by_label("Unified social credit code (USCC)").fill(uscc)
    page.get_by_label("Business licence").set_input_files(licence_file)
    page.get_by_label("Brand name shown to creators").fill(display_name)
    expect(page.get_by_label("Contact person")).to_have_value("Li Wei")
    page.get_by_label("Contact phone").fill("+86 21 6555 0101")
    expect(page.get_by_label("Contact email")).to_have_value(email)
    expect(page.get_by_text("licence.png ·")).to_be_visible()  # canal.js shows the chosen file
    shot(page, "enterprise-form")
    page.get_by_role("button", name="Create enterprise").click()
    expect(page.get_by_role("status").filter(has_text=f"{display_name} was created.")).to_be_visible()
    expect(page.get_by_role("heading", name="Not verified yet")).to_be_visible()
    expect(page.get_by_role("link", name="licence.png")).to_be_visible()
    shot(page, "enterprise-created")

    page.get_by_role("button", name="Submit for verification").click()
    expect(page.get_by_role("status").filter(has_text="Submitted.")).to_be_visible()
    expect(page.get_by_role("heading", name="Verification in review")).to_be_visible()
    expect(page.get_by_role("heading", level=1).get_by_text("pending review", exact=True)).to_be_visible()
    shot(page, "submitted")
    enterprise_url = page.url

    # A reviewer, in a browser of their own, checks the licence and approves.
    with live_db() as session:
        create_staff(session, email="rev@example.com", password=PASSWORD, role="reviewer", display_name="Rita")
    reviewer = second_page
    log_in(reviewer, live, "rev@example.com")
    expect(reviewer.get_by_role("heading", name="Staff console")).to_be_visible()
    main_nav(reviewer).get_by_role("link", name="Verification").click()
    expect(reviewer.get_by_role("heading", name="Enterprise verification")).to_be_visible()
    row = reviewer.get_by_role("row").filter(has_text=legal_name)
    expect(row).to_contain_text(uscc)
    shot(reviewer, "reviewer-queue")
    row.get_by_role("link", name=legal_name).click()
    expect(reviewer.get_by_role("heading", name=legal_name, level=1)).to_be_visible()
    licence_image = reviewer.locator(".licence-viewer").get_by_role("img", name=f"Business licence of {legal_name}")
    expect(licence_image).to_be_visible()
    expect(licence_image).to_have_js_property("naturalWidth", 900)  # the PNG really loaded
    shot(reviewer, "reviewer-licence")
    reviewer.get_by_role("button", name="Approve — details match the licence").click()
    expect(reviewer.get_by_role("status").filter(has_text=f"{legal_name} is verified.")).to_be_visible()
    expect(reviewer.get_by_role("row").filter(has_text=legal_name)).to_have_count(0)  # left the queue
    shot(reviewer, "reviewer-approved")

    # The brand sees the verified enterprise.
    page.goto(enterprise_url)
    expect(page.get_by_role("heading", name="Verified enterprise")).to_be_visible()
    expect(page.get_by_role("heading", level=1).get_by_text("verified", exact=True)).to_be_visible()
    shot(page, "brand-verified")

    assert console_errors == []  # e.g. no script or image blocked by the CSP

    with live_db() as session:
        enterprise = session.scalar(select(Enterprise).where(Enterprise.uscc == uscc))
        assert enterprise is not None and enterprise.verification_state == "verified"
        approvals = session.scalars(select(AuditEntry).where(AuditEntry.action == "enterprise.approve")).all()
        assert [(a.object_type, a.object_id, a.actor.email) for a in approvals] == [
            ("enterprise", enterprise.id, "rev@example.com")]


# --- 2. invited viewer -----------------------------------------------------------------------------------


def _verified_enterprise(live_db, owner_email: str) -> int:
    with live_db() as session:
        owner = create_user(session, email=owner_email, password=PASSWORD, display_name="Olivia Owner",
                            verified=True)
        uscc = uscc_for("91310115MA1K4XY02")
        details = enterprise_services.EnterpriseDetails(
            legal_name="杭州湖畔茶饮有限公司", display_name="Lakeside Tea", uscc=uscc,
            contact_name="Olivia Owner", contact_phone="+86 571 5555 0000", contact_email=owner_email,
            invoice_title="", tax_number="",
        )
        enterprise = enterprise_services.create_enterprise(session, owner, details)
        stored = store_bytes(session, licence_png("Lakeside Tea", uscc), "image/png", "licence.png", owner.id)
        enterprise.licence_file_id = stored.id
        enterprise_services.submit_for_verification(session, owner, enterprise)
        reviewer = create_user(session, email="rev@example.com", password=PASSWORD, display_name="Rita",
                               staff_role="reviewer", verified=True)
        enterprise_services.approve_enterprise(session, reviewer, enterprise)
        session.flush()
        return enterprise.id


def test_invited_member_accepts_and_sees_only_what_the_role_allows(page, second_page, live, live_db, outbox_link,
                                                                     shot):
    enterprise_id = _verified_enterprise(live_db, "olivia@example.com")
    invitee = "victor.viewer@example.com"

    # The owner invites a viewer.
    log_in(page, live, "olivia@example.com")
    expect(page.get_by_role("heading", name="Lakeside Tea", level=1)).to_be_visible()
    open_nav_menu(page, "Company")
    main_nav(page).get_by_role("link", name="Members").click()
    expect(page.get_by_role("heading", name="Invite a member")).to_be_visible()
    page.get_by_label("Email").fill(invitee)
    page.get_by_label("Role", exact=True).select_option(label="Viewer")
    shot(page, "owner-invites")
    page.get_by_role("button", name="Send invitation").click()
    expect(page.get_by_role("status").filter(has_text=f"Invitation sent to {invitee}.")).to_be_visible()
    pending = page.get_by_role("row").filter(has_text=invitee)
    expect(pending).to_contain_text("Viewer")
    expect(pending.get_by_role("button", name="Withdraw")).to_be_visible()
    shot(page, "invitation-pending")

    # The invitee opens the link in their own browser, signs up and accepts.
    viewer = second_page
    viewer.goto(outbox_link(invitee, "/invitations/"))
    expect(viewer.get_by_role("heading", name="Join Lakeside Tea on Canal")).to_be_visible()
    expect(viewer.get_by_text("Read only.")).to_be_visible()
    shot(viewer, "invitation-anonymous")
    viewer.get_by_role("link", name="Create an account").click()
    expect(viewer.get_by_role("heading", name="Create your Canal account")).to_be_visible()
    expect(viewer.get_by_label("Email")).to_have_value(invitee)
    viewer.get_by_label("Your name").fill("Victor Viewer")
    viewer.get_by_label("Password").fill("quiet harbour violin 58")
    shot(viewer, "invitee-signup")
    viewer.get_by_role("button", name="Create account").click()
    expect(viewer.get_by_role("heading", name="Join Lakeside Tea on Canal")).to_be_visible()
    expect(viewer).to_have_url(re.compile(r"/invitations/"))
    shot(viewer, "invitation-logged-in")
    viewer.get_by_role("button", name="Accept the invitation").click()

    # The viewer sees the enterprise, but nothing to edit or manage.
    expect(viewer).to_have_url(f"{live}/enterprises/{enterprise_id}")
    expect(viewer.get_by_role("status").filter(has_text="Welcome to Lakeside Tea.")).to_be_visible()
    expect(viewer.get_by_role("heading", name="Lakeside Tea", level=1)).to_be_visible()
    expect(viewer.get_by_role("main").get_by_text("Viewer", exact=True)).to_be_visible()  # "Your role"
    open_nav_menu(viewer, "Company")
    expect(main_nav(viewer).get_by_role("link", name="Members")).to_be_visible()
    expect(main_nav(viewer).get_by_role("link", name="Company details")).to_have_count(0)
    expect(viewer.get_by_role("main").get_by_text("Edit details")).to_have_count(0)
    expect(viewer.get_by_text("Confirm your email address")).to_have_count(0)  # the link proved the mailbox
    shot(viewer, "viewer-overview")

    open_nav_menu(viewer, "Company")
    main_nav(viewer).get_by_role("link", name="Members").click()
    expect(viewer.get_by_role("heading", name="Members", level=1)).to_be_visible()
    expect(viewer.get_by_role("row").filter(has_text="olivia@example.com")).to_contain_text("Owner")
    expect(viewer.get_by_role("row").filter(has_text=invitee)).to_contain_text("Viewer")
    expect(viewer.get_by_role("heading", name="Invite a member")).to_have_count(0)
    expect(viewer.get_by_role("button", name="Send invitation")).to_have_count(0)
    expect(viewer.get_by_role("main").get_by_role("combobox")).to_have_count(0)  # no role selects
    expect(viewer.get_by_role("button", name="Remove")).to_have_count(0)
    shot(viewer, "viewer-members")

    response = viewer.goto(f"{live}/enterprises/{enterprise_id}/edit")
    assert response is not None and response.status == 403
    expect(viewer.get_by_role("heading", name="Not allowed")).to_be_visible()
    shot(viewer, "viewer-edit-forbidden")

    # The owner's members page now lists the viewer and no pending invitation.
    page.reload()
    expect(page.get_by_label("Role of Victor Viewer")).to_have_value("viewer")
    expect(page.get_by_role("heading", name="No pending invitations")).to_be_visible()
    shot(page, "owner-sees-new-member")


# --- 3. Chinese ------------------------------------------------------------------------------------------


def test_switch_language_to_chinese(page, live, live_db, shot, zh):
    assert zh("Log in") == "登录" and zh("Settings") == "设置", (
        "the zh_CN catalog lacks 'Log in'/'Settings'; run: .venv/bin/pybabel compile --use-fuzzy "
        "-d marketplace/translations -l zh_CN")
    with live_db() as session:
        create_user(session, email="mei@example.com", password=PASSWORD, display_name="Mei", verified=True)

    # Anonymous: the language select in the top bar.
    page.goto(live + "/")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    shot(page, "home-english")
    page.get_by_role("banner").get_by_label("Language").select_option(label="简体中文")
    expect(page.locator('html[lang="zh-CN"]')).to_be_attached()
    login_link = page.get_by_role("banner").get_by_role("link", name="登录", exact=True)
    expect(login_link).to_be_visible()
    expect(page.get_by_role("banner").get_by_label(zh("Language"))).to_have_value("zh_CN")
    shot(page, "home-chinese")

    # Log in (the account's own language, English, applies), then choose Chinese in the settings.
    login_link.click()
    page.get_by_label(zh("Email")).fill("mei@example.com")
    page.get_by_label(zh("Password"), exact=True).fill(PASSWORD)
    shot(page, "login-chinese")
    page.get_by_role("button", name="登录", exact=True).click()
    expect(page.get_by_role("heading", name="Welcome, Mei")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.get_by_label("Account").click()
    page.get_by_role("menuitem", name="Settings").click()
    expect(page.get_by_role("heading", name="Settings", level=1)).to_be_visible()
    page.get_by_role("main").get_by_label("Language").select_option(label="简体中文")
    shot(page, "settings-english")
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_role("heading", name="设置", level=1)).to_be_visible()
    expect(page.locator('html[lang="zh-CN"]')).to_be_attached()
    expect(page.get_by_role("main").get_by_label(zh("Language"))).to_have_value("zh_CN")
    shot(page, "settings-chinese")

    with live_db() as session:
        from marketplace.accounts.services import user_by_email

        assert user_by_email(session, "mei@example.com").locale == "zh_CN"
