"""Language and time-zone selection, and the locale-aware formatting helpers templates use.

Language: the signed-in user's setting, else the one chosen in this browser, else the best match of the
Accept-Language header. Times are stored in UTC and shown in the user's zone (default Asia/Shanghai).
"""

from __future__ import annotations

import decimal
from datetime import date, tzinfo
from functools import cache, cached_property, lru_cache
from zoneinfo import available_timezones

import pytz
from babel import Locale
from babel.dates import format_date as babel_format_date
from babel.numbers import format_compact_decimal, format_decimal, parse_pattern
from babel.support import NullTranslations, Translations
from flask import current_app, g, has_request_context, request, session
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
    """The request's language code (a key of ``LANGUAGES``, or the user's setting as stored)."""
    if not has_request_context():  # CLI, jobs: emails pass their recipient's locale explicitly
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    user = current_user._get_current_object() if current_user else None
    if user is not None and getattr(user, "is_authenticated", False):
        return user.locale
    chosen = session.get("locale")
    if chosen in LANGUAGES:
        return chosen
    best = request.accept_languages.best_match(["en", "zh_CN", "zh", "zh-CN", "zh-Hans"])
    if best and best.lower().startswith("zh"):
        return "zh_CN"
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def babel_locale() -> str | Locale:
    """Flask-Babel's locale selector: ``select_locale``, a code of ``LANGUAGES`` as its parsed ``Locale`` (the same
    object every time: Flask-Babel would parse the string again on every request, and the catalog and the number
    formats recognise the object by identity)."""
    code = select_locale()
    return _parsed_languages().get(code, code)


def language_code(locale: Locale | None) -> str:
    """Our code (a key of ``LANGUAGES``) for a babel locale.

    Babel parses "zh_CN" to ``zh_Hans_CN`` (likely subtags), so ``str(get_locale())`` is not "zh_CN".
    """
    if locale is None:
        return "en"
    last = _LastCode.pair
    if locale is last[0]:  # a page asks for every number and string: the same locale object each time
        return last[1]
    code = _codes_of_locales().get(locale)
    code = code if code is not None else str(locale)
    _LastCode.pair = (locale, code)
    return code


class _LastCode:
    pair: tuple = (None, "en")  # (locale object, code), replaced whole (threads read one or the other)


@cache
def _parsed_languages() -> dict[str, Locale]:
    """``LANGUAGES`` parsed once: every translated string asks ``language_code`` (Locale.parse is slow)."""
    return {code: Locale.parse(code) for code in LANGUAGES}


@cache
def _codes_of_locales() -> dict[Locale, str]:
    return {parsed: code for code, parsed in _parsed_languages().items()}


def current_language() -> str:
    """The reader's language code (a key of ``LANGUAGES``): the request's, or the one ``force_locale`` sets."""
    return language_code(request_locale())


def request_locale() -> Locale | None:
    """``flask_babel.get_locale()``, once it has been worked out for this request (or set by ``force_locale``):
    read straight from where Flask-Babel keeps it (a page asks for every string and number it writes)."""
    try:
        namespace = getattr(g._get_current_object(), "_flask_babel", None)
    except RuntimeError:  # no app context: Flask-Babel answers None
        return None
    locale = getattr(namespace, "babel_locale", None)
    return locale if locale is not None else get_locale()


# --- numbers and dates, the way Babel writes them, without Babel's per-call cost ----------------------------
#
# A result page formats a few dozen numbers; Babel parses the locale, looks up its symbols and walks the
# pattern on every call (20–80 µs each). ``NumberFormats`` does that work once per language and keeps Babel's
# output exactly (tests/unit/test_number_formats.py compares them over many values): integers and amounts are
# grouped by Python and given the locale's symbols; compact numbers ("12.3K", "1.2万") are a function of the
# magnitude and the rounded value, remembered per (language, magnitude, rounded value) — a few thousand keys.


