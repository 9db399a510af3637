"""Stripe, behind one door: the only module that imports ``stripe``.

``StripeGateway`` creates Checkout Sessions for card top-ups, reads what a paid session actually brought in
(the amount and Stripe's processing fee, from the charge's balance transaction) and verifies webhooks. It is
built from the app config: ``STRIPE_SECRET_KEY``, ``STRIPE_WEBHOOK_SECRET``, ``STRIPE_API_BASE`` (the real API,
or a Stripe-compatible server such as the sandbox in ``stripe_server``) and ``STRIPE_PAYMENT_METHODS``.

``expire_checkout_session`` expires a Checkout Session the brand gave up on (the cancel page): once expired,
Stripe refuses to complete it, so no payment can arrive for a top-up cancelled after it.

Invariants: a top-up's Checkout Session is created with the Stripe idempotency key ``topup-<id>``, so retrying
never opens a second session for the same top-up; a webhook is trusted only after its ``Stripe-Signature``
verifies against the webhook secret within the tolerance window; callers get plain values (ints in minor
units, upper-case currency codes, dicts), never ``stripe`` objects.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import stripe
from flask import Flask, current_app

from marketplace.config import parse_payment_methods

DEFAULT_API_BASE = "https://api.stripe.com"
CHECKOUT_ORIGIN = "https://checkout.stripe.com"
LINE_ITEM_NAME = "Canal balance top-up"
WEBHOOK_TOLERANCE_SECONDS = 300
TIMEOUT_SECONDS = 20


class GatewayError(Exception):
    """Stripe could not be reached, or refused the request (nothing was decided on our side)."""


class InvalidWebhook(Exception):
    """A webhook whose signature does not verify (tampered, wrong secret, too old) or that is not an event."""


@dataclass(frozen=True)
class CheckoutSession:
    id: str
    url: str
    amount_total: int
    currency: str
    payment_status: str


@dataclass(frozen=True)
class Payment:
    """What a paid Checkout Session brought in, as Stripe's balance transaction records it."""

    amount: int
    fee: int
    currency: str
    payment_intent: str
    balance_transaction: str


@dataclass(frozen=True)
class WebhookEvent:
    """A verified Stripe event as plain data (``object`` is the event's ``data.object``)."""

    id: str
    type: str
    created: int
    object: dict[str, Any]
    payload: dict[str, Any]


def card_payments_enabled(config: Mapping[str, Any]) -> bool:
    """Card top-ups are offered when Stripe keys are set (real ones, or the running sandbox's)."""
    return bool(config.get("STRIPE_SECRET_KEY") and config.get("STRIPE_WEBHOOK_SECRET"))


def checkout_origin(config: Mapping[str, Any]) -> str | None:
    """The origin of the hosted payment pages brands are sent to (for the CSP ``form-action``)."""
    if not card_payments_enabled(config):
        return None
    base = (config.get("STRIPE_API_BASE") or DEFAULT_API_BASE).rstrip("/")
    if base == DEFAULT_API_BASE:
        return CHECKOUT_ORIGIN
    parts = urlsplit(base)
    return f"{parts.scheme}://{parts.netloc}"


def payment_method_types(config: Mapping[str, Any]) -> list[str]:
    """The Checkout payment method types offered: "card", plus "alipay" / "wechat_pay" when enabled."""
    value = config.get("STRIPE_PAYMENT_METHODS") or ("card",)
    return list(parse_payment_methods(value if isinstance(value, str) else ",".join(value)))


