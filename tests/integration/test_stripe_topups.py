"""Card top-ups through Stripe Checkout, end to end with the real ``stripe`` library.

A local Stripe-compatible server (``marketplace.payments.stripe_server``) plays Stripe: our views create the
Checkout Session through the gateway over HTTP, the server "pays" it and produces the events Stripe would send,
and the tests deliver them to ``/webhooks/stripe`` signed with the webhook secret: valid, tampered, replayed,
duplicated, out of order. Nothing of ours, and nothing of the library, is patched. Each money test asserts
every balance the top-up touches and that the ledger stays sound.

Worked example used throughout: ¥1,000.00 paid by card; Stripe's fee is 3.4 % + ¥1 = ¥35.00, so
enterprise available +100,000 fen, platform:cash:stripe +96,500, platform:expense:processing +3,500.
"""

from __future__ import annotations

import re
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from marketplace import create_app
from marketplace.config import ConfigError
from marketplace.db import database
from marketplace.ledger import flows
from marketplace.ledger.models import LedgerTransaction
from marketplace.payments.gateway import StripeGateway
from marketplace.payments.models import StripeEvent, TopUp
from marketplace.payments.stripe_server import StripeTestServer, start_stripe_sandbox, stripe_fee
from tests.conftest import csrf_from
from tests.ledger_helpers import assert_balances, assert_ledger_sound

pytest_plugins = ("tests.stripe_fixtures",)  # the stripe_server and stripe_app fixtures

AMOUNT = 100_000  # ¥1,000.00
FEE = 3_500  # 3.4 % of ¥1,000 + ¥1


# --- helpers ---------------------------------------------------------------------------------------------


@pytest.fixture
def brand(session, make_enterprise, make_member):
    """A verified enterprise and its finance member."""
    enterprise = make_enterprise(state="verified")
    return enterprise, make_member(enterprise, "finance")


def card_url(enterprise) -> str:
    return f"/enterprises/{enterprise.id}/wallet/top-up/card"


def start_card_top_up(client, login_as, enterprise, user, amount: str = "1000"):
    """Sign ``user`` in and POST the card top-up form (with a CSRF token from a page they can see)."""
    login_as(user)
    token = csrf_from(client.get("/settings").get_data(as_text=True))
    return client.post(card_url(enterprise), data={"csrf_token": token, "amount": amount})


def deliver(client, server: StripeTestServer, event: dict, *, timestamp: int | None = None,
            payload: str | None = None, signature: str | None = None):
    """POST ``event`` to our webhook as Stripe would: JSON body, ``Stripe-Signature`` over that exact body."""
    body = server.payload(event) if payload is None else payload
    header = server.sign(body, timestamp) if signature is None else signature
    return client.post("/webhooks/stripe", data=body.encode("utf-8"), content_type="application/json",
                       headers={"Stripe-Signature": header})


@pytest.fixture
def card_top_up(stripe_app, stripe_server, client, login_as, session, brand):
    """A pending ¥1,000 card top-up with its Checkout Session, started through the real view."""
    enterprise, finance = brand
    response = start_card_top_up(client, login_as, enterprise, finance)
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    session.expire_all()
    top_up = session.scalar(select(TopUp).where(TopUp.enterprise_id == enterprise.id))
    assert top_up is not None and top_up.stripe_session_id
    return top_up


def wallet(top_up) -> str:
    return flows.enterprise_available(top_up.enterprise_id)


def credited(session, top_up) -> dict[str, int]:
    return {wallet(top_up): AMOUNT, flows.CASH_STRIPE: AMOUNT - FEE, flows.EXPENSE_PROCESSING: FEE}


NOTHING = {flows.CASH_STRIPE: 0, flows.EXPENSE_PROCESSING: 0}


def ledger_transactions(session, top_up) -> int:
    return session.scalar(select(func.count()).select_from(LedgerTransaction)
                          .where(LedgerTransaction.reference_type == "top_up",
                                 LedgerTransaction.reference_id == top_up.id))


def stored_events(session) -> list[StripeEvent]:
    return list(session.scalars(select(StripeEvent).order_by(StripeEvent.received_at)))


def refreshed(session, top_up) -> TopUp:
    session.expire_all()
    return session.get(TopUp, top_up.id)


# --- starting a card top-up ------------------------------------------------------------------------------


