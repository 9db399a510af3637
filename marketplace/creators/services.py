"""Creator rules: the creator record, profile, avatar, rate card versions and real-name verification.

Invariants:
- a handle is lower case ``[a-z0-9_.]{3,30}`` and unique; categories, regions and languages are codes of
  ``taxonomy`` (at most three categories);
- ``creator.listed`` is true exactly when the creator has a handle, at least one category and a linked
  platform account (``refresh_listed`` recomputes it; every service that changes one of those calls it);
- an avatar is re-encoded by us (256×256 centre crop, JPEG or PNG), so no uploaded bytes or metadata (EXIF)
  are ever served;
- rate card versions are append-only: a change appends a version and moves ``creator.rate_card_version_id``
  and the ``creator.price_*`` search columns in the same flush; saving the same content appends nothing;
- a real-name request stores a masked ID number and an HMAC of it, never the number; one pending request
  per creator; staff decisions follow ``states.IDENTITY_TRANSITIONS`` and are audited.

Services flush; the caller commits.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from flask import current_app, g, has_app_context
from flask_babel import lazy_gettext as _l
from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload
from stdnum.cn import ric
from stdnum.exceptions import InvalidChecksum, InvalidLength
from stdnum.exceptions import ValidationError as StdnumError

from marketplace.accounts.models import User
from marketplace.audit.services import record_audit
from marketplace.creators import taxonomy
from marketplace.creators.models import (
    CREATOR_KINDS,
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
from marketplace.creators.states import IdentityAction, IdentityState, next_identity_state
from marketplace.db import utcnow
from marketplace.errors import Conflict, NotAllowed, ValidationFailed
from marketplace.files.services import IMAGE_TYPES, check_upload, store_bytes
from marketplace.mail.services import queue_email
from marketplace.urls import external_url

HANDLE_RE = re.compile(r"[a-z0-9_.]{3,30}")
MAX_CATEGORIES = 3
BIO_MAX = 1000

AVATAR_TYPES = frozenset({"image/png", "image/jpeg", "image/webp"})
AVATAR_MAX_BYTES = 2 * 1024 * 1024
AVATAR_SIZE = 256
AVATAR_MAX_PIXELS = 40_000_000  # refuse decompression bombs before decoding

PRICE_MIN = 1_00  # ¥1 in fen
PRICE_MAX = 10_000_000_00  # ¥10,000,000 in fen
REVISION_ROUNDS_MAX = 5
LEAD_TIME_MIN, LEAD_TIME_MAX = 1, 90
NOTES_MAX = 2000

ID_PHOTO_TYPES = IMAGE_TYPES
ID_PHOTO_MAX_BYTES = 5 * 1024 * 1024
_ID_FORMATS = {
    "passport": (re.compile(r"[A-Z0-9]{5,17}"), _l("A passport number has 5 to 17 letters and digits.")),
    "hk_macao_permit": (re.compile(r"[HM]\d{8}(\d{2})?"),
                        _l("A Hong Kong or Macao permit number is H or M followed by 8 (or 10) digits.")),
    "taiwan_permit": (re.compile(r"\d{8}"), _l("A Taiwan permit number has 8 digits.")),
}


# --- the creator record ------------------------------------------------------------------------------------


def creator_for_user(session: Session, user: User) -> Creator | None:
    return session.scalar(select(Creator).where(Creator.user_id == user.id))


def become_creator(session: Session, user: User) -> Creator:
    """Give ``user`` a creator record (idempotent)."""
    creator = creator_for_user(session, user)
    if creator is None:
        creator = Creator(user_id=user.id, display_name=user.display_name)
        session.add(creator)
        session.flush()
        if has_app_context():
            g.pop("_available_contexts", None)  # the request's contexts now include the creator workspace
    return creator


def has_platform_account(session: Session, creator: Creator) -> bool:
    return session.scalar(select(PlatformAccount.id).where(PlatformAccount.creator_id == creator.id)) is not None


def refresh_listed(session: Session, creator: Creator) -> bool:
    """Recompute ``creator.listed`` (handle, a category and a linked platform account) and return it."""
    creator.listed = bool(creator.handle) and bool(creator.categories) and has_platform_account(session, creator)
    return creator.listed


def profile_complete(creator: Creator) -> bool:
    """What the onboarding checklist calls a complete profile."""
    return bool(creator.handle and creator.display_name and creator.categories and creator.regions
                and creator.languages)


@dataclass(frozen=True)
class Step:
    key: str  # email, platform, profile, rate_card, identity, accepting_orders
    done: bool
    pending: bool = False  # started, waiting on someone else (identity under review)


def onboarding_checklist(session: Session, creator: Creator) -> list[Step]:
    """The steps between signing up and receiving orders, from the creator's actual state."""
    pending_identity = pending_identity_request(session, creator) is not None
    return [
        Step("email", creator.user.email_verified),
        Step("platform", has_platform_account(session, creator)),
        Step("profile", profile_complete(creator)),
        Step("rate_card", creator.rate_card_version_id is not None),
        Step("identity", creator.identity_verified_at is not None, pending=pending_identity),
        Step("accepting_orders", creator.accepting_orders),
    ]


