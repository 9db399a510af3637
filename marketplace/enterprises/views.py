"""Enterprise pages: create, overview, edit, verification, licence, members and invitations.

Each handler: load (404) -> authorize (403) -> validate -> one service -> commit -> redirect.
"""

from __future__ import annotations

from functools import cache

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import Select, bindparam, func, select

from marketplace import authz
from marketplace.db import get_session, utcnow
from marketplace.enterprises import services
from marketplace.enterprises.forms import ROLE_DESCRIPTIONS, ROLE_LABELS, EnterpriseForm, InviteForm, RoleForm
from marketplace.enterprises.models import Enterprise, Invitation, Membership, VerificationEvent
from marketplace.enterprises.states import STATE_LABELS, editable_legal_details
from marketplace.errors import DomainError, TokenInvalid
from marketplace.files.models import StoredFile
from marketplace.files.services import DOCUMENT_TYPES, check_upload, store_bytes
from marketplace.files.serving import send_stored_file
from marketplace.forms import ActionForm, apply_domain_error

bp = Blueprint("enterprises", __name__, url_prefix="")


def _load(enterprise_id: int) -> Enterprise:
    enterprise = get_session().get(Enterprise, enterprise_id)
    if enterprise is None:
        abort(404)
    return enterprise


def _load_membership(enterprise: Enterprise, membership_id: int) -> Membership:
    membership = get_session().get(Membership, membership_id)
    if membership is None or membership.enterprise_id != enterprise.id:
        abort(404)
    return membership


def _details(form: EnterpriseForm) -> services.EnterpriseDetails:
    return services.EnterpriseDetails(
        legal_name=form.legal_name.data or "",
        display_name=form.display_name.data or "",
        uscc=form.uscc.data or "",
        contact_name=form.contact_name.data or "",
        contact_phone=form.contact_phone.data or "",
        contact_email=form.contact_email.data or "",
        invoice_title=form.invoice_title.data or "",
        tax_number=form.tax_number.data or "",
    )


def _checked_licence(form: EnterpriseForm):
    """The licence upload's bytes and type, or None when no file was chosen. :raises ValidationFailed:"""
    upload = form.licence.data
    if not upload or not getattr(upload, "filename", ""):
        return None
    data, mime = check_upload(upload.stream, allowed=DOCUMENT_TYPES,
                              max_bytes=current_app.config["LICENCE_MAX_BYTES"], field="licence")
    return data, mime, upload.filename


@bp.route("/enterprises/new", methods=["GET", "POST"])
@login_required
def create():
    form = EnterpriseForm()
    if request.method == "GET":
        form.contact_email.data = current_user.email
        form.contact_name.data = current_user.display_name
    refused = None
    if current_user.email_verified and form.validate_on_submit():
        db = get_session()
        try:
            licence = _checked_licence(form)
            enterprise = services.create_enterprise(db, current_user, _details(form))
            if licence:
                stored = store_bytes(db, licence[0], licence[1], licence[2], current_user.id)
                enterprise.licence_file_id = stored.id
            db.commit()
        except DomainError as error:
            db.rollback()
            if not apply_domain_error(form, error):
                flash(error.message, "error")
                refused = error.status_code
        else:
            session["context"] = f"enterprise:{enterprise.id}"
            flash(_("%(name)s was created. Submit it for verification to start hiring creators.",
                    name=enterprise.display_name), "success")
            return redirect(url_for("enterprises.overview", enterprise_id=enterprise.id))
    status = refused or (400 if form.errors else 200)
    return render_template("enterprises/form.html", form=form, enterprise=None), status


@bp.get("/enterprises/<int:enterprise_id>")
@login_required
def overview(enterprise_id: int):
    enterprise = _load(enterprise_id)  # the user loader usually has it already (the user's contexts)
    authz.require("enterprise.view", enterprise)
    membership = authz.membership_of(current_user, enterprise.id)
    rows = get_session().execute(_overview_statement(), {"enterprise_id": enterprise.id}).all()
    events = [row.VerificationEvent for row in rows if row.VerificationEvent is not None]
    member_count = rows[0].member_count if rows else 0
    # The page's submit buttons write the CSRF token themselves (no form object: most pages show no button).
    return render_template("enterprises/overview.html", enterprise=enterprise, membership=membership,
                           events=events, member_count=member_count, state_labels=STATE_LABELS,
                           role_labels=ROLE_LABELS)


