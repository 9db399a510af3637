"""A creator's profile page as brands see it (and staff, and the creator as a preview): identity, rate card,
rating, authenticity, and charts drawn server-side as SVG from the connector's statistics.

Each handler: load (404) -> authorize ``creator.profile.view`` (403) -> render.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from babel.dates import format_skeleton
from babel.numbers import format_compact_decimal, format_decimal
from flask import Blueprint, abort, render_template
from flask_babel import get_locale
from flask_login import current_user, login_required

from marketplace import authz
from marketplace.creators import charts, services, taxonomy
from marketplace.creators.models import Creator, Work
from marketplace.db import get_session
from marketplace.files.serving import send_stored_file

bp = Blueprint("creator_profiles", __name__, url_prefix="/creators")

TREND_BOX = charts.Box(width=640, height=240, left=64, right=16, top=12, bottom=30)
WORKS_BOX = charts.Box(width=640, height=240, left=64, right=52, top=12, bottom=30)


@bp.app_template_filter("compact")
def compact_number(value: int | float | None) -> str:
    """A large count the short way in the reader's language: 1.2M, 123.5万."""
    if value is None:
        return "—"
    return format_compact_decimal(value, locale=get_locale() or "en", fraction_digits=1)


@bp.app_template_filter("tick_labels")
def tick_labels(values) -> list[str]:
    """Axis tick values the short way, with just enough decimals that no two read the same (23.5K, 2.35万)."""
    values = list(values)
    locale = get_locale() or "en"
    for digits in range(4):
        labels = [format_compact_decimal(v, locale=locale, fraction_digits=digits) for v in values]
        if len(set(labels)) == len(labels):
            return labels
    return [format_decimal(v, locale=locale) for v in values]


@bp.app_template_filter("month_day")
def month_day(value: date | None) -> str:
    """A day without the year, in the reader's language: Nov 3, 11月3日."""
    return format_skeleton("MMMd", value, locale=get_locale() or "en") if value else "—"


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


@bp.get("/<int:creator_id>")
@login_required
def profile(creator_id: int):
    creator = _load(creator_id)
    authz.require("creator.profile.view", creator)
    from marketplace.creators.authenticity import reason_message

    db = get_session()
    works = services.recent_works(db, creator, limit=12)
    return render_template(
        "creators/public_profile.html", creator=creator, preview=creator.user_id == current_user.id,
        rate_card=services.current_rate_card(db, creator),
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
