"""User accounts and one-time tokens.

Invariants: an email is stored lower-cased and belongs to one user; a password is stored only as an Argon2
hash; a token is stored only as its SHA-256 digest, is used at most once (``used_at``) and never after
``expires_at``. ``session_version`` changes when the password does, which ends every other session.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.db import Base, utcnow
from marketplace.modeltypes import one_of

SIGNUP_KINDS = ("brand", "creator")
STAFF_ROLES = ("reviewer", "finance", "admin")
TOKEN_PURPOSES = ("verify_email", "reset_password")


class User(Base):
    __tablename__ = "users"
    __table_args__ = (
        one_of("signup_kind", SIGNUP_KINDS),
        one_of("staff_role", STAFF_ROLES),
        one_of("locale", ("en", "zh_CN")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    display_name: Mapped[str] = mapped_column(String(80))
    locale: Mapped[str] = mapped_column(String(8), default="en")
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")
    signup_kind: Mapped[str] = mapped_column(String(16), default="brand")
    staff_role: Mapped[str | None] = mapped_column(String(16))
    is_active: Mapped[bool] = mapped_column(default=True)
    session_version: Mapped[int] = mapped_column(default=1)
    email_verified_at: Mapped[datetime | None]
    last_login_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    tokens: Mapped[list[UserToken]] = relationship(back_populates="user", cascade="all, delete-orphan")

    # Flask-Login protocol ------------------------------------------------------------------------------
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"

    # Convenience ---------------------------------------------------------------------------------------
    @property
    def email_verified(self) -> bool:
        return self.email_verified_at is not None

    @property
    def is_staff(self) -> bool:
        return self.staff_role is not None

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email}>"


class UserToken(Base):
    __tablename__ = "user_tokens"
    __table_args__ = (
        one_of("purpose", TOKEN_PURPOSES),
        Index("ix_user_tokens_user_id_purpose", "user_id", "purpose"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    purpose: Mapped[str] = mapped_column(String(32))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]

    user: Mapped[User] = relationship(back_populates="tokens")
