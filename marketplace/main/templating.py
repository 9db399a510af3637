"""Template globals and filters: authorization, contexts, locale-aware dates and numbers, pagination."""

from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache
from math import ceil
from typing import Any, NamedTuple

from flask import Flask, current_app, g, request, url_for
from flask_babel import format_datetime, to_user_timezone
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from jinja2 import Template, pass_eval_context
from markupsafe import Markup, escape

from marketplace import authz
from marketplace.enterprises.forms import ROLE_LABELS
from marketplace.i18n import LANGUAGES, current_language, format_day, number_formats
from marketplace.labels import ACCOUNT_TYPE_LABELS, STAFF_ROLE_LABELS, TOP_UP_STATE_LABELS, ledger_kind_label


class Page:
    """One page of a query's results, for the pagination macro."""

    def __init__(self, items: list[Any], page: int, per_page: int, total: int):
        self.items = items
        self.page = page
        self.per_page = per_page
        self.total = total

    @property
    def pages(self) -> int:
        return max(1, ceil(self.total / self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    def window(self, size: int = 2) -> list[int | None]:
        """Page numbers to show, with None where a gap is elided (the first, the last, ``size`` either side)."""
        last = self.pages
        numbers = sorted({1, last, *range(max(1, self.page - size), min(last, self.page + size) + 1)})
        shown: list[int | None] = []
        for number in numbers:
            if shown and number - shown[-1] > 1:
                shown.append(None)
            shown.append(number)
        return shown


def paginate(session, query, per_page: int = 20) -> Page:
    """Run ``query`` (a ``select``) for the page in ``?page=``; counts with one extra query."""
    from sqlalchemy import func, select

    try:
        page = max(1, int(request.args.get("page", 1)))
    except ValueError:
        page = 1
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    items = list(session.scalars(query.limit(per_page).offset((page - 1) * per_page)))
    return Page(items, page, per_page, total)


def url_with_page(page: int) -> str:
    """This page's URL (its query kept) for another page number; built once per request (pagination asks
    for a dozen)."""
    this_request = request._get_current_object()
    memo = g.get("_url_with_page")
    if memo is None or memo[0] is not this_request:
        mark = str(UrlPattern._SENTINEL)
        args = request.args.to_dict()
        args["page"] = mark
        head, sep, tail = url_for(request.endpoint, **(request.view_args or {}), **args).partition(mark)
        memo = (this_request, head, tail if sep and mark not in tail else None)
        g._url_with_page = memo
    if memo[2] is None:
        args = request.args.to_dict()
        args["page"] = page
        return url_for(request.endpoint, **(request.view_args or {}), **args)
    return f"{memo[1]}{int(page)}{memo[2]}"


def pagination(page: Any, total_label: str | None = None) -> Markup:
    """Links to the other pages of a paginated list (``Page`` or alike: ``page``, ``pages``, ``per_page``,
    ``total``, ``has_prev``, ``has_next``, ``window()``) and "41–60 of 884"; nothing for a single page. Written
    here, not by a macro (~12 µs instead of ~55 µs): every list page has one. ``_macros/ui.html`` ``pagination``."""
    if page.pages <= 1:
        return Markup("")
    language = current_language()
    labels = _PAGINATION_LABELS.get(language)
    if labels is None:
        from flask_babel import gettext

        labels = _PAGINATION_LABELS[language] = (
            str(escape(gettext("Pagination"))), str(escape(gettext("Previous"))), str(escape(gettext("Next"))),
            gettext("%(first)s–%(last)s of %(total)s"))
    nav_label, previous, following, summary = labels
    url_with_page(1)  # this request's URL pattern (``g._url_with_page``)
    _request, head, tail = g._url_with_page
    if tail is None:  # not a plain substitution: url_for for each
        def link(number: int) -> str:
            return str(escape(url_with_page(number)))
    else:
        head, tail = str(escape(head)), str(escape(tail))

        def link(number: int) -> str:
            return f"{head}{int(number)}{tail}"
    out = [f'<nav class="pagination" aria-label="{nav_label}">\n']
    if page.has_prev:
        out.append(f'<a href="{link(page.page - 1)}" rel="prev">‹ {previous}</a>\n')
    else:
        out.append(f'<span class="disabled" aria-disabled="true">‹ {previous}</span>\n')
    for number in page.window():
        if number is None:
            out.append('<span class="gap" aria-hidden="true">…</span>\n')
        elif number == page.page:
            out.append(f'<span class="current" aria-current="page">{int(number)}</span>\n')
        else:
            out.append(f'<a href="{link(number)}">{int(number)}</a>\n')
    if page.has_next:
        out.append(f'<a href="{link(page.page + 1)}" rel="next">{following} ›</a>\n')
    else:
        out.append(f'<span class="disabled" aria-disabled="true">{following} ›</span>\n')
    decimal = number_formats(language).decimal
    text = summary % {"first": decimal((page.page - 1) * page.per_page + 1),
                      "last": decimal(min(page.page * page.per_page, page.total)),
                      "total": total_label or decimal(page.total)}
    out.append(f'</nav>\n<p class="pagination-summary">{escape(text)}</p>\n')
    return Markup("".join(out))


_PAGINATION_LABELS: dict[str, tuple[str, str, str, str]] = {}


def app_url(endpoint: str, **values: Any) -> str:
    """``url_for`` for a link that is the same on every page (static files, fixed pages), built once per app and
    application root (the layout has a dozen)."""
    cache = current_app.extensions.setdefault("canal_app_urls", {})
    key = (endpoint, request.script_root, tuple(sorted(values.items())))
    url = cache.get(key)
    if url is None:
        url = cache[key] = url_for(endpoint, **values)
    return url


# The layout's fixed links (base.html, the bell): every page writes them all.
_LAYOUT_LINKS = {
    "css": ("static", {"filename": "css/canal.css"}),
    "favicon": ("static", {"filename": "img/favicon.svg"}),
    "htmx": ("static", {"filename": "vendor/htmx/htmx.min.js"}),
    "js": ("static", {"filename": "js/canal.js"}),
    "home": ("main.index", {}),
    "switch_context": ("main.switch_context", {}),
    "create_enterprise": ("enterprises.create", {}),
    "settings": ("accounts.settings", {}),
    "logout": ("accounts.logout", {}),
    "switch_language": ("main.switch_language", {}),
    "login": ("accounts.login", {}),
    "signup": ("accounts.signup", {}),
    "inbox": ("notifications.inbox", {}),
}


def layout_links() -> dict[str, str]:
    """The layout's fixed links by name, built once per application root (as ``app_url``; one call instead of a
    dozen)."""
    cache = current_app.extensions.setdefault("canal_layout_links", {})
    root = request.script_root
    links = cache.get(root)
    if links is None:
        links = cache[root] = {name: url_for(endpoint, **values) for name, (endpoint, values) in _LAYOUT_LINKS.items()}
    return links


class UrlPattern:
    """``url_for(endpoint, **values)`` for many rows of a page, built once: the integer ``fields`` are filled
    in per row (a result page links 20 cards; url_for costs ~10 µs each). Same URLs as url_for."""

    _SENTINEL = 7_319_000_000_001

    def __init__(self, endpoint: str, *fields: str, **fixed: Any):
        self.endpoint, self.fields, self.fixed = endpoint, fields, fixed
        marks = [str(self._SENTINEL + i) for i in range(len(fields))]
        url = url_for(endpoint, **fixed, **{f: int(m) for f, m in zip(fields, marks, strict=True)})
        self.pieces: list[str] | None = []
        for mark in marks:
            head, sep, url = url.partition(mark)
            if not sep or mark in url:
                self.pieces = None  # not a plain substitution (never for int path and query values)
                break
            self.pieces.append(head)
        if self.pieces is not None:
            self.pieces.append(url)

    @classmethod
    def cached(cls, endpoint: str, *fields: str) -> UrlPattern:
        """The pattern of ``endpoint`` for integer ``fields``, built once per app and application root (building
        one costs a url_for per field: twice a card page's formatting of its twenty cards)."""
        cache = current_app.extensions.setdefault("canal_url_patterns", {})
        key = (endpoint, fields, request.script_root)
        pattern = cache.get(key)
        if pattern is None:
            pattern = cache[key] = cls(endpoint, *fields)
        return pattern

    def __call__(self, *values: int) -> str:
        if self.pieces is None:
            return url_for(self.endpoint, **self.fixed, **dict(zip(self.fields, values, strict=True)))
        out = [self.pieces[0]]
        for value, piece in zip(values, self.pieces[1:], strict=True):
            out.append(str(int(value)))
            out.append(piece)
        return "".join(out)


class FilterFieldView:
    """What ``discovery/_macros.html`` ``filter_field`` writes for one field of a GET filter form: its label and
    help in the reader's language (translated once per language), the value as typed, its errors."""

    __slots__ = ("label", "help", "value", "default", "checked", "errors", "aria")

    def __init__(self, form: Any, name: str):
        field = form[name]
        texts = _field_texts(type(form), name, current_language(), field)
        self.label, self.help = texts
        self.value = request.args.get(name, "")
        self.default = field.default or ""
        self.checked = bool(field.data)
        self.errors = field.errors
        described = ([f"f-{name}-help"] if self.help else []) + ([f"f-{name}-error"] if self.errors else [])
        self.aria = Markup((' aria-invalid="true"' if self.errors else "")
                           + (f' aria-describedby="{" ".join(described)}"' if described else ""))


def filter_field(form: Any, name: str, kind: str = "text", options: list[tuple[str, str]] | None = None,
                 placeholder: str | None = None, inputmode: str | None = None) -> Markup:
    """One field of a GET filter form (the search page, the job board), written in Python: a macro cost ~25 µs a
    field, and a search page has fifteen. ``kind``: an input type, "select" (with ``options``) or "check"."""
    f = FilterFieldView(form, name)
    label = escape(f.label)
    if kind == "check":
        return Markup(f'<div class="field field-check{" has-error" if f.errors else ""}">\n'
                      f'    <input type="checkbox" id="f-{name}" name="{name}" value="y"{" checked" if f.checked else ""}>\n'
                      f'    <label for="f-{name}">{label}</label>\n  </div>')
    if kind == "select":
        control = (f'<select id="f-{name}" name="{name}"{f.aria}>\n'
                   f'      {select_options(options or [], f.value or f.default)}\n    </select>')
    else:
        control = (f'<input type="{escape(kind)}" id="f-{name}" name="{name}" value="{escape(f.value)}"'
                   + (f' placeholder="{escape(placeholder)}"' if placeholder else "")
                   + (f' inputmode="{escape(inputmode)}"' if inputmode else "") + f"{f.aria}>")
    help_ = f'\n    <p class="field-help" id="f-{name}-help">{escape(f.help)}</p>' if f.help else ""
    errors = (f'\n    <p class="field-error" id="f-{name}-error" role="alert">'
              f'{" ".join(str(escape(e)) for e in f.errors)}</p>' if f.errors else "")
    return Markup(f'<div class="field{" has-error" if f.errors else ""}">\n    <label for="f-{name}">{label}</label>\n'
                  f'    {control}{help_}{errors}\n  </div>')


_FIELD_TEXTS: dict[tuple[type, str, str], tuple[str, str]] = {}


def _field_texts(form_class: type, name: str, language: str, field: Any) -> tuple[str, str]:
    key = (form_class, name, language)
    texts = _FIELD_TEXTS.get(key)
    if texts is None:
        label = getattr(field.label, "text", field.label)  # a WTForms field's Label, or a QueryForm filter's text
        texts = _FIELD_TEXTS[key] = (str(label), str(field.description or ""))
    return texts


def select_options(options: list[tuple[str, str]], chosen: str) -> Markup:
    """``<option>``s of (value, label) pairs, ``chosen`` selected (a select of 35 regions, written in Python and
    remembered: a form offers the same few lists in each language)."""
    try:
        return _options_html(tuple(options), chosen)
    except TypeError:  # unhashable choices: written every time
        return _options_html.__wrapped__(options, chosen)


@lru_cache(maxsize=2048)
def _options_html(options: tuple[tuple[str, str], ...], chosen: str) -> Markup:
    return Markup("".join(
        f'<option value="{escape(value)}"{" selected" if value == chosen else ""}>{escape(label)}</option>'
        for value, label in options))


# --- the main navigation ---------------------------------------------------------------------------------------
#
# Every signed-in page shows the acting context's navigation: a dozen links, some behind a permission, grouped
# pages in a menu. Written by a template it cost ~0.3 ms a page (a macro call, url_for and a translation per
# link); here the links of one (application root, language, context, enterprise, permissions) are built once —
# url_for and the labels are the same for every request with those — and a request only marks the current one.
# The permissions are asked of ``authz.can`` on every request, so a changed role shows on the next page.


class _NavLink(NamedTuple):
    """A link: shown when ``permission`` (any of, "|"-separated) is granted; current when the request's endpoint is
    in ``endpoints`` or starts with ``prefix``; ``endpoint`` may be "a|b": a if the first permission is granted."""

    endpoint: str
    label: Any  # a lazy string
    endpoints: tuple[str, ...] = ()
    prefix: str | None = None
    permission: str | None = None
    with_enterprise: bool = False


class _NavMenu(NamedTuple):
    """A group of links in a menu (details/summary: no script), current on one of its links' ``endpoints``."""

    label: Any
    links: tuple[_NavLink, ...]


_NAVIGATION: dict[str, tuple[_NavLink | _NavMenu, ...]] = {
    "enterprise": (
        _NavLink("enterprises.overview", _l("Overview"), ("enterprises.overview",), with_enterprise=True),
        _NavLink("discovery.discover", _l("Find creators"), ("discovery.discover", "discovery.compare"),
                 permission="enterprise.discover"),
        _NavLink("discovery.shortlists", _l("Shortlists"), ("discovery.shortlists", "discovery.shortlist"),
                 permission="enterprise.discover", with_enterprise=True),
        _NavLink("jobs.campaigns", _l("Campaigns"), prefix="jobs.campaign", permission="enterprise.orders.view",
                 with_enterprise=True),
        _NavLink("jobs.jobs", _l("Jobs"), ("jobs.jobs", "jobs.job", "jobs.job_new", "jobs.job_edit", "jobs.application"),
                 permission="enterprise.orders.view", with_enterprise=True),
        _NavLink("orders.board", _l("Orders"), ("orders.board", "orders.detail", "orders.offer_new"),
                 permission="enterprise.orders.view", with_enterprise=True),
        _NavLink("payments.wallet", _l("Wallet"), prefix="payments", permission="enterprise.finance",
                 with_enterprise=True),
        _NavMenu(_l("Company"), (
            _NavLink("enterprises.members", _l("Members"), ("enterprises.members",), with_enterprise=True),
            _NavLink("enterprises.edit", _l("Company details"), ("enterprises.edit",), permission="enterprise.edit",
                     with_enterprise=True),
        )),
    ),
    "creator": (
        _NavLink("creators.home", _l("Dashboard"), ("creators.home",)),
        _NavLink("jobs.board", _l("Job board"), ("jobs.board", "jobs.job")),
        _NavLink("orders.offers", _l("Offers"), ("orders.offers",)),
        _NavLink("orders.my_orders", _l("Orders"), ("orders.my_orders", "orders.detail")),
        _NavLink("jobs.my_applications", _l("Applications"), ("jobs.my_applications", "jobs.application")),
        _NavMenu(_l("My profile"), (
            _NavLink("creators.profile", _l("Profile"), ("creators.profile",)),
            _NavLink("creators.rate_card", _l("Rate card"), ("creators.rate_card",)),
            _NavLink("creators.platform", _l("Platform account"), ("creators.platform",)),
            _NavLink("creators.verification", _l("ID verification"), ("creators.verification",)),
        )),
    ),
    "staff": (
        _NavLink("staff.home", _l("Console"), ("staff.home",)),
        _NavLink("staff.enterprises", _l("Verification"), prefix="staff.enterprise", permission="staff.verification"),
        _NavLink("staff.identity_queue", _l("Creator identity"), prefix="staff.identity",
                 permission="staff.verification"),
        _NavLink("review.jobs|review.disputes", _l("Review queues"), prefix="review.",
                 permission="staff.jobs|staff.disputes"),
        _NavLink("staff.audit", _l("Audit log"), ("staff.audit",), permission="staff.audit"),
        _NavLink("finance.home", _l("Finance"), prefix="finance", permission="finance.view"),
        _NavLink("staff.users", _l("Users"), ("staff.users",), permission="staff.users"),
    ),
}
_NAV_PERMISSIONS = {kind: tuple(sorted({p for item in items for link in (item.links if isinstance(item, _NavMenu)
                                                                         else (item,))
                                        for p in (link.permission or "").split("|") if p}))
                    for kind, items in _NAVIGATION.items()}


class _BuiltLink(NamedTuple):
    html: str  # the link when it is not the current page
    current_html: str
    endpoints: frozenset[str]
    prefix: str | None


def main_nav(context: authz.Context) -> Markup:
    """The acting context's navigation links (``_nav.html``), the current page marked."""
    items = _NAVIGATION.get(context.kind)
    if items is None:
        return Markup("")
    user = current_user._get_current_object()
    enterprise = context.enterprise
    granted = tuple(authz.can(user, permission, enterprise) for permission in _NAV_PERMISSIONS[context.kind])
    built = _built_nav(request.script_root, current_language(), context.kind,
                       enterprise.id if enterprise is not None else None, granted)
    endpoint = request.endpoint or ""
    out = []
    for item in built:
        if isinstance(item, _BuiltLink):
            out.append(item.current_html if _is_current(item, endpoint) else item.html)
            continue
        summary_html, links, menu_endpoints = item
        marks = [_is_current(link, endpoint) for link in links]
        summary_class = ' class="is-current"' if endpoint in menu_endpoints else ""
        out.append(f'<details class="menu nav-menu">\n<summary{summary_class}>{summary_html}</summary>\n'
                   '<div class="menu-panel">\n')
        out.extend(link.current_html if mark else link.html for link, mark in zip(links, marks, strict=True))
        out.append("</div>\n</details>\n")
    return Markup("".join(out))


def _is_current(link: _BuiltLink, endpoint: str) -> bool:
    return endpoint in link.endpoints or (link.prefix is not None and endpoint.startswith(link.prefix))


@lru_cache(maxsize=4096)
def _built_nav(script_root: str, language: str, kind: str, enterprise_id: int | None,
               granted: tuple[bool, ...]) -> tuple:
    """The links of a context as HTML, for one application root, language and set of granted permissions
    (``script_root`` and ``language`` are what url_for and the labels depend on)."""
    allowed = dict(zip(_NAV_PERMISSIONS[kind], granted, strict=True))

    def build(link: _NavLink, menu: bool) -> _BuiltLink | None:
        permissions = (link.permission or "").split("|") if link.permission else []
        if permissions and not any(allowed[p] for p in permissions):
            return None
        endpoint = link.endpoint
        if "|" in endpoint:  # the first endpoint when the first permission is granted, else the second
            first, second = endpoint.split("|")
            endpoint = first if allowed[permissions[0]] else second
        url = url_for(endpoint, **({"enterprise_id": enterprise_id} if link.with_enterprise else {}))
        attrs, label = f'href="{escape(url)}"', escape(str(link.label))
        if menu:
            return _BuiltLink(f'<a class="menu-item" {attrs}>{label}</a>\n',
                              f'<a class="menu-item is-current" {attrs} aria-current="page">{label}</a>\n',
                              frozenset(link.endpoints), link.prefix)
        return _BuiltLink(f"<a {attrs}>{label}</a>\n", f'<a {attrs} aria-current="page">{label}</a>\n',
                          frozenset(link.endpoints), link.prefix)

    built: list = []
    for item in _NAVIGATION[kind]:
        if isinstance(item, _NavMenu):
            links = tuple(b for b in (build(link, True) for link in item.links) if b is not None)
            # The menu is current on any of its pages, also one whose link this user is not shown.
            menu_endpoints = frozenset(e for link in item.links for e in link.endpoints)
            built.append((str(escape(str(item.label))), links, menu_endpoints))
        else:
            link = build(item, False)
            if link is not None:
                built.append(link)
    return tuple(built)


def money_filter(minor: int | None, currency: str = "CNY", signed: bool = False) -> str:
    """Minor units as money in the reader's locale; ``signed`` shows + for credits."""
    from marketplace.money import CURRENCY_EXPONENTS, Money

    if minor is None:
        return "—"
    if isinstance(minor, Money):
        minor, currency = minor.minor, minor.currency
    text = number_formats(current_language()).money(int(minor), currency, CURRENCY_EXPONENTS[currency])
    return ("+" + text) if signed and minor > 0 else text


def number_filter(value) -> str:
    """A number in the reader's locale (Babel's decimal format): 12,345 / 3.14."""
    return number_formats(current_language()).decimal(value)


def date_filter(value: date | datetime | None, fmt: str = "medium") -> str:
    if not value:
        return "—"
    if isinstance(value, datetime):  # the day it is in the reader's time zone (as flask_babel.format_date)
        value = to_user_timezone(value).date()
    return format_day(value, fmt, current_language())


def datetime_filter(value: datetime | None, fmt: str = "medium") -> str:
    return format_datetime(value, fmt) if value else "—"


class CanalTemplate(Template):
    """Jinja's template, with a cheaper ``{% from "…" import … %}``.

    An import hands the importing template's context to ``_get_default_module``, which rebuilds the imported
    module only when that context has globals the imported template lacks (``ctx.globals_keys -
    self.globals.keys()``). Templates share the environment's globals, so that set is empty — but computing it
    from a ``ChainMap``'s keys view runs a Python-level loop over every global (~25 µs an import). The same test
    with ``set.difference`` runs in C; the outcome, and Jinja's own path when it is not empty, are unchanged."""

    def _get_default_module(self, ctx=None):
        if ctx is not None and not ctx.globals_keys.difference(self.globals):
            ctx = None  # nothing the module lacks: Jinja's cached module
        return super()._get_default_module(ctx)


def init_templating(app: Flask) -> None:
    app.jinja_env.template_class = CanalTemplate
    app.jinja_env.globals.update(
        main_nav=main_nav,
        can=lambda permission, obj=None: authz.can(current_user, permission, obj),
        current_context=authz.current_context,
        available_contexts=lambda: authz.available_contexts(current_user),
        LANGUAGES=LANGUAGES,
        STAFF_ROLE_LABELS=STAFF_ROLE_LABELS,
        TOP_UP_STATE_LABELS=TOP_UP_STATE_LABELS,
        ACCOUNT_TYPE_LABELS=ACCOUNT_TYPE_LABELS,
        ledger_kind_label=ledger_kind_label,
        ENTERPRISE_ROLE_LABELS=ROLE_LABELS,
        get_locale=current_language,
        url_with_page=url_with_page,
        pagination_html=pagination,
        filter_field=filter_field,
        app_url=app_url,
        layout_links=layout_links,
        select_options=select_options,
    )
    app.jinja_env.filters["datetime"] = datetime_filter
    app.jinja_env.filters["date"] = date_filter
    app.jinja_env.filters["money"] = money_filter
    app.jinja_env.filters["number"] = number_filter
    # Templates translate through the app's catalog directly (Flask-Babel's callables look the domain up
    # again for every string, and Jinja's new-style wrappers %-format every string; a page has dozens).
    from marketplace.extensions import babel

    def catalog():
        return babel.domain_instance.get_translations()

    app.jinja_env.install_gettext_callables(
        gettext=lambda s: catalog().ugettext(s),
        ngettext=lambda s, p, n: catalog().ungettext(s, p, n),
        pgettext=lambda c, s: catalog().upgettext(c, s),
        npgettext=lambda c, s, p, n: catalog().unpgettext(c, s, p, n),
        newstyle=True,
    )

    # Eval-context functions, not context functions: Jinja derives a whole new context for every call of a
    # context function made inside a block that has set a variable (``_block_vars``), and ``_`` is Jinja's alias
    # that calls ``gettext`` through the context a second time. Same output as Jinja's new-style callables.
    @pass_eval_context
    def gettext(eval_ctx, string: str, **variables: Any) -> str:
        """Jinja's new-style ``gettext`` (jinja2.ext._make_new_gettext), the same output: a string with no
        variables and no "%" comes back as it is instead of going through ``%`` formatting."""
        text = catalog().ugettext(string)
        if eval_ctx.autoescape:
            text = Markup(text)
        return text % variables if variables or "%" in text else text

    @pass_eval_context
    def ngettext(eval_ctx, singular: str, plural: str, num: int, **variables: Any) -> str:
        variables.setdefault("num", num)
        text = catalog().ungettext(singular, plural, num)
        if eval_ctx.autoescape:
            text = Markup(text)
        return text % variables

    app.jinja_env.globals.update(gettext=gettext, ngettext=ngettext, _=gettext)
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
