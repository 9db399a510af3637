"""Access-matrix rows and CSRF cases for the order pages: the brand's board, direct offers, the order page and
its actions, order files, the creator's offers inbox and order list (see test_access_matrix.py).

``rows()`` is called by test_access_matrix.py once everything it defines exists; ``csrf_cases()`` by
test_security.py. Rows build ``orders_world`` with the orders they need: enterprise A verified and funded, the
world's creator listed (a sandbox platform account, a rate card, accepting orders), and orders of A with that
creator in the states ``offered``, ``in_progress``, ``draft_submitted`` (a draft with a PNG file),
``draft_approved``, ``published``, ``completed`` and ``disputed`` (with an evidence file). Keys in ``w.orders``
start with ``order_`` (the jobs rows share the dict).
"""

from __future__ import annotations

import io

from sqlalchemy import func, select

ALL_STATES = ("offered", "in_progress", "draft_submitted", "draft_approved", "published", "completed", "disputed")
# The happy path each state is reached by (a dispute is opened on an order in progress).
PATH = ("in_progress", "draft_submitted", "draft_approved", "published", "completed")
_PNG: dict[str, bytes] = {}


def _png() -> bytes:
    if "png" not in _PNG:
        from marketplace.seed import licence_png

        _PNG["png"] = licence_png("Matrix", "91310000MA1FL8XQ30")
    return _PNG["png"]


def _base(session, w) -> None:
    """A verified and funded; the world's creator listed and accepting orders (once per world)."""
    from marketplace.creators import services as creator_services
    from marketplace.creators.models import Creator, PlatformAccount
    from marketplace.enterprises.models import Enterprise
    from marketplace.enterprises.services import approve_enterprise, submit_for_verification
    from marketplace.ledger import flows
    from tests.integration.test_access_matrix import A_OWNER, CREATOR, REVIEWER

    if "order_creator" in w.orders:
        return
    a = session.get(Enterprise, w.a_id)
    if a.verification_state != "verified":
        if a.verification_state != "pending":
            submit_for_verification(session, w.users[A_OWNER], a)
        approve_enterprise(session, w.users[REVIEWER], a)
    flows.top_up(session, enterprise_id=a.id, amount=100_000_00, rail="bank", key=f"orders-world:{a.id}")
    creator = session.scalar(select(Creator).where(Creator.user_id == w.users[CREATOR].id))
    if creator.platform_account is None:
        session.add(PlatformAccount(creator_id=creator.id, platform="sandbox", external_id="matrix_orders",
                                    handle="@matrix_orders"))
        session.flush()
        session.refresh(creator)
    if not creator.listed:
        creator_services.update_profile(session, creator, handle="matrix_orders", display_name="Matrix Orders",
                                        kind="individual", bio="美妆测评", categories=["beauty"], regions=["31"],
                                        languages=["zh"], accepting_orders=True)
    if creator.rate_card_version_id is None:
        creator_services.save_rate_card(session, creator, {"short_video": 1_000_00}, 2, 7, "")
    creator.accepting_orders = True
    session.flush()
    assert creator.listed
    w.orders["order_creator"] = creator.id


def _work_url(creator) -> str:
    from marketplace.creators.stats import current_connector
    from marketplace.db import utcnow

    works = current_connector().list_works(creator.platform_account.external_id, 10, now=utcnow())
    return next(work.url for work in works if work.is_live)


