"""Security properties of the whole site.

(a) CSRF: every POST route refuses a request without a token (400, the CSRF error page) and writes nothing;
    the same request with a token then does change the probed state (so the probe can see a write).
(b) Security headers (CSP without inline script, framing denied, nosniff, referrer policy), no inline script
    or style in the pages, private pages not cached, cookie flags; production: Secure cookies, HSTS, no dev
    mailbox, and start-up refused without the secrets production needs.
(c) The login rate limit per account: 429 with the error page, other accounts unaffected.
(d) Error pages (404, 405, a forced 500) render without stack traces or exception details.
(e) No open redirect through ``next``.
(f) Sessions end when the account is deactivated or its password changes (or is reset).

The world (enterprise A with members, pending enterprise B, staff, an unverified ``newbie`` with
verification/reset links) is the access matrix's ``world`` fixture.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func, select

from marketplace import create_app
from marketplace.accounts.models import User
from marketplace.config import ConfigError
from marketplace.creators.models import Creator, IdentityVerification, PlatformAccount
from marketplace.creators.services import become_creator
from marketplace.db import database
from marketplace.enterprises.models import Enterprise, Invitation, Membership
from marketplace.mail.models import OutboxEmail
from tests.conftest import PASSWORD, build_app, create_test_database, csrf_from, valid_uscc
from tests.integration.test_access_matrix import (
    A_FINANCE,
    A_OWNER,
    ADMIN,
    B_OWNER,
    CREATOR,
    FINANCE_STAFF,
    NEW_PASSWORD,
    REVIEWER,
    World,
    _identity_form,
    _profile_form,
    build_world,
    card_world,
    creator_world,
    discovery_world,
    money_world,
)


@pytest.fixture
def world(session, make_enterprise, make_member) -> World:
    """The access matrix's world: enterprise A with members, pending enterprise B, staff, ``newbie``."""
    return build_world(session, make_enterprise, make_member)


CSRF_MESSAGE = "Your form expired or was sent from another site"
ANON = None


def _login_bounce(response) -> bool:
    if response.status_code != 302 or not response.location:
        return False
    target = urlsplit(response.location)
    return target.path == "/login" and "next" in parse_qs(target.query)


def _token(client) -> str:
    """A valid CSRF token for this client's session, from a page that renders one."""
    page = client.get("/settings")
    if page.status_code != 200:
        page = client.get("/login")
    return csrf_from(page.get_data(as_text=True))


def _form_login(client, email: str, password: str = PASSWORD, remember: bool = False):
    data = {"csrf_token": csrf_from(client.get("/login").get_data(as_text=True)), "email": email,
            "password": password}
    if remember:
        data["remember"] = "y"
    return client.post("/login", data=data)


# --- (a) CSRF ---------------------------------------------------------------------------------------------

Probe = Callable[[Any, World, Any], Any]  # (session, world, client) -> value


def _user_field(actor: str, column) -> Probe:
    return lambda s, w, c: s.scalar(select(column).where(User.id == w.users[actor].id))


def _newbie_field(column) -> Probe:
    return lambda s, w, c: s.scalar(select(column).where(User.id == w.newbie_id))


def _mail_count(kind: str) -> Probe:
    return lambda s, w, c: s.scalar(select(func.count()).select_from(OutboxEmail)
                                    .where(OutboxEmail.to_address == w.newbie_email, OutboxEmail.kind == kind))


def _signed_in(s, w, c) -> bool:
    return c.get("/settings").status_code == 200


def _session_context(s, w, c):
    with c.session_transaction() as sess:
        return sess.get("context")


def _session_locale(s, w, c):
    with c.session_transaction() as sess:
        return sess.get("locale")


def _count(model, where: Callable[[World], tuple]) -> Probe:
    return lambda s, w, c: s.scalar(select(func.count()).select_from(model).where(*where(w)))


def _top_ups(s, w, c):
    from marketplace.payments.models import TopUp

    return s.scalar(select(func.count()).select_from(TopUp).where(TopUp.enterprise_id == w.a_id))


def _top_up_state(s, w, c):
    from marketplace.payments.models import TopUp

    return s.scalar(select(TopUp.state).where(TopUp.id == w.money["top_up"]))


class _RewindingFile(io.BytesIO):
    """An upload the test client may send more than once (it closes files after each request)."""

    def close(self):
        self.seek(0)


