"""Creators: profile, linked platform account, statistics, works, rate cards, real-name verification, and
brands' shortlists.

Invariants:
- one creator per user; a handle is unique (lower case); a platform account (platform, external id) is linked
  to at most one creator;
- statistics and works are copies of what the platform connector reports (refreshed by a job); the search
  columns on ``creators`` (followers, engagement, audience, authenticity, current prices) are denormalised
  from them and from the current rate card, and updated in the same transaction;
- a rate card is versioned: a new version is appended on every change and never edited, so an order can
  freeze the version (and price) it was made at; ``creators.rate_card_version_id`` points at the current one;
- a real-name verification stores only a masked ID number and its keyed hash, never the full number.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.accounts.models import User
from marketplace.db import Base, utcnow
from marketplace.files.models import StoredFile
from marketplace.modeltypes import one_of

CREATOR_KINDS = ("individual", "studio")
VERIFICATION_STATES = ("pending", "approved", "rejected")


class Creator(Base):
    __tablename__ = "creators"
    __table_args__ = (
        one_of("kind", CREATOR_KINDS),
        Index("ix_creators_followers", "followers"),
        Index("ix_creators_engagement_bp", "engagement_bp"),
        Index("ix_creators_listed_followers", "listed", "followers"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    display_name: Mapped[str] = mapped_column(String(80))
    kind: Mapped[str] = mapped_column(String(16), default="individual")
    handle: Mapped[str | None] = mapped_column(String(40), unique=True)
    bio: Mapped[str] = mapped_column(Text, default="")
    avatar_file_id: Mapped[int | None] = mapped_column(ForeignKey("stored_files.id", ondelete="SET NULL"))
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    accepting_orders: Mapped[bool] = mapped_column(default=False)
    # Listed in discovery once the profile is complete and a platform account is linked.
    listed: Mapped[bool] = mapped_column(default=False)
    identity_verified_at: Mapped[datetime | None]
    # Denormalised for search (from the connector's statistics and the current rate card).
    followers: Mapped[int] = mapped_column(BigInteger, default=0)
    avg_plays: Mapped[int] = mapped_column(BigInteger, default=0)
    engagement_bp: Mapped[int] = mapped_column(default=0)  # (likes+comments+shares)/plays, basis points
    audience: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # gender, age bands, provinces
    audience_female_pct: Mapped[int] = mapped_column(default=0)
    audience_main_age: Mapped[str] = mapped_column(String(8), default="")
    authenticity_score: Mapped[int | None]  # 0..100, None until computed
    authenticity_reasons: Mapped[list[Any]] = mapped_column(JSON, default=list)
    rating_avg_x100: Mapped[int | None]  # 1..5 stars × 100, once orders exist
    rating_count: Mapped[int] = mapped_column(default=0)
    rate_card_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("rate_card_versions.id", use_alter=True, name="fk_creators_rate_card_version_id_rate_card_versions"))
    price_short_video: Mapped[int | None] = mapped_column(BigInteger)
    price_long_video: Mapped[int | None] = mapped_column(BigInteger)
    price_livestream: Mapped[int | None] = mapped_column(BigInteger)
    price_image_text: Mapped[int | None] = mapped_column(BigInteger)
    stats_refreshed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped[User] = relationship()
    avatar: Mapped[StoredFile | None] = relationship()
    categories: Mapped[list[CreatorCategory]] = relationship(cascade="all, delete-orphan", order_by="CreatorCategory.category")
    regions: Mapped[list[CreatorRegion]] = relationship(cascade="all, delete-orphan", order_by="CreatorRegion.region")
    platform_account: Mapped[PlatformAccount | None] = relationship(back_populates="creator", uselist=False)

    @property
    def category_codes(self) -> list[str]:
        return [c.category for c in self.categories]

    @property
    def region_codes(self) -> list[str]:
        return [r.region for r in self.regions]

    def price_for(self, content_type: str) -> int | None:
        return getattr(self, f"price_{content_type}")


class CreatorCategory(Base):
    __tablename__ = "creator_categories"
    __table_args__ = (Index("ix_creator_categories_category_creator_id", "category", "creator_id"),)

    creator_id: Mapped[int] = mapped_column(ForeignKey("creators.id", ondelete="CASCADE"), primary_key=True)
    category: Mapped[str] = mapped_column(String(20), primary_key=True)


class CreatorRegion(Base):
    __tablename__ = "creator_regions"
    __table_args__ = (Index("ix_creator_regions_region_creator_id", "region", "creator_id"),)

    creator_id: Mapped[int] = mapped_column(ForeignKey("creators.id", ondelete="CASCADE"), primary_key=True)
    region: Mapped[str] = mapped_column(String(4), primary_key=True)


class PlatformAccount(Base):
    """A creator's account on the video platform, linked through the connector."""

    __tablename__ = "platform_accounts"
    __table_args__ = (UniqueConstraint("platform", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    creator_id: Mapped[int] = mapped_column(ForeignKey("creators.id", ondelete="CASCADE"), unique=True)
    platform: Mapped[str] = mapped_column(String(20))
    external_id: Mapped[str] = mapped_column(String(64))
    handle: Mapped[str] = mapped_column(String(64))
    linked_at: Mapped[datetime] = mapped_column(default=utcnow)
    refreshed_at: Mapped[datetime | None]

    creator: Mapped[Creator] = relationship(back_populates="platform_account")


class StatSnapshot(Base):
    """A creator's statistics on one day (the follower trend)."""

    __tablename__ = "creator_stat_snapshots"
    __table_args__ = (UniqueConstraint("creator_id", "taken_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    creator_id: Mapped[int] = mapped_column(ForeignKey("creators.id", ondelete="CASCADE"))
    taken_on: Mapped[date] = mapped_column(Date)
    followers: Mapped[int] = mapped_column(BigInteger)
    avg_plays: Mapped[int] = mapped_column(BigInteger, default=0)
    engagement_bp: Mapped[int] = mapped_column(default=0)


class Work(Base):
    """A published video (or post) with its statistics, as the platform reports it."""

    __tablename__ = "works"
    __table_args__ = (
        UniqueConstraint("platform", "external_id"),
        Index("ix_works_creator_id_published_at", "creator_id", "published_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    creator_id: Mapped[int] = mapped_column(ForeignKey("creators.id", ondelete="CASCADE"))
    platform: Mapped[str] = mapped_column(String(20))
    external_id: Mapped[str] = mapped_column(String(64))
    url: Mapped[str] = mapped_column(String(300))
    title: Mapped[str] = mapped_column(String(200), default="")
    category: Mapped[str] = mapped_column(String(20), default="")
    published_at: Mapped[datetime]
    duration_s: Mapped[int] = mapped_column(default=0)
    plays: Mapped[int] = mapped_column(BigInteger, default=0)
    likes: Mapped[int] = mapped_column(BigInteger, default=0)
    comments: Mapped[int] = mapped_column(BigInteger, default=0)
    shares: Mapped[int] = mapped_column(BigInteger, default=0)
    is_live: Mapped[bool] = mapped_column(default=True)
    refreshed_at: Mapped[datetime] = mapped_column(default=utcnow)


class RateCardVersion(Base):
    """One version of a creator's rate card (append-only)."""

    __tablename__ = "rate_card_versions"
    __table_args__ = (UniqueConstraint("creator_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    creator_id: Mapped[int] = mapped_column(ForeignKey("creators.id", ondelete="CASCADE"))
    version: Mapped[int]
    revision_rounds: Mapped[int] = mapped_column(default=1)
    lead_time_days: Mapped[int] = mapped_column(default=7)
    notes: Mapped[str] = mapped_column(Text, default="")
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    prices: Mapped[list[RateCardPrice]] = relationship(cascade="all, delete-orphan",
                                                       order_by="RateCardPrice.content_type")

    def price_for(self, content_type: str) -> int | None:
        return next((p.price for p in self.prices if p.content_type == content_type), None)


class RateCardPrice(Base):
    __tablename__ = "rate_card_prices"

    version_id: Mapped[int] = mapped_column(ForeignKey("rate_card_versions.id", ondelete="CASCADE"), primary_key=True)
    content_type: Mapped[str] = mapped_column(String(20), primary_key=True)
    price: Mapped[int] = mapped_column(BigInteger)


class IdentityVerification(Base):
    """A creator's real-name verification request, reviewed by staff."""

    __tablename__ = "identity_verifications"
    __table_args__ = (
        one_of("state", VERIFICATION_STATES),
        Index("ix_identity_verifications_state_created_at", "state", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    creator_id: Mapped[int] = mapped_column(ForeignKey("creators.id", ondelete="CASCADE"), index=True)
    legal_name: Mapped[str] = mapped_column(String(80))
    id_type: Mapped[str] = mapped_column(String(20))
    id_number_masked: Mapped[str] = mapped_column(String(32))
    id_number_hash: Mapped[str] = mapped_column(String(64), index=True)
    photo_file_id: Mapped[int | None] = mapped_column(ForeignKey("stored_files.id", ondelete="SET NULL"))
    state: Mapped[str] = mapped_column(String(12), default="pending")
    reason: Mapped[str] = mapped_column(Text, default="")
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    reviewed_at: Mapped[datetime | None]

    creator: Mapped[Creator] = relationship()
    photo: Mapped[StoredFile | None] = relationship()
    reviewed_by: Mapped[User | None] = relationship()


class Shortlist(Base):
    """A named list of creators, shared with the enterprise's members."""

    __tablename__ = "shortlists"

    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    entries: Mapped[list[ShortlistEntry]] = relationship(cascade="all, delete-orphan",
                                                         order_by="ShortlistEntry.created_at")


class ShortlistEntry(Base):
    __tablename__ = "shortlist_entries"
    __table_args__ = (UniqueConstraint("shortlist_id", "creator_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    shortlist_id: Mapped[int] = mapped_column(ForeignKey("shortlists.id", ondelete="CASCADE"))
    creator_id: Mapped[int] = mapped_column(ForeignKey("creators.id", ondelete="CASCADE"), index=True)
    note: Mapped[str] = mapped_column(String(500), default="")
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    creator: Mapped[Creator] = relationship()
