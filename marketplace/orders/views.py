"""Orders: the brand's order board, direct offers, the order page (both sides) and its actions, the creator's
offers inbox and order list.

One order page serves whoever may see the order: its creator, the members of its enterprise (owners and
managers act; finance and viewers read) and reviewers (read only). Each action is its own POST handler, in the
usual order: load (404) -> authorize (403) -> validate the form -> one service -> commit -> redirect to the
order. A refusal re-renders the order page with the message beside the field it concerns (or at the top, for
a button) and the error's 4xx status; nothing is written.

The list pages (board, offers, my orders) read through ``orders.queries`` only: one index walk per page with
the other side eager-loaded, capped counts, and one query for the unread messages of the page's orders.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from babel.dates import TIMEDELTA_UNITS
from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import format_timedelta, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from markupsafe import Markup, escape
from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from marketplace import authz
from marketplace.creators import services as creator_services
from marketplace.creators.models import Creator
from marketplace.creators.taxonomy import CONTENT_TYPES
from marketplace.creators.views import _own_creator
from marketplace.creators.views import _yuan as yuan_input
from marketplace.db import get_session, utcnow
from marketplace.enterprises.models import Enterprise
from marketplace.errors import DomainError, InsufficientFunds, ValidationFailed
from marketplace.files.models import StoredFile
from marketplace.files.services import IMAGE_TYPES, check_upload, store_bytes, store_upload
from marketplace.files.serving import send_stored_file
from marketplace.forms import ActionForm, apply_domain_error, choices, safe_next
from marketplace.i18n import current_language, format_day, language_code, number_formats
from marketplace.ledger import flows
from marketplace.ledger.services import balance
from marketplace.main.templating import UrlPattern, money_filter
from marketplace.money import CURRENCY_EXPONENTS, Money, MoneyError
from marketplace.orders import disputes, messaging, queries, recruiting, reviews, services, states
from marketplace.orders.forms import (
    ApproveForm,
    CancelForm,
    DeclineForm,
    DisputeForm,
    DraftForm,
    EvidenceForm,
    MessageForm,
    OfferForm,
    PublishForm,
    RemovedForm,
    ReviewForm,
    RevisionForm,
)
from marketplace.orders.models import (
    Dispute,
    DisputeEvidence,
    Draft,
    DraftFile,
    LiveReport,
    Message,
    Order,
    OrderEvent,
    Review,
)
from marketplace.orders.services import Actor
from marketplace.payments.services import wallet_summary

bp = Blueprint("orders", __name__)

VIDEO_TYPES = frozenset({"video/mp4", "video/quicktime", "video/webm"})
DRAFT_TYPES = IMAGE_TYPES | VIDEO_TYPES
ATTACHMENT_TYPES = IMAGE_TYPES | VIDEO_TYPES | {"application/pdf"}
MAX_PAGE = 500  # deeper pages of a list are reached by filtering, not by paging (offsets grow with the page)

SIDE_LABELS = {"brand": _l("Brand"), "creator": _l("Creator"), "staff": _l("Canal reviewer"), "system": _l("Canal")}
COLUMN_LABELS = {
    "active": _l("Active"),
    "offers": _l("Offers"),
    "needs_review": _l("Needs review"),
    "disputed": _l("Disputed"),
    "completed": _l("Completed"),
    "ended": _l("Ended"),
}
BRAND_COLUMNS = ("active", "offers", "needs_review", "disputed", "completed", "ended")
CREATOR_COLUMNS = ("active", "offers", "disputed", "completed", "ended")
CREATOR_COLUMN_LABELS = {**COLUMN_LABELS, "offers": _l("Offers to answer")}

# The progress stepper: where each state sits on the happy path.
STEPS = ("offered", "in_progress", "draft", "approved", "published", "completed", "closed")
STEP_LABELS = {"offered": _l("Offered"), "in_progress": _l("In progress"), "draft": _l("Draft review"),
               "approved": _l("Approved"), "published": _l("Published"), "completed": _l("Completed"),
               "closed": _l("Closed")}
STEP_OF_STATE = {"offered": 0, "in_progress": 1, "draft_submitted": 2, "revision_requested": 2, "draft_approved": 3,
                 "published": 4, "completed": 5, "closed": 6, "declined": 0, "expired": 0, "withdrawn": 0,
                 "cancelled": 1}


# --- who is looking ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Viewer:
    """The side of the order the signed-in user sees it from, and whether they may act on it."""

    side: str  # creator | brand | staff
    can_act: bool
    role: str | None = None  # the brand member's role


def viewer_of(order: Order) -> Viewer | None:
    """How the current user sees ``order``: its creator, a member of its enterprise, or a reviewer; else None."""
    user = current_user
    is_creator = order.creator.user_id == user.id
    membership = authz.membership_of(user, order.enterprise_id)
    if is_creator and membership is not None:
        # A member of the enterprise who is also the order's creator: the acting context decides.
        context = authz.current_context()
        if context.kind != "enterprise" or context.enterprise is None or context.enterprise.id != order.enterprise_id:
            membership = None
    if membership is not None:
        return Viewer("brand", authz.can(user, "enterprise.orders", order), membership.role)
    if is_creator:
        return Viewer("creator", True)
    if authz.can(user, "staff.disputes"):
        return Viewer("staff", False)
    return None


def _load_order(order_id: int) -> Order:
    order = get_session().get(Order, order_id)
    if order is None:
        abort(404)
    return order


def _as_creator(order: Order) -> Actor:
    """The current user acting as the order's creator (403 for anyone else)."""
    if order.creator.user_id != current_user.id:
        abort(403)
    return services.creator_actor(current_user)


