"""Creator onboarding through the web: profile and avatar, rate card versions, real-name verification and its
review, and the profile page brands see (visibility and charts).

Bad input gets a 4xx with the message beside the field, and writes nothing (rows, columns, stored files).
"""

from __future__ import annotations

import hashlib
import hmac
import io
import os
import re
from datetime import timedelta
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage

from marketplace.audit.models import AuditEntry
from marketplace.creators import services
from marketplace.creators.models import (
    Creator,
    CreatorCategory,
    CreatorRegion,
    IdentityVerification,
    PlatformAccount,
    RateCardPrice,
    RateCardVersion,
    StatSnapshot,
    Work,
)
from marketplace.db import utcnow
from marketplace.errors import NotAllowed, ValidationFailed
from marketplace.files.models import StoredFile
from marketplace.files.services import file_path
from marketplace.mail.models import OutboxEmail
from tests.conftest import csrf_from
from tests.integration.html_text import alerts, field_error, texts

VALID_RIC = "11010519491231002X"
BAD_CHECK_DIGIT_RIC = "110105194912310021"


# --- helpers ---------------------------------------------------------------------------------------------


def image_bytes(fmt: str = "PNG", size=(60, 40), mode: str = "RGB", color=(200, 10, 10), exif: bool = False) -> bytes:
    out = io.BytesIO()
    image = Image.new(mode, size, color)
    kwargs = {}
    if exif:
        data = Image.Exif()
        data[0x010F] = "SecretCam"  # Make
        data[0x0131] = "leaky-software 1.0"  # Software
        kwargs["exif"] = data.tobytes()
    image.save(out, format=fmt, **kwargs)
    return out.getvalue()


def noise_png(side: int = 900) -> bytes:
    """A PNG larger than 2 MB (noise does not compress)."""
    out = io.BytesIO()
    Image.frombytes("RGB", (side, side), os.urandom(side * side * 3)).save(out, format="PNG")
    return out.getvalue()


def zip_bytes() -> bytes:
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("avatar.txt", "not an image")
    return out.getvalue()


@pytest.fixture
def creator_user(session, make_user):
    user = make_user(signup_kind="creator", display_name="Mia 米娅")
    services.become_creator(session, user)
    session.flush()
    return user


@pytest.fixture
def creator(session, creator_user):
    return services.creator_for_user(session, creator_user)


@pytest.fixture
def as_creator(login_as, creator_user):
    return login_as(creator_user, context="creator")


def profile_data(**overrides) -> dict:
    data = {"handle": "mia_beauty", "display_name": "Mia 米娅", "kind": "individual", "bio": "美妆测评，每周三更新",
            "categories": ["beauty", "fashion"], "regions": ["31", "44"], "languages": ["zh", "en"],
            "accepting_orders": "y"}
    data.update(overrides)
    return data


def link_account(session, creator: Creator, handle: str = "mia_beauty") -> PlatformAccount:
    account = PlatformAccount(creator_id=creator.id, platform="sandbox", external_id=handle, handle=f"@{handle}")
    session.add(account)
    session.flush()
    session.refresh(creator)
    return account


def snapshot(app, session, creator: Creator) -> dict:
    """Every row and column a refused creator request could touch, and the files in the store."""
    session.expire_all()
    c = session.get(Creator, creator.id)
    counted = (StoredFile, CreatorCategory, CreatorRegion, RateCardVersion, RateCardPrice, IdentityVerification,
               AuditEntry, OutboxEmail)
    state = {model.__tablename__: session.scalar(select(func.count()).select_from(model)) for model in counted}
    state["creator"] = {column.key: getattr(c, column.key) for column in Creator.__table__.columns}
    root = Path(app.config["UPLOAD_DIR"])
    state["files on disk"] = sorted(str(p) for p in root.rglob("*") if p.is_file()) if root.exists() else []
    return state


def post_page(client, path: str, data: dict):
    token = csrf_from(client.get(path).get_data(as_text=True))
    return client.post(path, data={"csrf_token": token, **data}, content_type="multipart/form-data")


# --- profile ---------------------------------------------------------------------------------------------


