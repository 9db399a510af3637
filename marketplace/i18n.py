"""Language and time-zone selection, and the locale-aware formatting helpers templates use.

Language: the signed-in user's setting, else the one chosen in this browser, else the best match of the
Accept-Language header. Times are stored in UTC and shown in the user's zone (default Asia/Shanghai).
"""

from __future__ import annotations

from zoneinfo import available_timezones

from flask import current_app, request, session
from flask_login import current_user

LANGUAGES = {"en": "English", "zh_CN": "简体中文"}

COMMON_TIMEZONES = (
    "Asia/Shanghai",
    "Asia/Hong_Kong",
    "Asia/Taipei",
    "Asia/Singapore",
    "Asia/Tokyo",
    "Asia/Seoul",
    "Asia/Dubai",
    "Europe/London",
    "Europe/Paris",
    "Europe/Berlin",
    "America/New_York",
    "America/Chicago",
    "America/Los_Angeles",
    "Australia/Sydney",
    "UTC",
)


def valid_timezone(name: str) -> bool:
    return name in available_timezones()


def select_locale() -> str:
    if current_user and getattr(current_user, "is_authenticated", False):
        return current_user.locale
    chosen = session.get("locale")
    if chosen in LANGUAGES:
        return chosen
    best = request.accept_languages.best_match(["en", "zh_CN", "zh", "zh-CN", "zh-Hans"])
    if best and best.lower().startswith("zh"):
        return "zh_CN"
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def select_timezone() -> str:
    if current_user and getattr(current_user, "is_authenticated", False):
        return current_user.timezone
    return current_app.config["BABEL_DEFAULT_TIMEZONE"]
