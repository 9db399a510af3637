"""Development mailbox: read the outbox in the browser (only without SMTP and never in production)."""

from __future__ import annotations

from flask import Blueprint, abort, render_template
from sqlalchemy import select

from marketplace.db import get_session
from marketplace.mail.models import OutboxEmail
from marketplace.main.templating import paginate

bp = Blueprint("devmail", __name__, url_prefix="/_dev/mailbox")


@bp.get("/")
def inbox():
    page = paginate(get_session(), select(OutboxEmail).order_by(OutboxEmail.id.desc()), per_page=25)
    return render_template("main/devmail.html", page=page, email=None)


@bp.get("/<int:email_id>")
def message(email_id: int):
    email = get_session().get(OutboxEmail, email_id)
    if email is None:
        abort(404)
    page = paginate(get_session(), select(OutboxEmail).order_by(OutboxEmail.id.desc()), per_page=25)
    return render_template("main/devmail.html", page=page, email=email)
