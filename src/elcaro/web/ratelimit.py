"""Token buckets per client, in process: enough to blunt password-less brute force and order floods.

Each rule is a bucket per key (an IP address, a user id): ``burst`` requests at once, refilled at
``per_minute``. A request that finds its bucket empty is refused with ``TooManyRequestsError`` carrying
how long until a token is back (the ``Retry-After`` header). Buckets idle long enough to be full again
are forgotten, so memory follows active clients, not every client ever seen.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from elcaro.web.errors import TooManyRequestsError


@dataclass(frozen=True, slots=True)
class Rule:
    per_minute: float
    burst: int

    @property
    def rate(self) -> float:
        """Tokens per second."""
        return self.per_minute / 60


@dataclass(frozen=True, slots=True)
class RateLimitPolicy:
    login_per_ip: Rule = Rule(per_minute=20, burst=10)
    login_per_user: Rule = Rule(per_minute=10, burst=5)
    orders_per_ip: Rule = Rule(per_minute=120, burst=30)
    orders_per_user: Rule = Rule(per_minute=60, burst=20)
    webhook_per_ip: Rule = Rule(per_minute=600, burst=60)


class TokenBuckets:
    """Buckets of one rule, one per key."""

    def __init__(self, rule: Rule, *, name: str, clock: Callable[[], float] = time.monotonic) -> None:
        self.rule = rule
        self.name = name
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}
        """key → (tokens, when they were counted)."""
        self._swept_at = clock()

    def take(self, key: str) -> None:
        """Spend a token of ``key``'s bucket, or refuse with how long to wait."""
        now = self._clock()
        self._sweep(now)
        tokens, at = self._buckets.get(key, (float(self.rule.burst), now))
        tokens = min(float(self.rule.burst), tokens + (now - at) * self.rule.rate)
        if tokens < 1:
            wait = (1 - tokens) / self.rule.rate
            self._buckets[key] = (tokens, now)
            raise TooManyRequestsError(f"too many {self.name} requests: try again in {wait:.0f} s", retry_after=wait)
        self._buckets[key] = (tokens - 1, now)

    def __len__(self) -> int:
        return len(self._buckets)

    def _sweep(self, now: float) -> None:
        full_after = self.rule.burst / self.rule.rate
        if now - self._swept_at < full_after:
            return
        self._swept_at = now
        for key, (tokens, at) in list(self._buckets.items()):
            if tokens + (now - at) * self.rule.rate >= self.rule.burst:
                del self._buckets[key]


class RateLimits:
    """The web app's limits: login and order routes, per IP and per user; webhooks per IP."""

    def __init__(self, policy: RateLimitPolicy | None = None, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.policy = policy or RateLimitPolicy()
        self.login_ip = TokenBuckets(self.policy.login_per_ip, name="login", clock=clock)
        self.login_user = TokenBuckets(self.policy.login_per_user, name="login", clock=clock)
        self.orders_ip = TokenBuckets(self.policy.orders_per_ip, name="order", clock=clock)
        self.orders_user = TokenBuckets(self.policy.orders_per_user, name="order", clock=clock)
        self.webhook_ip = TokenBuckets(self.policy.webhook_per_ip, name="webhook", clock=clock)
