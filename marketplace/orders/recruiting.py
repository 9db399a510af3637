"""Campaigns, open jobs (招募) and applications.

A job is written by the brand (``draft``), submitted to reviewers (``in_review``), approved (``open``: listed
to creators who match its criteria) or rejected with a reason (the brand edits and resubmits). Creators apply
with a quote and a pitch; the brand shortlists, rejects with a reason, or accepts — which creates and funds an
order at the quoted price with the job's terms. A job closes when its slots are filled or at its deadline
(the ``orders.close_jobs`` timer); the applications still open are then told they were not selected.

A campaign groups a brand's jobs and orders; its page totals what is committed (held in escrow), spent
(paid out of escrow to the creator and the platform) and what remains of its budget.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, case, func, or_, select, update
from sqlalchemy.orm import Session

from marketplace.audit.services import record_audit
from marketplace.creators.models import Creator
from marketplace.creators.taxonomy import CATEGORIES, CONTENT_TYPES, REGIONS
from marketplace.db import utcnow
from marketplace.enterprises.models import Enterprise
from marketplace.errors import Conflict, InvalidTransition, NotAllowed, ValidationFailed
from marketplace.notifications.services import notify
from marketplace.orders import services, states
from marketplace.orders.models import Application, Campaign, Job, JobEvent, Order
from marketplace.orders.services import Actor
from marketplace.urls import path_for

# --- campaigns ------------------------------------------------------------------------------------------


def _clean_campaign(name: str, budget: int | None, starts_on: date | None, ends_on: date | None) -> None:
    if not (name or "").strip():
        raise ValidationFailed(_l("Give the campaign a name."), field="name")
    if budget is not None and budget < 0:
        raise ValidationFailed(_l("The budget cannot be negative."), field="budget")
    if starts_on and ends_on and ends_on < starts_on:
        raise ValidationFailed(_l("The campaign ends before it starts."), field="ends_on")


def save_campaign(session: Session, actor: Actor, enterprise: Enterprise, *, name: str, goal: str = "",
                  budget: int | None = 0, starts_on: date | None = None, ends_on: date | None = None,
                  campaign: Campaign | None = None) -> Campaign:
    """Create a campaign (or change one). :raises ValidationFailed:"""
    _clean_campaign(name, budget, starts_on, ends_on)
    now = utcnow()
    if campaign is None:
        campaign = Campaign(enterprise_id=enterprise.id, created_by_id=actor.user_id, created_at=now)
        session.add(campaign)
    campaign.name, campaign.goal, campaign.budget = name.strip(), goal or "", budget or 0
    campaign.starts_on, campaign.ends_on, campaign.updated_at = starts_on, ends_on, now
    session.flush()
    return campaign


@dataclass(frozen=True)
class CampaignTotals:
    budget: int
    committed: int  # held in escrow for this campaign's orders
    spent: int  # paid out of escrow (to creators and platform fees)
    orders: int
    jobs: int

    @property
    def remaining(self) -> int:
        return self.budget - self.committed - self.spent


def campaign_totals(session: Session, campaign: Campaign) -> CampaignTotals:
    """Committed, spent and remaining from the campaign's orders (frozen amounts and what they paid out)."""
    held = case((Order.state.in_(states.FUNDED_STATES), Order.price + Order.service_fee),
                (Order.state == "completed", Order.retention), else_=0)
    spent = case((Order.state.in_(("completed", "closed", "resolved")),
                  Order.price + Order.service_fee - Order.refunded_to_brand
                  - case((Order.state == "completed", Order.retention), else_=0)), else_=0)
    row = session.execute(select(func.coalesce(func.sum(held), 0), func.coalesce(func.sum(spent), 0), func.count())
                          .where(Order.campaign_id == campaign.id)).one()
    jobs = session.scalar(select(func.count()).select_from(Job).where(Job.campaign_id == campaign.id)) or 0
    return CampaignTotals(campaign.budget, int(row[0]), int(row[1]), int(row[2]), jobs)


def _campaigns_statement(include_archived: bool):
    query = select(Campaign).where(Campaign.enterprise_id == bindparam("enterprise_id"))
    if not include_archived:
        query = query.where(Campaign.archived.is_(False))
    return query.order_by(Campaign.created_at.desc())


# Built once: the board asks on every page (building the statement cost more than running it).
_CAMPAIGNS = {archived: _campaigns_statement(archived) for archived in (False, True)}


def campaigns_of(session: Session, enterprise_id: int, include_archived: bool = False) -> list[Campaign]:
    return list(session.scalars(_CAMPAIGNS[include_archived], {"enterprise_id": enterprise_id}))


