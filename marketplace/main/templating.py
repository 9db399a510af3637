"""Template globals and filters: authorization, contexts, locale-aware dates and numbers, pagination."""

from __future__ import annotations

from datetime import datetime
from math import ceil
from typing import Any

from flask import Flask, request, url_for
from flask_babel import format_date, format_datetime, format_decimal, get_locale

from marketplace import authz
from marketplace.enterprises.forms import ROLE_LABELS
from marketplace.i18n import LANGUAGES, language_code
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
        """Page numbers to show, with None where a gap is elided."""
        shown: list[int | None] = []
        for number in range(1, self.pages + 1):
            if number in (1, self.pages) or abs(number - self.page) <= size:
                shown.append(number)
            elif shown and shown[-1] is not None:
                shown.append(None)
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
    args = request.args.to_dict()
    args["page"] = page
    return url_for(request.endpoint, **(request.view_args or {}), **args)


def money_filter(minor: int | None, currency: str = "CNY", signed: bool = False) -> str:
    """Minor units as money in the reader's locale; ``signed`` shows + for credits."""
    from marketplace.money import format_money

    if minor is None:
        return "—"
    text = format_money(minor, currency, locale=language_code(get_locale()))
    return ("+" + text) if signed and minor > 0 else text


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
        get_locale=lambda: language_code(get_locale()),
        url_with_page=url_with_page,
    )
    app.jinja_env.filters["datetime"] = datetime_filter
    app.jinja_env.filters["date"] = lambda value, fmt="medium": format_date(value, fmt) if value else "—"
    app.jinja_env.filters["money"] = money_filter
    app.jinja_env.filters["number"] = lambda value: format_decimal(value)
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