def orders_world(session, w, states=ALL_STATES) -> None:
    """See the module docstring: the base, and one order of A in each of ``states`` (those not built yet)."""
    from marketplace.creators.models import Creator
    from marketplace.enterprises.models import Enterprise
    from marketplace.files.services import store_bytes
    from marketplace.orders import disputes, services
    from marketplace.orders.services import brand, creator_actor
    from tests.integration.test_access_matrix import A_OWNER, CREATOR

    _base(session, w)
    a = session.get(Enterprise, w.a_id)
    creator = session.get(Creator, w.orders["order_creator"])
    b, c = brand(w.users[A_OWNER]), creator_actor(w.users[CREATOR])
    for state in states:
        if f"order_{state}" in w.orders:
            continue
        order = services.send_offer(session, b, a, creator, title=f"Matrix order {state}", content_type="short_video",
                                    price=1_000_00, brief="Try the serum for a week.")
        target = "in_progress" if state == "disputed" else state
        for step in PATH:
            if order.state == target:
                break
            if step == "in_progress":
                services.accept_offer(session, order, c)
            elif step == "draft_submitted":
                stored = store_bytes(session, _png(), "image/png", "draft.png", w.users[CREATOR].id)
                services.submit_draft(session, order, c, note="First cut", files=[stored])
                w.orders[f"order_{state}_file"] = stored.id
            elif step == "draft_approved":
                services.approve_draft(session, order, b)
            elif step == "published":
                services.publish(session, order, c, work_url=_work_url(creator))
            elif step == "completed":
                services.confirm(session, order, b)
        if state == "disputed":
            stored = store_bytes(session, _png(), "image/png", "evidence.png", w.users[A_OWNER].id)
            disputes.open_dispute(session, order, b, reason="late", description="Nothing has arrived so far.",
                                  evidence=[stored])
            w.orders["order_disputed_file"] = stored.id
        assert order.state == state
        w.orders[f"order_{state}"] = order.id
    if "draft_approved" in states:
        w.orders["order_work_url"] = _work_url(creator)
    session.flush()


def _world(*states):
    return lambda session, w: orders_world(session, w, states)


def _order(state: str):
    return lambda w: {"order_id": w.orders[f"order_{state}"]}


def _file(w) -> dict:
    return {"order_id": w.orders["order_draft_submitted"], "file_id": w.orders["order_draft_submitted_file"]}


def _creator(w) -> dict:
    return {"creator_id": w.orders["order_creator"]}


def _ent_a(w) -> dict:
    return {"enterprise_id": w.a_id}


def _none(w) -> dict:
    return {}


# --- probes (session, world) --------------------------------------------------------------------------------------


def _state(name: str):
    def probe(s, w):
        from marketplace.orders.models import Order

        return s.scalar(select(Order.state).where(Order.id == w.orders[f"order_{name}"]))
    return probe


def _cancel_requested(s, w):
    from marketplace.orders.models import Order

    return s.scalar(select(Order.cancel_requested_by).where(Order.id == w.orders["order_in_progress"]))


def _a_orders(s, w):
    from marketplace.orders.models import Order

    return s.scalar(select(func.count()).select_from(Order).where(Order.enterprise_id == w.a_id))


def _messages(s, w):
    from marketplace.orders.models import Message

    return s.scalar(select(func.count()).select_from(Message).where(Message.thread_type == "order",
                                                                    Message.thread_id == w.orders["order_in_progress"]))


def _evidence(s, w):
    from marketplace.orders.models import Dispute, DisputeEvidence

    return s.scalar(select(func.count()).select_from(DisputeEvidence).join(Dispute)
                    .where(Dispute.order_id == w.orders["order_disputed"]))


def _live_reports(s, w):
    from marketplace.orders.models import LiveReport

    return s.scalar(select(func.count()).select_from(LiveReport)
                    .where(LiveReport.order_id == w.orders["order_completed"]))


def _reviews(s, w):
    from marketplace.orders.models import Review

    return s.scalar(select(func.count()).select_from(Review).where(Review.order_id == w.orders["order_completed"]))


# --- form data ------------------------------------------------------------------------------------------------------


def offer_form(title: str = "Matrix offer") -> dict:
    from datetime import timedelta

    from marketplace.db import utcnow

    today = utcnow().date()
    return {"content_type": "short_video", "price": "1000", "title": title, "brief": "Show the serum.",
            "deliverables": "One vertical video.", "publish_from": (today + timedelta(days=7)).isoformat(),
            "publish_until": (today + timedelta(days=21)).isoformat(), "revision_rounds": "1", "live_days": "30",
            "usage_rights_days": "30", "campaign_id": ""}


def _dispute_form(w, actor=None) -> dict:
    return {"reason": "late", "description": "Nothing has arrived so far."}


def _evidence_form(w, actor=None) -> dict:
    return {"more_evidence": (io.BytesIO(_png()), "more.png")}


