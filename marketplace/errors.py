"""Domain errors raised by services.

A ``DomainError`` carries a user-facing message (already translated lazily) and, when the error is about one
input, the form field it belongs to. Views turn it into a message beside that field (or a flash) and a 4xx;
it never becomes a 500.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A business rule refused the request; nothing was written."""

    status_code = 400

    def __init__(self, message: Any, field: str | None = None):
        super().__init__(message)  # may be a lazy translation: rendered when shown, in the reader's language
        self.message = message
        self.field = field


class ValidationFailed(DomainError):
    """Input broke a domain rule (unique email, bad licence file, …)."""

    status_code = 400


class NotAllowed(DomainError):
    """The actor may not do this to this object."""

    status_code = 403


class NotFound(DomainError):
    status_code = 404


class InvalidTransition(DomainError):
    """The object's state does not allow this action."""

    status_code = 409


class Conflict(DomainError):
    """The request conflicts with the current state (already used, already a member, …)."""

    status_code = 409


class TokenInvalid(DomainError):
    """A link token is unknown, expired or already used."""

    status_code = 400


class InsufficientFunds(DomainError):
    status_code = 409