_CAMPAIGN_CHOICES = (select(Campaign.id, Campaign.name)
                     .where(Campaign.enterprise_id == bindparam("enterprise_id"), Campaign.archived.is_(False))
                     .order_by(Campaign.created_at.desc()))


def campaign_choices(session: Session, enterprise_id: int) -> list:
    """The ``id`` and ``name`` of ``campaigns_of`` (not archived, newest first) as plain rows: what a filter shows."""
    return session.execute(_CAMPAIGN_CHOICES, {"enterprise_id": enterprise_id}).all()


# --- jobs -----------------------------------------------------------------------------------------------


def _job_event(session: Session, job: Job, actor: Actor, from_state: str | None, to_state: str, note: str = "",
               now: datetime | None = None) -> None:
    session.add(JobEvent(job_id=job.id, actor_id=actor.user_id, from_state=from_state, to_state=to_state,
                         note=note or "", created_at=now or utcnow()))


def _lock_job(session: Session, job_id: int) -> Job:
    """The job, row-locked (PostgreSQL) and re-read."""
    return session.execute(select(Job).where(Job.id == job_id).with_for_update()
                           .execution_options(populate_existing=True)).scalar_one()


def _job_transition(session: Session, job: Job, action: str, actor: Actor, *, note: str = "",
                    now: datetime | None = None) -> Job:
    now = now or utcnow()
    job = _lock_job(session, job.id)
    step = states.next_job_state(job.state, action, actor.side)
    from_state = job.state
    job.state, job.updated_at = step.to, now
    _job_event(session, job, actor, from_state, step.to, note, now)
    session.flush()
    return job


def _check_brand(session: Session, actor: Actor, enterprise_id: int) -> None:
    role = services.brand_role(session, actor.user, enterprise_id) if actor.user else None
    if role not in services.BRAND_ACTING_ROLES:
        raise NotAllowed(_l("Only owners and managers post jobs."))


@dataclass
class JobTerms:
    title: str
    brief: str
    content_type: str
    deliverables: str
    budget: int | None
    slots: int
    application_deadline: datetime | None
    publish_from: date | None
    publish_until: date | None
    criteria_categories: list[str]
    criteria_regions: list[str]
    criteria_min_followers: int | None
    criteria_max_followers: int | None
    usage_rights_days: int
    live_days: int
    revision_rounds: int
    campaign_id: int | None = None


def _clean_job(session: Session, enterprise_id: int, terms: JobTerms, now: datetime) -> None:
    if not terms.title.strip():
        raise ValidationFailed(_l("Give the job a title."), field="title")
    if len(terms.brief.strip()) < 20:
        raise ValidationFailed(_l("Write a brief creators can work from (at least 20 characters)."), field="brief")
    if terms.content_type not in CONTENT_TYPES:
        raise ValidationFailed(_l("Choose a content type."), field="content_type")
    services.clean_price(terms.budget, field="budget")
    if not 1 <= terms.slots <= 500:
        raise ValidationFailed(_l("Between 1 and 500 creators."), field="slots")
    if terms.application_deadline is None or terms.application_deadline <= now:
        raise ValidationFailed(_l("The application deadline must be in the future."), field="application_deadline")
    if terms.publish_from is None or terms.publish_until is None:
        raise ValidationFailed(_l("Give the publish window."), field="publish_from")
    if terms.publish_until < terms.publish_from:
        raise ValidationFailed(_l("The publish window ends before it starts."), field="publish_until")
    if terms.publish_until < terms.application_deadline.date():
        raise ValidationFailed(_l("The publish window must end after the application deadline."), field="publish_until")
    unknown = [c for c in terms.criteria_categories if c not in CATEGORIES]
    if unknown:
        raise ValidationFailed(_l("Unknown category: %(code)s.", code=unknown[0]), field="criteria_categories")
    unknown = [r for r in terms.criteria_regions if r not in REGIONS]
    if unknown:
        raise ValidationFailed(_l("Unknown region: %(code)s.", code=unknown[0]), field="criteria_regions")
    low, high = terms.criteria_min_followers, terms.criteria_max_followers
    if (low is not None and low < 0) or (high is not None and high < 0):
        raise ValidationFailed(_l("Follower counts cannot be negative."), field="criteria_min_followers")
    if low is not None and high is not None and high < low:
        raise ValidationFailed(_l("The follower maximum is below the minimum."), field="criteria_max_followers")
    if not 0 <= terms.revision_rounds <= 10:
        raise ValidationFailed(_l("Between 0 and 10 revision rounds."), field="revision_rounds")
    if not 0 <= terms.live_days <= 365:
        raise ValidationFailed(_l("Between 0 and 365 days."), field="live_days")
    if not 0 <= terms.usage_rights_days <= 3650:
        raise ValidationFailed(_l("Between 0 and 3,650 days."), field="usage_rights_days")
    services._check_campaign(session, enterprise_id, terms.campaign_id)


