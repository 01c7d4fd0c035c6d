"""Prometheus metrics of every exchange call, labelled by venue and method, never by user or key.

They live in a registry of the platform's own (``PLATFORM_REGISTRY``), not prometheus-client's
global default, so the web layer chooses what ``/metrics`` serves and each test can count in a
fresh registry of its own.
"""

from __future__ import annotations

from typing import Final
from weakref import WeakKeyDictionary

from prometheus_client import CollectorRegistry, Counter, Histogram

PLATFORM_REGISTRY: Final = CollectorRegistry()

# From a fast cache-warm query (a few ms) to a request that hit the 10 s timeout.
_LATENCY_BUCKETS: Final = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
_WAIT_BUCKETS: Final = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 600.0)

_VENUE = ("exchange", "environment")


class ClientMetrics:
    """The client's instruments in one registry (prometheus refuses two metrics of one name there)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.request_seconds = Histogram(
            "elcaro_exchange_request_seconds",
            "Time of one request to an exchange, answered or failed",
            [*_VENUE, "method"],
            buckets=_LATENCY_BUCKETS,
            registry=registry,
        )
        self.errors = Counter(
            "elcaro_exchange_errors",
            "Requests that failed, by error type and the venue's own code (empty when it gave none)",
            [*_VENUE, "method", "error", "code"],
            registry=registry,
        )
        self.rate_limit_wait_seconds = Histogram(
            "elcaro_exchange_rate_limit_wait_seconds",
            "Waits for a rate-limit bucket (account category or ip); only waits longer than zero",
            [*_VENUE, "bucket"],
            buckets=_WAIT_BUCKETS,
            registry=registry,
        )
        self.retries = Counter(
            "elcaro_exchange_retries",
            "Requests sent again, by the error that made the previous one fail",
            [*_VENUE, "method", "reason"],
            registry=registry,
        )
        self.recovered = Counter(
            "elcaro_exchange_recovered_writes",
            "Writes whose answer was lost but whose effect a look-up found on the venue",
            [*_VENUE, "method"],
            registry=registry,
        )
        self.cache_lookups = Counter(
            "elcaro_exchange_cache_lookups",
            "Cached reads: hit (kept value or a shared load under way) or miss (a request was made)",
            [*_VENUE, "cache", "result"],
            registry=registry,
        )


_by_registry: WeakKeyDictionary[CollectorRegistry, ClientMetrics] = WeakKeyDictionary()


def metrics_for(registry: CollectorRegistry = PLATFORM_REGISTRY) -> ClientMetrics:
    """The one ``ClientMetrics`` of ``registry``, shared by every client counting there."""
    metrics = _by_registry.get(registry)
    if metrics is None:
        metrics = _by_registry[registry] = ClientMetrics(registry)
    return metrics