# --- profile -----------------------------------------------------------------------------------------------


def clean_handle(value: str) -> str:
    """A handle as stored: without a leading @, trimmed, lower case. :raises ValidationFailed:"""
    handle = (value or "").strip().lstrip("@").lower()
    if not HANDLE_RE.fullmatch(handle):
        raise ValidationFailed(_l("Use 3 to 30 lower-case letters, digits, dots or underscores."), field="handle")
    return handle


def _codes(values: Iterable[str], known: Mapping[str, object], field: str, message) -> list[str]:
    """Known codes in vocabulary order (duplicates dropped). :raises ValidationFailed: an unknown code."""
    chosen = {(v or "").strip() for v in values}
    chosen.discard("")
    if chosen - set(known):
        raise ValidationFailed(message, field=field)
    return [code for code in known if code in chosen]


def update_profile(session: Session, creator: Creator, *, handle: str, display_name: str, kind: str, bio: str,
                   categories: Iterable[str], regions: Iterable[str], languages: Iterable[str],
                   accepting_orders: bool) -> Creator:
    """Save the creator's public profile and recompute whether they are listed in discovery.

    :raises ValidationFailed: bad or taken handle, empty or long display name, unknown kind, long bio, an
        unknown category, region or language code, or more than three categories (on that field).
    """
    handle = clean_handle(handle)
    display_name = (display_name or "").strip()
    if not display_name or len(display_name) > 80:
        raise ValidationFailed(_l("Enter the name brands see (at most 80 characters)."), field="display_name")
    if kind not in CREATOR_KINDS:
        raise ValidationFailed(_l("Choose individual or studio."), field="kind")
    bio = (bio or "").strip()
    if len(bio) > BIO_MAX:
        raise ValidationFailed(_l("Keep the bio under %(n)s characters.", n=BIO_MAX), field="bio")
    category_codes = _codes(categories, taxonomy.CATEGORIES, "categories", _l("Choose categories from the list."))
    if len(category_codes) > MAX_CATEGORIES:
        raise ValidationFailed(_l("Choose at most %(n)s categories.", n=MAX_CATEGORIES), field="categories")
    region_codes = _codes(regions, taxonomy.REGIONS, "regions", _l("Choose regions from the list."))
    language_codes = _codes(languages, taxonomy.LANGUAGES, "languages", _l("Choose languages from the list."))
    taken = session.scalar(select(Creator.id).where(Creator.handle == handle, Creator.id != creator.id))
    if taken is not None:
        raise ValidationFailed(_l("@%(handle)s is taken. Choose another handle.", handle=handle), field="handle")

    creator.handle = handle
    creator.display_name = display_name
    creator.kind = kind
    creator.bio = bio
    kept_categories = [c for c in creator.categories if c.category in category_codes]
    have = {c.category for c in kept_categories}
    creator.categories = kept_categories + [CreatorCategory(category=c) for c in category_codes if c not in have]
    kept_regions = [r for r in creator.regions if r.region in region_codes]
    have = {r.region for r in kept_regions}
    creator.regions = kept_regions + [CreatorRegion(region=r) for r in region_codes if r not in have]
    creator.languages = language_codes
    creator.accepting_orders = bool(accepting_orders)
    creator.updated_at = utcnow()
    refresh_listed(session, creator)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:  # the handle was taken between the check and the write
        raise ValidationFailed(_l("@%(handle)s is taken. Choose another handle.", handle=handle),
                               field="handle") from exc
    return creator