def _rewinding(data: dict) -> dict:
    return {k: ((_RewindingFile(v[0].getvalue()), v[1]) if isinstance(v, tuple) else v) for k, v in data.items()}


def _identity_state(s, w, c):
    return s.scalar(select(IdentityVerification.state).where(IdentityVerification.id == w.creator["identity"]))


def _credit_limit(s, w, c):
    from marketplace.payments.models import CreditLine

    return s.scalar(select(CreditLine.limit).where(CreditLine.enterprise_id == w.a_id))


def _shortlist_count(s, w, c):
    from tests.integration.test_access_matrix import _a_shortlists

    return _a_shortlists(s, w)


def _shortlist_name(s, w, c):
    from tests.integration.test_access_matrix import _shortlist_name as name

    return name(s, w)


def _shortlist_entries(s, w, c):
    from tests.integration.test_access_matrix import _a_shortlist_entries

    return _a_shortlist_entries(s, w)


def _entry_note(s, w, c):
    from tests.integration.test_access_matrix import _entry_note as note

    return note(s, w)


@dataclass(frozen=True)
class CsrfCase:
    endpoint: str
    actor: str | None  # who sends it (allowed to); None: anonymous
    path: Callable[[World], str]
    data: Callable[[World], dict[str, str]]
    probe: Probe  # must read the same value after the token-less request, and differ after the real one
    setup: Callable[[Any, World], None] | None = None


def _enterprise_form(w: World, legal_name: str, uscc: str, display: str) -> dict[str, str]:
    return {"legal_name": legal_name, "display_name": display, "uscc": uscc, "contact_name": "Contact",
            "contact_phone": "+86 21 5555 0000", "contact_email": "contact@example.com",
            "invoice_title": "", "tax_number": ""}


