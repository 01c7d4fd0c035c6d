"""Every command in every state: where it is accepted it lands where the table says; elsewhere nothing changes."""

from __future__ import annotations

import itertools

import pytest
from engine_machines import START_MS, machine_in, network_fault

from elcaro.engine import (
    Backoff,
    Command,
    CommandRefusedError,
    Effect,
    EngineState,
    Fault,
    StateMachine,
)
from elcaro.exchanges.paper import ManualClock
from elcaro.models import ExitReason
from elcaro.models.errors import AuthenticationError, InvalidOrderError

S = EngineState
C = Command
PHASES = (S.SCANNING, S.LEVEL_BUILDING, S.SIGNAL_WAIT, S.SIZING, S.EXECUTION, S.MANAGING)

# command → {state it is accepted in: (state it leads to, effect)}; every other state refuses.
ACCEPTED: dict[Command, dict[EngineState, tuple[EngineState, Effect]]] = {
    C.START: {S.IDLE: (S.INITIALIZING, Effect.NONE), S.STOPPED: (S.INITIALIZING, Effect.NONE)},
    C.STOP: {s: (S.STOPPED, Effect.NONE) for s in (S.INITIALIZING, *PHASES, S.PAUSED, S.ERROR)},
    C.PAUSE: {s: (S.PAUSED, Effect.NONE) for s in (*PHASES, S.ERROR)},
    C.RESUME: {S.PAUSED: (S.SCANNING, Effect.NONE)},
    C.RELOAD_PRESET: {
        S.IDLE: (S.IDLE, Effect.RELOAD_PRESET),
        S.STOPPED: (S.STOPPED, Effect.RELOAD_PRESET),
        S.PAUSED: (S.PAUSED, Effect.RELOAD_PRESET),
        **{s: (S.INITIALIZING, Effect.RELOAD_PRESET) for s in (*PHASES, S.ERROR)},
    },
    C.TIME_STOP: {s: (S.MANAGING, Effect.FLATTEN) for s in (*PHASES, S.PAUSED, S.ERROR)},
    C.PANIC_EXIT: {s: (S.EMERGENCY, Effect.FLATTEN) for s in S if s is not S.EMERGENCY},
    C.KILL_SWITCH: {s: (S.EMERGENCY, Effect.FLATTEN) for s in S},
    C.RETRY: {S.ERROR: (S.SCANNING, Effect.NONE)},
    C.RESET: {S.STOPPED: (S.IDLE, Effect.RESET)},
}
CASES = list(itertools.product(C, S))


def test_every_command_is_in_the_table() -> None:
    assert set(ACCEPTED) == set(C)


@pytest.mark.parametrize(("command", "state"), CASES, ids=[f"{c}@{s}" for c, s in CASES])
def test_every_command_in_every_state(command: Command, state: EngineState) -> None:
    clock = ManualClock(START_MS)
    machine = machine_in(state, clock)
    before = (machine.state, machine.history, machine.flatten, machine.killed, machine.ready)
    clock.advance(5)
    expected = ACCEPTED[command].get(state)
    if expected is None:
        with pytest.raises(CommandRefusedError) as refused:
            machine.command(command, "alice")
        assert refused.value.reason  # a reason an operator can read
        assert str(refused.value).startswith(f"{command} refused in state {state}: ")
        assert (machine.state, machine.history, machine.flatten, machine.killed, machine.ready) == before
        last = machine.status().commands[-1]
        assert (last.command, last.actor, last.accepted, last.state) == (command, "alice", False, state)
        return
    target, effect = expected
    record = machine.command(command, "alice")
    assert (record.accepted, record.effect, record.state, record.at) == (True, effect, state, START_MS + 5)
    assert machine.state is target
    if target is not state:
        assert machine.history[-1].target is target
        assert "alice" in machine.history[-1].cause
    if effect is Effect.FLATTEN:
        assert machine.flatten is not None


def test_kill_switch_closes_then_stays_stopped_until_reset() -> None:
    clock = ManualClock(START_MS)
    machine = machine_in(S.SIZING, clock)
    machine.command(C.KILL_SWITCH, "operator")
    assert machine.flatten is not None
    assert (machine.flatten.reason, machine.flatten.then) == (ExitReason.KILL_SWITCH, S.STOPPED)
    assert machine.killed is not None and machine.killed.actor == "operator"
    with pytest.raises(CommandRefusedError, match="reset first"):
        machine.command(C.START, "operator")  # refused while still closing …
    machine.flattened()
    assert machine.state is S.STOPPED and machine.flatten is None
    with pytest.raises(CommandRefusedError, match="kill switch tripped"):
        machine.command(C.START, "operator")  # … and once flat
    machine.command(C.RESET, "operator")
    assert machine.state is S.IDLE and machine.killed is None
    machine.command(C.START, "operator")
    assert machine.state is S.INITIALIZING


