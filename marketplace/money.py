"""Money: integer minor units (fen) with a currency code. Never floats.

``Money`` is immutable; arithmetic is only between the same currency; ``parse`` reads what a person types
("1,234.5", "¥100") into minor units exactly (``Decimal``, no float), refusing more decimals than the
currency has; ``allocate`` splits an amount by ratios without losing a fen (largest remainder).
Formatting for people happens at the edge (``format_money``, per locale, via Babel).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

CURRENCY_EXPONENTS = {"CNY": 2, "USD": 2, "HKD": 2, "EUR": 2, "JPY": 0}
DEFAULT_CURRENCY = "CNY"


class MoneyError(ValueError):
    """Malformed amount or mixed currencies."""


@dataclass(frozen=True, order=True)
class Money:
    minor: int
    currency: str = DEFAULT_CURRENCY

    def __post_init__(self):
        if not isinstance(self.minor, int) or isinstance(self.minor, bool):
            raise MoneyError("Money holds an int number of minor units")
        if self.currency not in CURRENCY_EXPONENTS:
            raise MoneyError(f"unknown currency {self.currency!r}")

    def _same(self, other: Money) -> None:
        if not isinstance(other, Money) or other.currency != self.currency:
            raise MoneyError("cannot combine different currencies")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.minor + other.minor, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.minor - other.minor, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.minor, self.currency)

    def __bool__(self) -> bool:
        return self.minor != 0

    @property
    def exponent(self) -> int:
        return CURRENCY_EXPONENTS[self.currency]

    def to_decimal(self) -> Decimal:
        return Decimal(self.minor).scaleb(-self.exponent)

    def percent(self, basis_points: int) -> Money:
        """``basis_points``/10000 of this amount, rounded half up to the minor unit."""
        numerator = self.minor * basis_points
        quotient, remainder = divmod(abs(numerator), 10000)
        if remainder * 2 >= 10000:
            quotient += 1
        return Money(quotient if numerator >= 0 else -quotient, self.currency)

    def allocate(self, ratios: list[int]) -> list[Money]:
        """Split by integer ratios; the parts sum exactly to this amount (largest remainder method)."""
        if not ratios or any(r < 0 for r in ratios) or sum(ratios) == 0:
            raise MoneyError("ratios must be non-negative and not all zero")
        total = sum(ratios)
        sign = -1 if self.minor < 0 else 1
        amount = abs(self.minor)
        shares = [amount * r // total for r in ratios]
        remainders = sorted(range(len(ratios)), key=lambda i: (-(amount * ratios[i] % total), i))
        for i in remainders[: amount - sum(shares)]:
            shares[i] += 1
        return [Money(sign * s, self.currency) for s in shares]

    @classmethod
    def parse(cls, text: str, currency: str = DEFAULT_CURRENCY) -> Money:
        """Parse a human amount into exact minor units. :raises MoneyError:"""
        cleaned = (text or "").strip().replace(",", "").replace("，", "").replace(" ", "")
        for symbol in ("¥", "￥", "$", "CNY", "RMB", "元"):
            cleaned = cleaned.replace(symbol, "")
        try:
            value = Decimal(cleaned)
        except InvalidOperation as exc:
            raise MoneyError(f"not an amount: {text!r}") from exc
        if not value.is_finite():
            raise MoneyError(f"not an amount: {text!r}")
        exponent = CURRENCY_EXPONENTS[currency]
        scaled = value.scaleb(exponent)
        if scaled != scaled.to_integral_value():
            raise MoneyError(f"at most {exponent} decimals")
        return cls(int(scaled), currency)


def format_money(minor: int | Money, currency: str = DEFAULT_CURRENCY, locale: str | None = None) -> str:
    """Format for people in the current (or given) locale, e.g. ¥1,234.50 / ¥1,234.50."""
    from babel.numbers import format_currency
    from flask import has_request_context
    from flask_babel import get_locale

    if isinstance(minor, Money):
        minor, currency = minor.minor, minor.currency
    money = Money(minor, currency)
    if locale is None:
        locale = str(get_locale()) if has_request_context() and get_locale() else "en"
    text = format_currency(money.to_decimal(), currency, locale=locale)
    # CLDR writes CNY as "CN¥" in English; Canal's users read "¥" in every language (CNY is the home currency).
    return text.replace("CN¥", "¥") if currency == "CNY" else text
