"""The order pages in real Chromium, with a screenshot of each: the brand's order board (tabs, unread messages,
deadlines), the direct-offer form (a new content type prefills its rate-card price and the money breakdown
follows the typed price through htmx), the order page as the brand and as the creator sees it (next step,
stepper, drafts, money, timeline, messages), a viewer's read-only page, the creator's offers inbox and order list."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from PIL import Image, ImageDraw
from playwright.sync_api import expect
from sqlalchemy import select

from marketplace.accounts.models import User
from marketplace.accounts.services import create_user
from marketplace.db import utcnow
from marketplace.enterprises import services as enterprise_services
from marketplace.files.services import store_bytes
from marketplace.ledger import flows
from marketplace.orders import messaging, recruiting, services
from marketplace.orders.models import Order
from marketplace.orders.services import Actor
from tests.browser.test_journeys import log_in

PASSWORD = "harbour lantern violet 4821"


def _user(session, email: str, name: str, kind: str = "brand", staff_role: str | None = None) -> User:
    return create_user(session, email=email, password=PASSWORD, display_name=name, signup_kind=kind, locale="en",
                       staff_role=staff_role, verified=True)


def _creator(session, email: str, name: str, handle: str, followers: int):
    from marketplace.creators import services as creator_services
    from marketplace.creators import stats

    creator = creator_services.become_creator(session, _user(session, email, name, kind="creator"))
    stats.link_platform_account(session, creator, f"@{handle}")
    creator_services.update_profile(session, creator, handle=handle, display_name=name, kind="individual",
                                    bio="护肤测评 · skincare reviews", categories=["beauty"], regions=["31"],
                                    languages=["zh"], accepting_orders=True)
    creator_services.save_rate_card(session, creator, {"short_video": 2_800_00, "image_text": 900_00,
                                                       "livestream": 5_000_00}, 2, 7, "Weekday filming only.")
    creator.followers = followers
    return creator


def _frame(label: str) -> bytes:
    """A draft still: a soft gradient with a caption (what a video frame export looks like)."""
    image = Image.new("RGB", (640, 360))
    draw = ImageDraw.Draw(image)
    for y in range(360):
        draw.line([(0, y), (640, y)], fill=(240 - y // 4, 200 - y // 5, 190 + y // 8))
    draw.rectangle([250, 90, 390, 290], fill=(250, 250, 252), outline=(30, 40, 60), width=4)
    draw.text((20, 20), label, fill=(20, 30, 40))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def _live_work_url(creator) -> str:
    from marketplace.creators.stats import current_connector

    works = current_connector().list_works(creator.platform_account.external_id, 10, now=utcnow())
    return next(w.url for w in works if w.is_live)


@pytest.fixture
def world(live, live_db):
    """Lumen (verified, funded; owner Chen, viewer Wu) with orders in every column for Mia, Yun and Kai."""
    with live_db() as session:
        reviewer = _user(session, "reviewer@canal.example.com", "Canal reviewer", staff_role="reviewer")
        owner = _user(session, "owner@lumen.example.com", "Chen Jing")
        viewer = _user(session, "viewer@lumen.example.com", "Wu Lei")
        from marketplace.enterprises.models import Membership
        from marketplace.seed import _enterprise

        lumen = _enterprise(session, owner, "上海流明化妆品有限公司", "Lumen Cosmetics", "91310115MA1K4DEM3")
        enterprise_services.submit_for_verification(session, owner, lumen)
        enterprise_services.approve_enterprise(session, reviewer, lumen)
        session.add(Membership(enterprise_id=lumen.id, user_id=viewer.id, role="viewer"))
        flows.top_up(session, enterprise_id=lumen.id, amount=60_000_00, rail="bank", key="order-screens-top-up")
        campaign = recruiting.save_campaign(session, Actor("brand", owner), lumen, name="Autumn serum launch 秋季精华",
                                            budget=30_000_00)
        mia = _creator(session, "mia@creators.example.com", "Mia 米娅", "mia_beauty", 52_000)
        yun = _creator(session, "yun@creators.example.com", "Yun 云朵", "yun_skin", 86_000)
        kai = _creator(session, "kai@creators.example.com", "Kai 凯", "kai_daily", 240_000)
        b = Actor("brand", owner)
        today = utcnow().date()

        def offer(creator, title, price, **terms):
            return services.send_offer(
                session, b, lumen, creator, title=title, content_type=terms.pop("content_type", "short_video"),
                price=price, brief=terms.pop("brief", "拍一条 60 秒的真实测评：第一周使用感受、质地、吸收速度。Show the "
                                                      "bottle in the first 3 seconds; no before/after claims."),
                deliverables="One vertical video (9:16), 45–60 s, with #LumenSerum.",
                publish_from=today + timedelta(days=5), publish_until=today + timedelta(days=20),
                campaign_id=campaign.id, **terms)

        # The main order: drafted, revised, approved and published, with messages.
        main = offer(mia, "Serum first-week review 精华一周测评", 2_800_00)
        c = Actor("creator", mia.user)
        services.accept_offer(session, main, c)
        messaging.post_message(session, main, c, body="Hi! Can I film at home with natural light?")
        messaging.post_message(session, main, b, body="Yes, natural light is perfect. Keep the bottle in frame.")
        first = store_bytes(session, _frame("Draft 1 - opening shot"), "image/png", "draft-1-opening.png", mia.user_id)
        services.submit_draft(session, main, c, note="First cut: opening and texture shots.", files=[first])
        services.request_revision(session, main, b, feedback="Show the bottle in the first 3 seconds, please.")
        second = store_bytes(session, _frame("Draft 2 - bottle first"), "image/png", "draft-2-bottle.png",
                             mia.user_id)
        services.submit_draft(session, main, c, note="Bottle up front now.", files=[second],
                              link_url="https://drive.example.com/mia/serum-v2")
        services.approve_draft(session, main, b, note="Great, publish it.")
        services.publish(session, main, c, work_url=_live_work_url(mia))
        messaging.post_message(session, main, c, body="It's live! Thanks for the smooth brief.")

        # The other columns: an offer waiting, work in progress, a draft to review, completed, declined.
        waiting = offer(mia, "Livestream mention 直播口播", 5_000_00, content_type="livestream")
        progress = services.accept_offer(session, offer(yun, "Sunscreen in real life 防晒实测", 2_800_00),
                                         Actor("creator", yun.user))
        review = services.accept_offer(session, offer(kai, "Night routine with the serum", 3_200_00),
                                       Actor("creator", kai.user))
        services.submit_draft(session, review, Actor("creator", kai.user), link_url="https://drive.example.com/kai/1")
        done = services.accept_offer(session, offer(yun, "Travel kit unboxing 旅行套装开箱", 1_900_00),
                                     Actor("creator", yun.user))
        services.submit_draft(session, done, Actor("creator", yun.user), link_url="https://drive.example.com/yun/t")
        services.approve_draft(session, done, b)
        services.publish(session, done, Actor("creator", yun.user), work_url=_live_work_url(yun))
        services.confirm(session, done, b)
        services.decline_offer(session, offer(kai, "Gift set teaser", 1_500_00), Actor("creator", kai.user),
                               reason="Fully booked until December.")
        session.flush()
        return {"lumen": lumen.id, "mia": mia.id, "main": main.id, "waiting": waiting.id, "progress": progress.id,
                "review": review.id}


def _errors(page) -> list[str]:
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    return errors


def test_brand_board_offer_form_and_order_page(page, live, world, live_db, shot):
    errors = _errors(page)
    log_in(page, live, "owner@lumen.example.com", PASSWORD)
    expect(page.locator("details.user-menu")).to_be_visible()

    page.goto(f"{live}/enterprises/{world['lumen']}/orders")
    rows = page.locator("table.order-table tbody tr")
    expect(rows).to_have_count(3)  # published, draft to review, in progress
    expect(page.locator(".order-tabs")).to_contain_text("Active 3")
    expect(rows.filter(has_text="Serum first-week review")).to_contain_text("Confirms automatically")
    expect(rows.filter(has_text="Serum first-week review").locator(".unread")).to_have_text(re.compile(r"^1"))
    shot(page, "board")
    page.get_by_role("link", name=re.compile(r"^Ended")).click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Declined")

    # The offer form: a new content type prefills its rate-card price, the breakdown follows the price.
    page.goto(f"{live}/creators/{world['mia']}")
    page.get_by_role("link", name="Send an offer").click()
    expect(page.get_by_label("Price (CNY)")).to_have_value("2800")
    expect(page.locator("#offer-breakdown")).to_contain_text("¥2,940.00")
    page.get_by_label("Content type").select_option("image_text")
    expect(page.get_by_label("Price (CNY)")).to_have_value("900")
    expect(page.locator("#offer-breakdown")).to_contain_text("¥945.00")
    # The price field was just swapped in: let htmx finish settling it (and bind its listeners) before typing.
    page.wait_for_function(
        "() => !document.querySelector('.htmx-request, .htmx-settling, .htmx-added, .htmx-swapping')")
    page.get_by_label("Price (CNY)").fill("3500")
    expect(page.locator("#offer-breakdown")).to_contain_text("¥3,675.00")
    page.get_by_label("Title").fill("Serum flat-lay post 精华平铺图文")
    shot(page, "offer-form")
    page.get_by_label("Price (CNY)").fill("0")
    page.get_by_role("button", name="Send the offer").click()
    expect(page.locator("#price-error")).to_contain_text("Enter an amount above zero.")
    page.get_by_label("Price (CNY)").fill("3500")
    page.get_by_role("button", name="Send the offer").click()
    expect(page.locator(".flashes")).to_contain_text("Offer sent to Mia 米娅")
    expect(page.locator(".next-step")).to_contain_text("Waiting for Mia 米娅 to accept — the offer expires in 3 days.")
    shot(page, "offer-sent")

    # The published order, as the brand sees it: confirm releases the escrow.
    page.goto(f"{live}/orders/{world['main']}")
    expect(page.locator(".next-step")).to_contain_text("Published: check the work and confirm")
    expect(page.locator(".step-current")).to_contain_text("Published")
    expect(page.locator(".draft")).to_have_count(2)
    expect(page.locator(".draft img")).to_have_count(2)
    shot(page, "order-brand-published")
    page.get_by_role("button", name="Confirm and release ¥2,128.00").click()
    expect(page.locator(".flashes")).to_contain_text("Confirmed.")
    expect(page.locator(".order-heading .badge")).to_have_text("Completed")
    shot(page, "order-brand-completed")
    with live_db() as session:
        assert session.get(Order, world["main"]).state == "completed"
    assert not errors, errors


def test_creator_inbox_order_page_and_list(page, live, world, live_db, shot):
    errors = _errors(page)
    log_in(page, live, "mia@creators.example.com", PASSWORD)
    expect(page.locator("details.user-menu")).to_be_visible()

    page.goto(f"{live}/creator/offers")
    cards = page.locator("article.offer-card")
    expect(cards).to_have_count(1)
    expect(cards.first).to_contain_text("Livestream mention")
    expect(cards.first).to_contain_text("¥4,750.00")  # 5,000 less the 5 % commission
    expect(cards.first).to_contain_text("Expires in 3 days")
    shot(page, "offers-inbox")

    page.goto(f"{live}/orders/{world['main']}")
    expect(page.locator(".next-step")).to_contain_text("Waiting for Lumen Cosmetics to confirm")
    expect(page.locator(".order-price")).to_contain_text("¥2,660.00")  # the creator's net
    shot(page, "order-creator-published")

    page.goto(f"{live}/orders/{world['waiting']}")
    expect(page.get_by_role("button", name="Accept the offer")).to_be_visible()
    shot(page, "order-creator-offered")
    page.get_by_role("button", name="Accept the offer").click()
    expect(page.locator(".flashes")).to_contain_text("Offer accepted")
    expect(page.get_by_role("heading", name="Submit your draft")).to_be_visible()
    shot(page, "order-creator-in-progress")

    page.goto(f"{live}/creator/orders")
    expect(page.locator("table.order-table tbody tr")).to_have_count(2)
    shot(page, "my-orders")
    with live_db() as session:
        assert session.get(Order, world["waiting"]).state == "in_progress"
        assert session.scalar(select(User.locale).where(User.email == "mia@creators.example.com")) == "en"
    assert not errors, errors


def test_viewer_reads_without_actions(page, live, world, shot):
    errors = _errors(page)
    log_in(page, live, "viewer@lumen.example.com", PASSWORD)
    expect(page.locator("details.user-menu")).to_be_visible()
    page.goto(f"{live}/orders/{world['review']}")
    expect(page.locator(".next-step")).to_contain_text("can follow this order but not act on it")
    expect(page.locator("#actions")).to_have_count(0)
    shot(page, "order-viewer")
    assert not errors, errors