def _as_brand(order: Order) -> Actor:
    """The current user acting for the order's enterprise: owners and managers (403 for anyone else)."""
    authz.require("enterprise.orders", order)
    return services.brand(current_user)


def _as_party(order: Order) -> Actor:
    """Either side of the order, when the user may act on it (403 for readers and outsiders)."""
    viewer = viewer_of(order)
    if viewer is None or viewer.side == "staff" or not viewer.can_act:
        abort(403)
    return Actor(viewer.side, current_user)


# --- small presentation helpers --------------------------------------------------------------------------------


def relative(when: datetime | None, now: datetime | None = None, language: str | None = None) -> str:
    """"in 2 days" / "3 hours ago" from now, in the reader's language (Babel's ``format_timedelta``)."""
    if when is None:
        return "—"
    delta = when - (now or utcnow())
    key = (language or current_language(), *_timedelta_key(delta.total_seconds()))
    text = _RELATIVE.get(key)
    if text is None:
        text = _RELATIVE[key] = format_timedelta(delta, add_direction=True, threshold=RELATIVE_THRESHOLD)
    return text


RELATIVE_THRESHOLD = 1.1
_RELATIVE: dict[tuple, str] = {}


def _timedelta_key(seconds: float) -> tuple[str, int, bool]:
    """What Babel's ``format_timedelta`` (granularity "second", our threshold) writes depends on only: the unit
    it picks, the rounded value and the direction — the same walk over Babel's units (a list page formats twenty
    deadlines, each a walk through the locale's patterns: remembered per language and key)."""
    for unit, secs_per_unit in TIMEDELTA_UNITS:
        value = abs(seconds) / secs_per_unit
        if value >= RELATIVE_THRESHOLD or unit == "second":
            if unit == "second" and value > 0:
                value = max(1, value)
            return unit, int(round(value)), seconds >= 0
    raise AssertionError("Babel's units end with the second")  # pragma: no cover


def deadline(order: Order, labels: dict | None = None) -> dict | None:
    """The next date that matters on an order, for list rows: offer expiry, auto-confirm, publish window, live."""
    return row_deadline(order, labels or list_labels()["deadlines"], utcnow(), current_language())


def row_deadline(order, labels: dict, now: datetime, language: str) -> dict | None:
    """``deadline`` of anything with the order's state and clocks (an order, or a list page's row)."""
    state = order.state
    if state == "offered" and order.offer_expires_at:
        return _deadline(labels["offer"], order.offer_expires_at, now, language)
    if state == "published" and order.auto_confirm_at:
        return _deadline(labels["confirm"], order.auto_confirm_at, now, language)
    if state in ("in_progress", "draft_submitted", "revision_requested", "draft_approved") and order.publish_until:
        return _deadline(labels["publish"], order.publish_until, now, language)
    if state == "completed" and order.live_until:
        return _deadline(labels["live"], order.live_until, now, language)
    return None


def _deadline(label: str, when: datetime | date, now: datetime, language: str) -> dict:
    if isinstance(when, datetime):
        return {"label": label, "text": relative(when, now, language), "soon": when - now < timedelta(hours=24)}
    return {"label": label, "text": format_day(when, "medium", language), "soon": False}  # the date filter's text


_LIST_LABELS: dict[str, dict] = {}


def list_labels() -> dict:
    """The labels every list row repeats, translated once per language (a page shows twenty rows)."""
    language = language_code(get_locale())
    if language not in _LIST_LABELS:
        _LIST_LABELS[language] = {
            "types": {code: str(label) for code, label in CONTENT_TYPES.items()},
            "states": {code: str(label) for code, label in states.ORDER_STATE_LABELS.items()},
            "deadlines": {"offer": _("Offer expires"), "confirm": _("Confirms automatically"),
                          "publish": _("Publish by"), "live": _("Live window ends")},
        }
    return _LIST_LABELS[language]


@dataclass(frozen=True, slots=True)
class OfferRow:
    """An offer of the creator's offers inbox (the order itself: its buttons act on it), with what its card shows
    already formatted. The board and the order lists use ``PageRow`` (one statement, no ORM objects)."""

    order: Order
    url: str
    type_label: str
    amount: str
    deadline: dict | None
    unread: int


def offer_rows(orders: list[Order], unread: dict[int, int]) -> list[OfferRow]:
    """The creator's offers, each with its link, content type, the creator's net and the offer's deadline."""
    labels = list_labels()
    detail = UrlPattern.cached("orders.detail", "order_id")
    return [OfferRow(order=order, url=detail(order.id), type_label=labels["types"].get(order.content_type, ""),
                     amount=money_filter(order.creator_net, order.currency),
                     deadline=deadline(order, labels["deadlines"]), unread=unread.get(order.id, 0))
            for order in orders]


@dataclass(frozen=True, slots=True)
class PageRow:
    """One row of the board or of the creator's order list (``queries.ListPage``), formatted for the page."""

    id: int
    url: str
    title: str
    state_label: str
    tone: str
    type_label: str
    amount: str
    deadline: dict | None
    unread: int
    party_name: str
    party_handle: str | None = None
    avatar_url: str | None = None
    campaign: str = ""

    @property
    def party_initial(self) -> str:
        return self.party_name[:1]


