"""How the engine treats a failure: classify it, back off before retrying, give up at a cap.

Three dispositions, decided by the error's type alone so that the same failure is always handled
the same way:

- ``retry`` — the venue or the network may answer next time (timeouts, dropped connections, rate
  limits, maintenance, an open circuit breaker). The engine goes to ``error`` and retries the cycle
  after ``base × factor^(attempt−1)``, never more than ``cap``; after ``max_attempts`` it waits for
  the operator's ``retry``. An error the engine does not know is retried the same way: a bug
  repeats, and the cap turns it into a halt an operator sees rather than a loop.
- ``skip`` — this symbol or this cycle cannot go on (an order the venue refuses, too little
  margin, a market without data, an invalid value): recorded, and the engine carries on.
- ``emergency`` — trading cannot safely go on (the key was refused or lost its permission, a
  position could not be protected): flatten everything and stay stopped until reset.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from elcaro.models.errors import (
    AuthenticationError,
    ElcaroError,
    ExchangeUnavailableError,
    InsufficientFundsError,
    InvalidOrderError,
    NetworkError,
    NotFoundError,
    OrderNotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    ValidationError,
)


class Disposition(StrEnum):
    RETRY = "retry"
    SKIP = "skip"
    EMERGENCY = "emergency"


class CircuitOpenError(ElcaroError):
    """An operation's circuit breaker is open: the call was not made."""

    def __init__(self, operation: str, retry_in_ms: int) -> None:
        super().__init__(f"{operation} is paused after repeated failures; next try in {retry_in_ms / 1000:.0f} s")
        self.operation = operation
        self.retry_in_ms = retry_in_ms


class UnprotectedPositionError(ElcaroError):
    """A position is on the venue without its stop and could not be closed either."""


_EMERGENCY: tuple[type[BaseException], ...] = (AuthenticationError, PermissionDeniedError, UnprotectedPositionError)
_RETRY: tuple[type[BaseException], ...] = (
    NetworkError,
    RateLimitedError,
    ExchangeUnavailableError,
    CircuitOpenError,
    TimeoutError,
    ConnectionError,
)
_SKIP: tuple[type[BaseException], ...] = (
    InvalidOrderError,
    InsufficientFundsError,
    OrderNotFoundError,
    NotFoundError,
    ValidationError,
)


def classify(error: BaseException) -> Disposition:
    """The disposition of ``error`` (see the module docstring); emergencies are checked first."""
    if isinstance(error, _EMERGENCY):
        return Disposition.EMERGENCY
    if isinstance(error, _RETRY):
        return Disposition.RETRY
    if isinstance(error, _SKIP):
        return Disposition.SKIP
    return Disposition.RETRY


@dataclass(frozen=True, slots=True)
class Backoff:
    """Delay before retry ``attempt`` (1-based): ``base_ms × factor^(attempt−1)`` capped at ``cap_ms``."""

    base_ms: int = 2_000
    factor: float = 2.0
    cap_ms: int = 300_000
    max_attempts: int | None = 10
    """Automatic retries before the engine waits for an operator; ``None``: never stop retrying."""

    def __post_init__(self) -> None:
        if self.base_ms <= 0:
            raise ValidationError(f"must be positive, got {self.base_ms}", field="base_ms")
        if self.factor < 1:
            raise ValidationError(f"must be at least 1, got {self.factor}", field="factor")
        if self.cap_ms < self.base_ms:
            raise ValidationError(f"must be at least base_ms ({self.base_ms}), got {self.cap_ms}", field="cap_ms")
        if self.max_attempts is not None and self.max_attempts < 1:
            raise ValidationError(f"must be at least 1, got {self.max_attempts}", field="max_attempts")

    def delay_ms(self, attempt: int) -> int:
        if attempt < 1:
            raise ValidationError(f"attempts count from 1, got {attempt}", field="attempt")
        # Exponent capped before the power so a long outage cannot overflow the float.
        grown = self.base_ms * self.factor ** min(attempt - 1, 64)
        return int(min(grown, self.cap_ms))

    def exhausted(self, attempt: int) -> bool:
        """True once ``attempt`` is past the automatic retries."""
        return self.max_attempts is not None and attempt > self.max_attempts


@dataclass(frozen=True, slots=True)
class Fault:
    """One failure as the engine recorded it (shown in its status)."""

    operation: str
    """What failed: ``scan``, ``candles``, ``place_order``, ``flatten`` …"""
    error: str
    """The error's type name."""
    message: str
    disposition: Disposition
    at: int
    symbol: str | None = None

    @classmethod
    def of(cls, operation: str, error: BaseException, at: int, *, symbol: str | None = None) -> Fault:
        return cls(operation, type(error).__name__, str(error) or type(error).__name__, classify(error), at, symbol)
