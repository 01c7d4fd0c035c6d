"""Every pair of states, allowed or refused, against the table written out again here by hand."""

from __future__ import annotations

import itertools

import pytest
from engine_machines import START_MS, machine_in

from elcaro.engine import CYCLE, TRANSITIONS, EngineState, StateMachine, TransitionError, allowed
from elcaro.exchanges.paper import ManualClock

S = EngineState
I = frozenset({S.INITIALIZING, S.PAUSED, S.ERROR, S.EMERGENCY, S.STOPPED})  # noqa: E741 - what every phase may do

# Written independently of the implementation: a change to either must be a change to both.
EXPECTED: dict[EngineState, set[EngineState]] = {
    S.IDLE: {S.INITIALIZING, S.EMERGENCY},
    S.INITIALIZING: {S.SCANNING, S.ERROR, S.EMERGENCY, S.STOPPED},
    S.SCANNING: {S.LEVEL_BUILDING, S.MANAGING, *I},
    S.LEVEL_BUILDING: {S.SIGNAL_WAIT, S.MANAGING, *I},
    S.SIGNAL_WAIT: {S.SIZING, S.MANAGING, *I},
    S.SIZING: {S.EXECUTION, S.MANAGING, *I},
    S.EXECUTION: {S.MANAGING, *I},
    S.MANAGING: {S.SCANNING, *I},
    S.PAUSED: {S.SCANNING, S.INITIALIZING, S.MANAGING, S.EMERGENCY, S.STOPPED},
    S.ERROR: {S.INITIALIZING, S.SCANNING, S.MANAGING, S.PAUSED, S.EMERGENCY, S.STOPPED},
    S.EMERGENCY: {S.STOPPED, S.PAUSED},
    S.STOPPED: {S.INITIALIZING, S.IDLE, S.EMERGENCY},
}
PAIRS = list(itertools.product(S, S))


def test_the_table_is_the_documented_one() -> None:
    assert {state: set(targets) for state, targets in TRANSITIONS.items()} == EXPECTED
    assert set(TRANSITIONS) == set(S)


@pytest.mark.parametrize(("source", "target"), PAIRS, ids=[f"{a}->{b}" for a, b in PAIRS])
def test_every_pair_of_states(source: EngineState, target: EngineState) -> None:
    clock = ManualClock(START_MS)
    machine = machine_in(source, clock)
    history = machine.history
    clock.advance(1_000)
    if target in EXPECTED[source]:
        assert machine.can(target)
        transition = machine.advance(target, "test")
        assert machine.state is target
        assert (transition.source, transition.target, transition.cause, transition.at) == (
            source,
            target,
            "test",
            START_MS + 1_000,
        )
        assert machine.history == (*history, transition)
    else:
        assert not machine.can(target)
        with pytest.raises(TransitionError, match=f"cannot go from {source} to {target}"):
            machine.advance(target, "test")
        assert machine.state is source  # nothing changed
        assert machine.history == history


def test_a_cycle_walks_the_phases_in_order_and_may_take_the_short_way() -> None:
    machine = machine_in(S.INITIALIZING, ManualClock(START_MS))
    assert not machine.ready
    for phase in CYCLE:
        machine.advance(phase, f"to {phase}")
    assert machine.ready
    machine.advance(S.SCANNING, "next bar")
    machine.advance(S.MANAGING, "no candidate")
    machine.advance(S.SCANNING, "next bar")
    assert [t.target for t in machine.history] == [S.INITIALIZING, *CYCLE, S.SCANNING, S.MANAGING, S.SCANNING]
    assert all(allowed(a, b) for a, b in itertools.pairwise(CYCLE))


def test_history_is_bounded_oldest_first_out() -> None:
    machine = StateMachine(ManualClock(START_MS), history_limit=3)
    machine.advance(S.INITIALIZING, "a")
    machine.advance(S.SCANNING, "b")
    machine.advance(S.MANAGING, "c")
    machine.advance(S.SCANNING, "d")
    assert [t.cause for t in machine.history] == ["b", "c", "d"]
    assert machine.moves == 4
