"""Is the running platform well: the database answers, the venues answer, nothing piles up.

For ``/health`` (a load balancer or a person asks) and ``/metrics`` (Prometheus scrapes the platform's
own registry, where the exchange client counts requests, errors and latency per venue).
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry

from elcaro.exchanges.client.metrics import PLATFORM_REGISTRY
from elcaro.services.runtime import Runtime

DATABASE_TIMEOUT_S = 5.0


@dataclass(frozen=True, slots=True)
class DatabaseHealth:
    ok: bool
    dialect: str
    latency_ms: float | None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class HealthReport:
    ok: bool
    """The database answers: the one thing without which nothing works."""
    database: DatabaseHealth
    exchange_errors: Mapping[str, int]
    """Failed exchange requests since start, by ``exchange:environment``."""
    simulator_url: str
    managed_positions: int
    queues: Mapping[str, int] = field(default_factory=dict)


def platform_registry() -> CollectorRegistry:
    """The platform's own Prometheus registry (exchange client metrics); never carries user ids."""
    return PLATFORM_REGISTRY


async def check_health(runtime: Runtime, *, queues: Mapping[str, int] | None = None) -> HealthReport:
    database = await _database(runtime)
    return HealthReport(
        ok=database.ok,
        database=database,
        exchange_errors=exchange_errors(),
        simulator_url=runtime.exchange.simulator.url,
        managed_positions=len(runtime.positions.position_ids),
        queues=dict(queues or {}),
    )


async def _database(runtime: Runtime) -> DatabaseHealth:
    db = runtime.platform.database
    started = time.perf_counter()
    try:
        await asyncio.wait_for(db.ping(), DATABASE_TIMEOUT_S)
    except TimeoutError:
        return DatabaseHealth(False, str(db.dialect), None, f"no answer within {DATABASE_TIMEOUT_S:.0f} s")
    except Exception as error:  # any failure to reach it is the answer, not a crash of the health check
        return DatabaseHealth(False, str(db.dialect), None, type(error).__name__)
    return DatabaseHealth(True, str(db.dialect), round((time.perf_counter() - started) * 1000, 3))


def exchange_errors() -> dict[str, int]:
    """Failed requests per venue from the exchange client's counters (since the process started)."""
    totals: Counter[str] = Counter()
    for metric in PLATFORM_REGISTRY.collect():
        if metric.name != "elcaro_exchange_errors":
            continue
        for sample in metric.samples:
            if sample.name.endswith("_total"):
                totals[f"{sample.labels.get('exchange')}:{sample.labels.get('environment')}"] += int(sample.value)
    return dict(totals)
