"""The client's own surface: the adapter vocabulary, instruments, conforming orders, streams, closing."""

from __future__ import annotations

import asyncio
from decimal import Decimal as D

import pytest

from client.fakes import BTC, BYBIT_DEMO, ScriptedAdapter, Slow, limit_order
from client.virtual_time import VirtualClock
from elcaro.exchanges.client import ExchangeClient
from elcaro.exchanges.protocol import ExchangeAdapter
from elcaro.models import Order, OrderType, Side
from elcaro.models.errors import (
    AuthenticationError,
    ExchangeError,
    ExchangeUnavailableError,
    NetworkError,
    ValidationError,
)


async def test_the_client_speaks_the_adapter_protocol(client: ExchangeClient) -> None:
    as_adapter: ExchangeAdapter = client  # checked by mypy too: the same vocabulary as every adapter
    assert isinstance(as_adapter, ExchangeAdapter)
    assert client.target == BYBIT_DEMO


async def test_every_call_reaches_the_adapter(client: ExchangeClient, adapter: ScriptedAdapter) -> None:
    await client.fetch_order_book(BTC)
    await client.fetch_ohlcv(BTC, "1m")
    await client.fetch_funding_rate(BTC)
    await client.fetch_open_interest(BTC)
    await client.fetch_fills(BTC)
    await client.fetch_closed_pnl()
    await client.set_margin_mode(BTC, "isolated")  # type: ignore[arg-type]
    await client.set_position_protection(BTC, stop_loss=D(45000))
    placed = await client.place_order(limit_order())
    assert await client.fetch_order(BTC, placed.client_order_id) == placed
    assert adapter.calls == [
        "fetch_order_book",
        "fetch_ohlcv",
        "fetch_funding_rate",
        "fetch_open_interest",
        "fetch_fills",
        "fetch_closed_pnl",
        "set_margin_mode",
        "set_position_protection",
        "place_order",
        "fetch_order",
    ]


async def test_conform_rounds_quantity_down_and_prices_to_the_tick(client: ExchangeClient) -> None:
    order = Order("0xabc", BTC, Side.BUY, OrderType.LIMIT, D("0.0129"), D("50000.06"), stop_loss=D("48000.04"))
    conformed = await client.conform(order)
    assert (conformed.qty, conformed.price, conformed.stop_loss) == (D("0.012"), D("50000.1"), D("48000.0"))


async def test_conform_values_a_market_order_at_the_last_price(
    client: ExchangeClient, adapter: ScriptedAdapter
) -> None:
    tiny = Order("0xabc", BTC, Side.BUY, OrderType.MARKET, D("0.0001"))
    with pytest.raises(ValidationError, match="below the minimum"):
        await client.conform(tiny)
    small = Order("0xabc", BTC, Side.BUY, OrderType.MARKET, D("0.001"))
    adapter.venue.price = D(1000)  # 0.001 × 1000 = 1 USDT, under the 5 USDT minimum
    with pytest.raises(ValidationError, match="order value"):
        await client.conform(small)
    assert await client.conform(small, reference_price=D(50000)) == small


async def test_streams_pass_through(client: ExchangeClient, adapter: ScriptedAdapter) -> None:
    placed = await client.place_order(limit_order())
    stream = client.watch_orders()
    adapter.events["orders"].put_nowait(placed)
    assert await anext(stream) == placed
    assert client.idle_seconds() is None  # a stream under way keeps the client busy
    await stream.aclose()  # type: ignore[attr-defined]
    assert client.idle_seconds() == 0


async def test_streams_subscribe_again_after_a_dropped_connection(
    client: ExchangeClient, adapter: ScriptedAdapter, clock: VirtualClock
) -> None:
    trades = adapter.events["trades"]
    first, second = object(), object()
    for event in (first, NetworkError("connection closed"), ExchangeUnavailableError("502"), second):
        trades.put_nowait(event)
    stream = client.watch_trades(BTC)
    assert await anext(stream) is first
    started = clock.time()
    assert await anext(stream) is second  # two failures, two waits, three subscriptions
    assert adapter.stream_opens["trades"] == 3
    assert clock.time() > started
    trades.put_nowait(AuthenticationError("key revoked"))
    with pytest.raises(AuthenticationError):  # not transient: the stream ends with it
        await anext(stream)
    assert client.idle_seconds() is not None


async def test_a_closed_client_closes_its_adapter_and_refuses_calls(
    client: ExchangeClient, adapter: ScriptedAdapter
) -> None:
    await client.close()
    await client.close()
    assert adapter.closed and adapter.listener is None
    with pytest.raises(ExchangeError, match="closed"):
        await client.fetch_ticker(BTC)
    with pytest.raises(ExchangeError, match="closed"):
        await anext(client.watch_trades(BTC))


async def test_cancelling_a_call_leaves_the_client_consistent(client: ExchangeClient, adapter: ScriptedAdapter) -> None:
    adapter.then("fetch_positions", Slow(1))
    call = asyncio.ensure_future(client.fetch_positions())
    await asyncio.sleep(0.5)
    assert client.idle_seconds() is None
    call.cancel()
    with pytest.raises(asyncio.CancelledError):
        await call
    assert client.idle_seconds() is not None
    assert await client.fetch_positions() == []
