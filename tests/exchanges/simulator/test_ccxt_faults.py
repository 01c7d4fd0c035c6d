"""Idempotency, rate limits and injected faults, as ccxt's Bybit client meets them.

Faults are switched on through the admin API for the requests that need them and off again, so every test shows
the state the venue is left in.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import ccxt.async_support as ccxt
import pytest

from elcaro.exchanges.simulator import (
    AccountConfig,
    RateLimitConfig,
    RateRule,
    RunningSimulator,
    SimulatorConfig,
    start_simulator,
)
from simulator.conftest import BTC
from simulator.helpers import Admin, bybit_client, held

CREATE = "/v5/order/create"


async def test_a_reused_order_link_id_is_refused_and_never_placed_twice(exchange: Any) -> None:
    await exchange.create_order(BTC, "limit", "buy", 0.01, 55_000, params={"clientOrderId": "once"})

    with pytest.raises(ccxt.InvalidOrder, match="110072"):
        await exchange.create_order(BTC, "limit", "buy", 0.01, 55_000, params={"clientOrderId": "once"})
    with pytest.raises(ccxt.InvalidOrder, match="110072"):
        await exchange.create_order(BTC, "market", "buy", 0.01, params={"clientOrderId": "once"})

    (order,) = await exchange.fetch_open_orders(BTC)
    assert order["clientOrderId"] == "once"
    assert await held(exchange) == []


async def test_a_finished_order_still_owns_its_link_id(exchange: Any) -> None:
    await exchange.create_order(BTC, "market", "buy", 0.01, params={"clientOrderId": "filled-once"})

    with pytest.raises(ccxt.InvalidOrder, match="110072"):
        await exchange.create_order(BTC, "market", "buy", 0.01, params={"clientOrderId": "filled-once"})

    (position,) = await held(exchange)
    assert position["contracts"] == 0.01


@pytest.fixture
def config(account: AccountConfig) -> SimulatorConfig:
    """Orders limited to 3 a second per key, everything from one address to 40 per 5 seconds."""
    limits = RateLimitConfig(
        per_key=(RateRule(paths=(CREATE, "/v5/order/amend"), requests=3), RateRule(paths=("/v5/*",), requests=100)),
        per_ip=RateRule(paths=("*",), requests=40, per_seconds=5),
    )
    return SimulatorConfig(accounts=(account,), rate_limits=limits)


async def test_the_per_key_limit_answers_10006_with_bybits_headers(exchange: Any) -> None:
    await exchange.load_markets()
    exchange.enableLastResponseHeaders = True
    for n in range(3):
        await exchange.create_order(BTC, "limit", "buy", 0.01, 50_000 + n)
        assert exchange.last_response_headers["X-Bapi-Limit"] == "3"
        assert exchange.last_response_headers["X-Bapi-Limit-Status"] == str(2 - n)

    before = int(time.time() * 1000)
    with pytest.raises(ccxt.RateLimitExceeded, match="10006"):
        await exchange.create_order(BTC, "limit", "buy", 0.01, 49_000)

    headers = exchange.last_response_headers
    assert (headers["X-Bapi-Limit"], headers["X-Bapi-Limit-Status"]) == ("3", "0")
    assert before < int(headers["X-Bapi-Limit-Reset-Timestamp"]) <= before + 1000
    assert len(await exchange.fetch_open_orders(BTC)) == 3  # other endpoints have buckets of their own


async def test_the_per_address_limit_is_http_403(exchange: Any) -> None:
    """Bybit bans an address with HTTP 403 "access too frequent", which ccxt's Bybit files under RateLimitExceeded."""
    await exchange.load_markets()  # 2 requests
    for _ in range(38):
        await exchange.fetch_ticker(BTC)

    with pytest.raises(ccxt.RateLimitExceeded, match="403"):
        await exchange.fetch_ticker(BTC)


@pytest.fixture
async def timing_out(account: AccountConfig, simulator: RunningSimulator) -> AsyncIterator[Any]:
    """A client that gives up after 300 ms, against a venue that holds timed-out requests for 2 s."""
    client = bybit_client(simulator, account.api_key, account.api_secret.get_secret_value(), timeout=300)
    yield client
    await client.close()


def _fault(**rule: Any) -> dict[str, Any]:
    return {"path": CREATE} | rule


async def test_injected_5xx_is_exchange_not_available_and_nothing_is_placed(exchange: Any, admin: Admin) -> None:
    await exchange.load_markets()
    await admin.faults(_fault(http_5xx_rate=1.0, http_status=503))

    with pytest.raises(ccxt.ExchangeNotAvailable, match="503"):
        await exchange.create_order(BTC, "market", "buy", 0.01)

    await admin.faults()
    assert await held(exchange) == []


async def test_injected_error_codes_are_bybits(exchange: Any, admin: Admin) -> None:
    await exchange.load_markets()
    await admin.faults(_fault(errors={"10016": 1.0}))

    with pytest.raises(ccxt.ExchangeError, match="10016"):
        await exchange.create_order(BTC, "market", "buy", 0.01)