def test_start_redirects_to_a_checkout_session_for_the_top_up(stripe_app, stripe_server, client, login_as, session,
                                                               brand):
    enterprise, finance = brand
    response = start_card_top_up(client, login_as, enterprise, finance, amount="1,000.50")

    assert response.status_code == 303
    match = re.fullmatch(re.escape(stripe_server.base_url) + r"/pay/(cs_test_\w+)", response.location)
    assert match, response.location
    session.expire_all()
    top_up = session.scalar(select(TopUp).where(TopUp.enterprise_id == enterprise.id))
    assert (top_up.method, top_up.state, top_up.amount_requested) == ("card", "pending", 100_050)
    assert top_up.stripe_session_id == match.group(1)
    assert top_up.created_by_id == finance.id

    checkout = stripe_server.sessions[top_up.stripe_session_id]
    status_url = f"http://canal.test/enterprises/{enterprise.id}/wallet/top-ups/{top_up.id}"
    assert checkout["amount_total"] == 100_050 and checkout["currency"] == "cny"
    assert checkout["mode"] == "payment" and checkout["payment_status"] == "unpaid"
    assert checkout["client_reference_id"] == str(top_up.id)
    assert checkout["metadata"] == {"top_up_id": str(top_up.id), "enterprise_id": str(enterprise.id)}
    assert checkout["payment_method_types"] == ["card"]
    assert checkout["line_items_summary"] == [{"name": "Canal balance top-up", "quantity": 1}]
    assert checkout["success_url"] == status_url
    assert checkout["cancel_url"] == status_url + "?cancelled=1"
    # Created with the top-up's Stripe idempotency key: asking again returns the same session.
    assert f"topup-{top_up.id}" in stripe_server.idempotency
    again = StripeGateway.from_config(stripe_app.config).create_checkout_session(
        top_up, success_url=checkout["success_url"], cancel_url=checkout["cancel_url"])
    assert again.id == top_up.stripe_session_id and len(stripe_server.sessions) >= 1
    assert sum(1 for s in stripe_server.sessions.values() if s["client_reference_id"] == str(top_up.id)) == 1


def test_alipay_and_wechat_pay_are_offered_when_enabled(stripe_app, stripe_server, client, login_as, session, brand):
    stripe_app.config["STRIPE_PAYMENT_METHODS"] = "card,alipay,wechat_pay"
    enterprise, finance = brand
    assert start_card_top_up(client, login_as, enterprise, finance).status_code == 303
    session.expire_all()
    top_up = session.scalar(select(TopUp).where(TopUp.enterprise_id == enterprise.id))
    checkout = stripe_server.sessions[top_up.stripe_session_id]
    assert checkout["payment_method_types"] == ["card", "alipay", "wechat_pay"]
    assert checkout["payment_method_options"] == {"wechat_pay": {"client": "web"}}
    assert top_up.payment_method_types == "card,alipay,wechat_pay"


@pytest.mark.parametrize("role", ["manager", "viewer"])
def test_members_without_enterprise_finance_cannot_start(stripe_app, stripe_server, client, login_as, session,
                                                         make_member, brand, role):
    enterprise, _ = brand
    member = make_member(enterprise, role)
    sessions_before = len(stripe_server.sessions)
    response = start_card_top_up(client, login_as, enterprise, member)
    assert response.status_code == 403
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(TopUp)) == 0
    assert len(stripe_server.sessions) == sessions_before


def test_an_unverified_enterprise_cannot_start(stripe_app, stripe_server, client, login_as, session,
                                               make_enterprise):
    owner_enterprise = make_enterprise(state="pending")
    owner = owner_enterprise.memberships[0].user
    sessions_before = len(stripe_server.sessions)
    response = start_card_top_up(client, login_as, owner_enterprise, owner)
    assert response.status_code == 403
    assert "Only verified enterprises can add funds" in response.get_data(as_text=True)
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(TopUp)) == 0
    assert len(stripe_server.sessions) == sessions_before


@pytest.mark.parametrize(("amount", "message"), [
    ("99.99", "The minimum top-up is ¥100."),
    ("12.345", "Enter an amount in yuan, with at most two decimals."),
    ("", "This field is required."),
])
def test_a_bad_amount_is_refused_beside_the_field(stripe_app, stripe_server, client, login_as, session, brand,
                                                  amount, message):
    enterprise, finance = brand
    sessions_before = len(stripe_server.sessions)
    response = start_card_top_up(client, login_as, enterprise, finance, amount=amount)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert re.search(r'class="field-error"[^>]*>[^<]*' + re.escape(message), html), html
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(TopUp)) == 0
    assert len(stripe_server.sessions) == sessions_before