def page_rows(rows, *, side: str, campaigns: dict[int, str] | None = None) -> list[PageRow]:
    """The rows of a list page (``queries.ListPage``'s plain rows): for the brand, the creator with avatar and the price; for the
    creator, the brand and their net."""
    labels = list_labels()
    state_labels, type_labels, deadline_labels = labels["states"], labels["types"], labels["deadlines"]
    detail = UrlPattern.cached("orders.detail", "order_id")
    brand = side == "brand"
    avatar = UrlPattern.cached("creator_profiles.avatar", "creator_id", "v") if brand else None
    tones = states.ORDER_STATE_TONES
    campaigns = campaigns or {}
    now, language = utcnow(), current_language()
    money = number_formats(language).money  # what the money filter writes
    out = []
    for row in rows:
        state = row.state
        out.append(PageRow(
            id=row.id, url=detail(row.id), title=row.title, state_label=state_labels.get(state, state),
            tone=tones.get(state, "neutral"), type_label=type_labels.get(row.content_type, ""),
            amount=money(row.price if brand else row.price - row.commission, row.currency,
                         CURRENCY_EXPONENTS[row.currency]),
            deadline=row_deadline(row, deadline_labels, now, language), unread=row.unread, party_name=row.party_name,
            party_handle=row.party_handle if brand else None,
            avatar_url=avatar(row.party_id, row.party_avatar_file_id) if brand and row.party_avatar_file_id else None,
            campaign=campaigns.get(row.campaign_id, "") if row.campaign_id else ""))
    return out


def rows_html(rows: list[PageRow], *, side: str) -> Markup:
    """The ``<tr>`` of each row of the board (``side`` "brand": the creator, with avatar and handle) or of the
    creator's list (the brand), every text escaped. Written here rather than in the page's template: a template
    loop costs ~50 µs a row (an attribute lookup, escape and call per cell), a page of twenty ~1 ms."""
    unread_word, no_unread = escape(_("unread")), escape(_("No unread messages"))
    brand = side == "brand"
    out = []
    for row in rows:
        if brand:
            if row.avatar_url:
                avatar = (f'<img class="party-avatar party-avatar-small" src="{escape(row.avatar_url)}" alt="" '
                          f'width="36" height="36" loading="lazy">')
            else:
                avatar = (f'<span class="party-avatar party-avatar-small party-avatar-initial" aria-hidden="true">'
                          f'{escape(row.party_initial)}</span>')
            handle = f'<span class="muted small mono">@{escape(row.party_handle)}</span>' if row.party_handle else ""
            party = (f'<div class="party">{avatar}<div class="party-name"><span>{escape(row.party_name)}</span>'
                     f'{handle}</div></div>')
        else:
            party = (f'<div class="party"><span class="party-avatar party-avatar-small party-avatar-brand" '
                     f'aria-hidden="true">{escape(row.party_initial)}</span><span class="party-name">'
                     f'{escape(row.party_name)}</span></div>')
        campaign = f" · {escape(row.campaign)}" if row.campaign else ""
        d = row.deadline
        if d:
            when = (f'<span class="deadline{" deadline-soon" if d["soon"] else ""}"><span class="deadline-label">'
                    f'{escape(d["label"])}</span> <span class="deadline-when">{escape(d["text"])}</span></span>')
        else:
            when = '<span class="muted">—</span>'
        if row.unread:
            unread = (f'<span class="unread">{int(row.unread)}<span class="visually-hidden"> {unread_word}</span>'
                      f'</span>')
        else:
            unread = f'<span class="muted" title="{no_unread}">·</span>'
        out.append(
            f'<tr>\n<td>{party}</td>\n<td><a class="order-title" href="{escape(row.url)}">{escape(row.title)}</a>\n'
            f'<div class="muted small">{escape(row.type_label)} · #{int(row.id)}{campaign}</div></td>\n'
            f'<td><span class="badge tone-{escape(row.tone)}">{escape(row.state_label)}</span></td>\n'
            f'<td class="num">{escape(row.amount)}</td>\n<td>{when}</td>\n<td class="num">{unread}</td>\n</tr>\n')
    return Markup("".join(out))


def count_labels(counts: dict[str, int]) -> dict[str, str]:
    """Tab counts, "1,000+" past the cap (the number filter's text)."""
    cap = queries.COUNT_CAP
    decimal = number_formats(current_language()).decimal
    return {column: f"{decimal(cap)}+" if n > cap else decimal(n) for column, n in counts.items()}


