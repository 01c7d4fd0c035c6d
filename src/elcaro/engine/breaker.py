"""Circuit breakers: one per operation, so a venue that keeps failing one call is left alone for a while.

A breaker is ``closed`` (calls go through) until ``failures`` calls fail within ``window_ms``; then
it is ``open`` and refuses calls for ``cooldown_ms``. After the cool-down it is ``half_open``: one
trial call goes through; its success closes the breaker (the failure count starts afresh), its
failure opens it for another cool-down. Time is the injected clock's, so tests never sleep.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType

from elcaro.engine.policy import CircuitOpenError
from elcaro.models.errors import ValidationError


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


@dataclass(frozen=True, slots=True)
class BreakerSettings:
    failures: int = 5
    """Failures within the window that open the breaker."""
    window_ms: int = 60_000
    cooldown_ms: int = 30_000

    def __post_init__(self) -> None:
        for name in ("failures", "window_ms", "cooldown_ms"):
            if getattr(self, name) < 1:
                raise ValidationError(f"must be at least 1, got {getattr(self, name)}", field=name)


@dataclass(frozen=True, slots=True)
class BreakerStatus:
    operation: str
    state: BreakerState
    recent_failures: int
    opened_at: int | None
    retry_at: int | None
    """When an open breaker lets its trial call through."""


class CircuitBreaker:
    def __init__(self, operation: str, settings: BreakerSettings, clock: Callable[[], int]) -> None:
        self.operation = operation
        self._settings = settings
        self._clock = clock
        self._failures: deque[int] = deque()
        self._opened_at: int | None = None
        self._trial = False

    @property
    def state(self) -> BreakerState:
        if self._opened_at is None:
            return BreakerState.CLOSED
        if self._clock() - self._opened_at >= self._settings.cooldown_ms:
            return BreakerState.HALF_OPEN
        return BreakerState.OPEN

    def allow(self) -> bool:
        """May a call go through now? In ``half_open`` only one trial is let through until it reports."""
        state = self.state
        if state is BreakerState.CLOSED:
            return True
        if state is BreakerState.HALF_OPEN and not self._trial:
            self._trial = True
            return True
        return False

    def check(self) -> None:
        """Raise ``CircuitOpenError`` unless a call may go through (see :meth:`allow`)."""
        if not self.allow():
            raise CircuitOpenError(self.operation, self._retry_in())

    def success(self) -> None:
        self._failures.clear()
        self._opened_at = None
        self._trial = False

    def failure(self) -> None:
        now = self._clock()
        if self._opened_at is not None:
            # A failed trial (or a call that was already under way when the breaker opened).
            self._opened_at = now
            self._trial = False
            return
        self._failures.append(now)
        while self._failures and self._failures[0] <= now - self._settings.window_ms:
            self._failures.popleft()
        if len(self._failures) >= self._settings.failures:
            self._opened_at = now
            self._failures.clear()

    def status(self) -> BreakerStatus:
        now = self._clock()
        recent = sum(1 for at in self._failures if at > now - self._settings.window_ms)
        retry_at = None if self._opened_at is None else self._opened_at + self._settings.cooldown_ms
        return BreakerStatus(self.operation, self.state, recent, self._opened_at, retry_at)

    def _retry_in(self) -> int:
        if self._opened_at is None:
            return 0
        return max(0, self._opened_at + self._settings.cooldown_ms - self._clock())


class Breakers:
    """The breakers of every operation, made on first use with the same settings."""

    def __init__(self, settings: BreakerSettings, clock: Callable[[], int]) -> None:
        self._settings = settings
        self._clock = clock
        self._breakers: dict[str, CircuitBreaker] = {}

    def __getitem__(self, operation: str) -> CircuitBreaker:
        breaker = self._breakers.get(operation)
        if breaker is None:
            breaker = self._breakers[operation] = CircuitBreaker(operation, self._settings, self._clock)
        return breaker

    def all(self) -> Mapping[str, CircuitBreaker]:
        return MappingProxyType(self._breakers)

    def statuses(self) -> list[BreakerStatus]:
        return [breaker.status() for _, breaker in sorted(self._breakers.items())]

    def reset(self) -> None:
        self._breakers.clear()