NEW_USCC = valid_uscc(987654)
C = CsrfCase
# fmt: off
CSRF_CASES: list[CsrfCase] = [
    C("accounts.login", ANON, lambda w: "/login",
      lambda w: {"email": w.newbie_email, "password": PASSWORD},
      _newbie_field(User.last_login_at)),
    C("accounts.signup", ANON, lambda w: "/signup",
      lambda w: {"kind": "brand", "display_name": "Csrf Person", "email": "csrf-signup@example.com",
                 "password": NEW_PASSWORD},
      lambda s, w, c: s.scalar(select(func.count()).select_from(User).where(User.email == "csrf-signup@example.com"))),
    C("accounts.logout", A_OWNER, lambda w: "/logout", lambda w: {}, _signed_in),
    C("accounts.resend_verification", "newbie", lambda w: "/verify-email/resend", lambda w: {},
      _mail_count("verify_email")),
    C("accounts.forgot_password", ANON, lambda w: "/password/forgot", lambda w: {"email": w.newbie_email},
      _mail_count("reset_password")),
    C("accounts.reset_password", ANON, lambda w: f"/password/reset/{w.reset_token}",
      lambda w: {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}, _newbie_field(User.password_hash)),
    C("accounts.settings", A_OWNER, lambda w: "/settings",
      lambda w: {"display_name": "Csrf Renamed", "locale": "en", "timezone": "Asia/Shanghai"},
      _user_field(A_OWNER, User.display_name)),
    C("accounts.change_password", A_OWNER, lambda w: "/settings/password",
      lambda w: {"current_password": PASSWORD, "new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
      _user_field(A_OWNER, User.session_version)),
    C("main.switch_language", ANON, lambda w: "/language", lambda w: {"locale": "zh_CN", "next": "/"},
      _session_locale),
    C("main.switch_context", B_OWNER, lambda w: "/context", lambda w: {"context": "creator"},
      _session_context),
    C("enterprises.create", A_OWNER, lambda w: "/enterprises/new",
      lambda w: _enterprise_form(w, "跨站测试企业有限公司", NEW_USCC, "Csrf Brand"),
      _count(Enterprise, lambda w: (Enterprise.uscc == NEW_USCC,))),
    C("enterprises.edit", A_OWNER, lambda w: f"/enterprises/{w.a_id}/edit",
      lambda w: _enterprise_form(w, w.a_legal_name, w.a_uscc, "Csrf Renamed"),
      lambda s, w, c: s.scalar(select(Enterprise.display_name).where(Enterprise.id == w.a_id))),
    C("enterprises.submit", A_OWNER, lambda w: f"/enterprises/{w.a_id}/submit", lambda w: {},
      lambda s, w, c: s.scalar(select(Enterprise.verification_state).where(Enterprise.id == w.a_id))),
    C("enterprises.invite", A_OWNER, lambda w: f"/enterprises/{w.a_id}/members/invite",
      lambda w: {"email": "csrf-invitee@example.com", "role": "manager"},
      _count(Invitation, lambda w: (Invitation.email == "csrf-invitee@example.com",))),
    C("enterprises.change_role", A_OWNER,
      lambda w: f"/enterprises/{w.a_id}/members/{w.viewer_membership_id}/role", lambda w: {"role": "finance"},
      lambda s, w, c: s.scalar(select(Membership.role).where(Membership.id == w.viewer_membership_id))),
    C("enterprises.remove_member", A_OWNER,
      lambda w: f"/enterprises/{w.a_id}/members/{w.viewer_membership_id}/remove", lambda w: {},
      _count(Membership, lambda w: (Membership.id == w.viewer_membership_id,))),
    C("enterprises.revoke_invitation", A_OWNER,
      lambda w: f"/enterprises/{w.a_id}/invitations/{w.invitation_id}/revoke", lambda w: {},
      lambda s, w, c: s.scalar(select(Invitation.revoked_at).where(Invitation.id == w.invitation_id))),
    C("enterprises.invitation", CREATOR, lambda w: f"/invitations/{w.invitation_token}", lambda w: {},
      _count(Membership, lambda w: (Membership.enterprise_id == w.a_id,))),
    C("creators.become", A_OWNER, lambda w: "/creator/become", lambda w: {},
      _count(Creator, lambda w: (Creator.user_id == w.users[A_OWNER].id,))),
    C("creators.profile", CREATOR, lambda w: "/creator/profile", lambda w: _profile_form(w, CREATOR),
      lambda s, w, c: s.scalar(select(Creator.handle).where(Creator.user_id == w.users[CREATOR].id))),
    C("creators.platform", CREATOR, lambda w: "/creator/platform", lambda w: {"account": "@csrf_beauty"},
      lambda s, w, c: s.scalar(select(PlatformAccount.id).join(Creator, Creator.id == PlatformAccount.creator_id)
                               .where(Creator.user_id == w.users[CREATOR].id))),
    C("creators.rate_card", CREATOR, lambda w: "/creator/rate-card",
      lambda w: {"price_short_video": "800", "revision_rounds": "2", "lead_time_days": "5"},
      lambda s, w, c: s.scalar(select(Creator.rate_card_version_id).where(Creator.user_id == w.users[CREATOR].id))),
    C("creators.verification", CREATOR, lambda w: "/creator/verification", lambda w: _rewinding(_identity_form(w, CREATOR)),
      _count(IdentityVerification, lambda w: (IdentityVerification.legal_name == "张三",))),
    C("staff.approve_identity", REVIEWER, lambda w: f"/staff/identity/{w.creator['identity']}/approve",
      lambda w: {}, _identity_state, setup=creator_world),
    C("staff.reject_identity", REVIEWER, lambda w: f"/staff/identity/{w.creator['identity']}/reject",
      lambda w: {"reason": "The photo is blurry, please retake it."}, _identity_state, setup=creator_world),
    # Discovery (``discovery_world``: A's shortlist holding one listed creator, another listed creator).
    C("discovery.create_shortlist", A_OWNER, lambda w: f"/enterprises/{w.a_id}/shortlists",
      lambda w: {"name": "Csrf shortlist"}, _shortlist_count, setup=discovery_world),
    C("discovery.rename_shortlist", A_OWNER,
      lambda w: f"/enterprises/{w.a_id}/shortlists/{w.discovery['shortlist']}/rename",
      lambda w: {"name": "Csrf renamed"}, _shortlist_name, setup=discovery_world),
    C("discovery.delete_shortlist", A_OWNER,
      lambda w: f"/enterprises/{w.a_id}/shortlists/{w.discovery['shortlist']}/delete", lambda w: {},
      _shortlist_count, setup=discovery_world),
    C("discovery.add_entry", A_OWNER, lambda w: f"/enterprises/{w.a_id}/shortlists/entries",
      lambda w: {"shortlist": str(w.discovery["shortlist"]), "creator_id": str(w.discovery["other"])},
      _shortlist_entries, setup=discovery_world),
    C("discovery.remove_entry", A_OWNER,
      lambda w: f"/enterprises/{w.a_id}/shortlists/{w.discovery['shortlist']}/entries/{w.discovery['listed']}/remove",
      lambda w: {}, _shortlist_entries, setup=discovery_world),
    C("discovery.update_note", A_OWNER,
      lambda w: f"/enterprises/{w.a_id}/shortlists/{w.discovery['shortlist']}/entries/{w.discovery['listed']}/note",
      lambda w: {"note": "Csrf note"}, _entry_note, setup=discovery_world),
    C("staff.approve", REVIEWER, lambda w: f"/staff/enterprises/{w.b_id}/approve", lambda w: {},
      lambda s, w, c: s.scalar(select(Enterprise.verification_state).where(Enterprise.id == w.b_id))),
    C("staff.reject", REVIEWER, lambda w: f"/staff/enterprises/{w.b_id}/reject",
      lambda w: {"reason": "Licence is blurry, please rescan."},
      lambda s, w, c: s.scalar(select(Enterprise.verification_state).where(Enterprise.id == w.b_id))),
    C("staff.set_active", ADMIN, lambda w: f"/staff/users/{w.newbie_id}/active", lambda w: {"active": "0"},
      _newbie_field(User.is_active)),
    # Money (A verified with a pending bank top-up: ``money_world``).
    C("payments.bank_top_up", A_FINANCE, lambda w: f"/enterprises/{w.a_id}/wallet/top-up/bank",
      lambda w: {"amount": "2000"}, _top_ups, setup=money_world),
    C("payments.cancel_top_up", A_FINANCE,
      lambda w: f"/enterprises/{w.a_id}/wallet/top-ups/{w.money['top_up']}/cancel", lambda w: {},
      _top_up_state, setup=money_world),
    C("finance.confirm_top_up", FINANCE_STAFF, lambda w: f"/finance/top-ups/{w.money['top_up']}/confirm",
      lambda w: {f"t{w.money['top_up']}-amount_received": "1000"}, _top_up_state, setup=money_world),
    C("finance.cancel_top_up", FINANCE_STAFF, lambda w: f"/finance/top-ups/{w.money['top_up']}/cancel",
      lambda w: {"reason": "No transfer arrived."}, _top_up_state, setup=money_world),
    C("finance.credit_line", FINANCE_STAFF, lambda w: f"/finance/enterprises/{w.a_id}/credit-line",
      lambda w: {"limit": "5000", "reason": "Good payment history."}, _credit_limit, setup=money_world),
    C("payments_card.start", A_FINANCE, lambda w: f"/enterprises/{w.a_id}/wallet/top-up/card",
      lambda w: {"amount": "1000"}, _top_ups, setup=card_world),
]

from tests.integration import access_jobs, access_orders, access_review, access_withdrawals  # noqa: E402

CSRF_CASES += (access_orders.csrf_cases() + access_jobs.csrf_cases() + access_review.csrf_cases()
               + access_withdrawals.csrf_cases())

# POST routes deliberately without a CSRF token, and what authenticates them instead.
CSRF_EXEMPT = {
    "payments_card.stripe_webhook": "called by Stripe, not a browser: the Stripe-Signature header authenticates it",
}
# fmt: on


def test_every_post_route_has_a_csrf_case(app):
    posts = {rule.endpoint for rule in app.url_map.iter_rules() if "POST" in rule.methods}
    listed = [case.endpoint for case in CSRF_CASES]
    assert len(listed) == len(set(listed)) and not set(listed) & set(CSRF_EXEMPT)
    covered = set(listed) | set(CSRF_EXEMPT)
    assert posts == covered, f"missing: {sorted(posts - covered)}; stale: {sorted(covered - posts)}"


def test_csrf_exempt_routes_are_only_the_listed_ones(app, client):
    """The exempt routes answer a token-less POST themselves (not with the CSRF page), and nothing else is exempt."""
    from marketplace.extensions import csrf

    for endpoint in CSRF_EXEMPT:
        path = app.url_map.bind("localhost").build(endpoint, {})
        response = client.post(path, data=b"{}", content_type="application/json")
        assert response.status_code == 400 and response.is_json, endpoint  # refused: no valid signature
        assert CSRF_MESSAGE not in response.get_data(as_text=True)
    exempt = {f"{view.__module__}.{view.__name__}" for view in
              (app.view_functions[e] for e in CSRF_EXEMPT)}
    assert set(csrf._exempt_views) == exempt, csrf._exempt_views
    assert not csrf._exempt_blueprints


def _sign_in(session, login_as, world: World, actor: str | None) -> None:
    if actor is None:
        return
    user = session.get(User, world.newbie_id) if actor == "newbie" else world.users[actor]
    login_as(user, context=f"enterprise:{world.b_id}" if actor == B_OWNER else None)


@pytest.mark.parametrize("case", CSRF_CASES, ids=lambda c: c.endpoint)
def test_post_without_csrf_token_is_refused_and_writes_nothing(client, session, login_as, world, case):
    if case.setup:
        case.setup(session, world)
    if case.endpoint == "main.switch_context":
        become_creator(session, world.users[B_OWNER])  # a second context to switch to
        session.flush()
    _sign_in(session, login_as, world, case.actor)
    path, data = case.path(world), case.data(world)
    client.get("/settings" if case.actor else "/login")  # the session exists and has a CSRF secret
    before = case.probe(session, world, client)

    refused = client.post(path, data=data)
    assert refused.status_code == 400
    assert CSRF_MESSAGE in refused.get_data(as_text=True)
    session.expire_all()
    assert case.probe(session, world, client) == before, "a request without a CSRF token changed state"

    # A token of another browser session is refused too.
    other = client.application.test_client()
    foreign = client.post(path, data={"csrf_token": _token(other), **data})
    assert foreign.status_code == 400
    session.expire_all()
    assert case.probe(session, world, client) == before, "a request with another session's token changed state"

    # Control: the same request with this session's token does change the probed state.
    accepted = client.post(path, data={"csrf_token": _token(client), **data})
    assert accepted.status_code in (200, 302, 303), accepted.get_data(as_text=True)[:1000]
    session.expire_all()
    assert case.probe(session, world, client) != before, "the probe does not see this request's write"


# --- (b) headers and cookies ------------------------------------------------------------------------------


def _csp(response) -> dict[str, list[str]]:
    header = response.headers.get("Content-Security-Policy", "")
    directives = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            directives[words[0].lower()] = words[1:]
    return directives


def test_security_headers_on_an_html_page(client):
    response = client.get("/login")
    assert response.status_code == 200 and response.mimetype == "text/html"
    csp = _csp(response)
    assert csp.get("script-src") == ["'self'"]
    assert csp.get("default-src") == ["'self'"]
    assert not any("unsafe" in value for value in csp["script-src"] + csp["default-src"])
    assert csp.get("frame-ancestors") == ["'none'"]
    assert csp.get("object-src") == ["'none'"]
    assert csp.get("base-uri") == ["'self'"]
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers.get("Referrer-Policy") in ("strict-origin-when-cross-origin", "same-origin", "no-referrer")
    assert "Strict-Transport-Security" not in response.headers  # only in production (plain-http dev/test)


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\ssrc=)[^>]*>", re.I)
EVENT_HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.I)
INLINE_STYLE = re.compile(r"<[^>]+\sstyle\s*=", re.I)


