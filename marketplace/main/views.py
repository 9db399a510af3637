"""Landing page, dashboard routing, context and language switches, health check."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import refresh
from flask_login import current_user, login_required

from marketplace import authz
from marketplace.db import get_session
from marketplace.forms import ContextForm, LanguageForm, safe_next
from marketplace.i18n import LANGUAGES

bp = Blueprint("main", __name__)


@bp.get("/")
def index():
    if current_user.is_authenticated:
        return redirect(url_for("main.dashboard"))
    return render_template("main/index.html")


@bp.get("/healthz")
def healthz():
    """The trivial page: liveness, and the benchmarks' ceiling."""
    return "ok", 200, {"Content-Type": "text/plain; charset=utf-8"}


@bp.get("/dashboard")
@login_required
def dashboard():
    context = authz.current_context()
    if context.kind == "enterprise":
        return redirect(url_for("enterprises.overview", enterprise_id=context.enterprise.id))
    if context.kind == "creator":
        return redirect(url_for("creators.home"))
    if context.kind == "staff":
        return redirect(url_for("staff.home"))
    return render_template("main/start.html")


@bp.post("/context")
@login_required
def switch_context():
    form = ContextForm()
    if not form.validate_on_submit() or not authz.set_context(form.context.data):
        abort(400)
    return redirect(url_for("main.dashboard"))


@bp.post("/language")
def switch_language():
    form = LanguageForm()
    if not form.validate_on_submit() or form.locale.data not in LANGUAGES:
        abort(400)
    session["locale"] = form.locale.data
    if current_user.is_authenticated:
        current_user.locale = form.locale.data
        get_session().commit()
    refresh()  # say it in the new language
    flash(_("Language changed."), "success")
    return redirect(safe_next(request.form.get("next")) or url_for("main.index"))
