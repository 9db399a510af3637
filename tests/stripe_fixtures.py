"""The local Stripe-compatible server for tests, and the app configured to use it.

The real ``stripe`` library talks to ``StripeTestServer`` over HTTP through our gateway; nothing of ours or
of the library is patched. ``stripe_app`` points the (session-wide) test app at the server and restores the
Stripe keys afterwards, so other tests still see a site without card payments.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from flask import Flask, appcontext_popped, has_app_context

from marketplace.payments.stripe_server import StripeTestServer

STRIPE_KEYS = ("STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET", "STRIPE_API_BASE", "STRIPE_PAYMENT_METHODS",
               "STRIPE_SANDBOX")


@contextmanager
def configure_stripe(app: Flask, server: StripeTestServer, **overrides) -> Iterator[Flask]:
    """``app`` using ``server`` as its Stripe (real-key mode, not the sandbox) until the block ends."""
    saved = {key: app.config.get(key) for key in STRIPE_KEYS}
    app.config.update(STRIPE_SECRET_KEY=server.secret_key, STRIPE_WEBHOOK_SECRET=server.webhook_secret,
                      STRIPE_API_BASE=server.base_url, STRIPE_PAYMENT_METHODS=("card",), STRIPE_SANDBOX=False)
    app.config.update(overrides)
    try:
        yield app
    finally:
        app.config.update(saved)


@pytest.fixture
def stripe_server() -> Iterator[StripeTestServer]:
    """A fresh server per test (its idempotency keys must not outlive the test's rolled-back top-up ids)."""
    with StripeTestServer() as server:
        yield server


@pytest.fixture
def stripe_app(app, stripe_server) -> Iterator[Flask]:
    with configure_stripe(app, stripe_server) as configured:
        yield configured


@pytest.fixture
def stripe_configured():
    """``configure_stripe`` for tests that configure another app (e.g. one with committed data)."""
    return configure_stripe


def stripe_until_app_context_ends(app: Flask) -> StripeTestServer:
    """Start a server and point ``app`` at it until the outermost app context (the test's) is popped.

    For set-up code that cannot use fixtures (the access matrix's per-row ``setup``): the ``session``
    fixture pushes one app context for the whole test, and its pop stops the server and restores the keys.
    """
    server = StripeTestServer().start()
    keys = configure_stripe(app, server)
    keys.__enter__()

    def restore(sender: Flask, **_: object) -> None:
        if has_app_context():  # a nested context ended; the test's is still running
            return
        appcontext_popped.disconnect(restore, sender=app)
        keys.__exit__(None, None, None)
        server.stop()

    appcontext_popped.connect(restore, sender=app, weak=False)
    return server