def test_pages_need_no_inline_script_or_style(app, client, session, login_as, world):
    """The CSP forbids inline script and style: pages must not rely on them (or they silently break).

    Every GET page of the access matrix that renders HTML is checked, as an allowed actor sees it."""
    from tests.integration.test_access_matrix import ANON, MATRIX

    done = {money_world, creator_world, discovery_world}
    for setup in done:
        setup(session, world)
    pages = []
    for row in MATRIX:
        if row.method != "GET" or row.ok != (200,):
            continue
        if row.setup is not None and row.setup not in done:  # the world a row needs (each built once)
            row.setup(session, world)
            done.add(row.setup)
        actor = ANON if ANON in row.allowed else sorted(row.allowed)[0]
        pages.append((actor, app.url_map.bind("localhost").build(row.endpoint, row.args(world))))
    pages.append((ANON, "/"))
    checked = 0
    for actor, path in pages:
        if actor == ANON:
            with client.session_transaction() as sess:
                sess.clear()
        else:
            login_as(world.users[actor])
        response = client.get(path)
        if response.mimetype != "text/html":
            continue
        checked += _check_no_inline(response, path)
    assert checked >= 25, checked  # the HTML pages among them (licences and the CSV are not)


def _check_no_inline(response, path: str) -> int:
    assert response.status_code == 200, path
    html = response.get_data(as_text=True)
    assert not INLINE_SCRIPT.search(html), f"inline <script> on {path}"
    assert not EVENT_HANDLER.search(html), f"inline event handler on {path}"
    assert not INLINE_STYLE.search(html), f"inline style attribute on {path}"
    assert "javascript:" not in html.lower(), f"javascript: URL on {path}"
    return 1