def test_without_stripe_the_card_route_is_404(app, client, login_as, session, brand):
    assert not app.config["STRIPE_SECRET_KEY"] and not app.config["STRIPE_SANDBOX"]
    enterprise, finance = brand
    assert start_card_top_up(client, login_as, enterprise, finance).status_code == 404
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(TopUp)) == 0


def test_stripe_unreachable_when_starting_fails_the_top_up_cleanly(stripe_app, client, login_as, session, brand):
    import socket

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    stripe_app.config["STRIPE_API_BASE"] = f"http://127.0.0.1:{closed}"
    enterprise, finance = brand
    response = start_card_top_up(client, login_as, enterprise, finance)
    assert response.status_code == 503
    assert "nothing was charged" in response.get_data(as_text=True)
    session.expire_all()
    top_up = session.scalar(select(TopUp).where(TopUp.enterprise_id == enterprise.id))
    assert top_up.state == "failed" and top_up.stripe_session_id is None


# --- the webhook: crediting exactly once -----------------------------------------------------------------


def test_a_paid_checkout_credits_the_wallet_once_with_the_fee_booked(stripe_server, client, session, card_top_up):
    [event] = stripe_server.checkout(card_top_up.stripe_session_id, "paid")
    assert event["type"] == "checkout.session.completed" and event["data"]["object"]["payment_status"] == "paid"

    response = deliver(client, stripe_server, event)

    assert response.status_code == 200 and response.json["received"] is True
    top_up = refreshed(session, card_top_up)
    assert (top_up.state, top_up.amount_received, top_up.fee) == ("completed", AMOUNT, FEE)
    assert top_up.stripe_payment_intent == event["data"]["object"]["payment_intent"]
    assert_balances(session, credited(session, top_up))
    assert_ledger_sound(session)
    assert ledger_transactions(session, top_up) == 1
    [stored] = stored_events(session)
    assert stored.id == event["id"] and stored.processed_at is not None
    assert stored.outcome.startswith(f"credited top-up #{top_up.id}: 1000.00 CNY, fee 35.00 CNY")
    # Stripe was asked for the fee through the real library: the PaymentIntent, with the charge expanded.
    assert ("GET", f"/v1/payment_intents/{top_up.stripe_payment_intent}") in stripe_server.requests


def test_the_fee_is_3_4_percent_plus_one_yuan():
    assert stripe_fee(100_000) == 3_500
    assert stripe_fee(10_000) == 440  # ¥100 -> ¥3.40 + ¥1
    assert stripe_fee(100_050) == 3_502  # 3,401.7 rounds to 3,402


def test_the_same_event_delivered_three_times_posts_one_transaction(stripe_server, client, session, card_top_up):
    [event] = stripe_server.checkout(card_top_up.stripe_session_id, "paid")
    responses = [deliver(client, stripe_server, event) for _ in range(3)]
    assert [r.status_code for r in responses] == [200, 200, 200]
    assert [r.json.get("duplicate", False) for r in responses] == [False, True, True]
    top_up = refreshed(session, card_top_up)
    assert ledger_transactions(session, top_up) == 1
    assert len(stored_events(session)) == 1
    assert_balances(session, credited(session, top_up))
    assert_ledger_sound(session)


def test_a_tampered_payload_is_refused_and_nothing_is_stored(stripe_server, client, session, card_top_up):
    [event] = stripe_server.checkout(card_top_up.stripe_session_id, "paid")
    honest = stripe_server.payload(event)
    signature = stripe_server.sign(honest)
    forged = honest.replace(f'"amount_total": {AMOUNT}', '"amount_total": 9999900')
    assert forged != honest

    assert deliver(client, stripe_server, event, payload=forged, signature=signature).status_code == 400
    # Signed with another secret, or not signed at all: refused too.
    wrong_secret = stripe_server.sign(honest, secret="whsec_not_ours")
    assert deliver(client, stripe_server, event, signature=wrong_secret).status_code == 400
    assert client.post("/webhooks/stripe", data=honest, content_type="application/json").status_code == 400

    top_up = refreshed(session, card_top_up)
    assert top_up.state == "pending"
    assert stored_events(session) == []
    assert_balances(session, {wallet(top_up): 0, **NOTHING})


