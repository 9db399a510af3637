"""The creator workspace: dashboard with the onboarding checklist, profile, platform account, rate card and
real-name verification.

Each handler: load the signed-in user's creator (403 without one) -> validate -> one service -> commit ->
redirect; a refused request re-renders the form with the message beside its field and a 4xx.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from marketplace import authz
from marketplace.creators import services, taxonomy
from marketplace.creators.forms import (
    CREATOR_KIND_LABELS,
    IdentityForm,
    PlatformForm,
    ProfileForm,
    RateCardForm,
)
from marketplace.creators.models import Creator, IdentityVerification
from marketplace.creators.states import IDENTITY_STATE_LABELS
from marketplace.db import get_session
from marketplace.errors import DomainError
from marketplace.files.serving import send_stored_file
from marketplace.forms import ActionForm, apply_domain_error
from marketplace.money import Money

bp = Blueprint("creators", __name__, url_prefix="/creator")


def _own_creator() -> Creator:
    """The signed-in user's creator record (403 for users without one)."""
    authz.require("creator.workspace")
    creator = services.creator_for_user(get_session(), current_user)
    if creator is None:  # pragma: no cover - creator.workspace means there is one
        abort(403)
    return creator


def _refused(form, error: DomainError) -> int:
    """Put a domain error beside its field (or flash it); the status to answer with."""
    if apply_domain_error(form, error):
        return 400
    flash(error.message, "error")
    return error.status_code


@bp.get("/")
@login_required
def home():
    creator = _own_creator()
    db = get_session()
    steps = services.onboarding_checklist(db, creator)
    from marketplace.ledger import flows
    from marketplace.ledger.services import balance

    earnings = {"pending": balance(db, flows.creator_pending(creator.id)),
                "available": balance(db, flows.creator_available(creator.id))}
    return render_template("creators/home.html", creator=creator, steps=steps,
                           done=sum(1 for s in steps if s.done),
                           rate_card=services.current_rate_card(db, creator),
                           account=creator.platform_account, earnings=earnings)


@bp.post("/become")
@login_required
def become():
    if not ActionForm().validate_on_submit():
        abort(400)
    db = get_session()
    services.become_creator(db, current_user)
    db.commit()
    session["context"] = "creator"
    flash(_("Your creator workspace is ready."), "success")
    return redirect(url_for("creators.home"))


# --- profile -------------------------------------------------------------------------------------------


@bp.route("/profile", methods=["GET", "POST"])
@login_required
def profile():
    creator = _own_creator()
    form = ProfileForm(data=None if request.method == "POST" else {
        "handle": creator.handle or "", "display_name": creator.display_name, "kind": creator.kind,
        "bio": creator.bio, "categories": creator.category_codes, "regions": creator.region_codes,
        "languages": list(creator.languages or []), "accepting_orders": creator.accepting_orders,
    })
    status = 200
    if form.validate_on_submit():
        db = get_session()
        try:
            services.update_profile(db, creator, handle=form.handle.data, display_name=form.display_name.data,
                                    kind=form.kind.data, bio=form.bio.data or "", categories=form.categories.data,
                                    regions=form.regions.data, languages=form.languages.data,
                                    accepting_orders=form.accepting_orders.data)
            upload = form.avatar.data
            if upload and getattr(upload, "filename", ""):
                services.set_avatar(db, creator, upload)  # checked before anything is stored
            db.commit()
        except DomainError as error:
            db.rollback()
            status = _refused(form, error)
        else:
            flash(_("Your profile is saved.") if creator.listed else
                  _("Your profile is saved. Brands find you once you have a handle, a category and a linked "
                    "platform account."), "success")
            return redirect(url_for("creators.profile"))
    elif form.errors:
        status = 400
    return render_template("creators/profile.html", creator=creator, form=form,
                           kind_labels=CREATOR_KIND_LABELS), status


# --- platform account ------------------------------------------------------------------------------------


@bp.route("/platform", methods=["GET", "POST"])
@login_required
def platform():
    creator = _own_creator()
    form = PlatformForm()
    status = 200
    if form.validate_on_submit():
        from marketplace.creators import stats

        db = get_session()
        try:
            stats.link_platform_account(db, creator, form.account.data)
            db.commit()
        except DomainError as error:
            db.rollback()
            status = _refused(form, error)
        else:
            flash(_("Your platform account is linked and its statistics are imported."), "success")
            return redirect(url_for("creators.platform"))
    elif form.errors:
        status = 400
    db = get_session()
    return render_template("creators/platform.html", creator=creator, form=form,
                           account=creator.platform_account,
                           works=services.recent_works(db, creator, limit=6)), status


# --- rate card -------------------------------------------------------------------------------------------


def _yuan(minor: int | None) -> str:
    """Fen as what a person types in a yuan field ("1200", "99.50"); empty for None."""
    if minor is None:
        return ""
    return str(minor // 100) if minor % 100 == 0 else str(Money(minor).to_decimal())


@bp.route("/rate-card", methods=["GET", "POST"])
@login_required
def rate_card():
    creator = _own_creator()
    db = get_session()
    current = services.current_rate_card(db, creator)
    defaults = None
    if request.method == "GET" and current is not None:
        defaults = {f"price_{ct}": _yuan(current.price_for(ct)) for ct in taxonomy.CONTENT_TYPES}
        defaults.update(revision_rounds=current.revision_rounds, lead_time_days=current.lead_time_days,
                        notes=current.notes)
    form = RateCardForm(data=defaults)
    status, prices_error = 200, None
    if form.validate_on_submit():
        try:
            version = services.save_rate_card(db, creator, form.prices(), form.revision_rounds.data,
                                              form.lead_time_days.data, form.notes.data or "")
            db.commit()
        except DomainError as error:
            db.rollback()
            if error.field == "prices":
                prices_error, status = error.message, 400
            else:
                status = _refused(form, error)
        else:
            if current is not None and version.id == current.id:
                flash(_("Nothing changed: your rate card is still version %(n)s.", n=version.version), "info")
            else:
                flash(_("Rate card version %(n)s is now what brands see. Orders already made keep their price.",
                        n=version.version), "success")
            return redirect(url_for("creators.rate_card"))
    elif form.errors:
        status = 400
    return render_template("creators/rate_card.html", creator=creator, form=form, current=current,
                           history=services.rate_card_history(db, creator), prices_error=prices_error,
                           content_types=taxonomy.CONTENT_TYPES), status


# --- real-name verification --------------------------------------------------------------------------------


@bp.route("/verification", methods=["GET", "POST"])
@login_required
def verification():
    creator = _own_creator()
    db = get_session()
    form = IdentityForm()
    status = 200
    if form.validate_on_submit():
        try:
            services.submit_identity(db, creator, form.legal_name.data, form.id_type.data, form.id_number.data,
                                     form.photo.data)
            db.commit()
        except DomainError as error:
            db.rollback()
            status = _refused(form, error)
        else:
            flash(_("Thank you. A reviewer checks your document, usually within one working day."), "success")
            return redirect(url_for("creators.verification"))
    elif form.errors:
        status = 400
    return render_template("creators/verification.html", creator=creator, form=form,
                           latest=services.latest_identity_request(db, creator),
                           state_labels=IDENTITY_STATE_LABELS, id_types=taxonomy.ID_TYPES), status


@bp.get("/verification/<int:verification_id>/photo")
@login_required
def identity_photo(verification_id: int):
    verification = get_session().get(IdentityVerification, verification_id)
    if verification is None or verification.photo is None:
        abort(404)
    authz.require("creator.identity.view", verification)
    return send_stored_file(verification.photo, frame_same_origin=True)