def avatar_image(data: bytes) -> tuple[bytes, str]:
    """Re-encode an uploaded picture as the 256×256 centre crop we serve: PNG when it has transparency,
    JPEG otherwise; no metadata survives. :raises ValidationFailed: not a readable image, or too big."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.width * image.height > AVATAR_MAX_PIXELS:
                raise ValidationFailed(_l("The picture has too many pixels; use a smaller one."), field="avatar")
            image.load()
            upright = ImageOps.exif_transpose(image)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise ValidationFailed(_l("The image could not be read; it may be damaged."), field="avatar") from exc
    transparent = upright.mode in ("RGBA", "LA", "PA") or (upright.mode == "P" and "transparency" in upright.info)
    if transparent:
        upright = upright.convert("RGBA")
        transparent = upright.getchannel("A").getextrema()[0] < 255
    upright = upright.convert("RGBA" if transparent else "RGB")
    square = ImageOps.fit(upright, (AVATAR_SIZE, AVATAR_SIZE), Image.Resampling.LANCZOS, centering=(0.5, 0.5))
    square.info = {}
    out = io.BytesIO()
    if transparent:
        square.save(out, format="PNG", optimize=True)
        return out.getvalue(), "image/png"
    square.save(out, format="JPEG", quality=88, optimize=True)
    return out.getvalue(), "image/jpeg"


def set_avatar(session: Session, creator: Creator, upload) -> None:
    """Check an uploaded picture (PNG, JPEG or WebP by content, at most 2 MB), store its 256×256 crop and make
    it the creator's avatar.

    :raises ValidationFailed: empty, too large, another type, or not a readable image (field ``avatar``).
    """
    data, _mime = check_upload(upload.stream, allowed=AVATAR_TYPES, max_bytes=AVATAR_MAX_BYTES, field="avatar")
    encoded, mime = avatar_image(data)
    name = "avatar.png" if mime == "image/png" else "avatar.jpg"
    stored = store_bytes(session, encoded, mime, name, creator.user_id)
    creator.avatar_file_id = stored.id
    creator.avatar = stored
    creator.updated_at = utcnow()
    session.flush()


# --- rate card -------------------------------------------------------------------------------------------


def current_rate_card(session: Session, creator: Creator) -> RateCardVersion | None:
    if creator.rate_card_version_id is None:
        return None
    return session.get(RateCardVersion, creator.rate_card_version_id)


def _clean_prices(prices: Mapping[str, int | None]) -> dict[str, int]:
    cleaned: dict[str, int] = {}
    for content_type, price in prices.items():
        if content_type not in taxonomy.CONTENT_TYPES:
            raise ValidationFailed(_l("Unknown content type."), field="prices")
        if price is None:
            continue
        field = f"price_{content_type}"
        if not isinstance(price, int) or isinstance(price, bool):
            raise ValidationFailed(_l("Enter the price in yuan."), field=field)
        if price < 0:
            raise ValidationFailed(_l("A price cannot be negative."), field=field)
        if price < PRICE_MIN:
            raise ValidationFailed(_l("Enter at least ¥1, or leave it empty if you do not offer this."), field=field)
        if price > PRICE_MAX:
            raise ValidationFailed(_l("At most ¥10,000,000."), field=field)
        cleaned[content_type] = price
    if not cleaned:
        raise ValidationFailed(_l("Set a price for at least one content type."), field="prices")
    return cleaned


def save_rate_card(session: Session, creator: Creator, prices: Mapping[str, int | None], revision_rounds: int,
                   lead_time_days: int, notes: str) -> RateCardVersion:
    """Append a rate card version (prices in fen) and make it current; the same content again appends
    nothing and returns the current version.

    :raises ValidationFailed: an unknown content type (field ``prices``), a negative price or one outside
        ¥1–¥10,000,000 (on that price's field), no price at all (``prices``), revision rounds outside 0–5,
        lead time outside 1–90 days, notes too long.
    """
    cleaned = _clean_prices(prices)
    if not isinstance(revision_rounds, int) or not 0 <= revision_rounds <= REVISION_ROUNDS_MAX:
        raise ValidationFailed(_l("Between 0 and %(n)s rounds.", n=REVISION_ROUNDS_MAX), field="revision_rounds")
    if not isinstance(lead_time_days, int) or not LEAD_TIME_MIN <= lead_time_days <= LEAD_TIME_MAX:
        raise ValidationFailed(_l("Between %(low)s and %(high)s days.", low=LEAD_TIME_MIN, high=LEAD_TIME_MAX),
                               field="lead_time_days")
    notes = (notes or "").strip()
    if len(notes) > NOTES_MAX:
        raise ValidationFailed(_l("Keep the notes under %(n)s characters.", n=NOTES_MAX), field="notes")

    # Serialise concurrent saves of one creator's card (a no-op on SQLite, whose writers are serial).
    session.execute(select(Creator.id).where(Creator.id == creator.id).with_for_update())
    current = current_rate_card(session, creator)
    if current is not None and ({p.content_type: p.price for p in current.prices} == cleaned
                                and current.revision_rounds == revision_rounds
                                and current.lead_time_days == lead_time_days and current.notes == notes):
        return current
    number = (session.scalar(select(func.max(RateCardVersion.version))
                             .where(RateCardVersion.creator_id == creator.id)) or 0) + 1
    version = RateCardVersion(creator_id=creator.id, version=number, revision_rounds=revision_rounds,
                              lead_time_days=lead_time_days, notes=notes,
                              prices=[RateCardPrice(content_type=ct, price=p) for ct, p in cleaned.items()])
    session.add(version)
    session.flush()
    creator.rate_card_version_id = version.id
    for content_type in taxonomy.CONTENT_TYPES:
        setattr(creator, f"price_{content_type}", cleaned.get(content_type))
    creator.updated_at = utcnow()
    session.flush()
    return version


def rate_card_history(session: Session, creator: Creator) -> list[RateCardVersion]:
    """Every version of the creator's rate card, newest first."""
    return list(session.scalars(
        select(RateCardVersion).where(RateCardVersion.creator_id == creator.id)
        .options(selectinload(RateCardVersion.prices)).order_by(RateCardVersion.version.desc())
    ))


# --- real-name verification --------------------------------------------------------------------------------


def clean_id_number(id_type: str, value: str) -> str:
    """The ID number without spaces, upper case, checked for its type's format (and the resident ID's check
    digit). :raises ValidationFailed: on ``id_type`` or ``id_number``."""
    if id_type not in taxonomy.ID_TYPES:
        raise ValidationFailed(_l("Choose the type of your ID document."), field="id_type")
    number = re.sub(r"[\s\-]", "", value or "").upper()
    if id_type == "resident_id":
        try:
            ric.validate(number)
        except InvalidLength as exc:
            raise ValidationFailed(_l("A resident ID number has 18 characters."), field="id_number") from exc
        except InvalidChecksum as exc:
            raise ValidationFailed(_l("The last character (the check digit) does not match this number: check "
                                      "for a typing mistake."), field="id_number") from exc
        except StdnumError as exc:
            raise ValidationFailed(_l("This is not a valid resident ID number."), field="id_number") from exc
        return number
    pattern, message = _ID_FORMATS[id_type]
    if not pattern.fullmatch(number):
        raise ValidationFailed(message, field="id_number")
    return number


def mask_id_number(number: str) -> str:
    """First character and last four; the rest as asterisks."""
    return number[:1] + "*" * max(len(number) - 5, 0) + number[-4:]


def id_number_hash(number: str) -> str:
    """HMAC-SHA256 of the number keyed with the app's SECRET_KEY (finds re-use without storing the number)."""
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, number.encode(), hashlib.sha256).hexdigest()


