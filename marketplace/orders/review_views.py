"""The reviewers' queues: jobs to review, disputes to decide, removal reports."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("review", __name__, url_prefix="/staff")
