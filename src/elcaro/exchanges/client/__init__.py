"""The unified exchange client: rate limits, retries, idempotent orders, caching and metrics, once for every venue.

Everything above ``elcaro.exchanges`` reaches an exchange through an ``ExchangeClient``, usually
one handed out by an ``ExchangeClientPool``.
"""

from elcaro.exchanges.client.client import CachePolicy, ClientSettings, ExchangeClient
from elcaro.exchanges.client.limits import DEFAULT_LIMITS, Category, Rate, VenueLimits
from elcaro.exchanges.client.metrics import PLATFORM_REGISTRY, ClientMetrics, metrics_for
from elcaro.exchanges.client.pool import AdapterFactory, ExchangeClientPool, KeyLoader
from elcaro.exchanges.client.ratelimit import RateLimiter
from elcaro.exchanges.client.retry import RetryPolicy
from elcaro.exchanges.client.timing import Timing
from elcaro.exchanges.protocol import LimitListener, LimitStatus, ReportsLimits, Scope

__all__ = [
    "DEFAULT_LIMITS",
    "PLATFORM_REGISTRY",
    "AdapterFactory",
    "CachePolicy",
    "Category",
    "ClientMetrics",
    "ClientSettings",
    "ExchangeClient",
    "ExchangeClientPool",
    "KeyLoader",
    "LimitListener",
    "LimitStatus",
    "Rate",
    "RateLimiter",
    "ReportsLimits",
    "RetryPolicy",
    "Scope",
    "Timing",
    "VenueLimits",
    "metrics_for",
]
