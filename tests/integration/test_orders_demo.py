"""The order-taking demo data (``flask seed-demo``): every order state, a sound ledger, loaded once."""

from __future__ import annotations

from sqlalchemy import func, select

from marketplace.creators.models import Creator
from marketplace.db import database
from marketplace.jobs import run_job
from marketplace.ledger.models import LedgerTransaction
from marketplace.notifications.models import Notification
from marketplace.orders.models import (
    Application,
    Campaign,
    Dispute,
    Job,
    LiveReport,
    Message,
    Order,
    OrderEvent,
    Review,
)
from marketplace.orders.states import ORDER_STATES
from tests.conftest import build_app, create_test_database
from tests.integration.test_accounts_enterprises import flask_command

COUNTED = (Order, OrderEvent, Campaign, Job, Application, Dispute, LiveReport, Message, Review, Notification,
           LedgerTransaction)
TIMERS = ("orders.expire_offers", "orders.auto_confirm", "orders.live_window", "orders.close_jobs",
          "orders.review_window")


def test_demo_orders_cover_every_state_keep_the_ledger_sound_and_load_once(tmp_root):
    root = tmp_root / "orders_demo"
    root.mkdir(exist_ok=True)
    seed_app = build_app(create_test_database(tmp_root, "orders_demo"), root)
    engine = database(seed_app).engine

    def counts():
        with engine.connect() as connection:
            return {model.__tablename__: connection.scalar(select(func.count()).select_from(model))
                    for model in COUNTED}

    def scalars(query):
        with engine.connect() as connection:
            return list(connection.scalars(query))

    try:
        first = flask_command(seed_app, "seed-demo")
        assert first.exit_code == 0, first.output
        assert "Order-taking demo" in first.output and "reviewer@canal.demo" in first.output

        assert set(scalars(select(Order.state))) == set(ORDER_STATES)
        with engine.connect() as connection:
            by_creator = dict(connection.execute(
                select(Creator.handle, func.count(Order.id)).join(Order, Order.creator_id == Creator.id)
                .group_by(Creator.handle)).all())
            mia_states = set(connection.scalars(select(Order.state).join(Creator).where(Creator.handle == "mia_beauty")))
            leo_states = set(connection.scalars(select(Order.state).join(Creator).where(Creator.handle == "leo_food")))
            ratings = dict(connection.execute(select(Creator.handle, Creator.rating_count)
                                              .where(Creator.rating_count > 0)).all())
            applications = sorted(connection.scalars(
                select(Application.state).join(Job).where(Job.state == "open")))
        assert by_creator["mia_beauty"] >= 4 and by_creator["leo_food"] >= 4
        assert len(by_creator) >= 8  # other demo creators hold orders too
        for states in (mia_states, leo_states):  # a creator login shows offers, active and finished orders
            assert "offered" in states and states & {"in_progress", "draft_submitted", "revision_requested",
                                                     "published"}
            assert states & {"completed", "closed"}
        assert ratings.get("mia_beauty", 0) >= 2 and len(ratings) >= 3
        assert scalars(select(Dispute.state).order_by(Dispute.state)) == ["open", "resolved"]
        assert scalars(select(Dispute.decision).where(Dispute.state == "resolved")) == ["split"]
        assert scalars(select(LiveReport.state)) == ["pending"]
        assert sorted(scalars(select(Job.state))) == ["closed", "in_review", "open"]
        assert len(applications) >= 3 and "shortlisted" in applications
        assert sorted(scalars(select(Campaign.budget))) and all(b > 0 for b in scalars(select(Campaign.budget)))
        assert len(set(scalars(select(Message.thread_id).where(Message.thread_type == "order")))) >= 3
        assert scalars(select(func.count()).select_from(Review).where(Review.visible.is_(True)))[0] >= 8

        check = flask_command(seed_app, "ledger", "check")
        assert check.exit_code == 0, check.output
        assert "ledger sound" in check.output

        # The timers (run by the dev server right after seeding) leave the demo as it is.
        before = sorted(scalars(select(Order.state)))
        for timer in TIMERS:
            run_job(seed_app, timer)
        assert sorted(scalars(select(Order.state))) == before

        after_first = counts()
        second = flask_command(seed_app, "seed-demo")
        assert second.exit_code == 0, second.output
        assert "demo data already present" in second.output
        assert counts() == after_first
    finally:
        engine.dispose()
