"""Orders: the brand's order board, direct offers, the order page (both sides) and its actions, the creator's
offers inbox and order list."""

from __future__ import annotations

from flask import Blueprint, abort

bp = Blueprint("orders", __name__)


@bp.get("/orders/<int:order_id>")
def detail(order_id: int):
    abort(404)
