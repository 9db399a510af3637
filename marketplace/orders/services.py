"""The order lifecycle: every change of an order's state goes through ``transition`` (design.md §4).

``transition`` locks the order row (``FOR UPDATE`` on PostgreSQL; SQLite write transactions are serialised),
asks the table in ``orders.states`` for the next state, checks that the actor really is that side of this
order, applies the money effect through ``ledger.flows`` with a key derived from the order (so a retried or
concurrent request posts once), records an ``OrderEvent`` and notifies the other side. The verb functions
below (``send_offer``, ``submit_draft``, ``confirm`` …) check their own rules and then call it.

Money, frozen on the order at creation (``order_terms`` from configuration):
- the brand pays price + service fee into escrow when the order is funded (offer sent, application accepted);
- on confirmation the escrow pays the creator price − commission − retention (to pending earnings), the
  service fee and commission to revenue, and keeps the retention;
- at the end of the live window the retention goes to the creator, less a pro-rata refund to the brand for the
  days the work was not live (a removal upheld);
- decline / expiry / withdrawal / cancellation refund everything held; a dispute decision splits it.

Services flush, never commit; side effects (emails) go through the outbox.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.accounts.models import User
from marketplace.creators.models import Creator, RateCardVersion
from marketplace.db import utcnow
from marketplace.enterprises.models import Enterprise, Membership
from marketplace.errors import Conflict, InvalidTransition, NotAllowed, ValidationFailed
from marketplace.ledger import flows
from marketplace.ledger.flows import EscrowRelease
from marketplace.money import format_money
from marketplace.notifications.services import notify
from marketplace.orders import states
from marketplace.orders.models import Draft, DraftFile, LiveReport, Order, OrderEvent
from marketplace.urls import path_for

BRAND_ACTING_ROLES = ("owner", "manager")


# --- actors ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Actor:
    """Who acts, and as which side of the order: brand, creator, staff or system (timers)."""

    side: str
    user: User | None = None

    @property
    def user_id(self) -> int | None:
        return self.user.id if self.user else None


SYSTEM = Actor("system")


def brand(user: User) -> Actor:
    return Actor("brand", user)


def creator_actor(user: User) -> Actor:
    return Actor("creator", user)


def staff(user: User) -> Actor:
    return Actor("staff", user)


def brand_role(session: Session, user: User, enterprise_id: int) -> str | None:
    return session.scalar(select(Membership.role).where(Membership.user_id == user.id,
                                                        Membership.enterprise_id == enterprise_id))


def check_actor(session: Session, order: Order, actor: Actor) -> None:
    """The actor really is that side of this order. :raises NotAllowed:"""
    if actor.side == "system":
        return
    user = actor.user
    if user is None or not user.is_active:
        raise NotAllowed(_l("Log in to do that."))
    if actor.side == "creator":
        if order.creator.user_id != user.id:
            raise NotAllowed(_l("This is not your order."))
    elif actor.side == "brand":
        role = brand_role(session, user, order.enterprise_id)
        if role is None:
            raise NotAllowed(_l("This is not your enterprise's order."))
        if role not in BRAND_ACTING_ROLES:
            raise NotAllowed(_l("Your role (%(role)s) can view orders but not act on them; ask an owner or a manager.",
                                role=role))
    elif actor.side == "staff":
        if user.staff_role not in ("reviewer", "admin"):
            raise NotAllowed(_l("Only reviewers decide that."))
    else:  # pragma: no cover - sides are fixed
        raise NotAllowed(_l("Unknown side."))


# --- terms ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Fees:
    price: int
    service_fee: int
    commission: int
    retention: int
    service_fee_bp: int
    commission_bp: int
    retention_bp: int

    @property
    def total(self) -> int:
        return self.price + self.service_fee


def _bp_of(amount: int, basis_points: int) -> int:
    """``basis_points``/10000 of ``amount``, rounded half up (amounts are non-negative)."""
    quotient, remainder = divmod(amount * basis_points, 10000)
    return quotient + (1 if remainder * 2 >= 10000 else 0)


def compute_fees(price: int, live_days: int, *, service_fee_bp: int | None = None, commission_bp: int | None = None,
                 retention_bp: int | None = None) -> Fees:
    """The order's money from its price and the configured rates (retention only with a live window)."""
    cfg = current_app.config
    service_fee_bp = cfg["ORDER_SERVICE_FEE_BP"] if service_fee_bp is None else service_fee_bp
    commission_bp = cfg["ORDER_COMMISSION_BP"] if commission_bp is None else commission_bp
    retention_bp = (cfg["ORDER_RETENTION_BP"] if retention_bp is None else retention_bp) if live_days > 0 else 0
    commission = _bp_of(price, commission_bp)
    return Fees(price, _bp_of(price, service_fee_bp), commission, _bp_of(price - commission, retention_bp),
                service_fee_bp, commission_bp, retention_bp)


