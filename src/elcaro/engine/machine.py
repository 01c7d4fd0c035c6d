"""The engine's state machine: transitions from the one table, commands, the error policy, a kept history.

Pure and synchronous: the runner (``elcaro.services.engine``) asks it before doing anything and
tells it what happened; the machine never does I/O and never sleeps. Time comes from the injected
clock. A refused transition or command raises and changes nothing (the refused command is still
logged, so an operator can see it was asked for).

Commands, and the states that accept them (every other state refuses with the reason):

=================  ==========================================  ===========================================
command            accepted in                                 goes to
=================  ==========================================  ===========================================
``start``          idle, stopped — unless the kill switch      initializing
                   tripped (then ``reset`` first)
``stop``           initializing, a cycle phase, paused, error  stopped (positions keep their stops)
                   — not while everything is being closed
``pause``          a cycle phase, error                        paused
``resume``         paused                                      scanning (initializing if never ready)
``reload_preset``  idle, stopped, paused: no state change;     initializing
                   a cycle phase, error
``time_stop``      a cycle phase, paused, error                managing, closing everything with reason
                                                               ``time_stop``; stopped once flat
``panic_exit``     every state, unless everything is being     emergency, closing everything; then paused
                   closed already                              (stopped when the engine was not running)
``kill_switch``    every state (in emergency it upgrades the   emergency, closing everything; then stopped,
                   close already under way)                    and ``start`` refused until ``reset``
``retry``          error                                       initializing or scanning, where it failed
``reset``          stopped                                     idle (clears the kill switch and the errors)
=================  ==========================================  ===========================================

Failures (see ``elcaro.engine.policy``): ``skip`` is recorded only; ``retry`` sends a cycle phase
to ``error`` with the next automatic retry time; ``emergency`` trips the kill switch. While
everything is being closed, the machine stays where it is and any failure only sets the time of
the next attempt — those attempts never run out.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import ClassVar

from elcaro.engine.policy import Backoff, Disposition, Fault
from elcaro.engine.states import Command, EngineState, allowed
from elcaro.models import ExitReason
from elcaro.models.errors import ConflictError, ValidationError

S = EngineState


class TransitionError(ConflictError):
    """A transition the table does not allow."""

    def __init__(self, source: EngineState, target: EngineState, cause: str) -> None:
        super().__init__(f"the engine cannot go from {source} to {target} ({cause})")
        self.source = source
        self.target = target


class CommandRefusedError(ConflictError):
    """A command the engine's current state does not accept; ``reason`` says why."""

    def __init__(self, command: Command, state: EngineState, reason: str) -> None:
        super().__init__(f"{command} refused in state {state}: {reason}")
        self.command = command
        self.state = state
        self.reason = reason


class Effect(StrEnum):
    """What the runner must do for an accepted command besides following the state."""

    NONE = "none"
    FLATTEN = "flatten"
    RELOAD_PRESET = "reload_preset"
    RESET = "reset"


@dataclass(frozen=True, slots=True)
class Transition:
    source: EngineState
    target: EngineState
    cause: str
    at: int


@dataclass(frozen=True, slots=True)
class CommandRecord:
    command: Command
    actor: str
    at: int
    accepted: bool
    state: EngineState
    """The state the command found."""
    reason: str | None = None
    """Why it was refused."""
    effect: Effect = Effect.NONE


@dataclass(frozen=True, slots=True)
class Flatten:
    """Close every position and order of the engine, then go to ``then``."""

    reason: ExitReason
    then: EngineState
    cause: str


@dataclass(frozen=True, slots=True)
class KillRecord:
    at: int
    actor: str
    cause: str


@dataclass(frozen=True, slots=True)
class MachineStatus:
    state: EngineState
    since: int
    ready: bool
    attempts: int
    retry_at: int | None
    flatten: Flatten | None
    killed: KillRecord | None
    history: tuple[Transition, ...]
    commands: tuple[CommandRecord, ...]
    faults: tuple[Fault, ...]


_PHASES_AND_ERROR = frozenset({*(s for s in S if s.in_cycle), S.ERROR})