def save_job(session: Session, actor: Actor, enterprise: Enterprise, terms: JobTerms, *, job: Job | None = None,
             now: datetime | None = None) -> Job:
    """Create a draft job or edit a draft / rejected one. :raises ValidationFailed: / :raises InvalidTransition:"""
    now = now or utcnow()
    _check_brand(session, actor, enterprise.id)
    if job is not None and job.state not in states.EDITABLE_JOB_STATES:
        raise InvalidTransition(_l("Only a draft or a rejected job can be edited."))
    _clean_job(session, enterprise.id, terms, now)
    if job is None:
        job = Job(enterprise_id=enterprise.id, created_by_id=actor.user_id, created_at=now, state="draft")
        session.add(job)
        creating = True
    else:
        creating = False
    for name, value in vars(terms).items():
        setattr(job, name, value.strip() if isinstance(value, str) else value)
    job.updated_at = now
    session.flush()
    if creating:
        _job_event(session, job, actor, None, "draft", now=now)
    return job


def submit_job(session: Session, job: Job, actor: Actor, *, now: datetime | None = None) -> Job:
    """Send a draft (or a rejected job after editing) to the reviewers."""
    _check_brand(session, actor, job.enterprise_id)
    enterprise = session.get(Enterprise, job.enterprise_id)
    if enterprise.verification_state != "verified":
        raise NotAllowed(_l("Your enterprise must be verified before its jobs can be published."))
    now = now or utcnow()
    if job.application_deadline <= now:
        raise ValidationFailed(_l("The application deadline has passed: edit the job first."),
                               field="application_deadline")
    job = _job_transition(session, job, "submit", actor, now=now)
    job.submitted_at, job.rejection_reason = now, ""
    return job


def review_job(session: Session, job: Job, actor: Actor, *, approve: bool, reason: str = "",
               now: datetime | None = None, ip_address: str = "") -> Job:
    """A reviewer approves (the job opens) or rejects it with a reason (audited; the brand is notified)."""
    now = now or utcnow()
    if actor.user is None or actor.user.staff_role not in ("reviewer", "admin"):
        raise NotAllowed(_l("Only reviewers review jobs."))
    if not approve and not (reason or "").strip():
        raise ValidationFailed(_l("Give the brand a reason."), field="reason")
    job = _job_transition(session, job, "approve" if approve else "reject", actor, note=reason, now=now)
    job.reviewed_by_id, job.reviewed_at = actor.user_id, now
    if approve:
        job.opened_at = now
    else:
        job.rejection_reason = reason.strip()
    record_audit(session, actor=actor.user, action="job.approve" if approve else "job.reject", object_type="job",
                 object_id=job.id, reason=reason or "", ip_address=ip_address)
    notify(session, services.brand_users(session, job.enterprise_id), "job_approved" if approve else "job_rejected",
           url=path_for("jobs.job", job_id=job.id), params={"title": job.title, "reason": reason or ""}, now=now)
    return job


def close_job(session: Session, job: Job, actor: Actor, *, note: str = "", now: datetime | None = None) -> Job:
    """Close an open job (the brand, or the system when full or past the deadline); open applications end."""
    now = now or utcnow()
    if actor.side == "brand":
        _check_brand(session, actor, job.enterprise_id)
    job = _job_transition(session, job, "close", actor, note=note, now=now)
    job.closed_at = now
    _end_open_applications(session, job, now, _l("The job closed before your application was chosen."))
    notify(session, services.brand_users(session, job.enterprise_id), "job_closed",
           url=path_for("jobs.job", job_id=job.id), params={"title": job.title}, now=now)
    return job


def cancel_job(session: Session, job: Job, actor: Actor, *, now: datetime | None = None) -> Job:
    """Cancel a job that is not closed; open applications end. Orders already made are not touched."""
    now = now or utcnow()
    _check_brand(session, actor, job.enterprise_id)
    job = _job_transition(session, job, "cancel", actor, now=now)
    job.closed_at = now
    _end_open_applications(session, job, now, _l("The brand cancelled the job."))
    return job