def clean_price(amount: int | None, field: str = "price") -> int:
    """:raises ValidationFailed: not a positive amount, or above the order ceiling."""
    if amount is None or amount <= 0:
        raise ValidationFailed(_l("Enter an amount above zero."), field=field)
    if amount > current_app.config["ORDER_MAX_PRICE"]:
        raise ValidationFailed(_l("At most %(max)s per order.", max=format_money(current_app.config["ORDER_MAX_PRICE"])),
                               field=field)
    return amount


# --- the one transition service ---------------------------------------------------------------------------


def lock_order(session: Session, order_id: int) -> Order:
    """Load the order for update (row lock on PostgreSQL), with fresh values. :raises LookupError:"""
    order = session.execute(select(Order).where(Order.id == order_id).with_for_update()
                            .execution_options(populate_existing=True)).scalar_one_or_none()
    if order is None:
        raise LookupError(order_id)
    return order


def record_event(session: Session, order: Order, action: str, actor: Actor, *, from_state: str | None,
                 to_state: str | None, note: str = "", data: dict | None = None, now: datetime | None = None) -> OrderEvent:
    event = OrderEvent(order_id=order.id, action=action, actor_id=actor.user_id, actor_side=actor.side,
                       from_state=from_state, to_state=to_state, note=note or "", data=data or {},
                       created_at=now or utcnow())
    session.add(event)
    return event


def transition(session: Session, order: Order, action: str, actor: Actor, *, now: datetime | None = None,
               note: str = "", data: dict | None = None, dispute_split: tuple[int, int, int, int] | None = None,
               retention_refund: int = 0) -> Order:
    """Take ``action`` on ``order`` as ``actor``: next state, money effect, event. Returns the locked order.

    :raises InvalidTransition: not possible in the order's current state (e.g. confirming twice).
    :raises NotAllowed: the actor is not the side that may do it, or not that side of this order.
    :raises InsufficientFunds: funding an order the wallet cannot afford; nothing is written.
    """
    now = now or utcnow()
    creating = order.id is None  # the order's creation is its first transition (from no state)
    if not creating:
        order = lock_order(session, order.id)
    from_state = None if creating else order.state
    step = states.next_order_state(from_state, action, actor.side)
    check_actor(session, order, actor)
    if creating:
        order.state = step.to
        session.add(order)
        session.flush()  # the id names the escrow account and the idempotency keys
    _apply_money(session, order, step.money, actor, dispute_split=dispute_split, retention_refund=retention_refund)
    order.state = step.to
    order.updated_at = now
    record_event(session, order, action, actor, from_state=from_state, to_state=step.to, note=note, data=data, now=now)
    session.flush()
    return order


