"""Bybit's websockets on the simulator: the protocol with a plain websocket, then ccxt.pro and the Bybit adapter."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from decimal import Decimal
from typing import Any, TypeVar

import aiohttp
import ccxt.pro
import pytest

from elcaro.exchanges.bybit.adapter import BybitAdapter
from elcaro.exchanges.bybit.exchange import create_exchange
from elcaro.exchanges.ccxt.urls import rebase_urls
from elcaro.exchanges.simulator import AccountConfig, RunningSimulator
from elcaro.models import Environment, Exchange, Order, OrderStatus, OrderType, PositionSide, Side, Target
from simulator.conftest import BTC
from simulator.helpers import Admin

T = TypeVar("T")


class Socket:
    """A plain websocket client speaking Bybit's protocol."""

    def __init__(self, socket: aiohttp.ClientWebSocketResponse) -> None:
        self._socket = socket

    async def send(self, op: str, *args: Any, req_id: str = "r1") -> dict[str, Any]:
        await self._socket.send_json({"op": op, "req_id": req_id, "args": list(args)})
        return await self.next()

    async def next(self) -> dict[str, Any]:
        message: dict[str, Any] = await asyncio.wait_for(self._socket.receive_json(), timeout=5)
        return message


@pytest.fixture
async def connect(simulator: RunningSimulator) -> AsyncIterator[Callable[[str], Awaitable[Socket]]]:
    async with aiohttp.ClientSession() as session:

        async def open_socket(path: str) -> Socket:
            return Socket(await session.ws_connect(simulator.url.replace("http", "ws") + path))

        yield open_socket


def _auth(account: AccountConfig, expires: int | None = None) -> list[Any]:
    expires = expires or int(time.time() * 1000) + 10_000
    secret = account.api_secret.get_secret_value().encode()
    return [account.api_key, expires, hmac.new(secret, f"GET/realtime{expires}".encode(), hashlib.sha256).hexdigest()]


async def test_private_topics_need_a_signed_auth(
    connect: Callable[[str], Awaitable[Socket]], account: AccountConfig
) -> None:
    socket = await connect("/v5/private")

    refused = await socket.send("subscribe", "order")
    assert (refused["success"], refused["ret_msg"], refused["req_id"]) == (False, "error:Request not authorized", "r1")
    stale = await socket.send("auth", *_auth(account, expires=int(time.time() * 1000) - 1))
    assert stale["success"] is False
    forged = await socket.send("auth", account.api_key, int(time.time() * 1000) + 10_000, "00" * 32)
    assert (forged["op"], forged["success"]) == ("auth", False)
    assert (await socket.send("auth", *_auth(account)))["success"] is True
    assert (await socket.send("subscribe", "order", "execution", "position"))["success"] is True
    assert (await socket.send("ping"))["ret_msg"] == "pong"


async def test_orders_executions_and_positions_are_pushed_as_they_happen(
    connect: Callable[[str], Awaitable[Socket]], account: AccountConfig, exchange: Any
) -> None:
    socket = await connect("/v5/private")
    await socket.send("auth", *_auth(account))
    await socket.send("subscribe", "order", "execution", "position")

    await exchange.create_order(BTC, "market", "buy", 0.01, params={"clientOrderId": "pushed"})

    messages = {(message := await socket.next())["topic"]: message for _ in range(3)}
    (order,) = messages["order"]["data"]
    assert (order["orderLinkId"], order["orderStatus"], order["category"]) == ("pushed", "Filled", "linear")
    (execution,) = messages["execution"]["data"]
    assert (execution["orderLinkId"], execution["execQty"], execution["execPrice"]) == ("pushed", "0.010", "60000.00")
    (position,) = messages["position"]["data"]
    assert (position["side"], position["size"], position["entryPrice"]) == ("Buy", "0.010", "60000")


