"""The real-name verification state machine: every (state, action) pair of the table, and nothing else."""

from __future__ import annotations

import itertools

import pytest

from marketplace.creators.models import VERIFICATION_STATES
from marketplace.creators.states import (
    IDENTITY_STATE_LABELS,
    IDENTITY_TRANSITIONS,
    IdentityAction,
    IdentityState,
    next_identity_state,
)
from marketplace.errors import InvalidTransition


def test_states_match_the_model_and_all_have_labels():
    assert {s.value for s in IdentityState} == set(VERIFICATION_STATES)
    assert set(IDENTITY_STATE_LABELS) == set(IdentityState)


@pytest.mark.parametrize(("state", "action"), list(itertools.product(IdentityState, IdentityAction)))
def test_every_pair_follows_the_table(state, action):
    if (state, action) in IDENTITY_TRANSITIONS:
        assert next_identity_state(state.value, action.value) == IDENTITY_TRANSITIONS[(state, action)]
    else:
        with pytest.raises(InvalidTransition):
            next_identity_state(state.value, action.value)


def test_only_a_pending_request_is_decided():
    assert {s for s, _ in IDENTITY_TRANSITIONS} == {IdentityState.PENDING}
    assert next_identity_state("pending", "approve") is IdentityState.APPROVED
    assert next_identity_state("pending", "reject") is IdentityState.REJECTED
