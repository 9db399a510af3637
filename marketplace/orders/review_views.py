"""The reviewers' queues: jobs to review, disputes to decide, removal reports.

Reviewers and admins only ("staff.jobs" for the job queue, "staff.disputes" for disputes and removal reports).
Each handler: authorize (403; staff permissions do not depend on the object) -> load (404) -> validate the
form -> one service (which audits the decision) -> commit -> redirect; a refused decision re-renders the page
with the message beside its field and a 4xx (a dispute decided twice: 409 with the reason, nothing written).

The dispute page shows everything a reviewer needs to decide: the order and its money, the whole timeline,
both sides' messages, the drafts and their files, the dispute's reason and evidence; its split preview is
computed here (``disputes.dispute_split``) — for common splits in a table, and for the typed amount on an
htmx request (``GET review.dispute?to_creator=…`` answers with the preview fragment).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import (
    Blueprint,
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import format_timedelta
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from marketplace import authz
from marketplace.creators.taxonomy import CATEGORIES, CONTENT_TYPES, REGIONS
from marketplace.db import get_session, utcnow
from marketplace.enterprises.states import STATE_LABELS as ENTERPRISE_STATE_LABELS
from marketplace.errors import DomainError, ValidationFailed
from marketplace.extensions import client_ip
from marketplace.forms import apply_domain_error
from marketplace.ledger import flows
from marketplace.ledger.services import balance
from marketplace.main.templating import paginate
from marketplace.money import Money, MoneyError
from marketplace.orders import disputes, messaging, recruiting, services, states
from marketplace.orders.models import Dispute, Job, JobEvent, LiveReport, Order, OrderEvent
from marketplace.orders.review_forms import (
    DisputeDecisionForm,
    JobDecisionForm,
    RemovalDecisionForm,
    StaffMessageForm,
)
from marketplace.orders.services import Actor

bp = Blueprint("review", __name__, url_prefix="/staff")

OPEN_DISPUTES_SHOWN = 100  # the open queue is short; beyond this the page says how many more wait
COMMON_SPLITS = (70, 60, 50, 40, 30)  # the creator's percentage of the price, in the preview table


def _load(model, object_id: int):
    """The row, or 404."""
    obj = get_session().get(model, object_id)
    if obj is None:
        abort(404)
    return obj


def _staff_actor() -> Actor:
    return Actor("staff", current_user._get_current_object())


def _refused(form, error: DomainError) -> int:
    """Put a domain error beside its field (or flash it); the status to answer with."""
    if apply_domain_error(form, error):
        return 400
    flash(error.message, "error")
    return error.status_code


def _flash_errors(form) -> None:
    for errors in form.errors.values():
        for message in errors:
            flash(message, "error")


def _htmx() -> bool:
    return request.headers.get("HX-Request") == "true" and not request.headers.get("HX-History-Restore-Request")


def age(since: datetime | None, now: datetime | None = None) -> str:
    """How long ago, in words of the reader's language ("3 days")."""
    if since is None:
        return "—"
    return format_timedelta((now or utcnow()) - since, threshold=1.5)


SIDE_LABELS = {"brand": _l("Brand"), "creator": _l("Creator"), "staff": _l("Reviewer"), "system": _l("Canal")}


def _queue_counts() -> dict[str, int]:
    """What waits in each queue (the tabs); each count walks one (state, …) index."""
    db = get_session()
    return {
        "jobs": db.scalar(select(func.count()).select_from(Job).where(Job.state == "in_review")) or 0,
        "disputes": db.scalar(select(func.count()).select_from(Dispute).where(Dispute.state == "open")) or 0,
        "live_reports": db.scalar(select(func.count()).select_from(LiveReport)
                                  .where(LiveReport.state == "pending")) or 0,
    }