def test_kill_switch_during_a_panic_exit_upgrades_it() -> None:
    machine = machine_in(S.MANAGING, ManualClock(START_MS))
    machine.command(C.PANIC_EXIT, "operator")
    assert machine.flatten is not None and machine.flatten.then is S.PAUSED
    machine.command(C.KILL_SWITCH, "risk")
    assert machine.state is S.EMERGENCY
    assert machine.flatten is not None and machine.flatten.then is S.STOPPED
    machine.flattened()
    assert machine.state is S.STOPPED
    with pytest.raises(CommandRefusedError):
        machine.command(C.START, "operator")


def test_panic_exit_closes_then_pauses_and_resume_carries_on() -> None:
    machine = machine_in(S.SIGNAL_WAIT, ManualClock(START_MS))
    machine.command(C.PANIC_EXIT, "operator")
    assert machine.flatten is not None
    assert (machine.flatten.reason, machine.flatten.then) == (ExitReason.MANUAL, S.PAUSED)
    for command in (C.STOP, C.PAUSE, C.TIME_STOP, C.PANIC_EXIT, C.RELOAD_PRESET):
        with pytest.raises(CommandRefusedError, match="being closed"):
            machine.command(command, "operator")
    machine.flattened()
    assert machine.state is S.PAUSED and machine.killed is None
    machine.command(C.RESUME, "operator")
    assert machine.state is S.SCANNING


def test_panic_exit_of_a_stopped_engine_leaves_it_stopped_and_startable() -> None:
    machine = machine_in(S.STOPPED, ManualClock(START_MS))
    machine.command(C.PANIC_EXIT, "operator")
    machine.flattened()
    assert machine.state is S.STOPPED
    machine.command(C.START, "operator")
    assert machine.state is S.INITIALIZING


def test_time_stop_closes_in_managing_then_stops_without_a_latch() -> None:
    machine = machine_in(S.PAUSED, ManualClock(START_MS))
    machine.command(C.TIME_STOP, "operator")
    assert machine.state is S.MANAGING
    assert machine.flatten is not None and machine.flatten.reason is ExitReason.TIME_STOP
    with pytest.raises(CommandRefusedError, match="being closed"):
        machine.command(C.TIME_STOP, "operator")
    machine.flattened()
    assert machine.state is S.STOPPED and machine.killed is None and not machine.ready
    machine.command(C.START, "operator")
    assert machine.state is S.INITIALIZING


def test_resume_and_retry_re_initialize_when_initialization_never_finished() -> None:
    clock = ManualClock(START_MS)
    machine = machine_in(S.INITIALIZING, clock)
    machine.fail(network_fault(clock(), "instruments"))
    assert machine.state is S.ERROR
    machine.command(C.RETRY, "operator")
    assert machine.state is S.INITIALIZING
    machine.fail(network_fault(clock(), "instruments"))
    machine.command(C.PAUSE, "operator")
    machine.command(C.RESUME, "operator")
    assert machine.state is S.INITIALIZING


def test_a_reload_needs_initializing_again() -> None:
    machine = machine_in(S.MANAGING, ManualClock(START_MS))
    assert machine.ready
    machine.command(C.RELOAD_PRESET, "operator")
    assert machine.state is S.INITIALIZING and not machine.ready


def test_flattened_without_a_close_under_way_is_an_error() -> None:
    machine = machine_in(S.SCANNING, ManualClock(START_MS))
    with pytest.raises(Exception, match="nothing is being closed"):
        machine.flattened()


# --------------------------------------------------------------------------- failures and backoff


