"""Campaigns, jobs and applications: the brand's side, the creator's job board and applications.

Each handler: load (404) -> authorize (403) -> validate the form -> one service of ``orders.recruiting`` (or
``orders.messaging``) -> commit -> redirect. A refused request (``DomainError``) answers its 4xx with the page
and the reason, beside the field it names; nothing is written.

Who sees what:
- a brand's campaigns, jobs and the applications to them: every member of the enterprise reads
  (``enterprise.orders.view``), owners and managers act (``enterprise.orders``); other brands get 403;
- a creator sees open jobs, jobs they applied to, and their own applications (and threads);
- reviewers and admins (``staff.jobs``) read a job's page, without actions.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import func, select

from marketplace import authz
from marketplace.creators import taxonomy
from marketplace.creators.authenticity import reason_message
from marketplace.creators.charts import stacked_bar
from marketplace.creators.discovery_views import FRAGMENT_ERROR, _htmx, card_labels
from marketplace.creators.models import Creator
from marketplace.creators.services import creator_for_user
from marketplace.creators.views import _yuan
from marketplace.db import get_session, utcnow
from marketplace.enterprises.models import Enterprise
from marketplace.errors import DomainError, InsufficientFunds
from marketplace.files.services import DOCUMENT_TYPES, store_upload
from marketplace.files.serving import send_stored_file
from marketplace.forms import ActionForm, apply_domain_error, safe_next
from marketplace.main.templating import Page, paginate
from marketplace.orders import messaging, recruiting, states
from marketplace.orders.job_forms import (
    BOARD_SORT_LABELS,
    ApplyForm,
    BoardForm,
    CampaignForm,
    JobForm,
    MessageForm,
    RejectApplicationForm,
    ShortlistApplicationForm,
    to_local,
    to_utc,
)
from marketplace.orders.models import Application, Campaign, Job, JobEvent, Message, Order
from marketplace.orders.services import brand as brand_actor
from marketplace.orders.services import compute_fees, creator_actor

bp = Blueprint("jobs", __name__)

PER_PAGE = 20
BOARD_PER_PAGE = 12
BOARD_SCAN_CAP = 1000  # open jobs read per board request before the criteria filter (categories, regions)

# The brand's job list: tab -> the states it shows ("ended" groups cancelled and rejected jobs).
JOB_TABS = {
    "": (),
    "draft": ("draft",),
    "in_review": ("in_review",),
    "open": ("open",),
    "closed": ("closed",),
    "ended": ("cancelled", "rejected"),
}


# --- loading and deciding who looks ------------------------------------------------------------------------


def _get(model, object_id: int):
    obj = get_session().get(model, object_id)
    if obj is None:
        abort(404)
    return obj


def _own_creator() -> Creator | None:
    return creator_for_user(get_session(), current_user)


def _creator_or_403() -> Creator:
    authz.require("creator.workspace")
    creator = _own_creator()
    if creator is None:  # pragma: no cover - creator.workspace means there is one
        abort(403)
    return creator


def _application_of(creator: Creator | None, job: Job) -> Application | None:
    if creator is None:
        return None
    return get_session().scalar(select(Application).where(Application.job_id == job.id,
                                                          Application.creator_id == creator.id))


def _job_side(job: Job) -> tuple[str, Creator | None]:
    """Which page of the job the user sees: ``brand`` (a member of its enterprise), ``creator`` (the job is open,
    or they applied to it) or ``staff`` (reviewers, read only); 403 for anyone else. A user who is both a member
    and a creator sees the side of the context they act in."""
    creator = _own_creator()
    creator_may = creator is not None and (job.state == "open" or _application_of(creator, job) is not None)
    if creator_may and authz.current_context().kind == "creator":
        return "creator", creator
    if authz.can(current_user, "enterprise.orders.view", job):
        return "brand", creator
    if authz.can(current_user, "staff.jobs"):
        return "staff", creator
    if creator_may:
        return "creator", creator
    abort(403)


def _application_side(application: Application) -> str:
    """``creator`` (its author) or ``brand`` (a member of the job's enterprise); 403 for anyone else."""
    creator = _own_creator()
    own = creator is not None and application.creator_id == creator.id
    if own and (authz.current_context().kind == "creator"
                or not authz.can(current_user, "enterprise.orders.view", application.job)):
        return "creator"
    if authz.can(current_user, "enterprise.orders.view", application.job):
        return "brand"
    abort(403)


def _refused(form, error: DomainError) -> int:
    """Put a domain error beside its field (or flash it); the status to answer with."""
    if form is not None and apply_domain_error(form, error):
        return 400
    flash(error.message, "error")
    return error.status_code


# --- budget bars -----------------------------------------------------------------------------------------


@dataclass
class BudgetBar:
    """A campaign's budget as one bar: committed, spent and what remains (or how far it is over)."""

    totals: recruiting.CampaignTotals
    chart: object | None  # charts.ShareChart

    @property
    def over(self) -> int:
        return max(0, -self.totals.remaining) if self.totals.budget else 0

    @property
    def used_percent(self) -> int | None:
        if not self.totals.budget:
            return None
        return round(100 * (self.totals.committed + self.totals.spent) / self.totals.budget)


def budget_bar(totals: recruiting.CampaignTotals) -> BudgetBar:
    remaining = max(0, totals.remaining) if totals.budget else 0
    return BudgetBar(totals, stacked_bar([("spent", totals.spent), ("committed", totals.committed),
                                          ("remaining", remaining)], width=1000, height=14))


def _budget_labels() -> dict[str, str]:
    return {"spent": _("Spent"), "committed": _("Committed"), "remaining": _("Remaining")}


# --- campaigns -------------------------------------------------------------------------------------------


@bp.get("/enterprises/<int:enterprise_id>/campaigns")
@login_required
def campaigns(enterprise_id: int):
    enterprise = _get(Enterprise, enterprise_id)
    authz.require("enterprise.orders.view", enterprise)
    db = get_session()
    everything = recruiting.campaigns_of(db, enterprise.id)
    try:
        number = max(1, int(request.args.get("page", 1)))
    except ValueError:
        number = 1
    items = everything[(number - 1) * PER_PAGE:number * PER_PAGE]
    page = Page([(c, budget_bar(recruiting.campaign_totals(db, c))) for c in items], number, PER_PAGE,
                len(everything))
    return render_template("jobs/campaigns.html", enterprise=enterprise, page=page, labels=_budget_labels(),
                           can_edit=authz.can(current_user, "enterprise.orders", enterprise))


def _save_campaign(enterprise: Enterprise, form: CampaignForm, campaign: Campaign | None):
    db = get_session()
    try:
        saved = recruiting.save_campaign(db, brand_actor(current_user), enterprise, name=form.name.data or "",
                                         goal=form.goal.data or "", budget=form.budget.minor or 0,
                                         starts_on=form.starts_on.data, ends_on=form.ends_on.data, campaign=campaign)
        db.commit()
    except DomainError as error:
        db.rollback()
        return None, _refused(form, error)
    return saved, 200


@bp.route("/enterprises/<int:enterprise_id>/campaigns/new", methods=["GET", "POST"])
@login_required
def campaign_new(enterprise_id: int):
    enterprise = _get(Enterprise, enterprise_id)
    authz.require("enterprise.orders", enterprise)
    form = CampaignForm()
    status = 200
    if form.validate_on_submit():
        saved, status = _save_campaign(enterprise, form, None)
        if saved is not None:
            flash(_("Campaign “%(name)s” created. Add jobs to it, or choose it when you send an offer.",
                    name=saved.name), "success")
            return redirect(url_for("jobs.campaign", campaign_id=saved.id))
    elif form.errors:
        status = 400
    return render_template("jobs/campaign_form.html", enterprise=enterprise, form=form, campaign=None), status


@bp.get("/campaigns/<int:campaign_id>")
@login_required
def campaign(campaign_id: int):
    campaign = _get(Campaign, campaign_id)
    authz.require("enterprise.orders.view", campaign)
    db = get_session()
    bar = budget_bar(recruiting.campaign_totals(db, campaign))
    jobs = list(db.scalars(select(Job).where(Job.campaign_id == campaign.id).order_by(Job.created_at.desc())
                           .limit(50)))
    orders = list(db.scalars(select(Order).where(Order.campaign_id == campaign.id)
                             .order_by(Order.updated_at.desc(), Order.id.desc()).limit(50)))
    return render_template("jobs/campaign.html", campaign=campaign, enterprise=campaign.enterprise, bar=bar,
                           labels=_budget_labels(), jobs=jobs, orders=orders,
                           can_edit=authz.can(current_user, "enterprise.orders", campaign), **_labels())


@bp.route("/campaigns/<int:campaign_id>/edit", methods=["GET", "POST"])
@login_required
def campaign_edit(campaign_id: int):
    campaign = _get(Campaign, campaign_id)
    authz.require("enterprise.orders", campaign)
    form = CampaignForm(data=None if request.method == "POST" else {
        "name": campaign.name, "goal": campaign.goal, "budget": _yuan(campaign.budget) if campaign.budget else "",
        "starts_on": campaign.starts_on, "ends_on": campaign.ends_on})
    status = 200
    if form.validate_on_submit():
        saved, status = _save_campaign(campaign.enterprise, form, campaign)
        if saved is not None:
            flash(_("Campaign saved."), "success")
            return redirect(url_for("jobs.campaign", campaign_id=campaign.id))
    elif form.errors:
        status = 400
    return render_template("jobs/campaign_form.html", enterprise=campaign.enterprise, form=form,
                           campaign=campaign), status


# --- the brand's jobs ------------------------------------------------------------------------------------


@bp.get("/enterprises/<int:enterprise_id>/jobs")
@login_required
def jobs(enterprise_id: int):
    enterprise = _get(Enterprise, enterprise_id)
    authz.require("enterprise.orders.view", enterprise)
    tab = request.args.get("state", "")
    if tab not in JOB_TABS:
        tab = ""
    db = get_session()
    by_state = dict(db.execute(select(Job.state, func.count()).where(Job.enterprise_id == enterprise.id)
                               .group_by(Job.state)).all())
    counts = {key: (sum(by_state.values()) if not wanted else sum(by_state.get(s, 0) for s in wanted))
              for key, wanted in JOB_TABS.items()}
    query = select(Job).where(Job.enterprise_id == enterprise.id)
    if JOB_TABS[tab]:
        query = query.where(Job.state.in_(JOB_TABS[tab]))
    page = paginate(db, query.order_by(Job.created_at.desc(), Job.id.desc()), per_page=PER_PAGE)
    return render_template("jobs/jobs.html", enterprise=enterprise, page=page, tab=tab, counts=counts,
                           can_edit=authz.can(current_user, "enterprise.orders", enterprise), **_labels())


def _labels() -> dict:
    return {"job_state_labels": states.JOB_STATE_LABELS, "job_state_tones": states.JOB_STATE_TONES,
            "application_state_labels": states.APPLICATION_STATE_LABELS,
            "application_state_tones": states.APPLICATION_STATE_TONES,
            "order_state_labels": states.ORDER_STATE_LABELS, "order_state_tones": states.ORDER_STATE_TONES,
            "content_types": taxonomy.CONTENT_TYPES, "categories": taxonomy.CATEGORIES,
            "regions": taxonomy.REGIONS}


def _terms(form: JobForm) -> recruiting.JobTerms:
    return recruiting.JobTerms(
        title=form.title.data or "", brief=form.brief.data or "", content_type=form.content_type.data or "",
        deliverables=form.deliverables.data or "", budget=form.budget.minor, slots=form.slots.data,
        application_deadline=to_utc(form.application_deadline.data), publish_from=form.publish_from.data,
        publish_until=form.publish_until.data, criteria_categories=list(form.criteria_categories.data or []),
        criteria_regions=list(form.criteria_regions.data or []),
        criteria_min_followers=form.criteria_min_followers.data,
        criteria_max_followers=form.criteria_max_followers.data, usage_rights_days=form.usage_rights_days.data,
        live_days=form.live_days.data, revision_rounds=form.revision_rounds.data, campaign_id=form.campaign())


def _job_form_data(job: Job) -> dict:
    return {
        "title": job.title, "brief": job.brief, "content_type": job.content_type, "deliverables": job.deliverables,
        "budget": _yuan(job.budget), "slots": job.slots, "application_deadline": to_local(job.application_deadline),
        "publish_from": job.publish_from, "publish_until": job.publish_until,
        "criteria_categories": list(job.criteria_categories or []), "criteria_regions": list(job.criteria_regions or []),
        "criteria_min_followers": job.criteria_min_followers, "criteria_max_followers": job.criteria_max_followers,
        "usage_rights_days": job.usage_rights_days, "live_days": job.live_days,
        "revision_rounds": job.revision_rounds, "campaign_id": str(job.campaign_id or ""),
    }


def _job_form_page(enterprise: Enterprise, form: JobForm, job: Job | None, status: int = 200):
    return render_template("jobs/job_form.html", enterprise=enterprise, form=form, job=job,
                           timezone=current_user.timezone, **_labels()), status


@bp.route("/enterprises/<int:enterprise_id>/jobs/new", methods=["GET", "POST"])
@login_required
def job_new(enterprise_id: int):
    enterprise = _get(Enterprise, enterprise_id)
    authz.require("enterprise.orders", enterprise)
    db = get_session()
    preset = request.args.get("campaign", "")
    form = JobForm(data=None if request.method == "POST" else {"campaign_id": preset if preset.isdigit() else ""})
    form.set_campaigns(recruiting.campaigns_of(db, enterprise.id))
    status = 200
    if form.validate_on_submit():
        try:
            job = recruiting.save_job(db, brand_actor(current_user), enterprise, _terms(form))
            db.commit()
        except DomainError as error:
            db.rollback()
            status = _refused(form, error)
        else:
            flash(_("Draft saved. Check it, then submit it for review: reviewers usually answer within a working day."),
                  "success")
            return redirect(url_for("jobs.job", job_id=job.id))
    elif form.errors:
        status = 400
    return _job_form_page(enterprise, form, None, status)


@bp.route("/jobs/<int:job_id>/edit", methods=["GET", "POST"])
@login_required
def job_edit(job_id: int):
    job = _get(Job, job_id)
    authz.require("enterprise.orders", job)
    if job.state not in states.EDITABLE_JOB_STATES:
        flash(_("Only a draft or a rejected job can be edited."), "error")
        return redirect(url_for("jobs.job", job_id=job.id))
    db = get_session()
    form = JobForm(data=None if request.method == "POST" else _job_form_data(job))
    form.set_campaigns(recruiting.campaigns_of(db, job.enterprise_id))
    status = 200
    if form.validate_on_submit():
        try:
            recruiting.save_job(db, brand_actor(current_user), job.enterprise, _terms(form), job=job)
            db.commit()
        except DomainError as error:
            db.rollback()
            db.refresh(job)
            status = _refused(form, error)
        else:
            flash(_("Job saved."), "success")
            return redirect(url_for("jobs.job", job_id=job.id))
    elif form.errors:
        status = 400
    return _job_form_page(job.enterprise, form, job, status)


def _job_action(job_id: int, action, done: str):
    job = _get(Job, job_id)
    authz.require("enterprise.orders", job)
    if not ActionForm().validate_on_submit():
        abort(400)
    db = get_session()
    try:
        action(db, job, brand_actor(current_user))
        db.commit()
    except DomainError as error:
        db.rollback()
        db.refresh(job)
        return _brand_job_page(job, status=error.status_code, error=error.message)
    flash(done, "success")
    return redirect(url_for("jobs.job", job_id=job.id))


@bp.post("/jobs/<int:job_id>/submit")
@login_required
def job_submit(job_id: int):
    return _job_action(job_id, recruiting.submit_job,
                       _("Submitted for review. You will be notified when a reviewer has looked at it."))


@bp.post("/jobs/<int:job_id>/close")
@login_required
def job_close(job_id: int):
    return _job_action(job_id, recruiting.close_job,
                       _("The job is closed. Creators whose applications were still open have been told."))


@bp.post("/jobs/<int:job_id>/cancel")
@login_required
def job_cancel(job_id: int):
    return _job_action(job_id, recruiting.cancel_job,
                       _("The job is cancelled. Orders already made from it are not affected."))


# --- the job page ----------------------------------------------------------------------------------------


@bp.get("/jobs/<int:job_id>")
@login_required
def job(job_id: int):
    job = _get(Job, job_id)
    side, creator = _job_side(job)
    if side == "creator":
        return _creator_job_page(job, creator)
    return _brand_job_page(job, staff=side == "staff")


@dataclass
class ApplicantRow:
    application: Application
    creator: Creator
    total: int  # what accepting costs the brand: quote + service fee
    delta_bp: int  # quote vs the job's budget, basis points (+ above, - below)
    reasons: list
    unread: int
    reject_form: RejectApplicationForm


def _applicant_rows(job: Job, state: str, reject_form: RejectApplicationForm | None,
                    reject_for: int | None) -> list[ApplicantRow]:
    db = get_session()
    applications = recruiting.applicants(db, job, state)
    unread = messaging.unread_counts(db, current_user, "application", [a.id for a in applications])
    rows = []
    for application in applications:
        creator = application.creator
        form = reject_form if reject_for == application.id and reject_form is not None else \
            RejectApplicationForm(formdata=None, prefix=f"a{application.id}")
        rows.append(ApplicantRow(
            application, creator, compute_fees(application.quote, job.live_days).total,
            (application.quote - job.budget) * 10000 // job.budget if job.budget else 0,
            [reason_message(r) for r in (creator.authenticity_reasons or [])], unread.get(application.id, 0), form))
    return rows


def _brand_job_page(job: Job, *, staff: bool = False, status: int = 200, error=None, funds=None,
                    reject_form: RejectApplicationForm | None = None, reject_for: int | None = None):
    db = get_session()
    state = request.args.get("state", "")
    if state not in states.APPLICATION_STATES:
        state = ""
    counts = dict(db.execute(select(Application.state, func.count()).where(Application.job_id == job.id)
                             .group_by(Application.state)).all())
    events = list(db.scalars(select(JobEvent).where(JobEvent.job_id == job.id).order_by(JobEvent.id)))
    can_act = not staff and authz.can(current_user, "enterprise.orders", job)
    return render_template(
        "jobs/job_brand.html", job=job, enterprise=job.enterprise, staff=staff, can_act=can_act,
        rows=_applicant_rows(job, state, reject_form, reject_for), state=state, counts=counts,
        total_applications=sum(counts.values()), events=events, action_form=ActionForm(), error=error, funds=funds,
        here=request.full_path if request.query_string else request.path,
        t=card_labels(), **_labels()), status


def unmet_criteria(creator: Creator, job: Job) -> list[str]:
    """Why the creator does not meet the job's criteria, in words (empty: they qualify).

    Mirrors ``recruiting.creator_matches``, which decides; this only explains."""
    reasons = []
    if not creator.listed:
        reasons.append(_("your profile is not complete (a handle, a category and a linked platform account)"))
    if job.criteria_categories and not set(job.criteria_categories) & set(creator.category_codes):
        reasons.append(_("the job is for creators in %(list)s",
                         list=", ".join(str(taxonomy.CATEGORIES.get(c, c)) for c in job.criteria_categories)))
    if job.criteria_regions and not set(job.criteria_regions) & set(creator.region_codes):
        reasons.append(_("the job is for creators in %(list)s",
                         list=", ".join(str(taxonomy.REGIONS.get(r, r)) for r in job.criteria_regions)))
    if job.criteria_min_followers is not None and creator.followers < job.criteria_min_followers:
        reasons.append(_("it needs at least %(n)s followers and you have %(have)s",
                         n=f"{job.criteria_min_followers:,}", have=f"{creator.followers:,}"))
    if job.criteria_max_followers is not None and creator.followers > job.criteria_max_followers:
        reasons.append(_("it is for creators with at most %(n)s followers and you have %(have)s",
                         n=f"{job.criteria_max_followers:,}", have=f"{creator.followers:,}"))
    return reasons


def _creator_job_page(job: Job, creator: Creator, form: ApplyForm | None = None, status: int = 200):
    application = _application_of(creator, job)
    if form is None:
        price = creator.price_for(job.content_type)
        form = ApplyForm(formdata=None, data={"quote": _yuan(price) if price else ""})
    return render_template(
        "jobs/job_creator.html", job=job, enterprise=job.enterprise, creator=creator, application=application,
        form=form, unmet=unmet_criteria(creator, job), rate_card_price=creator.price_for(job.content_type),
        taking=job.state == "open" and job.application_deadline > utcnow(),
        action_form=ActionForm(), **_labels()), status


@bp.post("/jobs/<int:job_id>/apply")
@login_required
def job_apply(job_id: int):
    job = _get(Job, job_id)
    creator = _creator_or_403()
    if job.state != "open" and _application_of(creator, job) is None:
        abort(403)
    form = ApplyForm()
    status = 400
    if form.validate_on_submit():
        db = get_session()
        try:
            application = recruiting.apply_to_job(db, job, creator, quote=form.quote.minor, pitch=form.pitch.data or "")
            db.commit()
        except DomainError as error:
            db.rollback()
            status = _refused(form, error)
        else:
            flash(_("Your application is sent. The brand answers here and in your notifications."), "success")
            return redirect(url_for("jobs.application", application_id=application.id))
    return _creator_job_page(job, creator, form, status)


# --- the brand acts on applications ------------------------------------------------------------------------


def _brand_application(application_id: int) -> Application:
    application = _get(Application, application_id)
    authz.require("enterprise.orders", application.job)
    return application


def _back_to_job(application: Application):
    return redirect(safe_next(request.form.get("next")) or url_for("jobs.job", job_id=application.job_id))


@bp.post("/applications/<int:application_id>/shortlist")
@login_required
def application_shortlist(application_id: int):
    application = _brand_application(application_id)
    form = ShortlistApplicationForm()
    if not form.validate_on_submit():
        abort(400)
    db = get_session()
    on = form.shortlisted.data == "1"
    try:
        recruiting.shortlist_application(db, application, brand_actor(current_user), shortlisted=on)
        db.commit()
    except DomainError as error:
        db.rollback()
        return _brand_job_page(application.job, status=error.status_code, error=error.message)
    flash(_("%(name)s is on the shortlist.", name=application.creator.display_name) if on else
          _("%(name)s is off the shortlist.", name=application.creator.display_name), "success")
    return _back_to_job(application)


@bp.post("/applications/<int:application_id>/reject")
@login_required
def application_reject(application_id: int):
    application = _brand_application(application_id)
    form = RejectApplicationForm(prefix=f"a{application.id}")
    db = get_session()
    if form.validate_on_submit():
        try:
            recruiting.reject_application(db, application, brand_actor(current_user), reason=form.reason.data)
            db.commit()
        except DomainError as error:
            db.rollback()
            db.refresh(application)
            status = _refused(form, error)
        else:
            flash(_("%(name)s was told they were not selected.", name=application.creator.display_name), "success")
            return _back_to_job(application)
    else:
        status = 400
    return _brand_job_page(application.job, status=status, reject_form=form, reject_for=application.id)


@bp.post("/applications/<int:application_id>/accept")
@login_required
def application_accept(application_id: int):
    application = _brand_application(application_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    db = get_session()
    job = application.job
    try:
        order = recruiting.accept_application(db, application, brand_actor(current_user))
        db.commit()
    except InsufficientFunds:
        db.rollback()
        db.refresh(job)
        return _brand_job_page(job, status=409, funds=_funds_needed(application))
    except DomainError as error:
        db.rollback()
        db.refresh(job)
        return _brand_job_page(job, status=error.status_code, error=error.message)
    flash(_("%(name)s is hired: the order is funded and the creator can start.", name=application.creator.display_name),
          "success")
    return redirect(url_for("orders.detail", order_id=order.id))


@dataclass
class FundsNeeded:
    total: int  # quote + service fee
    price: int
    service_fee: int
    spendable: int  # available balance (with any credit line)
    wallet_url: str | None

    @property
    def missing(self) -> int:
        return max(0, self.total - self.spendable)


def _funds_needed(application: Application) -> FundsNeeded:
    from marketplace.payments.services import wallet_summary

    fees = compute_fees(application.quote, application.job.live_days)
    summary = wallet_summary(get_session(), application.job.enterprise_id)
    enterprise = application.job.enterprise
    wallet = (url_for("payments.top_up_form", enterprise_id=enterprise.id)
              if authz.can(current_user, "enterprise.finance", enterprise) else None)
    return FundsNeeded(fees.total, fees.price, fees.service_fee, summary["spendable"], wallet)


# --- the creator's job board and applications --------------------------------------------------------------


@bp.get("/creator/jobs")
@login_required
def board():
    creator = _creator_or_403()
    form = BoardForm(request.args)
    matching_only = form.qualify.data if "f" in request.args else True
    form.qualify.data = matching_only
    page, applied, status = None, set(), 200
    db = get_session()
    if form.validate():
        query = recruiting.job_board_query(
            creator, q=form.q.data, content_type=form.content_type.data or "",
            budget_min=form.budget_min.data, matching_only=matching_only, sort=form.sort.data)
        found = recruiting.matching_jobs(db, creator, list(db.scalars(query.limit(BOARD_SCAN_CAP))),
                                         category=form.category.data or "", matching_only=matching_only)
        number = form.page.data or 1
        page = Page(found[(number - 1) * BOARD_PER_PAGE:number * BOARD_PER_PAGE], number, BOARD_PER_PAGE, len(found))
        ids = [job.id for job in page.items]
        if ids:
            applied = set(db.scalars(select(Application.job_id).where(Application.creator_id == creator.id,
                                                                      Application.job_id.in_(ids))))
    else:
        status = 400
    htmx = _htmx()
    response = current_app.make_response((render_template(
        "jobs/_board_results.html" if htmx else "jobs/board.html", form=form, page=page, applied=applied,
        creator=creator, matching_only=matching_only, sort_labels=BOARD_SORT_LABELS,
        options={name: [(value, str(label)) for value, label in BoardForm.filters[name].choices]
                 for name in ("sort", "content_type", "category")},
        qualifies={job.id: recruiting.creator_matches(creator, job) for job in (page.items if page else [])},
        **_labels()), FRAGMENT_ERROR if htmx and status >= 400 else status))
    response.vary.add("HX-Request")
    return response


@bp.get("/creator/applications")
@login_required
def my_applications():
    return _my_applications_page(_creator_or_403())


def _my_applications_page(creator: Creator, status: int = 200, error=None):
    db = get_session()
    page = paginate(db, select(Application).where(Application.creator_id == creator.id)
                    .order_by(Application.created_at.desc(), Application.id.desc()), per_page=PER_PAGE)
    unread = messaging.unread_counts(db, current_user, "application", [a.id for a in page.items])
    return render_template("jobs/my_applications.html", creator=creator, page=page, unread=unread, error=error,
                           action_form=ActionForm(), **_labels()), status


@bp.post("/applications/<int:application_id>/withdraw")
@login_required
def application_withdraw(application_id: int):
    application = _get(Application, application_id)
    creator = _creator_or_403()
    if application.creator_id != creator.id:
        abort(403)
    if not ActionForm().validate_on_submit():
        abort(400)
    db = get_session()
    try:
        recruiting.withdraw_application(db, application, creator)
        db.commit()
    except DomainError as error:
        db.rollback()
        return _my_applications_page(creator, error.status_code, error.message)
    flash(_("Your application to “%(title)s” is withdrawn.", title=application.job.title), "success")
    return redirect(url_for("jobs.my_applications"))


# --- the application's thread ------------------------------------------------------------------------------


def _can_write(application: Application, side: str) -> bool:
    if side == "creator":
        return True
    return authz.can(current_user, "enterprise.orders", application.job)


def _application_page(application: Application, side: str, form: MessageForm | None = None, status: int = 200):
    db = get_session()
    thread = messaging.messages(db, "application", application.id)
    return render_template(
        "jobs/application.html", application=application, job=application.job, creator=application.creator,
        side=side, thread=thread, form=form or MessageForm(formdata=None), can_write=_can_write(application, side),
        reasons=[reason_message(r) for r in (application.creator.authenticity_reasons or [])],
        action_form=ActionForm(), t=card_labels(),
        max_mb=current_app.config["ATTACHMENT_MAX_BYTES"] // (1024 * 1024), **_labels()), status


@bp.get("/applications/<int:application_id>")
@login_required
def application(application_id: int):
    application = _get(Application, application_id)
    side = _application_side(application)
    messaging.mark_read_in_own_transaction(get_session(), current_user, "application", application.id)
    return _application_page(application, side)


@bp.post("/applications/<int:application_id>/messages")
@login_required
def application_message(application_id: int):
    application = _get(Application, application_id)
    side = _application_side(application)
    if not _can_write(application, side):
        abort(403)
    form = MessageForm()
    status = 400
    if form.validate_on_submit():
        db = get_session()
        actor = creator_actor(current_user) if side == "creator" else brand_actor(current_user)
        try:
            upload = form.file.data
            stored = None
            if upload and getattr(upload, "filename", ""):
                stored = store_upload(db, upload, allowed=DOCUMENT_TYPES,
                                      max_bytes=current_app.config["ATTACHMENT_MAX_BYTES"], field="file",
                                      uploaded_by_id=current_user.id)
            messaging.post_message(db, application, actor, body=form.body.data or "", file=stored)
            db.commit()
        except DomainError as error:
            db.rollback()
            status = _refused(form, error)
        else:
            return redirect(url_for("jobs.application", application_id=application.id) + "#thread-end")
    return _application_page(application, side, form, status)


@bp.get("/applications/<int:application_id>/files/<int:file_id>")
@login_required
def application_file(application_id: int, file_id: int):
    application = _get(Application, application_id)
    _application_side(application)
    message = get_session().scalar(select(Message).where(Message.thread_type == "application",
                                                         Message.thread_id == application.id,
                                                         Message.file_id == file_id))
    if message is None or message.file is None:
        abort(404)
    return send_stored_file(message.file)
