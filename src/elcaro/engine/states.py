"""The engine's states, its commands, and the one table of the transitions allowed between states.

A cycle walks the six phases in order, once per closed bar of the preset's timeframe::

    scanning → level_building → signal_wait → sizing → execution → managing → scanning …

and takes the short way to ``managing`` when a phase leaves nothing to do (no candidate, no
signal, no trade the risk gate allows). ``managing`` runs every cycle, so open positions are
looked after whatever the scanner finds. Any phase may be interrupted: paused, stopped, sent to
``error`` by a failure, to ``emergency`` to flatten everything, or back to ``initializing`` by a
preset reload. Every pair not in :data:`TRANSITIONS` is refused.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType
from typing import Final


class EngineState(StrEnum):
    IDLE = "idle"
    """Never started, or reset after a stop: nothing runs."""
    INITIALIZING = "initializing"
    """Loading the preset, the venue's instruments and the account."""
    SCANNING = "scanning"
    LEVEL_BUILDING = "level_building"
    SIGNAL_WAIT = "signal_wait"
    SIZING = "sizing"
    EXECUTION = "execution"
    MANAGING = "managing"
    """Applying the exit rules to open positions; between cycles, waiting for the next bar."""
    PAUSED = "paused"
    """No new entries; open positions are still managed and their stops stay on the venue."""
    ERROR = "error"
    """A phase failed; retried with a growing delay, or on the operator's ``retry``."""
    EMERGENCY = "emergency"
    """Closing every position and order of the engine; left only once the venue confirms it is flat."""
    STOPPED = "stopped"
    """Nothing runs; positions left open keep their stop orders on the venue."""

    @property
    def in_cycle(self) -> bool:
        return self in CYCLE

    @property
    def running(self) -> bool:
        """Started and not stopped: the runner has work in this state."""
        return self not in (EngineState.IDLE, EngineState.STOPPED)


CYCLE: Final = (
    EngineState.SCANNING,
    EngineState.LEVEL_BUILDING,
    EngineState.SIGNAL_WAIT,
    EngineState.SIZING,
    EngineState.EXECUTION,
    EngineState.MANAGING,
)
"""The phases of one cycle, in order."""


class Command(StrEnum):
    """What an operator (or the engine's own safety rules) can ask for."""

    START = "start"
    STOP = "stop"
    """Stop the cycle; open positions keep their stop orders on the venue but are no longer managed."""
    PAUSE = "pause"
    RESUME = "resume"
    RELOAD_PRESET = "reload_preset"
    TIME_STOP = "time_stop"
    """Close every engine position at market (exit reason ``time_stop``), then stop."""
    PANIC_EXIT = "panic_exit"
    """Close everything now, then pause (or stay stopped when the engine was not running)."""
    KILL_SWITCH = "kill_switch"
    """Close everything now and stay stopped: ``start`` is refused until ``reset``."""
    RETRY = "retry"
    RESET = "reset"
    """Clear a stop (and a tripped kill switch) back to idle."""


S = EngineState
_INTERRUPTS: Final = frozenset({S.INITIALIZING, S.PAUSED, S.ERROR, S.EMERGENCY, S.STOPPED})
"""Where any phase of a cycle may go besides its successors: a reload, a pause, a failure, a flatten, a stop."""

TRANSITIONS: Final[Mapping[EngineState, frozenset[EngineState]]] = MappingProxyType(
    {
        S.IDLE: frozenset({S.INITIALIZING, S.EMERGENCY}),
        S.INITIALIZING: frozenset({S.SCANNING, S.ERROR, S.EMERGENCY, S.STOPPED}),
        S.SCANNING: frozenset({S.LEVEL_BUILDING, S.MANAGING}) | _INTERRUPTS,
        S.LEVEL_BUILDING: frozenset({S.SIGNAL_WAIT, S.MANAGING}) | _INTERRUPTS,
        S.SIGNAL_WAIT: frozenset({S.SIZING, S.MANAGING}) | _INTERRUPTS,
        S.SIZING: frozenset({S.EXECUTION, S.MANAGING}) | _INTERRUPTS,
        S.EXECUTION: frozenset({S.MANAGING}) | _INTERRUPTS,
        S.MANAGING: frozenset({S.SCANNING}) | _INTERRUPTS,
        # resume; a time stop closes positions in managing; a flatten; a stop
        S.PAUSED: frozenset({S.SCANNING, S.INITIALIZING, S.MANAGING, S.EMERGENCY, S.STOPPED}),
        # retry (into initializing when it failed there); time stop; pause; flatten; stop
        S.ERROR: frozenset({S.INITIALIZING, S.SCANNING, S.MANAGING, S.PAUSED, S.EMERGENCY, S.STOPPED}),
        # flat: stay stopped (kill switch, emergency) or pause (panic exit)
        S.EMERGENCY: frozenset({S.STOPPED, S.PAUSED}),
        # start; reset; a kill switch or panic exit closes what a stop left open
        S.STOPPED: frozenset({S.INITIALIZING, S.IDLE, S.EMERGENCY}),
    }
)
"""Every allowed ``source → target``; anything else raises ``TransitionError`` and changes nothing."""
del S


def allowed(source: EngineState, target: EngineState) -> bool:
    return target in TRANSITIONS[source]
