"""The strategy engine's state machine: commands, transitions and error policy (no I/O).

- ``states``: ``EngineState``, ``Command`` and ``TRANSITIONS``, the one table of allowed moves;
- ``machine``: ``StateMachine`` — history, commands, the kill switch latch, the close-everything plan;
- ``policy``: ``classify`` (retry / skip / emergency) and ``Backoff``;
- ``breaker``: ``CircuitBreaker`` per operation (closed → open → half-open → closed).

The runner in ``elcaro.services.engine`` does the I/O and asks the machine before every step.
"""

from elcaro.engine.breaker import Breakers, BreakerSettings, BreakerState, BreakerStatus, CircuitBreaker
from elcaro.engine.machine import (
    CommandRecord,
    CommandRefusedError,
    Effect,
    Flatten,
    KillRecord,
    MachineStatus,
    StateMachine,
    Transition,
    TransitionError,
)
from elcaro.engine.policy import Backoff, CircuitOpenError, Disposition, Fault, UnprotectedPositionError, classify
from elcaro.engine.states import CYCLE, TRANSITIONS, Command, EngineState, allowed

__all__ = [
    "CYCLE",
    "TRANSITIONS",
    "Backoff",
    "BreakerSettings",
    "BreakerState",
    "BreakerStatus",
    "Breakers",
    "CircuitBreaker",
    "CircuitOpenError",
    "Command",
    "CommandRecord",
    "CommandRefusedError",
    "Disposition",
    "Effect",
    "EngineState",
    "Fault",
    "Flatten",
    "KillRecord",
    "MachineStatus",
    "StateMachine",
    "Transition",
    "TransitionError",
    "UnprotectedPositionError",
    "allowed",
    "classify",
]
