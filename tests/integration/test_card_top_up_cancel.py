# ruff: noqa: F811 - the fixtures imported from test_stripe_topups are requested by name
"""Cancelling a card top-up expires its Stripe Checkout Session first, through the real ``stripe`` library and the
local Stripe test server (nothing of ours is patched).

Once expired, Stripe refuses to complete the session (the pay page and ``checkout()`` refuse it), so no payment
can arrive for the cancelled top-up; the ``checkout.session.expired`` event changes nothing more, however often
it is delivered. A session that was paid first cannot be expired: the top-up stays pending (409) and the payment
is credited once. Worked example: ¥1,000 by card (fee ¥35), as in test_stripe_topups.
"""

from __future__ import annotations

import socket
import urllib.error
import urllib.request

import pytest
from sqlalchemy import select

from marketplace.payments.models import StripeEvent
from marketplace.payments.stripe_server import StripeApiError
from tests.conftest import csrf_from
from tests.integration.test_stripe_topups import (  # noqa: F401 - fixtures
    NOTHING,
    brand,
    card_top_up,
    credited,
    deliver,
    ledger_transactions,
    refreshed,
    status_url,
    wallet,
)
from tests.ledger_helpers import assert_balances, assert_ledger_sound

pytest_plugins = ("tests.stripe_fixtures",)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def cancel(client, top_up):
    """The brand's "Cancel this top-up" button on the page Stripe's cancel link returns to."""
    page = client.get(status_url(top_up) + "?cancelled=1").get_data(as_text=True)
    return client.post(f"/enterprises/{top_up.enterprise_id}/wallet/top-ups/{top_up.id}/cancel",
                       data={"csrf_token": csrf_from(page)})


def nothing_moved(session, top_up) -> None:
    assert_balances(session, {wallet(top_up): 0, **NOTHING})
    assert ledger_transactions(session, top_up) == 0
    assert_ledger_sound(session)


def test_cancelling_expires_the_checkout_session_and_stripe_then_refuses_to_complete_it(stripe_server, client,
                                                                                        session, card_top_up):
    session_id = card_top_up.stripe_session_id
    response = cancel(client, card_top_up)

    assert response.status_code == 302
    assert ("POST", f"/v1/checkout/sessions/{session_id}/expire") in stripe_server.requests
    assert stripe_server.sessions[session_id]["status"] == "expired"
    top_up = refreshed(session, card_top_up)
    assert (top_up.state, top_up.note) == ("cancelled", "Cancelled by the enterprise")
    assert "This top-up was cancelled" in client.get(status_url(top_up)).get_data(as_text=True)

    # The brand goes back to the still-open tab and presses Pay: Stripe refuses an expired session.
    with pytest.raises(StripeApiError, match="expired"):
        stripe_server.checkout(session_id, "paid")
    deliveries_before = list(stripe_server.deliveries)
    request = urllib.request.Request(f"{stripe_server.base_url}/pay/{session_id}/paid", data=b"", method="POST")
    with pytest.raises(urllib.error.HTTPError) as redirect:  # the hosted pay page's Pay button, over HTTP
        urllib.request.build_opener(_NoRedirect).open(request, timeout=10)
    assert redirect.value.code == 303
    assert stripe_server.sessions[session_id]["payment_status"] == "unpaid"
    assert stripe_server.sessions[session_id]["payment_intent"] is None
    assert stripe_server.deliveries == deliveries_before
    nothing_moved(session, top_up)


def test_the_expired_event_changes_nothing_more_however_often_it_arrives(stripe_server, client, session,
                                                                         card_top_up):
    assert cancel(client, card_top_up).status_code == 302
    event = stripe_server.event("checkout.session.expired", card_top_up.stripe_session_id)
    first, again = deliver(client, stripe_server, event), deliver(client, stripe_server, event)
    assert first.status_code == again.status_code == 200
    assert first.json["outcome"] == f"no change: top-up #{card_top_up.id} is cancelled"
    assert again.json["duplicate"] is True
    assert refreshed(session, card_top_up).state == "cancelled"
    nothing_moved(session, card_top_up)


