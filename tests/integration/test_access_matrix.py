"""The access-control matrix: every route, every kind of actor, the expected outcome.

``MATRIX`` below is the specification. It has one row per (endpoint, HTTP method) of ``app.url_map``
(only ``static`` is left out) and ``test_matrix_lists_every_route`` fails when a route has no row, or a row
names a route that no longer exists, so a new page or action cannot ship without deciding who may use it.

Each row says how to build the URL from the test world, which actors are allowed, what an allowed request
returns, and (for state-changing routes) a probe that reads the state the request would change. For every
(row, actor) pair ``test_access`` takes the world as built, signs the actor in, sends the request (POSTs carry a
valid CSRF token from a page the actor can see) and checks:

- allowed:  not 401/403, not bounced to ``/login?next=...``, status among the row's ``ok`` statuses; and
            when the row has a probe, the state did change (the request really did something);
- denied:   signed-in actors get 403 (or the row's ``denied`` status), anonymous visitors of a login-only
            route are redirected to ``/login?next=<this path>``; the probe reads the same value as before,
            and the error page mentions neither enterprise's legal name or USCC.

The world (built once per row and shared by the row's actors, each actor's test in a savepoint rolled back
afterwards, so each meets it as built; see ``_RowWorld``; other tests build it with ``world``):

- enterprise **A** (unverified, licence uploaded) with owner, manager, finance and viewer members, and an
  open invitation to the creator's email address (role viewer);
- enterprise **B** (pending review, licence uploaded) owned by another user (``b_owner``);
- a ``creator``, and staff users ``reviewer``, ``finance_staff`` and ``admin``;
- ``newbie``: an unverified user who is nobody's actor: the target of the email-verification and
  password-reset links, of the deactivation, and the recipient of an outbox email.

A row may add to the world with ``setup`` (run before the actor signs in): the wallet and finance rows use
``money_world`` (A verified, a pending bank top-up, a confirmed one with its ledger account and transaction).
"""

from __future__ import annotations

import io
import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func, select

from marketplace.accounts.models import User
from marketplace.accounts.services import request_password_reset, send_verification_email
from marketplace.creators.services import become_creator
from marketplace.db import utcnow
from marketplace.enterprises.models import Enterprise, Invitation, Membership
from marketplace.enterprises.services import invite_member, submit_for_verification
from marketplace.files.services import store_bytes
from marketplace.mail.models import OutboxEmail
from marketplace.security import hash_password
from marketplace.seed import licence_png
from tests.conftest import PASSWORD, csrf_from, sign_in, valid_uscc

NEW_PASSWORD = "violet harbour compass 9182"

# --- actors ----------------------------------------------------------------------------------------------

ANON = "anonymous"
CREATOR = "creator"
A_OWNER, A_MANAGER, A_FINANCE, A_VIEWER = "a_owner", "a_manager", "a_finance", "a_viewer"
B_OWNER = "b_owner"  # owner of another enterprise: the "member of some other enterprise"
REVIEWER, FINANCE_STAFF, ADMIN = "reviewer", "finance_staff", "admin"

ACTORS = (ANON, CREATOR, A_OWNER, A_MANAGER, A_FINANCE, A_VIEWER, B_OWNER, REVIEWER, FINANCE_STAFF, ADMIN)

PUBLIC = frozenset(ACTORS)
SIGNED_IN = PUBLIC - {ANON}
A_MEMBERS = frozenset({A_OWNER, A_MANAGER, A_FINANCE, A_VIEWER})
STAFF_CONSOLE = frozenset({REVIEWER, FINANCE_STAFF, ADMIN})
VERIFIERS = frozenset({REVIEWER, ADMIN})  # staff.verification
AUDITORS = frozenset({FINANCE_STAFF, ADMIN})  # staff.audit


# --- the world -------------------------------------------------------------------------------------------


@dataclass
class World:
    users: dict[str, User]
    a_id: int
    b_id: int
    a_uscc: str
    a_legal_name: str
    b_uscc: str
    b_legal_name: str
    viewer_membership_id: int
    invitation_id: int
    invitation_token: str
    newbie_id: int
    newbie_email: str
    verify_token: str
    reset_token: str
    outbox_email_id: int
    own_context: dict[str, str] = field(default_factory=dict)
    money: dict[str, int] = field(default_factory=dict)  # filled by ``money_world`` for the money rows
    creator: dict[str, int] = field(default_factory=dict)  # filled by ``creator_world`` for the creator rows
    discovery: dict[str, int] = field(default_factory=dict)  # filled by ``discovery_world`` for discovery rows
    orders: dict[str, int] = field(default_factory=dict)  # filled by the order-taking worlds (tests/integration/access_*.py)


def _token_from_mail(session, email_id: int, path: str) -> str:
    body = session.get(OutboxEmail, email_id).body_text
    match = re.search(re.escape(path) + r"([A-Za-z0-9_\-]+)", body)
    assert match, f"no {path} link in email {email_id}"
    return match.group(1)


def _latest_mail(session, to: str, kind: str) -> int:
    return session.scalar(select(OutboxEmail.id).where(OutboxEmail.to_address == to, OutboxEmail.kind == kind)
                          .order_by(OutboxEmail.id.desc()))


_cache: dict[str, Any] = {}
_serial = itertools.count(1)


def _quick_user(session, *, staff_role: str | None = None, verified: bool = True) -> User:
    """A user row with ``PASSWORD`` (hashed once per run with the test app's Argon2 settings).

    ``make_user`` goes through ``create_user``, whose zxcvbn strength check costs ~10 ms a user; the matrix
    builds eleven users for each of its ~500 cases, so it writes the same rows directly.
    """
    if "hash" not in _cache:
        _cache["hash"] = hash_password(PASSWORD)
    n = next(_serial)
    user = User(email=f"matrix{n}@example.com", password_hash=_cache["hash"], display_name=f"Matrix {n}",
                staff_role=staff_role, email_verified_at=utcnow() if verified else None)
    session.add(user)
    session.flush()
    return user


def _with_licence(session, enterprise: Enterprise, owner: User) -> None:
    if "png" not in _cache:
        _cache["png"] = licence_png("Matrix", "91310000MA1FL8XQ30")
    enterprise.licence_file_id = store_bytes(session, _cache["png"], "image/png", "licence.png", owner.id).id
    session.flush()


