"""Access-matrix rows and CSRF cases for the reviewers' queues and the notification inbox (see
test_access_matrix.py and test_security.py).

``rows()`` is called by test_access_matrix.py once everything it defines exists; ``csrf_cases()`` by
test_security.py. The worlds below add to the matrix's world (enterprise A and its members, the creator, the
staff) with the order-taking services, never by writing states directly:

- ``review_jobs_world``: A verified, with a job waiting for review;
- ``review_dispute_world``: A verified and funded, the world's creator listed, an order of A with the creator in
  dispute (a draft with a file, a message from each side, evidence);
- ``review_live_world``: the same brand and creator, a completed order whose work the brand reported removed;
- ``notifications_world``: an unread notification for every signed-in actor (A's owner's links to an order).

The builders (``verify_and_fund``, ``list_creator``, ``job_in_review``, ``disputed_order``,
``reported_order``) are also used by test_review_views.py and the browser test.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

PNG_1PX = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4"
           b"\x89\x00\x00\x00\rIDATx\x9cc\xf8\xcf\xc0\xf0\x1f\x00\x05\x00\x01\xff\x89\x99=\x1d\x00\x00\x00\x00IEND"
           b"\xaeB`\x82")


# --- builders (services only) --------------------------------------------------------------------------------


def verify_and_fund(session, enterprise, owner, reviewer, balance: int = 0) -> None:
    """Verify an unverified enterprise (submit + approve) and put ``balance`` fen in its wallet."""
    from marketplace.enterprises.services import approve_enterprise, submit_for_verification
    from marketplace.ledger import flows

    if enterprise.verification_state in ("unverified", "rejected"):
        submit_for_verification(session, owner, enterprise)
    if enterprise.verification_state == "pending":
        approve_enterprise(session, reviewer, enterprise)
    if balance:
        flows.top_up(session, enterprise_id=enterprise.id, amount=balance, rail="bank",
                     key=f"review-test-top-up:{enterprise.id}:{balance}")
    session.flush()


def list_creator(session, user, handle: str):
    """The user's creator (made if needed) listed: a sandbox account linked, a profile, a rate card. A creator
    already listed (another area's world ran first) is used as it is."""
    from marketplace.creators import services as creator_services
    from marketplace.creators import stats

    creator = creator_services.creator_for_user(session, user) or creator_services.become_creator(session, user)
    if creator.platform_account is None:
        stats.link_platform_account(session, creator, f"@{handle}")
        session.refresh(creator)
    if not creator.listed:
        creator_services.update_profile(session, creator, handle=creator.handle or handle,
                                        display_name=f"Creator {handle}", kind="individual",
                                        bio="测评达人 short videos", categories=["beauty"], regions=["31"],
                                        languages=["zh"], accepting_orders=True)
        creator_services.save_rate_card(session, creator, {"short_video": 1_000_00}, 2, 7, "")
    session.flush()
    return creator


def job_in_review(session, owner, enterprise, *, title: str = "Autumn serum launch", now=None):
    """A job of ``enterprise`` submitted for review."""
    from marketplace.db import utcnow
    from marketplace.orders import recruiting
    from marketplace.orders.services import Actor

    now = now or utcnow()
    terms = recruiting.JobTerms(
        title=title, brief="Film a 30-second routine with the new serum; show the texture and the bottle.",
        content_type="short_video", deliverables="One vertical video, 30–60 s, with the product link.",
        budget=800_00, slots=3, application_deadline=now + timedelta(days=10),
        publish_from=(now + timedelta(days=12)).date(), publish_until=(now + timedelta(days=40)).date(),
        criteria_categories=["beauty"], criteria_regions=["31", "44"], criteria_min_followers=10_000,
        criteria_max_followers=500_000, usage_rights_days=90, live_days=30, revision_rounds=2)
    brand = Actor("brand", owner)
    job = recruiting.save_job(session, brand, enterprise, terms, now=now)
    job = recruiting.submit_job(session, job, brand, now=now)
    session.flush()
    return job


def _stored_png(session, user, name: str):
    from marketplace.files.services import store_bytes

    return store_bytes(session, PNG_1PX, "image/png", name, user.id)


def disputed_order(session, owner, enterprise, creator, *, price: int = 1_000_00, title: str = "春季新品测评",
                   now=None):
    """An order of ``enterprise`` with ``creator``, worked on and then disputed by the brand: (order, dispute)."""
    from marketplace.db import utcnow
    from marketplace.orders import disputes, messaging, services
    from marketplace.orders.services import Actor

    now = now or utcnow()
    brand, maker = Actor("brand", owner), Actor("creator", creator.user)
    order = services.send_offer(session, brand, enterprise, creator, title=title, content_type="short_video",
                                price=price, brief="Try the serum for a week and film the routine.", now=now)
    services.accept_offer(session, order, maker, now=now)
    messaging.post_message(session, order, maker, body="I will send the first cut on Friday.", now=now)
    services.submit_draft(session, order, maker, note="First cut, 45 s.", link_url="https://drive.example/cut1",
                          files=[_stored_png(session, creator.user, "cut1-cover.png")], now=now)
    messaging.post_message(session, order, brand, body="The bottle never appears. This is not the brief.",
                           now=now)
    dispute = disputes.open_dispute(session, order, brand, reason="not_as_briefed",
                                    description="The draft does not show the product at all, twice asked.",
                                    evidence=[_stored_png(session, owner, "brief-vs-draft.png")], now=now)
    session.flush()
    return order, dispute


def first_live_work_url(creator, now) -> str:
    from marketplace.creators.stats import current_connector

    works = current_connector().list_works(creator.platform_account.external_id, 10, now=now)
    return next(w.url for w in works if w.is_live)


def reported_order(session, owner, enterprise, creator, *, price: int = 1_000_00, title: str = "618 大促口播",
                   now=None):
    """A completed order whose work the brand reports removed during the live window: (order, report)."""
    from marketplace.db import utcnow
    from marketplace.orders import disputes, services
    from marketplace.orders.services import Actor

    now = now or utcnow()
    brand, maker = Actor("brand", owner), Actor("creator", creator.user)
    order = services.send_offer(session, brand, enterprise, creator, title=title, content_type="short_video",
                                price=price, brief="Mention the 618 sale in the first ten seconds.", now=now)
    services.accept_offer(session, order, maker, now=now)
    services.submit_draft(session, order, maker, link_url="https://drive.example/618", now=now)
    services.approve_draft(session, order, brand, now=now)
    services.publish(session, order, maker, work_url=first_live_work_url(creator, now), now=now)
    services.confirm(session, order, brand, now=now)
    report = disputes.report_removed(session, order, brand, note="The video shows “private” since this morning.",
                                     now=now)
    session.flush()
    return order, report


# --- worlds for the matrix -----------------------------------------------------------------------------------


def _matrix():
    from tests.integration import test_access_matrix as m

    return m


def _a(session, w):
    from marketplace.enterprises.models import Enterprise

    return session.get(Enterprise, w.a_id)


def review_jobs_world(session, w) -> None:
    m = _matrix()
    a = _a(session, w)
    verify_and_fund(session, a, w.users[m.A_OWNER], w.users[m.REVIEWER])
    w.orders["review_job"] = job_in_review(session, w.users[m.A_OWNER], a).id


def _brand_and_creator(session, w):
    m = _matrix()
    a = _a(session, w)
    verify_and_fund(session, a, w.users[m.A_OWNER], w.users[m.REVIEWER], 10_000_00)
    return a, list_creator(session, w.users[m.CREATOR], "review_matrix")


def review_dispute_world(session, w) -> None:
    m = _matrix()
    a, creator = _brand_and_creator(session, w)
    order, dispute = disputed_order(session, w.users[m.A_OWNER], a, creator)
    w.orders.update(disputed_order=order.id, dispute=dispute.id)


def review_live_world(session, w) -> None:
    m = _matrix()
    a, creator = _brand_and_creator(session, w)
    order, report = reported_order(session, w.users[m.A_OWNER], a, creator)
    w.orders.update(reported_order=order.id, live_report=report.id)


def notifications_world(session, w) -> None:
    """One unread notification for each signed-in actor; A's owner's links to an order page."""
    from marketplace.notifications.models import Notification
    from marketplace.notifications.services import notify

    m = _matrix()
    notify(session, [u for name, u in w.users.items() if name != m.A_OWNER], "job_closed",
           url="/notifications", params={"title": "Matrix job"}, email=False)
    notify(session, [w.users[m.A_OWNER]], "offer_accepted", url="/orders/1",
           params={"creator": "Matrix Creator", "title": "Matrix order"}, email=False)
    session.flush()
    w.orders["notification"] = session.scalar(select(Notification.id)
                                              .where(Notification.user_id == w.users[m.A_OWNER].id)
                                              .order_by(Notification.id.desc()))


# --- probes ----------------------------------------------------------------------------------------------------


def _job_state(s, w):
    from marketplace.orders.models import Job

    return s.scalar(select(Job.state).where(Job.id == w.orders["review_job"]))


def _dispute_state(s, w):
    from marketplace.orders.models import Dispute

    return s.scalar(select(Dispute.state).where(Dispute.id == w.orders["dispute"]))


def _order_messages(s, w):
    from marketplace.orders.models import Message

    return s.scalar(select(func.count()).select_from(Message).where(
        Message.thread_type == "order", Message.thread_id == w.orders["disputed_order"]))


def _report_state(s, w):
    from marketplace.orders.models import LiveReport

    return s.scalar(select(LiveReport.state).where(LiveReport.id == w.orders["live_report"]))


def _unread_of_world(s, w):
    from marketplace.notifications.models import Notification

    return s.scalar(select(func.count()).select_from(Notification).where(
        Notification.user_id.in_([u.id for u in w.users.values()]), Notification.read_at.is_(None)))


def _unread_of_a_owner(s, w):
    from marketplace.notifications.models import Notification

    m = _matrix()
    return s.scalar(select(func.count()).select_from(Notification).where(
        Notification.user_id == w.users[m.A_OWNER].id, Notification.read_at.is_(None)))


# --- form data -------------------------------------------------------------------------------------------------


def _approve(w, actor=None) -> dict[str, str]:
    return {f"job{w.orders['review_job']}-decision": "approve"}


def _split(w, actor=None) -> dict[str, str]:
    return {"decision": "split", "to_creator": "600", "note": "The draft misses the product; 60/40 is fair."}


def _staff_message(w, actor=None) -> dict[str, str]:
    return {"body": "Please both send the original brief and the raw footage."}


def _dismiss(w, actor=None) -> dict[str, str]:
    report = w.orders["live_report"]
    return {f"report{report}-decision": "dismiss", f"report{report}-note": "The work is public when we check."}


# --- rows and cases --------------------------------------------------------------------------------------------


def rows() -> list:
    m = _matrix()
    R = m.Row
    reviewers = frozenset({m.REVIEWER, m.ADMIN})  # staff.jobs, staff.disputes

    job = lambda w: {"job_id": w.orders["review_job"]}  # noqa: E731
    dispute = lambda w: {"dispute_id": w.orders["dispute"]}  # noqa: E731
    report = lambda w: {"report_id": w.orders["live_report"]}  # noqa: E731
    notification = lambda w: {"notification_id": w.orders["notification"]}  # noqa: E731
    return [
        R("review.jobs", "GET", m.none, reviewers, (200,),
          "staff.jobs: reviewers and admins; not brand members, creators or finance staff", setup=review_jobs_world),
        R("review.job_decide", "POST", job, reviewers, (302,),
          "staff.jobs: approving opens A's job (audited)", data=lambda w, actor: _approve(w),
          probe=_job_state, setup=review_jobs_world),
        R("review.disputes", "GET", m.none, reviewers, (200,),
          "staff.disputes: reviewers and admins; the parties themselves are not reviewers",
          setup=review_dispute_world),
        R("review.dispute", "GET", dispute, reviewers, (200,),
          "staff.disputes: the whole file of a dispute (both sides' messages and drafts)",
          setup=review_dispute_world),
        R("review.resolve", "POST", dispute, reviewers, (302,),
          "staff.disputes: a 60/40 split moves the escrow (audited); A's owner and the creator cannot decide",
          data=lambda w, actor: _split(w), probe=_dispute_state, setup=review_dispute_world),
        R("review.dispute_message", "POST", dispute, reviewers, (302,),
          "staff.disputes: a reviewer writes to both sides of a disputed order (the parties use the order page)",
          data=lambda w, actor: _staff_message(w), probe=_order_messages, setup=review_dispute_world),
        R("review.live_reports", "GET", m.none, reviewers, (200,),
          "staff.disputes: the brand's removal reports", setup=review_live_world),
        R("review.live_report_decide", "POST", report, reviewers, (302,),
          "staff.disputes: dismissing A's report (upholding refunds the retention)",
          data=lambda w, actor: _dismiss(w), probe=_report_state, setup=review_live_world),
        R("notifications.inbox", "GET", m.none, m.SIGNED_IN, (200,),
          "login required; every user reads their own notifications", setup=notifications_world),
        R("notifications.open", "GET", notification, frozenset({m.A_OWNER}), (302,),
          "only its recipient (A's owner) opens a notification; to anyone else it does not exist (404)",
          denied=404, setup=notifications_world),
        R("notifications.read_all", "POST", m.none, m.SIGNED_IN, (302,),
          "login required; marks only the user's own notifications read", probe=_unread_of_world,
          setup=notifications_world),
    ]


def csrf_cases() -> list:
    from tests.integration import test_security as t

    m = _matrix()
    C = t.CsrfCase

    def probe(read):
        return lambda s, w, c: read(s, w)

    return [
        C("review.job_decide", m.REVIEWER, lambda w: f"/staff/jobs/{w.orders['review_job']}/decide", _approve,
          probe(_job_state), setup=review_jobs_world),
        C("review.resolve", m.REVIEWER, lambda w: f"/staff/disputes/{w.orders['dispute']}/resolve", _split,
          probe(_dispute_state), setup=review_dispute_world),
        C("review.dispute_message", m.REVIEWER, lambda w: f"/staff/disputes/{w.orders['dispute']}/messages",
          _staff_message, probe(_order_messages), setup=review_dispute_world),
        C("review.live_report_decide", m.REVIEWER,
          lambda w: f"/staff/live-reports/{w.orders['live_report']}/decide", _dismiss, probe(_report_state),
          setup=review_live_world),
        C("notifications.read_all", m.A_OWNER, lambda w: "/notifications/read", lambda w: {},
          probe(_unread_of_a_owner), setup=notifications_world),
    ]