def test_private_pages_are_not_cached_and_the_licence_is_only_framable_by_us(client, login_as, world):
    login_as(world.users[A_OWNER])
    page = client.get("/settings")
    assert page.headers["Cache-Control"] == "no-store"
    licence = client.get(f"/enterprises/{world.a_id}/licence")
    assert licence.status_code == 200 and licence.mimetype == "image/png"
    assert "no-store" in licence.headers["Cache-Control"]
    assert _csp(licence).get("frame-ancestors") == ["'self'"]
    assert licence.headers["X-Frame-Options"] == "SAMEORIGIN"


def _set_cookie(response, name: str) -> str:
    headers = [h for h in response.headers.getlist("Set-Cookie") if h.startswith(name + "=")]
    assert headers, f"no {name} cookie set: {response.headers.getlist('Set-Cookie')}"
    return headers[-1]


def _flags(header: str) -> set[str]:
    return {part.strip().lower() for part in header.split(";")[1:]}


def test_session_and_remember_cookies_are_httponly_and_samesite_lax(app, client, world):
    cookie = _flags(_set_cookie(client.get("/login"), app.config["SESSION_COOKIE_NAME"]))
    assert "httponly" in cookie and "samesite=lax" in cookie
    assert "secure" not in cookie  # the test site is plain http; production is checked below

    response = _form_login(client, world.users[A_OWNER].email, remember=True)
    assert response.status_code == 302
    remember = _flags(_set_cookie(response, app.config.get("REMEMBER_COOKIE_NAME", "remember_token")))
    assert "httponly" in remember and "samesite=lax" in remember


