"""Async token buckets, paced ahead of the venue and corrected by what the venue says.

Pacing alone is not enough: other processes may share a key or an address, and a venue's counting
never matches ours exactly. So a bucket also listens: a ``RateLimitedError`` pauses it for the
venue's ``retry_after``, and an adapter that reads the venue's remaining-limit headers reports them
(``ReportsLimits``) so a bucket never believes it has more than the venue says is left.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Hashable, Mapping

from elcaro.exchanges.client.limits import DEFAULT_LIMITS, METHOD_CATEGORIES, Rate, VenueLimits, limits_for
from elcaro.exchanges.client.timing import Clock, Sleep, Timing
from elcaro.exchanges.protocol import LimitStatus, Scope
from elcaro.models import Exchange, Target
from elcaro.models.errors import RateLimitedError

_EPSILON = 1e-9  # refilled token counts are floats: "enough" allows for the last bit of rounding


class WouldPassDeadline(Exception):
    """Waiting ``wait`` seconds for a token would end after the call's deadline."""

    def __init__(self, wait: float) -> None:
        super().__init__(f"the rate limit needs a wait of {wait:.3f} s, past the deadline")
        self.wait = wait


class TokenBucket:
    """Holds up to ``rate.burst`` tokens, refilled at ``rate.per_second``; waiters are served in order.

    ``_stamp`` is the instant tokens are counted up to. A pause moves it into the future, so the
    bucket stays empty until then and refills from there.
    """

    def __init__(self, rate: Rate, clock: Clock, sleep: Sleep) -> None:
        self._capacity = rate.burst
        self._per_second = rate.per_second
        self._tokens = rate.burst
        self._clock = clock
        self._sleep = sleep
        self._stamp = clock()
        self._lock = asyncio.Lock()  # FIFO: a cheap call cannot overtake an expensive one forever

    @property
    def tokens(self) -> float:
        self._refill(self._clock())
        return self._tokens

    def _refill(self, now: float) -> None:
        if now > self._stamp:
            self._tokens = min(self._capacity, self._tokens + (now - self._stamp) * self._per_second)
            self._stamp = now

    def _wait(self, cost: float, now: float) -> float:
        self._refill(now)
        paused = max(0.0, self._stamp - now)
        missing = cost - self._tokens
        return paused + (missing / self._per_second if missing > _EPSILON else 0.0)

    async def take(self, cost: float, *, deadline: float = math.inf) -> float:
        """Take ``cost`` tokens, waiting for them; returns the seconds waited (queueing included)."""
        cost = min(cost, self._capacity)
        start = self._clock()
        waited = self._lock.locked()  # queued behind another waiter
        async with self._lock:
            while True:
                now = self._clock()
                wait = self._wait(cost, now)
                if wait <= 0:
                    self._tokens -= cost
                    return now - start if waited else 0.0
                if now + wait > deadline:
                    raise WouldPassDeadline(wait)
                await self._sleep(wait)
                waited = True

    def pause(self, seconds: float) -> None:
        """Stop handing out tokens for ``seconds``, then refill from empty."""
        now = self._clock()
        self._refill(now)
        self._tokens = 0.0
        self._stamp = max(self._stamp, now + seconds)

    def observe(self, remaining: float, reset_after: float | None) -> None:
        self._refill(self._clock())
        self._tokens = min(self._tokens, max(0.0, remaining))
        if remaining <= 0 and reset_after is not None and reset_after > 0:
            self.pause(reset_after)


class RateLimiter:
    """Every bucket of the process, made on first use and kept (a pause outlives a closed client)."""

    def __init__(self, table: Mapping[Exchange, VenueLimits] = DEFAULT_LIMITS, *, timing: Timing | None = None) -> None:
        self._table = table
        self._timing = timing or Timing()
        self._buckets: dict[Hashable, TokenBucket] = {}

    def bucket(self, key: Hashable, rate: Rate) -> TokenBucket:
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = TokenBucket(rate, self._timing.clock, self._timing.sleep)
        return bucket

    def for_account(self, target: Target, account: Hashable) -> AccountLimiter:
        return AccountLimiter(self, target, account, limits_for(target, self._table))


class AccountLimiter:
    """The buckets one account's calls draw from: its own per category, and its target's IP bucket."""

    def __init__(self, limiter: RateLimiter, target: Target, account: Hashable, limits: VenueLimits) -> None:
        self._limiter = limiter
        self._target = target
        self._account = account
        self.limits = limits

    def _account_buckets(self, method: str) -> list[TokenBucket]:
        category = METHOD_CATEGORIES[method]
        rates = self.limits.account.get(category, ())
        return [
            self._limiter.bucket((self._target, self._account, category, index), rate)
            for index, rate in enumerate(rates)
        ]

    def _ip_buckets(self) -> list[TokenBucket]:
        return [
            self._limiter.bucket((self._target, Scope.IP, index), rate) for index, rate in enumerate(self.limits.ip)
        ]

    async def acquire(
        self, method: str, *, all_symbols: bool = False, deadline: float = math.inf
    ) -> list[tuple[str, float]]:
        """Wait for every bucket ``method`` draws from; returns (bucket, seconds) for each that made it wait.

        Account buckets first: a token taken from the shared IP bucket while this account waits
        for its own would be withheld from every other account.
        """
        waits: list[tuple[str, float]] = []
        category = METHOD_CATEGORIES[method]
        for bucket in self._account_buckets(method):
            waited = await bucket.take(1, deadline=deadline)
            if waited > 0:
                waits.append((category.value, waited))
        weight = self.limits.ip_weight(method, all_symbols=all_symbols)
        if weight > 0:
            for bucket in self._ip_buckets():
                waited = await bucket.take(weight, deadline=deadline)
                if waited > 0:
                    waits.append((Scope.IP.value, waited))
        return waits

    def penalize(self, method: str, error: RateLimitedError) -> None:
        """The venue refused ``method`` for its rate: pause the bucket it most likely meant."""
        code = None if error.code is None else str(error.code)
        seconds = error.retry_after
        if seconds is None:
            seconds = (
                self.limits.pause_by_code.get(code, self.limits.default_pause) if code else self.limits.default_pause
            )
        own = self._account_buckets(method)
        for bucket in self._ip_buckets() if code in self.limits.ip_codes or not own else own:
            bucket.pause(seconds)

    def observe(self, method: str, status: LimitStatus) -> None:
        buckets = self._ip_buckets() if status.scope is Scope.IP else self._account_buckets(method)
        for bucket in buckets:
            bucket.observe(status.remaining, status.reset_after)