@pytest.fixture
def world(session, make_enterprise, make_member) -> World:
    return build_world(session, make_enterprise, make_member)


def build_world(session, make_enterprise, make_member) -> World:
    """The world described in the module docstring (``test_security`` builds the same one)."""
    creator = _quick_user(session)
    become_creator(session, creator)
    a_owner = _quick_user(session)
    a = make_enterprise(owner=a_owner, state="unverified", licence=False)
    _with_licence(session, a, a_owner)
    a_manager = make_member(a, "manager", user=_quick_user(session))
    a_finance = make_member(a, "finance", user=_quick_user(session))
    a_viewer = make_member(a, "viewer", user=_quick_user(session))
    b_owner = _quick_user(session)
    b = make_enterprise(owner=b_owner, state="unverified", licence=False)
    _with_licence(session, b, b_owner)
    submit_for_verification(session, b_owner, b)
    users = {
        CREATOR: creator, A_OWNER: a_owner, A_MANAGER: a_manager, A_FINANCE: a_finance, A_VIEWER: a_viewer,
        B_OWNER: b_owner, REVIEWER: _quick_user(session, staff_role="reviewer"),
        FINANCE_STAFF: _quick_user(session, staff_role="finance"), ADMIN: _quick_user(session, staff_role="admin"),
    }
    newbie = _quick_user(session, verified=False)

    invitation = invite_member(session, a_owner, a, creator.email, "viewer")
    send_verification_email(session, newbie)
    request_password_reset(session, newbie.email)
    session.flush()
    invite_mail = _latest_mail(session, creator.email, "invitation")
    verify_mail = _latest_mail(session, newbie.email, "verify_email")
    reset_mail = _latest_mail(session, newbie.email, "reset_password")
    viewer_membership = session.scalar(select(Membership.id).where(Membership.enterprise_id == a.id,
                                                                   Membership.user_id == a_viewer.id))
    own_context = {name: f"enterprise:{a.id}" for name in A_MEMBERS}
    own_context.update({CREATOR: "creator", B_OWNER: f"enterprise:{b.id}", REVIEWER: "staff",
                        FINANCE_STAFF: "staff", ADMIN: "staff", ANON: "staff"})
    assert b.verification_state == "pending"
    return World(
        users=users, a_id=a.id, b_id=b.id, a_uscc=a.uscc, a_legal_name=a.legal_name, b_uscc=b.uscc,
        b_legal_name=b.legal_name, viewer_membership_id=viewer_membership, invitation_id=invitation.id,
        invitation_token=_token_from_mail(session, invite_mail, "/invitations/"),
        newbie_id=newbie.id, newbie_email=newbie.email,
        verify_token=_token_from_mail(session, verify_mail, "/verify-email/"),
        reset_token=_token_from_mail(session, reset_mail, "/password/reset/"),
        outbox_email_id=verify_mail, own_context=own_context,
    )


def money_world(session, w: World) -> None:
    """For the wallet and finance rows: A verified, with a pending bank top-up and a confirmed one (so A has a
    wallet account and a ledger transaction)."""
    from marketplace.enterprises.services import approve_enterprise
    from marketplace.ledger.flows import enterprise_available
    from marketplace.ledger.services import get_account
    from marketplace.payments.services import confirm_bank_top_up, request_bank_top_up

    a = session.get(Enterprise, w.a_id)
    submit_for_verification(session, w.users[A_OWNER], a)
    approve_enterprise(session, w.users[REVIEWER], a)
    pending = request_bank_top_up(session, w.users[A_FINANCE], a, 1_000_00)
    confirmed = request_bank_top_up(session, w.users[A_FINANCE], a, 500_00)
    confirm_bank_top_up(session, w.users[FINANCE_STAFF], confirmed, 500_00)
    session.flush()
    w.money = {"top_up": pending.id, "account": get_account(session, enterprise_available(a.id)).id,
               "transaction": confirmed.ledger_transaction_id}


def card_world(session, w: World) -> None:
    """For the card top-up rows: ``money_world``, and the app paying by card through a local Stripe server
    (configured until the test ends)."""
    from flask import current_app

    from tests.stripe_fixtures import stripe_until_app_context_ends

    money_world(session, w)
    stripe_until_app_context_ends(current_app._get_current_object())


def creator_world(session, w: World) -> None:
    """For the creator profile and identity rows: the creator listed (handle, category, a linked platform
    account), with an avatar, a rate card, statistics, works, and a pending real-name request with a photo."""
    from datetime import timedelta

    from werkzeug.datastructures import FileStorage

    from marketplace.creators import services as creator_services
    from marketplace.creators.models import Creator, PlatformAccount, StatSnapshot, Work

    creator = session.scalar(select(Creator).where(Creator.user_id == w.users[CREATOR].id))
    session.add(PlatformAccount(creator_id=creator.id, platform="sandbox", external_id="matrix_creator",
                                handle="@matrix_creator"))
    session.flush()
    creator_services.update_profile(session, creator, handle="matrix_creator", display_name="Matrix Creator",
                                    kind="individual", bio="美妆测评", categories=["beauty"], regions=["44"],
                                    languages=["zh"], accepting_orders=True)
    if "png" not in _cache:
        _cache["png"] = licence_png("Matrix", "91310000MA1FL8XQ30")
    creator_services.set_avatar(session, creator, FileStorage(io.BytesIO(_cache["png"]), "me.png"))
    creator_services.save_rate_card(session, creator, {"short_video": 5_000_00}, 1, 7, "")
    today = utcnow().date()
    creator.followers, creator.avg_plays, creator.engagement_bp = 12_000, 3_000, 450
    creator.audience = {"gender": {"female": 70, "male": 30}, "age": {"18-23": 40, "24-30": 60},
                        "provinces": {"44": 80, "other": 20}}
    session.add_all([StatSnapshot(creator_id=creator.id, taken_on=today - timedelta(days=d), followers=12_000 - d)
                     for d in range(3)])
    session.add_all([Work(creator_id=creator.id, platform="sandbox", external_id=f"matrix-work-{i}",
                          url=f"https://sandbox.test/w/{i}", title=f"Work {i}", published_at=utcnow(), plays=1000,
                          likes=50, comments=5, shares=5) for i in range(2)])
    request = creator_services.submit_identity(session, creator, "张三", "resident_id", VALID_RESIDENT_ID,
                                               FileStorage(io.BytesIO(_cache["png"]), "id.png"))
    session.flush()
    w.creator = {"id": creator.id, "identity": request.id}