@cache
def _overview_statement() -> Select:
    """The overview's last 10 verification events with the enterprise's member count and its licence file (for
    ``enterprise.licence_file``, then found in the session) in one round trip; the enterprise row anchors the outer
    joins, so an enterprise without events or licence still gets its count. Built once."""
    enterprise_id = bindparam("enterprise_id")
    members = (select(func.count()).select_from(Membership).where(Membership.enterprise_id == enterprise_id)
               .scalar_subquery().label("member_count"))
    return (select(members, StoredFile, VerificationEvent).select_from(Enterprise)
            .outerjoin(StoredFile, StoredFile.id == Enterprise.licence_file_id)
            .outerjoin(VerificationEvent, VerificationEvent.enterprise_id == Enterprise.id)
            .where(Enterprise.id == enterprise_id)
            .order_by(VerificationEvent.id.desc()).limit(10))


@bp.route("/enterprises/<int:enterprise_id>/edit", methods=["GET", "POST"])
@login_required
def edit(enterprise_id: int):
    enterprise = _load(enterprise_id)
    authz.require("enterprise.edit", enterprise)
    form = EnterpriseForm(obj=enterprise)
    locked = not editable_legal_details(enterprise.verification_state)
    refused = None
    if form.validate_on_submit():
        db = get_session()
        try:
            licence = None if locked else _checked_licence(form)
            stored = store_bytes(db, licence[0], licence[1], licence[2], current_user.id) if licence else None
            services.update_enterprise(db, enterprise, _details(form), stored)
            db.commit()
        except DomainError as error:
            db.rollback()
            if not apply_domain_error(form, error):
                flash(error.message, "error")
                refused = error.status_code
        else:
            flash(_("Details saved."), "success")
            return redirect(url_for("enterprises.overview", enterprise_id=enterprise.id))
    status = refused or (400 if form.errors else 200)
    return render_template("enterprises/form.html", form=form, enterprise=enterprise, locked=locked), status


@bp.post("/enterprises/<int:enterprise_id>/submit")
@login_required
def submit(enterprise_id: int):
    enterprise = _load(enterprise_id)
    authz.require("enterprise.edit", enterprise)
    if not ActionForm().validate_on_submit():
        abort(400)
    db = get_session()
    try:
        services.submit_for_verification(db, current_user, enterprise)
        db.commit()
    except DomainError as error:
        db.rollback()
        flash(error.message, "error")
        return overview(enterprise.id), error.status_code  # a 4xx is not followed as a redirect
    flash(_("Submitted. Reviewers usually decide within one working day."), "success")
    return redirect(url_for("enterprises.overview", enterprise_id=enterprise.id))


def send_licence(enterprise: Enterprise):
    """Serve an enterprise's licence inline (framable by our own pages only)."""
    if enterprise.licence_file is None:
        abort(404)
    return send_stored_file(enterprise.licence_file, frame_same_origin=True)


@bp.get("/enterprises/<int:enterprise_id>/licence")
@login_required
def licence(enterprise_id: int):
    enterprise = _load(enterprise_id)
    authz.require("enterprise.licence.view", enterprise)
    return send_licence(enterprise)


def _render_members(enterprise: Enterprise, invite_form: InviteForm, status: int = 200):
    db = get_session()
    memberships = db.scalars(select(Membership).where(Membership.enterprise_id == enterprise.id)
                             .order_by(Membership.created_at, Membership.id)).all()
    memberships = sorted(memberships, key=lambda m: authz.ROLE_ORDER.index(m.role))
    invitations = db.scalars(select(Invitation).where(
        Invitation.enterprise_id == enterprise.id, Invitation.accepted_at.is_(None), Invitation.revoked_at.is_(None)
    ).order_by(Invitation.created_at.desc())).all()
    return render_template(
        "enterprises/members.html", enterprise=enterprise, memberships=memberships, invitations=invitations,
        invite_form=invite_form, role_labels=ROLE_LABELS, role_descriptions=ROLE_DESCRIPTIONS,
        action_form=ActionForm(), now=utcnow(), me=authz.membership_of(current_user, enterprise.id),
    ), status


@bp.get("/enterprises/<int:enterprise_id>/members")
@login_required
def members(enterprise_id: int):
    enterprise = _load(enterprise_id)
    authz.require("enterprise.members.view", enterprise)
    return _render_members(enterprise, InviteForm())


