"""Shared setup for the service-level tests of order-taking: a fixed clock, a brand and a creator ready to deal,
orders driven to any state through the real services, and row counts to prove that nothing was written.

The builders take a plain session (not the conftest fixtures) so the committed-database concurrency tests use
the same worlds as the rolled-back ones.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import count

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace.accounts.models import User
from marketplace.creators.models import Creator
from marketplace.enterprises.models import Enterprise
from marketplace.ledger import flows
from marketplace.ledger.services import balance
from marketplace.orders import services
from marketplace.orders.models import Order
from marketplace.orders.services import Actor

# The tests' clock: fixed, so the sandbox platform's works (which depend on the date) are the same every run.
NOW = datetime(2026, 11, 20, 4, 0, tzinfo=UTC)
PASSWORD = "correct horse battery staple 42"
_n = count(1)
_run = secrets.token_hex(3)


def _next() -> int:
    return next(_n)


# --- builders on a plain session -----------------------------------------------------------------------------


def new_user(session: Session, **overrides) -> User:
    from marketplace.accounts.services import create_user

    n = _next()
    values = {"email": f"ow{n}.{_run}@example.com", "password": PASSWORD, "display_name": f"World {n}",
              "signup_kind": "brand", "verified": True, **overrides}
    user = create_user(session, **values)
    session.flush()
    return user


def new_enterprise(session: Session, owner: User | None = None, *, state: str = "verified",
                   balance_fen: int = 100_000_00) -> Enterprise:
    """An enterprise in ``state`` (verified by default) with ``balance_fen`` in its wallet (bank top-up)."""
    from marketplace.enterprises import services as enterprise_services
    from marketplace.files.services import store_bytes
    from marketplace.seed import licence_png
    from tests.conftest import valid_uscc

    owner = owner or new_user(session)
    n = _next()
    uscc = valid_uscc(500_000 + n)
    details = enterprise_services.EnterpriseDetails(
        legal_name=f"订单测试企业{n}有限公司", display_name=f"Order Brand {n}", uscc=uscc, contact_name="Contact",
        contact_phone="+86 21 5555 0000", contact_email=owner.email, invoice_title="", tax_number="")
    enterprise = enterprise_services.create_enterprise(session, owner, details)
    stored = store_bytes(session, licence_png("Test", uscc), "image/png", "licence.png", owner.id)
    enterprise.licence_file_id = stored.id
    if state in ("pending", "verified"):
        enterprise_services.submit_for_verification(session, owner, enterprise)
    if state == "verified":
        enterprise_services.approve_enterprise(session, new_user(session, staff_role="reviewer"), enterprise)
    if balance_fen:
        flows.top_up(session, enterprise_id=enterprise.id, amount=balance_fen, rail="bank",
                     key=f"order-world-top-up:{enterprise.id}")
    else:
        flows.open_enterprise_wallet(session, enterprise.id)
    session.flush()
    return enterprise


def new_creator(session: Session, handle: str | None = None, *, price: int = 1_000_00, revision_rounds: int = 2,
                categories=("beauty",), regions=("31",), now: datetime | None = None) -> Creator:
    """A listed creator accepting orders, linked to the sandbox account ``@handle``."""
    from marketplace.creators import services as creator_services
    from marketplace.creators import stats

    n = _next()
    handle = handle or f"ow_creator_{n}_{_run}"
    creator = creator_services.become_creator(session, new_user(session, signup_kind="creator"))
    stats.link_platform_account(session, creator, f"@{handle}", now=now)
    creator_services.update_profile(session, creator, handle=handle.replace(".", "_")[:30],
                                    display_name=f"Creator {n}", kind="individual", bio="测评达人 short videos",
                                    categories=list(categories), regions=list(regions), languages=["zh"],
                                    accepting_orders=True)
    creator_services.save_rate_card(session, creator, {"short_video": price, "image_text": 400_00},
                                    revision_rounds, 7, "")
    session.flush()
    assert creator.listed
    return creator


def new_reviewer(session: Session) -> User:
    return new_user(session, staff_role="reviewer", display_name="Reviewer")


@dataclass
class Deal:
    """A brand (its owner acting) and a creator who can do business."""

    enterprise: Enterprise
    owner: User
    creator: Creator

    @property
    def brand(self) -> Actor:
        return Actor("brand", self.owner)

    @property
    def maker(self) -> Actor:
        return Actor("creator", self.creator.user)

    @property
    def wallet(self) -> str:
        return flows.enterprise_available(self.enterprise.id)

    @property
    def pending(self) -> str:
        return flows.creator_pending(self.creator.id)


def new_deal(session: Session, *, balance_fen: int = 100_000_00, handle: str | None = None, price: int = 1_000_00,
             revision_rounds: int = 2) -> Deal:
    enterprise = new_enterprise(session, balance_fen=balance_fen)
    creator = new_creator(session, handle, price=price, revision_rounds=revision_rounds)
    return Deal(enterprise, enterprise.memberships[0].user, creator)


# --- orders through the services ---------------------------------------------------------------------------


def offer(session: Session, deal: Deal, *, price: int | None = 1_000_00, now: datetime = NOW, **terms) -> Order:
    values = {"title": "春季新品测评", "content_type": "short_video", "brief": "Try the serum for a week", **terms}
    return services.send_offer(session, deal.brand, deal.enterprise, deal.creator, price=price, now=now, **values)


def _stays_live(connector, work, now: datetime) -> bool:
    # The sandbox takes a few works down two days after publishing; an order's work must not be one of them
    # unless the test wants it (the live check would close the order).
    return work.is_live and connector.lookup_work(work.url, now=now + timedelta(days=400)).is_live


def live_work(creator: Creator, now: datetime):
    """The newest work of the creator's account that is live at ``now`` and stays live."""
    from marketplace.creators.stats import current_connector

    connector = current_connector()
    works = connector.list_works(creator.platform_account.external_id, 30, now=now)
    return next(w for w in works if _stays_live(connector, w, now))


