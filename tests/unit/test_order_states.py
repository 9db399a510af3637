"""The order and job state machines of order-taking, walked exhaustively (pure: no app, no database).

The expected tables are written out here from design.md §4, independently of ``marketplace.orders.states``;
every (state, action) pair over all states × all actions is tried, and every side on every listed action.
"""

from __future__ import annotations

from collections import deque
from itertools import product

import pytest

from marketplace.errors import InvalidTransition, NotAllowed
from marketplace.orders import states
from marketplace.orders.states import (
    ACTIVE_STATES,
    BOARD_COLUMNS,
    FUNDED_STATES,
    JOB_STATES,
    JOB_TRANSITIONS,
    ORDER_ACTIONS,
    ORDER_STATES,
    ORDER_TRANSITIONS,
    TERMINAL_STATES,
    allowed_actions,
    next_job_state,
    next_order_state,
)

SIDES = ("brand", "creator", "staff", "system")
ACTIVE = ("in_progress", "draft_submitted", "revision_requested", "draft_approved", "published")

# (state, action) -> (next state, sides that may act, money effect): design.md §4, written out by hand.
EXPECTED_ORDERS = {
    (None, "send_offer"): ("offered", {"brand"}, "fund"),
    (None, "accept_application"): ("in_progress", {"brand"}, "fund"),
    ("offered", "accept"): ("in_progress", {"creator"}, None),
    ("offered", "decline"): ("declined", {"creator"}, "refund"),
    ("offered", "expire"): ("expired", {"system"}, "refund"),
    ("offered", "withdraw"): ("withdrawn", {"brand"}, "refund"),
    ("in_progress", "submit_draft"): ("draft_submitted", {"creator"}, None),
    ("draft_submitted", "approve_draft"): ("draft_approved", {"brand"}, None),
    ("draft_submitted", "request_revision"): ("revision_requested", {"brand"}, None),
    ("revision_requested", "submit_draft"): ("draft_submitted", {"creator"}, None),
    ("draft_approved", "publish"): ("published", {"creator"}, None),
    ("published", "confirm"): ("completed", {"brand"}, "release"),
    ("published", "auto_confirm"): ("completed", {"system"}, "release"),
    ("completed", "close"): ("closed", {"system", "staff"}, "settle_retention"),
    ("in_progress", "cancel"): ("cancelled", {"creator"}, "refund"),
    ("in_progress", "agree_cancel"): ("cancelled", {"brand", "creator"}, "refund"),
    **{(state, "open_dispute"): ("disputed", {"brand", "creator"}, None) for state in ACTIVE},
    ("disputed", "resolve"): ("resolved", {"staff"}, "settle_dispute"),
}
ALL_ORDER_STATES = (None, *ORDER_STATES)
ALL_ORDER_ACTIONS = tuple(sorted({action for _state, action in EXPECTED_ORDERS}))

EXPECTED_JOBS = {
    ("draft", "submit"): ("in_review", {"brand"}),
    ("rejected", "submit"): ("in_review", {"brand"}),
    ("in_review", "approve"): ("open", {"staff"}),
    ("in_review", "reject"): ("rejected", {"staff"}),
    ("open", "close"): ("closed", {"brand", "system"}),
    ("draft", "cancel"): ("cancelled", {"brand"}),
    ("in_review", "cancel"): ("cancelled", {"brand"}),
    ("rejected", "cancel"): ("cancelled", {"brand"}),
    ("open", "cancel"): ("cancelled", {"brand"}),
}
ALL_JOB_ACTIONS = ("submit", "approve", "reject", "close", "cancel")


# --- orders: the table is the designed one --------------------------------------------------------------


def test_order_table_is_the_designed_one():
    actual = {key: (t.to, set(t.sides), t.money) for key, t in ORDER_TRANSITIONS.items()}
    assert actual == EXPECTED_ORDERS


