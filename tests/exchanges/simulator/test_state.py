"""Saving and restoring the venue: snapshots through the running simulator, the admin API and the snapshot file."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from pathlib import Path
from typing import Any

import aiohttp
import ccxt.async_support as ccxt
import pytest

from elcaro.exchanges.simulator import AccountConfig, RunningSimulator, SimulatorConfig, run_simulator, start_simulator
from elcaro.exchanges.simulator.venue import Venue
from elcaro.models.errors import ValidationError
from simulator.conftest import BTC
from simulator.helpers import Admin, bybit_client, held


async def _trade(exchange: Any, admin: Admin) -> None:
    """A closed trade, an open position with a TP, a named resting order and an unnamed one."""
    await exchange.create_order(BTC, "market", "buy", 0.01)
    await admin.mark("BTCUSDT", "61000")
    await exchange.create_order(BTC, "market", "sell", 0.01, params={"reduceOnly": True})
    await exchange.create_order(BTC, "market", "buy", 0.02, params={"takeProfit": {"triggerPrice": 65_000}})
    await exchange.create_order(BTC, "limit", "buy", 0.01, 50_000, params={"clientOrderId": "named"})
    await exchange.create_order(BTC, "limit", "buy", 0.01, 49_000)


async def _state(exchange: Any) -> tuple[Any, ...]:
    orders = await exchange.fetch_open_orders(BTC)
    (position,) = await held(exchange)
    (closed,) = await exchange.fetch_positions_history([BTC])
    return (
        sorted((order["id"], order["clientOrderId"], order["price"]) for order in orders),
        (position["contracts"], position["entryPrice"], position["takeProfitPrice"]),
        closed["info"],
        (await exchange.fetch_balance())["USDT"]["total"],
    )


async def test_a_restored_simulator_carries_on_where_the_snapshot_was_taken(
    exchange: Any, admin: Admin, simulator: RunningSimulator, config: SimulatorConfig, account: AccountConfig
) -> None:
    await _trade(exchange, admin)
    before = await _state(exchange)
    snapshot = json.loads(json.dumps(simulator.snapshot()))  # it is plain JSON

    async with await start_simulator(config) as restarted:
        restarted.restore(snapshot)
        client = bybit_client(restarted, account.api_key, account.api_secret.get_secret_value())
        try:
            assert await _state(client) == before
            await client.create_order(BTC, "limit", "buy", 0.01, 48_000)  # unnamed again: a fresh engine id
            assert len(await client.fetch_open_orders(BTC)) == 3
            async with Admin(restarted) as restarted_admin:
                await restarted_admin.mark("BTCUSDT", "65000")
            assert await held(client) == []  # the restored TP still fires
        finally:
            await client.close()


async def test_the_admin_api_saves_and_restores(exchange: Any, admin: Admin) -> None:
    await exchange.create_order(BTC, "limit", "buy", 0.01, 50_000, params={"clientOrderId": "kept"})
    snapshot = await admin.call("GET", "snapshot")
    await exchange.cancel_all_orders(BTC)
    await exchange.create_order(BTC, "market", "buy", 0.01)

    assert await admin.call("PUT", "snapshot", snapshot) == {"accounts": 1}

    (order,) = await exchange.fetch_open_orders(BTC)
    assert order["clientOrderId"] == "kept"
    assert await held(exchange) == []


async def test_the_snapshot_file_keeps_accounts_across_restarts(tmp_path: Path, account: AccountConfig) -> None:
    config = SimulatorConfig(accounts=(account,), snapshot_file=tmp_path / "state" / "simulator.json")
    key, secret = account.api_key, account.api_secret.get_secret_value()

    async with await start_simulator(config) as first:
        client = bybit_client(first, key, secret)
        await client.create_order(BTC, "market", "buy", 0.01, params={"clientOrderId": "survives"})
        await client.close()
    assert json.loads(config.snapshot_file.read_text())["format"] == 1  # type: ignore[union-attr]

    async with await start_simulator(config) as second:
        client = bybit_client(second, key, secret)
        try:
            (position,) = await held(client)
            assert position["contracts"] == 0.01
            order = await client.fetch_order(None, BTC, params={"acknowledged": True, "orderLinkId": "survives"})
            assert order["status"] == "closed"
        finally:
            await client.close()


async def test_unnamed_orders_get_fresh_ids_after_a_restore_even_when_some_were_refused(
    exchange: Any, simulator: RunningSimulator
) -> None:
    await exchange.create_order(BTC, "limit", "buy", 0.01, 50_000)
    for _ in range(3):  # the engine refused each, after an id of the unnamed kind was spent on it
        with pytest.raises(ccxt.InsufficientFunds):
            await exchange.create_order(BTC, "limit", "buy", 2, 50_000)
    await exchange.create_order(BTC, "limit", "buy", 0.01, 49_000)

    simulator.restore(simulator.snapshot())
    for price in (48_000, 47_000, 46_000):
        await exchange.create_order(BTC, "limit", "buy", 0.01, price)

    assert len(await exchange.fetch_open_orders(BTC)) == 5


def test_an_unknown_snapshot_format_is_refused(config: SimulatorConfig) -> None:
    with pytest.raises(ValidationError, match="snapshot format"):
        Venue.restore(config, {"format": 99})


async def test_a_snapshot_with_orders_on_an_instrument_no_longer_listed_is_refused(
    exchange: Any, simulator: RunningSimulator, account: AccountConfig
) -> None:
    await exchange.create_order("ETH/USDT:USDT", "market", "buy", 0.1)
    without_eth = SimulatorConfig(
        accounts=(account,), instruments=tuple(i for i in simulator.config.instruments if i.base != "ETH")
    )

    with pytest.raises(ValidationError, match="orders on ETH/USDT:USDT, which the config no longer lists"):
        Venue.restore(without_eth, simulator.snapshot())


async def test_run_simulator_serves_until_cancelled_then_saves(tmp_path: Path, account: AccountConfig) -> None:
    with socket.socket() as probe:  # a port that was free a moment ago
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = SimulatorConfig(accounts=(account,), port=port, snapshot_file=tmp_path / "simulator.json")
    serving = asyncio.create_task(run_simulator(config))
    async with aiohttp.ClientSession() as session:
        for _ in range(100):
            with contextlib.suppress(aiohttp.ClientConnectionError):
                async with session.get(f"http://127.0.0.1:{port}/v5/market/time") as response:
                    assert (await response.json())["retCode"] == 0
                    break
            await asyncio.sleep(0.02)
        else:
            pytest.fail("the simulator never answered")

    serving.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await serving

    assert json.loads(config.snapshot_file.read_text())["format"] == 1  # type: ignore[union-attr]
