"""Account rules: sign-up, email verification, authentication, password reset and change, settings.

Invariants: emails are unique case-insensitively; passwords must pass ``password_problem``; link tokens are
single-use and expire; a password change or reset bumps ``session_version`` (other sessions end) and uses up
every outstanding reset token. Services flush; the caller commits.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from marketplace.accounts.models import User, UserToken
from marketplace.creators.services import become_creator
from marketplace.db import utcnow
from marketplace.errors import TokenInvalid, ValidationFailed
from marketplace.mail.services import queue_email
from marketplace.security import (
    burn_verify_time,
    hash_password,
    needs_rehash,
    new_token,
    password_problem,
    token_digest,
    verify_password,
)
from marketplace.urls import external_url


def normalize_email(email: str) -> str:
    return email.strip().lower()


def user_by_email(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(User.email == normalize_email(email)))


def check_password_strength(password: str, *inputs: str, field: str = "password") -> None:
    """:raises ValidationFailed: the password is too weak."""
    problem = password_problem(password, list(inputs))
    if problem is not None:
        raise ValidationFailed(problem, field=field)


def create_user(
    session: Session,
    *,
    email: str,
    password: str,
    display_name: str,
    signup_kind: str = "brand",
    locale: str = "en",
    timezone: str | None = None,
    staff_role: str | None = None,
    verified: bool = False,
) -> User:
    """Create a user (and their creator record when they sign up as a creator).

    :raises ValidationFailed: the email is taken or the password is weak.
    """
    email = normalize_email(email)
    if user_by_email(session, email) is not None:
        raise ValidationFailed(_l("An account with this email already exists. Log in or reset your password."),
                               field="email")
    check_password_strength(password, email, display_name)
    user = User(
        email=email,
        password_hash=hash_password(password),
        display_name=display_name.strip(),
        signup_kind=signup_kind,
        locale=locale,
        timezone=timezone or current_app.config["BABEL_DEFAULT_TIMEZONE"],
        staff_role=staff_role,
        email_verified_at=utcnow() if verified else None,
    )
    session.add(user)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:  # a concurrent sign-up with the same email
        raise ValidationFailed(_l("An account with this email already exists. Log in or reset your password."),
                               field="email") from exc
    if signup_kind == "creator":
        become_creator(session, user)
    return user


def _issue_token(session: Session, user: User, purpose: str, lifetime: timedelta) -> str:
    token, digest = new_token()
    session.add(UserToken(user_id=user.id, purpose=purpose, token_hash=digest, expires_at=utcnow() + lifetime))
    session.flush()
    return token


def _valid_token_row(session: Session, token: str, purpose: str, now: datetime) -> UserToken:
    """The stored token row, if the token is known, unused and unexpired. :raises TokenInvalid:"""
    row = session.scalar(select(UserToken).where(UserToken.token_hash == token_digest(token),
                                                 UserToken.purpose == purpose))
    if row is None:
        raise TokenInvalid(_l("This link is not valid. Ask for a new one."))
    if row.used_at is not None:
        raise TokenInvalid(_l("This link has already been used. Ask for a new one."))
    if row.expires_at <= now:
        raise TokenInvalid(_l("This link has expired. Ask for a new one."))
    return row


def _consume_token(session: Session, token: str, purpose: str, now: datetime | None = None) -> User:
    """Use up a token; return its user. :raises TokenInvalid: unknown, expired or used."""
    now = now or utcnow()
    row = _valid_token_row(session, token, purpose, now)
    # Claim it atomically so two concurrent uses cannot both succeed.
    claimed = session.execute(
        update(UserToken).where(UserToken.id == row.id, UserToken.used_at.is_(None)).values(used_at=now)
    ).rowcount
    if not claimed:
        raise TokenInvalid(_l("This link has already been used. Ask for a new one."))
    session.refresh(row)
    return row.user


def peek_token(session: Session, token: str, purpose: str, now: datetime | None = None) -> User:
    """Check a token without using it (to show the reset form). :raises TokenInvalid:"""
    return _valid_token_row(session, token, purpose, now or utcnow()).user


def send_verification_email(session: Session, user: User) -> None:
    """Queue an email with a fresh verification link."""
    hours = current_app.config["EMAIL_VERIFY_HOURS"]
    token = _issue_token(session, user, "verify_email", timedelta(hours=hours))
    link = external_url("accounts.verify_email", token=token)
    queue_email(session, to=user.email, kind="verify_email", subject=_l("Confirm your email for Canal"),
                locale=user.locale, user=user, link=link, hours=hours)


def verify_email(session: Session, token: str, now: datetime | None = None) -> User:
    """Mark the token's user verified. :raises TokenInvalid:"""
    user = _consume_token(session, token, "verify_email", now)
    if user.email_verified_at is None:
        user.email_verified_at = now or utcnow()
    session.flush()
    return user


def authenticate(session: Session, email: str, password: str) -> User | None:
    """The user with these credentials, or None (same time either way)."""
    user = user_by_email(session, email)
    if user is None:
        burn_verify_time(password)
        return None
    if not verify_password(user.password_hash, password) or not user.is_active:
        return None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = utcnow()
    session.flush()
    return user


def request_password_reset(session: Session, email: str) -> None:
    """Email a reset link if the account exists (the caller says the same thing either way)."""
    user = user_by_email(session, email)
    if user is None or not user.is_active:
        return
    minutes = current_app.config["PASSWORD_RESET_MINUTES"]
    token = _issue_token(session, user, "reset_password", timedelta(minutes=minutes))
    link = external_url("accounts.reset_password", token=token)
    queue_email(session, to=user.email, kind="reset_password", subject=_l("Reset your Canal password"),
                locale=user.locale, user=user, link=link, minutes=minutes)


def _set_password(session: Session, user: User, password: str) -> None:
    check_password_strength(password, user.email, user.display_name)
    user.password_hash = hash_password(password)
    user.session_version += 1
    session.execute(
        update(UserToken)
        .where(UserToken.user_id == user.id, UserToken.purpose == "reset_password", UserToken.used_at.is_(None))
        .values(used_at=utcnow())
    )
    session.flush()


def reset_password(session: Session, token: str, password: str, now: datetime | None = None) -> User:
    """Set a new password through a reset link. :raises TokenInvalid, ValidationFailed:"""
    user = peek_token(session, token, "reset_password", now)
    check_password_strength(password, user.email, user.display_name)
    user = _consume_token(session, token, "reset_password", now)
    _set_password(session, user, password)
    if user.email_verified_at is None:  # they proved they read the mailbox
        user.email_verified_at = now or utcnow()
    return user


def change_password(session: Session, user: User, current: str, new: str) -> None:
    """:raises ValidationFailed: wrong current password, or weak new one."""
    if not verify_password(user.password_hash, current):
        raise ValidationFailed(_l("Your current password is not correct."), field="current_password")
    if current == new:
        raise ValidationFailed(_l("Choose a password different from the current one."), field="new_password")
    try:
        _set_password(session, user, new)
    except ValidationFailed as exc:
        exc.field = "new_password"
        raise


def update_settings(session: Session, user: User, *, display_name: str, locale: str, timezone: str) -> None:
    user.display_name = display_name.strip()
    user.locale = locale
    user.timezone = timezone
    session.flush()