def _production_env(app, tmp_path, **overrides) -> dict[str, str]:
    env = {
        "CANAL_ENV": "production",
        "SECRET_KEY": "p" * 40,
        "DATABASE_URL": app.config["DATABASE_URL"],
        "MAIL_BACKEND": "console",
        "UPLOAD_DIR": str(tmp_path / "uploads"),
        "PUBLIC_URL": "https://canal.example",
    }
    env.update(overrides)
    return {k: v for k, v in env.items() if v is not None}


@pytest.fixture
def production_app(app, tmp_path):
    prod = create_app({"ENV": _production_env(app, tmp_path), "INSTANCE_PATH": str(tmp_path / "instance")})
    yield prod
    database(prod).engine.dispose()


def test_production_cookies_are_secure_and_hsts_is_sent(production_app):
    assert production_app.config["CANAL_ENV"] == "production"
    assert production_app.config["SESSION_COOKIE_SECURE"] is True
    assert production_app.config["REMEMBER_COOKIE_SECURE"] is True
    assert production_app.config["DEBUG"] is False and production_app.config["TESTING"] is False
    client = production_app.test_client()
    response = client.get("/healthz")
    assert response.status_code == 200
    hsts = response.headers.get("Strict-Transport-Security", "")
    max_age = re.search(r"max-age=(\d+)", hsts)
    assert max_age and int(max_age.group(1)) >= 31536000, hsts
    page = client.get("/login")
    assert page.status_code == 200
    cookie = _flags(_set_cookie(page, production_app.config["SESSION_COOKIE_NAME"]))
    assert {"secure", "httponly", "samesite=lax"} <= cookie


def test_production_has_no_dev_mailbox(production_app):
    assert not any(rule.endpoint.startswith("devmail.") for rule in production_app.url_map.iter_rules())
    assert production_app.test_client().get("/_dev/mailbox/").status_code == 404


@pytest.mark.parametrize(("overrides", "message"), [
    ({"SECRET_KEY": None}, "SECRET_KEY must be set"),
    ({"SECRET_KEY": "too-short-for-production"}, "at least 32"),
    ({"DATABASE_URL": None}, "DATABASE_URL must be set"),
], ids=["no-secret-key", "short-secret-key", "no-database-url"])
def test_production_refuses_to_start_without_its_secrets(app, tmp_path, overrides, message):
    instance = tmp_path / "instance"
    with pytest.raises(ConfigError, match=message):
        create_app({"ENV": _production_env(app, tmp_path, **overrides), "INSTANCE_PATH": str(instance)})
    assert not (instance / "secret_key").exists()  # no generated development secret either


