"""Access-matrix rows and CSRF cases for the campaign, job and application routes (see test_access_matrix.py).

``rows()`` is called by test_access_matrix.py once everything it defines exists; ``csrf_cases()`` by
test_security.py. Every row uses ``jobs_world``: enterprise A verified and funded, the world's creator listed
(beauty, Shanghai, 12,000 followers), a campaign of A, and A's jobs in every state — ``draft``, ``in_review``,
``open`` (with the creator's application and a message with an attachment), ``open2`` (open, not applied to),
``closed``, ``cancelled`` and ``rejected``.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

MATRIX_PNG: dict[str, bytes] = {}


def _png() -> bytes:
    if "png" not in MATRIX_PNG:
        from marketplace.seed import licence_png

        MATRIX_PNG["png"] = licence_png("Matrix", "91310000MA1FL8XQ30")
    return MATRIX_PNG["png"]


def job_terms(title: str, *, now=None, **overrides):
    """Valid terms for a job of A (deadline in ten days, publish window after it)."""
    from marketplace.db import utcnow
    from marketplace.orders.recruiting import JobTerms

    now = now or utcnow()
    values = dict(title=title, brief="Film a 60-second honest review of our new serum.", content_type="short_video",
                  deliverables="One vertical video, 45–60 s.", budget=1_000_00, slots=2,
                  application_deadline=now + timedelta(days=10), publish_from=(now + timedelta(days=12)).date(),
                  publish_until=(now + timedelta(days=30)).date(), criteria_categories=["beauty"],
                  criteria_regions=[], criteria_min_followers=None, criteria_max_followers=None,
                  usage_rights_days=30, live_days=30, revision_rounds=1, campaign_id=None)
    values.update(overrides)
    return JobTerms(**values)


def job_form(title: str = "Matrix job", **overrides) -> dict:
    """The job form's fields for a valid job (the deadline typed in the user's zone, Asia/Shanghai)."""
    from marketplace.db import utcnow

    soon = utcnow() + timedelta(days=10)
    data = {"title": title, "brief": "Film a 60-second honest review of our new serum.", "content_type": "short_video",
            "deliverables": "One vertical video.", "budget": "1200", "slots": "3",
            "application_deadline": soon.strftime("%Y-%m-%dT%H:%M"),
            "publish_from": (soon + timedelta(days=2)).strftime("%Y-%m-%d"),
            "publish_until": (soon + timedelta(days=20)).strftime("%Y-%m-%d"),
            "criteria_categories": ["beauty"], "criteria_min_followers": "", "criteria_max_followers": "",
            "usage_rights_days": "30", "live_days": "30", "revision_rounds": "1", "campaign_id": ""}
    data.update(overrides)
    return data


def jobs_world(session, w) -> None:
    """See the module docstring. Safe to run after ``money_world``/``creator_world`` (test_security's page sweep
    builds them all in one world)."""
    from marketplace.creators import services as creator_services
    from marketplace.creators.models import Creator, PlatformAccount
    from marketplace.enterprises.models import Enterprise
    from marketplace.enterprises.services import approve_enterprise, submit_for_verification
    from marketplace.files.services import store_bytes
    from marketplace.ledger import flows
    from marketplace.orders import messaging, recruiting
    from marketplace.orders.models import Job
    from marketplace.orders.services import brand, creator_actor, staff
    from tests.integration.test_access_matrix import A_OWNER, CREATOR, REVIEWER

    owner, reviewer = w.users[A_OWNER], w.users[REVIEWER]
    a = session.get(Enterprise, w.a_id)
    if a.verification_state != "verified":
        if a.verification_state != "pending":
            submit_for_verification(session, owner, a)
        approve_enterprise(session, reviewer, a)
    flows.top_up(session, enterprise_id=a.id, amount=100_000_00, rail="bank", key=f"jobs-world:{a.id}")

    creator = session.scalar(select(Creator).where(Creator.user_id == w.users[CREATOR].id))
    if creator.platform_account is None:
        session.add(PlatformAccount(creator_id=creator.id, platform="sandbox", external_id="matrix_jobs",
                                    handle="@matrix_jobs"))
        session.flush()
        session.refresh(creator)
    if not creator.listed:
        creator_services.update_profile(session, creator, handle="matrix_jobs", display_name="Matrix Jobs",
                                        kind="individual", bio="美妆测评", categories=["beauty"], regions=["31"],
                                        languages=["zh"], accepting_orders=True)
        creator_services.save_rate_card(session, creator, {"short_video": 900_00}, 1, 7, "")
    creator.followers, creator.avg_plays, creator.engagement_bp = 12_000, 3_000, 450
    creator.authenticity_score = 88

    campaign = recruiting.save_campaign(session, brand(owner), a, name="Matrix campaign", budget=20_000_00)
    ids = {"campaign": campaign.id}
    for name in ("draft", "in_review", "open", "open2", "closed", "cancelled", "rejected"):
        job = recruiting.save_job(session, brand(owner), a, job_terms(f"Matrix {name}", campaign_id=campaign.id))
        if name != "draft":
            recruiting.submit_job(session, job, brand(owner))
        if name in ("open", "open2", "closed"):
            recruiting.review_job(session, job, staff(reviewer), approve=True)
        if name == "rejected":
            recruiting.review_job(session, job, staff(reviewer), approve=False, reason="Say what the serum does.")
        if name == "cancelled":
            recruiting.cancel_job(session, job, brand(owner))
        if name == "closed":
            recruiting.close_job(session, job, brand(owner))
        ids[f"job_{name}"] = job.id
    open_job = session.get(Job, ids["job_open"])
    application = recruiting.apply_to_job(session, open_job, creator, quote=950_00,
                                          pitch="I review serums every week for 12k followers.")
    stored = store_bytes(session, _png(), "image/png", "moodboard.png", w.users[CREATOR].id)
    messaging.post_message(session, application, creator_actor(w.users[CREATOR]), body="My moodboard.", file=stored)
    session.flush()
    ids.update(application=application.id, file=stored.id, creator=creator.id)
    w.orders.update(ids)


# --- url values --------------------------------------------------------------------------------------------


def _job(name: str):
    return lambda w: {"job_id": w.orders[f"job_{name}"]}


def _campaign(w) -> dict:
    return {"campaign_id": w.orders["campaign"]}


def _application(w) -> dict:
    return {"application_id": w.orders["application"]}


def _none(w) -> dict:
    return {}


def _ent_a(w) -> dict:
    return {"enterprise_id": w.a_id}


# --- probes (session, world) ---------------------------------------------------------------------------------


def _a_campaigns(s, w):
    from marketplace.orders.models import Campaign

    return s.scalar(select(func.count()).select_from(Campaign).where(Campaign.enterprise_id == w.a_id))


def _campaign_name(s, w):
    from marketplace.orders.models import Campaign

    return s.scalar(select(Campaign.name).where(Campaign.id == w.orders["campaign"]))


def _a_jobs(s, w):
    from marketplace.orders.models import Job

    return s.scalar(select(func.count()).select_from(Job).where(Job.enterprise_id == w.a_id))


def _job_field(name: str, column: str):
    def probe(s, w):
        from marketplace.orders.models import Job

        return s.scalar(select(getattr(Job, column)).where(Job.id == w.orders[f"job_{name}"]))
    return probe


def _application_state(s, w):
    from marketplace.orders.models import Application

    return s.scalar(select(Application.state).where(Application.id == w.orders["application"]))


def _creator_applications(s, w):
    from marketplace.orders.models import Application

    return s.scalar(select(func.count()).select_from(Application).where(Application.creator_id == w.orders["creator"]))


def _thread_messages(s, w):
    from marketplace.orders.models import Message

    return s.scalar(select(func.count()).select_from(Message).where(Message.thread_type == "application",
                                                                    Message.thread_id == w.orders["application"]))


def _campaign_form(name: str) -> dict:
    return {"name": name, "goal": "Launch the serum in Shanghai.", "budget": "30000", "starts_on": "", "ends_on": ""}


def rows() -> list:
    from tests.integration.test_access_matrix import (
        A_MANAGER,
        A_MEMBERS,
        A_OWNER,
        ADMIN,
        CREATOR,
        REVIEWER,
        R,
    )

    actors = frozenset({A_OWNER, A_MANAGER})  # enterprise.orders: owners and managers act on jobs
    readers = A_MEMBERS  # enterprise.orders.view: every member reads
    creator = frozenset({CREATOR})
    W = jobs_world
    # fmt: off
    return [
        # --- campaigns --------------------------------------------------------------------------------------
        R("jobs.campaigns", "GET", _ent_a, readers, (200,),
          "enterprise.orders.view: every member of A; not B's owner, creators or staff", setup=W),
        R("jobs.campaign_new", "GET", _ent_a, actors, (200,),
          "enterprise.orders: owner and manager of A", setup=W),
        R("jobs.campaign_new", "POST", _ent_a, actors, (302,),
          "enterprise.orders: owner and manager create a campaign", setup=W,
          data=lambda w, actor: _campaign_form("New matrix campaign"), probe=_a_campaigns),
        R("jobs.campaign", "GET", _campaign, readers, (200,),
          "enterprise.orders.view on the campaign's enterprise (A)", setup=W),
        R("jobs.campaign_edit", "GET", _campaign, actors, (200,),
          "enterprise.orders on the campaign's enterprise", setup=W),
        R("jobs.campaign_edit", "POST", _campaign, actors, (302,),
          "enterprise.orders on the campaign's enterprise", setup=W,
          data=lambda w, actor: _campaign_form("Renamed matrix campaign"), probe=_campaign_name),
        # --- the brand's jobs ------------------------------------------------------------------------------
        R("jobs.jobs", "GET", _ent_a, readers, (200,),
          "enterprise.orders.view: every member of A", setup=W),
        R("jobs.job_new", "GET", _ent_a, actors, (200,),
          "enterprise.orders: owner and manager of A", setup=W),
        R("jobs.job_new", "POST", _ent_a, actors, (302,),
          "enterprise.orders: owner and manager save a draft job", setup=W,
          data=lambda w, actor: job_form("New matrix job"), probe=_a_jobs),
        R("jobs.job", "GET", _job("open"), readers | creator | {REVIEWER, ADMIN}, (200,),
          "members of A read it with its applicants; a creator reads an open job (or one they applied to); "
          "reviewers and admins (staff.jobs) read it; not B's owner or finance staff", setup=W),
        R("jobs.job_edit", "GET", _job("draft"), actors, (200,),
          "enterprise.orders on the job's enterprise (a draft)", setup=W),
        R("jobs.job_edit", "POST", _job("draft"), actors, (302,),
          "enterprise.orders on the job's enterprise", setup=W,
          data=lambda w, actor: job_form("Edited matrix job"), probe=_job_field("draft", "title")),
        R("jobs.job_submit", "POST", _job("draft"), actors, (302,),
          "enterprise.orders: the draft goes to the reviewers", setup=W, probe=_job_field("draft", "state")),
        R("jobs.job_close", "POST", _job("open"), actors, (302,),
          "enterprise.orders: the open job stops taking applications", setup=W, probe=_job_field("open", "state")),
        R("jobs.job_cancel", "POST", _job("in_review"), actors, (302,),
          "enterprise.orders: the job in review is cancelled", setup=W, probe=_job_field("in_review", "state")),
        # --- applications: the brand --------------------------------------------------------------------------
        R("jobs.application_shortlist", "POST", _application, actors, (302,),
          "enterprise.orders on the job's enterprise", setup=W,
          data=lambda w, actor: {"shortlisted": "1"}, probe=_application_state),
        R("jobs.application_reject", "POST", _application, actors, (302,),
          "enterprise.orders on the job's enterprise", setup=W,
          data=lambda w, actor: {f"a{w.orders['application']}-reason": "We chose a creator with a larger audience."},
          probe=_application_state),
        R("jobs.application_accept", "POST", _application, actors, (302,),
          "enterprise.orders: creates and funds the order", setup=W, probe=_application_state),
        # --- the creator's side ---------------------------------------------------------------------------------
        R("jobs.board", "GET", _none, creator, (200,),
          "creator.workspace: users with a creator profile (only the world's creator)", setup=W),
        R("jobs.job_apply", "POST", _job("open2"), creator, (302,),
          "creator.workspace: the creator applies to an open job", setup=W,
          data=lambda w, actor: {"quote": "980", "pitch": "I review serums every week."},
          probe=_creator_applications),
        R("jobs.my_applications", "GET", _none, creator, (200,),
          "creator.workspace: the creator's own applications", setup=W),
        R("jobs.application_withdraw", "POST", _application, creator, (302,),
          "the application's creator only", setup=W, probe=_application_state),
        # --- the application's thread -------------------------------------------------------------------------
        R("jobs.application", "GET", _application, creator | readers, (200,),
          "the application's creator and every member of the job's enterprise", setup=W),
        R("jobs.application_message", "POST", _application, creator | actors, (302,),
          "the creator and A's owners and managers write; viewers and finance read only", setup=W,
          data=lambda w, actor: {"body": "When can you film?"}, probe=_thread_messages),
        R("jobs.application_file", "GET", lambda w: {**_application(w), "file_id": w.orders["file"]},
          creator | readers, (200,),
          "an attachment of the thread: whoever may read the thread", setup=W),
    ]
    # fmt: on


# --- CSRF cases (probe: session, world, client) ---------------------------------------------------------------


def _c(probe):
    return lambda s, w, c: probe(s, w)


def csrf_cases() -> list:
    from tests.integration.test_access_matrix import A_OWNER, CREATOR
    from tests.integration.test_security import C

    W = jobs_world
    # fmt: off
    return [
        C("jobs.campaign_new", A_OWNER, lambda w: f"/enterprises/{w.a_id}/campaigns/new",
          lambda w: _campaign_form("Csrf campaign"), _c(_a_campaigns), setup=W),
        C("jobs.campaign_edit", A_OWNER, lambda w: f"/campaigns/{w.orders['campaign']}/edit",
          lambda w: _campaign_form("Csrf renamed"), _c(_campaign_name), setup=W),
        C("jobs.job_new", A_OWNER, lambda w: f"/enterprises/{w.a_id}/jobs/new",
          lambda w: job_form("Csrf job"), _c(_a_jobs), setup=W),
        C("jobs.job_edit", A_OWNER, lambda w: f"/jobs/{w.orders['job_draft']}/edit",
          lambda w: job_form("Csrf edited"), _c(_job_field("draft", "title")), setup=W),
        C("jobs.job_submit", A_OWNER, lambda w: f"/jobs/{w.orders['job_draft']}/submit",
          lambda w: {}, _c(_job_field("draft", "state")), setup=W),
        C("jobs.job_close", A_OWNER, lambda w: f"/jobs/{w.orders['job_open']}/close",
          lambda w: {}, _c(_job_field("open", "state")), setup=W),
        C("jobs.job_cancel", A_OWNER, lambda w: f"/jobs/{w.orders['job_in_review']}/cancel",
          lambda w: {}, _c(_job_field("in_review", "state")), setup=W),
        C("jobs.application_shortlist", A_OWNER, lambda w: f"/applications/{w.orders['application']}/shortlist",
          lambda w: {"shortlisted": "1"}, _c(_application_state), setup=W),
        C("jobs.application_reject", A_OWNER, lambda w: f"/applications/{w.orders['application']}/reject",
          lambda w: {f"a{w.orders['application']}-reason": "Not this time."}, _c(_application_state), setup=W),
        C("jobs.application_accept", A_OWNER, lambda w: f"/applications/{w.orders['application']}/accept",
          lambda w: {}, _c(_application_state), setup=W),
        C("jobs.job_apply", CREATOR, lambda w: f"/jobs/{w.orders['job_open2']}/apply",
          lambda w: {"quote": "980", "pitch": "I review serums every week."}, _c(_creator_applications), setup=W),
        C("jobs.application_withdraw", CREATOR, lambda w: f"/applications/{w.orders['application']}/withdraw",
          lambda w: {}, _c(_application_state), setup=W),
        C("jobs.application_message", CREATOR, lambda w: f"/applications/{w.orders['application']}/messages",
          lambda w: {"body": "Csrf hello"}, _c(_thread_messages), setup=W),
    ]
    # fmt: on
