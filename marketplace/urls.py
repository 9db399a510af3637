"""Absolute links for emails, built from ``PUBLIC_URL`` (works inside and outside a request)."""

from __future__ import annotations

from flask import current_app


def external_url(endpoint: str, **values) -> str:
    path = current_app.url_map.bind("canal.invalid").build(endpoint, values)
    return current_app.config["PUBLIC_URL"] + path


def path_for(endpoint: str, **values) -> str:
    """The site-relative path of ``endpoint`` (for links stored in notifications), inside or outside a request."""
    return current_app.url_map.bind("canal.invalid").build(endpoint, values)