def _apply_money(session: Session, order: Order, effect: str | None, actor: Actor, *,
                 dispute_split: tuple[int, int, int, int] | None, retention_refund: int) -> None:
    key = f"order:{order.id}"
    common = dict(order_id=order.id, currency=order.currency)
    if effect == states.FUND:
        flows.fund_escrow(session, enterprise_id=order.enterprise_id, price=order.price,
                          service_fee=order.service_fee, key=f"{key}:fund", actor_id=actor.user_id, **common)
    elif effect == states.REFUND:
        flows.refund_escrow(session, enterprise_id=order.enterprise_id, amount=order.total, key=f"{key}:refund",
                            actor_id=actor.user_id, **common)
        order.refunded_to_brand = order.total
    elif effect == states.RELEASE:
        split = EscrowRelease(order.price, order.service_fee, order.commission, order.retention)
        flows.release_escrow(session, creator_id=order.creator_id, split=split, key=f"{key}:release",
                             actor_id=actor.user_id, **common)
        order.paid_to_creator = split.creator_now
    elif effect == states.SETTLE_RETENTION:
        refund = min(max(retention_refund, 0), order.retention)
        if order.retention:
            flows.release_retention(session, creator_id=order.creator_id, enterprise_id=order.enterprise_id,
                                    to_creator=order.retention - refund, to_enterprise=refund,
                                    key=f"{key}:retention", actor_id=actor.user_id, **common)
        order.paid_to_creator += order.retention - refund
        order.refunded_to_brand += refund
    elif effect == states.SETTLE_DISPUTE:
        to_creator, to_brand, fee_kept, commission_kept = dispute_split
        flows.settle_escrow(session, creator_id=order.creator_id, enterprise_id=order.enterprise_id,
                            to_creator=to_creator, to_enterprise=to_brand, service_fee=fee_kept,
                            commission=commission_kept, key=f"{key}:dispute", actor_id=actor.user_id, **common)
        order.paid_to_creator = to_creator
        order.refunded_to_brand = to_brand


# --- who hears about it -------------------------------------------------------------------------------------


def brand_users(session: Session, enterprise_id: int) -> list[User]:
    """The members who act on orders (owners and managers)."""
    return list(session.scalars(select(User).join(Membership, Membership.user_id == User.id)
                                .where(Membership.enterprise_id == enterprise_id,
                                       Membership.role.in_(BRAND_ACTING_ROLES))))


def order_path(order: Order) -> str:
    return path_for("orders.detail", order_id=order.id)


def _params(order: Order, **extra) -> dict:
    return {"title": order.title, "brand": order.enterprise.display_name, "creator": order.creator.display_name,
            **extra}


def notify_side(session: Session, order: Order, side: str, kind: str, *, dedupe_key: str | None = None,
                now: datetime | None = None, **params) -> int:
    """Notify one side of the order (the creator, or the brand's owners and managers); how many were added."""
    users = brand_users(session, order.enterprise_id) if side == "brand" else [order.creator.user]
    return notify(session, users, kind, url=order_path(order), params=_params(order, **params),
                  dedupe_key=dedupe_key, now=now)


def other_side(side: str) -> str:
    return "creator" if side == "brand" else "brand"


# --- creating orders ------------------------------------------------------------------------------------


def _check_can_hire(enterprise: Enterprise, creator: Creator) -> None:
    if enterprise.verification_state != "verified":
        raise NotAllowed(_l("Your enterprise must be verified before it can hire creators."))
    if not creator.listed:
        raise ValidationFailed(_l("This creator is not available on Canal."))


def _clean_terms(*, title: str, content_type: str, publish_from: date | None, publish_until: date | None,
                 revision_rounds: int, live_days: int, usage_rights_days: int, today: date) -> None:
    from marketplace.creators.taxonomy import CONTENT_TYPES

    if not (title or "").strip():
        raise ValidationFailed(_l("Give the order a title."), field="title")
    if content_type not in CONTENT_TYPES:
        raise ValidationFailed(_l("Choose a content type."), field="content_type")
    if publish_from and publish_until and publish_until < publish_from:
        raise ValidationFailed(_l("The publish window ends before it starts."), field="publish_until")
    if publish_until and publish_until < today:
        raise ValidationFailed(_l("The publish window is already over."), field="publish_until")
    if not 0 <= revision_rounds <= 10:
        raise ValidationFailed(_l("Between 0 and 10 revision rounds."), field="revision_rounds")
    if not 0 <= live_days <= 365:
        raise ValidationFailed(_l("Between 0 and 365 days."), field="live_days")
    if not 0 <= usage_rights_days <= 3650:
        raise ValidationFailed(_l("Between 0 and 3,650 days."), field="usage_rights_days")


