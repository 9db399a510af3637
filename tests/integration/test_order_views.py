"""The order pages through real HTTP: the brand's board, the direct-offer form, the order page for each side and
every action's form path (state and money as the services say), the creator's offers inbox and order list, and
the refusals: wrong actors, repeated actions, expired offers, bad prices and bad uploads write nothing."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from PIL import Image
from sqlalchemy import func, select

from marketplace.db import utcnow
from marketplace.files.models import StoredFile
from marketplace.ledger import flows
from marketplace.ledger.models import LedgerTransaction
from marketplace.ledger.services import balance
from marketplace.orders import services
from marketplace.orders.models import (
    Campaign,
    Dispute,
    DisputeEvidence,
    Draft,
    LiveReport,
    Message,
    Order,
    OrderEvent,
    Review,
)
from marketplace.orders.services import Actor
from tests.conftest import csrf_from
from tests.integration.html_text import alerts, field_error, texts
from tests.ledger_helpers import assert_balances, assert_ledger_sound

# --- helpers ---------------------------------------------------------------------------------------------------


def png_bytes(size=(8, 8)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 90)).save(buffer, "PNG")
    return buffer.getvalue()


# An ISO base media file header ("ftyp" box, brand isom): detected as video/mp4 from its content.
MP4_BYTES = b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2" + b"\x00" * 64


def live_work_url(creator, now=None) -> str:
    from marketplace.creators.stats import current_connector

    works = current_connector().list_works(creator.platform_account.external_id, 10, now=now or utcnow())
    return next(w.url for w in works if w.is_live)


class World:
    """A verified, funded brand A (owner, manager, finance, viewer), another brand B, a listed creator, another
    creator, a reviewer; orders are made with ``offer`` and moved along with ``advance``."""

    def __init__(self, session, make_funded_enterprise, make_member, make_listed_creator, make_user):
        self.session = session
        self.brand = make_funded_enterprise(10_000_00)
        self.owner = self.brand.memberships[0].user
        self.manager = make_member(self.brand, "manager")
        self.finance = make_member(self.brand, "finance")
        self.viewer = make_member(self.brand, "viewer")
        self.other_brand = make_funded_enterprise(1_000_00)
        self.other_owner = self.other_brand.memberships[0].user
        self.creator = make_listed_creator()
        self.other_creator = make_listed_creator()
        self.reviewer = make_user(staff_role="reviewer")
        self.finance_staff = make_user(staff_role="finance")

    @property
    def wallet(self) -> str:
        return flows.enterprise_available(self.brand.id)

    def offer(self, price=1_000_00, creator=None, **terms) -> Order:
        terms.setdefault("title", "春季新品测评 Spring serum")
        terms.setdefault("content_type", "short_video")
        order = services.send_offer(self.session, Actor("brand", self.owner), self.brand, creator or self.creator,
                                    price=price, **terms)
        self.session.flush()
        return order

    def advance(self, order: Order, to: str) -> Order:
        """Move an offered order along the happy path (through the services) until it is in ``to``."""
        b, c = Actor("brand", self.owner), Actor("creator", order.creator.user)
        path = ["in_progress", "draft_submitted", "draft_approved", "published", "completed"]
        steps = {
            "in_progress": lambda: services.accept_offer(self.session, order, c),
            "draft_submitted": lambda: services.submit_draft(self.session, order, c,
                                                              link_url="https://drive.example/draft-1"),
            "draft_approved": lambda: services.approve_draft(self.session, order, b),
            "published": lambda: services.publish(self.session, order, c, work_url=live_work_url(order.creator)),
            "completed": lambda: services.confirm(self.session, order, b),
        }
        for state in path:
            if order.state == to:
                break
            steps[state]()
        assert order.state == to
        self.session.flush()
        return order


@pytest.fixture
def w(session, make_funded_enterprise, make_member, make_listed_creator, make_user) -> World:
    return World(session, make_funded_enterprise, make_member, make_listed_creator, make_user)


def ctx(w: World) -> str:
    return f"enterprise:{w.brand.id}"


def post(client, url: str, data: dict | None = None, page: str = "/settings", **kwargs):
    """POST ``data`` with a CSRF token of this browser session (as the real forms do)."""
    token = csrf_from(client.get(page).get_data(as_text=True))
    return client.post(url, data={"csrf_token": token, **(data or {})}, **kwargs)


def count(session, model, *where) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model).where(*where))


def state_of(session, order) -> str:
    session.expire_all()
    return session.scalar(select(Order.state).where(Order.id == order.id))


def squash(text: str) -> str:
    return "".join(text.split())


def ledger_size(session) -> int:
    return count(session, LedgerTransaction)


# --- the board ----------------------------------------------------------------------------------------------------


def test_board_lists_orders_by_column_for_every_member(client, session, login_as, w):
    offered = w.offer(title="Offer waiting")
    active = w.advance(w.offer(title="Being made"), "in_progress")
    review = w.advance(w.offer(title="Draft to review"), "draft_submitted")
    services.decline_offer(session, w.offer(title="Turned down"), Actor("creator", w.creator.user), reason="Busy")
    session.flush()

    for user in (w.owner, w.manager, w.finance, w.viewer):
        login_as(user, ctx(w))
        page = client.get(f"/enterprises/{w.brand.id}/orders")
        assert page.status_code == 200
        html = page.get_data(as_text=True)
        assert "Being made" in html and "Draft to review" in html  # active = in progress … published
        assert "Offer waiting" not in html and "Turned down" not in html
        tabs = texts(html, cls="count")
        assert tabs == ["2", "1", "1", "0", "0", "1"]  # active, offers, needs review, disputed, completed, ended

    offers = client.get(f"/enterprises/{w.brand.id}/orders?column=offers").get_data(as_text=True)
    assert "Offer waiting" in offers and "Offer expires" in offers and "in 3 days" in offers
    assert w.creator.display_name in offers and f"@{w.creator.handle}" in offers
    assert "¥1,000.00" in offers
    needs_review = client.get(f"/enterprises/{w.brand.id}/orders?column=needs_review").get_data(as_text=True)
    assert "Draft to review" in needs_review and "Being made" not in needs_review
    ended = client.get(f"/enterprises/{w.brand.id}/orders?column=ended").get_data(as_text=True)
    assert "Turned down" in ended and "Declined" in ended
    disputed = client.get(f"/enterprises/{w.brand.id}/orders?column=disputed").get_data(as_text=True)
    assert "No disputes" in disputed
    assert active.id and review.id and offered.id


def test_board_is_refused_to_outsiders(client, login_as, w):
    for user, context in ((w.other_owner, f"enterprise:{w.other_brand.id}"), (w.creator.user, "creator"),
                          (w.reviewer, "staff")):
        login_as(user, context)
        assert client.get(f"/enterprises/{w.brand.id}/orders").status_code == 403
    login_as(w.owner, ctx(w))
    assert client.get("/enterprises/999999/orders").status_code == 404


def test_board_filters_by_campaign_and_keyword_and_pages(client, session, login_as, w):
    campaign = Campaign(enterprise_id=w.brand.id, name="Double 11")
    session.add(campaign)
    session.flush()
    w.offer(title="Campaign piece", campaign_id=campaign.id)
    for n in range(21):
        w.offer(title=f"Bulk order {n:02d}", price=10_00)
    login_as(w.viewer, ctx(w))
    base = f"/enterprises/{w.brand.id}/orders?column=offers"
    html = client.get(f"{base}&campaign={campaign.id}").get_data(as_text=True)
    assert "Campaign piece" in html and "Bulk order" not in html and "Double 11" in html
    html = client.get(f"{base}&q=bulk+order+05").get_data(as_text=True)
    assert "Bulk order 05" in html and "Bulk order 06" not in html
    html = client.get(f"{base}&q={w.creator.display_name}").get_data(as_text=True)
    assert "Bulk order 20" in html  # by the creator's name
    first = client.get(base).get_data(as_text=True)
    assert 'rel="next"' in first and "Bulk order 20" in first  # newest activity first
    second = client.get(f"{base}&page=2").get_data(as_text=True)
    assert 'rel="prev"' in second and "Bulk order 00" in second and "Bulk order 20" not in second
    empty = client.get(f"{base}&q=nothing-like-this").get_data(as_text=True)
    assert "No orders match" in empty


def test_board_shows_unread_messages_and_reading_the_order_clears_them(client, session, login_as, w):
    from marketplace.orders import messaging

    order = w.advance(w.offer(title="Chatty order"), "in_progress")
    messaging.post_message(session, order, Actor("creator", w.creator.user), body="When do you need it?")
    messaging.post_message(session, order, Actor("creator", w.creator.user), body="And which colour?")
    session.flush()
    login_as(w.manager, ctx(w))
    html = client.get(f"/enterprises/{w.brand.id}/orders").get_data(as_text=True)
    assert texts(html, cls="unread") == ["2 unread"]
    detail = client.get(f"/orders/{order.id}").get_data(as_text=True)
    assert "When do you need it?" in detail and "And which colour?" in detail
    html = client.get(f"/enterprises/{w.brand.id}/orders").get_data(as_text=True)
    assert texts(html, cls="unread") == []


# --- the offer form --------------------------------------------------------------------------------------------------


def test_offer_form_prefills_the_rate_card_and_shows_the_breakdown(client, login_as, w):
    login_as(w.manager, ctx(w))
    page = client.get(f"/creators/{w.creator.id}/offer")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'value="1000"' in html  # short video from the rate card, in yuan
    breakdown = " ".join(texts(html, id="offer-breakdown"))
    for figure in ("¥1,000.00", "¥50.00", "¥1,050.00", "¥950.00", "¥760.00", "¥190.00", "¥10,000.00", "¥8,950.00"):
        assert figure in breakdown, figure
    # htmx: a new content type prefills its price; typing a price refreshes the breakdown.
    fragment = client.get(f"/creators/{w.creator.id}/offer?part=price&content_type=image_text&price=1000",
                          headers={"HX-Request": "true"}).get_data(as_text=True)
    assert 'id="price-field"' in fragment and 'value="400"' in fragment and 'hx-swap-oob="true"' in fragment
    assert "¥420.00" in fragment  # 400 + 5 %
    fragment = client.get(f"/creators/{w.creator.id}/offer?part=breakdown&content_type=image_text&price=2000",
                          headers={"HX-Request": "true"}).get_data(as_text=True)
    assert 'id="price-field"' not in fragment and "¥2,100.00" in fragment
    fragment = client.get(f"/creators/{w.creator.id}/offer?price=abc", headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and "Enter a price" in fragment.get_data(as_text=True)


def offer_form(**overrides) -> dict:
    today = utcnow().date()
    data = {"content_type": "short_video", "price": "1,200.50", "title": "Autumn serum launch",
            "brief": "Show the serum in daily use.", "deliverables": "One 60-second vertical video",
            "publish_from": (today + timedelta(days=7)).isoformat(),
            "publish_until": (today + timedelta(days=21)).isoformat(), "revision_rounds": "2", "live_days": "30",
            "usage_rights_days": "90", "campaign_id": ""}
    data.update(overrides)
    return data


def test_sending_an_offer_through_the_form_funds_the_escrow(client, session, login_as, w):
    login_as(w.owner, ctx(w))
    response = post(client, f"/creators/{w.creator.id}/offer", offer_form())
    assert response.status_code == 302
    order = session.scalar(select(Order).where(Order.enterprise_id == w.brand.id))
    assert response.location == f"/orders/{order.id}"
    assert (order.state, order.price, order.service_fee, order.revision_rounds, order.usage_rights_days) == \
        ("offered", 1_200_50, 60_03, 2, 90)
    assert_balances(session, {w.wallet: 10_000_00 - 1_260_53, flows.order_escrow(order.id): 1_260_53})
    assert_ledger_sound(session)
    page = client.get(response.location).get_data(as_text=True)
    assert "Offer sent to" in " ".join(alerts(page))
    assert f"Waiting for {w.creator.display_name} to accept — the offer expires in 3 days." in page


def test_a_zero_price_is_refused_beside_the_price_and_nothing_is_written(client, session, login_as, w):
    login_as(w.owner, ctx(w))
    before = ledger_size(session)
    response = post(client, f"/creators/{w.creator.id}/offer", offer_form(price="0"))
    assert response.status_code == 400
    assert field_error(response.get_data(as_text=True), "price") == "Enter an amount above zero."
    assert count(session, Order) == 0 and ledger_size(session) == before
    assert balance(session, w.wallet) == 10_000_00


def test_an_offer_the_wallet_cannot_cover_says_so_beside_the_price(client, session, login_as, w):
    login_as(w.owner, ctx(w))
    before = ledger_size(session)
    response = post(client, f"/creators/{w.creator.id}/offer", offer_form(price="20000"))
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert field_error(html, "price") == "Not enough funds in the wallet for this offer."
    assert f"/enterprises/{w.brand.id}/wallet/top-up" in html  # the owner may add funds
    assert count(session, Order) == 0 and ledger_size(session) == before
    login_as(w.manager, ctx(w))  # a manager is told whom to ask
    html = post(client, f"/creators/{w.creator.id}/offer", offer_form(price="20000")).get_data(as_text=True)
    assert "Ask an owner or a finance member" in html


@pytest.mark.parametrize(("overrides", "field", "message"), [
    ({"title": ""}, "title", "This field is required."),
    ({"price": "12.345"}, "price", "Enter an amount in yuan, with at most two decimals."),
    ({"publish_until": "2020-01-01", "publish_from": ""}, "publish_until", "The publish window is already over."),
    ({"live_days": "400"}, "live_days", "Number must be between 0 and 365."),
    ({"campaign_id": "999999"}, "campaign_id", "Not a valid choice."),
])
def test_bad_offer_terms_are_refused_beside_their_field(client, session, login_as, w, overrides, field, message):
    login_as(w.owner, ctx(w))
    response = post(client, f"/creators/{w.creator.id}/offer", offer_form(**overrides))
    assert response.status_code == 400
    assert field_error(response.get_data(as_text=True), field) == message
    assert count(session, Order) == 0


def test_only_owners_and_managers_acting_for_a_brand_may_send_offers(client, login_as, w, session):
    for user, context in ((w.viewer, ctx(w)), (w.finance, ctx(w)), (w.creator.user, "creator"),
                          (w.reviewer, "staff")):
        login_as(user, context)
        assert client.get(f"/creators/{w.other_creator.id}/offer").status_code == 403
        assert post(client, f"/creators/{w.other_creator.id}/offer", offer_form()).status_code == 403
    assert count(session, Order) == 0
    login_as(w.owner, ctx(w))
    assert client.get("/creators/999999/offer").status_code == 404


def test_the_profile_shows_send_an_offer_to_those_who_may(client, session, login_as, w):
    path = f"/creators/{w.creator.id}"
    login_as(w.manager, ctx(w))
    assert f"/creators/{w.creator.id}/offer" in client.get(path).get_data(as_text=True)
    login_as(w.viewer, ctx(w))
    assert f"/creators/{w.creator.id}/offer" not in client.get(path).get_data(as_text=True)
    w.creator.accepting_orders = False
    session.flush()
    login_as(w.manager, ctx(w))
    assert f"/creators/{w.creator.id}/offer" not in client.get(path).get_data(as_text=True)


# --- the order page -----------------------------------------------------------------------------------------------------


def test_the_order_page_renders_for_each_side_and_refuses_outsiders(client, session, login_as, w):
    order = w.offer()
    expected = {
        w.creator.user: ("creator", "Accept the offer"),
        w.owner: (ctx(w), "Withdraw the offer"),
        w.manager: (ctx(w), "Withdraw the offer"),
        w.viewer: (ctx(w), "can follow this order but not act on it"),
        w.finance: (ctx(w), "can follow this order but not act on it"),
        w.reviewer: ("staff", "Staff view"),
    }
    for user, (context, text) in expected.items():
        login_as(user, context)
        response = client.get(f"/orders/{order.id}")
        assert response.status_code == 200, user
        html = response.get_data(as_text=True)
        assert text in html, (user, text)
        assert "Timeline" in html and "Offer sent" in html
    login_as(w.viewer, ctx(w))
    html = client.get(f"/orders/{order.id}").get_data(as_text=True)
    assert "Withdraw the offer" not in html and 'action="/orders/' not in html  # read only: no forms at all
    for user, context in ((w.other_owner, f"enterprise:{w.other_brand.id}"), (w.other_creator.user, "creator"),
                          (w.finance_staff, "staff")):
        login_as(user, context)
        assert client.get(f"/orders/{order.id}").status_code == 403
    assert client.get("/orders/999999").status_code == 404


def test_the_creator_sees_their_net_and_the_brand_the_whole_breakdown(client, login_as, w):
    order = w.advance(w.offer(), "completed")
    login_as(w.creator.user, "creator")
    html = squash(" ".join(texts(client.get(f"/orders/{order.id}").get_data(as_text=True), cls="breakdown")))
    for line in ("Your net ¥950.00", "Paid to your earnings ¥760.00", "Still to come ¥190.00"):
        assert squash(line) in html, line
    login_as(w.finance, ctx(w))
    html = squash(" ".join(texts(client.get(f"/orders/{order.id}").get_data(as_text=True), cls="breakdown")))
    for line in ("Total escrowed ¥1,050.00", "Held in escrow now ¥190.00", "Paid to the creator ¥760.00",
                 "Refunded to the brand ¥0.00", "Retention (until the live window ends) ¥190.00"):
        assert squash(line) in html, line


def test_a_whole_order_through_the_forms(client, session, login_as, w):
    order = w.offer()
    escrow, pending = flows.order_escrow(order.id), flows.creator_pending(w.creator.id)
    creator = w.creator.user

    login_as(creator, "creator")
    assert post(client, f"/orders/{order.id}/accept").status_code == 302
    assert state_of(session, order) == "in_progress"
    response = post(client, f"/orders/{order.id}/drafts",
                    {"files": [(io.BytesIO(png_bytes()), "frame.png"), (io.BytesIO(MP4_BYTES), "cut.mp4")],
                     "draft_note": "First cut"}, content_type="multipart/form-data")
    assert response.status_code == 302 and response.location == f"/orders/{order.id}#drafts"
    draft = session.scalar(select(Draft).where(Draft.order_id == order.id))
    assert [f.file.content_type for f in draft.files] == ["image/png", "video/mp4"]

    login_as(w.manager, ctx(w))
    page = client.get(f"/orders/{order.id}").get_data(as_text=True)
    assert f"/orders/{order.id}/files/{draft.files[0].file_id}" in page and "First cut" in page
    assert client.get(f"/orders/{order.id}/files/{draft.files[0].file_id}").mimetype == "image/png"
    assert post(client, f"/orders/{order.id}/revision", {"feedback": "Show the bottle first"}).status_code == 302
    assert state_of(session, order) == "revision_requested"

    login_as(creator, "creator")
    page = client.get(f"/orders/{order.id}").get_data(as_text=True)
    assert "Show the bottle first" in page and "Submit your revised draft" in page
    assert post(client, f"/orders/{order.id}/drafts", {"link_url": "https://drive.example/cut-2"},
                content_type="multipart/form-data").status_code == 302

    login_as(w.owner, ctx(w))
    assert post(client, f"/orders/{order.id}/approve", {"approve_note": "Great"}).status_code == 302
    assert state_of(session, order) == "draft_approved"

    login_as(creator, "creator")
    page = client.get(f"/orders/{order.id}").get_data(as_text=True)
    url = live_work_url(w.creator)
    assert url in page  # the picker offers the creator's recent public works
    assert post(client, f"/orders/{order.id}/publish", {"work_url": "", "work_pick": url}).status_code == 302
    assert state_of(session, order) == "published"

    login_as(w.manager, ctx(w))
    page = client.get(f"/orders/{order.id}").get_data(as_text=True)
    assert "Confirm and release ¥760.00" in page and "This cannot be undone." in page
    assert post(client, f"/orders/{order.id}/confirm").status_code == 302
    assert state_of(session, order) == "completed"
    assert_balances(session, {w.wallet: 8_950_00, escrow: 190_00, pending: 760_00,
                              flows.REVENUE_SERVICE_FEE: 50_00, flows.REVENUE_COMMISSION: 50_00})
    assert_ledger_sound(session)

    # Reviews are double-blind: the brand's shows to the creator only once the creator has written theirs.
    assert post(client, f"/orders/{order.id}/review", {"rating": "5", "review_comment": "Lovely work"}).status_code == 302
    login_as(creator, "creator")
    page = client.get(f"/orders/{order.id}").get_data(as_text=True)
    assert "Lovely work" not in page and "Submit the review" in page
    assert post(client, f"/orders/{order.id}/review", {"rating": "4", "review_comment": "Clear brief"}).status_code == 302
    page = client.get(f"/orders/{order.id}").get_data(as_text=True)
    assert "Lovely work" in page and "Submit the review" not in page
    events = session.scalars(select(OrderEvent.action).where(OrderEvent.order_id == order.id)
                             .order_by(OrderEvent.id)).all()
    assert events == ["send_offer", "accept", "submit_draft", "request_revision", "submit_draft", "approve_draft",
                      "publish", "confirm", "review", "review"]


def test_declining_and_withdrawing_refund_the_brand(client, session, login_as, w):
    declined, withdrawn = w.offer(), w.offer()
    login_as(w.creator.user, "creator")
    response = post(client, f"/orders/{declined.id}/decline", {"decline_reason": "Fully booked", "next": "/creator/offers"})
    assert response.status_code == 302 and response.location == "/creator/offers"
    login_as(w.manager, ctx(w))
    assert post(client, f"/orders/{withdrawn.id}/withdraw").status_code == 302
    assert (state_of(session, declined), state_of(session, withdrawn)) == ("declined", "withdrawn")
    assert_balances(session, {w.wallet: 10_000_00, flows.order_escrow(declined.id): 0,
                              flows.order_escrow(withdrawn.id): 0})
    page = client.get(f"/orders/{declined.id}").get_data(as_text=True)
    assert "Fully booked" in page and "declined the offer" in page


def test_cancelling_by_agreement_refunds_the_brand(client, session, login_as, w):
    order = w.advance(w.offer(), "in_progress")
    login_as(w.owner, ctx(w))
    assert post(client, f"/orders/{order.id}/propose-cancel", {"cancel_reason": "Campaign moved"}).status_code == 302
    login_as(w.creator.user, "creator")
    page = client.get(f"/orders/{order.id}").get_data(as_text=True)
    assert "proposed to cancel" in page and "Agree to cancel" in page
    assert post(client, f"/orders/{order.id}/cancel").status_code == 302
    assert state_of(session, order) == "cancelled"
    assert balance(session, w.wallet) == 10_000_00
    # The brand cannot cancel alone: it proposes.
    other = w.advance(w.offer(), "in_progress")
    login_as(w.owner, ctx(w))
    response = post(client, f"/orders/{other.id}/cancel")
    assert response.status_code == 403 and "propose the cancellation" in " ".join(alerts(response.get_data(as_text=True)))
    assert state_of(session, other) == "in_progress"


# --- wrong actors, repeated actions, expired offers ------------------------------------------------------------------


def test_a_creator_cannot_act_on_another_creators_order(client, session, login_as, w):
    offered = w.offer()
    in_progress = w.advance(w.offer(), "in_progress")
    login_as(w.other_creator.user, "creator")
    before = ledger_size(session)
    for url, data in ((f"/orders/{offered.id}/accept", {}), (f"/orders/{offered.id}/decline", {}),
                      (f"/orders/{in_progress.id}/drafts", {"link_url": "https://x.example/d"}),
                      (f"/orders/{in_progress.id}/cancel", {}),
                      (f"/orders/{in_progress.id}/messages", {"body": "hi"}),
                      (f"/orders/{in_progress.id}/dispute", {"reason": "late", "description": "Nothing arrived yet"})):
        assert post(client, url, data).status_code == 403, url
    assert (state_of(session, offered), state_of(session, in_progress)) == ("offered", "in_progress")
    assert ledger_size(session) == before and count(session, Draft) == count(session, Message) == 0


def test_a_viewer_cannot_confirm_and_nothing_is_written(client, session, login_as, w):
    order = w.advance(w.offer(), "published")
    before = (ledger_size(session), count(session, OrderEvent))
    for user in (w.viewer, w.finance):
        login_as(user, ctx(w))
        response = post(client, f"/orders/{order.id}/confirm")
        assert response.status_code == 403
    assert state_of(session, order) == "published"
    assert (ledger_size(session), count(session, OrderEvent)) == before
    assert balance(session, flows.order_escrow(order.id)) == 1_050_00


def test_confirming_twice_is_a_clear_409_and_writes_nothing(client, session, login_as, w):
    order = w.advance(w.offer(), "published")
    login_as(w.owner, ctx(w))
    assert post(client, f"/orders/{order.id}/confirm").status_code == 302
    before = (ledger_size(session), count(session, OrderEvent), balance(session, flows.creator_pending(w.creator.id)))
    again = post(client, f"/orders/{order.id}/confirm")
    assert again.status_code == 409
    assert alerts(again.get_data(as_text=True)) == ["This order is Completed: that action is not possible now."]
    assert (ledger_size(session), count(session, OrderEvent),
            balance(session, flows.creator_pending(w.creator.id))) == before


def test_accepting_an_expired_offer_is_refused_clearly(client, session, login_as, w):
    order = w.offer()
    order.offer_expires_at = utcnow() - timedelta(minutes=5)
    session.flush()
    login_as(w.creator.user, "creator")
    response = post(client, f"/orders/{order.id}/accept")
    assert response.status_code == 409
    assert "This offer expired on" in " ".join(alerts(response.get_data(as_text=True)))
    assert state_of(session, order) == "offered"


@pytest.mark.parametrize(("upload", "message"), [
    ((b"%PDF-1.4 not a draft", "brief.png"), "This file is not an accepted type"),
    ((b"just some text pretending", "cut.mp4"), "This file is not an accepted type"),
    (None, "too large: images are at most 1 MB"),
])
def test_a_bad_draft_upload_is_refused_beside_the_field_and_nothing_is_stored(app, client, session, login_as, w,
                                                                              monkeypatch, upload, message):
    order = w.advance(w.offer(), "in_progress")
    if upload is None:  # an image above the image limit (but below the video one)
        monkeypatch.setitem(app.config, "DRAFT_IMAGE_MAX_BYTES", 1024 * 1024)
        upload = (png_bytes((1400, 1400)) + b"\x00" * (1024 * 1024), "huge.png")
    files_before = count(session, StoredFile)
    login_as(w.creator.user, "creator")
    response = post(client, f"/orders/{order.id}/drafts",
                    {"files": [(io.BytesIO(png_bytes()), "ok.png"), (io.BytesIO(upload[0]), upload[1])]},
                    content_type="multipart/form-data")
    assert response.status_code == 400
    assert message in field_error(response.get_data(as_text=True), "files")
    assert count(session, StoredFile) == files_before and count(session, Draft) == 0
    assert state_of(session, order) == "in_progress"


def test_a_draft_needs_a_file_or_a_link(client, session, login_as, w):
    order = w.advance(w.offer(), "in_progress")
    login_as(w.creator.user, "creator")
    response = post(client, f"/orders/{order.id}/drafts", {"draft_note": "here"}, content_type="multipart/form-data")
    assert response.status_code == 400
    assert field_error(response.get_data(as_text=True), "files") == "Attach the draft (a file) or give a link to it."


def test_publishing_someone_elses_work_is_refused_beside_the_link(client, session, login_as, w):
    order = w.advance(w.offer(), "draft_approved")
    login_as(w.creator.user, "creator")
    response = post(client, f"/orders/{order.id}/publish", {"work_url": live_work_url(w.other_creator)})
    assert response.status_code == 400
    assert "belongs to another account" in field_error(response.get_data(as_text=True), "work_url")
    assert state_of(session, order) == "draft_approved"


# --- disputes, removal reports, messages, files ---------------------------------------------------------------------


def test_a_dispute_with_evidence_and_its_files(client, session, login_as, w):
    order = w.advance(w.offer(), "draft_submitted")
    login_as(w.manager, ctx(w))
    response = post(client, f"/orders/{order.id}/dispute",
                    {"reason": "not_as_briefed", "description": "The draft ignores the brief entirely.",
                     "evidence": [(io.BytesIO(png_bytes()), "screenshot.png")]}, content_type="multipart/form-data")
    assert response.status_code == 302
    assert state_of(session, order) == "disputed"
    dispute = session.scalar(select(Dispute).where(Dispute.order_id == order.id))
    assert [e.side for e in dispute.evidence] == ["brand"]
    login_as(w.creator.user, "creator")
    page = client.get(f"/orders/{order.id}").get_data(as_text=True)
    assert "The draft ignores the brief entirely." in page and "screenshot.png" in page
    assert post(client, f"/orders/{order.id}/evidence",
                {"more_evidence": [(io.BytesIO(png_bytes()), "chat.png")]},
                content_type="multipart/form-data").status_code == 302
    assert count(session, DisputeEvidence) == 2
    file_id = dispute.evidence[0].file_id
    for user, context, status in ((w.creator.user, "creator", 200), (w.viewer, ctx(w), 200),
                                  (w.reviewer, "staff", 200), (w.other_owner, f"enterprise:{w.other_brand.id}", 403),
                                  (w.other_creator.user, "creator", 403)):
        login_as(user, context)
        assert client.get(f"/orders/{order.id}/files/{file_id}").status_code == status, user
    # A file of another order is not served through this one.
    other = w.advance(w.offer(), "in_progress")
    login_as(w.owner, ctx(w))
    assert client.get(f"/orders/{other.id}/files/{file_id}").status_code == 404
    # A disputed order is frozen: no second dispute.
    response = post(client, f"/orders/{order.id}/dispute", {"reason": "late", "description": "Still nothing here."},
                    content_type="multipart/form-data")
    assert response.status_code == 409


def test_a_dispute_needs_a_reason_and_a_description(client, session, login_as, w):
    order = w.advance(w.offer(), "in_progress")
    login_as(w.creator.user, "creator")
    response = post(client, f"/orders/{order.id}/dispute", {"reason": "late", "description": "short"},
                    content_type="multipart/form-data")
    assert response.status_code == 400
    assert "at least 10 characters" in field_error(response.get_data(as_text=True), "description")
    assert state_of(session, order) == "in_progress" and count(session, Dispute) == 0


def test_the_brand_reports_the_work_removed_during_the_live_window(client, session, login_as, w):
    order = w.advance(w.offer(), "completed")
    login_as(w.manager, ctx(w))
    page = client.get(f"/orders/{order.id}").get_data(as_text=True)
    assert "Report the work removed or private" in page
    assert post(client, f"/orders/{order.id}/report-removed", {"note": "The video shows private now"}).status_code == 302
    assert count(session, LiveReport, LiveReport.order_id == order.id) == 1
    page = client.get(f"/orders/{order.id}").get_data(as_text=True)
    assert "A reviewer is checking." in page and "Report the work removed or private" not in page


def test_messages_with_an_attachment(client, session, login_as, w):
    order = w.advance(w.offer(), "in_progress")
    login_as(w.creator.user, "creator")
    response = post(client, f"/orders/{order.id}/messages",
                    {"body": "Here is the storyboard", "attachment": (io.BytesIO(png_bytes()), "board.png")},
                    content_type="multipart/form-data")
    assert response.status_code == 302 and response.location.endswith("#messages")
    message = session.scalar(select(Message).where(Message.thread_id == order.id))
    assert message.file.content_type == "image/png"
    login_as(w.viewer, ctx(w))  # readers read (and may open the attachment) but do not write
    page = client.get(f"/orders/{order.id}").get_data(as_text=True)
    assert "Here is the storyboard" in page and "board.png" in page and "Owners and managers write here" in page
    assert client.get(f"/orders/{order.id}/files/{message.file_id}").status_code == 200
    assert post(client, f"/orders/{order.id}/messages", {"body": "hi"}).status_code == 403
    login_as(w.owner, ctx(w))
    response = post(client, f"/orders/{order.id}/messages", {"body": "", "attachment": (io.BytesIO(b"MZ\x90"), "x.exe")},
                    content_type="multipart/form-data")
    assert response.status_code == 400
    assert "not an accepted type" in field_error(response.get_data(as_text=True), "attachment")
    response = post(client, f"/orders/{order.id}/messages", {"body": "   "})
    assert response.status_code == 400
    assert field_error(response.get_data(as_text=True), "body") == "Write a message or attach a file."
    assert count(session, Message) == 1


def test_a_review_is_written_once_with_a_rating(client, session, login_as, w):
    order = w.advance(w.offer(), "completed")
    login_as(w.owner, ctx(w))
    response = post(client, f"/orders/{order.id}/review", {"review_comment": "no stars"})
    assert response.status_code == 400
    assert field_error(response.get_data(as_text=True), "rating") == "This field is required."
    assert post(client, f"/orders/{order.id}/review", {"rating": "5"}).status_code == 302
    again = post(client, f"/orders/{order.id}/review", {"rating": "1"})
    assert again.status_code == 409 and "already reviewed" in again.get_data(as_text=True)
    assert count(session, Review) == 1


# --- the creator's offers inbox and order list -------------------------------------------------------------------------


def test_the_offers_inbox_shows_the_net_and_the_countdown(client, session, login_as, w):
    w.offer(title="Serum video", price=2_000_00)
    login_as(w.creator.user, "creator")
    page = client.get("/creator/offers")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Serum video" in html and "¥2,000.00" in html and "¥1,900.00" in html  # price, and net of 5 %
    assert "Expires in 3 days" in html and w.brand.display_name in html
    login_as(w.other_creator.user, "creator")
    assert "No offers right now" in client.get("/creator/offers").get_data(as_text=True)
    login_as(w.owner, ctx(w))
    assert client.get("/creator/offers").status_code == 403
    assert client.get("/creator/orders").status_code == 403


def test_my_orders_by_column(client, session, login_as, w):
    w.advance(w.offer(title="Working on it"), "in_progress")
    w.advance(w.offer(title="All done"), "completed")
    w.offer(title="Fresh offer")
    login_as(w.creator.user, "creator")
    html = client.get("/creator/orders").get_data(as_text=True)
    assert "Working on it" in html and "All done" not in html and "Fresh offer" not in html
    assert texts(html, cls="count") == ["1", "1", "0", "1", "0"]  # active, offers, disputed, completed, ended
    assert "1 offer to answer" in html
    html = client.get("/creator/orders?column=completed").get_data(as_text=True)
    assert "All done" in html and "¥950.00" in html
    html = client.get("/creator/orders?column=active&q=nothing").get_data(as_text=True)
    assert "No orders match" in html


def test_order_pages_need_no_inline_script_or_style(client, session, login_as, w):
    """The CSP forbids inline script and style: every order page, in every state, as each side sees it."""
    from tests.integration.test_security import _check_no_inline

    orders = [w.offer()] + [w.advance(w.offer(), state) for state in
                            ("in_progress", "draft_submitted", "draft_approved", "published", "completed")]
    pages = [(w.owner, ctx(w), f"/enterprises/{w.brand.id}/orders"), (w.owner, ctx(w), f"/creators/{w.creator.id}/offer"),
             (w.creator.user, "creator", "/creator/offers"), (w.creator.user, "creator", "/creator/orders")]
    for order in orders:
        pages += [(user, context, f"/orders/{order.id}") for user, context in
                  ((w.owner, ctx(w)), (w.viewer, ctx(w)), (w.creator.user, "creator"), (w.reviewer, "staff"))]
    for user, context, path in pages:
        login_as(user, context)
        _check_no_inline(client.get(path), path)


def test_a_resolved_order_shows_what_the_decision_paid(client, session, login_as, w):
    """After a 60/40 split the money card shows the decision's amounts, not the original terms."""
    from marketplace.orders import disputes

    order = w.advance(w.offer(1_000_00), "in_progress")
    dispute = disputes.open_dispute(session, order, Actor("creator", w.creator.user), reason="unresponsive",
                                    description="The brand stopped answering for ten days.")
    disputes.resolve_dispute(session, dispute, Actor("staff", w.reviewer), decision="split", to_creator=600_00,
                             note="Half the work was done well.")
    session.flush()

    login_as(w.creator.user, "creator")
    html = client.get(f"/orders/{order.id}").get_data(as_text=True)
    card = " ".join(texts(html, cls="breakdown"))
    assert "The creator's part of the price¥600.00" in card
    assert "Canal commission on that part− ¥30.00" in card
    assert "Paid to your earnings¥570.00" in card
    assert "of which held" not in card and "Refunded to the brand" not in card  # the brand's side is not shown
    assert "Paid to you ¥570.00" in " ".join(texts(html, cls="order-price"))

    login_as(w.owner, ctx(w))
    card = " ".join(texts(client.get(f"/orders/{order.id}").get_data(as_text=True), cls="breakdown"))
    assert "Service fee kept (on the creator's part)¥30.00" in card
    assert "Refunded to the brand¥420.00" in card
    assert "Held in escrow now¥0.00" in card
    assert "Retention" not in card
