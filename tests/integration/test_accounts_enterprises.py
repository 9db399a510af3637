"""Accounts and enterprises through the web: the happy paths and the rules around them."""

from __future__ import annotations

import io

import pytest
from flask.cli import FlaskGroup
from PIL import Image
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from marketplace.accounts import services as accounts
from marketplace.accounts.models import User, UserToken
from marketplace.audit.models import AuditEntry
from marketplace.creators.models import Creator
from marketplace.db import database
from marketplace.enterprises import services as enterprises
from marketplace.enterprises.models import Enterprise, Invitation, Membership, VerificationEvent
from marketplace.errors import NotAllowed
from marketplace.files.models import StoredFile
from marketplace.files.services import file_path
from marketplace.jobs import run_job
from marketplace.mail.models import OutboxEmail
from marketplace.security import verify_password
from tests.conftest import PASSWORD, build_app, create_test_database, valid_uscc
from tests.integration.html_text import alerts, field_error, input_values, link_path

NEW_PASSWORD = "saffron glacier kettle 2718"
REASON = "The licence photo is cut off; upload a complete scan with the seal."


def count(session, model, *where) -> int:
    return session.scalar(select(func.count()).select_from(model).where(*where))


def outbox(session, to: str | None = None, kind: str | None = None) -> list[OutboxEmail]:
    query = select(OutboxEmail).order_by(OutboxEmail.id)
    if to is not None:
        query = query.where(OutboxEmail.to_address == to)
    if kind is not None:
        query = query.where(OutboxEmail.kind == kind)
    return list(session.scalars(query))


def png_bytes(colour=(30, 160, 60)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (60, 40), colour).save(out, format="PNG")
    return out.getvalue()


def enterprise_form(uscc: str, licence: bytes | None = None, **overrides) -> dict:
    data = {
        "legal_name": "杭州测试茶叶有限公司",
        "display_name": "Lakeside Tea",
        "uscc": uscc,
        "contact_name": "Wu Fang",
        "contact_phone": "+86 571 5555 0101",
        "contact_email": "Contact@Lakeside.example",
        "invoice_title": "",
        "tax_number": "",
    }
    if licence is not None:
        data["licence"] = (io.BytesIO(licence), "licence.png")
    data.update(overrides)
    return data


def edit_form(enterprise: Enterprise, licence: bytes | None = None, **overrides) -> dict:
    data = {
        "legal_name": enterprise.legal_name,
        "display_name": enterprise.display_name,
        "uscc": enterprise.uscc,
        "contact_name": enterprise.contact_name,
        "contact_phone": enterprise.contact_phone,
        "contact_email": enterprise.contact_email,
        "invoice_title": enterprise.invoice_title,
        "tax_number": enterprise.tax_number,
    }
    if licence is not None:
        data["licence"] = (io.BytesIO(licence), "new-licence.png")
    data.update(overrides)
    return data


def membership(session, enterprise, user) -> Membership | None:
    return session.scalar(select(Membership).where(Membership.enterprise_id == enterprise.id,
                                                   Membership.user_id == user.id))


def flashed(client, path: str) -> list[str]:
    """The messages shown on the next page (after a redirect)."""
    return alerts(client.get(path).get_data(as_text=True))


# --- sign-up, verification, login, logout --------------------------------------------------------------


def test_signup_as_creator_creates_creator_record(session, client, post_form):
    response = post_form("/signup", {"kind": "creator", "display_name": "Mia", "email": "Mia@Example.com",
                                     "password": NEW_PASSWORD})

    assert response.status_code == 302
    user = session.scalar(select(User).where(User.email == "mia@example.com"))
    assert user.signup_kind == "creator"
    creator = session.scalar(select(Creator).where(Creator.user_id == user.id))
    assert creator is not None and creator.display_name == "Mia"
    with client.session_transaction() as browser_session:
        assert browser_session["context"] == "creator"
    assert client.get("/dashboard").headers["Location"] == "/creator/"


def test_signup_as_brand_creates_no_creator_record(session, post_form):
    response = post_form("/signup", {"kind": "brand", "display_name": "Bo", "email": "bo@example.com",
                                     "password": NEW_PASSWORD})

    assert response.status_code == 302
    user = session.scalar(select(User).where(User.email == "bo@example.com"))
    assert user.signup_kind == "brand"
    assert count(session, Creator, Creator.user_id == user.id) == 0


