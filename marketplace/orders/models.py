"""Order-taking (接单): campaigns, jobs, applications, orders with their events, drafts, disputes, live reports,
messages and reviews (design.md §4).

Invariants:
- an order is one brand (enterprise) × one creator × one deliverable; its price, fees, retention and terms are
  frozen on the row when it is created and never change afterwards;
- ``orders.state`` changes only through ``orders.services.transition`` (the table in ``orders.states``), which
  records an ``OrderEvent`` for every change and moves the money through ``ledger.flows`` with idempotency keys
  derived from the order (``order:<id>:fund`` …), so a retried or concurrent transition posts once;
- an order's escrow holds price + service fee from funding until release/refund; after completion it still
  holds the retention until the live window ends (or a removal is upheld);
- a job's ``slots_filled`` counts its accepted applications and never exceeds ``slots``; a creator applies to
  a job at most once;
- each side reviews an order at most once; a review becomes visible when both sides have reviewed or the
  review window closes.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Date, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.accounts.models import User
from marketplace.creators.models import Creator
from marketplace.db import Base, utcnow
from marketplace.enterprises.models import Enterprise
from marketplace.files.models import StoredFile
from marketplace.modeltypes import one_of
from marketplace.orders.states import (
    APPLICATION_STATES,
    DISPUTE_STATES,
    JOB_STATES,
    LIVE_REPORT_STATES,
    ORDER_STATES,
)

CONTENT_TYPE_CODES = ("short_video", "long_video", "livestream", "image_text")
SIDES = ("brand", "creator", "staff", "system")


class Campaign(Base):
    """A brand's grouping of jobs, orders (and later boosts) with a budget and dates."""

    __tablename__ = "campaigns"
    __table_args__ = (Index("ix_campaigns_enterprise_id_created_at", "enterprise_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(120))
    goal: Mapped[str] = mapped_column(Text, default="")
    budget: Mapped[int] = mapped_column(BigInteger, default=0)
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    starts_on: Mapped[date | None] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)
    archived: Mapped[bool] = mapped_column(default=False)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    enterprise: Mapped[Enterprise] = relationship()


class Job(Base):
    """An open call (招募) creators apply to."""

    __tablename__ = "jobs"
    __table_args__ = (
        one_of("state", JOB_STATES),
        one_of("content_type", CONTENT_TYPE_CODES),
        Index("ix_jobs_enterprise_id_state_created_at", "enterprise_id", "state", "created_at"),
        Index("ix_jobs_state_application_deadline", "state", "application_deadline"),
        Index("ix_jobs_state_submitted_at", "state", "submitted_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id", ondelete="CASCADE"))
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id", ondelete="SET NULL"), index=True)
    title: Mapped[str] = mapped_column(String(120))
    brief: Mapped[str] = mapped_column(Text, default="")
    content_type: Mapped[str] = mapped_column(String(20))
    deliverables: Mapped[str] = mapped_column(Text, default="")
    budget: Mapped[int] = mapped_column(BigInteger)  # per creator, minor units
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    slots: Mapped[int] = mapped_column(default=1)
    slots_filled: Mapped[int] = mapped_column(default=0)
    application_deadline: Mapped[datetime]
    publish_from: Mapped[date] = mapped_column(Date)
    publish_until: Mapped[date] = mapped_column(Date)
    criteria_categories: Mapped[list[str]] = mapped_column(JSON, default=list)
    criteria_regions: Mapped[list[str]] = mapped_column(JSON, default=list)
    criteria_min_followers: Mapped[int | None] = mapped_column(BigInteger)
    criteria_max_followers: Mapped[int | None] = mapped_column(BigInteger)
    usage_rights_days: Mapped[int] = mapped_column(default=30)
    live_days: Mapped[int] = mapped_column(default=30)
    revision_rounds: Mapped[int] = mapped_column(default=1)
    state: Mapped[str] = mapped_column(String(16), default="draft")
    rejection_reason: Mapped[str] = mapped_column(Text, default="")
    application_count: Mapped[int] = mapped_column(default=0)
    submitted_at: Mapped[datetime | None]
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reviewed_at: Mapped[datetime | None]
    opened_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    enterprise: Mapped[Enterprise] = relationship()
    campaign: Mapped[Campaign | None] = relationship()

    @property
    def slots_left(self) -> int:
        return max(0, self.slots - self.slots_filled)


class JobEvent(Base):
    """A job's state change (who, when, from, to, note)."""

    __tablename__ = "job_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    from_state: Mapped[str | None] = mapped_column(String(16))
    to_state: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    actor: Mapped[User | None] = relationship()


class Application(Base):
    """A creator's application to a job: a quote and a pitch."""

    __tablename__ = "applications"
    __table_args__ = (
        one_of("state", APPLICATION_STATES),
        UniqueConstraint("job_id", "creator_id"),
        Index("ix_applications_job_id_state_created_at", "job_id", "state", "created_at"),
        Index("ix_applications_creator_id_created_at", "creator_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"))
    creator_id: Mapped[int] = mapped_column(ForeignKey("creators.id", ondelete="CASCADE"))
    quote: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    pitch: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[str] = mapped_column(String(16), default="submitted")
    rejection_reason: Mapped[str] = mapped_column(Text, default="")
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id", ondelete="SET NULL", use_alter=True,
                                                            name="fk_applications_order_id_orders"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[datetime | None]
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    job: Mapped[Job] = relationship()
    creator: Mapped[Creator] = relationship()


class Order(Base):
    """One brand × one creator × one deliverable, with its money frozen at creation."""

    __tablename__ = "orders"
    __table_args__ = (
        one_of("state", ORDER_STATES),
        one_of("content_type", CONTENT_TYPE_CODES),
        one_of("origin", ("offer", "job")),
        # The brand's order board (by state, newest activity first) and the creator's order list.
        Index("ix_orders_enterprise_id_state_updated_at", "enterprise_id", "state", "updated_at", "id"),
        Index("ix_orders_enterprise_id_updated_at", "enterprise_id", "updated_at", "id"),
        Index("ix_orders_creator_id_state_updated_at", "creator_id", "state", "updated_at", "id"),
        Index("ix_orders_creator_id_updated_at", "creator_id", "updated_at", "id"),
        # Timers: each job walks one of these from the earliest due row.
        Index("ix_orders_state_offer_expires_at", "state", "offer_expires_at"),
        Index("ix_orders_state_auto_confirm_at", "state", "auto_confirm_at"),
        Index("ix_orders_state_live_until", "state", "live_until"),
        Index("ix_orders_state_live_checked_at", "state", "live_checked_at"),
        Index("ix_orders_state_review_until", "state", "review_until"),  # the review window's reminder
        Index("ix_orders_campaign_id_state_updated_at", "campaign_id", "state", "updated_at", "id"),  # board filter
        Index("ix_orders_job_id", "job_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id", ondelete="RESTRICT"))
    creator_id: Mapped[int] = mapped_column(ForeignKey("creators.id", ondelete="RESTRICT"))
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id", ondelete="SET NULL"))
    job_id: Mapped[int | None] = mapped_column(ForeignKey("jobs.id", ondelete="SET NULL"))
    origin: Mapped[str] = mapped_column(String(8))  # "offer" (指派) or "job" (招募)
    title: Mapped[str] = mapped_column(String(120))
    brief: Mapped[str] = mapped_column(Text, default="")
    content_type: Mapped[str] = mapped_column(String(20))
    deliverables: Mapped[str] = mapped_column(Text, default="")
    # Money, frozen (minor units).
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    price: Mapped[int] = mapped_column(BigInteger)
    service_fee: Mapped[int] = mapped_column(BigInteger)  # paid by the brand on top of the price
    commission: Mapped[int] = mapped_column(BigInteger)  # kept from the creator's price
    retention: Mapped[int] = mapped_column(BigInteger)  # kept in escrow until the live window ends
    service_fee_bp: Mapped[int] = mapped_column(default=0)
    commission_bp: Mapped[int] = mapped_column(default=0)
    retention_bp: Mapped[int] = mapped_column(default=0)
    rate_card_version_id: Mapped[int | None] = mapped_column(ForeignKey("rate_card_versions.id", ondelete="SET NULL"))
    # Terms, frozen.
    revision_rounds: Mapped[int] = mapped_column(default=1)
    revisions_used: Mapped[int] = mapped_column(default=0)
    live_days: Mapped[int] = mapped_column(default=30)
    usage_rights_days: Mapped[int] = mapped_column(default=30)
    publish_from: Mapped[date | None] = mapped_column(Date)
    publish_until: Mapped[date | None] = mapped_column(Date)
    # State and its clocks.
    state: Mapped[str] = mapped_column(String(20))
    offer_expires_at: Mapped[datetime | None]
    accepted_at: Mapped[datetime | None]
    published_at: Mapped[datetime | None]
    auto_confirm_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    live_until: Mapped[datetime | None]
    live_checked_at: Mapped[datetime | None]  # last asked the platform whether the work is still live
    review_until: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    # The deadline each reminder was last sent for (``timers.send_reminders``, ``reviews.close_review_windows``):
    # a reminder goes once per deadline, and again if the deadline moves.
    offer_reminded_for: Mapped[datetime | None]  # offer_expires_at
    confirm_reminded_for: Mapped[datetime | None]  # auto_confirm_at
    review_reminded_for: Mapped[datetime | None]  # review_until
    work_url: Mapped[str] = mapped_column(String(300), default="")
    work_external_id: Mapped[str | None] = mapped_column(String(64))
    disputed_from: Mapped[str | None] = mapped_column(String(20))
    cancel_requested_by: Mapped[str | None] = mapped_column(String(8))
    decline_reason: Mapped[str] = mapped_column(Text, default="")
    # Money outcome (what the escrow paid out), for the breakdown without reading the ledger.
    paid_to_creator: Mapped[int] = mapped_column(BigInteger, default=0)
    refunded_to_brand: Mapped[int] = mapped_column(BigInteger, default=0)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    enterprise: Mapped[Enterprise] = relationship()
    creator: Mapped[Creator] = relationship()
    campaign: Mapped[Campaign | None] = relationship()
    job: Mapped[Job | None] = relationship()

    @property
    def total(self) -> int:
        """What the brand pays into escrow: price + service fee."""
        return self.price + self.service_fee

    @property
    def creator_net(self) -> int:
        """What the creator receives in all when everything goes well: price − commission."""
        return self.price - self.commission

    @property
    def revisions_left(self) -> int:
        return max(0, self.revision_rounds - self.revisions_used)


class OrderEvent(Base):
    """One thing that happened to an order: a transition (from → to) or a note-worthy action."""

    __tablename__ = "order_events"
    __table_args__ = (Index("ix_order_events_order_id_id", "order_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    action: Mapped[str] = mapped_column(String(32))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    actor_side: Mapped[str] = mapped_column(String(8))
    from_state: Mapped[str | None] = mapped_column(String(20))
    to_state: Mapped[str | None] = mapped_column(String(20))
    note: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    actor: Mapped[User | None] = relationship()


class Draft(Base):
    """A submitted draft (first submission or a resubmission), with files and/or a link and a note."""

    __tablename__ = "order_drafts"
    __table_args__ = (UniqueConstraint("order_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    number: Mapped[int]  # 1 for the first draft, 2 after the first revision, ...
    note: Mapped[str] = mapped_column(Text, default="")
    link_url: Mapped[str] = mapped_column(String(300), default="")
    decision: Mapped[str | None] = mapped_column(String(20))  # approved | revision_requested
    feedback: Mapped[str] = mapped_column(Text, default="")
    decided_at: Mapped[datetime | None]
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    files: Mapped[list[DraftFile]] = relationship(cascade="all, delete-orphan", order_by="DraftFile.id")


class DraftFile(Base):
    __tablename__ = "order_draft_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    draft_id: Mapped[int] = mapped_column(ForeignKey("order_drafts.id", ondelete="CASCADE"), index=True)
    file_id: Mapped[int] = mapped_column(ForeignKey("stored_files.id", ondelete="RESTRICT"))

    file: Mapped[StoredFile] = relationship()


class Dispute(Base):
    """A dispute on an order: who opened it and why, evidence, and the reviewer's decision."""

    __tablename__ = "disputes"
    __table_args__ = (
        one_of("state", DISPUTE_STATES),
        Index("ix_disputes_state_created_at", "state", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    opened_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    opened_by_side: Mapped[str] = mapped_column(String(8))
    reason: Mapped[str] = mapped_column(String(32))
    description: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[str] = mapped_column(String(12), default="open")
    decision: Mapped[str | None] = mapped_column(String(12))  # refund | release | split
    to_creator: Mapped[int | None] = mapped_column(BigInteger)  # of the price
    decision_note: Mapped[str] = mapped_column(Text, default="")
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    order: Mapped[Order] = relationship()
    evidence: Mapped[list[DisputeEvidence]] = relationship(cascade="all, delete-orphan", order_by="DisputeEvidence.id")


class DisputeEvidence(Base):
    __tablename__ = "dispute_evidence"

    id: Mapped[int] = mapped_column(primary_key=True)
    dispute_id: Mapped[int] = mapped_column(ForeignKey("disputes.id", ondelete="CASCADE"), index=True)
    file_id: Mapped[int] = mapped_column(ForeignKey("stored_files.id", ondelete="RESTRICT"))
    side: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    file: Mapped[StoredFile] = relationship()


class LiveReport(Base):
    """The published work was found removed or private (by the platform connector, or a brand report)."""

    __tablename__ = "live_reports"
    __table_args__ = (
        one_of("state", LIVE_REPORT_STATES),
        Index("ix_live_reports_state_created_at", "state", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    source: Mapped[str] = mapped_column(String(12))  # platform | brand
    reported_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    note: Mapped[str] = mapped_column(Text, default="")
    removed_at: Mapped[datetime]
    state: Mapped[str] = mapped_column(String(12), default="pending")
    refund: Mapped[int | None] = mapped_column(BigInteger)
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reviewed_at: Mapped[datetime | None]
    review_note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    order: Mapped[Order] = relationship()


class Message(Base):
    """A message on an order's or an application's thread (text and/or one attachment)."""

    __tablename__ = "messages"
    __table_args__ = (
        one_of("thread_type", ("order", "application")),
        Index("ix_messages_thread_type_thread_id_id", "thread_type", "thread_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    thread_type: Mapped[str] = mapped_column(String(12))
    thread_id: Mapped[int]
    sender_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    sender_side: Mapped[str] = mapped_column(String(8))
    body: Mapped[str] = mapped_column(Text, default="")
    file_id: Mapped[int | None] = mapped_column(ForeignKey("stored_files.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    sender: Mapped[User | None] = relationship()
    file: Mapped[StoredFile | None] = relationship()


class ThreadRead(Base):
    """How far a user has read a thread (unread = messages after ``last_read_id`` not sent by them)."""

    __tablename__ = "thread_reads"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    thread_type: Mapped[str] = mapped_column(String(12), primary_key=True)
    thread_id: Mapped[int] = mapped_column(primary_key=True)
    last_read_id: Mapped[int] = mapped_column(default=0)


class Review(Base):
    """One side's rating of the other after completion (1–5 stars and a comment)."""

    __tablename__ = "order_reviews"
    __table_args__ = (
        UniqueConstraint("order_id", "author_side"),
        one_of("author_side", ("brand", "creator")),
        Index("ix_order_reviews_creator_id_visible_created_at", "creator_id", "visible", "created_at"),
        # The hidden reviews (few: those of open windows) for the timer that reveals them when the window closes.
        Index("ix_order_reviews_order_id_hidden", "order_id", sqlite_where=text("visible = 0"),
              postgresql_where=text("NOT visible")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    creator_id: Mapped[int] = mapped_column(ForeignKey("creators.id", ondelete="CASCADE"))
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id", ondelete="CASCADE"), index=True)
    author_side: Mapped[str] = mapped_column(String(8))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    rating: Mapped[int]
    comment: Mapped[str] = mapped_column(Text, default="")
    visible: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