# --- (c) login rate limit ---------------------------------------------------------------------------------


def _per_minute(limit: str) -> int:
    match = re.match(r"\s*(\d+)\s*(?:per|/)\s*(?:1\s*)?minute", limit.split(";")[0])
    assert match, limit
    return int(match.group(1))


def test_repeated_failed_logins_for_one_account_are_rate_limited(app, client, session, world):
    assert app.config["LOGIN_RATE_LIMIT"] == "10 per minute;50 per hour"
    allowed = _per_minute(app.config["LOGIN_RATE_LIMIT"])
    email = world.users[A_OWNER].email
    token = csrf_from(client.get("/login").get_data(as_text=True))
    for attempt in range(allowed):
        response = client.post("/login", data={"csrf_token": token, "email": email, "password": f"wrong {attempt}"})
        assert response.status_code == 400, f"attempt {attempt + 1} was not simply refused"

    blocked = client.post("/login", data={"csrf_token": token, "email": email, "password": "wrong again"})
    assert blocked.status_code == 429
    body = blocked.get_data(as_text=True)
    assert blocked.mimetype == "text/html" and "Too many attempts" in body
    assert "Traceback" not in body and "RateLimitExceeded" not in body
    assert "Retry-After" in blocked.headers

    # Even the right password waits now (the limit is checked before the password) ...
    right = client.post("/login", data={"csrf_token": token, "email": email.upper(), "password": PASSWORD})
    assert right.status_code == 429
    assert client.get("/settings").status_code == 302
    # ... while another account from the same address is not affected.
    other = client.post("/login", data={"csrf_token": token, "email": world.users[ADMIN].email,
                                        "password": PASSWORD})
    assert other.status_code == 302 and urlsplit(other.location).path == "/dashboard"


# --- (d) error pages --------------------------------------------------------------------------------------


def _assert_error_page(response, status: int, title: str) -> str:
    assert response.status_code == status
    assert response.mimetype == "text/html"
    body = response.get_data(as_text=True)
    assert title in body
    assert "Traceback" not in body and 'File "' not in body
    return body


def test_404_page(client, login_as, world):
    _assert_error_page(client.get("/no-such-page"), 404, "Page not found")
    login_as(world.users[A_OWNER])
    _assert_error_page(client.get("/enterprises/987654321"), 404, "Page not found")


def test_405_page(client):
    _assert_error_page(client.get("/logout"), 405, "This page can't be used that way.")


@pytest.fixture(scope="module")
def errors_app(tmp_root):
    app = build_app(create_test_database(tmp_root, "errors"), tmp_root / "errors")

    @app.get("/_test/boom")
    def boom():
        raise RuntimeError("kaboom: secret detail 7f3a")

    yield app
    database(app).engine.dispose()


def test_500_page_has_no_stack_trace(errors_app, caplog):
    response = errors_app.test_client().get("/_test/boom")
    body = _assert_error_page(response, 500, "Something went wrong")
    assert "kaboom" not in body and "RuntimeError" not in body and "7f3a" not in body
    # The details went to the log instead.
    assert any("kaboom" in (r.exc_text or "") or (r.exc_info and "kaboom" in str(r.exc_info[1]))
               for r in caplog.records)


# --- (e) no open redirect ---------------------------------------------------------------------------------

OFFSITE = [
    "https://evil.example/",
    "//evil.example/",
    "/\\evil.example",
    "\\\\evil.example",
    "https:evil.example",
    "/\t/evil.example",
    "javascript:alert(1)",
    " //evil.example",
]


def _local_path(response) -> str:
    target = urlsplit(response.location)
    assert not target.scheme and not target.netloc, f"redirect off-site: {response.location!r}"
    assert response.location.startswith("/") and not response.location.startswith(("//", "/\\"))
    return target.path


