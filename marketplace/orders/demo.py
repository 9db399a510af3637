"""Demo order-taking for ``flask seed-demo``: Lumen Cosmetics' campaigns, jobs and orders in every state.

Everything goes through the real services (``send_offer``, ``accept_offer``, ``submit_draft`` … ``resolve_dispute``,
``save_job``, ``apply_to_job``, ``accept_application``, ``post_message``, ``write_review``) with ``now`` values
in the past, so the timelines, notifications, ratings and the ledger are what real use would have produced
(``flask ledger check`` passes). Times are chosen so that the timers leave the demo as it is for a couple of
days: offers were sent less than a day ago, published work is younger than the auto-confirm window, completed
orders are inside their live window.

The cast: Lumen's owner and manager act for the brand; mia@ and leo@creators.demo hold several orders each
(an offer in the inbox, orders in progress, completed ones with reviews); other demo creators hold the rest.
reviewer@canal.demo finds a job to review, an open dispute and a removal report waiting.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.accounts.models import User
from marketplace.creators.models import Creator, CreatorCategory
from marketplace.db import utcnow
from marketplace.enterprises.models import Enterprise
from marketplace.orders import disputes, messaging, recruiting, reviews, services
from marketplace.orders.models import Campaign, Order
from marketplace.orders.services import Actor
from marketplace.platform.sandbox import infer_category

# What each demo login finds (printed by ``flask seed-demo``).
GUIDE = [
    ("owner@lumen.demo", "order board: orders in every state, 2 campaigns, 3 jobs (one open with applicants)"),
    ("mia@creators.demo", "an offer to answer, a revision to make, an open job she is shortlisted for, reviews"),
    ("leo@creators.demo", "an offer, a draft awaiting the brand, a published work, a dispute, a job order"),
    ("reviewer@canal.demo", "a job to review, an open dispute, a removal report (Staff → Review)"),
]

# Hours after the order's start at which each step of the happy path happens.
STEP_HOURS = {"accept": 8, "draft": 48, "revision": 54, "redraft": 76, "approve": 82, "publish": 96,
              "confirm": 120}
HAPPY_PATH = ("offered", "in_progress", "draft_submitted", "revision_requested", "draft_approved", "published",
              "completed", "closed")


@dataclass
class _Demo:
    session: Session
    now: datetime
    lumen: Enterprise
    owner: Actor
    manager: Actor
    reviewer: Actor
    mia: Creator
    leo: Creator
    others: dict[str, list[Creator]]
    campaigns: dict[str, Campaign] = field(default_factory=dict)
    orders: dict[str, Order] = field(default_factory=dict)

    def ago(self, days: float = 0, hours: float = 0) -> datetime:
        return self.now - timedelta(days=days, hours=hours)

    def other(self, category: str, index: int) -> Creator:
        pool = self.others[category]
        return pool[index % len(pool)]


def seed_demo_orders(session: Session) -> bool:
    """Create Lumen's demo campaigns, jobs and orders (once: the caller checks none exist). True when created."""
    demo = _cast(session)
    if demo is None:
        return False
    _campaigns(demo)
    _offers(demo)
    _deliveries(demo)
    _finished(demo)
    _disputes(demo)
    _jobs(demo)
    session.flush()
    return True