def send_offer(session: Session, actor: Actor, enterprise: Enterprise, creator: Creator, *, title: str,
               content_type: str, price: int | None, brief: str = "", deliverables: str = "",
               publish_from: date | None = None, publish_until: date | None = None, revision_rounds: int | None = None,
               live_days: int | None = None, usage_rights_days: int = 30, campaign_id: int | None = None,
               now: datetime | None = None) -> Order:
    """Send a direct offer (指派), funded now from the wallet; it expires after the configured hours.

    :raises NotAllowed: unverified enterprise, or the actor may not act for it.
    :raises ValidationFailed: bad terms, a zero price, a creator not accepting orders.
    :raises InsufficientFunds: the wallet (with its credit line) cannot cover price + service fee.
    """
    now = now or utcnow()
    cfg = current_app.config
    _check_can_hire(enterprise, creator)
    if not creator.accepting_orders:
        raise ValidationFailed(_l("%(name)s is not accepting orders at the moment.", name=creator.display_name))
    if creator.user_id == (actor.user_id or 0):
        raise ValidationFailed(_l("You cannot send an offer to yourself."))
    card = session.get(RateCardVersion, creator.rate_card_version_id) if creator.rate_card_version_id else None
    if price is None and card is not None:
        price = card.price_for(content_type)
    price = clean_price(price)
    revision_rounds = card.revision_rounds if revision_rounds is None and card else (revision_rounds or 0)
    live_days = cfg["ORDER_LIVE_DAYS"] if live_days is None else live_days
    _clean_terms(title=title, content_type=content_type, publish_from=publish_from, publish_until=publish_until,
                 revision_rounds=revision_rounds, live_days=live_days, usage_rights_days=usage_rights_days,
                 today=now.date())
    _check_campaign(session, enterprise.id, campaign_id)
    fees = compute_fees(price, live_days)
    order = Order(enterprise_id=enterprise.id, creator_id=creator.id, campaign_id=campaign_id, origin="offer",
                  title=title.strip(), brief=brief or "", content_type=content_type, deliverables=deliverables or "",
                  currency=card.currency if card else "CNY", price=fees.price, service_fee=fees.service_fee,
                  commission=fees.commission, retention=fees.retention, service_fee_bp=fees.service_fee_bp,
                  commission_bp=fees.commission_bp, retention_bp=fees.retention_bp,
                  rate_card_version_id=card.id if card else None, revision_rounds=revision_rounds,
                  live_days=live_days, usage_rights_days=usage_rights_days, publish_from=publish_from,
                  publish_until=publish_until,
                  offer_expires_at=now + timedelta(hours=cfg["ORDER_OFFER_TTL_HOURS"]), created_by_id=actor.user_id,
                  created_at=now, updated_at=now, enterprise=enterprise, creator=creator)
    transition(session, order, "send_offer", actor, now=now,
               data={"price": fees.price, "service_fee": fees.service_fee, "rate_card_price":
                     card.price_for(content_type) if card else None})
    notify_side(session, order, "creator", "offer_received", now=now,
                price=format_money(order.price, order.currency, locale=order.creator.user.locale))
    return order


def _check_campaign(session: Session, enterprise_id: int, campaign_id: int | None) -> None:
    from marketplace.orders.models import Campaign

    if campaign_id is None:
        return
    campaign = session.get(Campaign, campaign_id)
    if campaign is None or campaign.enterprise_id != enterprise_id:
        raise ValidationFailed(_l("Choose one of your campaigns."), field="campaign_id")


def create_order_from_application(session: Session, actor: Actor, application, *, now: datetime) -> Order:
    """The order an accepted application becomes: the job's terms, the creator's quote; funded now."""
    job = application.job
    creator = application.creator
    fees = compute_fees(application.quote, job.live_days)
    order = Order(enterprise_id=job.enterprise_id, creator_id=creator.id, campaign_id=job.campaign_id,
                  job_id=job.id, origin="job", title=job.title, brief=job.brief, content_type=job.content_type,
                  deliverables=job.deliverables, currency=job.currency, price=fees.price,
                  service_fee=fees.service_fee, commission=fees.commission, retention=fees.retention,
                  service_fee_bp=fees.service_fee_bp, commission_bp=fees.commission_bp,
                  retention_bp=fees.retention_bp, rate_card_version_id=creator.rate_card_version_id,
                  revision_rounds=job.revision_rounds, live_days=job.live_days,
                  usage_rights_days=job.usage_rights_days, publish_from=job.publish_from,
                  publish_until=job.publish_until, accepted_at=now, created_by_id=actor.user_id, created_at=now,
                  updated_at=now, enterprise=job.enterprise, creator=creator)
    transition(session, order, "accept_application", actor, now=now,
               data={"application_id": application.id, "price": fees.price, "service_fee": fees.service_fee})
    return order