def _end_open_applications(session: Session, job: Job, now: datetime, reason) -> None:
    open_ones = list(session.scalars(select(Application).where(
        Application.job_id == job.id, Application.state.in_(states.OPEN_APPLICATION_STATES))))
    for application in open_ones:
        application.state, application.rejection_reason, application.decided_at = "rejected", str(reason), now
        notify(session, [application.creator.user], "application_rejected",
               url=path_for("jobs.my_applications"), params={"title": job.title}, now=now)


def creator_matches(creator: Creator, job: Job) -> bool:
    """Does the creator meet the job's criteria (categories, regions, followers)?"""
    if job.criteria_categories and not set(job.criteria_categories) & set(creator.category_codes):
        return False
    if job.criteria_regions and not set(job.criteria_regions) & set(creator.region_codes):
        return False
    if job.criteria_min_followers is not None and creator.followers < job.criteria_min_followers:
        return False
    if job.criteria_max_followers is not None and creator.followers > job.criteria_max_followers:
        return False
    return True


def job_board_query(creator: Creator, *, q: str = "", content_type: str = "", category: str = "",
                    budget_min: int | None = None, matching_only: bool = True, sort: str = "deadline", now=None):
    """Open jobs for a creator (those matching their criteria unless ``matching_only`` is off), as a select."""
    now = now or utcnow()
    query = select(Job).where(Job.state == "open", Job.application_deadline > now)
    if q:
        like = f"%{q.strip()}%"
        query = query.where(or_(Job.title.ilike(like), Job.brief.ilike(like)))
    if content_type:
        query = query.where(Job.content_type == content_type)
    if budget_min:
        query = query.where(Job.budget >= budget_min)
    if matching_only:
        query = query.where(or_(Job.criteria_min_followers.is_(None), Job.criteria_min_followers <= creator.followers),
                            or_(Job.criteria_max_followers.is_(None), Job.criteria_max_followers >= creator.followers))
    order = {"deadline": (Job.application_deadline.asc(), Job.id), "budget": (Job.budget.desc(), Job.id),
             "newest": (Job.opened_at.desc(), Job.id.desc())}.get(sort, (Job.application_deadline.asc(), Job.id))
    return query.order_by(*order)


def matching_jobs(session: Session, creator: Creator, jobs: list[Job], *, category: str = "",
                  matching_only: bool = True) -> list[Job]:
    """Filter by the JSON criteria in Python (categories, regions), which SQL indexes do not serve portably."""
    out = []
    for job in jobs:
        if category and job.criteria_categories and category not in job.criteria_categories:
            continue
        if matching_only and not creator_matches(creator, job):
            continue
        out.append(job)
    return out


# --- applications ---------------------------------------------------------------------------------------


def apply_to_job(session: Session, job: Job, creator: Creator, *, quote: int | None, pitch: str,
                 now: datetime | None = None) -> Application:
    """A creator applies with a quote and a pitch.

    :raises ValidationFailed: zero quote, empty pitch, criteria not met. :raises Conflict: applied already.
    :raises InvalidTransition: the job is not open.
    """
    now = now or utcnow()
    if job.state != "open" or job.application_deadline <= now:
        raise InvalidTransition(_l("This job is not taking applications any more."))
    if not creator.listed:
        raise ValidationFailed(_l("Complete your profile and link your platform account before applying."))
    quote = services.clean_price(quote, field="quote")
    if len((pitch or "").strip()) < 10:
        raise ValidationFailed(_l("Tell the brand why you (at least 10 characters)."), field="pitch")
    if not creator_matches(creator, job):
        raise ValidationFailed(_l("Your profile does not meet this job's criteria."))
    # Count the application only while the job is still open: a job closing at this moment (its lock held by
    # the closing transaction) makes this UPDATE match nothing once it commits, instead of leaving an open
    # application on a closed job. The UPDATE also queues applications to one job, so the check for a
    # duplicate below sees a twin request's committed application (a double click gets Conflict, not a 500).
    counted = session.execute(update(Job).where(Job.id == job.id, Job.state == "open")
                              .values(application_count=Job.application_count + 1)).rowcount
    if not counted:
        raise InvalidTransition(_l("This job is not taking applications any more."))
    if session.scalar(select(Application.id).where(Application.job_id == job.id,
                                                   Application.creator_id == creator.id)) is not None:
        raise Conflict(_l("You already applied to this job."))
    application = Application(job_id=job.id, creator_id=creator.id, quote=quote, currency=job.currency,
                              pitch=pitch.strip(), created_at=now)
    session.add(application)
    session.flush()
    notify(session, services.brand_users(session, job.enterprise_id), "application_received",
           url=path_for("jobs.job", job_id=job.id), params={"title": job.title, "creator": creator.display_name},
           now=now)
    return application