def _cast(session: Session) -> _Demo | None:
    def user(email: str) -> User | None:
        return session.scalar(select(User).where(User.email == email))

    lumen = session.scalar(select(Enterprise).where(Enterprise.display_name.like("Lumen%")))
    owner, manager, reviewer = user("owner@lumen.demo"), user("manager@lumen.demo"), user("reviewer@canal.demo")
    mia_user, leo_user = user("mia@creators.demo"), user("leo@creators.demo")
    if None in (lumen, owner, manager, reviewer, mia_user, leo_user) or lumen.verification_state != "verified":
        return None
    mia = session.scalar(select(Creator).where(Creator.user_id == mia_user.id))
    leo = session.scalar(select(Creator).where(Creator.user_id == leo_user.id))
    if mia is None or leo is None or not (mia.listed and leo.listed):
        return None
    others = {}
    for category in ("beauty", "fashion", "food", "lifestyle"):
        # Listed demo creators whose account is about the category, taking orders at a modest price, in a fixed
        # order.
        candidates = session.scalars(
            select(Creator).join(CreatorCategory, CreatorCategory.creator_id == Creator.id)
            .where(CreatorCategory.category == category, Creator.listed.is_(True),
                   Creator.accepting_orders.is_(True), Creator.id.not_in((mia.id, leo.id)),
                   Creator.user_id != owner.id, Creator.price_short_video.between(300_00, 8_000_00))
            .order_by(Creator.id).limit(40))
        others[category] = [c for c in candidates if c.handle and infer_category(c.handle) == category][:10]
        if not others[category]:
            return None
    return _Demo(session, utcnow(), lumen, services.brand(owner), services.brand(manager),
                 services.staff(reviewer), mia, leo, others)


def _campaigns(demo: _Demo) -> None:
    today = demo.now.date()
    demo.campaigns["spring"] = recruiting.save_campaign(
        demo.session, demo.owner, demo.lumen, name="春季精华新品 Spring serum launch",
        goal="Introduce the new 10% niacinamide serum to sensitive-skin audiences: honest 7-day and 30-day "
             "trials, try-ons and routines from beauty creators.",
        budget=60_000_00, starts_on=today - timedelta(days=70), ends_on=today + timedelta(days=45))
    demo.campaigns["winter"] = recruiting.save_campaign(
        demo.session, demo.manager, demo.lumen, name="冬季火锅礼盒 Winter hotpot gift box",
        goal="Lip care for hotpot season: food and lifestyle creators pair the gift box with winter dining.",
        budget=30_000_00, starts_on=today - timedelta(days=25), ends_on=today + timedelta(days=60))


# --- walking an order ------------------------------------------------------------------------------------------


def _offer(demo: _Demo, key: str, creator: Creator, title: str, start: datetime, *, campaign: str = "spring",
           content_type: str = "short_video", price: int | None = None, brief: str = "", by: Actor | None = None,
           live_days: int | None = None, revision_rounds: int = 2) -> Order:
    order = services.send_offer(
        demo.session, by or demo.owner, demo.lumen, creator, title=title, content_type=content_type, price=price,
        brief=brief or "Show the product in the first 5 seconds, use it on camera, and say what you really think. "
                       "Mention #LumenSkin and link the shop in the description.",
        deliverables="1 video, 30–60 s, vertical 9:16; the caption and cover for approval",
        publish_from=start.date() + timedelta(days=3), publish_until=start.date() + timedelta(days=30),
        live_days=live_days, revision_rounds=revision_rounds, campaign_id=demo.campaigns[campaign].id, now=start)
    demo.orders[key] = order
    return order


def _walk(demo: _Demo, order: Order, to: str, start: datetime, *, revision: bool = False,
          accepted: bool = False) -> Order:
    """Take an order from its start along the happy path until it reaches state ``to``.

    ``accepted``: the order came from an application (already in progress at ``start``)."""
    session, creator = demo.session, order.creator
    c = services.creator_actor(creator.user)
    brand = demo.manager if order.id % 2 else demo.owner

    def at(step: str) -> datetime:
        return start + timedelta(hours=STEP_HOURS[step])

    target = HAPPY_PATH.index(to)
    if target >= 1 and not accepted:
        services.accept_offer(session, order, c, now=at("accept"))
    if target >= 2:
        services.submit_draft(session, order, c, link_url=f"https://drive.example.com/lumen/{order.id}/draft-1",
                              note="First cut: hook, texture close-up, 7-day result. Music is a placeholder.",
                              now=at("draft"))
    if target >= 3 and (revision or to == "revision_requested"):
        services.request_revision(session, order, brand, now=at("revision"),
                                  feedback="Lovely! Please show the bottle in the first 3 seconds and say the "
                                           "product name once more at the end.")
        if target >= 4:
            services.submit_draft(session, order, c, link_url=f"https://drive.example.com/lumen/{order.id}/draft-2",
                                  note="Bottle in the opening shot, name repeated at the end.", now=at("redraft"))
    if target >= 4:
        services.approve_draft(session, order, brand, note="Approved — publish in the window.", now=at("approve"))
    if target >= 5:
        services.publish(session, order, c, work_url=_work_url(creator, at("publish")), now=at("publish"))
    if target >= 6:
        services.confirm(session, order, brand, now=at("confirm"))
    if target >= 7:
        _close(demo, order)
    return order