def next_step(order: Order, viewer: Viewer) -> str:
    """The order's situation and what happens next, in plain words, for the side looking at it."""
    creator, brand, side = order.creator.display_name, order.enterprise.display_name, viewer.side
    acting_brand = side == "brand" and viewer.can_act
    state = order.state
    if state == "offered":
        when = relative(order.offer_expires_at)
        if side == "creator":
            return _("%(brand)s offers you this order. Accept or decline — the offer expires %(when)s.",
                     brand=brand, when=when)
        return _("Waiting for %(creator)s to accept — the offer expires %(when)s.", creator=creator, when=when)
    if state == "in_progress":
        if order.cancel_requested_by == "brand":
            return (_("%(brand)s proposed to cancel this order: agree to cancel (the brand is refunded), or keep "
                      "working and message them.", brand=brand) if side == "creator" else
                    _("Cancellation proposed: waiting for %(creator)s to agree.", creator=creator))
        if side == "creator":
            if order.publish_until:
                return _("Make the content and submit your draft. Publish by %(day)s.",
                         day=_date(order.publish_until))
            return _("Make the content and submit your draft.")
        return _("%(creator)s is working on the draft.", creator=creator)
    if state == "draft_submitted":
        if acting_brand:
            return _("A draft is ready for you: approve it, or request a revision (%(left)s of %(rounds)s rounds "
                     "left).", left=order.revisions_left, rounds=order.revision_rounds)
        if side == "creator":
            return _("Waiting for %(brand)s to review your draft.", brand=brand)
        return _("A draft waits for %(brand)s's review (%(left)s of %(rounds)s revision rounds left).", brand=brand,
                 left=order.revisions_left, rounds=order.revision_rounds)
    if state == "revision_requested":
        if side == "creator":
            return _("%(brand)s asked for changes: revise the draft and submit it again.", brand=brand)
        return _("Waiting for %(creator)s to submit the revised draft.", creator=creator)
    if state == "draft_approved":
        if side == "creator":
            return _("Draft approved: publish it on your account, then give us the link to the work.")
        return _("Draft approved. Waiting for %(creator)s to publish it.", creator=creator)
    if state == "published":
        when = relative(order.auto_confirm_at)
        if acting_brand:
            return _("Published: check the work and confirm to pay the creator. It confirms automatically %(when)s.",
                     when=when)
        return _("Published. Waiting for %(brand)s to confirm — it confirms automatically %(when)s.",
                 brand=brand, when=when)
    if state == "completed":
        if order.retention:
            return _("Completed. The retention of %(amount)s is released to the creator when the live window ends "
                     "%(when)s.", amount=_money(order.retention, order.currency), when=relative(order.live_until))
        return _("Completed: the creator has been paid.")
    if state == "closed":
        return _("Closed: everything is settled.")
    if state == "disputed":
        return _("In dispute: a Canal reviewer is looking at it. The order and its money are frozen until they "
                 "decide.")
    if state == "resolved":
        return _("The dispute was decided: %(paid)s to the creator, %(refunded)s back to the brand.",
                 paid=_money(order.paid_to_creator, order.currency),
                 refunded=_money(order.refunded_to_brand, order.currency))
    if state == "declined":
        return _("%(creator)s declined the offer; the escrow went back to the brand's wallet.", creator=creator)
    if state == "expired":
        return _("The offer expired without an answer; the escrow went back to the brand's wallet.")
    if state == "withdrawn":
        return _("%(brand)s withdrew the offer; the escrow went back to the brand's wallet.", brand=brand)
    return _("Cancelled; the escrow went back to the brand's wallet.")


def _money(minor: int, currency: str) -> str:
    return money_filter(minor, currency)


def _date(day: date) -> str:
    return current_app.jinja_env.filters["date"](day)


def stepper(order: Order) -> list[dict]:
    """The happy path's steps with their status: done, current, todo, or halted (ended or frozen there)."""
    state = order.state
    halted = state in ("disputed", "resolved", "declined", "expired", "withdrawn", "cancelled")
    here = STEP_OF_STATE.get(order.disputed_from if state in ("disputed", "resolved") else state, 0)
    finished = state == "closed"
    steps = []
    for index, key in enumerate(STEPS):
        label = STEP_LABELS[key]
        if key == "offered" and order.origin == "job":
            label = _("Hired")
        if index < here or (finished and index == here):
            status = "done"
        elif index == here:
            status = "halted" if halted else "current"
        else:
            status = "todo"
        steps.append({"key": key, "label": label, "status": status})
    return steps


def escrow_held(order: Order) -> int:
    return balance(get_session(), flows.order_escrow(order.id))


# --- uploads ------------------------------------------------------------------------------------------------------


def _uploads(field) -> list:
    data = field.data or []
    if not isinstance(data, list):
        data = [data]
    return [f for f in data if f is not None and getattr(f, "filename", "")]