def pending_identity_request(session: Session, creator: Creator) -> IdentityVerification | None:
    return session.scalar(select(IdentityVerification).where(IdentityVerification.creator_id == creator.id,
                                                             IdentityVerification.state == IdentityState.PENDING))


def latest_identity_request(session: Session, creator: Creator) -> IdentityVerification | None:
    return session.scalar(select(IdentityVerification).where(IdentityVerification.creator_id == creator.id)
                          .order_by(IdentityVerification.id.desc()).limit(1))


def submit_identity(session: Session, creator: Creator, legal_name: str, id_type: str, id_number: str,
                    photo_upload) -> IdentityVerification:
    """Send a real-name verification request (ID photo: PNG or JPEG, at most 5 MB) to the reviewers.

    :raises Conflict: already verified, or a request is pending.
    :raises ValidationFailed: missing legal name, unknown ID type, a number that does not fit its type (or a
        resident ID whose check digit is wrong), or a bad photo (fields ``legal_name``, ``id_type``,
        ``id_number``, ``photo``).
    """
    if creator.identity_verified_at is not None:
        raise Conflict(_l("Your identity is already verified."))
    if pending_identity_request(session, creator) is not None:
        raise Conflict(_l("Your request is already waiting for review."))
    legal_name = (legal_name or "").strip()
    if not legal_name or len(legal_name) > 80:
        raise ValidationFailed(_l("Enter your name exactly as on the document."), field="legal_name")
    number = clean_id_number(id_type, id_number)
    if photo_upload is None or not getattr(photo_upload, "filename", ""):
        raise ValidationFailed(_l("Add a photo of the document."), field="photo")
    data, mime = check_upload(photo_upload.stream, allowed=ID_PHOTO_TYPES, max_bytes=ID_PHOTO_MAX_BYTES,
                              field="photo")
    photo = store_bytes(session, data, mime, "id-photo" + (".png" if mime == "image/png" else ".jpg"),
                        creator.user_id)
    request = IdentityVerification(creator_id=creator.id, legal_name=legal_name, id_type=id_type,
                                   id_number_masked=mask_id_number(number), id_number_hash=id_number_hash(number),
                                   photo_file_id=photo.id, state=IdentityState.PENDING.value)
    session.add(request)
    session.flush()
    return request