def test_a_replayed_event_with_an_old_timestamp_is_refused(stripe_server, client, session, card_top_up):
    [event] = stripe_server.checkout(card_top_up.stripe_session_id, "paid")
    old = int(time.time()) - 3600  # Stripe's tolerance is 5 minutes
    assert deliver(client, stripe_server, event, timestamp=old).status_code == 400
    top_up = refreshed(session, card_top_up)
    assert top_up.state == "pending" and stored_events(session) == []
    assert_balances(session, {wallet(top_up): 0, **NOTHING})
    # The refusal did not burn the event: Stripe's own (fresh) retry is processed normally.
    assert deliver(client, stripe_server, event).status_code == 200
    assert_balances(session, credited(session, refreshed(session, card_top_up)))


def test_async_success_before_completed_credits_once(stripe_server, client, session, card_top_up):
    completed, succeeded = stripe_server.checkout(card_top_up.stripe_session_id, "later")
    assert completed["data"]["object"]["payment_status"] == "unpaid"
    assert succeeded["type"] == "checkout.session.async_payment_succeeded"

    assert deliver(client, stripe_server, succeeded).status_code == 200
    assert refreshed(session, card_top_up).state == "completed"
    assert deliver(client, stripe_server, completed).status_code == 200

    top_up = refreshed(session, card_top_up)
    assert top_up.state == "completed" and ledger_transactions(session, top_up) == 1
    assert_balances(session, credited(session, top_up))
    assert_ledger_sound(session)
    assert len(stored_events(session)) == 2


def test_completed_unpaid_then_async_success_in_order(stripe_server, client, session, card_top_up):
    completed, succeeded = stripe_server.checkout(card_top_up.stripe_session_id, "later")
    assert deliver(client, stripe_server, completed).status_code == 200
    top_up = refreshed(session, card_top_up)
    assert top_up.state == "pending"
    assert_balances(session, {wallet(top_up): 0, **NOTHING})
    assert deliver(client, stripe_server, succeeded).status_code == 200
    assert_balances(session, credited(session, refreshed(session, card_top_up)))
    assert_ledger_sound(session)


def test_a_failure_after_success_keeps_the_single_credit(stripe_server, client, session, card_top_up):
    completed, succeeded = stripe_server.checkout(card_top_up.stripe_session_id, "later")
    failed = stripe_server.event("checkout.session.async_payment_failed", card_top_up.stripe_session_id,
                                 payment_status="unpaid")
    for event in (succeeded, failed, completed):
        assert deliver(client, stripe_server, event).status_code == 200

    top_up = refreshed(session, card_top_up)
    assert top_up.state == "completed" and ledger_transactions(session, top_up) == 1
    assert session.scalar(select(func.count()).select_from(LedgerTransaction)
                          .where(LedgerTransaction.reverses_id.is_not(None))) == 0
    assert_balances(session, credited(session, top_up))
    assert_ledger_sound(session)
    outcome = session.get(StripeEvent, failed["id"]).outcome
    assert "already credited" in outcome


def test_an_async_failure_fails_the_top_up_and_credits_nothing(stripe_server, client, session, login_as,
                                                               card_top_up, brand):
    completed, failed = stripe_server.checkout(card_top_up.stripe_session_id, "fail")
    assert failed["type"] == "checkout.session.async_payment_failed"
    assert deliver(client, stripe_server, completed).status_code == 200
    assert refreshed(session, card_top_up).state == "pending"
    assert deliver(client, stripe_server, failed).status_code == 200

    top_up = refreshed(session, card_top_up)
    assert top_up.state == "failed" and top_up.amount_received is None
    assert ledger_transactions(session, top_up) == 0
    assert_balances(session, {wallet(top_up): 0, **NOTHING})
    page = client.get(f"/enterprises/{top_up.enterprise_id}/wallet/top-ups/{top_up.id}")
    assert page.status_code == 200 and "The payment failed" in page.get_data(as_text=True)


