"""The notification inbox (the bell in the top bar links here)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("notifications", __name__)
