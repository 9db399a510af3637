"""Enterprise verification state machine (pure).

    unverified --submit--> pending --approve--> verified
                                   --reject---> rejected --resubmit--> pending

A verified enterprise that edits its legal details goes back through review (``submit`` from verified is
not allowed: legal name and USCC are locked once verified; other details stay editable).
"""

from __future__ import annotations

from enum import StrEnum

from flask_babel import lazy_gettext as _l

from marketplace.errors import InvalidTransition


class VerificationState(StrEnum):
    UNVERIFIED = "unverified"
    PENDING = "pending"
    VERIFIED = "verified"
    REJECTED = "rejected"


class VerificationAction(StrEnum):
    SUBMIT = "submit"
    APPROVE = "approve"
    REJECT = "reject"


STATE_LABELS = {
    VerificationState.UNVERIFIED: _l("not submitted"),
    VerificationState.PENDING: _l("pending review"),
    VerificationState.VERIFIED: _l("verified"),
    VerificationState.REJECTED: _l("rejected"),
}

S, A = VerificationState, VerificationAction

TRANSITIONS: dict[tuple[VerificationState, VerificationAction], VerificationState] = {
    (S.UNVERIFIED, A.SUBMIT): S.PENDING,
    (S.REJECTED, A.SUBMIT): S.PENDING,
    (S.PENDING, A.APPROVE): S.VERIFIED,
    (S.PENDING, A.REJECT): S.REJECTED,
}

# Who may take each action: the enterprise (owner) submits, a reviewer decides.
ACTORS: dict[VerificationAction, str] = {A.SUBMIT: "enterprise", A.APPROVE: "reviewer", A.REJECT: "reviewer"}


def next_state(state: str, action: str) -> VerificationState:
    """The state after ``action`` in ``state``.

    :raises InvalidTransition: the action is not allowed in that state.
    """
    key = (VerificationState(state), VerificationAction(action))
    if key not in TRANSITIONS:
        raise InvalidTransition(_l("That is not possible while the enterprise's verification is %(state)s.",
                                   state=STATE_LABELS[key[0]]))
    return TRANSITIONS[key]


def editable_legal_details(state: str) -> bool:
    """Legal name, USCC and licence can change only before approval or after a rejection."""
    return VerificationState(state) in (S.UNVERIFIED, S.REJECTED)
