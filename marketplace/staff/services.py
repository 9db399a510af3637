"""Staff accounts (created from the command line) and user administration."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from marketplace.accounts.models import STAFF_ROLES, User
from marketplace.accounts.services import create_user, user_by_email
from marketplace.audit.services import record_audit
from marketplace.errors import NotAllowed, ValidationFailed


def create_staff(session: Session, *, email: str, password: str, role: str, display_name: str = "") -> User:
    """Create a staff user, or give an existing user a staff role (audited).

    :raises ValidationFailed: unknown role, or weak password for a new user.
    """
    if role not in STAFF_ROLES:
        raise ValidationFailed(_l("Role must be one of: reviewer, finance, admin."), field="role")
    user = user_by_email(session, email)
    if user is None:
        user = create_user(session, email=email, password=password, display_name=display_name or email.split("@")[0],
                           signup_kind="brand", staff_role=role, verified=True)
        before = None
    else:
        before = {"staff_role": user.staff_role}
        user.staff_role = role
        session.flush()
    record_audit(session, actor=None, action="staff.grant_role", object_type="user", object_id=user.id,
                 before=before, after={"staff_role": role, "email": user.email}, reason="flask create-staff")
    return user


def set_user_active(session: Session, admin: User, user: User, active: bool, ip_address: str = "") -> None:
    """Deactivate or reactivate an account (audited). :raises NotAllowed: admins cannot lock themselves out."""
    if user.id == admin.id:
        raise NotAllowed(_l("You cannot deactivate your own account."))
    before = {"is_active": user.is_active}
    user.is_active = active
    if not active:
        user.session_version += 1  # end their sessions now
    session.flush()
    record_audit(session, actor=admin, action="user.activate" if active else "user.deactivate", object_type="user",
                 object_id=user.id, before=before, after={"is_active": active}, ip_address=ip_address)