def test_profile_saves_and_lists_once_a_platform_account_is_linked(app, client, session, creator, as_creator):
    page = client.get("/creator/profile")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    # The multi-selects are checkbox groups: a fieldset with a legend, one labelled checkbox per choice.
    assert re.search(r'<fieldset class="field field-checks[^"]*" id="categories"', html)
    assert '<legend>Categories</legend>' in html
    assert re.search(r'<label class="check-choice"><input type="checkbox" name="categories" value="beauty"', html)

    response = post_page(client, "/creator/profile",
                         profile_data(avatar=(io.BytesIO(image_bytes("JPEG", (600, 300), exif=True)), "me.jpg")))
    assert response.status_code == 302, texts(response.get_data(as_text=True), cls="field-error")
    session.expire_all()
    creator = session.get(Creator, creator.id)
    assert creator.handle == "mia_beauty" and creator.display_name == "Mia 米娅"
    assert creator.category_codes == ["beauty", "fashion"] and creator.region_codes == ["31", "44"]
    assert creator.languages == ["zh", "en"] and creator.accepting_orders is True
    assert creator.listed is False  # no platform account yet

    # The avatar was re-encoded: 256×256, JPEG, no EXIF.
    stored = creator.avatar
    assert stored.content_type == "image/jpeg" and stored.uploaded_by_id == creator.user_id
    data = file_path(stored).read_bytes()
    assert b"SecretCam" not in data and b"leaky-software" not in data
    with Image.open(io.BytesIO(data)) as image:
        assert image.size == (256, 256) and image.format == "JPEG"
        assert not image.getexif()
    # The page shows the current avatar, which the creator may load.
    html = client.get(response.location).get_data(as_text=True)
    assert f'/creators/{creator.id}/avatar?v={stored.id}' in html
    assert client.get(f"/creators/{creator.id}/avatar?v={stored.id}").mimetype == "image/jpeg"

    link_account(session, creator)
    response = post_page(client, "/creator/profile", profile_data(categories=["beauty"]))
    assert response.status_code == 302
    session.expire_all()
    creator = session.get(Creator, creator.id)
    assert creator.listed is True and creator.category_codes == ["beauty"]
    assert creator.avatar_file_id == stored.id  # no new file: the avatar is kept


def test_transparent_avatar_stays_png_and_webp_is_accepted(session, creator):
    services.set_avatar(session, creator, FileStorage(io.BytesIO(image_bytes("PNG", (300, 500), "RGBA",
                                                                             (0, 0, 0, 0))), "a.png"))
    with Image.open(file_path(creator.avatar)) as image:
        assert image.format == "PNG" and image.size == (256, 256) and image.mode == "RGBA"
    services.set_avatar(session, creator, FileStorage(io.BytesIO(image_bytes("WEBP", (256, 256))), "a.webp"))
    with Image.open(file_path(creator.avatar)) as image:
        assert image.format == "JPEG" and image.size == (256, 256)


def test_avatar_is_a_centre_crop(session, creator):
    # Left third red, middle third green, right third blue: the square crop keeps the green middle.
    image = Image.new("RGB", (900, 300), (0, 200, 0))
    image.paste((255, 0, 0), (0, 0, 300, 300))
    image.paste((0, 0, 255), (600, 0, 900, 300))
    out = io.BytesIO()
    image.save(out, format="PNG")
    services.set_avatar(session, creator, FileStorage(io.BytesIO(out.getvalue()), "wide.png"))
    with Image.open(file_path(creator.avatar)) as avatar:
        r, g, b = avatar.convert("RGB").getpixel((128, 128))
        assert g > 150 and r < 60 and b < 60
        r, g, b = avatar.convert("RGB").getpixel((3, 128))
        assert g > 150


BAD_PROFILES = [
    pytest.param({"categories": ["beauty", "astrology"]}, None, "categories", "Choose categories from the list",
                 id="unknown category posted by hand"),
    pytest.param({"categories": ["beauty", "food", "travel", "tech"]}, None, "categories", "at most 3",
                 id="four categories"),
    pytest.param({"regions": ["44", "99"]}, None, "regions", "Choose regions from the list", id="unknown region"),
    pytest.param({"languages": ["xx"]}, None, "languages", "Choose languages from the list", id="unknown language"),
    pytest.param({"handle": "Bad Handle!"}, None, "handle", "lower-case letters", id="handle format"),
    pytest.param({"handle": "taken_one"}, None, "handle", "@taken_one is taken", id="duplicate handle"),
    pytest.param({}, "big", "avatar", "too large: at most 2 MB", id="avatar over 2 MB"),
    pytest.param({}, "zip", "avatar", "not an accepted type", id="avatar not an image"),
    pytest.param({}, "fake-png", "avatar", "could not be read", id="avatar with a PNG header only"),
]


