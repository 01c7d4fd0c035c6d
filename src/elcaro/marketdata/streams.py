"""Keep a ccxt-style ``watch_*`` stream alive across dropped connections and venue outages.

A ``watch_*`` coroutine returns the next update each time it is awaited (ccxt keeps the socket
between calls and reopens it when a call fails), so a stream is that call in a loop. What this
adds is the waiting: after a transient failure it backs off exponentially, with jitter so that
many streams dropped by one outage do not all reconnect in the same instant, and it starts again
from the shortest wait once an update gets through.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import random
from collections.abc import AsyncGenerator, Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from elcaro.models.errors import ExchangeUnavailableError, NetworkError, RateLimitedError, ValidationError

T = TypeVar("T")

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Reconnect:
    """What ``on_reconnect`` is told before each wait."""

    attempt: int
    """Failures in a row so far: 1 after the first."""
    delay: float
    """Seconds until the next call."""
    error: Exception


def is_transient(error: Exception) -> bool:
    """The default retry rule: the connection failed or the venue is down, so trying again later can work."""
    return isinstance(error, NetworkError | ExchangeUnavailableError)


async def reconnecting(
    factory: Callable[[], Awaitable[T]],
    *,
    backoff_initial: float = 1.0,
    backoff_max: float = 60.0,
    jitter: float = 0.2,
    is_retryable: Callable[[Exception], bool] = is_transient,
    on_reconnect: Callable[[Reconnect], Awaitable[None] | None] | None = None,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    rng: Callable[[], float] = random.random,
) -> AsyncGenerator[T, None]:
    """Yield ``await factory()`` forever, waiting and retrying after errors ``is_retryable`` accepts.

    ``factory`` is the exchange adapter's watch call, which raises the platform's errors (the
    default rule knows nothing of ccxt's). The n-th failure in a row waits
    ``min(backoff_max, backoff_initial × 2ⁿ⁻¹)`` shortened by up to ``jitter`` (a fraction, 0–1), so
    a wait never exceeds ``backoff_max``; a ``RateLimitedError`` that names its ``retry_after``
    (when the rule accepts it) waits at least that long. Other errors propagate; cancelling the
    consuming task, or ``aclose()`` (an async generator, so a caller can close it deterministically),
    stops it between or during calls. ``sleep`` and ``rng`` are there for tests.
    """
    if not 0 < backoff_initial <= backoff_max:
        raise ValidationError(
            f"need 0 < backoff_initial ≤ backoff_max, got {backoff_initial} and {backoff_max}", field="backoff_initial"
        )
    if not 0 <= jitter <= 1:
        raise ValidationError(f"jitter is a fraction from 0 to 1, got {jitter}", field="jitter")
    failures = 0
    backoff = backoff_initial
    while True:
        try:
            update = await factory()
        except Exception as error:
            if not is_retryable(error):
                raise
            failures += 1
            delay = backoff * (1 - jitter * rng())
            if isinstance(error, RateLimitedError) and error.retry_after is not None:
                delay = max(delay, error.retry_after)
            backoff = min(backoff_max, backoff * 2)
            log.warning("stream failed (%d in a row): %s; retrying in %.1f s", failures, error, delay)
            if on_reconnect is not None:
                pending = on_reconnect(Reconnect(failures, delay, error))
                if inspect.isawaitable(pending):
                    await pending
            await sleep(delay)
            continue
        failures = 0
        backoff = backoff_initial
        yield update