async def test_public_topics_send_the_book_and_bar_at_once_then_every_change(
    connect: Callable[[str], Awaitable[Socket]], admin: Admin
) -> None:
    socket = await connect("/v5/public/linear")
    assert (await socket.send("subscribe", "nothing.BTCUSDT"))["success"] is False
    ack = await socket.send("subscribe", "orderbook.50.BTCUSDT", "kline.1.BTCUSDT", "publicTrade.BTCUSDT")
    assert ack["success"] is True
    greeting = {(message := await socket.next())["topic"]: message for _ in range(2)}
    assert greeting["orderbook.50.BTCUSDT"]["data"]["a"] == [["60000.00", "119"]]
    assert greeting["kline.1.BTCUSDT"]["data"][0]["close"] == "60000.00"

    await admin.mark("BTCUSDT", "60100")

    moved = {(message := await socket.next())["topic"]: message for _ in range(2)}
    assert moved["orderbook.50.BTCUSDT"]["data"]["b"] == [["60100.00", "119"]]
    assert moved["kline.1.BTCUSDT"]["data"][-1]["high"] == "60100.00"


async def _until(action: Callable[[], Awaitable[Any]], watcher: asyncio.Task[T]) -> T:
    """Repeat ``action`` until ``watcher`` has something: a stream only sees what happens after it subscribed."""
    for _ in range(50):
        await action()
        done, _ = await asyncio.wait({watcher}, timeout=0.1)
        if done:
            return watcher.result()
    raise AssertionError("the stream never delivered")


async def test_ccxt_pro_watches_the_book_candles_and_trades(
    simulator: RunningSimulator, account: AccountConfig, exchange: Any
) -> None:
    pro = ccxt.pro.bybit(
        {"options": {"defaultType": "swap", "fetchMarkets": {"types": ["linear"]}}, "enableRateLimit": False}
    )
    pro.has["fetchCurrencies"] = False
    pro.urls["api"] = rebase_urls(pro.urls["api"], simulator.url)
    pro.timeout_on_exit = 0
    try:
        book = await pro.watch_order_book(BTC)
        assert (book["bids"], book["asks"]) == ([[60_000, 119]], [[60_000, 119]])
        (bar,) = await pro.watch_ohlcv(BTC, "1m")
        assert bar[4] == 60_000
        trades = asyncio.create_task(pro.watch_trades(BTC))
        (trade, *_) = await _until(lambda: exchange.create_order(BTC, "market", "sell", 0.01), trades)
        assert (trade["side"], trade["price"], trade["amount"]) == ("sell", 60_000, 0.01)
    finally:
        await pro.close()


@pytest.fixture
async def adapter(simulator: RunningSimulator, account: AccountConfig) -> AsyncIterator[BybitAdapter]:
    secret = account.api_secret.get_secret_value()
    exchange = create_exchange(Environment.DEMO, api_key=account.api_key, secret=secret, base_url=simulator.url)
    exchange.timeout_on_exit = 0
    adapter = BybitAdapter(exchange, Target(Exchange.BYBIT, Environment.DEMO))
    yield adapter
    await adapter.close()


async def test_the_bybit_adapter_follows_its_orders_fills_and_positions(adapter: BybitAdapter) -> None:
    placed = 0

    async def buy() -> None:
        nonlocal placed
        placed += 1
        await adapter.place_order(Order(f"watched-{placed}", BTC, Side.BUY, OrderType.MARKET, Decimal("0.01")))

    orders, fills, positions = adapter.watch_orders(), adapter.watch_fills(), adapter.watch_positions()
    order = await _until(buy, asyncio.create_task(anext(orders)))
    fill = await _until(buy, asyncio.create_task(anext(fills)))
    position = await _until(buy, asyncio.create_task(anext(positions)))

    assert order.client_order_id.startswith("watched-") and order.status is OrderStatus.FILLED
    assert (fill.symbol, fill.qty, fill.price) == (BTC, Decimal("0.01"), Decimal(60_000))
    assert (position.side, position.entry_price) == (PositionSide.LONG, Decimal(60_000))
    assert Decimal("0.01") <= position.qty <= Decimal("0.01") * placed  # as it was when the stream caught it


async def test_a_restore_moves_the_streams_to_the_restored_venue(
    connect: Callable[[str], Awaitable[Socket]], account: AccountConfig, simulator: RunningSimulator, exchange: Any
) -> None:
    simulator.restore(simulator.snapshot())
    socket = await connect("/v5/private")
    await socket.send("auth", *_auth(account))
    await socket.send("subscribe", "order")

    await exchange.create_order(BTC, "limit", "buy", 0.01, 50_000, params={"clientOrderId": "after-restore"})

    (order,) = (await socket.next())["data"]
    assert order["orderLinkId"] == "after-restore"