def test_stripes_own_expiry_cancels_a_pending_top_up_once(stripe_server, client, session, card_top_up):
    event = stripe_server.expire(card_top_up.stripe_session_id)  # the 24-hour expiry, at Stripe
    responses = [deliver(client, stripe_server, event) for _ in range(2)]
    assert [r.status_code for r in responses] == [200, 200]
    assert responses[0].json["outcome"] == f"top-up #{card_top_up.id} cancelled: its Checkout Session expired"
    top_up = refreshed(session, card_top_up)
    assert (top_up.state, top_up.note) == ("cancelled", "The payment page expired at Stripe.")
    session.expire_all()
    assert [e.type for e in session.scalars(select(StripeEvent))] == ["checkout.session.expired"]
    # Cancelling it again is refused (no longer pending), without asking Stripe.
    calls = len(stripe_server.requests)
    response = cancel(client, top_up)
    assert len(stripe_server.requests) == calls
    assert response.status_code == 409 and "This top-up is no longer pending." in response.get_data(as_text=True)
    nothing_moved(session, top_up)


def test_a_session_paid_first_cannot_be_cancelled_and_is_credited_once(stripe_server, client, session,
                                                                       card_top_up):
    [event] = stripe_server.checkout(card_top_up.stripe_session_id, "paid")  # paid, webhook not yet arrived

    response = cancel(client, card_top_up)

    assert response.status_code == 409
    assert "This payment already went through at Stripe" in response.get_data(as_text=True)
    assert stripe_server.sessions[card_top_up.stripe_session_id]["status"] == "complete"
    assert refreshed(session, card_top_up).state == "pending"
    for _ in range(2):
        assert deliver(client, stripe_server, event).status_code == 200
    top_up = refreshed(session, card_top_up)
    assert top_up.state == "completed" and ledger_transactions(session, top_up) == 1
    assert_balances(session, credited(session, top_up))
    assert_ledger_sound(session)


def test_stripe_unreachable_keeps_the_top_up_open(stripe_app, stripe_server, client, session, card_top_up):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    real_base = stripe_app.config["STRIPE_API_BASE"]
    stripe_app.config["STRIPE_API_BASE"] = f"http://127.0.0.1:{closed}"
    response = cancel(client, card_top_up)
    stripe_app.config["STRIPE_API_BASE"] = real_base

    assert response.status_code == 503
    assert "the top-up is still open" in response.get_data(as_text=True)
    assert refreshed(session, card_top_up).state == "pending"
    assert stripe_server.sessions[card_top_up.stripe_session_id]["status"] == "open"
    assert cancel(client, card_top_up).status_code == 302  # tried again once Stripe is back
    assert refreshed(session, card_top_up).state == "cancelled"


def test_the_sandbox_delivers_the_expired_event_after_answering(stripe_app, stripe_server, session, card_top_up):
    """With a webhook URL (the sandbox), expiring through the API also delivers ``checkout.session.expired``."""
    import threading
    import time
    from wsgiref.simple_server import WSGIRequestHandler, make_server

    received: list[str] = []

    def hook(environ, start_response):
        received.append(environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0)).decode())
        start_response("200 OK", [("Content-Type", "application/json")])
        return [b"{}"]

    class Quiet(WSGIRequestHandler):
        def log_message(self, *args):
            pass

    server = make_server("127.0.0.1", 0, hook, handler_class=Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        stripe_server.webhook_url = f"http://127.0.0.1:{server.server_port}/"
        from marketplace.payments.gateway import gateway

        assert gateway(stripe_app).expire_checkout_session(card_top_up.stripe_session_id) == "expired"
        deadline = time.monotonic() + 10
        while not received and time.monotonic() < deadline:
            time.sleep(0.02)
        assert len(received) == 1 and '"checkout.session.expired"' in received[0]
        # Expiring again: Stripe refuses, and the gateway reads that it is expired already.
        assert gateway(stripe_app).expire_checkout_session(card_top_up.stripe_session_id) == "expired"
        assert gateway(stripe_app).expire_checkout_session("cs_test_unknown") == "missing"
    finally:
        server.shutdown()
        thread.join(timeout=5)
