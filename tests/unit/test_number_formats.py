"""The compiled number formats write exactly what Babel writes (marketplace.i18n.NumberFormats)."""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal

import pytest
from babel.dates import format_date
from babel.numbers import format_compact_decimal, format_decimal

from marketplace.i18n import LANGUAGES, format_day, number_formats
from marketplace.money import CURRENCY_EXPONENTS, format_money

CODES = sorted(LANGUAGES)


def _integers(seed: int, n: int = 4000) -> list[int]:
    rng = random.Random(seed)
    edges = [0, 1, 9, 10, 999, 1000, 1049, 1050, 1051, 1949, 1950, 9949, 9950, 9999, 10_000, 99_949, 99_950,
             99_999, 100_000, 999_949, 999_950, 999_999, 1_000_000, 9_999_999, 99_995_000, 123_456_789,
             10 ** 12, 10 ** 15 - 1, 10 ** 16]
    values = edges + [-v for v in edges]
    values += [int(10 ** rng.uniform(0, 15)) for _ in range(n)]  # every magnitude, log-uniform
    values += [rng.randrange(-10 ** 7, 10 ** 7) for _ in range(n // 4)]
    return values


@pytest.mark.parametrize("code", CODES)
def test_integers_and_compact_numbers_read_as_babel_writes_them(code):
    formats = number_formats(code)
    for value in _integers(1):
        assert formats.decimal(value) == format_decimal(value, locale=code), value
        assert formats.compact(value) == format_compact_decimal(value, locale=code, fraction_digits=1), value


@pytest.mark.parametrize("code", CODES)
def test_fractions_read_as_babel_writes_them(code):
    rng = random.Random(2)
    formats = number_formats(code)
    values = [0.0, -0.0, 0.5, 0.0005, 0.0015, 2.675, 3.14159, 1234.5678, -1234.5678, 99.9995, 1e-7,
              Decimal("12.30"), Decimal("-0.0004"), Decimal("1E+3"), 12.5, 350 / 100]
    values += [round(rng.uniform(-10 ** 6, 10 ** 6), rng.randrange(0, 6)) for _ in range(3000)]
    values += [Decimal(rng.randrange(-10 ** 9, 10 ** 9)).scaleb(-rng.randrange(0, 6)) for _ in range(2000)]
    for value in values:
        assert formats.decimal(value) == format_decimal(value, locale=code), value


@pytest.mark.parametrize("code", CODES)
@pytest.mark.parametrize("currency", sorted(CURRENCY_EXPONENTS))
def test_money_reads_as_format_money_writes_it(code, currency):
    rng = random.Random(3)
    formats = number_formats(code)
    exponent = CURRENCY_EXPONENTS[currency]
    values = [0, 1, -1, 5, 99, 100, 101, -100, 123_456, 10 ** 12]
    values += [rng.randrange(-10 ** 10, 10 ** 10) for _ in range(3000)]
    for minor in values:
        assert formats.money(minor, currency, exponent) == format_money(minor, currency, locale=code), minor


@pytest.mark.parametrize("code", CODES)
def test_days_read_as_babel_writes_them(code):
    start = date(2025, 12, 20)
    for n in range(0, 400, 7):
        day = start + timedelta(days=n)
        for fmt in ("short", "medium", "long"):
            assert format_day(day, fmt, code) == format_date(day, fmt, locale=code)
