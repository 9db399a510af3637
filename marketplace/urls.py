"""Absolute links for emails, built from ``PUBLIC_URL`` (works inside and outside a request)."""

from __future__ import annotations

from flask import current_app


def external_url(endpoint: str, **values) -> str:
    path = current_app.url_map.bind("canal.invalid").build(endpoint, values)
    return current_app.config["PUBLIC_URL"] + path
