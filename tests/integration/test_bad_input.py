"""Bad input through the web: a 4xx, a clear message where the user looks for it, and nothing written."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import func, select

from marketplace.accounts import services as accounts
from marketplace.accounts.models import User, UserToken
from marketplace.audit.models import AuditEntry
from marketplace.creators.models import Creator
from marketplace.db import utcnow
from marketplace.enterprises import services as enterprises
from marketplace.enterprises.models import Enterprise, Invitation, Membership, VerificationEvent
from marketplace.files.models import StoredFile
from marketplace.mail.models import OutboxEmail
from marketplace.security import verify_password
from tests.conftest import PASSWORD, csrf_from, valid_uscc
from tests.integration.html_text import alerts, field_error, link_path, texts

STRONG = "quartz meadow violin 8813"
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
COUNTED = (User, Creator, UserToken, Enterprise, Membership, Invitation, VerificationEvent, StoredFile,
           OutboxEmail, AuditEntry)


def snapshot(app, session) -> dict:
    """Row counts of every table a refused request could touch, token use, and the files in the store."""
    state = {model.__tablename__: session.scalar(select(func.count()).select_from(model)) for model in COUNTED}
    state["user_tokens.used_at"] = session.execute(select(UserToken.id, UserToken.used_at).order_by(UserToken.id)).all()
    root = Path(app.config["UPLOAD_DIR"])
    state["files on disk"] = sorted(str(p) for p in root.rglob("*") if p.is_file()) if root.exists() else []
    return state


def png_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 10, 10)).save(out, format="PNG")
    return out.getvalue()


def pdf_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (10, 10, 200)).save(out, format="PDF")
    return out.getvalue()


def zip_bytes() -> bytes:
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("licence.txt", "not an image")
    return out.getvalue()


def enterprise_form(uscc: str, licence: tuple[bytes, str] | None = None, **overrides) -> dict:
    data = {
        "legal_name": "上海测试贸易有限公司",
        "display_name": "Test Trading",
        "uscc": uscc,
        "contact_name": "Li Lei",
        "contact_phone": "+86 21 5555 0000",
        "contact_email": "contact@example.com",
        "invoice_title": "",
        "tax_number": "",
    }
    if licence is not None:
        data["licence"] = (io.BytesIO(licence[0]), licence[1])
    data.update(overrides)
    return data


def wrong_check_digit(uscc: str) -> str:
    return uscc[:-1] + next(c for c in USCC_ALPHABET if c != uscc[-1])


def reset_token_for(session, user) -> str:
    accounts.request_password_reset(session, user.email)
    mail = session.scalars(select(OutboxEmail).where(OutboxEmail.to_address == user.email,
                                                     OutboxEmail.kind == "reset_password")
                           .order_by(OutboxEmail.id.desc())).first()
    return link_path(mail.body_text).rsplit("/", 1)[1]


# --- enterprise creation: USCC and licence -----------------------------------------------------------


@pytest.mark.parametrize(
    ("uscc", "message"),
    [
        pytest.param(wrong_check_digit(valid_uscc(424242)),
                     "This is not a valid unified social credit code: check the 18 characters and the check digit.",
                     id="wrong-check-digit"),
        pytest.param(valid_uscc(424243)[:17], "The USCC has 18 characters.", id="17-characters"),
        pytest.param(valid_uscc(424244) + "1", "The USCC has 18 characters.", id="19-characters"),
    ],
)
def test_invalid_uscc_is_refused_beside_the_field(app, session, make_user, login_as, post_form, uscc, message):
    login_as(make_user())
    before = snapshot(app, session)

    # A valid licence comes along: it must not be stored when the USCC is refused.
    response = post_form("/enterprises/new", enterprise_form(uscc, (png_bytes(), "licence.png")),
                         content_type="multipart/form-data")

    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert field_error(html, "uscc") == message
    assert "Please correct the fields marked below." in alerts(html)
    assert snapshot(app, session) == before


@pytest.mark.parametrize("kind", ["png", "pdf"])
def test_licence_too_large_is_refused(app, session, make_user, login_as, post_form, kind):
    limit = app.config["LICENCE_MAX_BYTES"]
    assert limit == 5 * 1024 * 1024
    head = png_bytes() if kind == "png" else pdf_bytes()
    data = head + b"\0" * (limit + 1 - len(head))
    login_as(make_user())
    before = snapshot(app, session)

    response = post_form("/enterprises/new", enterprise_form(valid_uscc(), (data, f"licence.{kind}")),
                         content_type="multipart/form-data")

    assert response.status_code == 400
    assert field_error(response.get_data(as_text=True), "licence") == "The file is too large: at most 5 MB."
    assert snapshot(app, session) == before


@pytest.mark.parametrize(
    ("data", "name"),
    [
        pytest.param(zip_bytes(), "licence.png", id="zip-named-png"),
        pytest.param(b"This is my business licence, honestly.\n" * 20, "licence.png", id="text-named-png"),
        pytest.param(b"GIF89a" + b"\0" * 200, "licence.pdf", id="gif-named-pdf"),
    ],
)
def test_licence_of_another_type_is_refused_by_content(app, session, make_user, login_as, post_form, data, name):
    login_as(make_user())
    before = snapshot(app, session)

    response = post_form("/enterprises/new", enterprise_form(valid_uscc(), (data, name)),
                         content_type="multipart/form-data")

    assert response.status_code == 400
    assert field_error(response.get_data(as_text=True), "licence") == \
        "This file is not an accepted type (JPEG, PDF, PNG)."
    assert snapshot(app, session) == before


def test_real_pdf_named_txt_is_accepted_as_pdf(app, session, make_user, login_as, post_form):
    """The counterpart of the tests above: detection is by content, not by the file name."""
    user = login_as(make_user())
    data = pdf_bytes()

    response = post_form("/enterprises/new", enterprise_form(valid_uscc(), (data, "licence.txt")),
                         content_type="multipart/form-data")

    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    enterprise = session.scalar(select(Enterprise).where(Enterprise.created_by_id == user.id))
    stored = session.get(StoredFile, enterprise.licence_file_id)
    assert stored.content_type == "application/pdf"
    assert stored.size == len(data)
    assert stored.original_name == "licence.txt"


def test_damaged_png_is_refused(app, session, make_user, login_as, post_form):
    data = png_bytes()[:60]  # a PNG signature and header, then nothing
    login_as(make_user())
    before = snapshot(app, session)

    response = post_form("/enterprises/new", enterprise_form(valid_uscc(), (data, "licence.png")),
                         content_type="multipart/form-data")

    assert response.status_code == 400
    assert field_error(response.get_data(as_text=True), "licence") == \
        "The image could not be read; it may be damaged."
    assert snapshot(app, session) == before


# --- sign-up ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["brand", "creator"])
def test_signup_with_taken_email_in_other_case_is_refused(app, session, make_user, post_form, kind):
    make_user(email="ada@example.com")
    before = snapshot(app, session)

    response = post_form("/signup", {"kind": kind, "display_name": "Ada Again", "email": "Ada@Example.com",
                                     "password": STRONG})

    assert response.status_code == 400
    assert field_error(response.get_data(as_text=True), "email") == \
        "An account with this email already exists. Log in or reset your password."
    assert snapshot(app, session) == before


@pytest.mark.parametrize(
    ("password", "message"),
    [
        pytest.param("Tq9!zv", "Use at least 10 characters.", id="short"),
        pytest.param("gracehopper-Quartz-88", "Don't use your name or email address in your password.",
                     id="contains-email"),
        pytest.param("password1234", "This password is too easy to guess. Add more words or mix in unusual ones.",
                     id="common"),
    ],
)
def test_signup_with_weak_password_is_refused(app, session, post_form, password, message):
    before = snapshot(app, session)

    response = post_form("/signup", {"kind": "brand", "display_name": "Grace", "email": "gracehopper@example.com",
                                     "password": password})

    assert response.status_code == 400
    assert field_error(response.get_data(as_text=True), "password") == message
    assert snapshot(app, session) == before


def test_signup_without_csrf_token_is_refused(app, session, client):
    client.get("/signup")  # a session exists; only the token is missing from the form
    before = snapshot(app, session)

    response = client.post("/signup", data={"kind": "brand", "display_name": "Eve", "email": "eve@example.com",
                                            "password": STRONG})

    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Your form expired or was sent from another site. Reload the page and try again." in \
        texts(html, cls="error-page")[0]
    assert snapshot(app, session) == before
    assert session.scalar(select(User).where(User.email == "eve@example.com")) is None


# --- password reset -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("password", "confirm", "field", "message"),
    [
        pytest.param("Tq9!zv", "Tq9!zv", "password", "Use at least 10 characters.", id="short"),
        pytest.param("password1234", "password1234", "password",
                     "This password is too easy to guess. Add more words or mix in unusual ones.", id="common"),
        pytest.param(STRONG, STRONG + "x", "confirm", "The passwords don't match.", id="mismatch"),
    ],
)
def test_reset_with_weak_password_is_refused(app, session, client, make_user, password, confirm, field, message):
    user = make_user()
    token = reset_token_for(session, user)
    old_hash, old_version = user.password_hash, user.session_version
    page = f"/password/reset/{token}"
    form_page = client.get(page)
    assert form_page.status_code == 200
    csrf = csrf_from(form_page.get_data(as_text=True))
    before = snapshot(app, session)

    response = client.post(page, data={"csrf_token": csrf, "password": password, "confirm": confirm})

    assert response.status_code == 400
    assert field_error(response.get_data(as_text=True), field) == message
    assert snapshot(app, session) == before  # the token was not used up
    session.refresh(user)
    assert (user.password_hash, user.session_version) == (old_hash, old_version)
    assert verify_password(user.password_hash, PASSWORD)


def test_expired_reset_link_is_refused(app, session, client, post_form, make_user):
    user = make_user()
    token = reset_token_for(session, user)
    row = session.scalar(select(UserToken).where(UserToken.user_id == user.id, UserToken.purpose == "reset_password"))
    row.expires_at = utcnow() - timedelta(minutes=1)
    session.flush()
    old_hash = user.password_hash
    before = snapshot(app, session)
    page = f"/password/reset/{token}"

    shown = client.get(page)
    assert shown.status_code == 400
    assert "This link has expired. Ask for a new one." in alerts(shown.get_data(as_text=True))

    posted = post_form(page, {"password": STRONG, "confirm": STRONG})
    assert posted.status_code == 400
    assert "This link has expired. Ask for a new one." in alerts(posted.get_data(as_text=True))
    assert snapshot(app, session) == before
    session.refresh(user)
    assert user.password_hash == old_hash


def test_used_reset_link_is_refused(app, session, client, post_form, make_user):
    user = make_user()
    token = reset_token_for(session, user)
    page = f"/password/reset/{token}"
    first = post_form(page, {"password": STRONG, "confirm": STRONG})
    assert first.status_code == 302
    session.refresh(user)
    hash_after_first, version_after_first = user.password_hash, user.session_version
    before = snapshot(app, session)

    shown = client.get(page)
    assert shown.status_code == 400
    assert "This link has already been used. Ask for a new one." in alerts(shown.get_data(as_text=True))

    posted = post_form(page, {"password": "another lantern orchid 5150", "confirm": "another lantern orchid 5150"})
    assert posted.status_code == 400
    assert "This link has already been used. Ask for a new one." in alerts(posted.get_data(as_text=True))
    assert snapshot(app, session) == before
    session.refresh(user)
    assert (user.password_hash, user.session_version) == (hash_after_first, version_after_first)
    assert verify_password(user.password_hash, STRONG)


# --- email verification -------------------------------------------------------------------------------


def test_unknown_verification_link_is_refused(app, session, client):
    before = snapshot(app, session)

    response = client.get("/verify-email/not-a-token-we-ever-sent")

    assert response.status_code == 400
    assert "This link is not valid. Ask for a new one." in alerts(response.get_data(as_text=True))
    assert snapshot(app, session) == before


def test_used_verification_link_is_refused(app, session, client, make_user):
    user = make_user(verified=False)
    accounts.send_verification_email(session, user)
    mail = session.scalar(select(OutboxEmail).where(OutboxEmail.to_address == user.email,
                                                    OutboxEmail.kind == "verify_email"))
    path = link_path(mail.body_text)
    assert client.get(path).status_code == 302
    session.refresh(user)
    verified_at = user.email_verified_at
    assert verified_at is not None
    before = snapshot(app, session)

    response = client.get(path)

    assert response.status_code == 400
    assert "This link has already been used. Ask for a new one." in alerts(response.get_data(as_text=True))
    assert snapshot(app, session) == before
    session.refresh(user)
    assert user.email_verified_at == verified_at


# --- invitations --------------------------------------------------------------------------------------


def test_expired_invitation_link_is_refused(app, session, client, login_as, post_form, make_user, make_enterprise):
    owner = make_user()
    enterprise = make_enterprise(owner=owner, state="verified")
    invitee = make_user(email="late.joiner@example.com", verified=False)
    days = app.config["INVITE_DAYS"]
    enterprises.invite_member(session, owner, enterprise, invitee.email, "manager",
                              now=utcnow() - timedelta(days=days, minutes=1))
    mail = session.scalar(select(OutboxEmail).where(OutboxEmail.to_address == invitee.email,
                                                    OutboxEmail.kind == "invitation"))
    path = link_path(mail.body_text)
    message = "This invitation has expired. Ask the enterprise owner to invite you again."
    before = snapshot(app, session)

    anonymous = client.get(path)
    assert anonymous.status_code == 400
    assert message in alerts(anonymous.get_data(as_text=True))

    login_as(invitee)
    accepted = post_form(path)
    assert accepted.status_code == 400
    assert message in alerts(accepted.get_data(as_text=True))

    assert snapshot(app, session) == before
    invitation = session.scalar(select(Invitation).where(Invitation.email == invitee.email))
    session.refresh(invitation)
    session.refresh(invitee)
    assert invitation.accepted_at is None
    assert invitee.email_verified_at is None  # an expired link proves nothing
    assert session.scalar(select(Membership).where(Membership.user_id == invitee.id)) is None
