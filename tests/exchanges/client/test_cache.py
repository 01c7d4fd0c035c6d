"""What is cached, for how long, what forgets it, and how concurrent reads share one request."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from decimal import Decimal as D

import pytest

from client.fakes import BTC, ETH, ScriptedAdapter, Slow, limit_order
from client.virtual_time import VirtualClock
from elcaro.exchanges.client import ExchangeClient
from elcaro.models.errors import NotFoundError


async def test_instruments_are_kept_for_an_hour_then_reloaded_from_the_venue(
    clock: VirtualClock, client: ExchangeClient, adapter: ScriptedAdapter
) -> None:
    assert (await client.instrument(BTC)).symbol == BTC
    await clock_advance(3599)
    await client.load_instruments()
    await clock_advance(1)
    await client.instrument(ETH)
    assert adapter.instrument_loads == [False, True]  # an expired copy is refreshed, not re-read from the adapter's


async def test_instruments_reload_on_demand(client: ExchangeClient, adapter: ScriptedAdapter) -> None:
    await client.load_instruments()
    await client.load_instruments(reload=True)
    assert adapter.instrument_loads == [False, True]


async def test_an_unknown_symbol_reloads_the_instruments_but_not_on_every_ask(
    clock: VirtualClock, client: ExchangeClient, adapter: ScriptedAdapter
) -> None:
    await client.load_instruments()
    await clock_advance(60)
    adapter.instruments["SOL/USDT:USDT"] = adapter.instruments[BTC]  # listed since the load
    assert await client.instrument("SOL/USDT:USDT") is not None
    with pytest.raises(NotFoundError, match="DOGE"):
        await client.instrument("DOGE/USDT:USDT")
    with pytest.raises(NotFoundError):
        await client.instrument("DOGE/USDT:USDT")
    assert adapter.count("load_instruments") == 2


async def test_a_ticker_is_kept_one_second(
    clock: VirtualClock, client: ExchangeClient, adapter: ScriptedAdapter
) -> None:
    first = await client.fetch_ticker(BTC)
    await clock_advance(0.9)
    adapter.venue.price = D(51000)
    assert await client.fetch_ticker(BTC) == first
    await clock_advance(0.1)
    assert (await client.fetch_ticker(BTC)).last == D(51000)
    assert adapter.count("fetch_ticker") == 2


async def test_all_tickers_at_once_also_answer_single_tickers(client: ExchangeClient, adapter: ScriptedAdapter) -> None:
    everything = await client.fetch_tickers()
    everything.clear()  # the caller's copy: the cache is not touched
    assert set(await client.fetch_tickers()) == {BTC, ETH}
    await client.fetch_ticker(ETH)
    assert adapter.calls == ["fetch_tickers"]


async def test_a_balance_is_kept_a_few_seconds(
    clock: VirtualClock, client: ExchangeClient, adapter: ScriptedAdapter
) -> None:
    await client.fetch_balance()
    await clock_advance(2.9)
    await client.fetch_balance()
    await clock_advance(0.1)
    await client.fetch_balance()
    assert adapter.count("fetch_balance") == 2


@pytest.mark.parametrize(
    "action",
    ["place_order", "cancel_order", "amend_order", "cancel_all_orders", "set_leverage", "set_margin_mode"],
)
async def test_every_write_on_the_account_forgets_the_balance(
    client: ExchangeClient, adapter: ScriptedAdapter, action: str
) -> None:
    order = await client.place_order(limit_order())
    before = await client.fetch_balance()
    writes: dict[str, Callable[[], Awaitable[object]]] = {
        "place_order": lambda: client.place_order(limit_order(2)),
        "cancel_order": lambda: client.cancel_order(BTC, order.client_order_id),
        "amend_order": lambda: client.amend_order(BTC, order.client_order_id, price=D("49000.0")),
        "cancel_all_orders": client.cancel_all_orders,
        "set_leverage": lambda: client.set_leverage(BTC, D(5)),
        "set_margin_mode": lambda: client.set_margin_mode(BTC, "cross"),  # type: ignore[arg-type]
    }
    await writes[action]()
    after = await client.fetch_balance()
    assert adapter.count("fetch_balance") == 2
    if action == "place_order":
        assert after.wallet == before.wallet - 1


async def test_concurrent_identical_reads_share_one_request(client: ExchangeClient, adapter: ScriptedAdapter) -> None:
    adapter.then("fetch_ticker", Slow(0.5))
    tickers = await asyncio.gather(*(client.fetch_ticker(BTC) for _ in range(10)))
    assert adapter.count("fetch_ticker") == 1
    assert all(ticker is tickers[0] for ticker in tickers)


async def test_a_shared_read_survives_the_caller_that_started_it_leaving(
    client: ExchangeClient, adapter: ScriptedAdapter
) -> None:
    adapter.then("load_instruments", Slow(1))
    first = asyncio.create_task(client.instrument(BTC))
    await asyncio.sleep(0.1)
    second = asyncio.create_task(client.instrument(ETH))
    await asyncio.sleep(0.1)
    first.cancel()
    assert (await second).symbol == ETH
    assert adapter.count("load_instruments") == 1


async def test_a_balance_read_under_way_during_an_order_is_not_kept(
    client: ExchangeClient, adapter: ScriptedAdapter
) -> None:
    adapter.then("fetch_balance", Slow(1))
    stale = asyncio.create_task(client.fetch_balance())
    await asyncio.sleep(0.1)
    await client.place_order(limit_order())
    fresh = await client.fetch_balance()  # does not join the read that left before the order
    assert fresh.wallet == (await stale).wallet - 1
    assert adapter.count("fetch_balance") == 2


async def test_positions_and_orders_are_never_cached(client: ExchangeClient, adapter: ScriptedAdapter) -> None:
    for _ in range(2):
        await client.fetch_positions()
        await client.fetch_open_orders(BTC)
        await client.fetch_order_history()
    assert adapter.calls == ["fetch_positions", "fetch_open_orders", "fetch_order_history"] * 2


async def test_concurrent_position_reads_are_not_shared(client: ExchangeClient, adapter: ScriptedAdapter) -> None:
    adapter.then("fetch_positions", Slow(0.5))
    await asyncio.gather(client.fetch_positions(), client.fetch_positions())
    assert adapter.count("fetch_positions") == 2


async def clock_advance(seconds: float) -> None:
    await asyncio.sleep(seconds)