@pytest.mark.parametrize(("overrides", "avatar", "field", "message"), BAD_PROFILES)
def test_bad_profile_input_writes_nothing(app, client, session, make_user, creator, as_creator, overrides, avatar,
                                          field, message):
    other = services.become_creator(session, make_user())
    other.handle = "taken_one"
    session.flush()
    data = profile_data(**overrides)
    if avatar == "big":
        data["avatar"] = (io.BytesIO(noise_png()), "huge.png")
    elif avatar == "zip":
        data["avatar"] = (io.BytesIO(zip_bytes()), "avatar.png")
    elif avatar == "fake-png":
        data["avatar"] = (io.BytesIO(image_bytes()[:40] + b"\0" * 200), "broken.png")
    before = snapshot(app, session, creator)
    response = post_page(client, "/creator/profile", data)
    assert response.status_code == 400
    assert message in field_error(response.get_data(as_text=True), field)
    assert snapshot(app, session, creator) == before


# --- platform account ------------------------------------------------------------------------------------


def test_linking_the_sandbox_account_imports_statistics(client, session, creator, as_creator):
    page = client.get("/creator/platform").get_data(as_text=True)
    assert "Account handle or profile URL" in page
    response = post_page(client, "/creator/platform", {"account": "@mia_beauty"})
    assert response.status_code == 302
    session.expire_all()
    creator = session.get(Creator, creator.id)
    account = creator.platform_account
    assert account.handle == "@mia_beauty" and account.refreshed_at is not None
    assert creator.followers > 0 and creator.audience.get("gender")
    snapshots = session.scalar(select(func.count()).select_from(StatSnapshot)
                               .where(StatSnapshot.creator_id == creator.id))
    works = session.scalar(select(func.count()).select_from(Work).where(Work.creator_id == creator.id))
    assert snapshots == 90 and works > 0
    html = client.get("/creator/platform").get_data(as_text=True)
    assert "Linked to @mia_beauty" in html and f"{creator.followers:,}" in html
    assert "Link a different account" in html

    # With a handle and a category the creator is listed, and the charts have the imported data.
    post_page(client, "/creator/profile", profile_data())
    session.expire_all()
    assert session.get(Creator, creator.id).listed
    html = client.get(f"/creators/{creator.id}").get_data(as_text=True)
    assert _svg(_figure(html, "chart-trend")).count('class="chart-point"') == 90
    assert _svg(_figure(html, "chart-works")).count('class="chart-bar"') == min(works, 12)
    assert _svg(_figure(html, "chart-age")).count('class="chart-bar"') == 5


@pytest.mark.parametrize(("account", "message"), [
    ("@taken_beauty", "already linked to another creator"),
    ("not a handle!!", "could not find that account"),
])
def test_bad_platform_account_writes_nothing(app, client, session, make_user, creator, as_creator, account,
                                             message):
    other = services.become_creator(session, make_user())
    link_account(session, other, "taken_beauty")
    before = snapshot(app, session, creator)
    accounts = session.scalar(select(func.count()).select_from(PlatformAccount))
    response = post_page(client, "/creator/platform", {"account": account})
    assert response.status_code == 400
    assert message in field_error(response.get_data(as_text=True), "account")
    assert snapshot(app, session, creator) == before
    assert session.scalar(select(func.count()).select_from(PlatformAccount)) == accounts


# --- rate card -------------------------------------------------------------------------------------------


def rate_form(**overrides) -> dict:
    data = {"price_short_video": "5,000", "price_long_video": "", "price_livestream": "1200.50",
            "price_image_text": "", "revision_rounds": "2", "lead_time_days": "10", "notes": "含 30 天使用权"}
    data.update(overrides)
    return data


