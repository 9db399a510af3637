"""Password hashing (Argon2id, memory-hard), password strength, and one-time link tokens."""

from __future__ import annotations

import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from flask_babel import lazy_gettext as _l
from zxcvbn import zxcvbn

# RFC 9106's second recommended option (64 MiB, 3 passes), suitable for interactive logins. Tests may lower the
# cost through ARGON2_MEMORY_KIB / ARGON2_TIME_COST to keep the suite fast; production never does.
_DEFAULT = (3, 65536)
_hashers: dict[tuple[int, int], PasswordHasher] = {}


def _hasher() -> PasswordHasher:
    from flask import current_app, has_app_context

    params = _DEFAULT
    if has_app_context() and current_app.config.get("ARGON2_MEMORY_KIB"):
        params = (current_app.config.get("ARGON2_TIME_COST", 1), current_app.config["ARGON2_MEMORY_KIB"])
    if params not in _hashers:
        _hashers[params] = PasswordHasher(time_cost=params[0], memory_cost=params[1], parallelism=4)
    return _hashers[params]
MIN_PASSWORD_LENGTH = 10
MIN_PASSWORD_SCORE = 3  # zxcvbn 0..4: "safely unguessable" and up


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher().verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    try:
        return _hasher().check_needs_rehash(password_hash)
    except InvalidHashError:
        return True


_DUMMY_HASH = None


def burn_verify_time(password: str) -> None:
    """Spend the time of one verification, so unknown emails are not revealed by timing."""
    global _DUMMY_HASH
    if _DUMMY_HASH is None:
        _DUMMY_HASH = _hasher().hash(secrets.token_hex(16))
    verify_password(_DUMMY_HASH, password)


def password_problem(password: str, user_inputs: list[str] | None = None):
    """Why ``password`` is too weak (a translatable message), or ``None`` when it is strong enough."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return _l("Use at least %(n)d characters.", n=MIN_PASSWORD_LENGTH)
    if len(password) > 256:
        return _l("Use at most 256 characters.")
    inputs = [i for i in (user_inputs or []) if i]
    for item in inputs:
        local = item.split("@", 1)[0].lower()
        if len(local) >= 4 and local in password.lower():
            return _l("Don't use your name or email address in your password.")
    result = zxcvbn(password[:100], user_inputs=inputs)
    if result["score"] < MIN_PASSWORD_SCORE:
        return _l("This password is too easy to guess. Add more words or mix in unusual ones.")
    return None


def new_token() -> tuple[str, str]:
    """A fresh URL-safe token and the digest under which it is stored."""
    token = secrets.token_urlsafe(32)
    return token, token_digest(token)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