def test_two_event_ids_saying_paid_for_one_session_credit_once(stripe_server, client, session, card_top_up):
    [first] = stripe_server.checkout(card_top_up.stripe_session_id, "paid")
    second = stripe_server.event("checkout.session.completed", card_top_up.stripe_session_id)
    assert second["id"] != first["id"] and second["data"]["object"]["payment_status"] == "paid"
    assert deliver(client, stripe_server, first).status_code == 200
    assert deliver(client, stripe_server, second).status_code == 200

    top_up = refreshed(session, card_top_up)
    assert ledger_transactions(session, top_up) == 1
    assert_balances(session, credited(session, top_up))
    assert_ledger_sound(session)
    assert {e.id for e in stored_events(session)} == {first["id"], second["id"]}


def test_an_event_for_an_unknown_session_is_stored_and_ignored(stripe_app, stripe_server, client, session):
    unknown = {"id": "cs_test_not_ours", "object": "checkout.session", "amount_total": 50_000, "currency": "cny",
               "payment_status": "paid", "status": "complete", "payment_intent": "pi_test_not_ours",
               "metadata": {}}
    event = stripe_server.event("checkout.session.completed", unknown)
    response = deliver(client, stripe_server, event)
    assert response.status_code == 200
    [stored] = stored_events(session)
    assert stored.id == event["id"] and stored.outcome.startswith("ignored: no card top-up for session")
    assert session.scalar(select(func.count()).select_from(LedgerTransaction)) == 0


def test_other_event_types_are_stored_and_ignored(stripe_server, client, session, card_top_up):
    # (checkout.session.expired is used since cancelling expires the session: test_card_top_up_cancel.py)
    event = stripe_server.event("payment_intent.created", card_top_up.stripe_session_id)
    assert deliver(client, stripe_server, event).status_code == 200
    assert refreshed(session, card_top_up).state == "pending"
    assert stored_events(session)[0].outcome == "ignored: payment_intent.created is not used"


def test_metadata_cannot_redirect_a_payment_to_another_top_up(stripe_server, client, session, card_top_up,
                                                              make_enterprise):
    """A paid session is matched by its own id; metadata naming another enterprise's top-up is not enough."""
    other = make_enterprise(state="verified")
    victim = TopUp(enterprise_id=other.id, method="card", amount_requested=AMOUNT)
    session.add(victim)
    session.flush()
    foreign = {"id": "cs_test_foreign", "object": "checkout.session", "amount_total": AMOUNT, "currency": "cny",
               "payment_status": "paid", "payment_intent": "pi_test_foreign",
               "metadata": {"top_up_id": str(victim.id), "enterprise_id": str(card_top_up.enterprise_id)}}
    assert deliver(client, stripe_server, stripe_server.event("checkout.session.completed", foreign)).status_code == 200
    session.expire_all()
    assert session.get(TopUp, victim.id).state == "pending"
    assert session.scalar(select(func.count()).select_from(LedgerTransaction)) == 0


def test_stripe_unreachable_during_the_webhook_asks_for_a_retry(stripe_app, stripe_server, client, session,
                                                                 card_top_up):
    [event] = stripe_server.checkout(card_top_up.stripe_session_id, "paid")
    real_base = stripe_app.config["STRIPE_API_BASE"]
    with StripeTestServer(secret_key=stripe_server.secret_key) as empty:  # reachable, but knows no payment
        stripe_app.config["STRIPE_API_BASE"] = empty.base_url
        assert deliver(client, stripe_server, event).status_code == 503
    assert stored_events(session) == [] and refreshed(session, card_top_up).state == "pending"
    stripe_app.config["STRIPE_API_BASE"] = real_base
    assert deliver(client, stripe_server, event).status_code == 200  # Stripe's retry
    assert_balances(session, credited(session, refreshed(session, card_top_up)))


# --- the return page -------------------------------------------------------------------------------------


def status_url(top_up) -> str:
    return f"/enterprises/{top_up.enterprise_id}/wallet/top-ups/{top_up.id}"


def test_the_return_page_shows_pending_then_completed_with_amount_and_fee(stripe_server, client, session,
                                                                           card_top_up):
    pending = client.get(status_url(card_top_up)).get_data(as_text=True)
    assert "We're waiting for the payment confirmation" in pending
    assert "¥1,000.00" in pending and f'href="/enterprises/{card_top_up.enterprise_id}/wallet"' in pending

    [event] = stripe_server.checkout(card_top_up.stripe_session_id, "paid")
    deliver(client, stripe_server, event)
    done = client.get(status_url(card_top_up)).get_data(as_text=True)
    assert "Top-up completed" in done
    assert re.search(r'data-testid="top-up-credited">(CN)?¥1,000.00<', done)
    assert re.search(r'data-testid="top-up-fee">(CN)?¥35.00 ', done)