VALID_RESIDENT_ID = "11010519491231002X"  # GB 11643-1999 check digit


def discovery_world(session, w: World) -> None:
    """For the discovery rows: two listed creators of their own, and A's shortlist holding the first (with a
    note)."""
    from marketplace.creators.models import CreatorCategory, Shortlist, ShortlistEntry

    ids = []
    for name, handle in (("Matrix Listed", "matrix_listed"), ("Matrix Other", "matrix_other")):
        creator = become_creator(session, _quick_user(session))
        creator.display_name, creator.handle, creator.bio = name, handle, "美妆测评"
        creator.listed, creator.followers, creator.engagement_bp = True, 20_000, 400
        creator.categories.append(CreatorCategory(category="beauty"))
        ids.append(creator.id)
    shortlist = Shortlist(enterprise_id=w.a_id, name="Matrix shortlist", created_by_id=w.users[A_OWNER].id)
    session.add(shortlist)
    session.flush()
    session.add(ShortlistEntry(shortlist_id=shortlist.id, creator_id=ids[0], note="First pick"))
    session.flush()
    w.discovery = {"listed": ids[0], "other": ids[1], "shortlist": shortlist.id}


# --- probes: read the state a request would change (fresh from the database) ------------------------------


def _a_display_name(s, w):
    return s.scalar(select(Enterprise.display_name).where(Enterprise.id == w.a_id))


def _a_state(s, w):
    return s.scalar(select(Enterprise.verification_state).where(Enterprise.id == w.a_id))


def _b_state(s, w):
    return s.scalar(select(Enterprise.verification_state).where(Enterprise.id == w.b_id))


def _a_invitations(s, w):
    return s.scalar(select(func.count()).select_from(Invitation).where(Invitation.enterprise_id == w.a_id))


def _a_members(s, w):
    return s.scalar(select(func.count()).select_from(Membership).where(Membership.enterprise_id == w.a_id))


def _viewer_role(s, w):
    return s.scalar(select(Membership.role).where(Membership.id == w.viewer_membership_id))


def _invitation_revoked(s, w):
    return s.scalar(select(Invitation.revoked_at).where(Invitation.id == w.invitation_id)) is not None


def _newbie_active(s, w):
    return s.scalar(select(User.is_active).where(User.id == w.newbie_id))


def _a_top_ups(s, w):
    from marketplace.payments.models import TopUp

    return s.scalar(select(func.count()).select_from(TopUp).where(TopUp.enterprise_id == w.a_id))


def _top_up_state(s, w):
    from marketplace.payments.models import TopUp

    return s.scalar(select(TopUp.state).where(TopUp.id == w.money["top_up"]))


def _a_credit_limit(s, w):
    from marketplace.payments.models import CreditLine

    return s.scalar(select(CreditLine.limit).where(CreditLine.enterprise_id == w.a_id))


def _enterprise_count(s, w):
    return s.scalar(select(func.count()).select_from(Enterprise))


def _creator_of(w: World):
    from marketplace.creators.models import Creator

    return select(Creator.id).where(Creator.user_id == w.users[CREATOR].id).scalar_subquery()


def _creator_handle(s, w):
    from marketplace.creators.models import Creator

    return s.scalar(select(Creator.handle).where(Creator.user_id == w.users[CREATOR].id))


def _creator_platform_accounts(s, w):
    from marketplace.creators.models import PlatformAccount

    return s.scalar(select(func.count()).select_from(PlatformAccount).where(PlatformAccount.creator_id == _creator_of(w)))


def _creator_rate_cards(s, w):
    from marketplace.creators.models import RateCardVersion

    return s.scalar(select(func.count()).select_from(RateCardVersion).where(RateCardVersion.creator_id == _creator_of(w)))


def _creator_identity_requests(s, w):
    from marketplace.creators.models import IdentityVerification

    return s.scalar(select(func.count()).select_from(IdentityVerification)
                    .where(IdentityVerification.creator_id == _creator_of(w)))


def _identity_state(s, w):
    from marketplace.creators.models import IdentityVerification

    return s.scalar(select(IdentityVerification.state).where(IdentityVerification.id == w.creator["identity"]))


def _a_shortlists(s, w):
    from marketplace.creators.models import Shortlist

    return s.scalar(select(func.count()).select_from(Shortlist).where(Shortlist.enterprise_id == w.a_id))


def _shortlist_name(s, w):
    from marketplace.creators.models import Shortlist

    return s.scalar(select(Shortlist.name).where(Shortlist.id == w.discovery["shortlist"]))


def _a_shortlist_entries(s, w):
    from marketplace.creators.models import Shortlist, ShortlistEntry

    return s.scalar(select(func.count()).select_from(ShortlistEntry).join(Shortlist)
                    .where(Shortlist.enterprise_id == w.a_id))


def _entry_note(s, w):
    from marketplace.creators.models import ShortlistEntry

    return s.scalar(select(ShortlistEntry.note).where(ShortlistEntry.shortlist_id == w.discovery["shortlist"],
                                                      ShortlistEntry.creator_id == w.discovery["listed"]))


# --- form data -------------------------------------------------------------------------------------------


def _enterprise_form(legal_name: str, uscc: str, display_name: str) -> dict[str, str]:
    return {"legal_name": legal_name, "display_name": display_name, "uscc": uscc, "contact_name": "Contact",
            "contact_phone": "+86 21 5555 0000", "contact_email": "contact@example.com",
            "invoice_title": "", "tax_number": ""}


_signups = {"n": 0}


def _fresh_email() -> str:
    _signups["n"] += 1
    return f"matrix-new-{_signups['n']}@example.com"


# --- the matrix ------------------------------------------------------------------------------------------

Args = Callable[[World], dict[str, Any]]
Data = Callable[[World, str], dict[str, str]]


