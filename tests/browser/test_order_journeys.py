"""Issue 5's browser journeys, end to end in real Chromium, each actor in a browser context of their own:

(a) a brand owner posts a job and submits it → a reviewer approves it → a creator finds it on the job board and
    applies → the brand accepts (the order is funded) → draft (a PNG upload) → revision → resubmitted draft →
    approved → published (a work picked from the creator's recent works) → confirmed → the creator sees the net
    amount paid to their pending earnings (price − commission − retention);
(b) a direct offer from the creator's profile, declined with a reason in the offers inbox, refunded to the cent;
(c) a dispute opened by the creator, split 60/40 by a reviewer, both sides seeing the amounts.

``live_db`` builds the world (users, a verified enterprise with a funded wallet, a listed creator with a linked
sandbox account, a reviewer) and, for (c), the order up to the dispute; every step of the journeys themselves is a
click or a keystroke in the browser. The ledger is checked at the end through the live database.
"""

from __future__ import annotations

import io
import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from PIL import Image, ImageDraw
from playwright.sync_api import Page, expect
from sqlalchemy import select

from marketplace.accounts.models import User
from marketplace.accounts.services import create_user
from marketplace.db import utcnow
from marketplace.enterprises import services as enterprise_services
from marketplace.files.services import store_bytes
from marketplace.ledger import flows
from marketplace.orders.models import Application, Dispute, Order
from marketplace.seed import licence_png
from tests.browser.test_journeys import main_nav
from tests.ledger_helpers import assert_balances, assert_ledger_sound

PASSWORD = "orbit harbour lantern 6204"
TOP_UP = 5_000_00  # the brand's wallet before each journey
BRAND = "Lumen Cosmetics"
CREATOR = "Mia 米娅"
OWNER_EMAIL = "chen@lumen-journeys.example.com"
CREATOR_EMAIL = "mia@creators-journeys.example.com"
REVIEWER_EMAIL = "rita@canal-journeys.example.com"


def _user(session, email: str, name: str, kind: str = "brand", staff_role: str | None = None) -> User:
    return create_user(session, email=email, password=PASSWORD, display_name=name, signup_kind=kind, locale="en",
                       staff_role=staff_role, verified=True)


def _uscc(body17: str) -> str:
    from stdnum.cn import uscc

    return body17 + uscc.calc_check_digit(body17)


@pytest.fixture
def world(live, live_db):
    """Lumen (verified, ¥5,000.00 in its wallet from a bank top-up; owner Chen), the listed creator Mia (sandbox
    account linked, short video ¥1,000 on the rate card, beauty, Shanghai), the reviewer Rita."""
    from marketplace.creators import services as creator_services
    from marketplace.creators import stats

    with live_db() as session:
        reviewer = _user(session, REVIEWER_EMAIL, "Rita Reviewer", staff_role="reviewer")
        owner = _user(session, OWNER_EMAIL, "Chen Jing")
        uscc = _uscc("91310115MA1K4JRN0")
        details = enterprise_services.EnterpriseDetails(
            legal_name="上海流明化妆品有限公司", display_name=BRAND, uscc=uscc, contact_name="Chen Jing",
            contact_phone="+86 21 5555 0101", contact_email=OWNER_EMAIL, invoice_title="", tax_number="")
        lumen = enterprise_services.create_enterprise(session, owner, details)
        lumen.licence_file_id = store_bytes(session, licence_png(BRAND, uscc), "image/png", "licence.png",
                                            owner.id).id
        enterprise_services.submit_for_verification(session, owner, lumen)
        enterprise_services.approve_enterprise(session, reviewer, lumen)
        flows.top_up(session, enterprise_id=lumen.id, amount=TOP_UP, rail="bank", key="journeys-top-up")

        mia = creator_services.become_creator(session, _user(session, CREATOR_EMAIL, CREATOR, kind="creator"))
        stats.link_platform_account(session, mia, "@mia_serum_diary")
        creator_services.update_profile(session, mia, handle="mia_serum_diary", display_name=CREATOR,
                                        kind="individual", bio="敏感肌护肤测评 · honest skincare reviews",
                                        categories=["beauty"], regions=["31"], languages=["zh"],
                                        accepting_orders=True)
        creator_services.save_rate_card(session, mia, {"short_video": 1_000_00, "image_text": 400_00}, 2, 7, "")
        session.flush()
        assert mia.listed
        return {"lumen": lumen.id, "mia": mia.id, "owner": owner.id, "reviewer": reviewer.id}


