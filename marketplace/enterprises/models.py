"""Enterprises, their members and invitations.

Invariants: a USCC belongs to at most one enterprise that is pending or verified (a partial unique index,
so an abandoned draft cannot squat a company's code); a user has at most one membership per enterprise;
every enterprise has at least one owner; an invitation's token is stored only as a digest, is accepted at
most once and never after it expires; every verification transition is recorded as an event.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.accounts.models import User
from marketplace.db import Base, utcnow
from marketplace.files.models import StoredFile
from marketplace.modeltypes import one_of

ENTERPRISE_ROLES = ("owner", "manager", "finance", "viewer")
VERIFICATION_STATES = ("unverified", "pending", "verified", "rejected")


class Enterprise(Base):
    __tablename__ = "enterprises"
    __table_args__ = (
        one_of("verification_state", VERIFICATION_STATES),
        Index(
            "uq_enterprises_uscc_active",
            "uscc",
            unique=True,
            sqlite_where=text("verification_state IN ('pending', 'verified')"),
            postgresql_where=text("verification_state IN ('pending', 'verified')"),
        ),
        Index("ix_enterprises_verification_state_submitted_at", "verification_state", "submitted_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    legal_name: Mapped[str] = mapped_column(String(200))
    display_name: Mapped[str] = mapped_column(String(80))
    uscc: Mapped[str] = mapped_column(String(18), index=True)
    contact_name: Mapped[str] = mapped_column(String(80))
    contact_phone: Mapped[str] = mapped_column(String(32))
    contact_email: Mapped[str] = mapped_column(String(254))
    invoice_title: Mapped[str] = mapped_column(String(200))
    tax_number: Mapped[str] = mapped_column(String(20))
    licence_file_id: Mapped[int | None] = mapped_column(ForeignKey("stored_files.id", ondelete="SET NULL"))
    verification_state: Mapped[str] = mapped_column(String(16), default="unverified")
    rejection_reason: Mapped[str] = mapped_column(Text, default="")
    submitted_at: Mapped[datetime | None]
    verified_at: Mapped[datetime | None]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    licence_file: Mapped[StoredFile | None] = relationship()
    memberships: Mapped[list[Membership]] = relationship(back_populates="enterprise", cascade="all, delete-orphan")

    @property
    def is_verified(self) -> bool:
        return self.verification_state == "verified"

    def snapshot(self) -> dict:
        """The audited fields, for before/after records."""
        return {
            "legal_name": self.legal_name,
            "uscc": self.uscc,
            "verification_state": self.verification_state,
            "rejection_reason": self.rejection_reason,
            "licence_file_id": self.licence_file_id,
        }


class Membership(Base):
    __tablename__ = "memberships"
    __table_args__ = (
        UniqueConstraint("enterprise_id", "user_id"),
        one_of("role", ENTERPRISE_ROLES),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    enterprise: Mapped[Enterprise] = relationship(back_populates="memberships")
    user: Mapped[User] = relationship()


class Invitation(Base):
    __tablename__ = "invitations"
    __table_args__ = (
        one_of("role", ENTERPRISE_ROLES),
        Index("ix_invitations_enterprise_id_email", "enterprise_id", "email"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id", ondelete="CASCADE"))
    email: Mapped[str] = mapped_column(String(254))
    role: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    accepted_at: Mapped[datetime | None]
    accepted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    revoked_at: Mapped[datetime | None]

    enterprise: Mapped[Enterprise] = relationship()
    invited_by: Mapped[User | None] = relationship(foreign_keys=[invited_by_id])

    def is_open(self, now: datetime) -> bool:
        return self.accepted_at is None and self.revoked_at is None and self.expires_at > now


class VerificationEvent(Base):
    """One transition of an enterprise's verification state: who, when, from, to, note."""

    __tablename__ = "enterprise_verification_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id", ondelete="CASCADE"), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(16))
    from_state: Mapped[str] = mapped_column(String(16))
    to_state: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    actor: Mapped[User | None] = relationship()
