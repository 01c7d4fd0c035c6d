"""The issue's fault test, end to end: unified client → our Bybit adapter (real ccxt) → HTTP → simulator.

The simulator drops, delays, refuses and rate-limits order requests at random (seeded); some lost
requests were carried out before the connection died, some only after the client gave up. Every one
of 1,000 placements must end as exactly one order on the venue: none lost, none doubled.
"""

from __future__ import annotations

import asyncio
import secrets
from collections import Counter
from decimal import Decimal

import ccxt.async_support as ccxt_async  # type: ignore[import-untyped]
import pytest
from prometheus_client import CollectorRegistry
from pydantic import SecretStr

from elcaro.exchanges.client import ClientSettings, ExchangeClient, RetryPolicy, metrics_for
from elcaro.exchanges.client.limits import Category, Rate, VenueLimits
from elcaro.exchanges.client.ratelimit import RateLimiter
from elcaro.exchanges.factory import create_adapter
from elcaro.exchanges.simulator import (
    AccountConfig,
    Apply,
    FaultConfig,
    FaultRule,
    RateLimitConfig,
    SimulatorConfig,
    start_simulator,
)
from elcaro.models import Exchange, ExchangeKeys, Order, OrderType, Secret, Side, Target, make_client_order_id

ORDERS = 1_000
BTC = "BTC/USDT:USDT"
DEMO = Target.parse("bybit:demo")

FAULTS = FaultConfig(
    seed=20261121,
    rules=(
        FaultRule(
            path="/v5/order/create",
            errors={10006: 0.05, 10016: 0.02},  # rate limited; Bybit's "service error"
            http_5xx_rate=0.05,
            timeout_rate=0.05,
            timeout_apply=Apply.BEFORE,  # placed, but the answer never comes
            drop_rate=0.05,
            drop_apply=Apply.AFTER,  # the connection dies, the order lands later
            hold_ms=400,
        ),
        FaultRule(path="/v5/order/realtime", http_5xx_rate=0.05, drop_rate=0.03),  # look-ups fail too
    ),
)


@pytest.fixture(autouse=True)
def _no_wait_on_close(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ccxt_async.Exchange, "timeout_on_exit", 0)


@pytest.mark.slow
async def test_a_thousand_orders_through_faults_end_as_exactly_one_order_each() -> None:
    api_key, api_secret = secrets.token_hex(9), secrets.token_hex(18)
    account = AccountConfig(api_key=api_key, api_secret=SecretStr(api_secret), balance=Decimal(1_000_000))
    config = SimulatorConfig(accounts=(account,), rate_limits=RateLimitConfig(enabled=False), faults=FAULTS)
    simulator = await start_simulator(config)
    adapter = create_adapter(DEMO, ExchangeKeys(Secret(api_key), Secret(api_secret)), base_url=simulator.url)
    # The venue's real 10 orders/s would make this a 100-second test; the pacing itself is tested elsewhere.
    fast = VenueLimits(account={Category.ORDER: (Rate(10_000, 1, 5_000),)}, ip=(Rate(100_000, 1, 50_000),))
    limiter = RateLimiter({Exchange.BYBIT: fast}).for_account(DEMO, "e2e")
    retry = RetryPolicy(attempts=10, backoff_initial=0.05, backoff_max=0.5, deadline=60, request_timeout=0.25)
    registry = CollectorRegistry()
    client = ExchangeClient(
        adapter, limiter=limiter, settings=ClientSettings(retry=retry), metrics=metrics_for(registry)
    )
    gate = asyncio.Semaphore(200)

    async def place(index: int) -> Order:
        order = Order(
            make_client_order_id("e2e", index), BTC, Side.BUY, OrderType.LIMIT, Decimal("0.001"), price=Decimal("30000")
        )
        async with gate:
            return await client.place_order(order)

    try:
        placed = await asyncio.gather(*(place(i) for i in range(ORDERS)))
        await asyncio.sleep(0.6)  # let every request the venue carries out late land (hold_ms)
        on_venue = Counter(order.client_order_id for order in simulator.engine.orders(account.account_id))
    finally:
        await client.close()
        await simulator.stop()

    wanted = {make_client_order_id("e2e", i) for i in range(ORDERS)}
    assert {order.client_order_id for order in placed} == wanted  # every caller got its own order back
    assert set(on_venue) == wanted  # none lost
    assert max(on_venue.values()) == 1  # none doubled
    # And the faults really happened: retries for each kind, and lost answers recovered by a look-up.
    retries = {
        sample.labels["reason"]: sample.value
        for metric in registry.collect()
        if metric.name == "elcaro_exchange_retries"
        for sample in metric.samples
        if sample.name.endswith("_total") and sample.labels["method"] == "place_order"
    }
    recovered = registry.get_sample_value(
        "elcaro_exchange_recovered_writes_total", {"exchange": "bybit", "environment": "demo", "method": "place_order"}
    )
    assert len(retries) >= 3 and min(retries.values()) > 0, retries
    assert recovered is not None and recovered > 0