def same_id_elsewhere(session: Session, verification: IdentityVerification) -> list[IdentityVerification]:
    """Other creators' requests with the same ID number (by its keyed hash), for the reviewer."""
    return list(session.scalars(
        select(IdentityVerification).where(IdentityVerification.id_number_hash == verification.id_number_hash,
                                           IdentityVerification.creator_id != verification.creator_id)
        .order_by(IdentityVerification.id.desc())
    ))


def _identity_snapshot(verification: IdentityVerification) -> dict:
    return {"state": verification.state, "legal_name": verification.legal_name, "id_type": verification.id_type,
            "id_number_masked": verification.id_number_masked, "reason": verification.reason}


def review_identity(session: Session, reviewer: User, verification: IdentityVerification, approve: bool,
                    reason: str = "", ip_address: str = "") -> None:
    """Approve (the creator gets the verified badge) or reject (with a reason) a pending request; audited,
    and the creator is emailed.

    :raises NotAllowed: reviewing one's own request.
    :raises InvalidTransition: the request was already decided.
    :raises ValidationFailed: a rejection without a reason (field ``reason``).
    """
    creator = verification.creator
    if creator.user_id == reviewer.id:
        raise NotAllowed(_l("You cannot review your own verification."))
    action = IdentityAction.APPROVE if approve else IdentityAction.REJECT
    new_state = next_identity_state(verification.state, action)
    reason = (reason or "").strip()
    if not approve and len(reason) < 5:
        raise ValidationFailed(_l("Tell the creator what to correct (at least 5 characters)."), field="reason")
    before = _identity_snapshot(verification)
    now = utcnow()
    verification.state = new_state.value
    verification.reason = "" if approve else reason
    verification.reviewed_by_id = reviewer.id
    verification.reviewed_at = now
    if approve:
        creator.identity_verified_at = now
        creator.updated_at = now
    session.flush()
    record_audit(session, actor=reviewer, action=f"creator.identity.{action.value}",
                 object_type="identity_verification", object_id=verification.id, before=before,
                 after=_identity_snapshot(verification), reason=reason, ip_address=ip_address)
    user = creator.user
    queue_email(session, to=user.email, kind="identity_verified" if approve else "identity_rejected",
                locale=user.locale,
                subject=_l("Your identity is verified on Canal") if approve
                else _l("Your identity verification needs corrections"),
                user=user, reason=reason, link=external_url("creators.verification"))


# --- statistics shown on the profile -------------------------------------------------------------------------


def follower_trend(session: Session, creator: Creator, days: int = 90, today: date | None = None
                   ) -> list[StatSnapshot]:
    """The creator's daily snapshots of the last ``days`` days, oldest first."""
    since = (today or utcnow().date()) - timedelta(days=days)
    return list(session.scalars(select(StatSnapshot).where(StatSnapshot.creator_id == creator.id,
                                                           StatSnapshot.taken_on > since)
                                .order_by(StatSnapshot.taken_on)))


def recent_works(session: Session, creator: Creator, limit: int = 12) -> list[Work]:
    """The creator's latest works, newest first."""
    return list(session.scalars(select(Work).where(Work.creator_id == creator.id)
                                .order_by(Work.published_at.desc(), Work.id.desc()).limit(limit)))