def test_order_states_and_actions_are_complete():
    assert set(ORDER_STATES) == {
        "offered", "declined", "expired", "withdrawn", "in_progress", "draft_submitted", "revision_requested",
        "draft_approved", "published", "completed", "closed", "disputed", "resolved", "cancelled"}
    assert set(ORDER_ACTIONS) == set(ALL_ORDER_ACTIONS)
    assert ACTIVE_STATES == ACTIVE
    targets = {t.to for t in ORDER_TRANSITIONS.values()}
    sources = {s for s, _a in ORDER_TRANSITIONS if s is not None}
    assert targets | sources == set(ORDER_STATES), "every state is used by the table"


# --- orders: every pair, every side -----------------------------------------------------------------------


@pytest.mark.parametrize(("state", "action"), sorted(EXPECTED_ORDERS, key=str))
def test_every_allowed_order_transition(state, action):
    to, sides, money = EXPECTED_ORDERS[(state, action)]
    for side in sides:
        step = next_order_state(state, action, side)
        assert (step.to, step.money) == (to, money)
        assert action in allowed_actions(state, side)


@pytest.mark.parametrize(("state", "action"), sorted(EXPECTED_ORDERS, key=str))
def test_a_listed_order_action_by_the_wrong_side_is_not_allowed(state, action):
    _to, sides, _money = EXPECTED_ORDERS[(state, action)]
    wrong = [side for side in SIDES if side not in sides]
    assert wrong, "every action has a side that may not take it"
    for side in wrong:
        with pytest.raises(NotAllowed):
            next_order_state(state, action, side)
        assert action not in allowed_actions(state, side)


DISALLOWED_ORDER_PAIRS = [(s, a) for s, a in product(ALL_ORDER_STATES, ALL_ORDER_ACTIONS)
                          if (s, a) not in EXPECTED_ORDERS]


def test_the_disallowed_pairs_are_most_of_the_grid():
    assert len(DISALLOWED_ORDER_PAIRS) == len(ALL_ORDER_STATES) * len(ALL_ORDER_ACTIONS) - len(EXPECTED_ORDERS)
    assert len(DISALLOWED_ORDER_PAIRS) > 200


@pytest.mark.parametrize(("state", "action"), DISALLOWED_ORDER_PAIRS, ids=lambda v: str(v))
def test_every_disallowed_order_pair_is_an_invalid_transition(state, action):
    for side in SIDES:  # whoever asks: the state decides first
        with pytest.raises(InvalidTransition) as caught:
            next_order_state(state, action, side)
        assert caught.value.status_code == 409
        assert str(caught.value.message)  # a message a person can read (rendered lazily)


@pytest.mark.parametrize("action", ["frobnicate", "", "request_cancel", "review"])
def test_unknown_actions_are_invalid_in_every_state(action):
    for state in ALL_ORDER_STATES:
        with pytest.raises(InvalidTransition):
            next_order_state(state, action, "brand")


@pytest.mark.parametrize("side", SIDES)
def test_allowed_actions_lists_exactly_the_table(side):
    for state in ALL_ORDER_STATES:
        expected = sorted(a for (s, a), (_to, sides, _m) in EXPECTED_ORDERS.items() if s == state and side in sides)
        assert allowed_actions(state, side) == expected


# --- orders: the state sets agree with the table ------------------------------------------------------------


def test_no_transition_leaves_a_terminal_state():
    for (state, _action) in ORDER_TRANSITIONS:
        assert state not in TERMINAL_STATES
    for state in TERMINAL_STATES:
        for side in SIDES:
            assert allowed_actions(state, side) == []


def test_every_non_terminal_state_has_a_way_out():
    for state in set(ORDER_STATES) - TERMINAL_STATES:
        assert any(s == state for s, _a in ORDER_TRANSITIONS), state


def test_every_state_is_reachable_from_creation():
    seen, queue = {None}, deque([None])
    while queue:
        state = queue.popleft()
        for (s, _a), t in ORDER_TRANSITIONS.items():
            if s == state and t.to not in seen:
                seen.add(t.to)
                queue.append(t.to)
    assert seen - {None} == set(ORDER_STATES)


