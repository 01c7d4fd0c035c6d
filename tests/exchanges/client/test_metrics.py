"""What the client counts, where, and that no label names a user or a key."""

from __future__ import annotations

import prometheus_client
import pytest
from prometheus_client import CollectorRegistry

from client.fakes import BTC, Fail, LoseAnswer, ScriptedAdapter, limit_order
from client.virtual_time import VirtualClock
from elcaro.exchanges.client import PLATFORM_REGISTRY, ExchangeClient, ExchangeClientPool, Timing, metrics_for
from elcaro.models import ExchangeKeys, Secret, Target
from elcaro.models.errors import ExchangeUnavailableError, RateLimitedError

VENUE = {"exchange": "bybit", "environment": "demo"}


def value(registry: CollectorRegistry, name: str, **labels: str) -> float:
    return registry.get_sample_value(name, {**VENUE, **labels}) or 0.0


async def test_requests_errors_and_retries_are_counted(
    registry: CollectorRegistry, client: ExchangeClient, adapter: ScriptedAdapter
) -> None:
    adapter.then("fetch_positions", Fail(ExchangeUnavailableError("bad gateway", code=502)))
    await client.fetch_positions()
    assert value(registry, "elcaro_exchange_request_seconds_count", method="fetch_positions") == 2
    assert (
        value(
            registry,
            "elcaro_exchange_errors_total",
            method="fetch_positions",
            error="ExchangeUnavailableError",
            code="502",
        )
        == 1
    )
    assert (
        value(registry, "elcaro_exchange_retries_total", method="fetch_positions", reason="ExchangeUnavailableError")
        == 1
    )


async def test_a_timeout_counts_as_a_network_error_with_no_code(
    registry: CollectorRegistry, client: ExchangeClient, adapter: ScriptedAdapter
) -> None:
    adapter.then("place_order", LoseAnswer())
    await client.place_order(limit_order())
    assert value(registry, "elcaro_exchange_errors_total", method="place_order", error="NetworkError", code="") == 1
    assert value(registry, "elcaro_exchange_recovered_writes_total", method="place_order") == 1


async def test_rate_limit_waits_are_counted_with_their_seconds(
    clock: VirtualClock, registry: CollectorRegistry, client: ExchangeClient, adapter: ScriptedAdapter
) -> None:
    adapter.then("fetch_open_orders", Fail(RateLimitedError("too many visits", retry_after=2, code=10006)))
    await client.fetch_open_orders(BTC)
    assert value(registry, "elcaro_exchange_rate_limit_wait_seconds_count", bucket="query") == 1
    assert value(registry, "elcaro_exchange_rate_limit_wait_seconds_sum", bucket="query") == pytest.approx(1 / 40)


async def test_cache_hits_and_misses_are_counted(registry: CollectorRegistry, client: ExchangeClient) -> None:
    for _ in range(3):
        await client.fetch_ticker(BTC)
    assert value(registry, "elcaro_exchange_cache_lookups_total", cache="ticker", result="miss") == 1
    assert value(registry, "elcaro_exchange_cache_lookups_total", cache="ticker", result="hit") == 2


async def test_no_label_carries_a_user_or_a_key(
    clock: VirtualClock, registry: CollectorRegistry, timing: Timing
) -> None:
    user_id, api_key = 987654321, "very-secret-api-key-987"

    async def keys(user: int, target: Target) -> ExchangeKeys:
        return ExchangeKeys(api_key=Secret(api_key))

    async with ExchangeClientPool(
        lambda _user, target, _keys: ScriptedAdapter(target=target), keys, registry=registry, timing=timing
    ) as pool:
        client = await pool.get(user_id, Target.parse("bybit:demo"))
        await client.fetch_balance()
        await client.place_order(limit_order())
    labels = [label for metric in registry.collect() for sample in metric.samples for label in sample.labels.values()]
    assert labels
    assert not [label for label in labels if str(user_id) in label or api_key in label]


def test_metrics_live_in_the_platform_registry_not_the_global_one() -> None:
    assert metrics_for() is metrics_for(PLATFORM_REGISTRY)
    assert PLATFORM_REGISTRY is not prometheus_client.REGISTRY
    names = {metric.name for metric in PLATFORM_REGISTRY.collect()}
    assert "elcaro_exchange_request_seconds" in names
    assert "elcaro_exchange_request_seconds" not in {metric.name for metric in prometheus_client.REGISTRY.collect()}
