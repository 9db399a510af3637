"""The direct-offer lifecycle end to end through the services, with every balance at each money step."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from marketplace.db import utcnow
from marketplace.errors import InvalidTransition, NotAllowed
from marketplace.ledger import flows
from marketplace.ledger.services import balance
from marketplace.orders import services
from marketplace.orders.models import OrderEvent
from marketplace.orders.services import Actor
from tests.integration.order_world import fresh_work
from tests.ledger_helpers import assert_balances, assert_ledger_sound


def test_offer_to_closed_moves_every_fen(app, session, make_listed_creator, make_funded_enterprise):
    now = utcnow()
    brand = make_funded_enterprise(10_000_00)
    owner = brand.memberships[0].user
    creator = make_listed_creator()
    b, c = Actor("brand", owner), Actor("creator", creator.user)
    wallet = flows.enterprise_available(brand.id)
    fee0, commission0 = balance(session, flows.REVENUE_SERVICE_FEE), balance(session, flows.REVENUE_COMMISSION)

    order = services.send_offer(session, b, brand, creator, title="春季新品测评", content_type="short_video",
                                price=None, brief="Try the serum for a week", now=now)
    escrow = flows.order_escrow(order.id)
    assert (order.price, order.service_fee, order.commission) == (1_000_00, 50_00, 50_00)
    assert order.retention == 190_00  # 20 % of the creator's net 950
    assert_balances(session, {wallet: 10_000_00 - 1_050_00, escrow: 1_050_00})

    services.accept_offer(session, order, c, now=now)
    services.submit_draft(session, order, c, link_url="https://drive.example/draft1", now=now)
    services.request_revision(session, order, b, feedback="Show the bottle in the first 3 seconds", now=now)
    services.submit_draft(session, order, c, link_url="https://drive.example/draft2", now=now)
    services.approve_draft(session, order, b, now=now)
    work = fresh_work(creator, order.accepted_at)  # the creator's next post after accepting the offer
    now = max(now, work.published_at)
    services.publish(session, order, c, work_url=work.url, now=now)
    assert order.auto_confirm_at == now + timedelta(days=7)
    services.confirm(session, order, b, now=now)
    assert order.state == "completed"
    pending = flows.creator_pending(creator.id)
    assert_balances(session, {wallet: 8_950_00, escrow: 190_00, pending: 760_00,
                              flows.REVENUE_SERVICE_FEE: fee0 + 50_00, flows.REVENUE_COMMISSION: commission0 + 50_00})
    with pytest.raises(InvalidTransition):
        services.confirm(session, order, b, now=now)

    later = order.live_until + timedelta(seconds=1)
    assert services.close_live_window(session, order, now=later) is not None
    assert_balances(session, {wallet: 8_950_00, escrow: 0, pending: 950_00,
                              flows.REVENUE_SERVICE_FEE: fee0 + 50_00, flows.REVENUE_COMMISSION: commission0 + 50_00})
    assert (order.paid_to_creator, order.refunded_to_brand) == (950_00, 0)
    assert_ledger_sound(session)
    actions = session.scalars(select(OrderEvent.action).where(OrderEvent.order_id == order.id)
                              .order_by(OrderEvent.id)).all()
    assert actions == ["send_offer", "accept", "submit_draft", "request_revision", "submit_draft", "approve_draft",
                       "publish", "confirm", "close"]


def test_viewer_cannot_confirm(session, make_listed_creator, make_funded_enterprise, make_member):
    brand = make_funded_enterprise()
    viewer = make_member(brand, "viewer")
    creator = make_listed_creator()
    order = services.send_offer(session, Actor("brand", brand.memberships[0].user), brand, creator, title="t",
                                content_type="short_video", price=500_00)
    with pytest.raises(NotAllowed):
        services.withdraw_offer(session, order, Actor("brand", viewer))