# --- offers ---------------------------------------------------------------------------------------------


def accept_offer(session: Session, order: Order, actor: Actor, *, now: datetime | None = None) -> Order:
    """The creator accepts a direct offer. :raises InvalidTransition: not offered any more (expired, withdrawn)."""
    now = now or utcnow()
    order = lock_order(session, order.id)
    if order.state == "offered" and order.offer_expires_at and order.offer_expires_at <= now:
        raise InvalidTransition(_l("This offer expired on %(when)s.", when=order.offer_expires_at.strftime("%Y-%m-%d %H:%M UTC")))
    order = transition(session, order, "accept", actor, now=now)
    order.accepted_at = now
    notify_side(session, order, "brand", "offer_accepted", now=now)
    return order


def decline_offer(session: Session, order: Order, actor: Actor, *, reason: str = "", now: datetime | None = None) -> Order:
    """The creator declines; the escrow is refunded."""
    order = transition(session, order, "decline", actor, now=now, note=reason)
    order.decline_reason = reason or ""
    notify_side(session, order, "brand", "offer_declined", now=now)
    return order


def withdraw_offer(session: Session, order: Order, actor: Actor, *, now: datetime | None = None) -> Order:
    """The brand withdraws an offer not yet accepted; the escrow is refunded."""
    order = transition(session, order, "withdraw", actor, now=now)
    notify_side(session, order, "creator", "offer_withdrawn", now=now)
    return order


def expire_offer(session: Session, order: Order, *, now: datetime) -> Order | None:
    """Expire a due offer (the timer); None when it is no longer due (accepted, or already expired)."""
    order = lock_order(session, order.id)
    if order.state != "offered" or order.offer_expires_at is None or order.offer_expires_at > now:
        return None
    order = transition(session, order, "expire", SYSTEM, now=now)
    notify_side(session, order, "brand", "offer_expired", now=now)
    notify_side(session, order, "creator", "offer_expired", now=now)
    return order


# --- delivering -----------------------------------------------------------------------------------------


def latest_draft(session: Session, order: Order) -> Draft | None:
    return session.scalar(select(Draft).where(Draft.order_id == order.id).order_by(Draft.number.desc()).limit(1))


def drafts(session: Session, order: Order) -> list[Draft]:
    return list(session.scalars(select(Draft).where(Draft.order_id == order.id).order_by(Draft.number)))


def submit_draft(session: Session, order: Order, actor: Actor, *, note: str = "", link_url: str = "",
                 files=(), now: datetime | None = None) -> Draft:
    """Submit (or resubmit) a draft: uploaded files and/or a link, with a note.

    ``files`` are already-stored ``StoredFile`` rows (the view checks type and size before storing).
    :raises ValidationFailed: neither a file nor a link.
    """
    now = now or utcnow()
    link_url = (link_url or "").strip()
    if not files and not link_url:
        raise ValidationFailed(_l("Attach the draft (a file) or give a link to it."), field="files")
    if link_url and not link_url.startswith(("https://", "http://")):
        raise ValidationFailed(_l("Enter a full link starting with https://"), field="link_url")
    order = lock_order(session, order.id)
    number = (session.scalar(select(Draft.number).where(Draft.order_id == order.id)
                             .order_by(Draft.number.desc()).limit(1)) or 0) + 1
    order = transition(session, order, "submit_draft", actor, now=now, note=note, data={"draft": number})
    draft = Draft(order_id=order.id, number=number, note=note or "", link_url=link_url, submitted_by_id=actor.user_id,
                  created_at=now)
    draft.files = [DraftFile(file_id=f.id) for f in files]
    session.add(draft)
    session.flush()
    notify_side(session, order, "brand", "draft_submitted", now=now)
    return draft


def approve_draft(session: Session, order: Order, actor: Actor, *, note: str = "", now: datetime | None = None) -> Order:
    now = now or utcnow()
    order = transition(session, order, "approve_draft", actor, now=now, note=note)
    draft = latest_draft(session, order)
    if draft is not None:
        draft.decision, draft.feedback, draft.decided_at = "approved", note or "", now
    notify_side(session, order, "creator", "draft_approved", now=now)
    return order