def _labels() -> dict:
    """What every reviewer page renders with: the labels of codes and states, the queue counts."""
    return dict(counts=_queue_counts(), sides=SIDE_LABELS, content_types=CONTENT_TYPES, categories=CATEGORIES,
                regions=REGIONS, enterprise_states=ENTERPRISE_STATE_LABELS, order_states=states.ORDER_STATE_LABELS,
                action_labels=states.ORDER_ACTION_LABELS, reasons=states.DISPUTE_REASONS,
                decisions=disputes.DECISION_LABELS, age=age)


# --- jobs ---------------------------------------------------------------------------------------------------


def _job_form(job: Job, formdata=None) -> JobDecisionForm:
    return JobDecisionForm(prefix=f"job{job.id}", formdata=formdata)


def _render_jobs(failed: JobDecisionForm | None = None, failed_job_id: int | None = None, status: int = 200):
    db = get_session()
    query = (select(Job).where(Job.state == "in_review").options(joinedload(Job.enterprise))
             .order_by(Job.submitted_at, Job.id))
    page = paginate(db, query, per_page=10)
    forms = {job.id: _job_form(job) for job in page.items}
    if failed is not None:
        if failed_job_id in forms:
            forms[failed_job_id] = failed
        else:  # the job is on another page of the queue: say what went wrong at the top
            _flash_errors(failed)
    recent = db.execute(
        select(JobEvent, Job).join(Job, Job.id == JobEvent.job_id)
        .where(JobEvent.from_state == "in_review", JobEvent.to_state.in_(("open", "rejected")))
        .options(joinedload(JobEvent.actor), joinedload(Job.enterprise))
        .order_by(JobEvent.id.desc()).limit(10)
    ).all()
    return render_template("review/jobs.html", page=page, forms=forms, recent=recent, now=utcnow(),
                           **_labels()), status


@bp.get("/jobs")
@login_required
def jobs():
    authz.require("staff.jobs")
    return _render_jobs()


@bp.post("/jobs/<int:job_id>/decide")
@login_required
def job_decide(job_id: int):
    authz.require("staff.jobs")
    job = _load(Job, job_id)
    form = _job_form(job, request.form)
    status = 400
    if form.validate_on_submit():
        approve = form.decision.data == "approve"
        db = get_session()
        try:
            recruiting.review_job(db, job, _staff_actor(), approve=approve, reason=(form.reason.data or "").strip(),
                                  ip_address=client_ip())
            db.commit()
        except DomainError as error:
            db.rollback()
            status = _refused(form, error)
        else:
            flash(_("“%(title)s” is approved and open to creators.", title=job.title) if approve else
                  _("“%(title)s” was sent back to the brand with your reason.", title=job.title), "success")
            return redirect(url_for("review.jobs"))
    return _render_jobs(form, job.id, status)


# --- disputes -----------------------------------------------------------------------------------------------


@bp.get("/disputes", endpoint="disputes")  # the function's name would hide the ``disputes`` service module
@login_required
def disputes_queue():
    authz.require("staff.disputes")
    db = get_session()
    with_parties = (joinedload(Dispute.order).joinedload(Order.enterprise),
                    joinedload(Dispute.order).joinedload(Order.creator))
    open_disputes = db.scalars(select(Dispute).where(Dispute.state == "open").options(*with_parties)
                               .order_by(Dispute.created_at, Dispute.id).limit(OPEN_DISPUTES_SHOWN)).all()
    decided = paginate(db, select(Dispute).where(Dispute.state == "resolved").options(*with_parties)
                       .order_by(Dispute.created_at.desc(), Dispute.id.desc()), per_page=20)
    return render_template("review/disputes.html", open_disputes=open_disputes, decided=decided, now=utcnow(),
                           **_labels())



@dataclass(frozen=True)
class SplitLine:
    """What a decision gives each side (fen): creator, brand back, and what the platform keeps."""

    label: str
    to_creator_price: int  # the creator's part of the price
    to_creator: int
    to_brand: int
    fee_kept: int
    commission_kept: int

    @property
    def platform(self) -> int:
        return self.fee_kept + self.commission_kept


