"""The state machines of order-taking (design.md §4): jobs, applications, orders, disputes, live reports.

Pure: no database, no Flask. ``ORDER_TRANSITIONS`` is the one table of what may happen to an order: for each
(state, action) the next state, which sides may act, and the money effect the service applies through the
money core. ``next_order_state`` is the only way code asks it; anything not in the table raises
``InvalidTransition``. ``None`` as a "state" is the order's creation.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from marketplace.errors import InvalidTransition, NotAllowed

# --- orders --------------------------------------------------------------------------------------------

ORDER_STATES = (
    "offered", "declined", "expired", "withdrawn",
    "in_progress", "draft_submitted", "revision_requested", "draft_approved", "published",
    "completed", "closed", "disputed", "resolved", "cancelled",
)

# States in which the order's escrow holds the full price + service fee.
FUNDED_STATES = frozenset({"offered", "in_progress", "draft_submitted", "revision_requested", "draft_approved",
                           "published", "disputed"})
# States after which nothing more happens to the order.
TERMINAL_STATES = frozenset({"declined", "expired", "withdrawn", "closed", "resolved", "cancelled"})
# The creator is working on it (the "active" column of the board).
ACTIVE_STATES = ("in_progress", "draft_submitted", "revision_requested", "draft_approved", "published")
DISPUTABLE_STATES = frozenset(ACTIVE_STATES)

# Money effects (applied by ``orders.services``):
FUND = "fund"  # wallet -> escrow: price + service fee
REFUND = "refund"  # escrow -> wallet: everything held
RELEASE = "release"  # escrow -> creator pending (net of commission and retention), fees -> revenue
SETTLE_RETENTION = "settle_retention"  # the retention -> creator (and any pro-rata refund -> wallet)
SETTLE_DISPUTE = "settle_dispute"  # per the reviewer's decision


@dataclass(frozen=True)
class Transition:
    to: str
    sides: frozenset[str]
    money: str | None = None


def _t(to: str, *sides: str, money: str | None = None) -> Transition:
    return Transition(to, frozenset(sides), money)


ORDER_TRANSITIONS: dict[tuple[str | None, str], Transition] = {
    (None, "send_offer"): _t("offered", "brand", money=FUND),
    (None, "accept_application"): _t("in_progress", "brand", money=FUND),
    ("offered", "accept"): _t("in_progress", "creator"),
    ("offered", "decline"): _t("declined", "creator", money=REFUND),
    ("offered", "expire"): _t("expired", "system", money=REFUND),
    ("offered", "withdraw"): _t("withdrawn", "brand", money=REFUND),
    ("in_progress", "submit_draft"): _t("draft_submitted", "creator"),
    ("draft_submitted", "approve_draft"): _t("draft_approved", "brand"),
    ("draft_submitted", "request_revision"): _t("revision_requested", "brand"),
    ("revision_requested", "submit_draft"): _t("draft_submitted", "creator"),
    ("draft_approved", "publish"): _t("published", "creator"),
    ("published", "confirm"): _t("completed", "brand", money=RELEASE),
    ("published", "auto_confirm"): _t("completed", "system", money=RELEASE),
    ("completed", "close"): _t("closed", "system", "staff", money=SETTLE_RETENTION),
    ("in_progress", "cancel"): _t("cancelled", "creator", money=REFUND),
    ("in_progress", "agree_cancel"): _t("cancelled", "brand", "creator", money=REFUND),
    **{(state, "open_dispute"): _t("disputed", "brand", "creator") for state in ACTIVE_STATES},
    ("disputed", "resolve"): _t("resolved", "staff", money=SETTLE_DISPUTE),
}

ORDER_ACTIONS = tuple(sorted({action for _state, action in ORDER_TRANSITIONS}))

ORDER_STATE_LABELS = {
    "offered": _l("Offered"),
    "declined": _l("Declined"),
    "expired": _l("Expired"),
    "withdrawn": _l("Withdrawn"),
    "in_progress": _l("In progress"),
    "draft_submitted": _l("Draft submitted"),
    "revision_requested": _l("Revision requested"),
    "draft_approved": _l("Draft approved"),
    "published": _l("Published"),
    "completed": _l("Completed"),
    "closed": _l("Closed"),
    "disputed": _l("In dispute"),
    "resolved": _l("Resolved"),
    "cancelled": _l("Cancelled"),
}

# Badge tone per state (CSS class suffix).
ORDER_STATE_TONES = {
    "offered": "info", "in_progress": "info", "draft_submitted": "warn", "revision_requested": "warn",
    "draft_approved": "info", "published": "warn", "completed": "ok", "closed": "ok", "disputed": "danger",
    "resolved": "neutral", "declined": "neutral", "expired": "neutral", "withdrawn": "neutral",
    "cancelled": "neutral",
}

ORDER_ACTION_LABELS = {
    "send_offer": _l("Offer sent"),
    "accept_application": _l("Application accepted"),
    "accept": _l("Offer accepted"),
    "decline": _l("Offer declined"),
    "expire": _l("Offer expired"),
    "withdraw": _l("Offer withdrawn"),
    "submit_draft": _l("Draft submitted"),
    "approve_draft": _l("Draft approved"),
    "request_revision": _l("Revision requested"),
    "publish": _l("Published"),
    "confirm": _l("Confirmed"),
    "auto_confirm": _l("Confirmed automatically"),
    "close": _l("Live window ended"),
    "cancel": _l("Cancelled by the creator"),
    "agree_cancel": _l("Cancelled by agreement"),
    "request_cancel": _l("Cancellation proposed"),
    "open_dispute": _l("Dispute opened"),
    "resolve": _l("Dispute resolved"),
    "report_removed": _l("Work reported removed"),
    "removal_upheld": _l("Removal upheld"),
    "removal_dismissed": _l("Removal report dismissed"),
    "work_removed": _l("Work found removed"),
    "review": _l("Review written"),
}

# Which board column (brand) / tab (creator) a state is shown in.
BOARD_COLUMNS = {
    "offers": ("offered",),
    "active": ACTIVE_STATES,
    "needs_review": ("draft_submitted",),
    "disputed": ("disputed",),
    "completed": ("completed", "closed", "resolved"),
    "ended": ("declined", "expired", "withdrawn", "cancelled"),
}


def next_order_state(state: str | None, action: str, side: str) -> Transition:
    """The transition ``action`` takes from ``state`` when ``side`` acts.

    :raises InvalidTransition: the table has no such (state, action).
    :raises NotAllowed: the action exists but this side may not take it.
    """
    transition = ORDER_TRANSITIONS.get((state, action))
    if transition is None:
        label = ORDER_STATE_LABELS.get(state, state) if state else _l("new")
        raise InvalidTransition(_l("This order is %(state)s: that action is not possible now.", state=label))
    if side not in transition.sides:
        raise NotAllowed(_l("Only the other side of the order can do that."))
    return transition


def allowed_actions(state: str | None, side: str) -> list[str]:
    """The actions ``side`` may take in ``state`` (what the order page offers)."""
    return sorted(action for (s, action), t in ORDER_TRANSITIONS.items() if s == state and side in t.sides)


# --- jobs ----------------------------------------------------------------------------------------------

JOB_STATES = ("draft", "in_review", "open", "closed", "cancelled", "rejected")

JOB_TRANSITIONS: dict[tuple[str, str], Transition] = {
    ("draft", "submit"): _t("in_review", "brand"),
    ("rejected", "submit"): _t("in_review", "brand"),
    ("in_review", "approve"): _t("open", "staff"),
    ("in_review", "reject"): _t("rejected", "staff"),
    ("open", "close"): _t("closed", "brand", "system"),
    ("draft", "cancel"): _t("cancelled", "brand"),
    ("in_review", "cancel"): _t("cancelled", "brand"),
    ("rejected", "cancel"): _t("cancelled", "brand"),
    ("open", "cancel"): _t("cancelled", "brand"),
}
EDITABLE_JOB_STATES = frozenset({"draft", "rejected"})

JOB_STATE_LABELS = {
    "draft": _l("Draft"),
    "in_review": _l("In review"),
    "open": _l("Open"),
    "closed": _l("Closed"),
    "cancelled": _l("Cancelled"),
    "rejected": _l("Rejected"),
}
JOB_STATE_TONES = {"draft": "neutral", "in_review": "warn", "open": "ok", "closed": "neutral",
                   "cancelled": "neutral", "rejected": "danger"}


def next_job_state(state: str, action: str, side: str) -> Transition:
    """:raises InvalidTransition: / :raises NotAllowed: as ``next_order_state``."""
    transition = JOB_TRANSITIONS.get((state, action))
    if transition is None:
        raise InvalidTransition(_l("This job is %(state)s: that action is not possible now.",
                                   state=JOB_STATE_LABELS.get(state, state)))
    if side not in transition.sides:
        raise NotAllowed(_l("You may not do that to this job."))
    return transition


# --- applications, disputes, live reports ----------------------------------------------------------------

APPLICATION_STATES = ("submitted", "shortlisted", "accepted", "rejected", "withdrawn")
OPEN_APPLICATION_STATES = frozenset({"submitted", "shortlisted"})
APPLICATION_STATE_LABELS = {
    "submitted": _l("New"),
    "shortlisted": _l("Shortlisted"),
    "accepted": _l("Accepted"),
    "rejected": _l("Not selected"),
    "withdrawn": _l("Withdrawn"),
}
APPLICATION_STATE_TONES = {"submitted": "info", "shortlisted": "warn", "accepted": "ok", "rejected": "neutral",
                           "withdrawn": "neutral"}

DISPUTE_STATES = ("open", "resolved")
DISPUTE_DECISIONS = ("refund", "release", "split")
DISPUTE_REASONS = {
    "not_delivered": _l("The work was not delivered"),
    "not_as_briefed": _l("The work does not match the brief"),
    "late": _l("The work is late"),
    "unresponsive": _l("The other side does not respond"),
    "unfair_revisions": _l("Revision requests beyond the agreement"),
    "other": _l("Something else"),
}

LIVE_REPORT_STATES = ("pending", "upheld", "dismissed")