def test_rate_card_versions_are_appended_and_the_first_never_changes(client, session, creator, as_creator):
    assert post_page(client, "/creator/rate-card", rate_form()).status_code == 302
    session.expire_all()
    first = session.scalar(select(RateCardVersion).where(RateCardVersion.creator_id == creator.id))
    first_prices = {p.content_type: p.price for p in first.prices}
    assert first.version == 1 and first_prices == {"short_video": 5_000_00, "livestream": 1_200_50}
    first_row = (first.revision_rounds, first.lead_time_days, first.notes, first.created_at)

    response = post_page(client, "/creator/rate-card", rate_form(price_short_video="6000", price_image_text="99.9",
                                                                 price_livestream="", revision_rounds="1"))
    assert response.status_code == 302
    # The same content again appends nothing.
    again = post_page(client, "/creator/rate-card", rate_form(price_short_video="6000", price_image_text="99.9",
                                                              price_livestream="", revision_rounds="1"))
    assert again.status_code == 302
    assert "Nothing changed" in " ".join(alerts(client.get(again.location).get_data(as_text=True)))

    session.expire_all()
    versions = services.rate_card_history(session, session.get(Creator, creator.id))
    assert [v.version for v in versions] == [2, 1]
    latest, first = versions
    assert {p.content_type: p.price for p in first.prices} == first_prices
    assert (first.revision_rounds, first.lead_time_days, first.notes, first.created_at) == first_row
    assert {p.content_type: p.price for p in latest.prices} == {"short_video": 6_000_00, "image_text": 99_90}
    creator = session.get(Creator, creator.id)
    assert creator.rate_card_version_id == latest.id
    assert (creator.price_short_video, creator.price_long_video, creator.price_livestream,
            creator.price_image_text) == (6_000_00, None, None, 99_90)

    html = client.get("/creator/rate-card").get_data(as_text=True)
    assert "¥6,000.00" in html and "¥1,200.50" in html  # current and history
    assert html.count("<tr>") >= 3  # header + two versions


BAD_RATE_CARDS = [
    pytest.param({"price_short_video": "-100"}, "price_short_video", "positive", id="negative price"),
    pytest.param({"price_short_video": "0.50"}, "price_short_video", "at least ¥1", id="under one yuan"),
    pytest.param({"price_short_video": "10000000.01"}, "price_short_video", "At most ¥10,000,000", id="over max"),
    pytest.param({"price_short_video": "12.345"}, "price_short_video", "two decimals", id="three decimals"),
    pytest.param({"price_short_video": "abc"}, "price_short_video", "amount in yuan", id="not a number"),
    pytest.param({"revision_rounds": "6"}, "revision_rounds", "Between 0 and 5", id="too many rounds"),
    pytest.param({"lead_time_days": "0"}, "lead_time_days", "Between 1 and 90", id="no lead time"),
    pytest.param({"lead_time_days": "91"}, "lead_time_days", "Between 1 and 90", id="long lead time"),
]


@pytest.mark.parametrize(("overrides", "field", "message"), BAD_RATE_CARDS)
def test_bad_rate_card_writes_no_version(app, client, session, creator, as_creator, overrides, field, message):
    services.save_rate_card(session, creator, {"short_video": 3_000_00}, 1, 7, "")
    before = snapshot(app, session, creator)
    response = post_page(client, "/creator/rate-card", rate_form(**overrides))
    assert response.status_code == 400
    assert message in field_error(response.get_data(as_text=True), field)
    assert snapshot(app, session, creator) == before


def test_a_rate_card_needs_a_price(app, client, session, creator, as_creator):
    before = snapshot(app, session, creator)
    response = post_page(client, "/creator/rate-card", rate_form(price_short_video="", price_livestream=""))
    assert response.status_code == 400
    assert "Set a price for at least one content type." in alerts(response.get_data(as_text=True))
    assert snapshot(app, session, creator) == before


@pytest.mark.parametrize(("prices", "field"), [
    ({"short_video": -100}, "price_short_video"),
    ({"podcast": 100_00}, "prices"),
    ({"short_video": 1_000_000_001}, "price_short_video"),
    ({"short_video": None}, "prices"),
])
def test_save_rate_card_refuses_bad_prices_on_their_field(session, creator, prices, field):
    with pytest.raises(ValidationFailed) as caught:
        services.save_rate_card(session, creator, prices, 1, 7, "")
    assert caught.value.field == field
    assert session.scalar(select(func.count()).select_from(RateCardVersion)
                          .where(RateCardVersion.creator_id == creator.id)) == 0