def test_every_state_reaches_a_terminal_state():
    for start in ORDER_STATES:
        seen, queue = {start}, deque([start])
        while queue:
            state = queue.popleft()
            for (s, _a), t in ORDER_TRANSITIONS.items():
                if s == state and t.to not in seen:
                    seen.add(t.to)
                    queue.append(t.to)
        assert seen & TERMINAL_STATES, start


def test_money_effects_agree_with_the_funded_states():
    """Money only moves when the escrow's content changes, and in the direction the state sets say."""
    for (state, action), t in ORDER_TRANSITIONS.items():
        source_funded = state in FUNDED_STATES
        target_funded = t.to in FUNDED_STATES
        if t.money == states.FUND:
            assert state is None and target_funded, (state, action)
        elif t.money in (states.REFUND, states.SETTLE_DISPUTE):
            assert source_funded and t.to in TERMINAL_STATES, (state, action)
        elif t.money == states.RELEASE:
            # the escrow keeps only the retention: neither fully funded nor finished
            assert source_funded and t.to == "completed" and t.to not in TERMINAL_STATES, (state, action)
        elif t.money == states.SETTLE_RETENTION:
            assert state == "completed" and t.to in TERMINAL_STATES, (state, action)
        else:
            assert t.money is None
            assert source_funded == target_funded, f"{state} -{action}-> {t.to} changes the escrow without money"


def test_terminal_and_funded_states_do_not_overlap():
    assert not FUNDED_STATES & TERMINAL_STATES
    assert FUNDED_STATES | TERMINAL_STATES | {"completed"} == set(ORDER_STATES)
    assert set(ACTIVE) <= FUNDED_STATES
    assert states.DISPUTABLE_STATES == frozenset(ACTIVE)


def test_every_state_has_a_label_a_tone_and_a_board_column():
    assert set(states.ORDER_STATE_LABELS) == set(ORDER_STATES)
    assert set(states.ORDER_STATE_TONES) == set(ORDER_STATES)
    in_columns = {s for column in BOARD_COLUMNS.values() for s in column}
    assert in_columns == set(ORDER_STATES)
    assert set(ORDER_ACTIONS) <= set(states.ORDER_ACTION_LABELS)


# --- jobs ----------------------------------------------------------------------------------------------------


def test_job_table_is_the_designed_one():
    assert {key: (t.to, set(t.sides)) for key, t in JOB_TRANSITIONS.items()} == EXPECTED_JOBS
    assert all(t.money is None for t in JOB_TRANSITIONS.values())
    assert set(JOB_STATES) == {"draft", "in_review", "open", "closed", "cancelled", "rejected"}
    assert {a for _s, a in JOB_TRANSITIONS} == set(ALL_JOB_ACTIONS)


@pytest.mark.parametrize(("state", "action"), list(product(JOB_STATES, ALL_JOB_ACTIONS)))
def test_every_job_pair(state, action):
    expected = EXPECTED_JOBS.get((state, action))
    for side in SIDES:
        if expected is None:
            with pytest.raises(InvalidTransition):
                next_job_state(state, action, side)
        elif side in expected[1]:
            assert next_job_state(state, action, side).to == expected[0]
        else:
            with pytest.raises(NotAllowed):
                next_job_state(state, action, side)


def test_job_terminal_states_and_reachability():
    for state in ("closed", "cancelled"):
        assert not any(s == state for s, _a in JOB_TRANSITIONS)
    seen, queue = {"draft"}, deque(["draft"])
    while queue:
        state = queue.popleft()
        for (s, _a), t in JOB_TRANSITIONS.items():
            if s == state and t.to not in seen:
                seen.add(t.to)
                queue.append(t.to)
    assert seen == set(JOB_STATES)
    assert states.EDITABLE_JOB_STATES == {"draft", "rejected"}
    assert set(states.JOB_STATE_LABELS) == set(states.JOB_STATE_TONES) == set(JOB_STATES)