# Says which element and attribute broke the Content Security Policy, so a failure names its cause.
CSP_WITNESS = """
document.addEventListener("securitypolicyviolation", (e) => {
  const t = e.target && e.target.outerHTML ? e.target.outerHTML.slice(0, 300) : String(e.target);
  console.error("CSP witness: " + e.violatedDirective + " sample=" + e.sample + " source=" + e.sourceFile +
                ":" + e.lineNumber + " element=" + t);
});
"""


class Actors:
    """One browser context (own cookies) per person; every page watched for script errors and CSP reports."""

    def __init__(self, browser, context_args):
        self.browser, self.context_args = browser, context_args
        self.contexts, self.errors = [], []

    def page(self) -> Page:
        context = self.browser.new_context(**self.context_args)
        self.contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        page.on("console", lambda msg: self.errors.append(f"{page.url} {msg.location}: {msg.text}")
                if msg.type == "error" else None)
        page.add_init_script(CSP_WITNESS)
        return page

    def close(self) -> None:
        for context in self.contexts:
            context.close()


@pytest.fixture
def snap(shot):
    """``shot`` from the top of the page (the top bar is sticky: a page scrolled to an anchor would show it
    across the middle of a full-page screenshot)."""

    def take(page: Page, step: str):
        page.evaluate("window.scrollTo(0, 0)")
        return shot(page, step)

    return take


@pytest.fixture
def actors(browser, browser_context_args):
    people = Actors(browser, browser_context_args)
    yield people
    people.close()


def log_in(page: Page, live: str, email: str) -> None:
    page.goto(live + "/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Log in", exact=True).click()
    expect(page.locator("details.user-menu")).to_be_visible()


def flash(page: Page):
    return page.locator(".flashes")


def money_row(page: Page, label: str):
    """The amount beside ``label`` in the order page's money breakdown."""
    return page.locator("dl.breakdown dt", has_text=re.compile("^" + re.escape(label) + "$")).locator(
        "xpath=following-sibling::dd[1]")


def _open_order(page: Page, title: str, column: str) -> None:
    """From an order list page: the ``column`` tab (Active, Completed, Ended …), then the order's title."""
    tabs = page.locator("nav.order-tabs")
    tab = tabs.get_by_role("link", name=re.compile("^" + re.escape(column) + r"\b"))
    if tab.get_attribute("aria-current") != "page":
        tab.click()
        expect(tabs.locator("[aria-current=page]")).to_contain_text(column)
    page.locator("table.order-table a.order-title", has_text=title).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(title)


def open_my_order(page: Page, title: str, column: str = "Active") -> None:
    """The creator opens an order: Orders in the main navigation, the column, the order."""
    main_nav(page).get_by_role("link", name="Orders", exact=True).click()
    expect(page.get_by_role("heading", name="My orders")).to_be_visible()
    _open_order(page, title, column)


def open_brand_order(page: Page, title: str, column: str = "Active") -> None:
    """The brand opens an order: Orders in the main navigation (the order board), the column, the order."""
    main_nav(page).get_by_role("link", name="Orders", exact=True).click()
    _open_order(page, title, column)


def wallet_available(page: Page):
    main_nav(page).get_by_role("link", name="Wallet").click()
    return page.get_by_test_id("available")


def draft_png(tmp_path, label: str):
    """A small draft still (a PNG a creator would export from the edit)."""
    image = Image.new("RGB", (480, 270), (246, 232, 226))
    draw = ImageDraw.Draw(image)
    draw.rectangle([190, 50, 290, 220], fill=(255, 255, 255), outline=(40, 50, 70), width=4)
    draw.text((16, 16), label, fill=(30, 30, 40))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    path = tmp_path / "draft-1-cover.png"
    path.write_bytes(buffer.getvalue())
    return path