def _close(demo: _Demo, order: Order) -> None:
    """The live window ended (as the timer would have closed it): the retention goes to the creator."""
    services.close_live_window(demo.session, order, now=order.live_until + timedelta(minutes=5))


def _work_url(creator: Creator, when: datetime) -> str:
    """A work of the creator's sandbox account, published a few days before ``when`` and live for good."""
    from marketplace.creators.stats import current_connector

    connector = current_connector()
    for work in connector.list_works(creator.platform_account.external_id, 30, now=when):
        if work.is_live and work.published_at <= when - timedelta(days=3):
            later = connector.lookup_work(work.url, now=utcnow())
            if later is not None and later.is_live:
                return work.url
    raise LookupError(f"no live sandbox work for @{creator.handle} before {when:%Y-%m-%d}")


def _review(demo: _Demo, order: Order, brand_stars: int, brand_comment: str, creator_stars: int,
            creator_comment: str) -> None:
    """Both sides review right after completion (so both reviews are visible)."""
    when = order.completed_at + timedelta(hours=20)
    reviews.write_review(demo.session, order, demo.owner, rating=brand_stars, comment=brand_comment, now=when)
    reviews.write_review(demo.session, order, services.creator_actor(order.creator.user), rating=creator_stars,
                         comment=creator_comment, now=when + timedelta(hours=3))


def _say(demo: _Demo, order: Order, side: str, body: str, when: datetime) -> None:
    actor = demo.owner if side == "brand" else services.creator_actor(order.creator.user)
    messaging.post_message(demo.session, order, actor, body=body, now=when)


# --- the stories ------------------------------------------------------------------------------------------------


def _offers(demo: _Demo) -> None:
    """Offers: two waiting in mia's and leo's inboxes; one declined, one expired, one withdrawn."""
    _offer(demo, "mia_offered", demo.mia, "精华30天打卡 Serum 30-day diary", demo.ago(hours=5),
           brief="Use the serum every evening for 30 days; a short check-in video at day 1, 7 and 30.")
    _offer(demo, "leo_offered", demo.leo, "火锅夜 Hotpot night with Lumen lip balm", demo.ago(hours=20),
           campaign="winter", price=450_00, by=demo.manager,
           brief="A hotpot dinner with friends; the lip balm before and after the spicy broth.")
    declined = _offer(demo, "declined", demo.leo, "早餐店探店 Breakfast shop tour", demo.ago(days=9),
                      campaign="winter", content_type="image_text", price=200_00)
    services.decline_offer(demo.session, declined, services.creator_actor(demo.leo.user),
                           reason="I only post breakfast reviews I pay for myself — thank you though!",
                           now=demo.ago(days=8, hours=18))
    expired = _offer(demo, "expired", demo.other("fashion", 0), "通勤妆容 Commute makeup look", demo.ago(days=12))
    services.expire_offer(demo.session, expired, now=expired.offer_expires_at + timedelta(minutes=1))
    withdrawn = _offer(demo, "withdrawn", demo.other("beauty", 1), "卸妆测评 Cleansing balm review",
                       demo.ago(days=6), by=demo.manager)
    services.withdraw_offer(demo.session, withdrawn, demo.manager, now=demo.ago(days=5, hours=20))


