"""Token buckets per client address and per API key and endpoint group, reported in Bybit's headers.

``X-Bapi-Limit`` is the bucket's size, ``X-Bapi-Limit-Status`` what is left after this request, and
``X-Bapi-Limit-Reset-Timestamp`` the current time, or, once refused, when the next request will be let through
(Bybit's documented meaning).
"""

from __future__ import annotations

import fnmatch
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from elcaro.exchanges.simulator.config import RateLimitConfig, RateRule
from elcaro.exchanges.simulator.wire import now_ms


@dataclass(slots=True)
class _Bucket:
    capacity: float
    per_second: float
    tokens: float
    updated: float

    def take(self, now: float) -> tuple[bool, float]:
        """Whether a token was taken, and the seconds until the next one when it was not."""
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.per_second)
        self.updated = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True, 0.0
        return False, (1 - self.tokens) / self.per_second


@dataclass(frozen=True, slots=True)
class Verdict:
    allowed: bool
    limit: int
    remaining: int
    reset_ms: int

    def headers(self) -> dict[str, str]:
        return {
            "X-Bapi-Limit": str(self.limit),
            "X-Bapi-Limit-Status": str(self.remaining),
            "X-Bapi-Limit-Reset-Timestamp": str(self.reset_ms),
        }


class RateLimiter:
    def __init__(
        self,
        config: RateLimitConfig,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        wall_ms: Callable[[], int] = now_ms,
    ) -> None:
        self._config = config
        self._monotonic = monotonic
        self._wall_ms = wall_ms
        self._buckets: dict[tuple[str, int], _Bucket] = {}

    def per_ip(self, address: str) -> Verdict | None:
        if not self._config.enabled:
            return None
        return self._take(f"ip:{address}", -1, self._config.per_ip)

    def per_key(self, api_key: str, path: str) -> Verdict | None:
        """None when no rule limits ``path``."""
        if not self._config.enabled:
            return None
        for index, rule in enumerate(self._config.per_key):
            if any(fnmatch.fnmatchcase(path, pattern) for pattern in rule.paths):
                return self._take(f"key:{api_key}", index, rule)
        return None

    def _take(self, who: str, index: int, rule: RateRule) -> Verdict:
        now = self._monotonic()
        bucket = self._buckets.get((who, index))
        if bucket is None:
            bucket = _Bucket(rule.requests, rule.requests / rule.per_seconds, rule.requests, now)
            self._buckets[(who, index)] = bucket
        allowed, wait = bucket.take(now)
        wall = self._wall_ms()
        return Verdict(allowed, rule.requests, math.floor(bucket.tokens), wall + math.ceil(wait * 1000))
