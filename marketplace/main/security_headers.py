"""Security headers on every response: a CSP without inline script, frame denial, no-sniff, referrer
policy, and HSTS in production. A view may relax framing for itself (the licence viewer) by setting
``response.frame_same_origin = True``."""

from __future__ import annotations

from flask import Response, current_app, request

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; font-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action {form_action}; frame-src 'self'; "
    "frame-ancestors {ancestors}"
)


def set_security_headers(response: Response) -> Response:
    same_origin = getattr(response, "frame_same_origin", False)
    response.headers["Content-Security-Policy"] = CSP.format(ancestors="'self'" if same_origin else "'none'",
                                                             form_action=_form_action())
    response.headers["X-Frame-Options"] = "SAMEORIGIN" if same_origin else "DENY"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "strict-origin-when-cross-origin"
    response.headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=(), payment=()"
    response.headers["Cross-Origin-Opener-Policy"] = "same-origin"
    if current_app.config["CANAL_ENV"] == "production":
        response.headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
    if request.endpoint and not request.endpoint.startswith("static") and "Cache-Control" not in response.headers:
        response.headers["Cache-Control"] = "no-store" if _private() else "no-cache"
    return response


def _private() -> bool:
    from flask_login import current_user

    return bool(getattr(current_user, "is_authenticated", False))


def _form_action() -> str:
    """Our own origin, plus Stripe Checkout's when card top-ups are on (the card form redirects there)."""
    from marketplace.payments.gateway import checkout_origin

    origin = checkout_origin(current_app.config)
    return f"'self' {origin}" if origin else "'self'"