def test_verification_link_verifies_once(session, client, post_form):
    post_form("/signup", {"kind": "brand", "display_name": "Vera", "email": "vera@example.com",
                          "password": NEW_PASSWORD})
    user = session.scalar(select(User).where(User.email == "vera@example.com"))
    assert user.email_verified_at is None
    [mail] = outbox(session, "vera@example.com", "verify_email")
    path = link_path(mail.body_text)

    first = client.get(path)
    assert first.status_code == 302
    session.refresh(user)
    assert user.email_verified_at is not None
    assert "Thanks, vera@example.com is confirmed." in flashed(client, first.headers["Location"])

    second = client.get(path)
    assert second.status_code == 400
    assert "This link has already been used. Ask for a new one." in alerts(second.get_data(as_text=True))


@pytest.mark.parametrize("remember", [True, False])
def test_login_sets_remember_cookie_only_when_asked(app, session, client, post_form, make_user, remember):
    user = make_user(email="rita@example.com")
    data = {"email": "Rita@Example.com", "password": PASSWORD}
    if remember:
        data["remember"] = "y"

    response = post_form("/login", data)

    assert response.status_code == 302
    assert client.get("/settings").status_code == 200
    cookie = client.get_cookie("remember_token")
    if remember:
        assert cookie is not None and cookie.http_only
        assert cookie.expires is not None
    else:
        assert cookie is None
    session.refresh(user)
    assert user.last_login_at is not None


def test_login_with_wrong_password_is_refused(session, client, post_form, make_user):
    make_user(email="wrong@example.com")

    response = post_form("/login", {"email": "wrong@example.com", "password": "not the password at all"})

    assert response.status_code == 400
    assert field_error(response.get_data(as_text=True), "password") == "The email or password is not correct."
    assert client.get("/settings").status_code == 302


def test_logout_requires_post(client, login_as, make_user, post_form):
    login_as(make_user())

    assert client.get("/logout").status_code == 405
    assert client.get("/settings").status_code == 200  # still logged in

    response = post_form("/settings", url="/logout")
    assert response.status_code == 302
    after = client.get("/settings")
    assert after.status_code == 302 and after.headers["Location"].startswith("/login")


# --- passwords -----------------------------------------------------------------------------------------


def test_forgot_password_emails_only_existing_accounts_with_the_same_message(session, client, post_form,
                                                                             make_user):
    make_user(email="known@example.com")

    known = post_form("/password/forgot", {"email": "Known@Example.com"})
    known_flash = flashed(client, known.headers["Location"])
    unknown = post_form("/password/forgot", {"email": "nobody@example.com"})
    unknown_flash = flashed(client, unknown.headers["Location"])

    assert known.status_code == unknown.status_code == 302
    assert known.headers["Location"] == unknown.headers["Location"] == "/login"
    template = "If an account exists for {}, we sent it a link to reset the password."
    assert template.format("known@example.com") in known_flash
    assert template.format("nobody@example.com") in unknown_flash
    assert [m.kind for m in outbox(session, "known@example.com")] == ["reset_password"]
    assert outbox(session, "nobody@example.com") == []
    assert count(session, UserToken, UserToken.purpose == "reset_password") == 1


def test_reset_password_works_once_and_ends_other_sessions(app, session, client, post_form, make_user):
    user = make_user(email="reset.me@example.com", verified=False)
    version = user.session_version
    elsewhere = app.test_client()  # another device, logged in before the reset
    with elsewhere.session_transaction() as other:
        other["_user_id"] = user.get_id()
        other["_fresh"] = True
    assert elsewhere.get("/settings").status_code == 200

    post_form("/password/forgot", {"email": "reset.me@example.com"})
    [mail] = outbox(session, "reset.me@example.com", "reset_password")
    path = link_path(mail.body_text)
    assert client.get(path).status_code == 200

    response = post_form(path, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})

    assert response.status_code == 302 and response.headers["Location"] == "/login"
    session.refresh(user)
    assert user.session_version == version + 1
    assert verify_password(user.password_hash, NEW_PASSWORD)
    assert not verify_password(user.password_hash, PASSWORD)
    assert user.email_verified_at is not None  # the link proved the mailbox
    assert elsewhere.get("/settings").status_code == 302  # the other session ended

    again = post_form(path, {"password": "second lantern orchid 5150", "confirm": "second lantern orchid 5150"})
    assert again.status_code == 400
    assert "This link has already been used. Ask for a new one." in alerts(again.get_data(as_text=True))
    session.refresh(user)
    assert verify_password(user.password_hash, NEW_PASSWORD)

    assert post_form("/login", {"email": user.email, "password": PASSWORD}).status_code == 400
    assert post_form("/login", {"email": user.email, "password": NEW_PASSWORD}).status_code == 302