# --- (a) job → application → hired → drafts → published → confirmed -----------------------------------------


def test_job_to_confirmed_order_pays_the_creator(actors, live, live_db, world, snap, tmp_path):
    title = "Serum first-week review 精华一周测评"
    brand, reviewer, creator = actors.page(), actors.page(), actors.page()

    # The brand owner posts a job (Jobs → Post a job), every required field filled, and submits it for review.
    log_in(brand, live, OWNER_EMAIL)
    main_nav(brand).get_by_role("link", name="Jobs", exact=True).click()
    expect(brand.get_by_role("heading", name="Jobs", exact=True)).to_be_visible()
    brand.get_by_role("link", name="Post a job").first.click()
    expect(brand.get_by_role("heading", name="Post a job")).to_be_visible()
    brand.get_by_label("Title").fill(title)
    brand.get_by_label("Content type").select_option("short_video")
    brand.get_by_label("Brief").fill("拍一条 60 秒的真实测评：第一周使用感受、质地、吸收速度。Show the bottle in the first "
                                     "3 seconds; no before/after claims.")
    brand.get_by_label("Deliverables").fill("One vertical video (9:16), 45–60 s, with #LumenSerum.")
    brand.get_by_role("group", name="Categories").get_by_label("Beauty").check()
    brand.get_by_label("Budget per creator (CNY)").fill("1,000")
    brand.get_by_label("Creators wanted").fill("2")
    local_now = utcnow().astimezone(ZoneInfo("Asia/Shanghai"))
    brand.get_by_label("Applications close").fill((local_now + timedelta(days=8)).strftime("%Y-%m-%dT18:00"))
    brand.get_by_label("Publish from").fill((local_now + timedelta(days=1)).strftime("%Y-%m-%d"))
    brand.get_by_label("Publish by").fill((local_now + timedelta(days=30)).strftime("%Y-%m-%d"))
    brand.get_by_label("Revision rounds").fill("2")
    brand.get_by_label("Must stay live (days)").fill("30")
    brand.get_by_label("Usage rights (days)").fill("90")
    snap(brand, "brand-job-form")
    brand.get_by_role("button", name="Save draft").click()
    expect(flash(brand)).to_contain_text("Draft saved")
    brand.get_by_role("button", name="Submit for review").click()
    expect(brand.get_by_role("heading", name="Waiting for a reviewer")).to_be_visible()
    snap(brand, "brand-job-submitted")

    # The reviewer approves it from the job queue.
    log_in(reviewer, live, REVIEWER_EMAIL)
    main_nav(reviewer).get_by_role("link", name="Review queues").click()
    expect(reviewer.get_by_role("heading", name="Jobs to review")).to_be_visible()
    item = reviewer.locator("article.review-item").filter(has_text=title)
    expect(item).to_contain_text("¥1,000.00 × 2")
    snap(reviewer, "reviewer-job-queue")
    item.get_by_role("button", name="Approve and open").click()
    expect(reviewer.locator(".alert-success")).to_contain_text("is approved and open to creators")
    expect(reviewer.locator("article.review-item").filter(has_text=title)).to_have_count(0)

    # The creator finds it on the job board and applies with a quote and a pitch.
    log_in(creator, live, CREATOR_EMAIL)
    main_nav(creator).get_by_role("link", name="Job board").click()
    card = creator.locator("article.job-card").filter(has_text=title)
    expect(card).to_contain_text("You qualify")
    expect(card).to_contain_text("¥1,000.00")
    snap(creator, "creator-job-board")
    card.get_by_role("link", name=title).click()
    expect(creator.locator(".qualify")).to_contain_text("You qualify")
    creator.get_by_label("Your price (CNY)").fill("1,000")
    creator.get_by_label("Pitch").fill("I test every serum for 7 days on sensitive skin; 78% of my audience are "
                                       "women aged 24–30. I can film this week.")
    snap(creator, "creator-apply-form")
    creator.get_by_role("button", name="Send application").click()
    expect(flash(creator)).to_contain_text("Your application is sent")
    snap(creator, "creator-applied")

    # The brand opens the job's applicants and accepts Mia: the quote plus the 5 % fee leaves the wallet.
    main_nav(brand).get_by_role("link", name="Jobs", exact=True).click()
    brand.get_by_role("link", name=title).click()
    applicant = brand.locator("tbody.applicant").filter(has_text=CREATOR)
    expect(applicant).to_contain_text("¥1,000.00")
    expect(applicant).to_contain_text("at budget")
    snap(brand, "brand-applicants")
    dialogs: list[str] = []

    def accept_dialog(dialog):
        dialogs.append(dialog.message)
        dialog.accept()

    brand.once("dialog", accept_dialog)
    applicant.get_by_role("button", name="Accept · ¥1,050.00").click()
    expect(flash(brand)).to_contain_text(f"{CREATOR} is hired: the order is funded")
    assert dialogs and "¥1,050.00" in dialogs[0], dialogs
    expect(brand.get_by_role("heading", level=1)).to_contain_text(title)  # the new order's page
    expect(brand.locator(".order-heading .badge")).to_have_text("In progress")
    expect(money_row(brand, "Total escrowed")).to_have_text("¥1,050.00")
    expect(money_row(brand, "Held in escrow now")).to_have_text("¥1,050.00")
    snap(brand, "brand-hired-order")
    expect(wallet_available(brand)).to_have_text("¥3,950.00")
    expect(brand.get_by_role("row").filter(has_text="Order funded (escrow)")).to_contain_text("-¥1,050.00")
    snap(brand, "brand-wallet-after-hiring")
    with live_db() as session:
        order = session.scalar(select(Order).where(Order.creator_id == world["mia"]))
        order_id = order.id
        assert (order.state, order.price, order.origin) == ("in_progress", 1_000_00, "job")
        assert session.scalar(select(Application.state).where(Application.order_id == order_id)) == "accepted"

    # The creator opens the order and submits a draft: a PNG through the file input and a note.
    open_my_order(creator, title)
    expect(creator.locator(".next-step")).to_contain_text("Make the content and submit your draft")
    creator.get_by_label("Files", exact=True).set_input_files(draft_png(tmp_path, "Draft 1 - opening shot"))
    creator.get_by_label("Note to the brand").fill("First cut: opening and texture shots.")
    snap(creator, "creator-draft-form")
    creator.get_by_role("button", name="Submit the draft").click()
    expect(flash(creator)).to_contain_text("Draft submitted")
    expect(creator.locator(".draft")).to_have_count(1)
    expect(creator.locator(".draft img")).to_have_js_property("naturalWidth", 480)  # the upload really serves
    snap(creator, "creator-draft-submitted")

    # The brand requests a revision with a comment.
    open_brand_order(brand, title)
    expect(brand.locator(".next-step")).to_contain_text("A draft is ready for you")
    expect(brand.locator(".draft img")).to_have_js_property("naturalWidth", 480)
    brand.get_by_text("Request a revision…").click()
    brand.get_by_label("What should change").fill("Show the bottle in the first 3 seconds, please.")
    snap(brand, "brand-revision-form")
    brand.get_by_role("button", name="Request the revision").click()
    expect(flash(brand)).to_contain_text("Revision requested")
    expect(brand.locator(".order-heading .badge")).to_have_text("Revision requested")
    snap(brand, "brand-revision-requested")

    # The creator reads the comment and resubmits, with a link this time.
    creator.reload()
    expect(creator.get_by_role("heading", name="Submit your revised draft")).to_be_visible()
    expect(creator.locator("#submit-draft blockquote.feedback")).to_contain_text("Show the bottle in the first 3 seconds")
    creator.get_by_label("Or a link to the draft").fill("https://drive.example.com/mia/serum-v2")
    creator.get_by_label("Note to the brand").fill("Bottle up front now.")
    creator.get_by_role("button", name="Submit the draft").click()
    expect(flash(creator)).to_contain_text("Draft submitted")
    expect(creator.locator(".draft")).to_have_count(2)
    snap(creator, "creator-draft-resubmitted")

    # The brand approves the second draft.
    brand.reload()
    expect(brand.get_by_role("heading", name="Review draft 2")).to_be_visible()
    brand.get_by_label("Comment (optional)").fill("Great, publish it.")
    brand.get_by_role("button", name="Approve the draft").click()
    expect(flash(brand)).to_contain_text("Draft approved")
    snap(brand, "brand-draft-approved")

    # The creator publishes: one of their recent public works, picked from the list.
    creator.reload()
    expect(creator.locator(".next-step")).to_contain_text("Draft approved: publish it")
    picker = creator.get_by_role("group", name="Your recent public works")
    first_work = picker.get_by_role("radio").first
    work_url = first_work.get_attribute("value")
    first_work.check()
    snap(creator, "creator-publish-picker")
    creator.get_by_role("button", name="Mark as published").click()
    expect(flash(creator)).to_contain_text("Published.")
    expect(creator.get_by_role("link", name=work_url)).to_be_visible()
    snap(creator, "creator-published")

    # The brand confirms: ¥760.00 (price − 5 % commission − 20 % retention of the rest) goes to the creator.
    brand.reload()
    expect(brand.locator(".next-step")).to_contain_text("Published: check the work and confirm")
    expect(money_row(brand, "Held in escrow now")).to_have_text("¥1,050.00")
    snap(brand, "brand-before-confirm")
    brand.get_by_role("button", name="Confirm and release ¥760.00").click()
    expect(flash(brand)).to_contain_text("Confirmed. ¥760.00 goes to the creator now")
    expect(brand.locator(".order-heading .badge")).to_have_text("Completed")
    expect(money_row(brand, "Paid to the creator")).to_have_text("¥760.00")
    expect(money_row(brand, "Held in escrow now")).to_have_text("¥190.00")  # the retention, until the live window
    snap(brand, "brand-completed")

    # The creator sees the net amount in their pending earnings.
    creator.reload()
    expect(creator.locator(".order-heading .badge")).to_have_text("Completed")
    expect(money_row(creator, "Your net")).to_have_text("¥950.00")
    expect(money_row(creator, "Paid to your earnings")).to_have_text("¥760.00")
    expect(money_row(creator, "Still to come")).to_have_text("¥190.00")
    expect(creator.get_by_text("Earnings stay pending for a few days")).to_be_visible()
    snap(creator, "creator-completed-earnings")

    with live_db() as session:
        order = session.get(Order, order_id)
        assert order.state == "completed" and order.work_url == work_url and order.revisions_used == 1
        assert_balances(session, {
            flows.enterprise_available(world["lumen"]): TOP_UP - 1_050_00,
            flows.order_escrow(order_id): 190_00,
            flows.creator_pending(world["mia"]): 760_00,
            flows.REVENUE_SERVICE_FEE: 50_00,
            flows.REVENUE_COMMISSION: 50_00,
        })
        assert_ledger_sound(session)
    assert not actors.errors, actors.errors