def request_revision(session: Session, order: Order, actor: Actor, *, feedback: str,
                     now: datetime | None = None) -> Order:
    """Ask for changes (counted against the included rounds). :raises ValidationFailed: no comments, no rounds left."""
    now = now or utcnow()
    if not (feedback or "").strip():
        raise ValidationFailed(_l("Say what should change."), field="feedback")
    order = lock_order(session, order.id)
    if order.state == "draft_submitted" and order.revisions_used >= order.revision_rounds:
        raise ValidationFailed(ngettext_rounds(order.revision_rounds), field="feedback")
    order = transition(session, order, "request_revision", actor, now=now, note=feedback,
                       data={"round": order.revisions_used + 1})
    order.revisions_used += 1
    draft = latest_draft(session, order)
    if draft is not None:
        draft.decision, draft.feedback, draft.decided_at = "revision_requested", feedback.strip(), now
    notify_side(session, order, "creator", "revision_requested", now=now)
    return order


def ngettext_rounds(rounds: int):
    if rounds == 0:
        return _l("This order includes no revision rounds: approve the draft, message the creator, or open a dispute.")
    return _l("All %(n)s included revision rounds are used: approve the draft, message the creator, or open a dispute.",
              n=rounds)


def publish(session: Session, order: Order, actor: Actor, *, work_url: str, now: datetime | None = None) -> Order:
    """Publish the approved draft: the work URL must name a live work of the creator's linked account.

    :raises InvalidTransition: the draft is not approved (checked before the link).
    :raises ValidationFailed: unknown work, another account's work, a work that is not public, or (with
        ``ORDER_WORK_AFTER_ACCEPTANCE``) one published before the order was accepted.
    """
    from marketplace.creators.stats import current_connector

    now = now or utcnow()
    work_url = (work_url or "").strip()
    if not work_url:
        raise ValidationFailed(_l("Enter the link to the published work."), field="work_url")
    order = lock_order(session, order.id)
    check_actor(session, order, actor)
    states.next_order_state(order.state, "publish", actor.side)  # not possible now: say so before the link
    account = order.creator.platform_account
    if account is None:
        raise ValidationFailed(_l("Link your platform account first."), field="work_url")
    work = current_connector().lookup_work(work_url, now=now)
    if work is None:
        raise ValidationFailed(_l("We could not find this work on the platform. Check the link."), field="work_url")
    if work.owner_external_id != account.external_id:
        raise ValidationFailed(_l("This work belongs to another account, not to %(handle)s.", handle=account.handle),
                               field="work_url")
    if not work.is_live:
        raise ValidationFailed(_l("This work is not public on the platform."), field="work_url")
    # An old video is not the work the order paid for. Switched by ORDER_WORK_AFTER_ACCEPTANCE until the pages,
    # demo data and tests that publish a creator's latest (older) work have moved to works posted after acceptance.
    if (current_app.config.get("ORDER_WORK_AFTER_ACCEPTANCE", False) and order.accepted_at is not None
            and work.published_at < order.accepted_at):
        raise ValidationFailed(_l("This work was published before the order started: publish the approved draft "
                                  "as a new work."), field="work_url")
    order = transition(session, order, "publish", actor, now=now, data={"work_url": work.url})
    order.work_url, order.work_external_id = work.url, work.external_id
    order.published_at = now
    order.auto_confirm_at = now + timedelta(days=current_app.config["ORDER_AUTO_CONFIRM_DAYS"])
    notify_side(session, order, "brand", "published", now=now, date=order.auto_confirm_at.date().isoformat())
    return order


def confirm(session: Session, order: Order, actor: Actor, *, now: datetime | None = None) -> Order:
    """The brand confirms the published work: the escrow is released. :raises InvalidTransition: twice."""
    return _complete(session, order, "confirm", actor, now=now or utcnow())


def auto_confirm(session: Session, order: Order, *, now: datetime) -> Order | None:
    """Confirm a published order whose confirmation window passed (the timer); None when not due."""
    order = lock_order(session, order.id)
    if order.state != "published" or order.auto_confirm_at is None or order.auto_confirm_at > now:
        return None
    return _complete(session, order, "auto_confirm", SYSTEM, now=now)