async def test_a_timeout_after_the_order_was_applied_leaves_exactly_one_order(timing_out: Any, admin: Admin) -> None:
    await timing_out.load_markets()
    await admin.faults(_fault(timeout_rate=1.0, timeout_apply="before", hold_ms=2000))

    with pytest.raises(ccxt.RequestTimeout):
        await timing_out.create_order(BTC, "limit", "buy", 0.01, 55_000, params={"clientOrderId": "lost-answer"})

    await admin.faults()
    with pytest.raises(ccxt.InvalidOrder, match="110072"):  # the retry is recognised, not placed again
        await timing_out.create_order(BTC, "limit", "buy", 0.01, 55_000, params={"clientOrderId": "lost-answer"})
    (order,) = await timing_out.fetch_open_orders(BTC)
    assert order["clientOrderId"] == "lost-answer"


async def test_a_timeout_before_the_order_was_applied_leaves_none(timing_out: Any, admin: Admin) -> None:
    await timing_out.load_markets()
    await admin.faults(_fault(timeout_rate=1.0, timeout_apply="never", hold_ms=2000))

    with pytest.raises(ccxt.RequestTimeout):
        await timing_out.create_order(BTC, "limit", "buy", 0.01, 55_000, params={"clientOrderId": "never-arrived"})

    await admin.faults()
    await timing_out.create_order(BTC, "limit", "buy", 0.01, 55_000, params={"clientOrderId": "never-arrived"})
    (order,) = await timing_out.fetch_open_orders(BTC)
    assert order["clientOrderId"] == "never-arrived"


async def test_an_order_applied_after_the_client_gave_up_appears_late(
    timing_out: Any, admin: Admin, simulator: RunningSimulator, account: AccountConfig
) -> None:
    await timing_out.load_markets()
    await admin.faults(_fault(timeout_rate=1.0, timeout_apply="after", hold_ms=500))

    with pytest.raises(ccxt.RequestTimeout):
        await timing_out.create_order(BTC, "limit", "buy", 0.01, 55_000, params={"clientOrderId": "late"})
    assert simulator.engine.find_order(account.account_id, "late") is None

    await asyncio.sleep(0.4)
    assert simulator.engine.find_order(account.account_id, "late") is not None


@pytest.mark.parametrize(("apply", "placed"), [("never", 0), ("before", 1)])
async def test_a_dropped_connection_is_a_network_error(exchange: Any, admin: Admin, apply: str, placed: int) -> None:
    await exchange.load_markets()
    await admin.faults(_fault(drop_rate=1.0, drop_apply=apply))

    with pytest.raises(ccxt.NetworkError):
        await exchange.create_order(BTC, "limit", "buy", 0.01, 55_000)

    await admin.faults()
    assert len(await exchange.fetch_open_orders(BTC)) == placed


async def test_an_order_applied_after_its_connection_dropped_lands_late_and_a_retry_is_recognised(
    exchange: Any, admin: Admin
) -> None:
    await exchange.load_markets()
    await admin.faults(_fault(drop_rate=1.0, drop_apply="after", hold_ms=300))
    order = {"clientOrderId": "in-flight"}

    with pytest.raises(ccxt.NetworkError):
        await exchange.create_order(BTC, "limit", "buy", 0.01, 55_000, params=order)
    await admin.faults()
    assert await exchange.fetch_open_orders(BTC) == []  # not yet: a client that re-sends now must reuse the id

    await asyncio.sleep(0.4)
    with pytest.raises(ccxt.InvalidOrder, match="110072"):
        await exchange.create_order(BTC, "limit", "buy", 0.01, 55_000, params=order)
    assert [placed["clientOrderId"] for placed in await exchange.fetch_open_orders(BTC)] == ["in-flight"]


async def test_latency_delays_the_answer(exchange: Any, admin: Admin) -> None:
    await exchange.load_markets()
    await admin.faults({"path": "/v5/market/tickers", "latency": {"kind": "fixed", "ms": 150}})

    started = time.perf_counter()
    await exchange.fetch_ticker(BTC)

    assert time.perf_counter() - started >= 0.15


async def test_faults_are_the_same_for_the_same_seed(account: AccountConfig) -> None:
    rule = {"path": "/v5/market/tickers", "errors": {"10016": 0.5}}

    async def outcomes() -> list[bool]:
        running = await start_simulator(
            SimulatorConfig(accounts=(account,), rate_limits=RateLimitConfig(enabled=False))
        )
        client = bybit_client(running, account.api_key, account.api_secret.get_secret_value())
        try:
            async with Admin(running) as admin:
                await admin.faults(rule, seed=42)
            results = []
            for _ in range(12):
                try:
                    await client.publicGetV5MarketTickers({"category": "linear", "symbol": "BTCUSDT"})
                    results.append(True)
                except ccxt.ExchangeError:
                    results.append(False)
            return results
        finally:
            await client.close()
            await running.stop()

    first = await outcomes()
    assert first == await outcomes()
    assert True in first and False in first