def test_coming_back_from_cancel_offers_a_cancel_button_and_get_changes_nothing(stripe_server, client, session,
                                                                                card_top_up):
    response = client.get(status_url(card_top_up) + "?cancelled=1")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "You left the payment page without paying" in html
    assert refreshed(session, card_top_up).state == "pending"  # a GET never cancels
    action = f"/enterprises/{card_top_up.enterprise_id}/wallet/top-ups/{card_top_up.id}/cancel"
    assert f'action="{action}"' in html
    assert client.post(action, data={"csrf_token": csrf_from(html)}).status_code == 302
    assert refreshed(session, card_top_up).state == "cancelled"
    assert "This top-up was cancelled" in client.get(status_url(card_top_up)).get_data(as_text=True)


def test_the_return_page_is_for_enterprise_finance_of_that_enterprise_only(client, session, login_as, make_member,
                                                                           make_enterprise, card_top_up):
    enterprise = session.get(TopUp, card_top_up.id).enterprise
    login_as(make_member(enterprise, "manager"))
    assert client.get(status_url(card_top_up)).status_code == 403
    other = make_enterprise(state="verified")
    login_as(other.memberships[0].user)
    assert client.get(status_url(card_top_up)).status_code == 403
    # Another enterprise's top-up id under one's own enterprise URL is not found.
    assert client.get(f"/enterprises/{other.id}/wallet/top-ups/{card_top_up.id}").status_code == 404


# --- the sandbox -----------------------------------------------------------------------------------------


def _app(tmp_root: Path, env: dict[str, str], **config):
    return create_app({"ENV": {"SECRET_KEY": "s" * 40, "DATABASE_URL": f"sqlite:///{tmp_root / 'cfg.db'}",
                               **env}, "INSTANCE_PATH": str(tmp_root / "instance-cfg"), **config})


def test_the_sandbox_is_refused_in_production(tmp_root):
    with pytest.raises(ConfigError, match="STRIPE_SANDBOX"):
        _app(tmp_root, {"CANAL_ENV": "production", "STRIPE_SANDBOX": "1"})
    with pytest.raises(ConfigError, match="STRIPE_SANDBOX"):
        _app(tmp_root, {"CANAL_ENV": "production"}, STRIPE_SANDBOX=True)
    production = _app(tmp_root, {"CANAL_ENV": "production"})
    assert production.config["STRIPE_SANDBOX"] is False
    assert start_stripe_sandbox(production) is None


def test_the_sandbox_defaults(tmp_root):
    assert _app(tmp_root, {"CANAL_ENV": "development"}).config["STRIPE_SANDBOX"] is True
    assert _app(tmp_root, {"CANAL_ENV": "test"}).config["STRIPE_SANDBOX"] is False
    with_keys = _app(tmp_root, {"CANAL_ENV": "development", "STRIPE_SECRET_KEY": "sk_test_x",
                                "STRIPE_WEBHOOK_SECRET": "whsec_x"})
    assert with_keys.config["STRIPE_SANDBOX"] is False
    assert start_stripe_sandbox(with_keys) is None
    with pytest.raises(ConfigError, match="STRIPE_PAYMENT_METHODS"):
        _app(tmp_root, {"CANAL_ENV": "test", "STRIPE_PAYMENT_METHODS": "card,paypal"})
    methods = _app(tmp_root, {"CANAL_ENV": "test", "STRIPE_PAYMENT_METHODS": "wechat_pay alipay"})
    assert methods.config["STRIPE_PAYMENT_METHODS"] == ("card", "alipay", "wechat_pay")