# --- real-name verification ------------------------------------------------------------------------------


def identity_form(number: str = VALID_RIC, id_type: str = "resident_id", photo: bytes | None = None) -> dict:
    return {"legal_name": "张三", "id_type": id_type, "id_number": number,
            "photo": (io.BytesIO(photo if photo is not None else image_bytes()), "id.png")}


def test_identity_request_stores_only_a_masked_number_and_its_hmac(app, client, session, creator, as_creator):
    response = post_page(client, "/creator/verification", identity_form(number="110105 19491231 002x"))
    assert response.status_code == 302
    session.expire_all()
    request = session.scalar(select(IdentityVerification).where(IdentityVerification.creator_id == creator.id))
    assert request.state == "pending" and request.legal_name == "张三"
    assert request.id_number_masked == "1*************002X"
    key = app.config["SECRET_KEY"].encode()
    assert request.id_number_hash == hmac.new(key, VALID_RIC.encode(), hashlib.sha256).hexdigest()
    row = session.execute(select(IdentityVerification.__table__).where(IdentityVerification.id == request.id)).one()
    for value in row:
        assert VALID_RIC not in str(value) and VALID_RIC[1:14] not in str(value)
    page = client.get("/creator/verification").get_data(as_text=True)
    assert "Waiting for review" in page and VALID_RIC not in page
    # The creator sees their own photo; a second request while this one is pending is refused.
    assert client.get(f"/creator/verification/{request.id}/photo").mimetype == "image/png"
    second = post_page(client, "/creator/verification", identity_form())
    assert second.status_code == 409
    assert session.scalar(select(func.count()).select_from(IdentityVerification)) == 1


@pytest.mark.parametrize(("form", "field", "message"), [
    pytest.param(identity_form(BAD_CHECK_DIGIT_RIC), "id_number", "check digit", id="resident ID check digit"),
    pytest.param(identity_form("11010519491231002"), "id_number", "18 characters", id="resident ID length"),
    pytest.param(identity_form("E1234", "hk_macao_permit"), "id_number", "H or M", id="bad HK permit"),
    pytest.param(identity_form("ABC", "passport"), "id_number", "5 to 17", id="short passport"),
    pytest.param(identity_form(id_type="driving_licence"), "id_type", "type of your ID", id="unknown ID type"),
    pytest.param(identity_form(photo=zip_bytes()), "photo", "not an accepted type", id="photo not an image"),
    pytest.param(identity_form(photo=b""), "photo", "empty", id="empty photo"),
])
def test_bad_identity_request_writes_nothing(app, client, session, creator, as_creator, form, field, message):
    before = snapshot(app, session, creator)
    response = post_page(client, "/creator/verification", form)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert message in field_error(html, field)
    assert snapshot(app, session, creator) == before


@pytest.mark.parametrize(("id_type", "number", "cleaned"), [
    ("resident_id", "11010519491231002x", "11010519491231002X"),
    ("passport", "e 1234 5678", "E12345678"),
    ("hk_macao_permit", "H12345678", "H12345678"),
    ("hk_macao_permit", "M1234567801", "M1234567801"),
    ("taiwan_permit", "12345678", "12345678"),
])
def test_id_number_formats(id_type, number, cleaned):
    assert services.clean_id_number(id_type, number) == cleaned


@pytest.mark.parametrize(("id_type", "number"), [
    ("taiwan_permit", "1234567"), ("taiwan_permit", "T12345678"), ("hk_macao_permit", "H1234567"),
    ("passport", "A" * 18), ("resident_id", "11010519491331002X"),
])
def test_bad_id_numbers(id_type, number):
    with pytest.raises(ValidationFailed) as caught:
        services.clean_id_number(id_type, number)
    assert caught.value.field == "id_number"


def test_masking():
    assert services.mask_id_number("12345678") == "1***5678"
    assert services.mask_id_number("H12345678") == "H****5678"