class StateMachine:
    """See the module docstring. ``history_limit`` bounds each of the kept logs (oldest dropped first)."""

    def __init__(
        self,
        clock: Callable[[], int],
        *,
        backoff: Backoff | None = None,
        history_limit: int = 500,
    ) -> None:
        if history_limit < 1:
            raise ValidationError(f"must be at least 1, got {history_limit}", field="history_limit")
        self._clock = clock
        self._backoff = backoff or Backoff()
        self._state = S.IDLE
        self._since = clock()
        self._ready = False
        self._attempts = 0
        self._retry_at: int | None = None
        self._failed_in: EngineState | None = None
        self._flatten: Flatten | None = None
        self._killed: KillRecord | None = None
        self._history: deque[Transition] = deque(maxlen=history_limit)
        self._moves = 0
        self._commands: deque[CommandRecord] = deque(maxlen=history_limit)
        self._faults: deque[Fault] = deque(maxlen=history_limit)

    # ------------------------------------------------------------------------------------- reading

    @property
    def state(self) -> EngineState:
        return self._state

    @property
    def ready(self) -> bool:
        """Initialization finished since the last start or reload."""
        return self._ready

    @property
    def flatten(self) -> Flatten | None:
        """The close-everything under way, if any: the runner's only job until it is done."""
        return self._flatten

    @property
    def killed(self) -> KillRecord | None:
        return self._killed

    @property
    def attempts(self) -> int:
        """Consecutive failures that asked for a retry since the last completed cycle."""
        return self._attempts

    @property
    def retry_at(self) -> int | None:
        """When the next automatic retry is due; ``None`` when none is (or the retries are used up)."""
        return self._retry_at

    @property
    def history(self) -> tuple[Transition, ...]:
        """The latest transitions, oldest first (at most ``history_limit``)."""
        return tuple(self._history)

    @property
    def moves(self) -> int:
        """Transitions made since the machine was created (the history keeps only the latest)."""
        return self._moves

    def can(self, target: EngineState) -> bool:
        return allowed(self._state, target)

    def retry_due(self) -> bool:
        return self._retry_at is not None and self._clock() >= self._retry_at

    def status(self, *, last: int = 50) -> MachineStatus:
        return MachineStatus(
            state=self._state,
            since=self._since,
            ready=self._ready,
            attempts=self._attempts,
            retry_at=self._retry_at,
            flatten=self._flatten,
            killed=self._killed,
            history=tuple(self._history)[-last:],
            commands=tuple(self._commands)[-last:],
            faults=tuple(self._faults)[-last:],
        )

    # ---------------------------------------------------------------------------------- the runner

    def advance(self, target: EngineState, cause: str) -> Transition:
        """Move to ``target``; raises ``TransitionError`` (changing nothing) when the table does not allow it."""
        if not allowed(self._state, target):
            raise TransitionError(self._state, target, cause)
        source = self._state
        if source is S.INITIALIZING and target is S.SCANNING:
            self._ready = True
        if source is S.MANAGING and target is S.SCANNING:
            # A whole cycle went through: the failures before it are over.
            self._attempts = 0
            self._retry_at = None
        return self._move(target, cause)

    def fail(self, fault: Fault) -> Transition | None:
        """Apply the error policy to ``fault``; returns the transition it caused, if any."""
        self._faults.append(fault)
        if fault.disposition is Disposition.SKIP:
            return None
        if fault.disposition is Disposition.EMERGENCY:
            transition = self._trip(actor="engine", cause=f"{fault.operation} failed: {fault.error}: {fault.message}")
            if transition is not None:
                return transition
            # Already closing everything: this failure only puts the next attempt off.
        if not self._state.running:
            return None
        self._attempts += 1
        # Closing everything is never given up: only the delay stops growing, at the cap.
        exhausted = self._flatten is None and self._backoff.exhausted(self._attempts)
        self._retry_at = None if exhausted else self._clock() + self._backoff.delay_ms(self._attempts)
        if self._flatten is not None or self._state in (S.PAUSED, S.EMERGENCY, S.ERROR):
            # Closing everything is retried where it is; paused only manages, and keeps pausing.
            return None
        self._failed_in = self._state
        return self._move(S.ERROR, f"{fault.operation} failed: {fault.error}")

    def flattened(self, cause: str = "the venue holds no position or order of the engine") -> Transition:
        """Everything is closed: leave for where the close-everything said to go."""
        plan = self._flatten
        if plan is None:
            raise ConflictError("nothing is being closed")
        transition = self.advance(plan.then, f"{plan.reason}: {cause}")
        self._flatten = None
        self._attempts = 0
        self._retry_at = None
        if plan.then is S.STOPPED:
            self._ready = False
        return transition

    # ------------------------------------------------------------------------------------ commands

    def command(self, command: Command, actor: str) -> CommandRecord:
        """Carry out ``command`` for ``actor`` or raise ``CommandRefusedError``; either way it is logged."""
        state = self._state
        try:
            effect = self._handlers[command](self, actor)
        except CommandRefusedError as refused:
            self._commands.append(CommandRecord(command, actor, self._clock(), False, state, refused.reason))
            raise
        record = CommandRecord(command, actor, self._clock(), True, state, effect=effect)
        self._commands.append(record)
        return record

    def _start(self, actor: str) -> Effect:
        if self._killed is not None:
            self._refuse(
                Command.START,
                f"the kill switch tripped ({self._killed.cause}, by {self._killed.actor}); reset first",
            )
        self._require(Command.START, {S.IDLE, S.STOPPED}, "the engine is already running")
        self._move(S.INITIALIZING, f"start by {actor}")
        return Effect.NONE

    def _stop(self, actor: str) -> Effect:
        self._no_close_under_way(Command.STOP)
        self._require(Command.STOP, {S.INITIALIZING, S.PAUSED, *_PHASES_AND_ERROR}, "the engine is not running")
        self._move(S.STOPPED, f"stop by {actor}")
        self._ready = False
        self._flatten = None
        self._retry_at = None
        return Effect.NONE

    def _pause(self, actor: str) -> Effect:
        self._no_close_under_way(Command.PAUSE)
        self._require(Command.PAUSE, _PHASES_AND_ERROR, "only a running cycle (or an error) can be paused")
        self._move(S.PAUSED, f"pause by {actor}")
        self._retry_at = None
        return Effect.NONE

    def _resume(self, actor: str) -> Effect:
        self._require(Command.RESUME, {S.PAUSED}, "the engine is not paused")
        self._move(S.SCANNING if self._ready else S.INITIALIZING, f"resume by {actor}")
        return Effect.NONE

    def _reload(self, actor: str) -> Effect:
        self._no_close_under_way(Command.RELOAD_PRESET)
        if self._state in (S.IDLE, S.STOPPED, S.PAUSED):
            return Effect.RELOAD_PRESET  # takes effect at the next start or resume
        self._require(Command.RELOAD_PRESET, _PHASES_AND_ERROR, "the engine is busy initializing or flattening")
        self._ready = False
        self._retry_at = None
        self._move(S.INITIALIZING, f"preset reload by {actor}")
        return Effect.RELOAD_PRESET

    def _time_stop(self, actor: str) -> Effect:
        self._no_close_under_way(Command.TIME_STOP)
        self._require(
            Command.TIME_STOP, {S.PAUSED, *_PHASES_AND_ERROR}, "the engine is not running a cycle to time-stop"
        )
        self._flatten = Flatten(ExitReason.TIME_STOP, S.STOPPED, f"time stop by {actor}")
        self._retry_at = None
        if self._state is not S.MANAGING:
            self._move(S.MANAGING, f"time stop by {actor}: closing every position")
        return Effect.FLATTEN

    def _panic(self, actor: str) -> Effect:
        self._no_close_under_way(Command.PANIC_EXIT)
        then = S.PAUSED if self._state.running else S.STOPPED
        self._flatten = Flatten(ExitReason.MANUAL, then, f"panic exit by {actor}")
        self._retry_at = None
        self._move(S.EMERGENCY, f"panic exit by {actor}: closing every position")
        return Effect.FLATTEN

    def _kill(self, actor: str) -> Effect:
        self._trip(actor=actor, cause=f"kill switch by {actor}")
        return Effect.FLATTEN

    def _retry(self, actor: str) -> Effect:
        self._require(Command.RETRY, {S.ERROR}, "there is no error to retry")
        target = S.INITIALIZING if self._failed_in is S.INITIALIZING or not self._ready else S.SCANNING
        self._retry_at = None
        self._move(target, f"retry by {actor}")
        return Effect.NONE

    def _reset(self, actor: str) -> Effect:
        self._require(Command.RESET, {S.STOPPED}, "only a stopped engine can be reset")
        self._killed = None
        self._attempts = 0
        self._retry_at = None
        self._failed_in = None
        self._faults.clear()
        self._move(S.IDLE, f"reset by {actor}")
        return Effect.RESET

    _handlers: ClassVar[Mapping[Command, Callable[[StateMachine, str], Effect]]] = {
        Command.START: _start,
        Command.STOP: _stop,
        Command.PAUSE: _pause,
        Command.RESUME: _resume,
        Command.RELOAD_PRESET: _reload,
        Command.TIME_STOP: _time_stop,
        Command.PANIC_EXIT: _panic,
        Command.KILL_SWITCH: _kill,
        Command.RETRY: _retry,
        Command.RESET: _reset,
    }

    # ----------------------------------------------------------------------------------- internals

    def _trip(self, *, actor: str, cause: str) -> Transition | None:
        """The kill switch: close everything, stay stopped until reset. Upgrades a close already under way."""
        self._killed = self._killed or KillRecord(self._clock(), actor, cause)
        self._flatten = Flatten(ExitReason.KILL_SWITCH, S.STOPPED, cause)
        self._retry_at = None
        if self._state is S.EMERGENCY:
            return None
        return self._move(S.EMERGENCY, cause)

    def _move(self, target: EngineState, cause: str) -> Transition:
        if not allowed(self._state, target):
            raise TransitionError(self._state, target, cause)
        transition = Transition(self._state, target, cause, self._clock())
        self._history.append(transition)
        self._moves += 1
        self._state = target
        self._since = transition.at
        return transition

    def _require(self, command: Command, states: set[EngineState] | frozenset[EngineState], reason: str) -> None:
        if self._state not in states:
            self._refuse(command, reason)

    def _no_close_under_way(self, command: Command) -> None:
        if self._flatten is not None:
            self._refuse(command, f"every position is being closed ({self._flatten.cause})")

    def _refuse(self, command: Command, reason: str) -> None:
        raise CommandRefusedError(command, self._state, reason)