def test_the_sandbox_starts_with_its_own_keys_and_is_marked_on_the_pages(app, client, login_as, session, brand):
    enterprise, finance = brand
    saved = {key: app.config[key] for key in ("STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET", "STRIPE_API_BASE",
                                              "STRIPE_SANDBOX")}
    app.config["STRIPE_SANDBOX"] = True
    server = start_stripe_sandbox(app)
    try:
        assert server is not None and app.extensions["stripe_sandbox"] is server
        assert app.config["STRIPE_API_BASE"] == server.base_url
        assert app.config["STRIPE_SECRET_KEY"].startswith("sk_test_sandbox_")
        assert app.config["STRIPE_WEBHOOK_SECRET"] == server.webhook_secret
        assert server.webhook_url == "http://canal.test/webhooks/stripe"
        response = start_card_top_up(client, login_as, enterprise, finance)
        assert response.status_code == 303 and response.location.startswith(server.base_url + "/pay/cs_test_")
        # The card page is marked, and its CSP lets the form go on to the sandbox's pay page.
        top_up = session.scalar(select(TopUp).where(TopUp.enterprise_id == enterprise.id))
        page = client.get(status_url(top_up))
        assert "Stripe sandbox — no real money" in page.get_data(as_text=True)
        assert f"form-action 'self' {server.base_url};" in page.headers["Content-Security-Policy"]
    finally:
        app.extensions.pop("stripe_sandbox", None)
        app.config.update(saved)
        if server:
            server.stop()


def test_the_sandbox_pay_page_delivers_signed_webhooks_and_returns_to_canal(stripe_server):
    """The hosted pay page over HTTP: Pay -> a signed completed(paid) to the webhook URL -> 303 to success."""
    import http.server
    import urllib.request

    from marketplace.payments.gateway import StripeGateway

    received: list[tuple[bytes, str]] = []

    class Hook(http.server.BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server API
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((body, self.headers["Stripe-Signature"]))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    hook = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=hook.serve_forever, daemon=True).start()
    try:
        with StripeTestServer(webhook_url=f"http://127.0.0.1:{hook.server_port}/webhooks/stripe") as server:
            gateway = StripeGateway(server.secret_key, server.webhook_secret, server.base_url)
            top_up = TopUp(id=42, enterprise_id=7, currency="CNY", amount_requested=AMOUNT,
                           payment_method_types="card")
            checkout = gateway.create_checkout_session(top_up, success_url="http://canal.test/done",
                                                       cancel_url="http://canal.test/back")
            page = urllib.request.urlopen(checkout.url).read().decode()
            assert "¥1,000.00" in page and "Stripe sandbox — no real money" in page
            assert all(f">{label}</button>" in page for label in ("Pay", "Pay later", "Fail", "Cancel"))

            class NoRedirect(urllib.request.HTTPRedirectHandler):
                def redirect_request(self, *args, **kwargs):
                    return None

            opener = urllib.request.build_opener(NoRedirect)
            with pytest.raises(urllib.error.HTTPError) as cancel:
                opener.open(urllib.request.Request(checkout.url + "/cancel", data=b"", method="POST"))
            assert (cancel.value.code, cancel.value.headers["Location"]) == (303, "http://canal.test/back")
            with pytest.raises(urllib.error.HTTPError) as paid:
                opener.open(urllib.request.Request(checkout.url + "/paid", data=b"", method="POST"))
            assert (paid.value.code, paid.value.headers["Location"]) == (303, "http://canal.test/done")

            [(body, signature)] = received
            event = gateway.parse_webhook(body, signature)  # verifies with the real library
            assert event.type == "checkout.session.completed" and event.object["payment_status"] == "paid"
            payment = gateway.payment_of(event.object["payment_intent"])
            assert (payment.amount, payment.fee, payment.currency) == (AMOUNT, FEE, "CNY")
            assert server.deliveries == [(event.id, event.type, 200)]
    finally:
        hook.shutdown()


# --- concurrency: deliveries racing each other, on committed data ----------------------------------------


@pytest.fixture(scope="module")
def committed_app(tmp_root):
    """An app on a database of its own where requests really commit (no rolled-back test transaction)."""
    from tests.conftest import build_app, create_test_database

    tmp = tmp_root / "stripe-concurrency"
    tmp.mkdir(exist_ok=True)
    app = build_app(create_test_database(tmp_root, "stripe_concurrency"), tmp)
    yield app
    database(app).engine.dispose()


_serial = {"n": 0}


