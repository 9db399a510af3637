"""GET filter forms (``marketplace.query_forms``): what each filter accepts and refuses, and how a form reports it."""

from __future__ import annotations

import pytest
from werkzeug.datastructures import MultiDict

from marketplace.creators.discovery_forms import DiscoverForm
from marketplace.creators.search import SearchQuery
from marketplace.orders.job_forms import BoardForm
from marketplace.query_forms import (
    AmountFilter,
    CheckFilter,
    ChoiceFilter,
    IntegerFilter,
    PercentFilter,
    QueryForm,
    TextFilter,
)


class Filters(QueryForm):
    q = TextFilter("Keywords", max_length=5)
    kind = ChoiceFilter("Kind", {"a": "A", "b": "B"}, blank="Any", message="Unknown kind.")
    order = ChoiceFilter("Order", [("new", "Newest"), ("old", "Oldest")], default="new", message="Unknown order.")
    low = IntegerFilter("From", minimum=0, message="0 or more.")
    high = IntegerFilter("To", minimum=0, maximum=10, message="0 to 10.")
    price = AmountFilter("Price")
    share = PercentFilter("Share")
    only = CheckFilter("Only")

    def check(self):
        if self.data["low"] is not None and self.data["high"] is not None and self.data["low"] > self.data["high"]:
            self.error("high", "Below the lower bound.")


class MoreFilters(Filters):
    extra = TextFilter("Extra", max_length=3)


@pytest.fixture
def ctx(app):
    with app.test_request_context("/"):
        yield


def messages(form):
    return {name: [str(m) for m in errors] for name, errors in form.errors.items()}


def test_an_empty_query_string_gives_every_field_its_empty_value(ctx):
    form = Filters(MultiDict())
    assert form.validate() and form.errors == {}
    assert form.data == {"q": "", "kind": None, "order": "new", "low": None, "high": None, "price": None,
                         "share": None, "only": False}
    assert form.raw == {}


def test_values_are_parsed_and_kept_as_typed(ctx):
    form = Filters(MultiDict({"q": " 护肤 ", "kind": "b", "order": "old", "low": " 3", "high": "7", "price": "¥1,000.5",
                              "share": "3.5%", "only": "y"}))
    assert form.validate(), messages(form)
    assert form.data == {"q": "护肤", "kind": "b", "order": "old", "low": 3, "high": 7, "price": 100050, "share": 350,
                         "only": True}
    assert form.raw["q"] == " 护肤 " and form["q"].raw == " 护肤 "
    assert form.q.data == "护肤" and form["price"].data == 100050


@pytest.mark.parametrize(("args", "field", "message"), [
    ({"q": "abcdef"}, "q", "Use at most 5 characters."),
    ({"kind": "c"}, "kind", "Unknown kind."),
    ({"order": "random"}, "order", "Unknown order."),
    ({"low": "lots"}, "low", "0 or more."),
    ({"low": "-1"}, "low", "0 or more."),
    ({"low": "1.5"}, "low", "0 or more."),
    ({"high": "11"}, "high", "0 to 10."),
    ({"price": "-5"}, "price", "Enter a positive amount."),
    ({"price": "1.001"}, "price", "Enter an amount in yuan, with at most two decimals."),
    ({"price": "abc"}, "price", "Enter an amount in yuan, with at most two decimals."),
    ({"share": "x"}, "share", "Enter a percentage such as 3 or 3.5."),
    ({"share": "101"}, "share", "Enter a percentage between 0 and 100."),
    ({"share": "-1"}, "share", "Enter a percentage between 0 and 100."),
    ({"share": "NaN"}, "share", "Enter a percentage between 0 and 100."),
])
def test_a_refused_value_is_an_error_beside_its_field_and_leaves_the_empty_value(ctx, args, field, message):
    form = Filters(MultiDict(args))
    assert not form.validate()
    assert messages(form) == {field: [message]}
    assert form[field].errors == form.errors[field]
    assert form.data[field] == Filters.filters[field].empty
    assert form.raw[field] == args[field]  # shown again as typed


def test_cross_field_checks_run_only_when_every_field_parsed(ctx):
    assert messages(Filters(MultiDict({"low": "5", "high": "2"}))) == {"high": ["Below the lower bound."]}
    assert messages(Filters(MultiDict({"low": "5", "high": "2", "kind": "zzz"}))) == {"kind": ["Unknown kind."]}
    assert Filters(MultiDict({"low": "2", "high": "2"})).validate()


def test_reading_a_fields_errors_does_not_make_the_form_invalid(ctx):
    form = Filters(MultiDict({"q": "ok"}))
    assert form["q"].errors == [] and form["kind"].errors == []
    assert form.validate() and form.errors == {}


def test_a_checkbox_reads_as_wtforms_reads_it(ctx):
    assert Filters(MultiDict({"only": "y"})).data["only"] is True
    assert Filters(MultiDict({"only": "false"})).data["only"] is False
    assert Filters(MultiDict({"only": ""})).data["only"] is False
    form = Filters(MultiDict())
    form.only.data = True  # a view settling a default
    assert form.data["only"] is True


def test_the_first_of_repeated_values_counts(ctx):
    assert Filters(MultiDict([("kind", "a"), ("kind", "zzz")])).data["kind"] == "a"


def test_filters_are_declared_once_and_inherited(ctx):
    assert list(Filters.filters) == ["q", "kind", "order", "low", "high", "price", "share", "only"]
    assert list(MoreFilters.filters) == [*Filters.filters, "extra"]
    assert Filters.filters["kind"].choices == [("", "Any"), ("a", "A"), ("b", "B")]
    assert Filters.filters["order"].choices == [("new", "Newest"), ("old", "Oldest")]
    assert "q" in Filters(MultiDict()) and "nope" not in Filters(MultiDict())
    assert isinstance(Filters.q, TextFilter) and Filters.q.name == "q"


def test_the_discovery_filters_make_a_search_query(ctx):
    form = DiscoverForm(MultiDict({"q": " 护肤 vlog ", "category": "beauty", "followers_min": "10000",
                                   "price_max": "2,000", "engagement_min": "2.5", "audience_gender": "female",
                                   "verified": "y", "sort": "price"}))
    assert form.validate(), messages(form)
    query = SearchQuery.from_form(form, "3")
    assert query == SearchQuery(q="护肤 vlog", category="beauty", followers_min=10000, price_max=200000,
                                engagement_min_bp=250, audience_gender="female", verified=True, sort="price", page=3)
    assert SearchQuery.from_form(DiscoverForm(MultiDict())) == SearchQuery()


def test_the_job_board_filters_default_to_deadline_order(ctx):
    form = BoardForm(MultiDict({"page": "0"}))
    assert messages(form) == {"page": ["Enter a page number, 1 or more."]}
    form = BoardForm(MultiDict({"budget_min": "500", "content_type": "short_video"}))
    assert form.validate() and form.data["sort"] == "deadline" and form.data["budget_min"] == 50000