def test_retryable_failures_back_off_growing_to_the_cap_then_wait_for_the_operator() -> None:
    clock = ManualClock(START_MS)
    backoff = Backoff(base_ms=1_000, factor=2.0, cap_ms=5_000, max_attempts=5)
    machine = machine_in(S.SCANNING, clock, backoff=backoff)
    delays = []
    for attempt in range(1, 7):
        transition = machine.fail(network_fault(clock()))
        assert transition is not None and transition.target is S.ERROR
        assert machine.attempts == attempt
        if machine.retry_at is None:
            delays.append(None)
            break
        delays.append(machine.retry_at - clock())
        assert not machine.retry_due()
        clock.advance(machine.retry_at - clock())
        assert machine.retry_due()
        machine.command(C.RETRY, "engine")
        assert machine.state is S.SCANNING
    assert delays == [1_000, 2_000, 4_000, 5_000, 5_000, None]
    with pytest.raises(CommandRefusedError):
        machine.command(C.RESUME, "operator")
    machine.command(C.RETRY, "operator")  # the operator may always retry
    machine.advance(S.MANAGING, "nothing to do")
    machine.advance(S.SCANNING, "next bar")
    assert machine.attempts == 0 and machine.retry_at is None  # a full cycle clears the count


def test_a_skip_is_recorded_and_changes_nothing() -> None:
    clock = ManualClock(START_MS)
    machine = machine_in(S.EXECUTION, clock)
    fault = Fault.of("place_order", InvalidOrderError("qty below minimum"), clock(), symbol="BTC/USDT:USDT")
    assert machine.fail(fault) is None
    assert machine.state is S.EXECUTION and machine.attempts == 0
    assert machine.status().faults[-1] == fault


def test_an_emergency_failure_trips_the_kill_switch() -> None:
    clock = ManualClock(START_MS)
    machine = machine_in(S.MANAGING, clock)
    transition = machine.fail(Fault.of("positions", AuthenticationError("key revoked"), clock()))
    assert transition is not None and transition.target is S.EMERGENCY
    assert machine.killed is not None and machine.killed.actor == "engine"
    assert machine.flatten is not None and machine.flatten.reason is ExitReason.KILL_SWITCH


def test_failures_while_closing_everything_are_retried_in_place() -> None:
    clock = ManualClock(START_MS)
    machine = machine_in(S.MANAGING, clock, backoff=Backoff(base_ms=1_000, cap_ms=1_000))
    machine.command(C.KILL_SWITCH, "operator")
    assert machine.fail(network_fault(clock(), "flatten")) is None
    assert machine.state is S.EMERGENCY and machine.retry_at == clock() + 1_000
    time_stopped = machine_in(S.SCANNING, clock)
    time_stopped.command(C.TIME_STOP, "operator")
    assert time_stopped.fail(network_fault(clock(), "flatten")) is None
    assert time_stopped.state is S.MANAGING


def test_closing_everything_is_never_given_up() -> None:
    clock = ManualClock(START_MS)
    machine = machine_in(S.SCANNING, clock, backoff=Backoff(base_ms=1_000, cap_ms=4_000, max_attempts=2))
    machine.command(C.PANIC_EXIT, "operator")
    delays = []
    for _ in range(5):
        machine.fail(network_fault(clock(), "flatten"))
        assert machine.retry_at is not None
        delays.append(machine.retry_at - clock())
    assert delays == [1_000, 2_000, 4_000, 4_000, 4_000]
    machine.fail(Fault.of("flatten", AuthenticationError("key revoked"), clock()))
    assert machine.state is S.EMERGENCY and machine.retry_at == clock() + 4_000
    assert machine.flatten is not None and machine.flatten.reason is ExitReason.KILL_SWITCH  # upgraded
    assert machine.killed is not None
    machine.flattened()
    assert machine.state is S.STOPPED and machine.attempts == 0 and machine.retry_at is None


def test_failures_while_paused_keep_it_paused() -> None:
    clock = ManualClock(START_MS)
    machine = machine_in(S.PAUSED, clock)
    assert machine.fail(network_fault(clock(), "manage")) is None
    assert machine.state is S.PAUSED


def test_status_reports_what_the_operator_needs() -> None:
    clock = ManualClock(START_MS)
    machine = StateMachine(clock)
    machine.command(C.START, "alice")
    clock.advance(10)
    machine.advance(S.SCANNING, "ready")
    status = machine.status()
    assert (status.state, status.since, status.ready) == (S.SCANNING, START_MS + 10, True)
    assert [(t.source, t.target) for t in status.history] == [(S.IDLE, S.INITIALIZING), (S.INITIALIZING, S.SCANNING)]
    assert [(c.command, c.actor) for c in status.commands] == [(C.START, "alice")]