def rows() -> list:
    from tests.integration.test_access_matrix import (
        A_MANAGER,
        A_MEMBERS,
        A_OWNER,
        ADMIN,
        B_OWNER,
        CREATOR,
        REVIEWER,
        R,
    )

    actors = frozenset({A_OWNER, A_MANAGER})  # enterprise.orders: owners and managers act on A's orders
    creator = frozenset({CREATOR})  # the order's creator
    parties = creator | actors  # either side of the order, when it may act
    readers = A_MEMBERS | creator | {REVIEWER, ADMIN}  # the order page: both sides, and staff.disputes (read only)
    # fmt: off
    return [
        # --- the brand's board and direct offers ------------------------------------------------------------
        R("orders.board", "GET", _ent_a, A_MEMBERS, (200,),
          "enterprise.orders.view: every member of A; not B's owner, creators or staff", setup=_world("offered")),
        R("orders.offer_new", "GET", _creator, actors | {B_OWNER}, (200,),
          "enterprise.orders in the acting enterprise: A's owner and manager, and B's owner for B (the form says "
          "B must be verified first); not viewers, finance, a creator or staff", setup=_world()),
        R("orders.offer_new", "POST", _creator, actors, (302,),
          "enterprise.orders in the acting enterprise, verified: A's owner and manager send a funded offer (B is "
          "not verified: its owner is refused)", setup=_world(),
          data=lambda w, actor: offer_form(), probe=_a_orders),
        # --- the order page and its files --------------------------------------------------------------------
        R("orders.detail", "GET", _order("in_progress"), readers, (200,),
          "the order's creator, every member of its enterprise, and reviewers/admins (staff.disputes) read it; "
          "not B's owner or finance staff", setup=_world("in_progress")),
        R("orders.file", "GET", _file, readers, (200,),
          "a draft file: whoever may read the order", setup=_world("draft_submitted")),
        # --- the creator's actions ---------------------------------------------------------------------------
        R("orders.accept", "POST", _order("offered"), creator, (302,),
          "the order's creator only", setup=_world("offered"), probe=_state("offered")),
        R("orders.decline", "POST", _order("offered"), creator, (302,),
          "the order's creator only; refunds A", setup=_world("offered"),
          data=lambda w, actor: {"decline_reason": "Fully booked"}, probe=_state("offered")),
        R("orders.submit_draft", "POST", _order("in_progress"), creator, (302,),
          "the order's creator only", setup=_world("in_progress"),
          data=lambda w, actor: {"link_url": "https://drive.example/draft"}, probe=_state("in_progress")),
        R("orders.publish", "POST", _order("draft_approved"), creator, (302,),
          "the order's creator only, with a work of their linked account", setup=_world("draft_approved"),
          data=lambda w, actor: {"work_url": w.orders["order_work_url"]}, probe=_state("draft_approved")),
        R("orders.cancel", "POST", _order("in_progress"), creator, (302,),
          "the creator cancels alone; the brand may only agree to a creator's proposal (refused here: nothing "
          "proposed); readers and outsiders are refused", setup=_world("in_progress"), probe=_state("in_progress")),
        # --- the brand's actions ----------------------------------------------------------------------------------
        R("orders.withdraw", "POST", _order("offered"), actors, (302,),
          "enterprise.orders on the order's enterprise: owner and manager of A", setup=_world("offered"),
          probe=_state("offered")),
        R("orders.approve_draft", "POST", _order("draft_submitted"), actors, (302,),
          "enterprise.orders on the order's enterprise", setup=_world("draft_submitted"),
          probe=_state("draft_submitted")),
        R("orders.request_revision", "POST", _order("draft_submitted"), actors, (302,),
          "enterprise.orders on the order's enterprise", setup=_world("draft_submitted"),
          data=lambda w, actor: {"feedback": "Show the bottle first."}, probe=_state("draft_submitted")),
        R("orders.confirm", "POST", _order("published"), actors, (302,),
          "enterprise.orders on the order's enterprise: releases the escrow; viewers and finance are refused",
          setup=_world("published"), probe=_state("published")),
        R("orders.request_cancel", "POST", _order("in_progress"), actors, (302,),
          "enterprise.orders on the order's enterprise (the creator cancels instead)", setup=_world("in_progress"),
          data=lambda w, actor: {"cancel_reason": "The campaign moved."}, probe=_cancel_requested),
        R("orders.report_removed", "POST", _order("completed"), actors, (302,),
          "enterprise.orders on the order's enterprise, during the live window", setup=_world("completed"),
          data=lambda w, actor: {"note": "The video shows private now."}, probe=_live_reports),
        # --- either side --------------------------------------------------------------------------------------------
        R("orders.open_dispute", "POST", _order("in_progress"), parties, (302,),
          "either side that may act: the creator, A's owner and manager", setup=_world("in_progress"),
          data=_dispute_form, probe=_state("in_progress")),
        R("orders.add_evidence", "POST", _order("disputed"), parties, (302,),
          "either side that may act, while the dispute is open", setup=_world("disputed"),
          data=_evidence_form, probe=_evidence),
        R("orders.review", "POST", _order("completed"), parties, (302,),
          "either side that may act, once, after completion", setup=_world("completed"),
          data=lambda w, actor: {"rating": "5", "review_comment": "Smooth."}, probe=_reviews),
        R("orders.message", "POST", _order("in_progress"), parties, (302,),
          "the creator and A's owners and managers write; viewers, finance and staff read only",
          setup=_world("in_progress"), data=lambda w, actor: {"body": "When can you film?"}, probe=_messages),
        # --- the creator's offers inbox and order list -----------------------------------------------------------------
        R("orders.offers", "GET", _none, creator, (200,),
          "creator.workspace: users with a creator profile", setup=_world("offered")),
        R("orders.my_orders", "GET", _none, creator, (200,),
          "creator.workspace: users with a creator profile", setup=_world("in_progress")),
    ]
    # fmt: on