def test_change_password_requires_the_current_password(session, client, login_as, post_form, make_user):
    user = login_as(make_user())
    old_hash, version = user.password_hash, user.session_version
    data = {"current_password": "this is not my password", "new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD}

    wrong = post_form("/settings/password", data)

    assert wrong.status_code == 400
    assert field_error(wrong.get_data(as_text=True), "current_password") == "Your current password is not correct."
    session.refresh(user)
    assert (user.password_hash, user.session_version) == (old_hash, version)

    right = post_form("/settings/password", {**data, "current_password": PASSWORD})

    assert right.status_code == 302
    session.refresh(user)
    assert user.session_version == version + 1
    assert verify_password(user.password_hash, NEW_PASSWORD)
    assert client.get("/settings").status_code == 200  # this session was kept


def test_change_password_to_the_same_one_is_refused(session, login_as, post_form, make_user):
    user = login_as(make_user())

    response = post_form("/settings/password", {"current_password": PASSWORD, "new_password": PASSWORD,
                                                "confirm": PASSWORD})

    assert response.status_code == 400
    assert field_error(response.get_data(as_text=True), "new_password") == \
        "Choose a password different from the current one."
    session.refresh(user)
    assert user.session_version == 1


def test_settings_change_language_and_time_zone(session, client, login_as, post_form, make_user):
    user = login_as(make_user(display_name="Old Name"))

    response = post_form("/settings", {"display_name": " New Name ", "locale": "zh_CN", "timezone": "Europe/Paris"})

    assert response.status_code == 302
    session.refresh(user)
    assert (user.display_name, user.locale, user.timezone) == ("New Name", "zh_CN", "Europe/Paris")
    assert '<html lang="zh-CN">' in client.get("/settings").get_data(as_text=True)


def test_settings_refuse_an_unknown_time_zone(session, login_as, post_form, make_user):
    user = login_as(make_user())

    response = post_form("/settings", {"display_name": "Name", "locale": "en", "timezone": "Mars/Olympus_Mons"})

    assert response.status_code == 400
    assert field_error(response.get_data(as_text=True), "timezone")
    session.refresh(user)
    assert user.timezone == "Asia/Shanghai"


# --- enterprises ---------------------------------------------------------------------------------------


def test_create_enterprise(app, session, client, login_as, post_form, make_user):
    user = login_as(make_user())
    uscc = valid_uscc()
    licence = png_bytes()

    response = post_form("/enterprises/new", enterprise_form(uscc.lower(), licence),
                         content_type="multipart/form-data")

    assert response.status_code == 302
    enterprise = session.scalar(select(Enterprise).where(Enterprise.created_by_id == user.id))
    assert response.headers["Location"] == f"/enterprises/{enterprise.id}"
    assert enterprise.uscc == uscc  # normalised to upper case
    assert enterprise.tax_number == uscc and enterprise.invoice_title == enterprise.legal_name
    assert enterprise.contact_email == "contact@lakeside.example"
    assert enterprise.verification_state == "unverified"
    assert membership(session, enterprise, user).role == "owner"
    stored = session.get(StoredFile, enterprise.licence_file_id)
    assert stored.content_type == "image/png"
    assert file_path(stored).read_bytes() == licence
    assert client.get("/dashboard").headers["Location"] == f"/enterprises/{enterprise.id}"


def test_unverified_user_cannot_create_an_enterprise(app, session, client, login_as, post_form, make_user):
    user = login_as(make_user(verified=False))
    notice = f"Confirm your email address before creating an enterprise. Open the link we sent to {user.email}."
    assert notice in alerts(client.get("/enterprises/new").get_data(as_text=True))
    counts = (count(session, Enterprise), count(session, Membership), count(session, StoredFile))

    response = post_form("/enterprises/new", enterprise_form(valid_uscc(), png_bytes()),
                         content_type="multipart/form-data")

    assert response.status_code != 302
    assert notice in alerts(response.get_data(as_text=True))
    assert (count(session, Enterprise), count(session, Membership), count(session, StoredFile)) == counts
    with pytest.raises(NotAllowed):  # the rule holds below the view too
        enterprises.create_enterprise(session, user, enterprises.EnterpriseDetails(
            legal_name="X 有限公司", display_name="X", uscc=valid_uscc(), contact_name="X",
            contact_phone="+86 21 5555 0000", contact_email=user.email, invoice_title="", tax_number=""))


def test_submit_is_refused_without_a_licence(session, client, login_as, post_form, make_user, make_enterprise):
    owner = login_as(make_user())
    enterprise = make_enterprise(owner=owner, licence=False)
    page = f"/enterprises/{enterprise.id}"

    response = post_form(page, url=f"{page}/submit")

    assert response.status_code == 400
    assert "Upload the business licence before submitting." in alerts(response.get_data(as_text=True))
    session.refresh(enterprise)
    assert enterprise.verification_state == "unverified" and enterprise.submitted_at is None
    assert count(session, VerificationEvent, VerificationEvent.enterprise_id == enterprise.id) == 0


def test_submit_with_a_licence_goes_to_review(session, client, login_as, post_form, make_user, make_enterprise):
    owner = login_as(make_user())
    enterprise = make_enterprise(owner=owner)
    page = f"/enterprises/{enterprise.id}"

    response = post_form(page, url=f"{page}/submit")

    assert response.status_code == 302
    session.refresh(enterprise)
    assert enterprise.verification_state == "pending" and enterprise.submitted_at is not None
    [event] = session.scalars(select(VerificationEvent).where(VerificationEvent.enterprise_id == enterprise.id))
    assert (event.action, event.from_state, event.to_state, event.actor_id) == \
        ("submit", "unverified", "pending", owner.id)
    assert "Submitted. Reviewers usually decide within one working day." in flashed(client, page)


def test_reviewer_approves(session, client, login_as, post_form, make_user, make_enterprise, make_member):
    owner = make_user()
    enterprise = make_enterprise(owner=owner, state="pending")
    co_owner = make_member(enterprise, "owner")
    manager = make_member(enterprise, "manager")
    reviewer = login_as(make_user(staff_role="reviewer"))
    page = f"/staff/enterprises/{enterprise.id}"

    response = post_form(page, url=f"{page}/approve")

    assert response.status_code == 302
    session.refresh(enterprise)
    assert enterprise.verification_state == "verified" and enterprise.verified_at is not None
    event = session.scalars(select(VerificationEvent).where(VerificationEvent.enterprise_id == enterprise.id)
                            .order_by(VerificationEvent.id.desc())).first()
    assert (event.action, event.from_state, event.to_state, event.actor_id) == \
        ("approve", "pending", "verified", reviewer.id)
    [entry] = session.scalars(select(AuditEntry).where(AuditEntry.action == "enterprise.approve",
                                                       AuditEntry.object_id == enterprise.id))
    assert (entry.actor_id, entry.actor_role, entry.object_type) == (reviewer.id, "reviewer", "enterprise")
    assert entry.before["verification_state"] == "pending"
    assert entry.after["verification_state"] == "verified"
    assert entry.after["uscc"] == enterprise.uscc
    assert sorted(m.to_address for m in outbox(session, kind="enterprise_verified")) == \
        sorted([owner.email, co_owner.email])
    assert outbox(session, manager.email) == []


def test_reviewer_rejects_with_reason(session, client, login_as, post_form, make_user, make_enterprise):
    owner = make_user()
    enterprise = make_enterprise(owner=owner, state="pending")
    reviewer = login_as(make_user(staff_role="reviewer"))
    page = f"/staff/enterprises/{enterprise.id}"

    response = post_form(page, {"reason": f"  {REASON}  "}, url=f"{page}/reject")

    assert response.status_code == 302
    session.refresh(enterprise)
    assert enterprise.verification_state == "rejected"
    assert enterprise.rejection_reason == REASON
    event = session.scalars(select(VerificationEvent).where(VerificationEvent.enterprise_id == enterprise.id)
                            .order_by(VerificationEvent.id.desc())).first()
    assert (event.action, event.from_state, event.to_state, event.note, event.actor_id) == \
        ("reject", "pending", "rejected", REASON, reviewer.id)
    [entry] = session.scalars(select(AuditEntry).where(AuditEntry.action == "enterprise.reject",
                                                       AuditEntry.object_id == enterprise.id))
    assert entry.reason == REASON and entry.actor_id == reviewer.id
    assert (entry.before["verification_state"], entry.after["verification_state"]) == ("pending", "rejected")
    assert (entry.before["rejection_reason"], entry.after["rejection_reason"]) == ("", REASON)
    [mail] = outbox(session, owner.email, "enterprise_rejected")
    assert REASON in mail.body_text


def test_reject_needs_a_real_reason(session, login_as, post_form, make_user, make_enterprise):
    enterprise = make_enterprise(state="pending")
    login_as(make_user(staff_role="reviewer"))
    page = f"/staff/enterprises/{enterprise.id}"

    response = post_form(page, {"reason": "  no     "}, url=f"{page}/reject")

    assert response.status_code == 400
    assert field_error(response.get_data(as_text=True), "reason") == \
        "Tell the enterprise what to correct (at least 5 characters)."
    session.refresh(enterprise)
    assert enterprise.verification_state == "pending"
    assert count(session, AuditEntry, AuditEntry.object_id == enterprise.id,
                 AuditEntry.object_type == "enterprise") == 0
    assert outbox(session, kind="enterprise_rejected") == []


def test_approving_a_non_pending_enterprise_is_refused_with_the_reason(session, login_as, post_form, make_user,
                                                                       make_enterprise):
    enterprise = make_enterprise(state="verified")
    login_as(make_user(staff_role="reviewer"))
    page = f"/staff/enterprises/{enterprise.id}"
    events = count(session, VerificationEvent, VerificationEvent.enterprise_id == enterprise.id)

    response = post_form(page, url=f"{page}/approve")

    assert response.status_code == 409
    assert "That is not possible while the enterprise's verification is verified." in \
        alerts(response.get_data(as_text=True))
    assert count(session, VerificationEvent, VerificationEvent.enterprise_id == enterprise.id) == events
    assert count(session, AuditEntry, AuditEntry.action == "enterprise.approve",
                 AuditEntry.object_id == enterprise.id) == 1  # only the factory's approval


def test_rejected_enterprise_can_be_corrected_and_resubmitted(session, client, login_as, post_form, make_user,
                                                              make_enterprise):
    owner = login_as(make_user())
    enterprise = make_enterprise(owner=owner, state="rejected")
    old_licence = enterprise.licence_file_id
    page = f"/enterprises/{enterprise.id}"
    new_licence = png_bytes((5, 5, 250))

    edited = post_form(f"{page}/edit", edit_form(enterprise, new_licence, legal_name="更正后的名称有限公司"),
                       content_type="multipart/form-data")

    assert edited.status_code == 302
    session.refresh(enterprise)
    assert enterprise.legal_name == "更正后的名称有限公司"
    assert enterprise.licence_file_id != old_licence
    assert file_path(session.get(StoredFile, enterprise.licence_file_id)).read_bytes() == new_licence

    resubmitted = post_form(page, url=f"{page}/submit")

    assert resubmitted.status_code == 302
    session.refresh(enterprise)
    assert enterprise.verification_state == "pending" and enterprise.rejection_reason == ""
    event = session.scalars(select(VerificationEvent).where(VerificationEvent.enterprise_id == enterprise.id)
                            .order_by(VerificationEvent.id.desc())).first()
    assert (event.action, event.from_state, event.to_state) == ("submit", "rejected", "pending")


@pytest.mark.parametrize("state", ["pending", "verified"])
@pytest.mark.parametrize("change", ["legal_name", "uscc"])
def test_legal_details_are_locked_under_review_and_once_verified(session, client, login_as, post_form, make_user,
                                                                 make_enterprise, state, change):
    owner = login_as(make_user())
    enterprise = make_enterprise(owner=owner, state=state)
    before = enterprise.snapshot()
    new_value = {"legal_name": "改名有限公司", "uscc": valid_uscc()}[change]

    response = post_form(f"/enterprises/{enterprise.id}/edit", edit_form(enterprise, **{change: new_value}),
                         content_type="multipart/form-data")

    assert response.status_code == 409
    assert "The legal name, USCC and licence are locked while the enterprise is under review or verified." in \
        alerts(response.get_data(as_text=True))
    session.refresh(enterprise)
    assert enterprise.snapshot() == before


def test_other_details_stay_editable_when_verified(session, client, login_as, post_form, make_user,
                                                   make_enterprise):
    owner = login_as(make_user())
    enterprise = make_enterprise(owner=owner, state="verified")
    licence_before = enterprise.licence_file_id
    files_before = count(session, StoredFile)

    # A licence sent along anyway is ignored while the legal details are locked.
    response = post_form(f"/enterprises/{enterprise.id}/edit",
                         edit_form(enterprise, png_bytes((1, 2, 3)), contact_phone="+86 10 6666 0000"),
                         content_type="multipart/form-data")

    assert response.status_code == 302
    session.refresh(enterprise)
    assert enterprise.contact_phone == "+86 10 6666 0000"
    assert enterprise.verification_state == "verified"
    assert enterprise.licence_file_id == licence_before
    assert count(session, StoredFile) == files_before


@pytest.mark.parametrize("state", ["pending", "verified"])
def test_taken_uscc_can_be_declared_but_not_submitted(session, client, login_as, post_form, make_user,
                                                      make_enterprise, state):
    uscc = valid_uscc()
    make_enterprise(state=state, uscc=uscc)
    second_owner = login_as(make_user())

    created = post_form("/enterprises/new", enterprise_form(uscc, png_bytes()), content_type="multipart/form-data")

    assert created.status_code == 302
    second = session.scalar(select(Enterprise).where(Enterprise.created_by_id == second_owner.id))
    assert second.uscc == uscc and second.verification_state == "unverified"

    page = f"/enterprises/{second.id}"
    submitted = post_form(page, url=f"{page}/submit")

    assert submitted.status_code == 400
    assert "An enterprise with this USCC is already registered on Canal. Ask its owner to invite you." in \
        alerts(submitted.get_data(as_text=True))
    session.refresh(second)
    assert second.verification_state == "unverified"
    assert count(session, VerificationEvent, VerificationEvent.enterprise_id == second.id) == 0


@pytest.mark.parametrize("squatter_state", ["unverified", "rejected"])
def test_a_draft_or_rejected_enterprise_does_not_squat_a_uscc(session, client, login_as, post_form, make_user,
                                                              make_enterprise, squatter_state):
    uscc = valid_uscc()
    squatter = make_enterprise(state=squatter_state, uscc=uscc)
    real_owner = login_as(make_user())
    real = make_enterprise(owner=real_owner, uscc=uscc)
    page = f"/enterprises/{real.id}"

    response = post_form(page, url=f"{page}/submit")

    assert response.status_code == 302
    session.refresh(real)
    assert real.verification_state == "pending"

    # ... and now the squatter cannot submit it any more.
    squatter_owner = session.get(User, squatter.created_by_id)
    login_as(squatter_owner)
    page = f"/enterprises/{squatter.id}"
    refused = post_form(page, url=f"{page}/submit")
    assert refused.status_code == 400
    session.refresh(squatter)
    assert squatter.verification_state == squatter_state


def test_database_keeps_one_active_enterprise_per_uscc(session, make_enterprise):
    uscc = valid_uscc()
    make_enterprise(state="pending", uscc=uscc)
    draft = make_enterprise(uscc=uscc)

    with pytest.raises(IntegrityError):
        with session.begin_nested():
            draft.verification_state = "verified"
            session.flush()


# --- members and invitations ---------------------------------------------------------------------------


def invite(post_form, enterprise, email: str, role: str = "manager"):
    page = f"/enterprises/{enterprise.id}/members"
    return post_form(page, {"email": email, "role": role}, url=f"{page}/invite")


def test_invite_and_accept(session, client, login_as, post_form, make_user, make_enterprise):
    owner = login_as(make_user())
    enterprise = make_enterprise(owner=owner, state="verified")

    response = invite(post_form, enterprise, "New.Person@Example.com")

    assert response.status_code == 302
    invitation = session.scalar(select(Invitation).where(Invitation.enterprise_id == enterprise.id))
    assert (invitation.email, invitation.role, invitation.invited_by_id) == \
        ("new.person@example.com", "manager", owner.id)
    [mail] = outbox(session, "new.person@example.com", "invitation")
    path = link_path(mail.body_text)

    # Someone else, signed in with another address, cannot accept it.
    stranger = login_as(make_user())
    shown = client.get(path)
    assert shown.status_code == 200
    assert "this invitation is for new.person@example.com" in " ".join(alerts(shown.get_data(as_text=True)))
    refused = post_form(path)
    assert refused.status_code == 403
    assert "This invitation was sent to new.person@example.com. Log in with that address to accept it." in \
        alerts(refused.get_data(as_text=True))
    assert membership(session, enterprise, stranger) is None

    invitee = login_as(make_user(email="new.person@example.com", verified=False))
    accepted = post_form(path)

    assert accepted.status_code == 302
    assert accepted.headers["Location"] == f"/enterprises/{enterprise.id}"
    assert membership(session, enterprise, invitee).role == "manager"
    session.refresh(invitee)
    session.refresh(invitation)
    assert invitee.email_verified_at is not None
    assert invitation.accepted_by_id == invitee.id and invitation.accepted_at is not None
    again = client.get(path)
    assert again.status_code == 400
    assert "This invitation has already been accepted." in alerts(again.get_data(as_text=True))


def test_reinviting_replaces_the_open_invitation(session, client, login_as, post_form, make_user, make_enterprise):
    owner = login_as(make_user())
    enterprise = make_enterprise(owner=owner)

    invite(post_form, enterprise, "twice@example.com", "viewer")
    invite(post_form, enterprise, "Twice@Example.com", "finance")

    first, second = session.scalars(select(Invitation).where(Invitation.enterprise_id == enterprise.id)
                                    .order_by(Invitation.id)).all()
    session.refresh(first)
    assert first.revoked_at is not None and second.revoked_at is None
    assert second.role == "finance"
    old_mail, new_mail = outbox(session, "twice@example.com", "invitation")
    old = client.get(link_path(old_mail.body_text))
    assert old.status_code == 400
    assert "This invitation is not valid. Ask for a new one." in alerts(old.get_data(as_text=True))
    assert client.get(link_path(new_mail.body_text)).status_code == 200


def test_inviting_a_member_again_is_refused(session, login_as, post_form, make_user, make_enterprise, make_member):
    owner = login_as(make_user())
    enterprise = make_enterprise(owner=owner)
    member = make_member(enterprise, "viewer")

    response = invite(post_form, enterprise, member.email.upper())

    assert response.status_code == 400
    assert field_error(response.get_data(as_text=True), "email") == \
        f"{member.email} is already a member of this enterprise."
    assert count(session, Invitation, Invitation.enterprise_id == enterprise.id) == 0


def test_change_role(session, login_as, post_form, make_user, make_enterprise, make_member):
    owner = login_as(make_user())
    enterprise = make_enterprise(owner=owner)
    member = membership(session, enterprise, make_member(enterprise, "manager"))
    page = f"/enterprises/{enterprise.id}/members"

    response = post_form(page, {"role": "finance"}, url=f"{page}/{member.id}/role")

    assert response.status_code == 302
    session.refresh(member)
    assert member.role == "finance"
    [entry] = session.scalars(select(AuditEntry).where(AuditEntry.action == "membership.change_role",
                                                       AuditEntry.object_id == member.id))
    assert entry.before == {"role": "manager"}
    assert entry.after == {"role": "finance", "user_id": member.user_id}
    assert entry.actor_id == owner.id


def test_unknown_role_is_refused(session, login_as, post_form, make_user, make_enterprise, make_member):
    owner = login_as(make_user())
    enterprise = make_enterprise(owner=owner)
    member = membership(session, enterprise, make_member(enterprise, "viewer"))
    page = f"/enterprises/{enterprise.id}/members"

    response = post_form(page, {"role": "emperor"}, url=f"{page}/{member.id}/role")

    assert response.status_code == 400
    assert "Choose one of the roles." in alerts(response.get_data(as_text=True))
    session.refresh(member)
    assert member.role == "viewer"


def test_last_owner_cannot_be_demoted_or_leave(session, client, login_as, post_form, make_user, make_enterprise):
    owner = login_as(make_user())
    enterprise = make_enterprise(owner=owner)
    mine = membership(session, enterprise, owner)
    page = f"/enterprises/{enterprise.id}/members"

    demoted = post_form(page, {"role": "manager"}, url=f"{page}/{mine.id}/role")

    assert demoted.status_code == 400
    assert "An enterprise needs at least one owner. Make someone else an owner first." in \
        alerts(demoted.get_data(as_text=True))
    session.refresh(mine)
    assert mine.role == "owner"

    left = post_form(page, url=f"{page}/{mine.id}/remove")

    assert left.status_code == 403
    assert "The last owner cannot leave. Make someone else an owner first." in alerts(left.get_data(as_text=True))
    assert membership(session, enterprise, owner) is not None
    assert count(session, AuditEntry, AuditEntry.object_type == "membership", AuditEntry.object_id == mine.id) == 0


def test_an_owner_can_leave_when_another_owner_remains(session, client, login_as, post_form, make_user,
                                                       make_enterprise, make_member):
    owner = login_as(make_user())
    enterprise = make_enterprise(owner=owner)
    make_member(enterprise, "owner")
    mine = membership(session, enterprise, owner)
    page = f"/enterprises/{enterprise.id}/members"

    response = post_form(page, url=f"{page}/{mine.id}/remove")

    assert response.status_code == 302 and response.headers["Location"] == "/dashboard"
    assert membership(session, enterprise, owner) is None
    assert client.get(f"/enterprises/{enterprise.id}").status_code == 403


def test_remove_member(session, login_as, post_form, make_user, make_enterprise, make_member):
    owner = login_as(make_user())
    enterprise = make_enterprise(owner=owner)
    viewer = make_member(enterprise, "viewer")
    gone = membership(session, enterprise, viewer)
    page = f"/enterprises/{enterprise.id}/members"

    response = post_form(page, url=f"{page}/{gone.id}/remove")

    assert response.status_code == 302
    assert membership(session, enterprise, viewer) is None
    assert session.get(User, viewer.id) is not None  # the account stays
    [entry] = session.scalars(select(AuditEntry).where(AuditEntry.action == "membership.remove",
                                                       AuditEntry.object_id == gone.id))
    assert entry.before == {"role": "viewer", "user_id": viewer.id, "enterprise_id": enterprise.id}


# --- acting context ------------------------------------------------------------------------------------


def test_context_switch_offers_only_own_contexts(session, client, login_as, post_form, make_user,
                                                 make_enterprise):
    user = login_as(make_user())
    mine = make_enterprise(owner=user)
    theirs = make_enterprise()

    html = client.get(f"/enterprises/{mine.id}").get_data(as_text=True)
    assert input_values(html, "context") == [f"enterprise:{mine.id}"]

    for key in (f"enterprise:{theirs.id}", "staff", "creator", "enterprise:999999"):
        assert post_form("/settings", {"context": key}, url="/context").status_code == 400, key
        with client.session_transaction() as browser_session:
            assert browser_session.get("context") != key

    assert post_form("/settings", {"context": f"enterprise:{mine.id}"}, url="/context").status_code == 302
    with client.session_transaction() as browser_session:
        assert browser_session["context"] == f"enterprise:{mine.id}"


# --- command line and jobs -----------------------------------------------------------------------------


def flask_command(app, *args):
    """Run ``flask --app app <args>``: through FlaskGroup, which pushes the app context as the real CLI does."""
    cli = FlaskGroup(create_app=lambda: app, load_dotenv=False, set_debug_flag=False)
    return app.test_cli_runner().invoke(cli, list(args))


def test_create_staff_command(app, session):
    result = flask_command(app, "create-staff", "--email", "Rev@Example.com", "--role", "reviewer",
                           "--name", "Rev", "--password", NEW_PASSWORD)

    assert result.exit_code == 0, result.output
    assert "rev@example.com is now staff (reviewer)" in result.output
    user = session.scalar(select(User).where(User.email == "rev@example.com"))
    assert (user.staff_role, user.display_name) == ("reviewer", "Rev")
    assert user.email_verified_at is not None
    assert verify_password(user.password_hash, NEW_PASSWORD)
    [entry] = session.scalars(select(AuditEntry).where(AuditEntry.action == "staff.grant_role",
                                                       AuditEntry.object_id == user.id))
    assert (entry.actor_id, entry.actor_role, entry.object_type) == (None, "system", "user")
    assert entry.before is None
    assert entry.after == {"staff_role": "reviewer", "email": "rev@example.com"}


def test_create_staff_command_refuses_a_weak_password(app, session):
    users = count(session, User)

    result = flask_command(app, "create-staff", "--email", "weak@example.com", "--role", "admin",
                           "--password", "short")

    assert result.exit_code != 0
    assert "Use at least 10 characters." in result.output
    assert count(session, User) == users
    assert count(session, AuditEntry, AuditEntry.action == "staff.grant_role") == 0


def test_seed_demo_is_idempotent(tmp_root):
    from marketplace.creators.demo import DEMO_CREATORS
    from marketplace.seed import LOGINS

    root = tmp_root / "seed"
    root.mkdir(exist_ok=True)
    seed_app = build_app(create_test_database(tmp_root, "seed"), root)
    engine = database(seed_app).engine

    def counts():
        with engine.connect() as connection:
            return {model.__tablename__: connection.scalar(select(func.count()).select_from(model))
                    for model in (User, Enterprise, Membership, StoredFile, AuditEntry, OutboxEmail,
                                  VerificationEvent, Creator)}

    try:
        first = flask_command(seed_app, "seed-demo")
        assert first.exit_code == 0, first.output
        assert "demo data loaded" in first.output
        after_first = counts()
        assert after_first["users"] == len(LOGINS) + DEMO_CREATORS
        with engine.connect() as connection:
            states = sorted(connection.scalars(select(Enterprise.verification_state)))
        assert states == ["pending", "rejected", "verified"]

        second = flask_command(seed_app, "seed-demo")
        assert second.exit_code == 0, second.output
        assert "demo data already present" in second.output
        assert counts() == after_first
    finally:
        engine.dispose()


def test_mail_job_sends_each_email_once(app, session, capsys, make_user):
    first, second = make_user(), make_user()
    accounts.request_password_reset(session, first.email)
    accounts.request_password_reset(session, second.email)
    session.flush()
    capsys.readouterr()

    sent_first_run = run_job(app, "mail.deliver")
    sent_second_run = run_job(app, "mail.deliver")

    assert (sent_first_run, sent_second_run) == (2, 0)
    printed = capsys.readouterr().out
    for user in (first, second):
        assert printed.count(f"--- email to {user.email}: Reset your Canal password") == 1
        [mail] = outbox(session, user.email)
        session.refresh(mail)
        assert mail.sent_at is not None and mail.attempts == 1
