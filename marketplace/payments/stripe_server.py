"""A small local Stripe-compatible server: the tests' Stripe and the demo's "Stripe sandbox".

It implements exactly what ``gateway.StripeGateway`` calls, shaped like Stripe's API (form-encoded requests,
``Authorization: Bearer <secret key>``, JSON objects with ``object`` fields and ``cs_test_`` / ``pi_test_`` /
``ch_test_`` / ``txn_test_`` ids, Stripe-style errors):

- ``POST /v1/checkout/sessions`` (honours ``Idempotency-Key``: the same key returns the same session; the same
  key with other parameters is refused, as Stripe does), ``GET /v1/checkout/sessions/{id}``;
- ``POST /v1/checkout/sessions/{id}/expire``: an open session becomes "expired" (and ``checkout.session.expired``
  is delivered, in the background, when a webhook URL is set); any other status is refused with a 400 as Stripe
  does. An expired session can never be completed: ``checkout()`` and the pay page refuse it;
- ``GET /v1/payment_intents/{id}`` (with ``expand[]``), ``GET /v1/charges/{id}``,
  ``GET /v1/balance_transactions/{id}``.

A session's ``url`` is the server's own hosted pay page ``/pay/{id}``: "Pay" (a card: paid at once,
``checkout.session.completed`` with payment_status "paid"), "Pay later" (an asynchronous method: completed
"unpaid", then ``checkout.session.async_payment_succeeded``), "Fail" (completed "unpaid", then
``…async_payment_failed``) and "Cancel" (back to the cancel_url). Stripe's fee (3.4 % + ¥1, rounded half up)
is recorded in the charge's balance transaction. Events are POSTed to ``webhook_url`` signed exactly as Stripe
signs them (``Stripe-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "t.payload" with the webhook secret>``),
then the browser is sent to the success_url.

Tests drive the same state machine without a browser: ``checkout()`` pays a session and returns the events it
produced (each a snapshot of the session at that moment), ``event()`` builds any event, ``sign()`` signs any
payload (with any timestamp or secret), ``deliver()`` posts one, so they can send tampered, replayed,
duplicated or out-of-order deliveries.

State lives in memory, guarded by one lock; the server runs in a daemon thread on 127.0.0.1 and a free port.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import html
import json
import re
import secrets
import threading
import time
import urllib.error
import urllib.request
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

API_VERSION = "2026-10-28.endive"
PAYMENT_METHOD_TYPES = ("card", "alipay", "wechat_pay")
OUTCOMES = ("paid", "later", "fail")
SANDBOX_ASYNC_DELAY_SECONDS = 2.0


def stripe_fee(amount: int) -> int:
    """Stripe's fee in this sandbox: 3.4 % of the amount (rounded half up to the fen) plus ¥1."""
    return (amount * 34 + 500) // 1000 + 100


def signature_header(payload: str | bytes, secret: str, timestamp: int | None = None) -> str:
    """The ``Stripe-Signature`` header Stripe would send for ``payload`` (``t=…,v1=…``)."""
    body = payload.decode("utf-8") if isinstance(payload, bytes) else payload
    stamp = int(time.time()) if timestamp is None else int(timestamp)
    digest = hmac.new(secret.encode("utf-8"), f"{stamp}.{body}".encode(), hashlib.sha256).hexdigest()
    return f"t={stamp},v1={digest}"


def decode_form(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Stripe's form encoding (``a[b][0][c]=v``) back into nested dicts and lists."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        parts = re.findall(r"[^\[\]]+", key)
        if not parts:
            continue
        node = root
        for part in parts[:-1]:
            child = node.get(part)
            if not isinstance(child, dict):
                child = node[part] = {}
            node = child
        node[parts[-1]] = value
    return _listify(root)


def _listify(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    items = {k: _listify(v) for k, v in node.items()}
    if items and all(k.isdigit() for k in items):
        return [items[k] for k in sorted(items, key=int)]
    return items


class StripeApiError(Exception):
    def __init__(self, status: int, message: str, type_: str = "invalid_request_error", code: str | None = None,
                 param: str | None = None):
        super().__init__(message)
        self.status, self.message, self.type, self.code, self.param = status, message, type_, code, param

    def response(self) -> Response:
        error = {"type": self.type, "message": self.message}
        if self.code:
            error["code"] = self.code
        if self.param:
            error["param"] = self.param
        return _json({"error": error}, self.status)


def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(data), status=status, mimetype="application/json", headers=headers or {})


def _int(value: Any, param: str) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError) as exc:
        raise StripeApiError(400, f"Invalid integer: {value}", param=param) from exc
    return number


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args: Any, **kwargs: Any) -> None:  # the app's log is enough
        pass