@pytest.fixture
def pending_request(session, creator):
    return services.submit_identity(session, creator, "张三", "resident_id", VALID_RIC,
                                    FileStorage(io.BytesIO(image_bytes()), "id.png"))


def test_reviewer_approves_and_it_is_audited(app, client, session, make_user, login_as, creator, pending_request):
    reviewer = login_as(make_user(staff_role="reviewer"), context="staff")
    queue = client.get("/staff/identity").get_data(as_text=True)
    assert "张三" in queue and "1*************002X" in queue
    detail = client.get(f"/staff/identity/{pending_request.id}").get_data(as_text=True)
    assert f"/staff/identity/{pending_request.id}/photo" in detail and VALID_RIC not in detail
    assert client.get(f"/staff/identity/{pending_request.id}/photo").mimetype == "image/png"

    response = client.post(f"/staff/identity/{pending_request.id}/approve", data={"csrf_token": csrf_from(detail)})
    assert response.status_code == 302
    session.expire_all()
    request = session.get(IdentityVerification, pending_request.id)
    assert request.state == "approved" and request.reviewed_by_id == reviewer.id
    assert session.get(Creator, creator.id).identity_verified_at is not None
    entry = session.scalar(select(AuditEntry).where(AuditEntry.object_type == "identity_verification",
                                                    AuditEntry.object_id == request.id))
    assert entry.action == "creator.identity.approve" and entry.actor_id == reviewer.id
    assert entry.before["state"] == "pending" and entry.after["state"] == "approved"
    assert VALID_RIC not in str(entry.before) + str(entry.after)
    mail = session.scalar(select(OutboxEmail).where(OutboxEmail.kind == "identity_verified"))
    assert mail.to_address == creator.user.email
    # Decided: it cannot be decided again.
    again = client.post(f"/staff/identity/{pending_request.id}/reject",
                        data={"csrf_token": csrf_from(detail), "reason": "Changed my mind about it"})
    assert again.status_code == 409


def test_rejection_needs_a_reason_and_is_audited(app, client, session, make_user, login_as, creator,
                                                 pending_request):
    reviewer = login_as(make_user(staff_role="reviewer"), context="staff")
    detail = client.get(f"/staff/identity/{pending_request.id}").get_data(as_text=True)
    refused = client.post(f"/staff/identity/{pending_request.id}/reject", data={"csrf_token": csrf_from(detail),
                                                                                 "reason": ""})
    assert refused.status_code == 400 and field_error(refused.get_data(as_text=True), "reason")
    assert session.get(IdentityVerification, pending_request.id).state == "pending"

    response = client.post(f"/staff/identity/{pending_request.id}/reject",
                           data={"csrf_token": csrf_from(detail), "reason": "The photo is blurry, please retake it."})
    assert response.status_code == 302
    session.expire_all()
    assert session.get(IdentityVerification, pending_request.id).state == "rejected"
    assert session.get(Creator, creator.id).identity_verified_at is None
    entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "creator.identity.reject"))
    assert entry.actor_id == reviewer.id and entry.reason == "The photo is blurry, please retake it."
    # The creator sees the reason and may send a new request.
    login_as(creator.user, context="creator")
    page = client.get("/creator/verification").get_data(as_text=True)
    assert "The photo is blurry" in page and 'name="id_number"' in page


def test_a_reviewer_cannot_review_their_own_request(session, make_user, creator, pending_request):
    creator.user.staff_role = "reviewer"
    with pytest.raises(NotAllowed):
        services.review_identity(session, creator.user, pending_request, True)


@pytest.mark.parametrize(("who", "status"), [("other_creator", 403), ("brand", 403), ("finance_staff", 403),
                                             ("anonymous", 302)])
def test_identity_photo_only_for_verifiers_and_the_creator(client, session, make_user, make_enterprise, login_as,
                                                            pending_request, who, status):
    if who == "other_creator":
        user = make_user()
        services.become_creator(session, user)
        login_as(user)
    elif who == "brand":
        login_as(make_enterprise().memberships[0].user)
    elif who == "finance_staff":
        login_as(make_user(staff_role="finance"))
    for path in (f"/creator/verification/{pending_request.id}/photo", f"/staff/identity/{pending_request.id}/photo"):
        response = client.get(path)
        assert response.status_code == status, path
        assert response.mimetype != "image/png"


