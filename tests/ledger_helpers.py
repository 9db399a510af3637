"""Assertions shared by money tests: every affected balance, and the ledger as a whole."""

from __future__ import annotations

from marketplace.ledger.services import balance, balance_mismatches, trial_balance, unbalanced_transactions


def assert_balances(session, expected: dict[str, int]) -> None:
    actual = {code: balance(session, code) for code in expected}
    assert actual == expected


def assert_ledger_sound(session) -> None:
    """Trial balance nets to zero per currency; cached balances equal postings; every transaction balances."""
    _, net = trial_balance(session)
    assert all(v == 0 for v in net.values()), net
    assert balance_mismatches(session) == []
    assert unbalanced_transactions(session) == []