# --- (b) a direct offer, declined and refunded --------------------------------------------------------------


def test_direct_offer_declined_is_refunded(actors, live, live_db, world, snap):
    title = "Serum flat-lay video 精华平铺"
    brand, creator = actors.page(), actors.page()

    # The brand finds Mia (Find creators), opens her profile and sends an offer at her rate-card price.
    log_in(brand, live, OWNER_EMAIL)
    expect(wallet_available(brand)).to_have_text("¥5,000.00")
    main_nav(brand).get_by_role("link", name="Find creators").click()
    brand.get_by_label("Keywords").fill("mia_serum_diary")
    brand.get_by_label("Keywords").press("Enter")
    result = brand.locator("#results article.creator-card").filter(has_text=CREATOR)
    expect(result).to_be_visible()
    result.get_by_role("link", name=CREATOR).first.click()
    expect(brand.get_by_role("heading", name=CREATOR, level=1)).to_be_visible()
    brand.get_by_role("link", name="Send an offer").click()
    expect(brand.get_by_role("heading", name="Send an offer")).to_be_visible()
    brand.get_by_label("Content type").select_option("short_video")
    expect(brand.get_by_label("Price (CNY)")).to_have_value("1000")
    brand.get_by_label("Title").fill(title)
    brand.get_by_label("Brief").fill("A calm flat-lay of the serum with your morning routine.")
    expect(brand.locator("#offer-breakdown")).to_contain_text("¥1,050.00")
    snap(brand, "brand-offer-form")
    brand.get_by_role("button", name="Send the offer").click()
    expect(flash(brand)).to_contain_text(f"Offer sent to {CREATOR}")
    expect(money_row(brand, "Total escrowed")).to_have_text("¥1,050.00")
    snap(brand, "brand-offer-sent")
    expect(wallet_available(brand)).to_have_text("¥3,950.00")  # price + 5 % service fee held

    # The creator declines it in the offers inbox, with a reason.
    log_in(creator, live, CREATOR_EMAIL)
    main_nav(creator).get_by_role("link", name="Offers").click()
    offer = creator.locator("article.offer-card").filter(has_text=title)
    expect(offer).to_contain_text(BRAND)
    expect(offer).to_contain_text("¥1,000.00")
    snap(creator, "creator-offers-inbox")
    offer.get_by_text("Decline…").click()
    offer.get_by_label("Reason (optional)").fill("Fully booked until December, sorry.")
    offer.get_by_role("button", name="Decline the offer").click()
    expect(flash(creator)).to_contain_text("Offer declined")
    expect(creator.locator("article.offer-card").filter(has_text=title)).to_have_count(0)
    snap(creator, "creator-offer-declined")

    # The brand sees the order declined with the reason, and the wallet back to the exact previous balance.
    open_brand_order(brand, title, "Ended")
    expect(brand.locator(".order-heading .badge")).to_have_text("Declined")
    expect(brand.locator(".next-step")).to_contain_text(f"{CREATOR} declined the offer")
    expect(brand.get_by_role("heading", name="Reason for declining").locator("xpath=following-sibling::p[1]")).to_have_text(
        "Fully booked until December, sorry.")
    expect(money_row(brand, "Refunded to the brand")).to_have_text("¥1,050.00")
    snap(brand, "brand-offer-declined")
    expect(wallet_available(brand)).to_have_text("¥5,000.00")
    expect(brand.get_by_role("row").filter(has_text="Order refund")).to_contain_text("+¥1,050.00")
    snap(brand, "brand-wallet-refunded")

    with live_db() as session:
        order = session.scalar(select(Order).where(Order.title == title))
        assert order.state == "declined" and order.decline_reason == "Fully booked until December, sorry."
        assert_balances(session, {flows.enterprise_available(world["lumen"]): TOP_UP,
                                  flows.order_escrow(order.id): 0})
        assert_ledger_sound(session)
    assert not actors.errors, actors.errors