@bp.post("/enterprises/<int:enterprise_id>/members/invite")
@login_required
def invite(enterprise_id: int):
    enterprise = _load(enterprise_id)
    authz.require("enterprise.members.manage", enterprise)
    form = InviteForm()
    if form.validate_on_submit():
        db = get_session()
        try:
            services.invite_member(db, current_user, enterprise, form.email.data, form.role.data)
            db.commit()
        except DomainError as error:
            db.rollback()
            apply_domain_error(form, error)
        else:
            flash(_("Invitation sent to %(email)s.", email=form.email.data.strip().lower()), "success")
            return redirect(url_for("enterprises.members", enterprise_id=enterprise.id))
    return _render_members(enterprise, form, 400)


@bp.post("/enterprises/<int:enterprise_id>/members/<int:membership_id>/role")
@login_required
def change_role(enterprise_id: int, membership_id: int):
    enterprise = _load(enterprise_id)
    authz.require("enterprise.members.manage", enterprise)
    membership = _load_membership(enterprise, membership_id)
    form = RoleForm()
    if not form.validate_on_submit():
        flash(_("Choose one of the roles."), "error")
        return _render_members(enterprise, InviteForm(), 400)
    db = get_session()
    try:
        services.change_member_role(db, current_user, membership, form.role.data)
        db.commit()
    except DomainError as error:
        db.rollback()
        flash(error.message, "error")
        return _render_members(enterprise, InviteForm(), error.status_code)
    flash(_("%(name)s is now %(role)s.", name=membership.user.display_name, role=ROLE_LABELS[form.role.data]), "success")
    return redirect(url_for("enterprises.members", enterprise_id=enterprise.id))


@bp.post("/enterprises/<int:enterprise_id>/members/<int:membership_id>/remove")
@login_required
def remove_member(enterprise_id: int, membership_id: int):
    enterprise = _load(enterprise_id)
    membership = _load_membership(enterprise, membership_id)
    leaving = membership.user_id == current_user.id
    authz.require("enterprise.view" if leaving else "enterprise.members.manage", enterprise)
    if not ActionForm().validate_on_submit():
        abort(400)
    db = get_session()
    name = membership.user.display_name
    try:
        services.remove_member(db, current_user, membership)
        db.commit()
    except DomainError as error:
        db.rollback()
        flash(error.message, "error")
        return _render_members(enterprise, InviteForm(), error.status_code)
    if leaving:
        session.pop("context", None)
        flash(_("You left %(name)s.", name=enterprise.display_name), "info")
        return redirect(url_for("main.dashboard"))
    flash(_("%(name)s was removed.", name=name), "success")
    return redirect(url_for("enterprises.members", enterprise_id=enterprise.id))


@bp.post("/enterprises/<int:enterprise_id>/invitations/<int:invitation_id>/revoke")
@login_required
def revoke_invitation(enterprise_id: int, invitation_id: int):
    enterprise = _load(enterprise_id)
    authz.require("enterprise.members.manage", enterprise)
    db = get_session()
    invitation = db.get(Invitation, invitation_id)
    if invitation is None or invitation.enterprise_id != enterprise.id:
        abort(404)
    if not ActionForm().validate_on_submit():
        abort(400)
    services.revoke_invitation(db, invitation)
    db.commit()
    flash(_("The invitation to %(email)s was withdrawn.", email=invitation.email), "info")
    return redirect(url_for("enterprises.members", enterprise_id=enterprise.id))


@bp.route("/invitations/<token>", methods=["GET", "POST"])
def invitation(token: str):
    db = get_session()
    try:
        invitation = services.find_invitation(db, token)
    except TokenInvalid as error:
        return render_template("accounts/link_invalid.html", message=error.message), 400
    form = ActionForm()
    if request.method == "POST":
        if not current_user.is_authenticated:
            return redirect(url_for("accounts.login", next=request.path))
        if not form.validate_on_submit():
            abort(400)
        try:
            membership = services.accept_invitation(db, current_user, token)
            db.commit()
        except DomainError as error:
            db.rollback()
            flash(error.message, "error")
            return render_template("enterprises/invitation.html", invitation=invitation, form=form,
                                   role_labels=ROLE_LABELS, role_descriptions=ROLE_DESCRIPTIONS), error.status_code
        session["context"] = f"enterprise:{membership.enterprise_id}"
        flash(_("Welcome to %(name)s.", name=invitation.enterprise.display_name), "success")
        return redirect(url_for("enterprises.overview", enterprise_id=membership.enterprise_id))
    return render_template("enterprises/invitation.html", invitation=invitation, form=form,
                           role_labels=ROLE_LABELS, role_descriptions=ROLE_DESCRIPTIONS)
