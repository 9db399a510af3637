"""Real-name (identity) verification state machine (pure).

    (submit) --> pending --approve--> approved
                         --reject---> rejected

A request is never reopened: a rejected creator submits a new request (one pending request at a time).
"""

from __future__ import annotations

from enum import StrEnum

from flask_babel import lazy_gettext as _l

from marketplace.errors import InvalidTransition


class IdentityState(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class IdentityAction(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"


IDENTITY_STATE_LABELS = {
    IdentityState.PENDING: _l("pending review"),
    IdentityState.APPROVED: _l("verified"),
    IdentityState.REJECTED: _l("rejected"),
}

S, A = IdentityState, IdentityAction

IDENTITY_TRANSITIONS: dict[tuple[IdentityState, IdentityAction], IdentityState] = {
    (S.PENDING, A.APPROVE): S.APPROVED,
    (S.PENDING, A.REJECT): S.REJECTED,
}


def next_identity_state(state: str, action: str) -> IdentityState:
    """The state after ``action`` in ``state``.

    :raises InvalidTransition: the action is not allowed in that state (the request was already decided).
    """
    key = (IdentityState(state), IdentityAction(action))
    if key not in IDENTITY_TRANSITIONS:
        raise InvalidTransition(_l("This request was already decided (%(state)s).",
                                   state=IDENTITY_STATE_LABELS[key[0]]))
    return IDENTITY_TRANSITIONS[key]