# --- CSRF cases (probe: session, world, client) ----------------------------------------------------------------------


def _c(probe):
    return lambda s, w, c: probe(s, w)


def csrf_cases() -> list:
    from tests.integration.test_access_matrix import A_OWNER, CREATOR
    from tests.integration.test_security import C, _rewinding

    def path(state: str, action: str):
        return lambda w: f"/orders/{w.orders[f'order_{state}']}/{action}"

    # fmt: off
    return [
        C("orders.offer_new", A_OWNER, lambda w: f"/creators/{w.orders['order_creator']}/offer",
          lambda w: offer_form("Csrf offer"), _c(_a_orders), setup=_world()),
        C("orders.accept", CREATOR, path("offered", "accept"), lambda w: {}, _c(_state("offered")),
          setup=_world("offered")),
        C("orders.decline", CREATOR, path("offered", "decline"), lambda w: {}, _c(_state("offered")),
          setup=_world("offered")),
        C("orders.withdraw", A_OWNER, path("offered", "withdraw"), lambda w: {}, _c(_state("offered")),
          setup=_world("offered")),
        C("orders.submit_draft", CREATOR, path("in_progress", "drafts"),
          lambda w: {"link_url": "https://drive.example/draft"}, _c(_state("in_progress")),
          setup=_world("in_progress")),
        C("orders.approve_draft", A_OWNER, path("draft_submitted", "approve"), lambda w: {},
          _c(_state("draft_submitted")), setup=_world("draft_submitted")),
        C("orders.request_revision", A_OWNER, path("draft_submitted", "revision"),
          lambda w: {"feedback": "Show the bottle first."}, _c(_state("draft_submitted")),
          setup=_world("draft_submitted")),
        C("orders.publish", CREATOR, path("draft_approved", "publish"),
          lambda w: {"work_url": w.orders["order_work_url"]}, _c(_state("draft_approved")),
          setup=_world("draft_approved")),
        C("orders.confirm", A_OWNER, path("published", "confirm"), lambda w: {}, _c(_state("published")),
          setup=_world("published")),
        C("orders.cancel", CREATOR, path("in_progress", "cancel"), lambda w: {}, _c(_state("in_progress")),
          setup=_world("in_progress")),
        C("orders.request_cancel", A_OWNER, path("in_progress", "propose-cancel"), lambda w: {},
          _c(_cancel_requested), setup=_world("in_progress")),
        C("orders.report_removed", A_OWNER, path("completed", "report-removed"),
          lambda w: {"note": "The video shows private now."}, _c(_live_reports), setup=_world("completed")),
        C("orders.open_dispute", CREATOR, path("in_progress", "dispute"), lambda w: _dispute_form(w),
          _c(_state("in_progress")), setup=_world("in_progress")),
        C("orders.add_evidence", CREATOR, path("disputed", "evidence"), lambda w: _rewinding(_evidence_form(w)),
          _c(_evidence), setup=_world("disputed")),
        C("orders.review", CREATOR, path("completed", "review"), lambda w: {"rating": "4"}, _c(_reviews),
          setup=_world("completed")),
        C("orders.message", CREATOR, path("in_progress", "messages"), lambda w: {"body": "Csrf hello"},
          _c(_messages), setup=_world("in_progress")),
    ]
    # fmt: on
