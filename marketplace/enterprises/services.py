"""Enterprise rules: creation, details, verification, members and invitations.

Invariants: the USCC passes GB 32100-2015 (``stdnum.cn.uscc``) and is unique among pending and verified
enterprises; legal details are locked while pending or verified; only an enterprise with a licence can be
submitted; every verification transition goes through ``_transition`` (state table + event); every
enterprise keeps at least one owner; invitations are single-use, expiring, and accepted only by the invited
email. Staff decisions are audited. Services flush; the caller commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from stdnum.cn import uscc as uscc_std
from stdnum.exceptions import ValidationError as StdnumError

from marketplace.accounts.models import User
from marketplace.accounts.services import normalize_email, user_by_email
from marketplace.audit.services import record_audit
from marketplace.db import utcnow
from marketplace.enterprises.models import (
    ENTERPRISE_ROLES,
    Enterprise,
    Invitation,
    Membership,
    VerificationEvent,
)
from marketplace.enterprises.states import editable_legal_details, next_state
from marketplace.errors import Conflict, InvalidTransition, NotAllowed, TokenInvalid, ValidationFailed
from marketplace.files.models import StoredFile
from marketplace.mail.services import queue_email
from marketplace.security import new_token, token_digest
from marketplace.urls import external_url


@dataclass
class EnterpriseDetails:
    legal_name: str
    display_name: str
    uscc: str
    contact_name: str
    contact_phone: str
    contact_email: str
    invoice_title: str
    tax_number: str


def clean_uscc(value: str, field: str = "uscc") -> str:
    """The compact, upper-case USCC. :raises ValidationFailed: wrong length, characters or check digit."""
    try:
        return uscc_std.validate(value.strip().upper())
    except StdnumError as exc:
        raise ValidationFailed(
            _l("This is not a valid unified social credit code: check the 18 characters and the check digit."),
            field=field,
        ) from exc


def clean_tax_number(value: str) -> str:
    """A taxpayer number: a USCC, or a legacy 15/17/20-character registration number."""
    compact = value.strip().upper().replace(" ", "")
    if len(compact) == 18:
        return clean_uscc(compact, field="tax_number")
    if len(compact) in (15, 17, 20) and compact.isalnum() and compact.isascii():
        return compact
    raise ValidationFailed(_l("Enter the taxpayer identification number (usually the same as the USCC)."),
                           field="tax_number")


def _check_uscc_free(session: Session, uscc: str, enterprise_id: int | None) -> None:
    query = select(Enterprise.id).where(
        Enterprise.uscc == uscc, Enterprise.verification_state.in_(("pending", "verified"))
    )
    if enterprise_id is not None:
        query = query.where(Enterprise.id != enterprise_id)
    if session.scalar(query) is not None:
        raise ValidationFailed(
            _l("An enterprise with this USCC is already registered on Canal. Ask its owner to invite you."),
            field="uscc",
        )


def _transition(session: Session, enterprise: Enterprise, action: str, actor: User, note: str = "") -> None:
    from_state = enterprise.verification_state
    to_state = next_state(from_state, action)
    enterprise.verification_state = to_state.value
    session.add(VerificationEvent(enterprise_id=enterprise.id, actor_id=actor.id, action=action,
                                  from_state=from_state, to_state=to_state.value, note=note))


def create_enterprise(session: Session, user: User, details: EnterpriseDetails,
                      licence: StoredFile | None = None) -> Enterprise:
    """Create an enterprise owned by ``user``.

    :raises NotAllowed: the user's email is not verified.
    :raises ValidationFailed: bad USCC or tax number.
    """
    if not user.email_verified:
        raise NotAllowed(_l("Confirm your email address before creating an enterprise."))
    uscc = clean_uscc(details.uscc)
    enterprise = Enterprise(
        legal_name=details.legal_name.strip(),
        display_name=(details.display_name or details.legal_name).strip()[:80],
        uscc=uscc,
        contact_name=details.contact_name.strip(),
        contact_phone=details.contact_phone.strip(),
        contact_email=normalize_email(details.contact_email),
        invoice_title=(details.invoice_title or details.legal_name).strip(),
        tax_number=clean_tax_number(details.tax_number or uscc),
        licence_file_id=licence.id if licence else None,
        created_by_id=user.id,
    )
    session.add(enterprise)
    session.flush()
    session.add(Membership(enterprise_id=enterprise.id, user_id=user.id, role="owner"))
    session.flush()
    return enterprise


def update_enterprise(session: Session, enterprise: Enterprise, details: EnterpriseDetails,
                      licence: StoredFile | None = None) -> Enterprise:
    """Change an enterprise's details (legal ones only while unverified or rejected).

    :raises ValidationFailed: bad USCC or tax number.
    :raises InvalidTransition: legal details changed while pending or verified.
    """
    uscc = clean_uscc(details.uscc)
    legal_changed = (
        details.legal_name.strip() != enterprise.legal_name or uscc != enterprise.uscc or licence is not None
    )
    if legal_changed and not editable_legal_details(enterprise.verification_state):
        raise InvalidTransition(
            _l("The legal name, USCC and licence are locked while the enterprise is under review or verified."))
    enterprise.legal_name = details.legal_name.strip()
    enterprise.uscc = uscc
    enterprise.display_name = (details.display_name or details.legal_name).strip()[:80]
    enterprise.contact_name = details.contact_name.strip()
    enterprise.contact_phone = details.contact_phone.strip()
    enterprise.contact_email = normalize_email(details.contact_email)
    enterprise.invoice_title = (details.invoice_title or details.legal_name).strip()
    enterprise.tax_number = clean_tax_number(details.tax_number or uscc)
    if licence is not None:
        enterprise.licence_file_id = licence.id
    session.flush()
    return enterprise


def submit_for_verification(session: Session, actor: User, enterprise: Enterprise) -> None:
    """Send the enterprise to the reviewers' queue.

    :raises ValidationFailed: no business licence uploaded, or the USCC is taken.
    :raises InvalidTransition: already pending or verified.
    """
    if enterprise.licence_file_id is None:
        raise ValidationFailed(_l("Upload the business licence before submitting."), field="licence")
    next_state(enterprise.verification_state, "submit")  # fail before any check that reads others
    _check_uscc_free(session, enterprise.uscc, enterprise.id)
    _transition(session, enterprise, "submit", actor)
    enterprise.submitted_at = utcnow()
    enterprise.rejection_reason = ""
    session.flush()


def _owners(session: Session, enterprise: Enterprise) -> list[User]:
    return list(session.scalars(
        select(User).join(Membership, Membership.user_id == User.id)
        .where(Membership.enterprise_id == enterprise.id, Membership.role == "owner")
    ))


def approve_enterprise(session: Session, reviewer: User, enterprise: Enterprise, ip_address: str = "") -> None:
    """Mark a pending enterprise verified (audited; owners are emailed). :raises InvalidTransition:"""
    before = enterprise.snapshot()
    _check_uscc_free(session, enterprise.uscc, enterprise.id)
    _transition(session, enterprise, "approve", reviewer)
    enterprise.verified_at = utcnow()
    enterprise.rejection_reason = ""
    session.flush()
    record_audit(session, actor=reviewer, action="enterprise.approve", object_type="enterprise",
                 object_id=enterprise.id, before=before, after=enterprise.snapshot(), ip_address=ip_address)
    link = external_url("enterprises.overview", enterprise_id=enterprise.id)
    for owner in _owners(session, enterprise):
        queue_email(session, to=owner.email, kind="enterprise_verified", locale=owner.locale,
                    subject=_l("%(name)s is verified on Canal", name=enterprise.display_name),
                    user=owner, enterprise=enterprise, link=link)


def reject_enterprise(session: Session, reviewer: User, enterprise: Enterprise, reason: str,
                      ip_address: str = "") -> None:
    """Reject a pending enterprise with a reason (audited; owners are emailed).

    :raises ValidationFailed: no reason given. :raises InvalidTransition:
    """
    reason = reason.strip()
    if len(reason) < 5:
        raise ValidationFailed(_l("Tell the enterprise what to correct (at least 5 characters)."), field="reason")
    before = enterprise.snapshot()
    _transition(session, enterprise, "reject", reviewer, note=reason)
    enterprise.rejection_reason = reason
    session.flush()
    record_audit(session, actor=reviewer, action="enterprise.reject", object_type="enterprise",
                 object_id=enterprise.id, before=before, after=enterprise.snapshot(), reason=reason,
                 ip_address=ip_address)
    link = external_url("enterprises.overview", enterprise_id=enterprise.id)
    for owner in _owners(session, enterprise):
        queue_email(session, to=owner.email, kind="enterprise_rejected", locale=owner.locale,
                    subject=_l("%(name)s needs corrections", name=enterprise.display_name),
                    user=owner, enterprise=enterprise, reason=reason, link=link)


# --- members ---------------------------------------------------------------------------------------------


def _check_role(role: str) -> None:
    if role not in ENTERPRISE_ROLES:
        raise ValidationFailed(_l("Choose one of the roles."), field="role")


def _owner_count(session: Session, enterprise_id: int) -> int:
    return session.scalar(
        select(func.count()).select_from(Membership)
        .where(Membership.enterprise_id == enterprise_id, Membership.role == "owner")
    ) or 0


def invite_member(session: Session, inviter: User, enterprise: Enterprise, email: str, role: str,
                  now: datetime | None = None) -> Invitation:
    """Invite an email address to the enterprise with a role; the link expires after ``INVITE_DAYS``.

    A new invitation to the same address replaces the open one.
    :raises ValidationFailed: bad role; :raises Conflict: already a member.
    """
    now = now or utcnow()
    _check_role(role)
    email = normalize_email(email)
    existing_user = user_by_email(session, email)
    if existing_user is not None and session.scalar(
        select(Membership.id).where(Membership.enterprise_id == enterprise.id, Membership.user_id == existing_user.id)
    ):
        raise Conflict(_l("%(email)s is already a member of this enterprise.", email=email), field="email")
    for old in session.scalars(select(Invitation).where(
        Invitation.enterprise_id == enterprise.id, Invitation.email == email,
        Invitation.accepted_at.is_(None), Invitation.revoked_at.is_(None),
    )):
        old.revoked_at = now
    token, digest = new_token()
    days = current_app.config["INVITE_DAYS"]
    invitation = Invitation(enterprise_id=enterprise.id, email=email, role=role, token_hash=digest,
                            invited_by_id=inviter.id, expires_at=now + timedelta(days=days))
    session.add(invitation)
    session.flush()
    link = external_url("enterprises.invitation", token=token)
    queue_email(session, to=email, kind="invitation", locale=existing_user.locale if existing_user else "en",
                subject=_l("%(inviter)s invited you to %(name)s on Canal", inviter=inviter.display_name,
                           name=enterprise.display_name),
                inviter=inviter, enterprise=enterprise, role=role, link=link, days=days)
    return invitation


def find_invitation(session: Session, token: str, now: datetime | None = None) -> Invitation:
    """The open invitation for ``token``. :raises TokenInvalid: unknown, expired, used or revoked."""
    now = now or utcnow()
    invitation = session.scalar(select(Invitation).where(Invitation.token_hash == token_digest(token)))
    if invitation is None or invitation.revoked_at is not None:
        raise TokenInvalid(_l("This invitation is not valid. Ask for a new one."))
    if invitation.accepted_at is not None:
        raise TokenInvalid(_l("This invitation has already been accepted."))
    if invitation.expires_at <= now:
        raise TokenInvalid(_l("This invitation has expired. Ask the enterprise owner to invite you again."))
    return invitation


def accept_invitation(session: Session, user: User, token: str, now: datetime | None = None) -> Membership:
    """Join the enterprise with the invited role.

    :raises TokenInvalid: see ``find_invitation``; :raises NotAllowed: signed in with another email;
    :raises Conflict: already a member.
    """
    now = now or utcnow()
    invitation = find_invitation(session, token, now)
    if normalize_email(user.email) != invitation.email:
        raise NotAllowed(_l("This invitation was sent to %(email)s. Log in with that address to accept it.",
                            email=invitation.email))
    if session.scalar(select(Membership.id).where(Membership.enterprise_id == invitation.enterprise_id,
                                                  Membership.user_id == user.id)):
        raise Conflict(_l("You are already a member of this enterprise."))
    invitation.accepted_at = now
    invitation.accepted_by_id = user.id
    if user.email_verified_at is None:  # the link proves they read that mailbox
        user.email_verified_at = now
    membership = Membership(enterprise_id=invitation.enterprise_id, user_id=user.id, role=invitation.role)
    session.add(membership)
    session.flush()
    return membership


def revoke_invitation(session: Session, invitation: Invitation, now: datetime | None = None) -> None:
    if invitation.accepted_at is None and invitation.revoked_at is None:
        invitation.revoked_at = now or utcnow()
        session.flush()


def change_member_role(session: Session, actor: User, membership: Membership, role: str) -> None:
    """Give a member another role. :raises ValidationFailed: bad role or the last owner would be demoted."""
    _check_role(role)
    if membership.role == role:
        return
    if membership.role == "owner" and _owner_count(session, membership.enterprise_id) <= 1:
        raise ValidationFailed(_l("An enterprise needs at least one owner. Make someone else an owner first."),
                               field="role")
    before = {"role": membership.role}
    membership.role = role
    session.flush()
    record_audit(session, actor=actor, action="membership.change_role", object_type="membership",
                 object_id=membership.id, before=before, after={"role": role, "user_id": membership.user_id})


def remove_member(session: Session, actor: User, membership: Membership) -> None:
    """Remove a member (or leave). :raises NotAllowed: they are the last owner."""
    if membership.role == "owner" and _owner_count(session, membership.enterprise_id) <= 1:
        raise NotAllowed(_l("The last owner cannot leave. Make someone else an owner first."))
    record_audit(session, actor=actor, action="membership.remove", object_type="membership",
                 object_id=membership.id, before={"role": membership.role, "user_id": membership.user_id,
                                                  "enterprise_id": membership.enterprise_id})
    session.delete(membership)
    session.flush()