@pytest.mark.parametrize("next_url", OFFSITE)
def test_login_next_never_leaves_the_site(client, world, next_url):
    token = csrf_from(client.get("/login", query_string={"next": next_url}).get_data(as_text=True))
    response = client.post("/login", query_string={"next": next_url},
                           data={"csrf_token": token, "email": world.users[A_OWNER].email, "password": PASSWORD})
    assert response.status_code == 302
    assert _local_path(response) == "/dashboard"
    # Signed in, the login page sends them on, still not off-site.
    again = client.get("/login", query_string={"next": next_url})
    assert again.status_code == 302 and _local_path(again) == "/dashboard"


@pytest.mark.parametrize("next_url", OFFSITE[:3])
def test_language_and_resend_next_never_leave_the_site(client, session, login_as, world, next_url):
    token = csrf_from(client.get("/login").get_data(as_text=True))
    language = client.post("/language", data={"csrf_token": token, "locale": "en", "next": next_url})
    assert language.status_code == 302 and _local_path(language) == "/"
    login_as(session.get(User, world.newbie_id))
    resend = client.post("/verify-email/resend", data={"csrf_token": _token(client), "next": next_url})
    assert resend.status_code == 302 and _local_path(resend) == "/dashboard"


def test_local_next_is_honoured(client, world):
    """Control for the tests above: a local ``next`` is followed."""
    token = csrf_from(client.get("/login").get_data(as_text=True))
    response = client.post("/login", query_string={"next": "/settings?tab=1"},
                           data={"csrf_token": token, "email": world.users[A_OWNER].email, "password": PASSWORD})
    assert response.status_code == 302 and response.location == "/settings?tab=1"


# --- (f) sessions end -------------------------------------------------------------------------------------


def test_deactivated_user_is_logged_out_and_cannot_log_in(app, client, session, world):
    user = world.users[A_OWNER]
    assert _form_login(client, user.email, remember=True).status_code == 302
    assert client.get("/settings").status_code == 200

    admin = app.test_client()
    assert _form_login(admin, world.users[ADMIN].email).status_code == 302
    response = admin.post(f"/staff/users/{user.id}/active", data={"csrf_token": _token(admin), "active": "0"})
    assert response.status_code == 302
    session.expire_all()
    assert session.get(User, user.id).is_active is False

    assert _login_bounce(client.get("/settings")), "the deactivated user's session (or remember cookie) still works"
    assert client.get(f"/enterprises/{world.a_id}").status_code == 302
    again = _form_login(client, user.email)
    assert again.status_code == 400
    assert _login_bounce(client.get("/settings"))


def test_inactive_account_is_logged_out_even_with_the_same_session_version(client, session, world):
    """``is_active`` alone ends a session (e.g. an account switched off by a script, not through the console)."""
    user = world.users[A_OWNER]
    assert _form_login(client, user.email).status_code == 302
    assert client.get("/settings").status_code == 200
    version = user.session_version
    user.is_active = False
    session.flush()
    assert user.session_version == version
    assert _login_bounce(client.get("/settings"))


def test_password_change_ends_other_sessions_but_keeps_this_one(app, client, session, world):
    user = world.users[A_OWNER]
    version = user.session_version
    here, elsewhere = client, app.test_client()
    assert _form_login(here, user.email).status_code == 302
    assert _form_login(elsewhere, user.email, remember=True).status_code == 302
    assert elsewhere.get("/settings").status_code == 200

    response = here.post("/settings/password", data={"csrf_token": _token(here), "current_password": PASSWORD,
                                                      "new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 302 and _local_path(response) == "/settings"
    session.expire_all()
    assert session.get(User, user.id).session_version == version + 1

    assert here.get("/settings").status_code == 200, "the session that changed the password was logged out"
    assert _login_bounce(elsewhere.get("/settings")), "another session survived the password change"
    # The old password no longer works; the new one does.
    third = app.test_client()
    assert _form_login(third, user.email, PASSWORD).status_code == 400
    assert _form_login(third, user.email, NEW_PASSWORD).status_code == 302


def test_password_reset_ends_existing_sessions(app, client, session, world):
    newbie = session.get(User, world.newbie_id)
    assert _form_login(client, newbie.email, remember=True).status_code == 302
    assert client.get("/settings").status_code == 200

    stranger = app.test_client()
    token = csrf_from(stranger.get(f"/password/reset/{world.reset_token}").get_data(as_text=True))
    response = stranger.post(f"/password/reset/{world.reset_token}",
                             data={"csrf_token": token, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 302
    assert _login_bounce(client.get("/settings")), "a session survived the password reset"