def _split_line(order: Order, decision: str, share: int | None, label: str) -> SplitLine:
    to_creator, to_brand, fee_kept, commission_kept = disputes.dispute_split(order, decision, share)
    price_share = {"refund": 0, "release": order.price}.get(decision, share or 0)
    return SplitLine(label, price_share, to_creator, to_brand, fee_kept, commission_kept)


def common_splits(order: Order) -> list[SplitLine]:
    """Refund, the usual splits of the price, release: each side's money, for the table beside the form."""
    lines = [_split_line(order, "refund", None, _("Refund (0 %)"))]
    for percent in COMMON_SPLITS:
        share = order.price * percent // 100
        if 0 < share < order.price:
            lines.append(_split_line(order, "split", share, _("%(creator)s / %(brand)s", creator=f"{percent} %",
                                                                brand=f"{100 - percent} %")))
    lines.append(_split_line(order, "release", None, _("Release (100 %)")))
    return lines


def split_preview(order: Order, raw: str | None) -> tuple[SplitLine | None, str | None]:
    """The split for an amount typed in yuan, or why it cannot be one."""
    if not (raw or "").strip():
        return None, None
    try:
        share = Money.parse(raw, order.currency).minor
    except MoneyError:
        return None, _("Enter an amount in yuan, with at most two decimals.")
    try:
        return _split_line(order, "split", share, _("Your split")), None
    except ValidationFailed as error:
        return None, str(error.message)


def _render_dispute(dispute: Dispute, form: DisputeDecisionForm, message_form: StaffMessageForm, status: int = 200):
    db = get_session()
    order = dispute.order
    events = db.scalars(select(OrderEvent).where(OrderEvent.order_id == order.id).options(joinedload(OrderEvent.actor))
                        .order_by(OrderEvent.id)).all()
    decided_event = next((e for e in reversed(events) if e.action == "resolve"), None)
    preview, preview_error = split_preview(order, form.to_creator.raw_data[0] if form.to_creator.raw_data else None)
    # The preview follows the amount as it is typed (htmx asks this page for the fragment; no inline script).
    form.to_creator.render_kw = {**(form.to_creator.render_kw or {}),
                                 "hx-get": url_for("review.dispute", dispute_id=dispute.id),
                                 "hx-trigger": "input changed delay:250ms", "hx-target": "#split-preview",
                                 "hx-swap": "innerHTML", "hx-sync": "this:replace"}
    return render_template(
        "review/dispute.html", dispute=dispute, order=order, events=events, decided_event=decided_event,
        messages=messaging.messages(db, "order", order.id), drafts=services.drafts(db, order),
        escrow_held=balance(db, flows.order_escrow(order.id)), splits=common_splits(order), preview=preview,
        preview_error=preview_error, form=form, message_form=message_form, now=utcnow(),
        can_message=dispute.state == "open" and order.state == "disputed", **_labels()), status


@bp.get("/disputes/<int:dispute_id>")
@login_required
def dispute(dispute_id: int):
    authz.require("staff.disputes")
    dispute = _load(Dispute, dispute_id)
    if _htmx() and "to_creator" in request.args:
        preview, error = split_preview(dispute.order, request.args.get("to_creator"))
        response = make_response(render_template("review/_split_preview.html", order=dispute.order, preview=preview,
                                                 preview_error=error))
        response.vary.add("HX-Request")
        return response
    form = DisputeDecisionForm(formdata=None)
    if request.args.get("to_creator"):  # a preview asked for without JavaScript (a link from the table)
        form.decision.data, form.to_creator.raw_data = "split", [request.args["to_creator"]]
        form.to_creator.data = request.args["to_creator"]
    response = make_response(*_render_dispute(dispute, form, StaffMessageForm(formdata=None)))
    response.vary.add("HX-Request")
    return response