def _committed_top_up(app, server: StripeTestServer) -> tuple[int, str]:
    """A verified enterprise with a pending card top-up and its Checkout Session, committed."""
    from marketplace.accounts.services import create_user
    from marketplace.enterprises import services as enterprise_services
    from marketplace.files.services import store_bytes
    from marketplace.payments.card_services import attach_checkout_session
    from marketplace.payments.services import start_card_top_up as open_top_up
    from marketplace.seed import licence_png
    from tests.conftest import PASSWORD, valid_uscc

    _serial["n"] += 1
    n = _serial["n"]
    with app.app_context():
        db = database(app).write_session_factory()
        owner = create_user(db, email=f"race{n}@example.com", password=PASSWORD, display_name="Race",
                            signup_kind="brand", verified=True)
        reviewer = create_user(db, email=f"race-reviewer{n}@example.com", password=PASSWORD, display_name="R",
                               signup_kind="brand", verified=True, staff_role="reviewer")
        uscc = valid_uscc(900_000 + n)
        enterprise = enterprise_services.create_enterprise(db, owner, enterprise_services.EnterpriseDetails(
            legal_name=f"并发测试{n}有限公司", display_name=f"Race {n}", uscc=uscc, contact_name="C",
            contact_phone="+86 21 5555 0000", contact_email=owner.email, invoice_title="", tax_number=""))
        enterprise.licence_file_id = store_bytes(db, licence_png("Race", uscc), "image/png", "licence.png",
                                                 owner.id).id
        enterprise_services.submit_for_verification(db, owner, enterprise)
        enterprise_services.approve_enterprise(db, reviewer, enterprise)
        top_up = open_top_up(db, owner, enterprise, AMOUNT, ["card"])
        db.commit()
        checkout = StripeGateway(server.secret_key, server.webhook_secret, server.base_url).create_checkout_session(
            top_up, success_url="http://canal.test/s", cancel_url="http://canal.test/c")
        attach_checkout_session(db, top_up, checkout.id)
        db.commit()
        result = (top_up.id, checkout.id)
        db.close()
    return result


def _race(app, server, events: list[dict]) -> list[int]:
    barrier = threading.Barrier(len(events))
    statuses: list[int] = []

    def send(event):
        client = app.test_client()
        body = server.payload(event)
        barrier.wait()
        response = client.post("/webhooks/stripe", data=body, content_type="application/json",
                               headers={"Stripe-Signature": server.sign(body)})
        statuses.append(response.status_code)

    threads = [threading.Thread(target=send, args=(event,)) for event in events]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return statuses


def _committed_state(app, top_up_id: int) -> tuple[str, int, int]:
    """The top-up's state, its ledger transactions and the enterprise's available balance, as committed."""
    from marketplace.ledger.services import balance

    with app.app_context():
        db = database(app).session_factory()
        top_up = db.get(TopUp, top_up_id)
        txns = db.scalar(select(func.count()).select_from(LedgerTransaction)
                         .where(LedgerTransaction.idempotency_key == f"topup:{top_up_id}"))
        result = (top_up.state, txns, balance(db, flows.enterprise_available(top_up.enterprise_id)))
        db.close()
    return result


def _stored(app, event_ids: list[str]) -> int:
    with app.app_context():
        db = database(app).session_factory()
        count = db.scalar(select(func.count()).select_from(StripeEvent).where(StripeEvent.id.in_(event_ids)))
        db.close()
    return count


def test_concurrent_deliveries_of_one_event_process_it_once(committed_app, stripe_server,
                                                            stripe_configured):
    with stripe_configured(committed_app, stripe_server):
        top_up_id, session_id = _committed_top_up(committed_app, stripe_server)
        [event] = stripe_server.checkout(session_id, "paid")
        statuses = _race(committed_app, stripe_server, [event] * 8)
    assert statuses == [200] * 8
    assert _committed_state(committed_app, top_up_id) == ("completed", 1, AMOUNT)
    assert _stored(committed_app, [event["id"]]) == 1


def test_concurrent_different_events_saying_paid_credit_once(committed_app, stripe_server,
                                                             stripe_configured):
    with stripe_configured(committed_app, stripe_server):
        top_up_id, session_id = _committed_top_up(committed_app, stripe_server)
        completed, succeeded = stripe_server.checkout(session_id, "later")
        paid_again = [stripe_server.event("checkout.session.completed", session_id) for _ in range(4)]
        events = [completed, succeeded, *paid_again]
        statuses = _race(committed_app, stripe_server, events)
    assert statuses == [200] * 6
    assert _committed_state(committed_app, top_up_id) == ("completed", 1, AMOUNT)
    assert _stored(committed_app, [e["id"] for e in events]) == 6