# --- the profile page brands see ---------------------------------------------------------------------------


@pytest.fixture
def listed_creator(session, creator):
    link_account(session, creator)
    services.update_profile(session, creator, handle="mia_beauty", display_name="Mia 米娅", kind="individual",
                            bio="美妆测评", categories=["beauty"], regions=["44", "31"], languages=["zh"],
                            accepting_orders=True)
    services.save_rate_card(session, creator, {"short_video": 5_000_00, "image_text": 800_00}, 2, 10, "含使用权")
    creator.followers, creator.avg_plays, creator.engagement_bp = 123_456, 20_000, 432
    session.flush()
    assert creator.listed
    return creator


@pytest.mark.parametrize(("who", "status"), [
    ("brand_member", 200), ("other_brand_viewer", 200), ("reviewer", 200), ("finance_staff", 200), ("self", 200),
    ("another_creator", 403), ("plain_user", 403), ("anonymous", 302),
])
def test_profile_page_visibility(client, session, make_user, make_enterprise, make_member, login_as, listed_creator,
                                 who, status):
    if who == "brand_member":
        login_as(make_enterprise(state="verified").memberships[0].user)
    elif who == "other_brand_viewer":
        login_as(make_member(make_enterprise(), "viewer"))
    elif who in ("reviewer", "finance_staff"):
        login_as(make_user(staff_role=who.split("_")[0]))
    elif who == "self":
        login_as(listed_creator.user, context="creator")
    elif who == "another_creator":
        other = make_user()
        services.become_creator(session, other)
        login_as(other)
    elif who == "plain_user":
        login_as(make_user())
    path = f"/creators/{listed_creator.id}"
    response = client.get(path)
    assert response.status_code == status
    if status == 302:
        assert response.location.startswith("/login?next=")
    if status == 200:
        html = response.get_data(as_text=True)
        assert "Mia 米娅" in html and "@mia_beauty" in html
        assert ("This is how brands see your profile" in html) == (who == "self")


def test_unlisted_profile_is_only_for_the_creator_and_staff(client, session, make_user, make_enterprise, login_as,
                                                            creator):
    assert not creator.listed
    login_as(make_enterprise().memberships[0].user)
    assert client.get(f"/creators/{creator.id}").status_code == 403
    login_as(make_user(staff_role="reviewer"))
    assert client.get(f"/creators/{creator.id}").status_code == 200
    login_as(creator.user)
    html = client.get(f"/creators/{creator.id}").get_data(as_text=True)
    assert "not listed in search yet" in html
    assert client.get("/creators/999999").status_code == 404


def _figure(html: str, figure_id: str) -> str:
    match = re.search(rf'<figure class="chart[^"]*" id="{figure_id}">(.*?)</figure>', html, re.S)
    assert match, f"no chart {figure_id}"
    return match.group(1)


def _svg(figure: str) -> str:
    return figure.split("</svg>")[0]