@bp.post("/disputes/<int:dispute_id>/resolve")
@login_required
def resolve(dispute_id: int):
    authz.require("staff.disputes")
    dispute = _load(Dispute, dispute_id)
    form = DisputeDecisionForm()
    status = 400
    if form.validate_on_submit():
        db = get_session()
        decision = form.decision.data
        try:
            disputes.resolve_dispute(db, dispute, _staff_actor(), decision=decision,
                                     to_creator=form.to_creator.minor if decision == "split" else None,
                                     note=form.note.data, ip_address=client_ip())
            db.commit()
        except DomainError as error:
            db.rollback()
            status = _refused(form, error)
        else:
            flash(_("The dispute is decided; the money moved and both sides were told."), "success")
            return redirect(url_for("review.dispute", dispute_id=dispute.id))
    return _render_dispute(dispute, form, StaffMessageForm(formdata=None), status)


@bp.post("/disputes/<int:dispute_id>/messages")
@login_required
def dispute_message(dispute_id: int):
    authz.require("staff.disputes")
    dispute = _load(Dispute, dispute_id)
    form = StaffMessageForm()
    status = 400
    if form.validate_on_submit():
        db = get_session()
        try:
            messaging.post_message(db, dispute.order, _staff_actor(), body=form.body.data)
            db.commit()
        except DomainError as error:
            db.rollback()
            status = _refused(form, error)
        else:
            flash(_("Your message was posted to both sides."), "success")
            return redirect(url_for("review.dispute", dispute_id=dispute.id, _anchor="messages"))
    return _render_dispute(dispute, DisputeDecisionForm(formdata=None), form, status)


# --- removal reports (the must-stay-live guarantee) ------------------------------------------------------------


@dataclass(frozen=True)
class ReportRow:
    report: LiveReport
    order: Order
    days_left: int  # whole days left in the live window (0 when it has ended)
    refund: int  # what upholding refunds to the brand (pro rata of the retention)
    form: RemovalDecisionForm


def _report_form(report: LiveReport, formdata=None) -> RemovalDecisionForm:
    return RemovalDecisionForm(prefix=f"report{report.id}", formdata=formdata)


def _render_live_reports(failed: RemovalDecisionForm | None = None, failed_id: int | None = None, status: int = 200):
    db = get_session()
    now = utcnow()
    with_parties = (joinedload(LiveReport.order).joinedload(Order.enterprise),
                    joinedload(LiveReport.order).joinedload(Order.creator))
    page = paginate(db, select(LiveReport).where(LiveReport.state == "pending").options(*with_parties)
                    .order_by(LiveReport.created_at, LiveReport.id), per_page=20)
    if failed is not None and failed_id not in {report.id for report in page.items}:
        _flash_errors(failed)  # the report is on another page of the queue
    rows = []
    for report in page.items:
        order = report.order
        left = (order.live_until - now).days + 1 if order.live_until and order.live_until > now else 0
        form = failed if failed is not None and failed_id == report.id else _report_form(report)
        rows.append(ReportRow(report, order, left, services.retention_refund(order, report.removed_at), form))
    decided = db.scalars(select(LiveReport).where(LiveReport.state.in_(("upheld", "dismissed")))
                         .options(*with_parties).order_by(LiveReport.created_at.desc(), LiveReport.id.desc())
                         .limit(10)).all()
    return render_template("review/live_reports.html", page=page, rows=rows, decided=decided, now=now,
                           **_labels()), status


@bp.get("/live-reports")
@login_required
def live_reports():
    authz.require("staff.disputes")
    return _render_live_reports()


@bp.post("/live-reports/<int:report_id>/decide")
@login_required
def live_report_decide(report_id: int):
    authz.require("staff.disputes")
    report = _load(LiveReport, report_id)
    form = _report_form(report, request.form)
    status = 400
    if form.validate_on_submit():
        uphold = form.decision.data == "uphold"
        db = get_session()
        try:
            disputes.decide_removal(db, report, _staff_actor(), uphold=uphold, note=form.note.data,
                                    ip_address=client_ip())
            db.commit()
        except DomainError as error:
            db.rollback()
            status = _refused(form, error)
        else:
            flash(_("The report is upheld: the retention was refunded pro rata and the order closed.") if uphold
                  else _("The report is dismissed; both sides were told."), "success")
            return redirect(url_for("review.live_reports"))
    return _render_live_reports(form, report.id, status)