def fresh_work(creator: Creator, after: datetime):
    """The creator's first work published at or after ``after`` (an order's work is published after the order
    was accepted) that stays live; the sandbox account posts every day or few."""
    from marketplace.creators.stats import current_connector

    connector = current_connector()
    works = connector.list_works(creator.platform_account.external_id, 30, now=after + timedelta(days=30))
    return min((w for w in works if w.published_at >= after and _stays_live(connector, w, after)),
               key=lambda w: w.published_at)


# The happy path from an offer: each state and the step that reaches it.
PATH = ("offered", "in_progress", "draft_submitted", "draft_approved", "published", "completed", "closed")


def advance(session: Session, order: Order, deal: Deal, to_state: str, *, now: datetime = NOW,
            work_url: str | None = None) -> Order:
    """Drive ``order`` along the happy path (or to ``revision_requested``) until it is in ``to_state``.

    Steps happen at ``now``, except publishing: at the moment the creator's next work after the acceptance
    appeared on the platform (or ``now`` if later); the steps after it follow at that moment.
    """
    if to_state == "revision_requested":
        order = advance(session, order, deal, "draft_submitted", now=now)
        return services.request_revision(session, order, deal.brand, feedback="Show the bottle first", now=now)
    assert to_state in PATH, to_state
    while order.state != to_state:
        state = order.state
        if state == "offered":
            order = services.accept_offer(session, order, deal.maker, now=now)
        elif state in ("in_progress", "revision_requested"):
            services.submit_draft(session, order, deal.maker, link_url="https://drive.example/draft", now=now)
        elif state == "draft_approved":
            if work_url is None:
                work = fresh_work(deal.creator, order.accepted_at)
                now = max(now, work.published_at)
            order = services.publish(session, order, deal.maker, work_url=work_url or work.url, now=now)
        elif state == "draft_submitted":
            order = services.approve_draft(session, order, deal.brand, now=now)
        elif state == "published":
            order = services.confirm(session, order, deal.brand, now=now)
        elif state == "completed":
            order = services.close_live_window(session, order, now=order.live_until + timedelta(seconds=1))
        else:  # pragma: no cover - a state off the happy path
            raise AssertionError(f"cannot advance from {state} to {to_state}")
        session.flush()
    return order


def order_in(session: Session, deal: Deal, state: str, *, price: int | None = 1_000_00, now: datetime = NOW,
             **terms) -> Order:
    return advance(session, offer(session, deal, price=price, now=now, **terms), deal, state, now=now)


# --- jobs and applications ------------------------------------------------------------------------------------


def job_terms(now: datetime = NOW, **overrides):
    from marketplace.orders.recruiting import JobTerms

    values = dict(title="双十一护肤测评招募", brief="Review our new serum in a 60-second video, honest opinion welcome.",
                  content_type="short_video", deliverables="One short video", budget=800_00, slots=2,
                  application_deadline=now + timedelta(days=3), publish_from=(now + timedelta(days=4)).date(),
                  publish_until=(now + timedelta(days=20)).date(), criteria_categories=[], criteria_regions=[],
                  criteria_min_followers=None, criteria_max_followers=None, usage_rights_days=30, live_days=30,
                  revision_rounds=1)
    values.update(overrides)
    return JobTerms(**values)


def open_job(session: Session, deal: Deal, *, now: datetime = NOW, reviewer: User | None = None, **overrides):
    """A job of ``deal``'s brand, submitted and approved: open to applications."""
    from marketplace.orders import recruiting

    job = recruiting.save_job(session, deal.brand, deal.enterprise, job_terms(now, **overrides), now=now)
    recruiting.submit_job(session, job, deal.brand, now=now)
    reviewer = reviewer or new_reviewer(session)
    return recruiting.review_job(session, job, Actor("staff", reviewer), approve=True, now=now)


def apply(session: Session, job, creator: Creator, *, quote: int = 750_00, now: datetime = NOW):
    from marketplace.orders import recruiting

    return recruiting.apply_to_job(session, job, creator, quote=quote, pitch="I review skincare every week.",
                                   now=now)


# --- proving nothing was written -------------------------------------------------------------------------------


def row_counts(session: Session) -> dict[str, int]:
    """Rows in every table order-taking writes (and the ledger's)."""
    from marketplace.ledger.models import LedgerTransaction, Posting
    from marketplace.mail.models import OutboxEmail
    from marketplace.notifications.models import Notification
    from marketplace.orders import models as m

    tables = {"orders": m.Order, "order_events": m.OrderEvent, "drafts": m.Draft, "draft_files": m.DraftFile,
              "disputes": m.Dispute, "evidence": m.DisputeEvidence, "live_reports": m.LiveReport,
              "messages": m.Message, "reviews": m.Review, "jobs": m.Job, "job_events": m.JobEvent,
              "applications": m.Application, "campaigns": m.Campaign, "ledger_transactions": LedgerTransaction,
              "ledger_postings": Posting, "notifications": Notification, "emails": OutboxEmail}
    return {name: session.scalar(select(func.count()).select_from(model)) for name, model in tables.items()}


def balances(session: Session, *codes: str) -> dict[str, int]:
    return {code: balance(session, code) for code in codes}


def revenue(session: Session) -> tuple[int, int]:
    """(service fee revenue, commission revenue) now: platform-wide, so tests compare before and after."""
    return balance(session, flows.REVENUE_SERVICE_FEE), balance(session, flows.REVENUE_COMMISSION)