def _deliveries(demo: _Demo) -> None:
    """Orders being worked on: every step from accepted to published."""
    start = demo.ago(days=4)
    order = _walk(demo, _offer(demo, "mia_revision", demo.mia, "敏感肌护肤流程 Sensitive-skin routine", start),
                  "revision_requested", start)
    _say(demo, order, "creator", "收到！开头我会换成产品特写，明天上传第二版。", start + timedelta(hours=58))
    _say(demo, order, "brand", "Thanks Mia — no rush, the window is open until the end of the month.",
         start + timedelta(hours=60))

    start = demo.ago(days=2, hours=12)
    order = _walk(demo, _offer(demo, "leo_draft", demo.leo, "成都小吃地图 Chengdu snack map", start,
                               campaign="winter", price=380_00), "draft_submitted", start)
    _say(demo, order, "creator", "Draft is up — I kept the lip balm moment at 0:12, tell me if it should be longer.",
         start + timedelta(hours=49))

    start = demo.ago(days=4, hours=6)
    order = _walk(demo, _offer(demo, "leo_published", demo.leo, "礼盒开箱 Gift box unboxing", start,
                               campaign="winter", price=400_00), "published", start, revision=True)
    _say(demo, order, "creator", "It's live! 发布啦，数据不错。", start + timedelta(hours=97))

    start = demo.ago(days=1, hours=10)
    order = _walk(demo, _offer(demo, "in_progress", demo.other("beauty", 0), "防晒喷雾测评 Sunscreen mist test",
                               start), "in_progress", start)
    _say(demo, order, "brand", "Samples were sent by SF Express today (tracking SF1234567890).",
         start + timedelta(hours=9))

    start = demo.ago(days=3, hours=20)
    _walk(demo, _offer(demo, "draft_approved", demo.other("lifestyle", 0), "周末好物 Weekend favourites", start,
                       campaign="winter"), "draft_approved", start)


def _finished(demo: _Demo) -> None:
    """Completed orders (reviews from both sides: ratings on the profiles), closed ones, one cancellation,
    and a completed order whose brand reported the work removed (a reviewer decides)."""
    start = demo.ago(days=8)
    order = _walk(demo, _offer(demo, "mia_completed", demo.mia, "唇釉试色 Lip tint try-on", start), "completed", start)
    _review(demo, order, 5, "Mia was a joy: on time, creative, and the comments were full of questions about "
                            "the shade. 合作非常愉快！", 5, "Clear brief, fast feedback, paid on time.")

    start = demo.ago(days=62)
    order = _walk(demo, _offer(demo, "mia_closed", demo.mia, "秋季妆容 Autumn makeup look", start, live_days=30),
                  "completed", start, revision=True)
    _review(demo, order, 4, "Great video; the first draft missed the brief a little, the second was perfect.",
            5, "Lumen's team knows what it wants and says it kindly.")
    _close(demo, order)

    start = demo.ago(days=20)
    order = _walk(demo, _offer(demo, "leo_completed", demo.leo, "饺子教程 Dumpling recipe with lip care tips",
                               start, campaign="winter", price=350_00), "completed", start)
    _review(demo, order, 4, "Fun video, good reach in Sichuan.", 5, "Easy collaboration.")
    _say(demo, order, "brand", "Hi Leo, the video seems to be private now — was that on purpose?", demo.ago(hours=23))
    disputes.report_removed(demo.session, order, demo.owner, removed_at=demo.ago(days=1, hours=6),
                            note="The video shows “private” since yesterday afternoon (screenshot in messages).",
                            now=demo.ago(hours=22))

    for i, (category, title) in enumerate((("beauty", "粉底液持妆测试 12-hour foundation test"),
                                           ("fashion", "秋冬穿搭配色 Autumn outfits with a red lip"))):
        start = demo.ago(days=9 + i * 2)
        order = _walk(demo, _offer(demo, f"completed_{i}", demo.other(category, 2 + i), title, start),
                      "completed", start)
        _review(demo, order, 5 - i, "Delivered exactly what we briefed, ahead of time." if i == 0 else
                "Good content; publishing was a day late.", 5, "Professional brand, quick payment.")

    start = demo.ago(days=75)
    order = _walk(demo, _offer(demo, "closed", demo.other("beauty", 3), "夏日控油 Summer oil control", start),
                  "completed", start)
    _review(demo, order, 5, "Top engagement of the quarter.", 4, "Brief changed once, otherwise smooth.")
    _close(demo, order)

    start = demo.ago(days=5)
    order = _walk(demo, _offer(demo, "cancelled", demo.other("lifestyle", 1), "居家护肤角 Home skincare corner",
                               start, campaign="winter"), "in_progress", start)
    services.request_cancel(demo.session, order, demo.owner, reason="The product launch moved to spring.",
                            now=start + timedelta(days=1))
    services.cancel(demo.session, order, services.creator_actor(order.creator.user),
                    reason="No problem — happy to work together in spring.", now=start + timedelta(days=1, hours=5))


