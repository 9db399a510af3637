"""GET filter forms: the filters of a search page, read from the query string.

A search page is the busiest page brands and creators load, and its filters are a form of a dozen fields read on
every request. WTForms builds and binds every field of a form for each request (a quarter of a millisecond for the
discovery filters, ~6 % of the page); these forms declare their fields once and only parse the submitted values.
They check shape only, as WTForms forms do (conventions: forms check shape, services check rules), and offer what
the pages' ``filter_field`` writes: each field's label, help, default, the value as typed, its errors.

    class BoardFilters(QueryForm):
        q = TextFilter(_l("Keywords"), max_length=100)
        sort = ChoiceFilter(_l("Sort by"), SORTS, default="deadline", message=_l("Unknown sort order."))

    form = BoardFilters(request.args)
    if form.validate():
        form.q.data, form.sort.data  # parsed values (None when the field was left empty)

State-changing forms stay WTForms (CSRF, file uploads, the write paths' conventions).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from flask_babel import lazy_gettext as _l

from marketplace.money import Money, MoneyError


class FilterError(ValueError):
    """A submitted value a field refuses; ``message`` is shown beside the field."""

    def __init__(self, message: Any):
        super().__init__(str(message))
        self.message = message


class Filter:
    """One field of a ``QueryForm``: declared on the class, parses one submitted string.

    ``parse`` turns the stripped, non-empty text into the field's value or raises ``FilterError``; an empty field
    is ``empty`` (None unless said otherwise) and never an error."""

    kind = "text"
    empty: Any = None

    def __init__(self, label: Any, *, description: Any = "", default: str = ""):
        self.label, self.description, self.default = label, description, default
        self.name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def parse(self, text: str) -> Any:
        return text

    def __get__(self, form: QueryForm | None, owner: type) -> Any:
        if form is None:
            return self
        return BoundFilter(self, form)


class TextFilter(Filter):
    """Free text (a keyword): kept as typed, at most ``max_length`` characters."""

    empty = ""

    def __init__(self, label: Any, *, max_length: int, **kwargs: Any):
        super().__init__(label, **kwargs)
        self.max_length = max_length

    def parse(self, text: str) -> str:
        if len(text) > self.max_length:
            raise FilterError(_l("Use at most %(count)d characters.", count=self.max_length))
        return text


class ChoiceFilter(Filter):
    """One of ``values`` (a mapping of value to label, or (value, label) pairs); ``blank`` labels the empty
    choice ("Any category") when the filter may be left empty."""

    kind = "select"

    def __init__(self, label: Any, values: Mapping[str, Any] | list[tuple[str, Any]], *, message: Any,
                 blank: Any = None, **kwargs: Any):
        super().__init__(label, **kwargs)
        pairs = list(values.items()) if isinstance(values, Mapping) else list(values)
        self.values = frozenset(value for value, _label in pairs)
        self.choices = ([("", blank)] if blank is not None else []) + pairs
        self.message = message

    @property
    def empty(self) -> str | None:  # type: ignore[override]
        return self.default or None

    def parse(self, text: str) -> str:
        if text not in self.values:
            raise FilterError(self.message)
        return text


class IntegerFilter(Filter):
    """A whole number between ``minimum`` and ``maximum`` (either may be None)."""

    def __init__(self, label: Any, *, minimum: int | None = None, maximum: int | None = None, message: Any,
                 **kwargs: Any):
        super().__init__(label, **kwargs)
        self.minimum, self.maximum, self.message = minimum, maximum, message

    def parse(self, text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise FilterError(self.message) from None
        if (self.minimum is not None and value < self.minimum) or (self.maximum is not None and value > self.maximum):
            raise FilterError(self.message)
        return value


def parse_yuan(text: str) -> int:
    """An amount in yuan typed by a person ("1,000", "¥1000.50") in fen; ``FilterError`` with the message a person
    reads beside the field (WTForms' ``payments.forms.AmountField`` shows the same)."""
    try:
        money = Money.parse(text)
    except MoneyError:
        raise FilterError(_l("Enter an amount in yuan, with at most two decimals.")) from None
    if money.minor < 0:
        raise FilterError(_l("Enter a positive amount."))
    return money.minor


class AmountFilter(Filter):
    """An amount in yuan typed by a person ("1,000", "¥1000.50"): its value is in fen (int)."""

    def parse(self, text: str) -> int:
        return parse_yuan(text)


class PercentFilter(Filter):
    """A percentage typed by a person ("3", "3.5", "3.5%"): its value is in basis points (int)."""

    def parse(self, text: str) -> int:
        try:
            value = Decimal(text.rstrip("%").strip())
        except InvalidOperation:
            raise FilterError(_l("Enter a percentage such as 3 or 3.5.")) from None
        if not value.is_finite() or value < 0 or value > 100:
            raise FilterError(_l("Enter a percentage between 0 and 100."))
        return int((value * 100).to_integral_value())


class CheckFilter(Filter):
    """A checkbox: True when the query string has the field with a value other than "false" (as WTForms'
    ``BooleanField`` reads it)."""

    kind = "check"
    empty = False

    def parse(self, text: str) -> bool:
        return text != "false"


class BoundFilter:
    """A filter of one submitted form, as templates and views read it."""

    __slots__ = ("filter", "form")

    def __init__(self, filter_: Filter, form: QueryForm):
        self.filter, self.form = filter_, form

    @property
    def name(self) -> str:
        return self.filter.name

    @property
    def label(self) -> Any:
        return self.filter.label

    @property
    def description(self) -> Any:
        return self.filter.description

    @property
    def default(self) -> str:
        return self.filter.default

    @property
    def data(self) -> Any:
        return self.form.data[self.filter.name]

    @data.setter
    def data(self, value: Any) -> None:  # a view settling a default (a checkbox on unless the form says otherwise)
        self.form.data[self.filter.name] = value

    @property
    def raw(self) -> str:
        """The value as typed (what the field shows again)."""
        return self.form.raw.get(self.filter.name, "")

    @property
    def errors(self) -> list[Any]:
        return self.form.errors.get(self.filter.name) or []


class QueryForm:
    """A GET filter form: its ``Filter`` class attributes, parsed from a query string (a ``MultiDict`` or any
    mapping of str to str; the first value of a repeated name counts).

    ``data`` maps each field to its value (the field's ``empty`` value when left empty or refused), ``errors`` each
    refused field to its messages, ``raw`` each submitted field to its text as typed. ``check`` is where a form
    compares its fields (bounds in order); it runs once every field parsed."""

    filters: dict[str, Filter] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        found: dict[str, Filter] = {}
        for klass in reversed(cls.__mro__):
            found.update({name: value for name, value in vars(klass).items() if isinstance(value, Filter)})
        cls.filters = found

    def __init__(self, args: Mapping[str, str] | None = None):
        self.raw: dict[str, str] = {}
        self.data: dict[str, Any] = {}
        self.errors: dict[str, list[Any]] = {}
        args = args if args is not None else {}
        for name, filter_ in self.filters.items():
            text = args.get(name)
            if text is not None:
                self.raw[name] = text
            text = (text or "").strip()
            if not text:
                self.data[name] = filter_.empty
                continue
            try:
                self.data[name] = filter_.parse(text)
            except FilterError as error:
                self.data[name] = filter_.empty
                self.errors[name] = [error.message]
        if not self.errors:
            self.check()

    def check(self) -> None:
        """Checks across fields (``self.error(name, message)`` to refuse one); run when every field parsed."""

    def error(self, name: str, message: Any) -> None:
        self.errors.setdefault(name, []).append(message)

    def validate(self) -> bool:
        return not any(self.errors.values())

    def __getitem__(self, name: str) -> BoundFilter:
        return BoundFilter(self.filters[name], self)

    def __contains__(self, name: str) -> bool:
        return name in self.filters