@dataclass(frozen=True)
class Row:
    endpoint: str
    method: str
    args: Args  # url_for values
    allowed: frozenset[str]
    ok: tuple[int, ...]  # statuses an allowed actor may get
    why: str
    data: Data | None = None  # POST body (without the CSRF token, which is always added)
    probe: Callable[[Any, World], Any] | None = None  # state the request changes (allowed) / must not (denied)
    denied: int = 403  # status for a signed-in actor who is not allowed
    setup: Callable[[Any, World], None] | None = None  # extra world for this row (before signing in)

    @property
    def id(self) -> str:
        return f"{self.endpoint}:{self.method}"


def none(w: World) -> dict:
    return {}


def ent_a(w: World) -> dict:
    return {"enterprise_id": w.a_id}


def ent_b(w: World) -> dict:
    return {"enterprise_id": w.b_id}


def a_top_up(w: World) -> dict:
    return {"enterprise_id": w.a_id, "top_up_id": w.money["top_up"]}


def top_up(w: World) -> dict:
    return {"top_up_id": w.money["top_up"]}


def creator_id(w: World) -> dict:
    return {"creator_id": w.creator["id"]}


def identity(w: World) -> dict:
    return {"verification_id": w.creator["identity"]}


def _profile_form(w: World, actor: str) -> dict[str, Any]:
    return {"handle": "matrix_creator", "display_name": "Matrix Creator", "kind": "individual", "bio": "",
            "categories": ["beauty", "food"], "regions": ["44"], "languages": ["zh"], "accepting_orders": "y"}


def _identity_form(w: World, actor: str) -> dict[str, Any]:
    if "png" not in _cache:
        _cache["png"] = licence_png("Matrix", "91310000MA1FL8XQ30")
    return {"legal_name": "张三", "id_type": "resident_id", "id_number": VALID_RESIDENT_ID,
            "photo": (io.BytesIO(_cache["png"]), "id.png")}


A_WALLET = frozenset({A_OWNER, A_FINANCE})  # enterprise.finance
FINANCE_VIEW = frozenset({FINANCE_STAFF, ADMIN})  # finance.view (admins read only)
FINANCE_MANAGE = frozenset({FINANCE_STAFF})  # finance.manage
M = money_world
D = discovery_world
ACTS_FOR_AN_ENTERPRISE = A_MEMBERS | {B_OWNER}  # users whose acting context is an enterprise
A_SHORTLIST_EDITORS = frozenset({A_OWNER, A_MANAGER})  # enterprise.shortlists.edit


def a_shortlist(w: World) -> dict:
    return {"enterprise_id": w.a_id, "shortlist_id": w.discovery["shortlist"]}


def a_shortlist_entry(w: World) -> dict:
    return {"enterprise_id": w.a_id, "shortlist_id": w.discovery["shortlist"], "creator_id": w.discovery["listed"]}