class NumberFormats:
    """Babel's decimal, currency and compact formats for one language, compiled once."""

    def __init__(self, code: str):
        self.code = code
        self.locale = _parsed_languages().get(code) or Locale.parse(code)
        self.group = self.locale.number_symbols["latn"]["group"]
        self.decimal_symbol = self.locale.number_symbols["latn"]["decimal"]
        decimal_pattern = parse_pattern(self.locale.decimal_formats[None])
        self._decimal_ok = self._plain(decimal_pattern) and decimal_pattern.prefix == ("", "-") \
            and decimal_pattern.suffix == ("", "")
        self._decimal_frac = decimal_pattern.frac_prec
        self._compact = self.locale.compact_decimal_formats["short"]
        self._money_affixes: dict[str, tuple[str, str, str, str] | None] = {}

    @staticmethod
    def _plain(pattern) -> bool:
        """A pattern whose digits this class writes itself: grouped in threes, no scaling or exponent."""
        return pattern.grouping == (3, 3) and not pattern.exp_prec and pattern.scale == 0 \
            and "@" not in pattern.pattern and pattern.int_prec[0] <= 1

    def _grouped(self, whole: int) -> str:
        text = f"{whole:,}"
        return text if self.group == "," else text.replace(",", self.group)

    def _digits(self, value: decimal.Decimal, frac_min: int, frac_max: int) -> str:
        """Babel's ``NumberPattern._quantize_value`` for a non-negative value (grouping 3,3)."""
        rounded = value.quantize(decimal.Decimal(1).scaleb(-frac_max))
        whole, _sep, frac = f"{rounded:f}".partition(".")
        frac = frac or "0"
        if len(frac) < frac_min:
            frac += "0" * (frac_min - len(frac))
        if frac_max == 0 or (frac_min == 0 and int(frac) == 0):
            frac = ""
        else:
            frac = frac[:frac_min] + frac[frac_min:].rstrip("0")
            frac = self.decimal_symbol + frac
        return self._grouped(int(whole)) + frac

    def decimal(self, value) -> str:
        """``babel.numbers.format_decimal(value, locale=...)``."""
        if not self._decimal_ok or isinstance(value, bool):
            return format_decimal(value, locale=self.locale)
        if isinstance(value, int):
            text = self._grouped(abs(value))
        else:
            number = value if isinstance(value, decimal.Decimal) else decimal.Decimal(str(value))
            if not number.is_finite():
                return format_decimal(value, locale=self.locale)
            text = self._digits(abs(number).normalize(), *self._decimal_frac)
            return "-" + text if number.is_signed() else text
        return "-" + text if value < 0 else text

    def money(self, minor: int, currency: str, exponent: int) -> str:
        """``marketplace.money.format_money(minor, currency, locale=...)``: the affixes are taken from it once."""
        affixes = self._money_affixes.get(currency, False)
        if affixes is False:
            affixes = self._money_affixes[currency] = self._affixes(currency, exponent)
        if affixes is None:
            from marketplace.money import format_money

            return format_money(minor, currency, locale=self.code)
        whole, frac = divmod(abs(minor), 10 ** exponent)
        text = self._grouped(whole) + (f"{self.decimal_symbol}{frac:0{exponent}d}" if exponent else "")
        return (affixes[2] + text + affixes[3]) if minor < 0 else (affixes[0] + text + affixes[1])

    def _affixes(self, currency: str, exponent: int) -> tuple[str, str, str, str] | None:
        """What ``format_money`` writes before and after the digits (positive, negative), or None when its
        pattern is one this class does not write (then every call goes to ``format_money``)."""
        from babel.numbers import get_currency_precision

        from marketplace.money import format_money

        pattern = self.locale.currency_formats["standard"]
        if not self._plain(pattern) or "¤¤¤" in pattern.pattern or get_currency_precision(currency) != exponent:
            return None
        probe = 123456789 * 10 ** exponent + (10 ** exponent - 1 if exponent else 0)
        digits = self._grouped(123456789) + (self.decimal_symbol + "9" * exponent if exponent else "")
        found = []
        for sign in (1, -1):
            text = format_money(sign * probe, currency, locale=self.code)
            head, sep, tail = text.partition(digits)
            if not sep or digits in tail:
                return None
            found += [head, tail]
        return found[0], found[1], found[2], found[3]

    def compact(self, value) -> str:
        """``babel.numbers.format_compact_decimal(value, locale=..., fraction_digits=1)`` ("12.3K", "1.2万")."""
        if not isinstance(value, int) or isinstance(value, bool):
            return format_compact_decimal(value, locale=self.locale, fraction_digits=1)
        size = abs(value)
        for magnitude, divisor in self._compact_bands:
            if size >= magnitude:
                if divisor is None:  # pattern "0": the number as it is (below 10,000 in Chinese)
                    break
                # Babel rounds value / divisor to one decimal and formats that: the rounded value and the band
                # decide the text, so the text of the rounded value times the divisor is the same.
                return _compact(self.code, round(decimal.Decimal(value) / divisor, 1) * divisor)
        return _compact(self.code, decimal.Decimal(value))  # below the first band that abbreviates: few values

    @cached_property
    def _compact_bands(self) -> list[tuple[int, int | None]]:
        """(magnitude, divisor) from the largest magnitude down; divisor None where the pattern is "0"."""
        bands = []
        for magnitude in sorted((int(m) for m in self._compact["other"]), reverse=True):
            pattern = parse_pattern(self._compact["other"][str(magnitude)]).pattern
            bands.append((magnitude, None if pattern == "0" else magnitude // (10 ** (pattern.count("0") - 1))))
        return bands


@lru_cache(maxsize=65536)
def _compact(code: str, representative: decimal.Decimal) -> str:
    return format_compact_decimal(representative, locale=number_formats(code).locale, fraction_digits=1)


@cache
def number_formats(code: str) -> NumberFormats:
    return NumberFormats(code)


@lru_cache(maxsize=8192)
def format_day(day: date, fmt: str, code: str) -> str:
    """``babel.dates.format_date`` for a day (a page repeats the same few dozen days)."""
    return babel_format_date(day, fmt, locale=number_formats(code).locale)


class CatalogDomain(Domain):
    """Loads a locale's catalog from the directory named by our code (``translations/zh_CN``).

    Flask-Babel looks it up by ``str(locale)``, "zh_Hans_CN", which gettext never maps back to "zh_CN", so
    Chinese silently fell back to English.
    """

    def get_translations(self) -> Translations | NullTranslations:
        locale = request_locale()
        if locale is None:
            return NullTranslations()
        last = self._last
        if locale is last[0]:  # every string of a page asks: the same locale object, the same catalog
            return last[1]
        key = (language_code(locale), self.domain[0])
        code = key[0]
        if key not in self.cache:
            translations = Translations()
            for dirname in self.translation_directories:
                catalog = Translations.load(dirname, [code], self.domain[0])
                translations.merge(catalog)
                if hasattr(catalog, "plural"):  # merge() does not copy the plural rule
                    translations.plural = catalog.plural
            self.cache[key] = translations
        self._last = (locale, self.cache[key])
        return self.cache[key]

    _last: tuple = (None, None)


class CatalogBabel(Babel):
    @cached_property
    def domain_instance(self) -> Domain:
        return CatalogDomain(domain=self.domain)


def select_timezone() -> str:
    if has_request_context() and current_user and getattr(current_user, "is_authenticated", False):
        return current_user.timezone
    return current_app.config["BABEL_DEFAULT_TIMEZONE"]


def babel_timezone() -> str | tzinfo:
    """Flask-Babel's time-zone selector: ``select_timezone``'s zone, built once per name (Flask-Babel would look
    the name up again on every request that formats a time)."""
    return _zone(select_timezone())


@lru_cache(maxsize=512)
def _zone(name: str) -> str | tzinfo:
    """``pytz.timezone(name)``, what Flask-Babel builds from the name; an unknown name goes back as it is, for
    Flask-Babel to refuse as before."""
    try:
        return pytz.timezone(name)
    except (pytz.UnknownTimeZoneError, AttributeError, TypeError):
        return name
