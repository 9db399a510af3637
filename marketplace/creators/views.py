"""The creator workspace (profiles, rate cards and orders arrive with later issues)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from marketplace import authz
from marketplace.creators.services import become_creator, creator_for_user
from marketplace.db import get_session
from marketplace.forms import ActionForm

bp = Blueprint("creators", __name__, url_prefix="/creator")


@bp.get("/")
@login_required
def home():
    authz.require("creator.workspace")
    creator = creator_for_user(get_session(), current_user)
    return render_template("creators/home.html", creator=creator)


@bp.post("/become")
@login_required
def become():
    if not ActionForm().validate_on_submit():
        abort(400)
    db = get_session()
    become_creator(db, current_user)
    db.commit()
    session["context"] = "creator"
    flash(_("Your creator workspace is ready."), "success")
    return redirect(url_for("creators.home"))