def _complete(session: Session, order: Order, action: str, actor: Actor, *, now: datetime) -> Order:
    cfg = current_app.config
    order = transition(session, order, action, actor, now=now)
    order.completed_at = now
    published = order.published_at or now
    order.live_until = published + timedelta(days=order.live_days)
    order.review_until = now + timedelta(days=cfg["REVIEW_WINDOW_DAYS"])
    notify_side(session, order, "creator", "confirmed", now=now,
                amount=format_money(order.price - order.commission - order.retention, order.currency,
                                    locale=order.creator.user.locale))
    return order


def close_live_window(session: Session, order: Order, *, now: datetime, actor: Actor = SYSTEM,
                      removed_at: datetime | None = None) -> Order | None:
    """Settle the retention: at the end of the live window (all to the creator), or when a removal is
    established (pro rata: the brand gets back the share of the window the work was not live). None when not due
    (the window runs, or a brand's removal report waits for a reviewer).
    """
    order = lock_order(session, order.id)
    if order.state != "completed" or order.live_until is None:
        return None
    if removed_at is None and (order.live_until > now or removal_pending(session, order)):
        return None
    refund = retention_refund(order, removed_at) if removed_at else 0
    order = transition(session, order, "close", actor, now=now, retention_refund=refund,
                       data={"retention_refund": refund, "removed_at": removed_at.isoformat() if removed_at else None})
    order.closed_at = now
    notify_side(session, order, "creator", "order_closed", now=now)
    notify_side(session, order, "brand", "order_closed", now=now)
    return order


def removal_pending(session: Session, order: Order) -> bool:
    """A brand's removal report on the order waits for a reviewer (the retention waits for the decision)."""
    return session.scalar(select(LiveReport.id).where(LiveReport.order_id == order.id,
                                                      LiveReport.state == "pending").limit(1)) is not None


def retention_refund(order: Order, removed_at: datetime) -> int:
    """The retention's share for the days of the live window after the work went down (whole days missed)."""
    if not order.retention or not order.live_days or order.live_until is None:
        return 0
    seconds_missed = (order.live_until - max(removed_at, order.published_at or removed_at)).total_seconds()
    days_missed = min(order.live_days, max(0, int(-(-seconds_missed // 86400))))  # a started day counts
    return order.retention * days_missed // order.live_days


# --- cancelling -------------------------------------------------------------------------------------------


def request_cancel(session: Session, order: Order, actor: Actor, *, reason: str = "", now: datetime | None = None) -> Order:
    """Propose to cancel an order in progress; the other side agrees (refund) or not.

    :raises NotAllowed: not the brand or the creator of the order. :raises InvalidTransition: not in progress.
    :raises Conflict: proposed already by this side.
    """
    now = now or utcnow()
    if actor.side not in ("brand", "creator"):
        raise NotAllowed(_l("Only the brand and the creator can cancel an order."))
    order = lock_order(session, order.id)
    check_actor(session, order, actor)
    if order.state != "in_progress":
        raise InvalidTransition(_l("Only an order in progress can be cancelled."))
    if order.cancel_requested_by == actor.side:
        raise Conflict(_l("You already proposed to cancel; the other side decides."))
    order.cancel_requested_by = actor.side
    order.updated_at = now
    record_event(session, order, "request_cancel", actor, from_state=order.state, to_state=order.state, note=reason,
                 now=now)
    notify_side(session, order, other_side(actor.side), "cancel_requested", now=now)
    return order


def cancel(session: Session, order: Order, actor: Actor, *, reason: str = "", now: datetime | None = None) -> Order:
    """Cancel an order in progress: by the creator alone, or by the side that did not propose it (agreement)."""
    order = lock_order(session, order.id)
    proposed = order.cancel_requested_by
    if proposed and proposed != actor.side and actor.side in ("brand", "creator"):
        action = "agree_cancel"
    elif actor.side == "creator":
        action = "cancel"
    else:
        raise NotAllowed(_l("The creator must agree: propose the cancellation instead."))
    order = transition(session, order, action, actor, now=now, note=reason)
    notify_side(session, order, other_side(actor.side), "cancelled", now=now)
    return order