R = Row
# fmt: off
MATRIX: list[Row] = [
    # --- main ------------------------------------------------------------------------------------------
    R("main.index", "GET", none, PUBLIC, (200, 302),
      "landing page; signed-in users are sent on to their dashboard"),
    R("main.healthz", "GET", none, PUBLIC, (200,),
      "liveness probe"),
    R("main.dashboard", "GET", none, SIGNED_IN, (200, 302),
      "login required; redirects to the acting context's home"),
    R("main.switch_context", "POST", none, SIGNED_IN, (302,),
      "login required; each actor switches to a context of their own",
      data=lambda w, actor: {"context": w.own_context[actor]}),
    R("main.switch_language", "POST", none, PUBLIC, (302,),
      "anyone may change the language",
      data=lambda w, actor: {"locale": "zh_CN"}),
    # --- accounts --------------------------------------------------------------------------------------
    R("accounts.signup", "GET", none, PUBLIC, (200, 302),
      "public; signed-in users are sent to the dashboard"),
    R("accounts.signup", "POST", none, PUBLIC, (302,),
      "public; creates an account (signed-in users are sent to the dashboard)",
      data=lambda w, actor: {"kind": "brand", "display_name": "New Person", "email": _fresh_email(),
                             "password": NEW_PASSWORD}),
    R("accounts.login", "GET", none, PUBLIC, (200, 302),
      "public; signed-in users are sent to the dashboard"),
    R("accounts.login", "POST", none, PUBLIC, (302,),
      "public; correct credentials log in (signed-in users are sent to the dashboard)",
      data=lambda w, actor: {"email": w.newbie_email, "password": PASSWORD}),
    R("accounts.logout", "POST", none, PUBLIC, (302,),
      "anyone; logging out when not logged in is a harmless no-op"),
    R("accounts.verify_email", "GET", lambda w: {"token": w.verify_token}, PUBLIC, (302,),
      "public: the link's token is the authority (then to /login without next, or to the dashboard)"),
    R("accounts.resend_verification", "POST", none, SIGNED_IN, (302,),
      "login required; resends the current user's own link"),
    R("accounts.forgot_password", "GET", none, PUBLIC, (200,),
      "public"),
    R("accounts.forgot_password", "POST", none, PUBLIC, (302,),
      "public; same answer whether the account exists (then to /login without next)",
      data=lambda w, actor: {"email": w.newbie_email}),
    R("accounts.reset_password", "GET", lambda w: {"token": w.reset_token}, PUBLIC, (200,),
      "public: the link's token is the authority"),
    R("accounts.reset_password", "POST", lambda w: {"token": w.reset_token}, PUBLIC, (302,),
      "public: the token holder sets a new password (then to /login without next)",
      data=lambda w, actor: {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}),
    R("accounts.settings", "GET", none, SIGNED_IN, (200,),
      "login required; the user's own settings"),
    R("accounts.settings", "POST", none, SIGNED_IN, (302,),
      "login required; changes only the user's own settings",
      data=lambda w, actor: {"display_name": "Renamed", "locale": "en", "timezone": "Asia/Shanghai"}),
    R("accounts.change_password", "GET", none, SIGNED_IN, (200,),
      "login required"),
    R("accounts.change_password", "POST", none, SIGNED_IN, (302,),
      "login required; the user's own password, with the current one",
      data=lambda w, actor: {"current_password": PASSWORD, "new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD}),
    # --- enterprises -----------------------------------------------------------------------------------
    R("enterprises.create", "GET", none, SIGNED_IN, (200,),
      "any signed-in user may start an enterprise"),
    R("enterprises.create", "POST", none, SIGNED_IN, (302,),
      "any signed-in (verified) user may create an enterprise and becomes its owner",
      data=lambda w, actor: _enterprise_form("新建测试企业有限公司", valid_uscc(), "New Brand"),
      probe=_enterprise_count),
    R("enterprises.overview", "GET", ent_a, A_MEMBERS, (200,),
      "members of A only (staff do not browse enterprises here; they use the staff console)"),
    R("enterprises.edit", "GET", ent_a, frozenset({A_OWNER}), (200,),
      "enterprise.edit: owner only"),
    R("enterprises.edit", "POST", ent_a, frozenset({A_OWNER}), (302,),
      "enterprise.edit: owner only",
      data=lambda w, actor: _enterprise_form(w.a_legal_name, w.a_uscc, "Renamed Brand"),
      probe=_a_display_name),
    R("enterprises.submit", "POST", ent_a, frozenset({A_OWNER}), (302,),
      "enterprise.edit: only the owner submits for verification",
      probe=_a_state),
    R("enterprises.licence", "GET", ent_a, frozenset({A_OWNER, A_MANAGER, A_FINANCE}) | VERIFIERS, (200,),
      "enterprise.licence.view: owner, manager, finance of A, and verifying staff; not viewers"),
    R("enterprises.members", "GET", ent_a, A_MEMBERS, (200,),
      "enterprise.members.view: every member of A"),
    R("enterprises.invite", "POST", ent_a, frozenset({A_OWNER}), (302,),
      "enterprise.members.manage: owner only",
      data=lambda w, actor: {"email": _fresh_email(), "role": "manager"},
      probe=_a_invitations),
    R("enterprises.change_role", "POST",
      lambda w: {"enterprise_id": w.a_id, "membership_id": w.viewer_membership_id},
      frozenset({A_OWNER}), (302,),
      "enterprise.members.manage: owner only (target: the viewer's membership)",
      data=lambda w, actor: {"role": "manager"},
      probe=_viewer_role),
    R("enterprises.remove_member", "POST",
      lambda w: {"enterprise_id": w.a_id, "membership_id": w.viewer_membership_id},
      frozenset({A_OWNER, A_VIEWER}), (302,),
      "owner removes anyone; a member may remove only themselves (leave) (target: the viewer)",
      probe=_a_members),
    R("enterprises.revoke_invitation", "POST",
      lambda w: {"enterprise_id": w.a_id, "invitation_id": w.invitation_id},
      frozenset({A_OWNER}), (302,),
      "enterprise.members.manage: owner only",
      probe=_invitation_revoked),
    R("enterprises.invitation", "GET", lambda w: {"token": w.invitation_token}, PUBLIC, (200,),
      "public: the token is the authority; shows who is invited"),
    R("enterprises.invitation", "POST", lambda w: {"token": w.invitation_token}, frozenset({CREATOR}), (302,),
      "login required; only the invited email address (the creator's) may accept",
      probe=_a_members),
    # --- creators --------------------------------------------------------------------------------------
    R("creators.home", "GET", none, frozenset({CREATOR}), (200,),
      "users with a creator record only"),
    R("creators.become", "POST", none, SIGNED_IN, (302,),
      "any signed-in user may open a creator workspace for themselves"),
    R("creators.profile", "GET", none, frozenset({CREATOR}), (200,),
      "creator.workspace: the creator's own profile form"),
    R("creators.profile", "POST", none, frozenset({CREATOR}), (302,),
      "creator.workspace: changes only the signed-in creator's own profile",
      data=_profile_form, probe=_creator_handle),
    R("creators.platform", "GET", none, frozenset({CREATOR}), (200,),
      "creator.workspace: the creator's own platform account"),
    R("creators.platform", "POST", none, frozenset({CREATOR}), (302,),
      "creator.workspace: links a sandbox account to the signed-in creator",
      data=lambda w, actor: {"account": "@matrix_beauty"}, probe=_creator_platform_accounts),
    R("creators.rate_card", "GET", none, frozenset({CREATOR}), (200,),
      "creator.workspace: the creator's own rate card and its history"),
    R("creators.rate_card", "POST", none, frozenset({CREATOR}), (302,),
      "creator.workspace: appends a version to the signed-in creator's rate card",
      data=lambda w, actor: {"price_short_video": "2000", "revision_rounds": "1", "lead_time_days": "7"},
      probe=_creator_rate_cards),
    R("creators.verification", "GET", none, frozenset({CREATOR}), (200,),
      "creator.workspace: the creator's own real-name verification"),
    R("creators.verification", "POST", none, frozenset({CREATOR}), (302,),
      "creator.workspace: sends the signed-in creator's own real-name request",
      data=_identity_form, probe=_creator_identity_requests),
    R("creators.identity_photo", "GET", identity, frozenset({CREATOR}) | VERIFIERS, (200,),
      "creator.identity.view: the creator who sent it, and verifying staff", setup=creator_world),
    # --- creator profile pages for brands (``creator_world``: the creator is listed) ----------------------
    R("creator_profiles.profile", "GET", creator_id, SIGNED_IN, (200,),
      "creator.profile.view: members of any enterprise (A's and B's), every staff role, and the creator "
      "themself (preview)", setup=creator_world),
    R("creator_profiles.avatar", "GET", creator_id, SIGNED_IN, (200,),
      "creator.profile.view, like the profile page", setup=creator_world),
    # --- staff -----------------------------------------------------------------------------------------
    R("staff.home", "GET", none, STAFF_CONSOLE, (200,),
      "staff.console: every staff role"),
    R("staff.enterprises", "GET", none, VERIFIERS, (200,),
      "staff.verification: reviewer, admin"),
    R("staff.enterprise", "GET", ent_b, VERIFIERS, (200,),
      "staff.verification: reviewer, admin"),
    R("staff.enterprise_licence", "GET", ent_b, VERIFIERS, (200,),
      "staff.verification: reviewer, admin (not B's own owner through this URL)"),
    R("staff.approve", "POST", ent_b, VERIFIERS, (302,),
      "staff.verification: reviewer, admin; an owner cannot approve their own enterprise",
      probe=_b_state),
    R("staff.reject", "POST", ent_b, VERIFIERS, (302,),
      "staff.verification: reviewer, admin",
      data=lambda w, actor: {"reason": "Licence is blurry, please rescan."},
      probe=_b_state),
    R("staff.identity_queue", "GET", none, VERIFIERS, (200,),
      "staff.verification: reviewer, admin", setup=creator_world),
    R("staff.identity", "GET", identity, VERIFIERS, (200,),
      "staff.verification: reviewer, admin", setup=creator_world),
    R("staff.identity_photo", "GET", identity, VERIFIERS, (200,),
      "staff.verification: reviewer, admin (the creator has their own URL)", setup=creator_world),
    R("staff.approve_identity", "POST", identity, VERIFIERS, (302,),
      "staff.verification: reviewer, admin; gives the creator the verified badge", setup=creator_world,
      probe=_identity_state),
    R("staff.reject_identity", "POST", identity, VERIFIERS, (302,),
      "staff.verification: reviewer, admin", setup=creator_world,
      data=lambda w, actor: {"reason": "The photo is blurry, please retake it."}, probe=_identity_state),
    R("staff.audit", "GET", none, AUDITORS, (200,),
      "staff.audit: finance staff, admin"),
    R("staff.users", "GET", none, frozenset({ADMIN}), (200,),
      "staff.users: admin only"),
    R("staff.set_active", "POST", lambda w: {"user_id": w.newbie_id}, frozenset({ADMIN}), (302,),
      "staff.users: admin only (deactivates newbie)",
      data=lambda w, actor: {"active": "0"},
      probe=_newbie_active),
    # --- discovery: finding creators, shortlists, comparison (``discovery_world``) -------------------------
    R("discovery.discover", "GET", none, ACTS_FOR_AN_ENTERPRISE, (200,),
      "enterprise.discover in the acting enterprise: any member of one (B's owner searches for B); a creator or "
      "staff context has no enterprise to search for", setup=D),
    R("discovery.compare", "GET", lambda w: {"ids": f"{w.discovery['listed']},{w.discovery['other']}"},
      ACTS_FOR_AN_ENTERPRISE, (200,),
      "enterprise.discover in the acting enterprise, like the search (listed creators only)", setup=D),
    R("discovery.shortlists", "GET", ent_a, A_MEMBERS, (200,),
      "enterprise.shortlists.view: every member of A; not B's owner", setup=D),
    R("discovery.create_shortlist", "POST", ent_a, A_SHORTLIST_EDITORS, (302,),
      "enterprise.shortlists.edit: owner and manager of A", setup=D,
      data=lambda w, actor: {"name": "Autumn launch"}, probe=_a_shortlists),
    R("discovery.shortlist", "GET", a_shortlist, A_MEMBERS, (200,),
      "enterprise.shortlists.view: every member of A (the shortlist is A's)", setup=D),
    R("discovery.rename_shortlist", "POST", a_shortlist, A_SHORTLIST_EDITORS, (302,),
      "enterprise.shortlists.edit: owner and manager of A", setup=D,
      data=lambda w, actor: {"name": "Renamed shortlist"}, probe=_shortlist_name),
    R("discovery.delete_shortlist", "POST", a_shortlist, A_SHORTLIST_EDITORS, (302,),
      "enterprise.shortlists.edit: owner and manager of A", setup=D, probe=_a_shortlists),
    R("discovery.add_entry", "POST", ent_a, A_SHORTLIST_EDITORS, (302,),
      "enterprise.shortlists.edit: owner and manager add a listed creator to A's shortlist", setup=D,
      data=lambda w, actor: {"shortlist": str(w.discovery["shortlist"]), "creator_id": str(w.discovery["other"])},
      probe=_a_shortlist_entries),
    R("discovery.remove_entry", "POST", a_shortlist_entry, A_SHORTLIST_EDITORS, (302,),
      "enterprise.shortlists.edit: owner and manager of A", setup=D, probe=_a_shortlist_entries),
    R("discovery.update_note", "POST", a_shortlist_entry, A_SHORTLIST_EDITORS, (302,),
      "enterprise.shortlists.edit: owner and manager of A", setup=D,
      data=lambda w, actor: {"note": "Great fit for the autumn launch"}, probe=_entry_note),
    # --- payments: the enterprise wallet (A verified, with a pending bank top-up: ``money_world``) -------
    R("payments.wallet", "GET", ent_a, A_WALLET, (200,),
      "enterprise.finance: owner and finance of A; not manager/viewer; finance staff use /finance", setup=M),
    R("payments.wallet_csv", "GET", ent_a, A_WALLET, (200,),
      "enterprise.finance, like the wallet", setup=M),
    R("payments.top_up_form", "GET", ent_a, A_WALLET, (200,),
      "enterprise.finance", setup=M),
    R("payments.bank_top_up", "POST", ent_a, A_WALLET, (302,),
      "enterprise.finance: opens a pending bank transfer", setup=M,
      data=lambda w, actor: {"amount": "2000"}, probe=_a_top_ups),
    R("payments.bank_instructions", "GET", a_top_up, A_WALLET, (200,),
      "enterprise.finance: the transfer's reference code and bank details", setup=M),
    R("payments.cancel_top_up", "POST", a_top_up, A_WALLET, (302,),
      "enterprise.finance: the enterprise withdraws its own pending request", setup=M,
      probe=_top_up_state),
    # --- payments: card top-ups through Stripe Checkout (``card_world``: a local Stripe server) ----------
    R("payments_card.start", "POST", ent_a, A_WALLET, (303,),
      "enterprise.finance: opens a pending card top-up and sends the payer on to Stripe Checkout",
      setup=card_world, data=lambda w, actor: {"amount": "1000"}, probe=_a_top_ups),
    R("payments_card.top_up_status", "GET", a_top_up, A_WALLET, (200,),
      "enterprise.finance: one top-up's status (Stripe Checkout returns here)", setup=M),
    R("payments_card.stripe_webhook", "POST", none, PUBLIC, (400,),
      "public and CSRF-exempt: Stripe's signature is the authority, so any request without a valid "
      "Stripe-Signature (all of these) is refused with 400 whoever sends it; signed deliveries are tested in "
      "test_stripe_topups"),
    # --- finance console (platform finance staff; admins read only) -------------------------------------
    R("finance.home", "GET", none, FINANCE_VIEW, (200,),
      "finance.view: finance staff, admin", setup=M),
    R("finance.top_ups", "GET", none, FINANCE_VIEW, (200,),
      "finance.view", setup=M),
    R("finance.confirm_top_up", "POST", top_up, FINANCE_MANAGE, (302,),
      "finance.manage: finance staff only (admins read only); credits the wallet", setup=M,
      data=lambda w, actor: {f"t{w.money['top_up']}-amount_received": "1000", f"t{w.money['top_up']}-note": ""},
      probe=_top_up_state),
    R("finance.cancel_top_up", "POST", top_up, FINANCE_MANAGE, (302,),
      "finance.manage: finance staff only", setup=M,
      data=lambda w, actor: {"reason": "No transfer arrived."}, probe=_top_up_state),
    R("finance.accounts", "GET", none, FINANCE_VIEW, (200,),
      "finance.view", setup=M),
    R("finance.account", "GET", lambda w: {"account_id": w.money["account"]}, FINANCE_VIEW, (200,),
      "finance.view (A's wallet account)", setup=M),
    R("finance.transaction", "GET", lambda w: {"transaction_id": w.money["transaction"]}, FINANCE_VIEW, (200,),
      "finance.view (A's confirmed top-up)", setup=M),
    R("finance.trial_balance_page", "GET", none, FINANCE_VIEW, (200,),
      "finance.view", setup=M),
    R("finance.credit_lines", "GET", none, FINANCE_VIEW, (200,),
      "finance.view", setup=M),
    R("finance.credit_line", "GET", ent_a, FINANCE_VIEW, (200,),
      "finance.view: see A's credit line", setup=M),
    R("finance.credit_line", "POST", ent_a, FINANCE_MANAGE, (302,),
      "finance.manage: finance staff set a credit line (admins read only)", setup=M,
      data=lambda w, actor: {"limit": "5000", "reason": "Good payment history."}, probe=_a_credit_limit),
    # --- development mailbox (registered only outside production with the console mail backend) ---------
    R("devmail.inbox", "GET", none, PUBLIC, (200,),
      "public in development: the outbox of a console-mail dev/test site (absent in production)"),
    R("devmail.message", "GET", lambda w: {"email_id": w.outbox_email_id}, PUBLIC, (200,),
      "public in development, like the inbox"),
]

# Order-taking routes: their rows live beside the worlds they need, one module per area (imported here, after
# everything they use from this module is defined).
from tests.integration import access_jobs, access_orders, access_review, access_withdrawals  # noqa: E402

MATRIX += access_orders.rows() + access_jobs.rows() + access_review.rows() + access_withdrawals.rows()
# fmt: on


# --- the tests -------------------------------------------------------------------------------------------


def _routes(app) -> set[tuple[str, str]]:
    return {
        (rule.endpoint, method)
        for rule in app.url_map.iter_rules()
        if rule.endpoint != "static"
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }


def test_matrix_lists_every_route(app):
    listed = [row.id for row in MATRIX]
    assert len(listed) == len(set(listed)), "a route is listed twice"
    routes = {f"{endpoint}:{method}" for endpoint, method in _routes(app)}
    missing = sorted(routes - set(listed))
    stale = sorted(set(listed) - routes)
    assert not missing, f"routes without an access-matrix row (decide who may use them): {missing}"
    assert not stale, f"access-matrix rows for routes that no longer exist: {stale}"


def test_matrix_rows_are_well_formed():
    for row in MATRIX:
        assert row.allowed <= PUBLIC, row.id
        assert row.method in ("GET", "POST"), row.id
        # A public row may expect a 400 (no access decision to hide: the Stripe webhook refuses every unsigned
        # request, whoever sends it); otherwise an allowed actor gets a success or a redirect.
        assert row.ok and all(100 <= s < 400 or (s == 400 and row.allowed == PUBLIC) for s in row.ok), row.id
        assert row.probe is None or row.method == "POST", row.id
        assert row.why, row.id


def _login_bounce(response, path: str) -> bool:
    """Is this Flask-Login's redirect to the login page, asking to come back to ``path``?"""
    if response.status_code not in (301, 302, 303) or not response.location:
        return False
    target = urlsplit(response.location)
    return target.path == "/login" and parse_qs(target.query).get("next") == [path]


# A row's cases share an xdist group, so a parallel run keeps them on one worker, one after the other (row_case).
CASES = [pytest.param(row, actor, id=f"{row.id}-{actor}", marks=pytest.mark.xdist_group(f"matrix:{row.id}"))
         for row in MATRIX for actor in ACTORS]


class _RowWorld:
    """The world and the row's ``setup``, built once for the row's consecutive cases (one per actor).

    Built in a transaction of its own on one connection, which the app's sessions join (as the ``session``
    fixture does) and which is rolled back when the row is done. Each case runs inside a SAVEPOINT of that
    transaction, rolled back after the case, and with an app context (so ``g``, the signed-in user) and a test
    client (cookies) of its own: every actor meets the world exactly as built, as if it had been built for it.
    """

    def __init__(self, app, row: Row):
        from sqlalchemy.orm import sessionmaker

        from marketplace.db import database
        from tests.conftest import enterprise_factory, member_factory, user_factory

        self.app, self.row = app, row
        self.db = database(app)
        self.connection = self.db.engine.connect()
        self.outer = self.connection.begin()
        factory = sessionmaker(bind=self.connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
        self.original = (self.db.session_factory, self.db.write_session_factory)
        self.db.session_factory = self.db.write_session_factory = factory
        self.ctx = app.app_context()
        self.ctx.push()
        self.session = factory()
        try:
            make_user = user_factory(self.session)
            self.world = build_world(self.session, enterprise_factory(self.session, make_user),
                                     member_factory(self.session, make_user))
            if row.setup:
                row.setup(self.session, self.world)
            self.session.flush()
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        try:
            self.session.close()
        finally:
            self.ctx.pop()  # ends what the setup tied to the app context (card_world's Stripe server)
            self.db.session_factory, self.db.write_session_factory = self.original
            if self.outer.is_active:
                self.outer.rollback()
            self.connection.close()


_row_world: dict[str, _RowWorld] = {}


@pytest.fixture(scope="module", autouse=True)
def _close_row_world():
    yield
    if "current" in _row_world:
        _row_world.pop("current").close()


@pytest.fixture
def row_case(request, app):
    """(session, client, world) for one (row, actor) case; see ``_RowWorld``. A row whose setup starts a local
    Stripe server (``card_world``) gets a fresh world per case, as that server's idempotency keys must not
    outlive a case's rolled-back top-ups."""
    from tests.conftest import NEXT_ITEM

    row = request.node.callspec.params["row"]
    shared = row.setup is not card_world
    current = _row_world.get("current")
    if current is not None and current.row is not row:
        _row_world.pop("current").close()
        current = None
    if current is None:
        current = _row_world["current"] = _RowWorld(app, row)
    session = current.session
    savepoint = current.connection.begin_nested()
    ctx = app.app_context()
    ctx.push()
    try:
        yield session, app.test_client(), current.world
    finally:
        ctx.pop()
        nextitem = request.node.stash.get(NEXT_ITEM, None)
        next_row = nextitem.callspec.params.get("row") if hasattr(nextitem, "callspec") else None
        keep = shared and next_row is row and nextitem.function is request.node.function
        try:
            savepoint.rollback()
            session.expire_all()
        except Exception:  # noqa: BLE001 - the case broke the transaction: build the world again
            keep = False
        if not keep:
            _row_world.pop("current").close()


@pytest.mark.parametrize(("row", "actor"), CASES)
def test_access(app, row_case, row: Row, actor: str):
    session, client, world = row_case
    path = app.url_map.bind("localhost").build(row.endpoint, row.args(world))
    if actor != ANON:
        sign_in(client, world.users[actor])
    before = None
    if row.probe:
        session.expire_all()
        before = row.probe(session, world)

    if row.method == "GET":
        response = client.get(path)
    else:
        # A valid CSRF token for this browser session, from a page that renders one.
        token = csrf_from(client.get("/settings" if actor != ANON else "/login").get_data(as_text=True))
        data = row.data(world, actor) if row.data else {}
        response = client.post(path, data={"csrf_token": token, **data})

    status = response.status_code
    body = response.get_data(as_text=True) if response.mimetype == "text/html" else ""
    session.expire_all()
    after = row.probe(session, world) if row.probe else None

    if actor in row.allowed:
        assert status not in (401, 403), f"{actor} should be allowed: {row.why}"
        assert not _login_bounce(response, path), f"{actor} was sent to log in: {row.why}"
        assert status in row.ok, f"{actor} got {status}, expected one of {row.ok}: {body[:500]}"
        if row.probe:
            assert after != before, f"{actor} was allowed but nothing changed ({before!r})"
    else:
        if actor == ANON:
            assert _login_bounce(response, path), f"anonymous should be sent to /login?next={path}, got {status}"
        else:
            assert status == row.denied, f"{actor} should be refused with {row.denied}, got {status}: {row.why}"
        if row.probe:
            assert after == before, f"{actor} was refused but the state changed: {before!r} -> {after!r}"
        for secret in (world.a_legal_name, world.a_uscc, world.b_legal_name, world.b_uscc):
            assert secret not in body, "the refusal page shows an enterprise's details"


# --- object references that cross enterprise boundaries (IDOR) -------------------------------------------


@pytest.fixture
def b_objects(session, world):
    """B's owner membership and an open invitation of B."""
    b_membership = session.scalar(select(Membership.id).where(Membership.enterprise_id == world.b_id))
    b = session.get(Enterprise, world.b_id)
    invitation = invite_member(session, world.users[B_OWNER], b, "someone@example.com", "viewer")
    session.flush()
    return b_membership, invitation.id


@pytest.mark.parametrize("endpoint", ["change_role", "remove_member", "revoke_invitation"])
def test_owner_of_a_cannot_reach_b_objects_through_a_urls(client, session, login_as, world, b_objects, endpoint):
    """A's owner may manage A's members, but an id of B's membership/invitation under A's URL is 404."""
    b_membership, b_invitation = b_objects
    login_as(world.users[A_OWNER])
    token = csrf_from(client.get("/settings").get_data(as_text=True))
    if endpoint == "revoke_invitation":
        path = f"/enterprises/{world.a_id}/invitations/{b_invitation}/revoke"
    else:
        path = f"/enterprises/{world.a_id}/members/{b_membership}/{'role' if endpoint == 'change_role' else 'remove'}"
    response = client.post(path, data={"csrf_token": token, "role": "viewer"})
    assert response.status_code == 404
    session.expire_all()
    membership = session.get(Membership, b_membership)
    assert membership is not None and membership.role == "owner"
    assert session.get(Invitation, b_invitation).revoked_at is None


@pytest.mark.parametrize("actor", [CREATOR, B_OWNER, REVIEWER, ADMIN])
def test_cannot_switch_into_a_context_one_does_not_have(client, login_as, world, actor):
    login_as(world.users[actor])
    token = csrf_from(client.get("/settings").get_data(as_text=True))
    response = client.post("/context", data={"csrf_token": token, "context": f"enterprise:{world.a_id}"})
    assert response.status_code == 400
    with client.session_transaction() as sess:
        assert sess.get("context") != f"enterprise:{world.a_id}"
    # The dashboard does not take them into A either.
    dashboard = client.get("/dashboard")
    assert dashboard.location != f"/enterprises/{world.a_id}"


def test_member_context_switch_does_not_open_other_enterprises(client, login_as, world):
    """Acting as B does not let B's owner into A (permissions follow the object's enterprise)."""
    login_as(world.users[B_OWNER], context=f"enterprise:{world.b_id}")
    assert client.get(f"/enterprises/{world.b_id}").status_code == 200
    assert client.get(f"/enterprises/{world.a_id}").status_code == 403
    assert client.get(f"/enterprises/{world.a_id}/members").status_code == 403
