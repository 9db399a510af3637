"""Disputes and the must-stay-live guarantee: the reviewer's side of an order.

A dispute freezes the order (state ``disputed``; it remembers the state it came from); a reviewer decides:
refund everything, release (as if confirmed, no retention), or split the price by amount. The split keeps the
platform's fees in proportion to what the creator receives: the creator gets X − commission on X, the brand
gets back (price − X) plus the service fee on that part. One ledger transaction empties the escrow.

A removal report (the work is no longer live) comes from the brand (a reviewer upholds or dismisses it) or from
the platform connector (the live check job: established at once). An upheld removal settles the retention
pro rata to the days missed and closes the order. While a brand's report waits for a reviewer, the end of the
live window does not settle the retention (the decision does).
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.audit.services import record_audit
from marketplace.db import utcnow
from marketplace.errors import Conflict, InvalidTransition, NotAllowed, ValidationFailed
from marketplace.orders import services, states
from marketplace.orders.models import Dispute, DisputeEvidence, LiveReport, Order
from marketplace.orders.services import Actor


def open_dispute(session: Session, order: Order, actor: Actor, *, reason: str, description: str,
                 evidence=(), now: datetime | None = None) -> Dispute:
    """Either side opens a dispute with a reason and evidence; the order freezes.

    :raises ValidationFailed: unknown reason or no description. :raises InvalidTransition: not disputable now.
    """
    now = now or utcnow()
    if reason not in states.DISPUTE_REASONS:
        raise ValidationFailed(_l("Choose a reason."), field="reason")
    if len((description or "").strip()) < 10:
        raise ValidationFailed(_l("Describe what went wrong (at least 10 characters)."), field="description")
    order = services.lock_order(session, order.id)
    from_state = order.state
    order = services.transition(session, order, "open_dispute", actor, now=now, note=description.strip(),
                                data={"reason": reason})
    order.disputed_from = from_state
    dispute = Dispute(order_id=order.id, opened_by_id=actor.user_id, opened_by_side=actor.side, reason=reason,
                      description=description.strip(), created_at=now)
    dispute.evidence = [DisputeEvidence(file_id=f.id, side=actor.side, created_at=now) for f in evidence]
    session.add(dispute)
    session.flush()
    for side in ("brand", "creator"):
        services.notify_side(session, order, side, "dispute_opened", now=now)
    return dispute


def open_dispute_of(session: Session, order: Order) -> Dispute | None:
    return session.scalar(select(Dispute).where(Dispute.order_id == order.id, Dispute.state == "open"))


def add_evidence(session: Session, dispute: Dispute, actor: Actor, files, *, now: datetime | None = None) -> None:
    """Add evidence to an open dispute (either side)."""
    if dispute.state != "open":
        raise InvalidTransition(_l("This dispute is decided; no more evidence can be added."))
    services.check_actor(session, dispute.order, actor)
    for f in files:
        session.add(DisputeEvidence(dispute_id=dispute.id, file_id=f.id, side=actor.side, created_at=now or utcnow()))
    session.flush()


def dispute_split(order: Order, decision: str, to_creator_price: int | None) -> tuple[int, int, int, int]:
    """(to creator, to brand, service fee kept, commission kept) for a decision; they sum to price + service fee.

    :raises ValidationFailed: a split amount outside 0 … price.
    """
    if decision == "refund":
        share = 0
    elif decision == "release":
        share = order.price
    elif decision == "split":
        if to_creator_price is None or not 0 < to_creator_price < order.price:
            raise ValidationFailed(_l("For a split, the creator's part is more than zero and less than the price."),
                                   field="to_creator")
        share = to_creator_price
    else:
        raise ValidationFailed(_l("Choose a decision."), field="decision")
    commission_kept = services._bp_of(share, order.commission_bp)
    fee_kept = order.service_fee * share // order.price if order.price else 0
    to_creator = share - commission_kept
    to_brand = order.price - share + order.service_fee - fee_kept
    return to_creator, to_brand, fee_kept, commission_kept


DECISION_LABELS = {"refund": _l("full refund to the brand"), "release": _l("full payment to the creator"),
                   "split": _l("split")}


def resolve_dispute(session: Session, dispute: Dispute, actor: Actor, *, decision: str, to_creator: int | None,
                    note: str, now: datetime | None = None, ip_address: str = "") -> Order:
    """A reviewer decides; the money moves in one transaction; both sides are notified (audited).

    :raises ValidationFailed: bad decision or amount, no explanation. :raises Conflict: already decided.
    """
    now = now or utcnow()
    if not (note or "").strip():
        raise ValidationFailed(_l("Explain the decision to both sides."), field="note")
    order = services.lock_order(session, dispute.order_id)
    session.refresh(dispute)
    if dispute.state != "open":
        raise Conflict(_l("This dispute is already decided."))
    split = dispute_split(order, decision, to_creator)
    order = services.transition(session, order, "resolve", actor, now=now, note=note.strip(), dispute_split=split,
                                data={"decision": decision, "to_creator": split[0], "to_brand": split[1],
                                      "service_fee_kept": split[2], "commission_kept": split[3]})
    dispute.state, dispute.decision, dispute.decision_note = "resolved", decision, note.strip()
    dispute.to_creator = order.price if decision == "release" else (to_creator if decision == "split" else 0)
    dispute.decided_by_id, dispute.decided_at = actor.user_id, now
    order.closed_at = now
    record_audit(session, actor=actor.user, action="dispute.resolve", object_type="order", object_id=order.id,
                 after={"decision": decision, "to_creator": split[0], "to_brand": split[1]}, reason=note.strip(),
                 ip_address=ip_address)
    for side in ("brand", "creator"):
        services.notify_side(session, order, side, "dispute_decided", now=now, decision=decision)
    return order


# --- must-stay-live -------------------------------------------------------------------------------------------


def report_removed(session: Session, order: Order, actor: Actor, *, note: str, removed_at: datetime | None = None,
                   now: datetime | None = None) -> LiveReport:
    """The brand reports the work removed or private during the live window; a reviewer decides."""
    now = now or utcnow()
    order = services.lock_order(session, order.id)
    services.check_actor(session, order, actor)
    if actor.side != "brand":
        raise ValidationFailed(_l("Only the brand reports a removed work."))
    if order.state != "completed" or order.live_until is None or order.live_until <= now:
        raise InvalidTransition(_l("A removal can be reported while the live window runs."))
    if session.scalar(select(LiveReport.id).where(LiveReport.order_id == order.id, LiveReport.state == "pending")):
        raise Conflict(_l("A report is already waiting for a reviewer."))
    if len((note or "").strip()) < 5:
        raise ValidationFailed(_l("Say what you saw (for example: the video shows “private”)."), field="note")
    report = LiveReport(order_id=order.id, source="brand", reported_by_id=actor.user_id, note=note.strip(),
                        removed_at=min(removed_at or now, now), created_at=now)
    session.add(report)
    services.record_event(session, order, "report_removed", actor, from_state=order.state, to_state=order.state,
                          note=note.strip(), now=now)
    session.flush()
    services.notify_side(session, order, "creator", "removal_reported", now=now)
    return report


def decide_removal(session: Session, report: LiveReport, actor: Actor, *, uphold: bool, note: str,
                   now: datetime | None = None, ip_address: str = "") -> LiveReport:
    """A reviewer upholds (pro-rata refund of the retention; the order closes) or dismisses a brand's report
    (the order closes too if its live window ended meanwhile: the timer waits for pending reports).

    :raises NotAllowed: not a reviewer. :raises Conflict: decided already. :raises ValidationFailed: no note.
    """
    now = now or utcnow()
    if actor.side != "staff":
        raise NotAllowed(_l("Only reviewers decide that."))
    if report.state != "pending":
        raise Conflict(_l("This report is already decided."))
    services.check_actor(session, report.order, actor)
    if not (note or "").strip():
        raise ValidationFailed(_l("Explain the decision."), field="note")
    order = report.order
    report.state = "upheld" if uphold else "dismissed"
    report.reviewed_by_id, report.reviewed_at, report.review_note = actor.user_id, now, note.strip()
    services.record_event(session, order, "removal_upheld" if uphold else "removal_dismissed", actor,
                          from_state=order.state, to_state=order.state, note=note.strip(), now=now)
    if uphold:
        closed = services.close_live_window(session, order, now=now, actor=actor, removed_at=report.removed_at)
        report.refund = closed.refunded_to_brand if closed else 0
    else:
        services.close_live_window(session, order, now=now, actor=actor)  # None while the window runs
    record_audit(session, actor=actor.user, action="live_report.uphold" if uphold else "live_report.dismiss",
                 object_type="order", object_id=order.id, reason=note.strip(), ip_address=ip_address)
    for side in ("brand", "creator"):
        services.notify_side(session, order, side, "removal_decided", now=now,
                             decision="upheld" if uphold else "dismissed")
    session.flush()
    return report


def record_platform_removal(session: Session, order: Order, *, now: datetime) -> LiveReport | None:
    """The connector says the work is gone: established at once (no reviewer), the order closes pro rata."""
    if order.state != "completed":
        return None
    report = LiveReport(order_id=order.id, source="platform", note="", removed_at=now, state="upheld",
                        reviewed_at=now, created_at=now)
    session.add(report)
    services.record_event(session, order, "work_removed", services.SYSTEM, from_state=order.state,
                          to_state=order.state, now=now)
    closed = services.close_live_window(session, order, now=now, removed_at=now)
    report.refund = closed.refunded_to_brand if closed else 0
    session.flush()
    return report
