"""The reminder and review-window timers with more due orders than a run's ``BATCH`` (``marketplace.orders.timers``,
``marketplace.orders.reviews``).

Each used to select the first ``BATCH`` orders of its window whether or not they had been dealt with already: past
200 offers expiring within the reminder period (or 200 review windows closed in the last 30 days) the same first
200 came back on every run, the dedupe key dropped their reminders, and the orders behind them were reminded late
or never (revealed late, or never once their window was 30 days old). Here 250 orders, made through the real
services (their escrow funded, their events and notifications written), are each reminded once and revealed
once, in a bounded number of runs, and the runs after that write nothing. Deadlines tie and their order differs
from the ids' (offers sent a few seconds apart, in a shuffled order), so the keyset paging on (deadline, id)
is what gets every one.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from marketplace.jobs import run_job
from marketplace.notifications.models import Notification
from marketplace.orders import reviews, timers
from marketplace.orders.models import Order, Review
from tests.integration.order_world import NOW, new_deal, offer, order_in, row_counts
from tests.ledger_helpers import assert_ledger_sound

MANY = 250
SPREAD = (3, 0, 5, 1, 6, 2, 4)  # seconds after NOW each offer is sent, cycling: ties, and ids out of deadline order


@pytest.fixture
def deal(session):
    return new_deal(session, balance_fen=MANY * 1_100_00)


def run(app, session, name: str, now):
    """Run the job as the runner does (its own session; commits) on what the test wrote so far."""
    session.commit()
    result = run_job(app, name, now=now)
    session.expire_all()
    return result


def reminders_per_order(session, kind: str, orders: list[Order]) -> dict[int, int]:
    """How many ``kind`` notifications each order's users got (keyed by order id, orders with none included): the
    order's id is the second part of a reminder's dedupe key (``offer-expiring:<id>``, ``<key>:<id>:<deadline>``)."""
    ids = {order.id for order in orders}
    counts = dict.fromkeys(ids, 0)
    for key in session.scalars(select(Notification.dedupe_key).where(Notification.kind == kind)):
        order_id = int(key.split(":")[1])
        if order_id in ids:
            counts[order_id] += 1
    return counts


def notifications(session, kind: str) -> int:
    return session.scalar(select(func.count()).select_from(Notification).where(Notification.kind == kind))


def reminded_in_two_runs(app, session, name: str, now, kind: str, orders: list[Order], deadline: str) -> None:
    """Two runs of ``name`` (at ``now`` and five minutes later) add the ``kind`` reminders of the ``BATCH`` orders
    whose ``deadline`` comes first (ties by id), then of the other ``MANY - BATCH``; every order is reminded
    exactly once, and a third run writes nothing."""
    earliest = {o.id for o in sorted(orders, key=lambda o: (getattr(o, deadline), o.id))[:timers.BATCH]}
    added = []
    for minutes in (0, 5):
        before = notifications(session, kind)
        result = run(app, session, name, now + timedelta(minutes=minutes))
        added.append(notifications(session, kind) - before)
        if name == "orders.reminders":
            assert result == added[-1]  # what it says it added
        if minutes == 0:
            assert {i for i, n in reminders_per_order(session, kind, orders).items() if n} == earliest
    assert added == [timers.BATCH, MANY - timers.BATCH]
    before = row_counts(session)
    assert run(app, session, name, now + timedelta(minutes=10)) == 0
    assert row_counts(session) == before, "a run after everyone was reminded wrote something"
    assert set(reminders_per_order(session, kind, orders).values()) == {1}


# --- offers about to expire ---------------------------------------------------------------------------------------


def test_every_one_of_250_expiring_offers_is_reminded_once(app, session, deal):
    offers = [offer(session, deal, now=NOW + timedelta(seconds=SPREAD[i % len(SPREAD)])) for i in range(MANY)]
    latest = max(o.offer_expires_at for o in offers)
    at = latest - timedelta(hours=2)  # every offer expires within the next day (the reminder period)
    assert all(at < o.offer_expires_at <= at + timedelta(hours=24) for o in offers)
    assert run(app, session, "orders.reminders", at - timedelta(hours=23)) == 0  # none within the period yet

    reminded_in_two_runs(app, session, "orders.reminders", at, "offer_expiring", offers, "offer_expires_at")
    creator_user = deal.creator.user_id
    assert set(session.scalars(select(Notification.user_id).where(Notification.kind == "offer_expiring"))) \
        == {creator_user}
    assert all(o.offer_reminded_for == o.offer_expires_at for o in offers)
    assert [o.state for o in offers] == ["offered"] * MANY
    assert_ledger_sound(session)


# --- published orders about to be confirmed automatically -----------------------------------------------------------


def test_every_one_of_250_orders_about_to_auto_confirm_reminds_the_brand_once(app, session, deal):
    published = [order_in(session, deal, "published") for _ in range(MANY)]
    at = max(o.auto_confirm_at for o in published) - timedelta(hours=2)
    assert all(at < o.auto_confirm_at <= at + timedelta(hours=24) for o in published)

    reminded_in_two_runs(app, session, "orders.reminders", at, "confirm_reminder", published, "auto_confirm_at")
    assert set(session.scalars(select(Notification.user_id).where(Notification.kind == "confirm_reminder"))) \
        == {deal.owner.id}
    assert all(o.confirm_reminded_for == o.auto_confirm_at for o in published)
    # The reminders moved nothing: the orders are published, and auto-confirm still finds every one due.
    assert [o.state for o in published] == ["published"] * MANY
    assert_ledger_sound(session)


# --- review windows -------------------------------------------------------------------------------------------------


def hidden_reviews(session) -> int:
    return session.scalar(select(func.count()).select_from(Review).where(Review.visible.is_(False)))


def test_250_review_windows_remind_once_the_day_before_and_reveal_once_when_they_close(app, session, deal):
    """250 completed orders; the brand reviewed each (hidden until the window closes, ratings 1 to 5 in turn),
    the creator none."""
    orders = [order_in(session, deal, "completed") for _ in range(MANY)]
    for i, order in enumerate(orders):
        reviews.write_review(session, order, deal.brand, rating=1 + i % 5, now=order.completed_at)
    closes = max(o.review_until for o in orders)

    # A day before: the creator (who has not written) is reminded of each order once; nothing is revealed.
    at = closes - timedelta(hours=12)
    assert all(at < o.review_until <= at + timedelta(days=1) for o in orders)
    reminded_in_two_runs(app, session, "orders.review_window", at, "review_window_closing", orders, "review_until")
    assert set(session.scalars(select(Notification.user_id).where(Notification.kind == "review_window_closing"))) \
        == {deal.creator.user_id}
    assert all(o.review_reminded_for == o.review_until for o in orders)
    assert hidden_reviews(session) == MANY

    # The windows close: each order's review is revealed once, the earliest windows first.
    revealed = [run(app, session, "orders.review_window", closes)]
    first = {o.id for o in sorted(orders, key=lambda o: (o.review_until, o.id))[:timers.BATCH]}
    assert set(session.scalars(select(Review.order_id).where(Review.visible.is_(True)))) == first
    revealed.append(run(app, session, "orders.review_window", closes + timedelta(minutes=5)))
    assert revealed == [timers.BATCH, MANY - timers.BATCH]
    before = row_counts(session)
    assert run(app, session, "orders.review_window", closes + timedelta(minutes=10)) == 0
    assert row_counts(session) == before
    assert hidden_reviews(session) == 0
    visible = session.execute(select(Review.order_id, func.count()).where(Review.visible.is_(True))
                              .group_by(Review.order_id)).all()
    assert sorted(order_id for order_id, _ in visible) == sorted(o.id for o in orders)
    assert {n for _, n in visible} == {1}
    # The creator's rating counts every revealed brand review: 1 to 5 in turn over 250 orders, mean 3.
    session.refresh(deal.creator)
    assert (deal.creator.rating_count, deal.creator.rating_avg_x100) == (MANY, 300)
    assert notifications(session, "review_window_closing") == MANY  # revealing reminded nobody again


def test_a_review_window_closed_more_than_30_days_ago_is_still_revealed(app, session, deal):
    """The timer used to look back 30 days only: reviews of a window that closed while it did not run (an outage)
    stayed hidden for good."""
    order = order_in(session, deal, "completed")
    reviews.write_review(session, order, deal.brand, rating=4, now=order.completed_at)
    assert run(app, session, "orders.review_window", order.review_until + timedelta(days=45)) == 1
    assert hidden_reviews(session) == 0
    session.refresh(deal.creator)
    assert (deal.creator.rating_count, deal.creator.rating_avg_x100) == (1, 400)


# --- once per deadline ----------------------------------------------------------------------------------------------


def test_a_reminder_is_once_per_deadline_and_a_moved_deadline_is_reminded_again(app, session, deal):
    """No service moves a deadline today; if one does (a revision pushing ``auto_confirm_at`` later), the brand is
    told once more, once, about the new one. Set here on the row, as such a service would."""
    order = order_in(session, deal, "published")
    first = order.auto_confirm_at
    assert run(app, session, "orders.reminders", first - timedelta(hours=3)) == 1
    assert run(app, session, "orders.reminders", first - timedelta(hours=2)) == 0
    order.auto_confirm_at = first + timedelta(days=2)
    assert run(app, session, "orders.reminders", first - timedelta(hours=1)) == 0  # the new one is not within a day
    assert run(app, session, "orders.reminders", order.auto_confirm_at - timedelta(hours=3)) == 1
    assert run(app, session, "orders.reminders", order.auto_confirm_at - timedelta(hours=2)) == 0
    keys = session.scalars(select(Notification.dedupe_key).where(Notification.kind == "confirm_reminder")
                           .order_by(Notification.id)).all()
    assert keys == [f"confirm-reminder:{order.id}",
                    f"confirm-reminder:{order.id}:{order.auto_confirm_at:%Y%m%dT%H%M%S}"]
    assert order.confirm_reminded_for == order.auto_confirm_at


def test_an_order_reminded_before_the_column_existed_is_not_reminded_again(app, session, deal):
    """The migration adds the reminded-for columns empty: an order already reminded (its notification under the
    key reminders always had) is picked up once more, the key stops a second notification, and the column is
    set, so it is not picked up again."""
    order = offer(session, deal)
    at = order.offer_expires_at - timedelta(hours=3)
    assert run(app, session, "orders.reminders", at) == 1
    order.offer_reminded_for = None  # as the migration leaves an order reminded before it ran
    before = row_counts(session)
    assert run(app, session, "orders.reminders", at + timedelta(minutes=5)) == 0
    assert row_counts(session) == before
    assert order.offer_reminded_for == order.offer_expires_at
    assert reminders_per_order(session, "offer_expiring", [order]) == {order.id: 1}
