"""HTTP metrics (requests and latency per route template, never per raw path) and the ``/metrics`` page.

Routes are labelled by their template (``/api/v1/trading/positions/{position_id}``), so a label never
carries an id and the number of series stays fixed. ``/metrics`` serves this app's HTTP metrics and the
platform's own registry (exchange client metrics) in one Prometheus text page.
"""

from __future__ import annotations

import time
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from elcaro.services.health import platform_registry

LATENCY_BUCKETS = (0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class HttpMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "elcaro_http_requests", "HTTP requests answered", ("method", "route", "status"), registry=self.registry
        )
        self.latency = Histogram(
            "elcaro_http_request_seconds",
            "Time to answer an HTTP request",
            ("method", "route"),
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.in_flight = Gauge("elcaro_http_in_flight", "HTTP requests being answered", registry=self.registry)
        self.websockets = Gauge("elcaro_websockets", "Open websocket connections", registry=self.registry)

    def page(self) -> bytes:
        return generate_latest(self.registry) + generate_latest(platform_registry())


class MetricsMiddleware:
    """Pure ASGI (no per-request objects beyond what it counts), so it adds microseconds, not milliseconds."""

    def __init__(self, app: ASGIApp, metrics: HttpMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = [500]

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        started = time.perf_counter()
        self.metrics.in_flight.inc()
        try:
            await self.app(scope, receive, sending)
        finally:
            self.metrics.in_flight.dec()
            route = _template(scope)
            method = scope.get("method", "")
            self.metrics.latency.labels(method, route).observe(time.perf_counter() - started)
            self.metrics.requests.labels(method, route, str(status[0])).inc()


def _template(scope: Scope) -> str:
    route: Any = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else "unmatched"
