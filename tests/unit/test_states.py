"""The enterprise verification state machine, walked exhaustively (pure: no app, no database)."""

from __future__ import annotations

from itertools import product

import pytest

from marketplace.enterprises.models import VERIFICATION_STATES
from marketplace.enterprises.states import (
    ACTORS,
    TRANSITIONS,
    VerificationAction,
    VerificationState,
    editable_legal_details,
    next_state,
)
from marketplace.errors import InvalidTransition

# The table as the design states it, written out independently of the code under test.
EXPECTED = {
    ("unverified", "submit"): "pending",
    ("rejected", "submit"): "pending",
    ("pending", "approve"): "verified",
    ("pending", "reject"): "rejected",
}
STATES = ("unverified", "pending", "verified", "rejected")
ACTIONS = ("submit", "approve", "reject")
ALL_PAIRS = list(product(STATES, ACTIONS))


def test_the_table_is_the_designed_one():
    assert {(s.value, a.value): t.value for (s, a), t in TRANSITIONS.items()} == EXPECTED


def test_states_and_actions_are_complete():
    assert {s.value for s in VerificationState} == set(STATES) == set(VERIFICATION_STATES)
    assert {a.value for a in VerificationAction} == set(ACTIONS)


@pytest.mark.parametrize(("state", "action"), [pair for pair in ALL_PAIRS if pair in EXPECTED])
def test_allowed_transition_gives_the_next_state(state, action):
    result = next_state(state, action)
    assert result == EXPECTED[(state, action)]
    assert isinstance(result, VerificationState)
    # Enum members are accepted as well as their values.
    assert next_state(VerificationState(state), VerificationAction(action)) == result


@pytest.mark.parametrize(("state", "action"), [pair for pair in ALL_PAIRS if pair not in EXPECTED])
def test_every_other_transition_is_refused(state, action):
    with pytest.raises(InvalidTransition) as caught:
        next_state(state, action)
    assert caught.value.status_code == 409
    assert caught.value.field is None


def test_every_pair_is_either_allowed_or_refused():
    allowed, refused = set(), set()
    for state, action in ALL_PAIRS:
        try:
            next_state(state, action)
        except InvalidTransition:
            refused.add((state, action))
        else:
            allowed.add((state, action))
    assert allowed == set(EXPECTED)
    assert len(refused) == len(ALL_PAIRS) - len(EXPECTED) == 8


def test_verified_is_final_for_every_action():
    for action in ACTIONS:
        with pytest.raises(InvalidTransition):
            next_state("verified", action)


@pytest.mark.parametrize(("state", "editable"), [("unverified", True), ("rejected", True),
                                                 ("pending", False), ("verified", False)])
def test_legal_details_editable_only_before_review_or_after_rejection(state, editable):
    assert editable_legal_details(state) is editable


def test_actions_have_their_actors():
    assert {a.value: who for a, who in ACTORS.items()} == {"submit": "enterprise", "approve": "reviewer",
                                                           "reject": "reviewer"}
