"""A creator's profile page as brands see it (and staff, and the creator as a preview): identity, rate card,
rating, authenticity, and charts drawn server-side as SVG from the connector's statistics.

Each handler: load (404) -> authorize ``creator.profile.view`` (403) -> render.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cache, lru_cache

from babel.dates import format_skeleton
from babel.numbers import format_compact_decimal, format_decimal
from flask import Blueprint, abort, render_template
from flask_login import current_user, login_required
from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import joinedload

from marketplace import authz
from marketplace.creators import charts, services, taxonomy
from marketplace.creators.models import Creator, RateCardVersion, Work
from marketplace.db import get_session
from marketplace.files.serving import send_stored_file
from marketplace.i18n import current_language, number_formats

bp = Blueprint("creator_profiles", __name__, url_prefix="/creators")

TREND_BOX = charts.Box(width=640, height=240, left=64, right=16, top=12, bottom=30)
WORKS_BOX = charts.Box(width=640, height=240, left=64, right=52, top=12, bottom=30)


@bp.app_template_filter("compact")
def compact_number(value: int | float | None) -> str:
    """A large count the short way in the reader's language: 1.2M, 123.5万."""
    if value is None:
        return "—"
    return number_formats(current_language()).compact(value)


@bp.app_template_filter("tick_labels")
def tick_labels(values) -> tuple[str, ...]:
    """Axis tick values the short way, with just enough decimals that no two read the same (23.5K, 2.35万)."""
    return _tick_labels(tuple(values), current_language())


@lru_cache(maxsize=4096)
def _tick_labels(values: tuple, language: str) -> tuple[str, ...]:  # ticks are round numbers: charts share them
    locale = number_formats(language).locale
    for digits in range(4):
        labels = tuple(format_compact_decimal(v, locale=locale, fraction_digits=digits) for v in values)
        if len(set(labels)) == len(labels):
            return labels
    return tuple(format_decimal(v, locale=locale) for v in values)


@bp.app_template_filter("month_day")
def month_day(value: date | None) -> str:
    """A day without the year, in the reader's language: Nov 3, 11月3日."""
    return _month_day(value, current_language()) if value else "—"


@lru_cache(maxsize=4096)
def _month_day(value: date, language: str) -> str:
    return format_skeleton("MMMd", value, locale=number_formats(language).locale)


@dataclass
class WorkRow:
    work: Work
    engagement_bp: int  # (likes + comments + shares) ÷ plays, basis points


@dataclass
class ProfileCharts:
    trend: charts.LineChart | None
    gender: charts.ShareChart | None
    ages: charts.ShareChart | None
    provinces: charts.ShareChart | None
    works: charts.BarChart | None
    work_rows: list[WorkRow]  # oldest first, as drawn


def engagement_bp(work: Work) -> int:
    if work.plays <= 0:
        return 0
    return (work.likes + work.comments + work.shares) * 10000 // work.plays


def profile_charts(snapshots, audience: dict | None, works: list[Work]) -> ProfileCharts:
    """The geometry of every chart on the profile page, from the rows and the audience JSON
    (``{"gender": {...}, "age": {...}, "provinces": {..., "other": p}}`` in whole percentages)."""
    audience = audience or {}
    gender = audience.get("gender") or {}
    ages = audience.get("age") or {}
    provinces = audience.get("provinces") or {}
    ordered_provinces = sorted(((k, v) for k, v in provinces.items() if k != "other"), key=lambda kv: (-kv[1], kv[0]))
    if "other" in provinces:
        ordered_provinces.append(("other", provinces["other"]))
    rows = [WorkRow(w, engagement_bp(w)) for w in reversed(works)]
    return ProfileCharts(
        trend=charts.line_chart([(s.taken_on, s.followers) for s in snapshots], TREND_BOX),
        gender=charts.stacked_bar([(k, gender[k]) for k in ("female", "male") if k in gender]),
        ages=charts.share_bars([(band, ages[band]) for band in taxonomy.AGE_BANDS if band in ages], label_width=60),
        provinces=charts.share_bars(ordered_provinces),
        works=charts.bar_chart([r.work.plays for r in rows], WORKS_BOX,
                               secondary=[r.engagement_bp / 100 for r in rows]) if rows else None,
        work_rows=rows,
    )


def _load(creator_id: int) -> Creator:
    creator = get_session().get(Creator, creator_id)
    if creator is None:
        abort(404)
    return creator


@cache
def _profile_statements() -> tuple[Select, Select]:
    """The creator with what the page shows of it (categories, regions, platform account), and a rate card
    version with its prices: one round trip each instead of one per relationship. Built once."""
    creator = (select(Creator).where(Creator.id == bindparam("id"))
               .options(joinedload(Creator.categories), joinedload(Creator.regions),
                        joinedload(Creator.platform_account)))
    rate_card = (select(RateCardVersion).where(RateCardVersion.id == bindparam("id"))
                 .options(joinedload(RateCardVersion.prices)))
    return creator, rate_card


@bp.get("/<int:creator_id>")
@login_required
def profile(creator_id: int):
    db = get_session()
    creator_statement, rate_card_statement = _profile_statements()
    creator = db.execute(creator_statement, {"id": creator_id}).unique().scalar_one_or_none()
    if creator is None:
        abort(404)
    authz.require("creator.profile.view", creator)
    from marketplace.creators.authenticity import reason_message

    works = services.recent_works(db, creator, limit=12)
    rate_card = None  # services.current_rate_card, with its prices
    if creator.rate_card_version_id is not None:
        rate_card = db.execute(rate_card_statement, {"id": creator.rate_card_version_id}).unique().scalar_one_or_none()
    return render_template(
        "creators/public_profile.html", creator=creator, preview=creator.user_id == current_user.id,
        rate_card=rate_card,
        charts=profile_charts(services.follower_trend(db, creator), creator.audience, works),
        reasons=[reason_message(r) for r in (creator.authenticity_reasons or [])],
        taxonomy=taxonomy,
    )


@bp.get("/<int:creator_id>/avatar")
@login_required
def avatar(creator_id: int):
    creator = _load(creator_id)
    authz.require("creator.profile.view", creator)
    if creator.avatar is None:
        abort(404)
    # The URL carries the file id (?v=), so a new avatar is a new URL and this one may be cached.
    return send_stored_file(creator.avatar, cache="private, max-age=86400")
