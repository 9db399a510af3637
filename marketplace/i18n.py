"""Language and time-zone selection, and the locale-aware formatting helpers templates use.

Language: the signed-in user's setting, else the one chosen in this browser, else the best match of the
Accept-Language header. Times are stored in UTC and shown in the user's zone (default Asia/Shanghai).
"""

from __future__ import annotations

from functools import cache, cached_property
from zoneinfo import available_timezones

from babel import Locale
from babel.support import NullTranslations, Translations
from flask import current_app, has_request_context, request, session
from flask_babel import Babel, Domain, get_locale
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
    if not has_request_context():  # CLI, jobs: emails pass their recipient's locale explicitly
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    if current_user and getattr(current_user, "is_authenticated", False):
        return current_user.locale
    chosen = session.get("locale")
    if chosen in LANGUAGES:
        return chosen
    best = request.accept_languages.best_match(["en", "zh_CN", "zh", "zh-CN", "zh-Hans"])
    if best and best.lower().startswith("zh"):
        return "zh_CN"
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def language_code(locale: Locale | None) -> str:
    """Our code (a key of ``LANGUAGES``) for a babel locale.

    Babel parses "zh_CN" to ``zh_Hans_CN`` (likely subtags), so ``str(get_locale())`` is not "zh_CN".
    """
    if locale is None:
        return "en"
    for code, parsed in _parsed_languages().items():
        if parsed == locale:
            return code
    return str(locale)


@cache
def _parsed_languages() -> dict[str, Locale]:
    """``LANGUAGES`` parsed once: every translated string asks ``language_code`` (Locale.parse is slow)."""
    return {code: Locale.parse(code) for code in LANGUAGES}


class CatalogDomain(Domain):
    """Loads a locale's catalog from the directory named by our code (``translations/zh_CN``).

    Flask-Babel looks it up by ``str(locale)``, "zh_Hans_CN", which gettext never maps back to "zh_CN", so
    Chinese silently fell back to English.
    """

    def get_translations(self) -> Translations | NullTranslations:
        locale = get_locale()
        if locale is None:
            return NullTranslations()
        code = language_code(locale)
        key = (code, self.domain[0])
        if key not in self.cache:
            translations = Translations()
            for dirname in self.translation_directories:
                catalog = Translations.load(dirname, [code], self.domain[0])
                translations.merge(catalog)
                if hasattr(catalog, "plural"):  # merge() does not copy the plural rule
                    translations.plural = catalog.plural
            self.cache[key] = translations
        return self.cache[key]


class CatalogBabel(Babel):
    @cached_property
    def domain_instance(self) -> Domain:
        return CatalogDomain(domain=self.domain)


def select_timezone() -> str:
    if has_request_context() and current_user and getattr(current_user, "is_authenticated", False):
        return current_user.timezone
    return current_app.config["BABEL_DEFAULT_TIMEZONE"]
