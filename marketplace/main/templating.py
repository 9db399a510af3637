"""Template globals and filters: authorization, contexts, locale-aware dates and numbers, pagination."""

from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache
from math import ceil
from typing import Any

from flask import Flask, current_app, g, request, url_for
from flask_babel import format_datetime, to_user_timezone
from jinja2 import pass_context
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


def app_url(endpoint: str, **values: Any) -> str:
    """``url_for`` for a link that is the same on every page (static files, fixed pages), built once per app and
    application root (the layout has a dozen)."""
    cache = current_app.extensions.setdefault("canal_app_urls", {})
    key = (endpoint, request.script_root, tuple(sorted(values.items())))
    url = cache.get(key)
    if url is None:
        url = cache[key] = url_for(endpoint, **values)
    return url


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


_FIELD_TEXTS: dict[tuple[type, str, str], tuple[str, str]] = {}


def _field_texts(form_class: type, name: str, language: str, field: Any) -> tuple[str, str]:
    key = (form_class, name, language)
    texts = _FIELD_TEXTS.get(key)
    if texts is None:
        texts = _FIELD_TEXTS[key] = (str(field.label.text), str(field.description or ""))
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


def init_templating(app: Flask) -> None:
    from flask_login import current_user

    app.jinja_env.globals.update(
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
        filter_field_view=FilterFieldView,
        app_url=app_url,
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

    @pass_context
    def gettext(context, string: str, **variables: Any) -> str:
        """Jinja's new-style ``gettext`` (jinja2.ext._make_new_gettext), the same output: a string with no
        variables and no "%" comes back as it is instead of going through ``%`` formatting."""
        text = catalog().ugettext(string)
        if context.eval_ctx.autoescape:
            text = Markup(text)
        return text % variables if variables or "%" in text else text

    @pass_context
    def ngettext(context, singular: str, plural: str, num: int, **variables: Any) -> str:
        variables.setdefault("num", num)
        text = catalog().ungettext(singular, plural, num)
        if context.eval_ctx.autoescape:
            text = Markup(text)
        return text % variables

    app.jinja_env.globals.update(gettext=gettext, ngettext=ngettext)
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
