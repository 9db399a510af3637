"""Unbound Flask extensions; ``create_app`` binds them."""

from __future__ import annotations

from flask import request
from flask_limiter import Limiter
from flask_login import LoginManager
from flask_wtf import CSRFProtect

from marketplace.i18n import CatalogBabel


def client_ip() -> str:
    """The client address (``ProxyFix`` decides whether forwarded headers are trusted)."""
    return request.remote_addr or "unknown"


login_manager = LoginManager()
csrf = CSRFProtect()
babel = CatalogBabel()
limiter = Limiter(key_func=client_ip)