class StripeGateway:
    def __init__(self, secret_key: str, webhook_secret: str, api_base: str = DEFAULT_API_BASE):
        if not secret_key or not webhook_secret:
            raise GatewayError("Stripe is not configured (STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET)")
        self.webhook_secret = webhook_secret
        self.api_base = api_base.rstrip("/")
        self.client = stripe.StripeClient(
            secret_key, base_addresses={"api": self.api_base}, max_network_retries=2,
            http_client=stripe.RequestsClient(timeout=TIMEOUT_SECONDS),
        )

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> StripeGateway:
        return cls(config.get("STRIPE_SECRET_KEY", ""), config.get("STRIPE_WEBHOOK_SECRET", ""),
                   config.get("STRIPE_API_BASE") or DEFAULT_API_BASE)

    # Checkout ------------------------------------------------------------------------------------------

    def create_checkout_session(self, top_up: Any, *, success_url: str, cancel_url: str) -> CheckoutSession:
        """Open the Checkout Session that pays ``top_up`` (idempotent per top-up). :raises GatewayError:"""
        methods = [m for m in (top_up.payment_method_types or "card").split(",") if m]
        ids = {"top_up_id": str(top_up.id), "enterprise_id": str(top_up.enterprise_id)}
        params: dict[str, Any] = {
            "mode": "payment",
            "line_items": [{
                "quantity": 1,
                "price_data": {"currency": top_up.currency.lower(), "unit_amount": top_up.amount_requested,
                               "product_data": {"name": LINE_ITEM_NAME}},
            }],
            "client_reference_id": str(top_up.id),
            "metadata": ids,
            "payment_intent_data": {"metadata": ids},
            "payment_method_types": methods,
            "success_url": success_url,
            "cancel_url": cancel_url,
        }
        if "wechat_pay" in methods:
            params["payment_method_options"] = {"wechat_pay": {"client": "web"}}
        try:
            session = self.client.v1.checkout.sessions.create(
                params=params, options={"idempotency_key": f"topup-{top_up.id}"})
        except stripe.StripeError as error:
            raise GatewayError(f"Stripe refused the Checkout Session: {error.user_message or error}") from error
        return CheckoutSession(id=session.id, url=session.url, amount_total=session.amount_total,
                               currency=session.currency.upper(), payment_status=session.payment_status)

    def expire_checkout_session(self, checkout_session_id: str) -> str:
        """Expire an open Checkout Session so it can no longer be paid; the session's status afterwards.

        "expired": it is expired now (or was already); "complete": it was paid (or is being paid) first, so it
        cannot be expired; "missing": Stripe does not know it (nothing can be paid through it).
        :raises GatewayError: Stripe unreachable, or it refused for another reason.
        """
        try:
            session = self.client.v1.checkout.sessions.expire(checkout_session_id)
            return str(session.status)
        except stripe.InvalidRequestError as error:
            if error.http_status == 404 or error.code == "resource_missing":
                return "missing"
            refusal = error
        except stripe.StripeError as error:
            raise GatewayError(f"Stripe could not expire {checkout_session_id}: {error}") from error
        # Refused: only open sessions can be expired. Ask Stripe what the session is now.
        try:
            status = str(self.client.v1.checkout.sessions.retrieve(checkout_session_id).status)
        except stripe.StripeError as error:
            raise GatewayError(f"Stripe could not tell the status of {checkout_session_id}: {error}") from error
        if status in ("expired", "complete"):
            return status
        raise GatewayError(f"Stripe refused to expire {checkout_session_id} ({status}): {refusal}")

    def payment_of(self, payment_intent_id: str) -> Payment:
        """The amount and processing fee of a paid PaymentIntent, from its charge's balance transaction.

        :raises GatewayError: Stripe unreachable, or the payment has no settled charge yet.
        """
        try:
            intent = self.client.v1.payment_intents.retrieve(
                payment_intent_id, params={"expand": ["latest_charge.balance_transaction"]})
            charge = intent.latest_charge
            if charge is None:
                raise GatewayError(f"PaymentIntent {payment_intent_id} has no charge yet")
            if isinstance(charge, str):
                charge = self.client.v1.charges.retrieve(charge, params={"expand": ["balance_transaction"]})
            txn = charge.balance_transaction
            if txn is None:
                raise GatewayError(f"the charge of {payment_intent_id} has no balance transaction yet")
            if isinstance(txn, str):
                txn = self.client.v1.balance_transactions.retrieve(txn)
        except stripe.StripeError as error:
            raise GatewayError(f"Stripe could not tell what {payment_intent_id} paid: {error}") from error
        return Payment(amount=txn.amount, fee=txn.fee, currency=txn.currency.upper(),
                       payment_intent=intent.id, balance_transaction=txn.id)

    # Webhooks ------------------------------------------------------------------------------------------

    def parse_webhook(self, payload: bytes, signature: str | None) -> WebhookEvent:
        """Verify the ``Stripe-Signature`` of a webhook body and parse the event. :raises InvalidWebhook:"""
        if not signature:
            raise InvalidWebhook("missing Stripe-Signature header")
        try:
            event = stripe.Webhook.construct_event(payload, signature, self.webhook_secret,
                                                   tolerance=WEBHOOK_TOLERANCE_SECONDS)
        except stripe.SignatureVerificationError as error:
            raise InvalidWebhook(f"bad signature: {error.user_message or error}") from error
        except (ValueError, UnicodeDecodeError) as error:
            raise InvalidWebhook(f"not a Stripe event: {error}") from error
        data = event.to_dict()
        obj = (data.get("data") or {}).get("object")
        if not data.get("id") or not data.get("type") or not isinstance(obj, dict):
            raise InvalidWebhook("the event has no id, type or object")
        return WebhookEvent(id=data["id"], type=data["type"], created=int(data.get("created") or 0),
                            object=obj, payload=data)


def gateway(app: Flask | None = None) -> StripeGateway:
    """The app's gateway for its current Stripe config (rebuilt when the config changes). :raises GatewayError:"""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    config = app.config
    key = (config.get("STRIPE_SECRET_KEY"), config.get("STRIPE_WEBHOOK_SECRET"), config.get("STRIPE_API_BASE"))
    cached = app.extensions.get("stripe_gateway")
    if cached is None or cached[0] != key:
        cached = (key, StripeGateway.from_config(config))
        app.extensions["stripe_gateway"] = cached
    return cached[1]