class StripeTestServer:
    """A Stripe-compatible API and hosted pay page, in a thread. Use as a context manager or start()/stop()."""

    def __init__(self, secret_key: str | None = None, webhook_secret: str | None = None,
                 webhook_url: str | None = None, async_delay: float = 0.0, host: str = "127.0.0.1",
                 port: int = 0):
        self.secret_key = secret_key or "sk_test_" + secrets.token_hex(12)
        self.webhook_secret = webhook_secret or "whsec_" + secrets.token_hex(16)
        self.webhook_url = webhook_url
        self.async_delay = async_delay
        self.host, self.port = host, port
        self.sessions: dict[str, dict[str, Any]] = {}
        self.payment_intents: dict[str, dict[str, Any]] = {}
        self.charges: dict[str, dict[str, Any]] = {}
        self.balance_transactions: dict[str, dict[str, Any]] = {}
        self.idempotency: dict[str, tuple[str, dict[str, Any]]] = {}
        self.requests: list[tuple[str, str]] = []  # (method, path) of every API call, for tests
        self.deliveries: list[tuple[str, str, int]] = []  # (event id, type, HTTP status) of every webhook sent
        self._lock = threading.RLock()
        self._server: Any = None
        self._thread: threading.Thread | None = None

    # lifecycle -----------------------------------------------------------------------------------------

    def start(self) -> StripeTestServer:
        self._server = make_server(self.host, self.port, self._wsgi, threaded=True, request_handler=_QuietHandler)
        self.port = self._server.server_port
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="stripe-test-server", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> StripeTestServer:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    # ids -----------------------------------------------------------------------------------------------

    @staticmethod
    def new_id(prefix: str) -> str:
        return f"{prefix}_test_{secrets.token_hex(12)}"

    # Checkout Sessions ---------------------------------------------------------------------------------

    def create_session(self, params: dict[str, Any]) -> dict[str, Any]:
        """A Checkout Session from create parameters (validated like Stripe does the ones we use)."""
        if params.get("mode") != "payment":
            raise StripeApiError(400, "This sandbox supports mode=payment only.", param="mode")
        for url_param in ("success_url", "cancel_url"):
            if not str(params.get(url_param, "")).startswith(("http://", "https://")):
                raise StripeApiError(400, f"Not a valid URL: {url_param}", param=url_param)
        items = params.get("line_items")
        if not isinstance(items, list) or not items:
            raise StripeApiError(400, "Missing required param: line_items.", param="line_items")
        currency, total = None, 0
        for index, item in enumerate(items):
            price = item.get("price_data") or {}
            item_currency = str(price.get("currency", "")).lower()
            if not item_currency or (currency and item_currency != currency):
                raise StripeApiError(400, "All line items need the same currency.",
                                     param=f"line_items[{index}][price_data][currency]")
            currency = item_currency
            unit = _int(price.get("unit_amount"), f"line_items[{index}][price_data][unit_amount]")
            quantity = _int(item.get("quantity", 1), f"line_items[{index}][quantity]")
            if unit <= 0 or quantity <= 0:
                raise StripeApiError(400, "Amounts must be positive.", param=f"line_items[{index}]")
            total += unit * quantity
        methods = params.get("payment_method_types") or ["card"]
        if not isinstance(methods, list) or any(m not in PAYMENT_METHOD_TYPES for m in methods):
            raise StripeApiError(400, f"Invalid payment_method_types: {methods}", param="payment_method_types")
        options = params.get("payment_method_options") or {}
        if "wechat_pay" in methods and (options.get("wechat_pay") or {}).get("client") not in ("web", "mobile",
                                                                                                "android", "ios"):
            raise StripeApiError(400, "payment_method_options[wechat_pay][client] is required for wechat_pay.",
                                 param="payment_method_options[wechat_pay][client]")
        session_id = self.new_id("cs")
        now = int(time.time())
        session = {
            "id": session_id,
            "object": "checkout.session",
            "amount_subtotal": total,
            "amount_total": total,
            "cancel_url": params["cancel_url"],
            "client_reference_id": params.get("client_reference_id"),
            "created": now,
            "currency": currency,
            "expires_at": now + 24 * 3600,
            "line_items_summary": [
                {"name": ((i.get("price_data") or {}).get("product_data") or {}).get("name", ""),
                 "quantity": int(i.get("quantity", 1))} for i in items
            ],
            "livemode": False,
            "metadata": dict(params.get("metadata") or {}),
            "mode": "payment",
            "payment_intent": None,
            "payment_intent_metadata": dict((params.get("payment_intent_data") or {}).get("metadata") or {}),
            "payment_method_options": options,
            "payment_method_types": methods,
            "payment_status": "unpaid",
            "status": "open",
            "success_url": params["success_url"],
            "url": f"{self.base_url}/pay/{session_id}",
        }
        self.sessions[session_id] = session
        return session

    def _session(self, session_id: str) -> dict[str, Any]:
        session = self.sessions.get(session_id)
        if session is None:
            raise StripeApiError(404, f"No such checkout.session: '{session_id}'", code="resource_missing",
                                 param="session")
        return session

    def public_session(self, session: dict[str, Any]) -> dict[str, Any]:
        """The session as the API shows it (without the sandbox's bookkeeping fields)."""
        return {k: copy.deepcopy(v) for k, v in session.items()
                if k not in ("line_items_summary", "payment_intent_metadata")}

    # payments ------------------------------------------------------------------------------------------

    def _payment_intent(self, session: dict[str, Any], status: str) -> dict[str, Any]:
        intent = {
            "id": self.new_id("pi"),
            "object": "payment_intent",
            "amount": session["amount_total"],
            "amount_received": 0,
            "currency": session["currency"],
            "created": int(time.time()),
            "latest_charge": None,
            "livemode": False,
            "metadata": dict(session["payment_intent_metadata"]),
            "payment_method_types": list(session["payment_method_types"]),
            "status": status,
        }
        self.payment_intents[intent["id"]] = intent
        session["payment_intent"] = intent["id"]
        return intent

    def _settle(self, intent: dict[str, Any]) -> None:
        """The charge succeeded: a charge and its balance transaction (amount, fee, net) exist."""
        amount = intent["amount"]
        fee = stripe_fee(amount)
        now = int(time.time())
        txn = {
            "id": self.new_id("txn"),
            "object": "balance_transaction",
            "amount": amount,
            "available_on": now + 2 * 86400,
            "created": now,
            "currency": intent["currency"],
            "description": "Canal balance top-up",
            "fee": fee,
            "fee_details": [{"amount": fee, "currency": intent["currency"], "description": "Stripe processing fees",
                             "type": "stripe_fee"}],
            "net": amount - fee,
            "reporting_category": "charge",
            "status": "pending",
            "type": "charge",
        }
        charge = {
            "id": self.new_id("ch"),
            "object": "charge",
            "amount": amount,
            "amount_captured": amount,
            "balance_transaction": txn["id"],
            "captured": True,
            "created": now,
            "currency": intent["currency"],
            "paid": True,
            "payment_intent": intent["id"],
            "status": "succeeded",
        }
        txn["source"] = charge["id"]
        self.balance_transactions[txn["id"]] = txn
        self.charges[charge["id"]] = charge
        intent.update(status="succeeded", latest_charge=charge["id"], amount_received=amount)

    def checkout(self, session_id: str, outcome: str = "paid") -> list[dict[str, Any]]:
        """Complete an open session as the pay page would and return the events, in Stripe's order.

        ``paid``: card, paid at once -> [completed(paid)]; ``later``: asynchronous method that succeeds ->
        [completed(unpaid), async_payment_succeeded]; ``fail``: asynchronous method that fails ->
        [completed(unpaid), async_payment_failed]. Each event carries the session as it was at that moment.
        """
        if outcome not in OUTCOMES:
            raise ValueError(f"outcome must be one of {OUTCOMES}")
        with self._lock:
            session = self._session(session_id)
            if session["status"] != "open":
                raise StripeApiError(400, f"Checkout Session {session_id} is {session['status']}.",
                                     code="checkout_session_not_open")
            session["status"] = "complete"
            if outcome == "paid":
                intent = self._payment_intent(session, "processing")
                self._settle(intent)
                session["payment_status"] = "paid"
                return [self.event("checkout.session.completed", session_id)]
            intent = self._payment_intent(session, "processing")
            events = [self.event("checkout.session.completed", session_id)]
            if outcome == "later":
                self._settle(intent)
                session["payment_status"] = "paid"
                events.append(self.event("checkout.session.async_payment_succeeded", session_id))
            else:
                intent["status"] = "requires_payment_method"
                events.append(self.event("checkout.session.async_payment_failed", session_id))
            return events

    def expire(self, session_id: str) -> dict[str, Any]:
        """Expire an open session as Stripe's expire endpoint does; the ``checkout.session.expired`` event.

        :raises StripeApiError: unknown session (404), or not open (400: paid sessions cannot be expired).
        """
        with self._lock:
            session = self._session(session_id)
            if session["status"] != "open":
                raise StripeApiError(400, 'Only Checkout Sessions with a status in ["open"] can be expired.',
                                     param="session")
            session["status"] = "expired"
            session["expires_at"] = int(time.time())
            session["url"] = None
            return self.event("checkout.session.expired", session_id)

    # events and webhooks -------------------------------------------------------------------------------

    def event(self, type_: str, session: str | dict[str, Any], *, event_id: str | None = None,
              created: int | None = None, **session_overrides: Any) -> dict[str, Any]:
        """A Stripe event about a session (a known session's id, or any session dict), as JSON-ready data."""
        with self._lock:
            obj = self.public_session(self._session(session)) if isinstance(session, str) else copy.deepcopy(session)
        obj.update(session_overrides)
        return {
            "id": event_id or self.new_id("evt"),
            "object": "event",
            "api_version": API_VERSION,
            "created": int(time.time()) if created is None else created,
            "data": {"object": obj},
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None},
            "type": type_,
        }

    @staticmethod
    def payload(event: dict[str, Any]) -> str:
        return json.dumps(event, indent=2)

    def sign(self, payload: str | bytes, timestamp: int | None = None, secret: str | None = None) -> str:
        return signature_header(payload, secret or self.webhook_secret, timestamp)

    def deliver(self, event: dict[str, Any], url: str | None = None, timestamp: int | None = None) -> int:
        """POST one event, signed, to the webhook URL; return the HTTP status (0 when unreachable)."""
        target = url or self.webhook_url
        if not target:
            raise RuntimeError("no webhook URL to deliver to")
        body = self.payload(event)
        request = urllib.request.Request(target, data=body.encode("utf-8"), method="POST", headers={
            "Content-Type": "application/json; charset=utf-8",
            "Stripe-Signature": self.sign(body, timestamp),
            "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
        })
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - a configured local URL
                status = response.status
        except urllib.error.HTTPError as error:
            status = error.code
        except OSError:
            status = 0
        with self._lock:
            self.deliveries.append((event["id"], event["type"], status))
        return status

    def _deliver_all(self, events: list[dict[str, Any]]) -> None:
        """The first event now; later ones now too, or after ``async_delay`` seconds in the background."""
        if not self.webhook_url or not events:
            return
        self.deliver(events[0])
        rest = events[1:]
        if not rest:
            return
        if self.async_delay <= 0:
            for event in rest:
                self.deliver(event)
            return

        def later() -> None:
            time.sleep(self.async_delay)
            for event in rest:
                self.deliver(event)

        threading.Thread(target=later, name="stripe-test-webhooks", daemon=True).start()

    # HTTP ----------------------------------------------------------------------------------------------

    def _wsgi(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        try:
            if request.path.startswith("/v1/"):
                response = self._api(request)
            elif request.path.startswith("/pay/"):
                response = self._pay(request)
            else:
                raise StripeApiError(404, f"Unrecognized request URL ({request.method}: {request.path}).")
        except StripeApiError as error:
            response = error.response()
        return response(environ, start_response)

    def _api(self, request: Request) -> Response:
        if request.headers.get("Authorization", "") != f"Bearer {self.secret_key}":
            raise StripeApiError(401, "Invalid API Key provided.", code="api_key_invalid")
        with self._lock:
            self.requests.append((request.method, request.path))
        parts = request.path.strip("/").split("/")
        if request.method == "POST" and parts == ["v1", "checkout", "sessions"]:
            return self._create_session(request)
        if request.method == "POST" and len(parts) == 5 and parts[:3] == ["v1", "checkout", "sessions"] \
                and parts[4] == "expire":
            event = self.expire(parts[3])
            if self.webhook_url:  # after this response, as Stripe does: the caller is not kept waiting
                threading.Thread(target=self.deliver, args=(event,), name="stripe-test-webhooks",
                                 daemon=True).start()
            with self._lock:
                return _json(self.public_session(self.sessions[parts[3]]))
        if request.method != "GET":
            raise StripeApiError(404, f"Unrecognized request URL ({request.method}: {request.path}).")
        expand = decode_form(list(request.args.items(multi=True))).get("expand") or []
        if isinstance(expand, str):
            expand = [expand]
        stores = {("checkout", "sessions"): self.sessions, ("payment_intents",): self.payment_intents,
                  ("charges",): self.charges, ("balance_transactions",): self.balance_transactions}
        store = stores.get(tuple(parts[1:-1]))
        if store is None or len(parts) < 3:
            raise StripeApiError(404, f"Unrecognized request URL ({request.method}: {request.path}).")
        with self._lock:
            found = store.get(parts[-1])
            if found is None:
                kind = {"cs": "checkout.session", "pi": "payment_intent", "ch": "charge",
                        "txn": "balance_transaction"}.get(parts[-1].split("_")[0], "object")
                raise StripeApiError(404, f"No such {kind}: '{parts[-1]}'", code="resource_missing", param="id")
            obj = self.public_session(found) if store is self.sessions else copy.deepcopy(found)
            for path in expand:
                obj = self._expand(obj, str(path).split("."))
        return _json(obj)

    def _expand(self, obj: dict[str, Any], path: list[str]) -> dict[str, Any]:
        """Replace the id at ``path`` (e.g. latest_charge.balance_transaction) by the object it names."""
        field, rest = path[0], path[1:]
        value = obj.get(field)
        if isinstance(value, str):
            prefix = value.split("_")[0]
            store = {"pi": self.payment_intents, "ch": self.charges, "txn": self.balance_transactions,
                     "cs": self.sessions}.get(prefix, {})
            if value in store:
                value = copy.deepcopy(store[value])
        if isinstance(value, dict) and rest:
            value = self._expand(value, rest)
        obj[field] = value
        return obj

    def _create_session(self, request: Request) -> Response:
        params = decode_form(list(request.form.items(multi=True)))
        key = request.headers.get("Idempotency-Key")
        fingerprint = json.dumps(params, sort_keys=True)
        with self._lock:
            if key and key in self.idempotency:
                first_fingerprint, session = self.idempotency[key]
                if first_fingerprint != fingerprint:
                    raise StripeApiError(400, "Keys for idempotent requests can only be used with the same "
                                              "parameters they were first used with.", type_="idempotency_error")
                return _json(self.public_session(self.sessions[session["id"]]),
                             headers={"Idempotent-Replayed": "true", "Idempotency-Key": key})
            session = self.create_session(params)
            if key:
                self.idempotency[key] = (fingerprint, session)
            return _json(self.public_session(session), headers={"Idempotency-Key": key} if key else None)

    # the hosted pay page -------------------------------------------------------------------------------

    def _pay(self, request: Request) -> Response:
        parts = request.path.strip("/").split("/")
        with self._lock:
            session = copy.deepcopy(self._session(parts[1])) if len(parts) >= 2 else None
        if session is None:
            raise StripeApiError(404, "No such page.")
        if request.method == "GET" and len(parts) == 2:
            return self._pay_page(session)
        if request.method != "POST" or len(parts) != 3 or parts[2] not in (*OUTCOMES, "cancel"):
            raise StripeApiError(404, "No such page.")
        if parts[2] == "cancel":
            return Response(status=303, headers={"Location": session["cancel_url"]})
        if session["status"] == "open":
            self._deliver_all(self.checkout(session["id"], parts[2]))
        target = session["success_url"].replace("{CHECKOUT_SESSION_ID}", session["id"])
        return Response(status=303, headers={"Location": target})

    def _pay_page(self, session: dict[str, Any]) -> Response:
        symbol = {"cny": "¥", "usd": "$", "eur": "€", "hkd": "HK$"}.get(session["currency"], "")
        amount = f"{symbol}{Decimal(session['amount_total']).scaleb(-2):,.2f}"
        name = session["line_items_summary"][0]["name"] if session["line_items_summary"] else "Payment"
        methods = ", ".join(m.replace("_", " ").title() for m in session["payment_method_types"])
        sid = html.escape(session["id"])
        if session["status"] == "open":
            actions = "".join(
                f'<form method="post" action="/pay/{sid}/{action}"><button type="submit" class="{cls}">'
                f'{label}</button></form>'
                for action, label, cls in (("paid", "Pay", "primary"), ("later", "Pay later", ""),
                                           ("fail", "Fail", ""), ("cancel", "Cancel", "link")))
            hint = ("<p class=hint><b>Pay</b>: card, paid at once. <b>Pay later</b>: an asynchronous method that "
                    "succeeds a moment later. <b>Fail</b>: an asynchronous method that fails. "
                    "<b>Cancel</b>: back to Canal without paying.</p>")
        else:
            target = html.escape(session["success_url"].replace("{CHECKOUT_SESSION_ID}", session["id"]))
            actions = f'<p>This payment is {html.escape(session["status"])}.</p><p><a href="{target}">Back</a></p>'
            hint = ""
        page = f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Stripe sandbox · Checkout</title>
<style>
body{{font:16px/1.5 system-ui,sans-serif;background:#f6f8fa;margin:0;color:#1a1f36}}
.banner{{background:#ffd94a;color:#3d2e00;text-align:center;padding:.6rem;font-weight:600}}
main{{max-width:26rem;margin:3rem auto;background:#fff;border-radius:10px;padding:2rem;
box-shadow:0 2px 10px rgba(0,0,0,.08)}}
.amount{{font-size:2.2rem;font-weight:700;margin:.3rem 0 1rem}}
form{{margin:.5rem 0}} button{{width:100%;padding:.7rem;border-radius:6px;border:1px solid #c9ced6;
background:#fff;font-size:1rem;cursor:pointer}}
button.primary{{background:#635bff;color:#fff;border-color:#635bff}} button.link{{border:0;color:#635bff}}
.muted,.hint{{color:#697386;font-size:.9rem}}
</style></head><body>
<div class="banner" role="note">Stripe sandbox — no real money</div>
<main><p class="muted">{html.escape(name)}</p><h1 class="amount">{amount}</h1>
<p class="muted">Payment methods: {html.escape(methods)} · Session <code>{sid}</code></p>
{actions}{hint}</main></body></html>"""
        # The forms post here, then redirect back to the merchant: form-action must allow both.
        back = " ".join(sorted({_origin(session["success_url"]), _origin(session["cancel_url"])}))
        return Response(page, mimetype="text/html", headers={
            "Content-Security-Policy": f"default-src 'none'; style-src 'unsafe-inline'; form-action 'self' {back}; "
                                       "frame-ancestors 'none'; base-uri 'none'",
            "Cache-Control": "no-store",
        })


def start_stripe_sandbox(app: Any) -> StripeTestServer | None:
    """Start the sandbox for ``app`` (``flask serve``) when it is enabled and no real Stripe key is set.

    Points the app's gateway at the local server with a generated test key and webhook secret, and has the
    server deliver webhooks to ``PUBLIC_URL/webhooks/stripe``. Never in production (``create_app`` refuses
    ``STRIPE_SANDBOX`` there; this checks again).
    """
    config = app.config
    if not config.get("STRIPE_SANDBOX") or config.get("STRIPE_SECRET_KEY") or config["CANAL_ENV"] == "production":
        return None
    server = StripeTestServer(secret_key="sk_test_sandbox_" + secrets.token_hex(12),
                              webhook_secret="whsec_sandbox_" + secrets.token_hex(16),
                              webhook_url=config["PUBLIC_URL"].rstrip("/") + "/webhooks/stripe",
                              async_delay=SANDBOX_ASYNC_DELAY_SECONDS).start()
    config.update(STRIPE_SECRET_KEY=server.secret_key, STRIPE_WEBHOOK_SECRET=server.webhook_secret,
                  STRIPE_API_BASE=server.base_url)
    app.extensions["stripe_sandbox"] = server
    return server
