"""State machines put into any state by the way the engine really gets there."""

from __future__ import annotations

from elcaro.engine import Backoff, Command, EngineState, Fault, StateMachine
from elcaro.exchanges.paper import ManualClock
from elcaro.models.errors import NetworkError

START_MS = 1_700_000_000_000
S = EngineState


def network_fault(at: int, operation: str = "candles") -> Fault:
    return Fault.of(operation, NetworkError("timed out"), at)


def machine_in(state: EngineState, clock: ManualClock, *, backoff: Backoff | None = None) -> StateMachine:
    """A machine in ``state``, reached through commands and phases; ready whenever it has scanned."""
    machine = StateMachine(clock, backoff=backoff)
    if state is S.IDLE:
        return machine
    if state is S.EMERGENCY:
        machine.command(Command.KILL_SWITCH, "test")
        return machine
    machine.command(Command.START, "test")
    if state is S.INITIALIZING:
        return machine
    machine.advance(S.SCANNING, "initialized")
    for phase in (S.LEVEL_BUILDING, S.SIGNAL_WAIT, S.SIZING, S.EXECUTION, S.MANAGING):
        if machine.state is state:
            return machine
        machine.advance(phase, f"to {phase}")
    if machine.state is state:
        return machine
    if state is S.PAUSED:
        machine.command(Command.PAUSE, "test")
    elif state is S.ERROR:
        machine.fail(network_fault(clock()))
    elif state is S.STOPPED:
        machine.command(Command.STOP, "test")
    assert machine.state is state
    return machine
