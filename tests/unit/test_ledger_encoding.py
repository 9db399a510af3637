"""What ``post`` writes without SQLAlchemy must be exactly what the definitions say: the request fingerprint
(stored with every transaction, it decides replay vs conflict) and SQLite timestamps (as the column type stores
them). The fast spellings are checked against the slow definitions on arbitrary input."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.dialects import sqlite

from marketplace.ledger.models import LedgerTransaction
from marketplace.ledger.services import Leg, _canonical_json, _request_hash, _sqlite_timestamp

codes = st.text(min_size=1, max_size=30)  # any text: quotes, backslashes, control and non-ASCII characters
amounts = st.integers(min_value=-(10**15), max_value=10**15).filter(bool)
references = st.none() | st.tuples(st.text(max_size=20), st.integers(min_value=-(2**63), max_value=2**63))
odd_references = st.tuples(st.integers(), st.text()) | st.tuples(st.text(), st.text()) | st.just(()) | st.tuples(
    st.text(), st.integers(), st.integers())


def _defined_hash(kind, currency, legs, reference) -> str:
    return hashlib.sha256(_canonical_json(kind, currency, legs, reference).encode()).hexdigest()


@given(kind=st.text(max_size=40), currency=st.text(max_size=3),
       legs=st.lists(st.builds(Leg, codes, amounts), min_size=2, max_size=6), reference=references)
def test_request_hash_is_the_hash_of_the_canonical_json(kind, currency, legs, reference):
    assert _request_hash(kind, currency, legs, reference) == _defined_hash(kind, currency, legs, reference)


@given(legs=st.lists(st.builds(Leg, codes, amounts), min_size=2, max_size=4), reference=odd_references)
def test_request_hash_of_unusual_references_falls_back_to_the_definition(legs, reference):
    assert _request_hash("kind", "CNY", legs, reference) == _defined_hash("kind", "CNY", legs, reference)


def test_request_hash_is_stable():
    """The fingerprint of a stored transaction never changes (a changed one would turn replays into conflicts)."""
    legs = [Leg("order:11:escrow", 86_000), Leg("creator:3:pending", -76_000),
            Leg("platform:revenue:service_fee", -5_000), Leg("platform:revenue:commission", -5_000)]
    assert _canonical_json("release_escrow", "CNY", legs, ("order", 11)) == (
        '{"currency": "CNY", "kind": "release_escrow", "legs": [["creator:3:pending", -76000], '
        '["order:11:escrow", 86000], ["platform:revenue:commission", -5000], ["platform:revenue:service_fee", '
        '-5000]], "reference": ["order", 11]}')
    assert _request_hash("release_escrow", "CNY", legs, ("order", 11)) == (
        hashlib.sha256(_canonical_json("release_escrow", "CNY", legs, ("order", 11)).encode()).hexdigest())


_dialect = sqlite.dialect()
_column_bind = LedgerTransaction.__table__.c.created_at.type.dialect_impl(_dialect).bind_processor(_dialect)
zones = st.sampled_from([UTC, timezone(timedelta(hours=8)), timezone(timedelta(hours=-9, minutes=-30))])


@given(moment=st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=zones))
def test_sqlite_timestamps_are_what_the_column_type_stores(moment):
    assert _sqlite_timestamp(moment) == _column_bind(moment)


def test_sqlite_timestamps_refuse_naive_datetimes():
    import pytest

    with pytest.raises(ValueError, match="naive"):
        _sqlite_timestamp(datetime(2026, 11, 27, 12, 0))