def _store_checked(db, uploads, *, allowed, max_bytes, field: str, image_max: int | None = None) -> list:
    """Check every upload first (type from the content, size), then store them all: a refused file stores none."""
    checked = []
    for upload in uploads:
        data, mime = check_upload(upload.stream, allowed=allowed, max_bytes=max_bytes, field=field)
        if image_max is not None and mime in IMAGE_TYPES and len(data) > image_max:
            raise ValidationFailed(_l("%(name)s is too large: images are at most %(size)s MB.",
                                      name=os.path.basename(upload.filename or ""), size=image_max // (1024 * 1024)),
                                   field=field)
        checked.append((data, mime, os.path.basename(upload.filename or "upload")))
    return [store_bytes(db, data, mime, name, current_user.id) for data, mime, name in checked]


def _draft_files(db, field) -> list:
    cfg = current_app.config
    return _store_checked(db, _uploads(field), allowed=DRAFT_TYPES, max_bytes=cfg["DRAFT_VIDEO_MAX_BYTES"],
                          field=field.name, image_max=cfg["DRAFT_IMAGE_MAX_BYTES"])


def _attachments(db, field) -> list:
    return _store_checked(db, _uploads(field), allowed=ATTACHMENT_TYPES,
                          max_bytes=current_app.config["ATTACHMENT_MAX_BYTES"], field=field.name)


# --- the brand's order board -------------------------------------------------------------------------------------


def _int_arg(name: str) -> int | None:
    try:
        return int(request.args.get(name, ""))
    except ValueError:
        return None


def _page_arg() -> int:
    return min(max(_int_arg("page") or 1, 1), MAX_PAGE)


@bp.get("/enterprises/<int:enterprise_id>/orders")
@login_required
def board(enterprise_id: int):
    db = get_session()
    enterprise = db.get(Enterprise, enterprise_id)
    if enterprise is None:
        abort(404)
    authz.require("enterprise.orders.view", enterprise)
    column = request.args.get("column", "active")
    if column not in BRAND_COLUMNS:
        column = "active"
    q = request.args.get("q", "").strip()[:100]
    result = queries.board_list(db, enterprise.id, current_user.id, column=column, campaign_id=_int_arg("campaign"),
                                q=q, page=_page_arg())
    campaigns = result.campaigns
    campaign_names = {c.id: c.name for c in campaigns}
    campaign_id = _int_arg("campaign")
    if campaign_id not in campaign_names:
        campaign_id = None
    rows = page_rows(result.rows, side="brand", campaigns=campaign_names)
    return render_template(
        "orders/board.html", enterprise=enterprise, result=result, column=column, columns=BRAND_COLUMNS,
        column_labels=COLUMN_LABELS, counts=count_labels(result.counts), campaigns=campaigns,
        campaign_id=campaign_id, q=q, rows_html=rows_html(rows, side="brand"), rows=rows,
    )


# --- direct offers --------------------------------------------------------------------------------------------


def _offer_defaults(creator: Creator, card) -> dict:
    content_type = request.args.get("content_type", "")
    if content_type not in CONTENT_TYPES:
        priced = [ct for ct in CONTENT_TYPES if card and card.price_for(ct)]
        content_type = priced[0] if priced else "short_video"
    start = utcnow().date() + timedelta(days=card.lead_time_days if card else 7)
    return {
        "content_type": content_type,
        "price": yuan_input(card.price_for(content_type) if card else None),
        "revision_rounds": card.revision_rounds if card else 1,
        "live_days": current_app.config["ORDER_LIVE_DAYS"],
        "usage_rights_days": 30,
        "publish_from": start,
        "publish_until": start + timedelta(days=14),
        "campaign_id": None,
    }


def _offer_money(enterprise: Enterprise, price: int | None, live_days: int | None) -> dict:
    """The breakdown the offer form shows: price + service fee now; what the creator receives, and when."""
    if live_days is None or not 0 <= live_days <= 365:
        live_days = current_app.config["ORDER_LIVE_DAYS"]
    fees = services.compute_fees(price, live_days) if price and price > 0 else None
    return {"fees": fees, "wallet": wallet_summary(get_session(), enterprise.id), "live_days": live_days}


def _htmx() -> bool:
    return request.headers.get("HX-Request") == "true" and not request.headers.get("HX-History-Restore-Request")


def _parse_price(text: str | None) -> int | None:
    try:
        minor = Money.parse(text or "").minor
    except MoneyError:
        return None
    return minor if minor > 0 else None


@bp.route("/creators/<int:creator_id>/offer", methods=["GET", "POST"])
@login_required
def offer_new(creator_id: int):
    db = get_session()
    creator = db.get(Creator, creator_id)
    if creator is None or not creator.listed:
        abort(404)
    enterprise = authz.require_acting_enterprise("enterprise.orders")
    card = creator_services.current_rate_card(db, creator)
    if request.method == "GET" and _htmx():
        return _offer_fragment(enterprise, creator, card)
    campaigns = recruiting.campaigns_of(db, enterprise.id)
    form = OfferForm(data=None if request.method == "POST" else _offer_defaults(creator, card))
    form.campaign_id.choices = choices([("", _("No campaign")), *[(str(c.id), c.name) for c in campaigns]])
    _wire_offer_form(form, creator)
    status, short_of_funds = 200, False
    if form.validate_on_submit():
        try:
            order = services.send_offer(
                db, services.brand(current_user), enterprise, creator, title=form.title.data,
                content_type=form.content_type.data, price=form.price.minor, brief=form.brief.data or "",
                deliverables=form.deliverables.data or "", publish_from=form.publish_from.data,
                publish_until=form.publish_until.data, revision_rounds=form.revision_rounds.data,
                live_days=form.live_days.data, usage_rights_days=form.usage_rights_days.data,
                campaign_id=form.campaign_id.data)
            db.commit()
        except InsufficientFunds as error:
            db.rollback()
            form.price.errors = [*form.price.errors, _("Not enough funds in the wallet for this offer.")]
            status, short_of_funds = error.status_code, True
        except DomainError as error:
            db.rollback()
            status = _refused_form(form, error)
        else:
            flash(_("Offer sent to %(name)s. %(total)s is held in escrow until they answer; the offer expires %(when)s.",
                    name=creator.display_name, total=_money(order.total, order.currency),
                    when=relative(order.offer_expires_at)), "success")
            return redirect(url_for("orders.detail", order_id=order.id))
    elif form.errors:
        status = 400
    money = _offer_money(enterprise, form.price.minor if form.price.minor is not None else
                         _parse_price(form.price.data), form.live_days.data)
    return render_template("orders/offer.html", enterprise=enterprise, creator=creator, card=card, form=form,
                           content_types=CONTENT_TYPES, short_of_funds=short_of_funds,
                           can_top_up=authz.can(current_user, "enterprise.finance", enterprise), **money), status


def _wire_offer_form(form: OfferForm, creator: Creator) -> None:
    """htmx on the offer form: a new content type prefills its rate-card price; the price and the live window
    refresh the money breakdown as they are typed (without JavaScript, the breakdown follows on submit)."""
    url = url_for("orders.offer_new", creator_id=creator.id)
    common = {"hx-get": url, "hx-swap": "outerHTML", "hx-sync": "closest form:replace"}
    form.content_type.render_kw = {**common, "hx-trigger": "change", "hx-target": "#price-field",
                                   "hx-include": "#price, #live_days", "hx-vals": '{"part": "price"}'}
    typing = {**common, "hx-trigger": "input changed delay:300ms", "hx-target": "#offer-breakdown"}
    form.price.render_kw = {"inputmode": "decimal", "autocomplete": "off", **typing,
                            "hx-include": "#content_type, #live_days"}
    form.live_days.render_kw = {**typing, "hx-include": "#content_type, #price"}


def _offer_fragment(enterprise: Enterprise, creator: Creator, card):
    """htmx: the money breakdown for the price typed so far, and (on a content type change) the price field
    prefilled from the rate card."""
    content_type = request.args.get("content_type", "")
    part = request.args.get("part", "breakdown")
    price_text = request.args.get("price", "")
    if part == "price" and card and content_type in CONTENT_TYPES and card.price_for(content_type):
        price_text = yuan_input(card.price_for(content_type))
    live_days = _int_arg("live_days")
    form = OfferForm(formdata=None, data={"price": price_text, "content_type": content_type})
    _wire_offer_form(form, creator)
    response = make_response(render_template(
        "orders/_offer_fragment.html", part=part, form=form, card=card, creator=creator, enterprise=enterprise,
        content_types=CONTENT_TYPES, oob=part == "price", short_of_funds=False,
        **_offer_money(enterprise, _parse_price(price_text), live_days)))
    response.vary.add("HX-Request")
    return response


def _refused_form(form, error: DomainError) -> int:
    """Put a domain error beside its field (or flash it); the status to answer with."""
    if not apply_domain_error(form, error):
        flash(error.message, "error")
    return error.status_code


# --- the order page ------------------------------------------------------------------------------------------------

ACTION_FORMS = {
    "decline": DeclineForm, "submit_draft": DraftForm, "approve_draft": ApproveForm,
    "request_revision": RevisionForm, "publish": PublishForm, "cancel": CancelForm, "request_cancel": CancelForm,
    "open_dispute": DisputeForm, "add_evidence": EvidenceForm, "report_removed": RemovedForm, "review": ReviewForm,
    "message": MessageForm,
}


def _actions(order: Order, viewer: Viewer, my_review: Review | None, pending_report: bool,
             dispute: Dispute | None) -> set[str]:
    """What the viewer may do now (the forms the page shows)."""
    if not viewer.can_act or viewer.side == "staff":
        return set()
    now = utcnow()
    allowed = set(states.allowed_actions(order.state, viewer.side))
    actions = {"message"}
    if viewer.side == "creator":
        actions |= allowed & {"accept", "decline", "submit_draft", "publish", "open_dispute"}
        if order.state == "in_progress":
            actions.add("cancel")  # alone, or agreeing to the brand's proposal
    else:
        actions |= allowed & {"withdraw", "approve_draft", "request_revision", "confirm", "open_dispute"}
        if order.state == "in_progress":
            actions.add("cancel" if order.cancel_requested_by == "creator" else "request_cancel")
        if order.state == "completed" and order.live_until and order.live_until > now and not pending_report:
            actions.add("report_removed")
    if dispute is not None and dispute.state == "open":
        actions.add("add_evidence")
    if (order.state in reviews.REVIEWABLE_STATES and order.review_until and order.review_until > now
            and my_review is None):
        actions.add("review")
    return actions


def _render_detail(order: Order, *, forms: dict | None = None, status: int = 200, panel: str | None = None):
    db = get_session()
    viewer = viewer_of(order)
    if viewer is None:  # pragma: no cover - every caller has authorized a side
        abort(403)
    events = list(db.scalars(select(OrderEvent).where(OrderEvent.order_id == order.id)
                             .options(selectinload(OrderEvent.actor)).order_by(OrderEvent.id)))
    drafts = list(db.scalars(select(Draft).where(Draft.order_id == order.id)
                             .options(selectinload(Draft.files).selectinload(DraftFile.file)).order_by(Draft.number)))
    dispute = db.scalar(select(Dispute).where(Dispute.order_id == order.id).order_by(Dispute.id.desc()).limit(1)
                        .options(selectinload(Dispute.evidence).selectinload(DisputeEvidence.file)))
    reports = list(db.scalars(select(LiveReport).where(LiveReport.order_id == order.id).order_by(LiveReport.id)))
    order_reviews = {r.author_side: r for r in db.scalars(select(Review).where(Review.order_id == order.id))}
    my_review = order_reviews.get(viewer.side)
    other = services.other_side(viewer.side) if viewer.side != "staff" else None
    their_review = order_reviews.get(other) if other else None
    visible_reviews = [r for r in order_reviews.values() if r.visible]
    thread = messaging.messages(db, "order", order.id)
    actions = _actions(order, viewer, my_review, any(r.state == "pending" for r in reports), dispute)
    forms = dict(forms or {})
    for name, form_class in ACTION_FORMS.items():
        if name in actions and name not in forms:
            forms[name] = form_class(formdata=None)
    if "message" not in forms:
        forms["message"] = MessageForm(formdata=None)
    forms.setdefault("button", ActionForm(formdata=None))
    works = _recent_works(order) if "publish" in actions else []
    if viewer.side != "staff" and thread:
        messaging.mark_read_in_own_transaction(get_session(), current_user, "order", order.id, thread[-1].id)
    response = make_response(render_template(
        "orders/detail.html", order=order, viewer=viewer, next_step=next_step(order, viewer), steps=stepper(order),
        events=events, drafts=drafts, dispute=dispute, reports=reports, my_review=my_review,
        their_review=their_review, visible_reviews=visible_reviews, thread=thread, actions=actions, forms=forms,
        panel=panel, works=works, escrow=escrow_held(order), side_labels=SIDE_LABELS,
        action_labels=states.ORDER_ACTION_LABELS, dispute_reasons=states.DISPUTE_REASONS,
        decision_labels=disputes.DECISION_LABELS, deadline=deadline(order), relative=relative,
        content_types=CONTENT_TYPES, state_labels=states.ORDER_STATE_LABELS, state_tones=states.ORDER_STATE_TONES,
        campaign=order.campaign, now=utcnow(), settlement=_settlement(order, dispute)), status)
    return response


def _settlement(order: Order, dispute) -> dict | None:
    """What a reviewer's decision actually paid (for a resolved order's money card), else None."""
    if order.state != "resolved" or dispute is None or dispute.decision is None:
        return None
    to_creator, to_brand, fee_kept, commission_kept = disputes.dispute_split(order, dispute.decision,
                                                                            dispute.to_creator)
    return {"share": to_creator + commission_kept, "to_creator": to_creator, "to_brand": to_brand,
            "service_fee_kept": fee_kept, "commission_kept": commission_kept}


def _recent_works(order: Order) -> list:
    """The creator's recent public works on the platform, to pick the published one from."""
    from marketplace.creators.stats import current_connector

    account = order.creator.platform_account
    if account is None:
        return []
    try:
        works = current_connector().list_works(account.external_id, 8, now=utcnow())
    except LookupError:
        return []
    return [w for w in works if w.is_live]


@bp.get("/orders/<int:order_id>")
@login_required
def detail(order_id: int):
    order = _load_order(order_id)
    if viewer_of(order) is None:
        abort(403)
    return _render_detail(order)


def _back(order: Order, anchor: str = ""):
    target = safe_next(request.form.get("next"))
    return redirect(target or url_for("orders.detail", order_id=order.id) + (f"#{anchor}" if anchor else ""))


def _act(order: Order, name: str, form, run, success, anchor: str = ""):
    """Validate ``form``, run the service, commit and go back to the order (or ``next``); a refusal re-renders
    the order page with the reason beside the field (or at the top) and the error's status."""
    db = get_session()
    if not form.validate_on_submit():
        return _render_detail(order, forms={name: form}, status=400, panel=name)
    try:
        run(db)
        db.commit()
    except DomainError as error:
        db.rollback()
        status = _refused_form(form, error)
        return _render_detail(_load_order(order.id), forms={name: form}, status=status, panel=name)
    flash(success() if callable(success) else success, "success")
    return _back(order, anchor)


# --- the creator's actions ------------------------------------------------------------------------------------------


@bp.post("/orders/<int:order_id>/accept")
@login_required
def accept(order_id: int):
    order = _load_order(order_id)
    actor = _as_creator(order)
    return _act(order, "button", ActionForm(), lambda db: services.accept_offer(db, order, actor),
                _l("Offer accepted. The money is in escrow: submit your draft when it is ready."))


@bp.post("/orders/<int:order_id>/decline")
@login_required
def decline(order_id: int):
    order = _load_order(order_id)
    actor = _as_creator(order)
    form = DeclineForm()
    return _act(order, "decline", form,
                lambda db: services.decline_offer(db, order, actor, reason=(form.decline_reason.data or "").strip()),
                _l("Offer declined. The brand has been told and refunded."))


@bp.post("/orders/<int:order_id>/drafts")
@login_required
def submit_draft(order_id: int):
    order = _load_order(order_id)
    actor = _as_creator(order)
    form = DraftForm()

    def run(db):
        files = _draft_files(db, form.files)
        services.submit_draft(db, order, actor, note=(form.draft_note.data or "").strip(),
                              link_url=form.link_url.data or "", files=files)

    return _act(order, "submit_draft", form, run, _l("Draft submitted. The brand has been asked to review it."),
                "drafts")


@bp.post("/orders/<int:order_id>/publish")
@login_required
def publish(order_id: int):
    order = _load_order(order_id)
    actor = _as_creator(order)
    form = PublishForm()
    return _act(order, "publish", form, lambda db: services.publish(db, order, actor, work_url=form.chosen_url),
                _l("Published. The brand confirms, or the order confirms itself after the confirmation window."))


@bp.post("/orders/<int:order_id>/cancel")
@login_required
def cancel(order_id: int):
    """The creator cancels an order in progress, or either side agrees to the other's proposal."""
    order = _load_order(order_id)
    actor = _as_party(order)
    form = CancelForm()
    return _act(order, "cancel", form,
                lambda db: services.cancel(db, order, actor, reason=(form.cancel_reason.data or "").strip()),
                _l("The order is cancelled and the escrow refunded to the brand."))


# --- the brand's actions -----------------------------------------------------------------------------------------------


@bp.post("/orders/<int:order_id>/withdraw")
@login_required
def withdraw(order_id: int):
    order = _load_order(order_id)
    actor = _as_brand(order)
    return _act(order, "button", ActionForm(), lambda db: services.withdraw_offer(db, order, actor),
                _l("Offer withdrawn. The escrow is back in your wallet."))


@bp.post("/orders/<int:order_id>/approve")
@login_required
def approve_draft(order_id: int):
    order = _load_order(order_id)
    actor = _as_brand(order)
    form = ApproveForm()
    return _act(order, "approve_draft", form,
                lambda db: services.approve_draft(db, order, actor, note=(form.approve_note.data or "").strip()),
                _l("Draft approved. The creator has been asked to publish it."))


@bp.post("/orders/<int:order_id>/revision")
@login_required
def request_revision(order_id: int):
    order = _load_order(order_id)
    actor = _as_brand(order)
    form = RevisionForm()
    return _act(order, "request_revision", form,
                lambda db: services.request_revision(db, order, actor, feedback=form.feedback.data),
                _l("Revision requested. The creator has your comments."))


@bp.post("/orders/<int:order_id>/confirm")
@login_required
def confirm(order_id: int):
    order = _load_order(order_id)
    actor = _as_brand(order)
    return _act(order, "button", ActionForm(), lambda db: services.confirm(db, order, actor),
                lambda: _("Confirmed. %(amount)s goes to the creator now; the retention follows when the live window "
                          "ends.", amount=_money(order.price - order.commission - order.retention, order.currency)))


@bp.post("/orders/<int:order_id>/propose-cancel")
@login_required
def request_cancel(order_id: int):
    order = _load_order(order_id)
    actor = _as_brand(order)
    form = CancelForm()
    return _act(order, "request_cancel", form,
                lambda db: services.request_cancel(db, order, actor, reason=(form.cancel_reason.data or "").strip()),
                _l("Cancellation proposed. If the creator agrees, the escrow comes back to your wallet."))


@bp.post("/orders/<int:order_id>/report-removed")
@login_required
def report_removed(order_id: int):
    order = _load_order(order_id)
    actor = _as_brand(order)
    form = RemovedForm()

    def run(db):
        removed_at = None
        if form.removed_on.data:
            zone = ZoneInfo(current_user.timezone or "Asia/Shanghai")
            removed_at = datetime.combine(form.removed_on.data, time(12), tzinfo=zone)
        disputes.report_removed(db, order, actor, note=form.note.data, removed_at=removed_at)

    return _act(order, "report_removed", form, run,
                _l("Thank you. A reviewer checks the work; if it was removed, part of the retention comes back to you."))


# --- either side ---------------------------------------------------------------------------------------------------------


@bp.post("/orders/<int:order_id>/dispute")
@login_required
def open_dispute(order_id: int):
    order = _load_order(order_id)
    actor = _as_party(order)
    form = DisputeForm()

    def run(db):
        evidence = _attachments(db, form.evidence)
        disputes.open_dispute(db, order, actor, reason=form.reason.data, description=form.description.data,
                              evidence=evidence)

    return _act(order, "open_dispute", form, run,
                _l("Dispute opened. The order is frozen; a Canal reviewer will look at it and decide."), "dispute")


@bp.post("/orders/<int:order_id>/evidence")
@login_required
def add_evidence(order_id: int):
    order = _load_order(order_id)
    actor = _as_party(order)
    form = EvidenceForm()

    def run(db):
        dispute = disputes.open_dispute_of(db, order)
        if dispute is None:
            raise ValidationFailed(_l("There is no open dispute on this order."), field="more_evidence")
        files = _attachments(db, form.more_evidence)
        if not files:
            raise ValidationFailed(_l("Choose at least one file."), field="more_evidence")
        disputes.add_evidence(db, dispute, actor, files)

    return _act(order, "add_evidence", form, run, _l("Evidence added to the dispute."), "dispute")


@bp.post("/orders/<int:order_id>/review")
@login_required
def review(order_id: int):
    order = _load_order(order_id)
    actor = _as_party(order)
    form = ReviewForm()
    return _act(order, "review", form,
                lambda db: reviews.write_review(db, order, actor, rating=form.rating.data,
                                                comment=form.review_comment.data or ""),
                _l("Thank you for your review. It is shown once the other side has reviewed too, or when the review "
                   "window closes."), "reviews")


@bp.post("/orders/<int:order_id>/messages")
@login_required
def message(order_id: int):
    order = _load_order(order_id)
    actor = _as_party(order)
    form = MessageForm()

    def run(db):
        upload = _uploads(form.attachment)
        stored = store_upload(db, upload[0], allowed=ATTACHMENT_TYPES,
                              max_bytes=current_app.config["ATTACHMENT_MAX_BYTES"], field="attachment",
                              uploaded_by_id=current_user.id) if upload else None
        messaging.post_message(db, order, actor, body=form.body.data or "", file=stored)

    return _act(order, "message", form, run, _l("Message sent."), "messages")


# --- files ------------------------------------------------------------------------------------------------------------


@bp.get("/orders/<int:order_id>/files/<int:file_id>")
@login_required
def file(order_id: int, file_id: int):
    """A draft file, dispute evidence or message attachment of this order, to its parties and reviewers."""
    order = _load_order(order_id)
    if viewer_of(order) is None:
        abort(403)
    db = get_session()
    drafts = (select(DraftFile.id).join(Draft, Draft.id == DraftFile.draft_id)
              .where(Draft.order_id == order.id, DraftFile.file_id == file_id))
    evidence = (select(DisputeEvidence.id).join(Dispute, Dispute.id == DisputeEvidence.dispute_id)
                .where(Dispute.order_id == order.id, DisputeEvidence.file_id == file_id))
    attachments = select(Message.id).where(Message.thread_type == "order", Message.thread_id == order.id,
                                           Message.file_id == file_id)
    if not db.scalar(select(or_(drafts.exists(), evidence.exists(), attachments.exists()))):
        abort(404)
    stored = db.get(StoredFile, file_id)
    if stored is None:  # pragma: no cover - the references are RESTRICT / SET NULL
        abort(404)
    return send_stored_file(stored)


# --- the creator's offers inbox and order list ----------------------------------------------------------------------------


@bp.get("/creator/offers")
@login_required
def offers():
    creator = _own_creator()
    db = get_session()
    result = queries.creator_orders_page(db, creator.id, column="offers", page=_page_arg())
    unread = messaging.unread_counts(db, current_user, "order", [o.id for o in result.orders])
    return render_template("orders/offers.html", creator=creator, result=result, button=ActionForm(formdata=None),
                           rows=offer_rows(result.orders, unread))


@bp.get("/creator/orders")
@login_required
def my_orders():
    creator = _own_creator()
    db = get_session()
    column = request.args.get("column", "active")
    if column not in CREATOR_COLUMNS:
        column = "active"
    q = request.args.get("q", "").strip()[:100]
    result = queries.creator_list(db, creator.id, current_user.id, column=column, q=q, page=_page_arg())
    rows = page_rows(result.rows, side="creator")
    counts = result.counts
    return render_template("orders/my_orders.html", creator=creator, result=result, column=column,
                           columns=CREATOR_COLUMNS, column_labels=CREATOR_COLUMN_LABELS, counts=count_labels(counts),
                           has_offers=counts["offers"] > 0, offers_count=counts["offers"], q=q, rows=rows,
                           rows_html=rows_html(rows, side="creator"))

