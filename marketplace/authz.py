"""Authorization, decided in one place: may this user do this to this object?

Every view asks ``can()`` / ``require()``; templates ask ``can()`` to decide what to show. Enterprise
permissions depend on the user's membership *in the enterprise the object belongs to* (not on the context
they are browsing in), so a member of one enterprise never reaches another's objects. Staff permissions
depend on the staff role. Design.md §3 is the source of these tables.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from flask import abort, g, has_request_context, request
from flask import session as flask_session
from flask_login import current_user
from sqlalchemy import Select, bindparam, select
from werkzeug.local import LocalProxy

from marketplace.accounts.models import User
from marketplace.db import get_session
from marketplace.enterprises.models import Enterprise, Membership

# Enterprise roles -> permissions (design.md §3).
# Every member finds creators and sees the enterprise's shortlists, campaigns, jobs and orders (read only);
# owners and managers change the shortlists and act on jobs and orders ("enterprise.orders").
_VIEW = {"enterprise.view", "enterprise.members.view", "enterprise.discover", "enterprise.shortlists.view",
         "enterprise.orders.view"}
ENTERPRISE_ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    "viewer": frozenset(_VIEW),
    "finance": frozenset(_VIEW | {"enterprise.finance", "enterprise.licence.view"}),
    "manager": frozenset(_VIEW | {"enterprise.orders", "enterprise.licence.view", "enterprise.shortlists.edit"}),
    "owner": frozenset(
        _VIEW
        | {
            "enterprise.edit",
            "enterprise.members.manage",
            "enterprise.licence.view",
            "enterprise.orders",
            "enterprise.finance",
            "enterprise.shortlists.edit",
        }
    ),
}

# Staff roles -> permissions. Admin manages users and configuration and may see everything staff see.
# Every staff role may open a creator's profile page; verifiers also see identity documents.
STAFF_ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    "reviewer": frozenset({"staff.console", "staff.verification", "enterprise.licence.view", "creator.profile.view",
                           "creator.identity.view", "staff.jobs", "staff.disputes"}),
    "finance": frozenset({"staff.console", "staff.audit", "finance.view", "finance.manage", "creator.profile.view"}),
    "admin": frozenset(
        {"staff.console", "staff.verification", "staff.audit", "staff.users", "enterprise.licence.view",
         "finance.view", "creator.profile.view", "creator.identity.view", "staff.jobs", "staff.disputes"}
    ),
}

ROLE_ORDER = ("owner", "manager", "finance", "viewer")


def _unproxied(user):
    """The user behind ``current_user`` (each attribute read through Flask-Login's proxy looks the user up again:
    a page asks a few dozen questions)."""
    return user._get_current_object() if isinstance(user, LocalProxy) else user


def membership_of(user: User, enterprise_id: int) -> Membership | None:
    """The user's membership in an enterprise (memoised per request)."""
    user = _unproxied(user)
    if not getattr(user, "is_authenticated", False):
        return None
    cache: dict[tuple[int, int], Membership | None] = g.setdefault("_memberships", {})
    key = (user.id, enterprise_id)
    if key not in cache:
        if _reading():
            # A page loads the user's contexts anyway (the menu): one query answers every membership question.
            available_contexts(user)
            cache.setdefault(key, None)
        else:
            cache[key] = get_session().scalar(
                select(Membership).where(Membership.user_id == user.id, Membership.enterprise_id == enterprise_id)
            )
    return cache[key]


def is_enterprise_member(user: User) -> bool:
    """Is the user a member of at least one enterprise (memoised per request)?"""
    user = _unproxied(user)
    cache: dict[int, bool] = g.setdefault("_is_member", {})
    if user.id not in cache:
        if _reading():
            cache[user.id] = any(c.kind == "enterprise" for c in available_contexts(user))
        else:
            cache[user.id] = get_session().scalar(select(Membership.id).where(Membership.user_id == user.id)
                                                  .limit(1)) is not None
    return cache[user.id]


def _reading() -> bool:
    """A safe request (GET/HEAD): nothing changes memberships while it runs, so they can be loaded at once."""
    return has_request_context() and request.method in ("GET", "HEAD", "OPTIONS")


def _is_own_creator(user: User, creator: object) -> bool:
    return creator is not None and getattr(creator, "user_id", None) == user.id


def _enterprise_id(obj: object) -> int | None:
    if isinstance(obj, Enterprise):
        return obj.id
    return getattr(obj, "enterprise_id", None)


def can(user: User | None, permission: str, obj: object = None) -> bool:
    """May ``user`` exercise ``permission`` on ``obj``?"""
    user = _unproxied(user)
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if user.staff_role and permission in STAFF_ROLE_PERMISSIONS.get(user.staff_role, ()):
        return True
    if permission == "creator.workspace":
        # Whether they have a creator record: the request's contexts know it (on a page read they come with the
        # user in one statement), so the creator's pages do not ask the database a second time.
        return any(context.kind == "creator" for context in available_contexts(user))
    if permission == "creator.profile.view":
        # A creator's page: the creator (preview, listed or not), and members of any enterprise once listed.
        return _is_own_creator(user, obj) or (bool(getattr(obj, "listed", False)) and is_enterprise_member(user))
    if permission == "creator.identity.view":
        # A real-name request's document: the creator who sent it (and verifying staff, above).
        return _is_own_creator(user, getattr(obj, "creator", None))
    if permission.startswith("enterprise."):
        enterprise_id = _enterprise_id(obj)
        if enterprise_id is None:
            return False
        membership = membership_of(user, enterprise_id)
        return membership is not None and permission in ENTERPRISE_ROLE_PERMISSIONS[membership.role]
    return False