def withdraw_application(session: Session, application: Application, creator: Creator,
                         now: datetime | None = None) -> Application:
    if application.creator_id != creator.id:
        raise NotAllowed(_l("This is not your application."))
    if application.state not in states.OPEN_APPLICATION_STATES:
        raise InvalidTransition(_l("This application is already decided."))
    application.state, application.decided_at = "withdrawn", now or utcnow()
    session.flush()
    return application


def _lock_application(session: Session, application: Application) -> Application:
    return session.execute(select(Application).where(Application.id == application.id).with_for_update()
                           .execution_options(populate_existing=True)).scalar_one()


def shortlist_application(session: Session, application: Application, actor: Actor, shortlisted: bool = True) -> Application:
    _check_brand(session, actor, application.job.enterprise_id)
    application = _lock_application(session, application)
    if application.state not in states.OPEN_APPLICATION_STATES:
        raise InvalidTransition(_l("This application is already decided."))
    application.state = "shortlisted" if shortlisted else "submitted"
    session.flush()
    return application


def reject_application(session: Session, application: Application, actor: Actor, *, reason: str,
                       now: datetime | None = None) -> Application:
    """Reject with a reason the creator sees."""
    now = now or utcnow()
    _check_brand(session, actor, application.job.enterprise_id)
    if not (reason or "").strip():
        raise ValidationFailed(_l("Give the creator a reason."), field="reason")
    application = _lock_application(session, application)
    if application.state not in states.OPEN_APPLICATION_STATES:
        raise InvalidTransition(_l("This application is already decided."))
    application.state, application.rejection_reason = "rejected", reason.strip()
    application.decided_at, application.decided_by_id = now, actor.user_id
    session.flush()
    notify(session, [application.creator.user], "application_rejected", url=path_for("jobs.my_applications"),
           params={"title": application.job.title}, now=now)
    return application


def accept_application(session: Session, application: Application, actor: Actor, *,
                       now: datetime | None = None) -> Order:
    """Accept: an order at the quoted price with the job's terms, funded now; the job closes when full.

    :raises InsufficientFunds: the wallet cannot cover the quote + service fee; nothing is written.
    :raises InvalidTransition: decided already, or the job is not open / full.
    """
    now = now or utcnow()
    _check_brand(session, actor, application.job.enterprise_id)
    # Locks in one order everywhere: the job, then its applications (closing a job rejects the open ones). Two
    # acceptances for one job then queue on the job row; locking the application first deadlocks them.
    job = _lock_job(session, application.job_id)
    application = _lock_application(session, application)
    if application.state not in states.OPEN_APPLICATION_STATES:
        raise InvalidTransition(_l("This application is already decided."))
    enterprise = session.get(Enterprise, job.enterprise_id)
    if enterprise.verification_state != "verified":
        raise NotAllowed(_l("Your enterprise must be verified before it can hire creators."))
    # Take a slot: one UPDATE that only matches while the job is open and not full (safe under concurrency).
    taken = session.execute(update(Job).where(Job.id == job.id, Job.state == "open", Job.slots_filled < Job.slots)
                            .values(slots_filled=Job.slots_filled + 1, updated_at=now)).rowcount
    if not taken:
        raise InvalidTransition(_l("This job is closed or all its places are taken."))
    session.refresh(job)
    order = services.create_order_from_application(session, actor, application, now=now)
    application.state, application.order_id = "accepted", order.id
    application.decided_at, application.decided_by_id = now, actor.user_id
    session.flush()
    notify(session, [application.creator.user], "application_accepted", url=services.order_path(order),
           params={"title": job.title, "brand": enterprise.display_name}, now=now)
    if job.slots_filled >= job.slots:
        close_job(session, job, services.SYSTEM, note="All places are filled.", now=now)
    return order


def applicants(session: Session, job: Job, state: str = "") -> list[Application]:
    query = select(Application).where(Application.job_id == job.id)
    if state:
        query = query.where(Application.state == state)
    order = case((Application.state == "shortlisted", 0), (Application.state == "submitted", 1), else_=2)
    return list(session.scalars(query.order_by(order, Application.created_at)))


def jobs_for_review(session: Session) -> list[Job]:
    return list(session.scalars(select(Job).where(Job.state == "in_review").order_by(Job.submitted_at)))

