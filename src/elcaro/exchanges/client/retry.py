"""When to try a request again, and how long to wait first.

Only errors after which trying again can help are retried: the connection failed, the venue is
down, or it asked us to slow down. A refusal (invalid order, insufficient funds, bad key) would be
refused again. Whether a retry is *safe* is the client's business: a read always is, a write only
once the venue has been asked whether the first attempt took effect.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from elcaro.models.errors import ExchangeUnavailableError, NetworkError, RateLimitedError, ValidationError

TRANSIENT: Final = (NetworkError, ExchangeUnavailableError, RateLimitedError)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    attempts: int = 5
    """Requests per call, the first included."""
    backoff_initial: float = 0.25
    backoff_max: float = 5.0
    jitter: float = 0.5
    """Each wait is shortened by up to this fraction, so calls failed by one outage spread out."""
    deadline: float = 30.0
    """Seconds a call may take in all: rate-limit waits, requests, back-off and look-ups."""
    request_timeout: float = 10.0
    """A request not answered within this is a ``NetworkError``: it may or may not have arrived."""

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValidationError(f"at least one attempt, got {self.attempts}", field="attempts")
        if not 0 < self.backoff_initial <= self.backoff_max:
            raise ValidationError("need 0 < backoff_initial ≤ backoff_max", field="backoff_initial")
        if not 0 <= self.jitter <= 1:
            raise ValidationError(f"jitter is a fraction from 0 to 1, got {self.jitter}", field="jitter")
        if self.deadline <= 0 or self.request_timeout <= 0:
            raise ValidationError("deadline and request_timeout are positive", field="deadline")

    def delay(self, failures: int, error: Exception, draw: float) -> float:
        """The wait after the ``failures``-th failure in a row; ``draw`` is uniform in [0, 1).

        Exponential from ``backoff_initial``, capped at ``backoff_max``, less jitter; never shorter
        than a ``retry_after`` the venue gave.
        """
        wait = min(self.backoff_max, self.backoff_initial * 2.0 ** (failures - 1)) * (1 - self.jitter * draw)
        if isinstance(error, RateLimitedError) and error.retry_after is not None:
            wait = max(wait, error.retry_after)
        return wait
