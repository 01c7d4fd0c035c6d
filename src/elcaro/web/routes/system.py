"""``/health`` and ``/metrics``: for a load balancer, a monitor and Prometheus. No login (they say nothing
about any user); put them behind the proxy's own access rules if the port is reachable from outside."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST

from elcaro.services.health import check_health
from elcaro.web.context import Svc
from elcaro.web.schemas.common import Model

router = APIRouter(tags=["system"])


class DatabaseOut(Model):
    ok: bool
    dialect: str
    latency_ms: float | None
    error: str | None


class HealthOut(Model):
    ok: bool
    database: DatabaseOut
    exchange_errors: dict[str, int]
    simulator_url: str
    managed_positions: int
    queues: dict[str, int]


def queue_sizes(svc: Any) -> dict[str, int]:
    backtests = svc.backtests.queue_sizes()
    return {
        "websocket_connections": svc.feed.connections(),
        "backtests_queued": backtests.get("queued", 0),
        "backtests_running": backtests.get("running", 0),
    }


@router.get("/health", response_model=HealthOut, responses={503: {"model": HealthOut}})
async def health(svc: Svc) -> Any:
    """200 while the database answers, 503 when it does not; exchange errors and queue sizes either way."""
    report = await check_health(svc.runtime, queues=queue_sizes(svc))
    body = HealthOut(
        ok=report.ok,
        database=DatabaseOut(
            ok=report.database.ok,
            dialect=report.database.dialect,
            latency_ms=report.database.latency_ms,
            error=report.database.error,
        ),
        exchange_errors=dict(report.exchange_errors),
        simulator_url=report.simulator_url,
        managed_positions=report.managed_positions,
        queues=dict(report.queues),
    )
    return JSONResponse(body.model_dump(mode="json"), status_code=200 if report.ok else 503)


@router.get("/metrics", response_class=Response)
async def metrics(svc: Svc) -> Response:
    """Prometheus text: HTTP requests and latency per route, and the platform's exchange client metrics."""
    return Response(svc.metrics.page(), media_type=CONTENT_TYPE_LATEST)