def require(permission: str, obj: object = None) -> None:
    """Abort with 403 unless the current user may exercise ``permission`` on ``obj``."""
    if not can(current_user, permission, obj):
        abort(403)


def require_staff(permission: str) -> None:
    require(permission)


# --- acting context ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Context:
    """What the user is acting as: one enterprise (with a role), their creator self, or staff."""

    kind: str  # "enterprise" | "creator" | "staff" | "none"
    enterprise: Enterprise | None = None
    role: str | None = None

    @property
    def key(self) -> str:
        return f"enterprise:{self.enterprise.id}" if self.enterprise else self.kind


def available_contexts(user: User) -> list[Context]:
    """Every context the user can switch to, in navigation order (memoised per request)."""
    user = _unproxied(user)
    if not getattr(user, "is_authenticated", False):
        return []
    cache: dict[int, list[Context]] = g.setdefault("_available_contexts", {})
    if user.id not in cache:
        cache[user.id] = _available_contexts(user)
    return cache[user.id]


def _available_contexts(user: User) -> list[Context]:
    return _contexts_of(user, get_session().execute(_contexts_statement(), {"user_id": user.id}).all())


def _contexts_of(user: User, rows) -> list[Context]:
    """The contexts in rows of ``_contexts_statement`` (or ``load_user_with_contexts``); remembers the
    memberships they show for ``membership_of``."""
    memberships = g.setdefault("_memberships", {})
    contexts = []
    for row in rows:
        if row.Membership is not None:
            contexts.append(Context("enterprise", row.Enterprise, row.Membership.role))
            memberships.setdefault((user.id, row.Enterprise.id), row.Membership)
    if rows and rows[0].has_creator:
        contexts.append(Context("creator"))
    if user.staff_role:
        contexts.append(Context("staff", role=user.staff_role))
    return contexts


@cache
def _contexts_statement(with_user: bool = False, with_bell: bool = False) -> Select:
    """One round trip for every signed-in page: the user's memberships with their enterprises, and whether they
    have a creator record (the user row anchors the outer joins: a user without memberships still gets a row);
    ``with_user``: the user too; ``with_bell``: the notification bell's capped unread count too (an uncorrelated
    subquery: computed once, not per row). Built once (building a statement costs more than running this one)."""
    from marketplace.creators.models import Creator
    from marketplace.notifications.services import capped_unread

    user_id = bindparam("user_id")
    has_creator = select(Creator.id).where(Creator.user_id == user_id).exists().label("has_creator")
    bell = [capped_unread(user_id).scalar_subquery().label("bell_unread")] if with_bell else []
    return (select(*([User] if with_user else []), has_creator, *bell, Membership, Enterprise)
            .select_from(User)
            .outerjoin(Membership, Membership.user_id == User.id)
            .outerjoin(Enterprise, Enterprise.id == Membership.enterprise_id)
            .where(User.id == user_id)
            .order_by(Enterprise.display_name, Enterprise.id))


def load_user_with_contexts(user_id: int) -> User | None:
    """The user, for the login manager; on a safe request (GET/HEAD) with their contexts in the same round
    trip (every page shows them: the context menu, the navigation), and for a whole page (not an htmx fragment,
    which has no top bar) the notification bell's count too."""
    session = get_session()
    if not _reading():
        return session.execute(_user_statement(), {"user_id": user_id}).scalar_one_or_none()
    with_bell = "HX-Request" not in request.headers
    rows = session.execute(_contexts_statement(with_user=True, with_bell=with_bell), {"user_id": user_id}).all()
    if not rows:
        return None
    user = rows[0].User
    g.setdefault("_available_contexts", {})[user.id] = _contexts_of(user, rows)
    if with_bell:
        from marketplace.notifications.services import remember_unread

        remember_unread(rows[0].bell_unread or 0)
    return user


@cache
def _user_statement() -> Select:
    return select(User).where(User.id == bindparam("user_id"))


def current_context() -> Context:
    """The context chosen in the session, or the first available one (memoised per request)."""
    context = g.get("_context")
    if context is not None:
        return context
    user = _unproxied(current_user)
    contexts = available_contexts(user) if user.is_authenticated else []
    chosen = flask_session.get("context")
    context = next((c for c in contexts if c.key == chosen), contexts[0] if contexts else Context("none"))
    g._context = context
    return context


def require_acting_enterprise(permission: str) -> Enterprise:
    """The enterprise the user is acting for, when they may exercise ``permission`` in it; else 403.

    For pages that belong to no enterprise in their URL (finding and comparing creators): they act for the
    enterprise chosen as the context, so a brand member browsing as their creator self is refused."""
    context = current_context()
    if context.kind != "enterprise" or context.enterprise is None:
        abort(403)
    require(permission, context.enterprise)
    return context.enterprise


def set_context(key: str) -> bool:
    """Switch the acting context; return False when the user has no such context."""
    if any(c.key == key for c in available_contexts(current_user)):
        flask_session["context"] = key
        g.pop("_context", None)
        return True
    return False