def _disputes(demo: _Demo) -> None:
    """One dispute waiting for a reviewer, one decided by a 60/40 split."""
    start = demo.ago(days=9)
    order = _walk(demo, _offer(demo, "disputed", demo.leo, "直播口播 Livestream mention", start, campaign="winter",
                               content_type="livestream", price=600_00), "in_progress", start)
    _say(demo, order, "brand", "Leo, the livestream was planned for last Friday — any news?", demo.ago(days=4))
    disputes.open_dispute(demo.session, order, demo.owner, reason="late", now=demo.ago(days=2),
                          description="The livestream mention was due on the 1st; we have had no draft and no "
                                      "answer to two messages. We ask for a refund.")

    start = demo.ago(days=30)
    order = _walk(demo, _offer(demo, "resolved", demo.mia, "春季好物图文 Spring favourites (image-text)", start,
                               content_type="image_text", price=600_00), "draft_submitted", start)
    services.request_revision(demo.session, order, demo.owner, now=start + timedelta(days=4),
                              feedback="We need the ingredient list photographed and a second look.")
    disputes.open_dispute(demo.session, order, services.creator_actor(demo.mia.user), reason="unfair_revisions",
                          now=start + timedelta(days=5),
                          description="The post was approved in the first round except for one photo; the new "
                                      "requests go beyond the brief we agreed.")
    dispute = disputes.open_dispute_of(demo.session, order)
    disputes.resolve_dispute(demo.session, dispute, demo.reviewer, decision="split",
                             to_creator=order.price * 60 // 100, now=start + timedelta(days=7),
                             note="Most of the work was delivered as briefed; the later requests were new. "
                                  "60 % of the price to the creator, 40 % back to the brand.")


def _job_terms(title: str, brief: str, *, budget: int, slots: int, deadline: datetime, categories: list[str],
               campaign: Campaign, content_type: str = "short_video") -> recruiting.JobTerms:
    return recruiting.JobTerms(
        title=title, brief=brief, content_type=content_type,
        deliverables="1 vertical video (30–90 s) with the product on camera; caption for approval",
        budget=budget, slots=slots, application_deadline=deadline,
        publish_from=deadline.date() + timedelta(days=2), publish_until=deadline.date() + timedelta(days=30),
        criteria_categories=categories, criteria_regions=[], criteria_min_followers=1_000,
        criteria_max_followers=None, usage_rights_days=60, live_days=30, revision_rounds=1,
        campaign_id=campaign.id)