def test_profile_charts_draw_one_mark_per_datum(client, session, make_enterprise, login_as, listed_creator):
    today = utcnow().date()
    # 90 days of snapshots plus older ones that the 90-day trend leaves out.
    session.add_all([StatSnapshot(creator_id=listed_creator.id, taken_on=today - timedelta(days=d),
                                  followers=123_456 - d * 37) for d in range(120)])
    session.add_all([Work(creator_id=listed_creator.id, platform="sandbox", external_id=f"w{i}",
                          url=f"https://sandbox.test/w/{i}", title=f"视频 {i}",
                          published_at=utcnow() - timedelta(days=i * 3), plays=10_000 * (i + 1), likes=300 + i,
                          comments=20, shares=10) for i in range(15)])
    listed_creator.audience = {
        "gender": {"female": 72, "male": 28},
        "age": {"18-23": 30, "24-30": 35, "31-40": 20, "41-50": 10, "50+": 5},
        "provinces": {"44": 30, "31": 20, "11": 15, "33": 10, "other": 25},
    }
    listed_creator.authenticity_score = 48
    listed_creator.authenticity_reasons = [{"code": "comment_like_low",
                                            "params": {"actual_pct": "0.8", "expected_pct": "5", "category": "beauty"}}]
    session.flush()
    login_as(make_enterprise().memberships[0].user)
    html = client.get(f"/creators/{listed_creator.id}").get_data(as_text=True)

    trend = _figure(html, "chart-trend")
    assert _svg(trend).count('class="chart-point"') == 90  # the last 90 days only
    assert trend.count("<tr>") == 91  # header + a row per day in the data table
    assert 'role="img" aria-labelledby="chart-trend-title chart-trend-desc"' in trend
    assert "<title id=\"chart-trend-title\">Followers over the last 90 days</title>" in trend

    works = _svg(_figure(html, "chart-works"))
    assert works.count('class="chart-bar"') == 12  # the 12 most recent works
    assert works.count('class="chart-marker"') == 12

    gender = _svg(_figure(html, "chart-gender"))
    assert gender.count('class="chart-seg ') == 2 and "Women 72%" in gender and "Men 28%" in gender
    assert _svg(_figure(html, "chart-age")).count('class="chart-bar"') == 5
    provinces = _svg(_figure(html, "chart-provinces"))
    assert provinces.count('class="chart-bar"') == 4 and provinces.count('class="chart-bar chart-bar-muted"') == 1
    assert provinces.index("Guangdong") < provinces.index("Shanghai") < provinces.index("Other provinces")

    # Numbers in the reader's locale, money with the currency, the reasons in plain words.
    assert "123,456" in html and "¥5,000.00" in html and "¥800.00" in html
    assert "There are 0.8 comments per 100 likes, far below the usual 5 for Beauty." in html
    assert "No ratings yet" in html
    assert 'style="' not in html and "<script>" not in html


def test_profile_without_statistics_shows_empty_states(client, session, make_enterprise, login_as, listed_creator):
    listed_creator.rating_avg_x100, listed_creator.rating_count = 465, 12
    session.flush()
    login_as(make_enterprise().memberships[0].user)
    html = client.get(f"/creators/{listed_creator.id}").get_data(as_text=True)
    assert "No history yet" in html and "No audience data yet" in html and "No works yet" in html
    assert "4.65" in html and "12 ratings" in html
    assert "Not scored yet" in html


def test_profile_in_chinese(client, session, make_enterprise, login_as, listed_creator):
    session.add_all([StatSnapshot(creator_id=listed_creator.id, taken_on=utcnow().date() - timedelta(days=d),
                                  followers=1_234_567) for d in range(3)])
    session.flush()
    user = make_enterprise().memberships[0].user
    user.locale = "zh_CN"
    session.flush()
    login_as(user)
    with client.session_transaction() as sess:
        sess["locale"] = "zh_CN"
    html = client.get(f"/creators/{listed_creator.id}").get_data(as_text=True)
    assert "120万" in _figure(html, "chart-trend")  # axis ticks the short way
    assert "月" in _figure(html, "chart-trend")  # dates as 11月3日
    ticks = texts(_svg(_figure(html, "chart-trend")), cls="chart-tick")
    assert len(ticks) == len(set(ticks)), ticks  # enough decimals that no two ticks read the same


# --- the dashboard ---------------------------------------------------------------------------------------


def test_dashboard_checklist_follows_the_creator_state(client, session, creator, as_creator):
    def done_steps() -> list[str]:
        html = client.get("/creator/").get_data(as_text=True)
        return re.findall(r'<li class="done">\s*<div class="checklist-text">\s*<strong>([^<]+)</strong>', html)

    assert done_steps() == ["Confirm your email address"]
    link_account(session, creator)
    services.update_profile(session, creator, **{**profile_data(), "accepting_orders": True})
    services.save_rate_card(session, creator, {"short_video": 100_00}, 1, 7, "")
    session.flush()
    assert done_steps() == ["Confirm your email address", "Link your platform account", "Complete your profile",
                            "Set your rate card", "Turn on “accepting orders”"]
    services.submit_identity(session, creator, "张三", "resident_id", VALID_RIC,
                             FileStorage(io.BytesIO(image_bytes()), "id.png"))
    session.flush()
    html = client.get("/creator/").get_data(as_text=True)
    assert "pending review" in html
    assert 'href="/creator/verification"' in html  # the nav link; the step itself waits for the reviewer
