"""Staff console: dashboard, enterprise verification queue with licence viewer, creators' real-name
verification queue with document viewer, audit log, users."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import func, or_, select

from marketplace import authz
from marketplace.accounts.models import STAFF_ROLES, User
from marketplace.audit.models import AuditEntry
from marketplace.creators import services as creator_services
from marketplace.creators.forms import IdentityRejectForm
from marketplace.creators.models import VERIFICATION_STATES as IDENTITY_STATES
from marketplace.creators.models import IdentityVerification
from marketplace.creators.states import IDENTITY_STATE_LABELS
from marketplace.creators.taxonomy import ID_TYPES
from marketplace.db import get_session
from marketplace.enterprises import services as enterprise_services
from marketplace.enterprises.forms import RejectForm
from marketplace.enterprises.models import VERIFICATION_STATES, Enterprise, Membership, VerificationEvent
from marketplace.enterprises.states import STATE_LABELS
from marketplace.enterprises.views import send_licence
from marketplace.errors import DomainError
from marketplace.extensions import client_ip
from marketplace.files.serving import send_stored_file
from marketplace.forms import ActionForm, apply_domain_error
from marketplace.main.templating import paginate
from marketplace.staff import services

bp = Blueprint("staff", __name__, url_prefix="/staff")


def _load_enterprise(enterprise_id: int) -> Enterprise:
    enterprise = get_session().get(Enterprise, enterprise_id)
    if enterprise is None:
        abort(404)
    return enterprise


@bp.get("/")
@login_required
def home():
    authz.require("staff.console")
    db = get_session()
    counts = dict(db.execute(select(Enterprise.verification_state, func.count())
                             .group_by(Enterprise.verification_state)).all())
    recent = db.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(8)).all() \
        if authz.can(current_user, "staff.audit") else []
    identity_pending = db.scalar(select(func.count()).select_from(IdentityVerification)
                                 .where(IdentityVerification.state == "pending"))
    return render_template("staff/home.html", counts=counts, recent=recent, state_labels=STATE_LABELS,
                           identity_pending=identity_pending)


@bp.get("/enterprises")
@login_required
def enterprises():
    authz.require("staff.verification")
    db = get_session()
    state = request.args.get("state", "pending")
    q = request.args.get("q", "").strip()
    query = select(Enterprise)
    if state in VERIFICATION_STATES:
        query = query.where(Enterprise.verification_state == state)
    if q:
        like = f"%{q}%"
        query = query.where(or_(Enterprise.legal_name.ilike(like), Enterprise.display_name.ilike(like),
                                Enterprise.uscc.ilike(like)))
    # The queue is first come, first served; other lists show the newest first.
    if state == "pending":
        query = query.order_by(Enterprise.submitted_at.asc(), Enterprise.id)
    else:
        query = query.order_by(Enterprise.updated_at.desc(), Enterprise.id.desc())
    page = paginate(db, query, per_page=20)
    counts = dict(db.execute(select(Enterprise.verification_state, func.count())
                             .group_by(Enterprise.verification_state)).all())
    return render_template("staff/enterprises.html", page=page, state=state, q=q, counts=counts,
                           states=VERIFICATION_STATES, state_labels=STATE_LABELS)


@bp.get("/enterprises/<int:enterprise_id>")
@login_required
def enterprise(enterprise_id: int):
    authz.require("staff.verification")
    enterprise = _load_enterprise(enterprise_id)
    return _render_enterprise(enterprise, RejectForm())


def _render_enterprise(enterprise: Enterprise, reject_form: RejectForm, status: int = 200):
    db = get_session()
    events = db.scalars(select(VerificationEvent).where(VerificationEvent.enterprise_id == enterprise.id)
                        .order_by(VerificationEvent.id.desc())).all()
    members = db.scalars(select(Membership).where(Membership.enterprise_id == enterprise.id)).all()
    others = db.scalars(select(Enterprise).where(Enterprise.uscc == enterprise.uscc, Enterprise.id != enterprise.id)
                        ).all()
    return render_template("staff/enterprise.html", enterprise=enterprise, events=events, members=members,
                           others=others, reject_form=reject_form, action_form=ActionForm(),
                           state_labels=STATE_LABELS), status


@bp.get("/enterprises/<int:enterprise_id>/licence")
@login_required
def enterprise_licence(enterprise_id: int):
    authz.require("staff.verification")
    return send_licence(_load_enterprise(enterprise_id))


@bp.post("/enterprises/<int:enterprise_id>/approve")
@login_required
def approve(enterprise_id: int):
    authz.require("staff.verification")
    enterprise = _load_enterprise(enterprise_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    db = get_session()
    try:
        enterprise_services.approve_enterprise(db, current_user, enterprise, ip_address=client_ip())
        db.commit()
    except DomainError as error:
        db.rollback()
        flash(error.message, "error")
        return _render_enterprise(enterprise, RejectForm(), error.status_code)  # a 4xx is not followed as a redirect
    flash(_("%(name)s is verified.", name=enterprise.legal_name), "success")
    return redirect(url_for("staff.enterprises"))


@bp.post("/enterprises/<int:enterprise_id>/reject")
@login_required
def reject(enterprise_id: int):
    authz.require("staff.verification")
    enterprise = _load_enterprise(enterprise_id)
    form = RejectForm()
    if form.validate_on_submit():
        db = get_session()
        try:
            enterprise_services.reject_enterprise(db, current_user, enterprise, form.reason.data,
                                                  ip_address=client_ip())
            db.commit()
        except DomainError as error:
            db.rollback()
            if not apply_domain_error(form, error):
                flash(error.message, "error")
                return _render_enterprise(enterprise, form, error.status_code)
        else:
            flash(_("%(name)s was sent back with your reason.", name=enterprise.legal_name), "success")
            return redirect(url_for("staff.enterprises"))
    return _render_enterprise(enterprise, form, 400)


@bp.get("/audit")
@login_required
def audit():
    authz.require("staff.audit")
    db = get_session()
    query = select(AuditEntry).order_by(AuditEntry.id.desc())
    action = request.args.get("action", "").strip()
    actor = request.args.get("actor", "").strip()
    object_type = request.args.get("object_type", "").strip()
    if action:
        query = query.where(AuditEntry.action == action)
    if object_type:
        query = query.where(AuditEntry.object_type == object_type)
    if actor:
        query = query.join(User, User.id == AuditEntry.actor_id).where(User.email.ilike(f"%{actor}%"))
    page = paginate(db, query, per_page=30)
    actions = db.scalars(select(AuditEntry.action).distinct().order_by(AuditEntry.action)).all()
    object_types = db.scalars(select(AuditEntry.object_type).distinct().order_by(AuditEntry.object_type)).all()
    return render_template("staff/audit.html", page=page, action=action, actor=actor, object_type=object_type,
                           actions=actions, object_types=object_types)


@bp.get("/users")
@login_required
def users():
    authz.require("staff.users")
    db = get_session()
    q = request.args.get("q", "").strip()
    role = request.args.get("role", "")
    query = select(User).order_by(User.id.desc())
    if q:
        query = query.where(or_(User.email.ilike(f"%{q}%"), User.display_name.ilike(f"%{q}%")))
    if role == "staff":
        query = query.where(User.staff_role.is_not(None))
    elif role in STAFF_ROLES:
        query = query.where(User.staff_role == role)
    page = paginate(db, query, per_page=30)
    return render_template("staff/users.html", page=page, q=q, role=role, staff_roles=STAFF_ROLES,
                           action_form=ActionForm())


@bp.post("/users/<int:user_id>/active")
@login_required
def set_active(user_id: int):
    authz.require("staff.users")
    db = get_session()
    user = db.get(User, user_id)
    if user is None:
        abort(404)
    if not ActionForm().validate_on_submit():
        abort(400)
    active = request.form.get("active") == "1"
    try:
        services.set_user_active(db, current_user, user, active, ip_address=client_ip())
        db.commit()
    except DomainError as error:
        db.rollback()
        flash(error.message, "error")
        return users(), error.status_code  # a 4xx is not followed as a redirect
    flash(_("%(email)s was reactivated.", email=user.email) if active
          else _("%(email)s was deactivated.", email=user.email), "success")
    return redirect(url_for("staff.users", q=request.args.get("q", "")))


# --- creators' real-name verification ------------------------------------------------------------------------


def _load_identity(verification_id: int) -> IdentityVerification:
    verification = get_session().get(IdentityVerification, verification_id)
    if verification is None:
        abort(404)
    return verification


@bp.get("/identity")
@login_required
def identity_queue():
    authz.require("staff.verification")
    db = get_session()
    state = request.args.get("state", "pending")
    query = select(IdentityVerification)
    if state in IDENTITY_STATES:
        query = query.where(IdentityVerification.state == state)
    # The queue is first come, first served; decided requests show the latest decision first.
    if state == "pending":
        query = query.order_by(IdentityVerification.created_at.asc(), IdentityVerification.id)
    else:
        query = query.order_by(IdentityVerification.reviewed_at.desc(), IdentityVerification.id.desc())
    page = paginate(db, query, per_page=20)
    counts = dict(db.execute(select(IdentityVerification.state, func.count())
                             .group_by(IdentityVerification.state)).all())
    return render_template("staff/identity_queue.html", page=page, state=state, counts=counts,
                           states=IDENTITY_STATES, state_labels=IDENTITY_STATE_LABELS,
                           id_types=ID_TYPES)


def _render_identity(verification: IdentityVerification, reject_form: IdentityRejectForm, status: int = 200):
    db = get_session()
    history = db.scalars(select(IdentityVerification)
                         .where(IdentityVerification.creator_id == verification.creator_id,
                                IdentityVerification.id != verification.id)
                         .order_by(IdentityVerification.id.desc())).all()
    return render_template("staff/identity.html", verification=verification, creator=verification.creator,
                           history=history, same_id=creator_services.same_id_elsewhere(db, verification),
                           reject_form=reject_form, action_form=ActionForm(), state_labels=IDENTITY_STATE_LABELS,
                           id_types=ID_TYPES), status


@bp.get("/identity/<int:verification_id>")
@login_required
def identity(verification_id: int):
    authz.require("staff.verification")
    return _render_identity(_load_identity(verification_id), IdentityRejectForm())


@bp.get("/identity/<int:verification_id>/photo")
@login_required
def identity_photo(verification_id: int):
    authz.require("staff.verification")
    verification = _load_identity(verification_id)
    if verification.photo is None:
        abort(404)
    return send_stored_file(verification.photo, frame_same_origin=True)


@bp.post("/identity/<int:verification_id>/approve")
@login_required
def approve_identity(verification_id: int):
    authz.require("staff.verification")
    verification = _load_identity(verification_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    db = get_session()
    try:
        creator_services.review_identity(db, current_user, verification, True, ip_address=client_ip())
        db.commit()
    except DomainError as error:
        db.rollback()
        flash(error.message, "error")
        return _render_identity(verification, IdentityRejectForm(), error.status_code)
    flash(_("%(name)s is verified.", name=verification.legal_name), "success")
    return redirect(url_for("staff.identity_queue"))


@bp.post("/identity/<int:verification_id>/reject")
@login_required
def reject_identity(verification_id: int):
    authz.require("staff.verification")
    verification = _load_identity(verification_id)
    form = IdentityRejectForm()
    if form.validate_on_submit():
        db = get_session()
        try:
            creator_services.review_identity(db, current_user, verification, False, form.reason.data,
                                             ip_address=client_ip())
            db.commit()
        except DomainError as error:
            db.rollback()
            if not apply_domain_error(form, error):
                flash(error.message, "error")
                return _render_identity(verification, form, error.status_code)
        else:
            flash(_("The request of %(name)s was sent back with your reason.", name=verification.legal_name),
                  "success")
            return redirect(url_for("staff.identity_queue"))
    return _render_identity(verification, form, 400)