def _jobs(demo: _Demo) -> None:
    """An open job with applicants (one shortlisted), a job waiting for review, a job closed when full."""
    session, beauty, food = demo.session, demo.others["beauty"], demo.others["food"]

    created = demo.ago(days=6)
    job = recruiting.save_job(session, demo.manager, demo.lumen, _job_terms(
        "护肤新品体验官 Serum trial crew",
        "Try the new serum for 14 days and share an honest before/after. We send the product; you keep it. "
        "Sensitive-skin creators especially welcome.",
        budget=1_500_00, slots=5, deadline=demo.now + timedelta(days=9), categories=["beauty"],
        campaign=demo.campaigns["spring"]), now=created)
    recruiting.submit_job(session, job, demo.manager, now=created + timedelta(hours=1))
    recruiting.review_job(session, job, demo.reviewer, approve=True, now=created + timedelta(hours=5))
    pitches = ["敏感肌十年，做过很多次成分测评，可以拍14天对比。", "I film a weekly skincare diary; a 14-day trial fits it.",
               "粉丝以学生党为主，平价护肤内容互动很高。", "Happy to do a before/after in daylight with no filters."]
    applicants = [demo.mia, *[c for c in beauty if c.id != demo.mia.id][4:7]]
    applications = []
    for i, creator in enumerate(applicants):
        if not recruiting.creator_matches(creator, job):
            continue
        applications.append(recruiting.apply_to_job(
            session, job, creator, quote=[1_500_00, 1_200_00, 1_800_00, 1_500_00][i], pitch=pitches[i],
            now=created + timedelta(days=1, hours=3 * i)))
    recruiting.shortlist_application(session, applications[0], demo.manager)
    messaging.post_message(session, applications[0], demo.manager, now=demo.ago(days=1),
                           body="Hi Mia — could you do the 14 days without other new products in the routine?")
    messaging.post_message(session, applications[0], services.creator_actor(demo.mia.user), now=demo.ago(hours=20),
                           body="当然可以，这两周只用你们的精华和基础保湿。")

    review = recruiting.save_job(session, demo.owner, demo.lumen, _job_terms(
        "火锅季唇部护理 Hotpot season lip care",
        "Pair our lip balm with a winter hotpot night: before the broth, after the spice, the next morning.",
        budget=500_00, slots=8, deadline=demo.now + timedelta(days=14), categories=["food", "lifestyle"],
        campaign=demo.campaigns["winter"]), now=demo.ago(hours=4))
    recruiting.submit_job(session, review, demo.owner, now=demo.ago(hours=3))

    created = demo.ago(days=16)
    closed = recruiting.save_job(session, demo.owner, demo.lumen, _job_terms(
        "冬日暖饮搭配 Winter drinks and lip care",
        "Film a winter drink you love and how you keep your lips soft in the cold — with our lip balm.",
        budget=400_00, slots=2, deadline=created + timedelta(days=5), categories=["food"],
        campaign=demo.campaigns["winter"]), now=created)
    recruiting.submit_job(session, closed, demo.owner, now=created + timedelta(hours=1))
    recruiting.review_job(session, closed, demo.reviewer, approve=True, now=created + timedelta(hours=3))
    applied = []
    for i, creator in enumerate([demo.leo, *food[:2]]):
        applied.append(recruiting.apply_to_job(session, closed, creator, quote=[400_00, 380_00, 420_00][i],
                                               pitch="冬天的热饮我拍过一个系列，很适合。",
                                               now=created + timedelta(hours=6 + 5 * i)))
    # Accepting two fills the slots: the job closes and the third applicant is told.
    accepted_at = created + timedelta(days=2)
    leo_order = recruiting.accept_application(session, applied[0], demo.owner, now=accepted_at)
    demo.orders["leo_job"] = _walk(demo, leo_order, "in_progress", accepted_at, accepted=True)
    other = recruiting.accept_application(session, applied[1], demo.owner, now=accepted_at + timedelta(hours=1))
    demo.orders["job_draft_approved"] = _walk(demo, other, "draft_approved", accepted_at, accepted=True)