# --- (c) a dispute split 60/40 -------------------------------------------------------------------------------


@pytest.fixture
def order_in_revision(live_db, world):
    """Before the dispute (services): a ¥1,000 offer from Lumen, accepted by Mia, a draft, a revision asked."""
    from marketplace.orders import services
    from marketplace.orders.services import Actor

    with live_db() as session:
        from marketplace.creators.models import Creator
        from marketplace.enterprises.models import Enterprise

        owner = session.get(User, world["owner"])
        lumen, mia = session.get(Enterprise, world["lumen"]), session.get(Creator, world["mia"])
        b, c = Actor("brand", owner), Actor("creator", mia.user)
        order = services.send_offer(session, b, lumen, mia, title="Night routine video 晚间护肤",
                                    content_type="short_video", price=1_000_00, revision_rounds=1,
                                    brief="Your night routine with the serum; show the texture on camera.")
        services.accept_offer(session, order, c)
        services.submit_draft(session, order, c, note="Full routine, 50 s.", link_url="https://drive.example.com/mia/n1")
        services.request_revision(session, order, b, feedback="Re-film it in a studio with our backdrop.")
        session.flush()
        return order.id


def test_dispute_split_60_40(actors, live, live_db, world, order_in_revision, snap):
    title = "Night routine video 晚间护肤"
    brand, reviewer, creator = actors.page(), actors.page(), actors.page()

    # The creator opens a dispute from the order page, with a reason and a description.
    log_in(creator, live, CREATOR_EMAIL)
    open_my_order(creator, title)
    creator.get_by_text("Open a dispute…").click()
    creator.get_by_label("Reason", exact=True).select_option(label="Revision requests beyond the agreement")
    creator.get_by_label("What went wrong").fill("The brief said a home routine; a studio shoot is a new brief, "
                                                 "not a revision. The draft follows the brief.")
    snap(creator, "creator-dispute-form")
    creator.get_by_role("button", name="Open the dispute").click()
    expect(creator.locator(".order-heading .badge")).to_have_text("In dispute")
    expect(creator.locator("#dispute")).to_contain_text("Revision requests beyond the agreement")
    snap(creator, "creator-disputed")

    # The reviewer opens the dispute queue, the dispute, splits 60/40 and explains.
    log_in(reviewer, live, REVIEWER_EMAIL)
    main_nav(reviewer).get_by_role("link", name="Review queues").click()
    reviewer.get_by_role("navigation", name="Review queues").get_by_role("link", name="Disputes").click()
    row = reviewer.get_by_role("row").filter(has_text=title)
    expect(row).to_contain_text("¥1,050.00")
    snap(reviewer, "reviewer-dispute-queue")
    row.get_by_role("link", name="Review", exact=True).click()
    expect(reviewer.get_by_role("heading", name="Decision")).to_be_visible()
    reviewer.get_by_label("Split the price").check()
    reviewer.get_by_label("Creator's part of the price (CNY)").fill("600")
    preview = reviewer.locator("#split-preview")
    expect(preview).to_contain_text("Creator receives ¥570.00")
    expect(preview).to_contain_text("Brand gets back ¥420.00")
    expect(preview).to_contain_text("Canal keeps ¥60.00")
    reviewer.get_by_label("Explanation for both sides").fill(
        "The studio request goes beyond the brief, but the draft misses the texture shot it asked for. 60/40.")
    snap(reviewer, "reviewer-split")
    reviewer.get_by_role("button", name="Decide and move the money").click()
    expect(reviewer.locator(".alert-success")).to_contain_text("The dispute is decided")
    snap(reviewer, "reviewer-decided")

    # Both sides see the order resolved with the amounts.
    creator.reload()
    expect(creator.locator(".order-heading .badge")).to_have_text("Resolved")
    expect(creator.locator(".next-step")).to_contain_text("¥570.00 to the creator, ¥420.00 back to the brand")
    expect(creator.locator("#dispute")).to_contain_text("60/40")
    expect(money_row(creator, "Paid to your earnings")).to_have_text("¥570.00")
    snap(creator, "creator-resolved")
    log_in(brand, live, OWNER_EMAIL)
    open_brand_order(brand, title, "Completed")
    expect(brand.locator(".order-heading .badge")).to_have_text("Resolved")
    expect(money_row(brand, "Refunded to the brand")).to_have_text("¥420.00")
    expect(money_row(brand, "Paid to the creator")).to_have_text("¥570.00")
    expect(money_row(brand, "Held in escrow now")).to_have_text("¥0.00")
    snap(brand, "brand-resolved")
    expect(wallet_available(brand)).to_have_text("¥4,370.00")  # 5,000 − 1,050 + 420
    expect(brand.locator("table").filter(has_text="Balance").get_by_role("row").nth(1)).to_contain_text("+¥420.00")
    snap(brand, "brand-wallet-after-split")

    with live_db() as session:
        dispute = session.scalar(select(Dispute).where(Dispute.order_id == order_in_revision))
        assert (dispute.state, dispute.decision, dispute.to_creator) == ("resolved", "split", 600_00)
        assert_balances(session, {
            flows.enterprise_available(world["lumen"]): TOP_UP - 1_050_00 + 420_00,
            flows.order_escrow(order_in_revision): 0,
            flows.creator_pending(world["mia"]): 570_00,
            flows.REVENUE_SERVICE_FEE: 30_00,
            flows.REVENUE_COMMISSION: 30_00,
        })
        assert_ledger_sound(session)
    assert not actors.errors, actors.errors
