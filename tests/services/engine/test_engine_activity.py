"""Activity meters fed by the paper exchange's public trade stream, as the engine follows symbols."""

from __future__ import annotations

import asyncio
from decimal import Decimal

from engine_world import BTC, ETH

from elcaro.exchanges.client import ExchangeClient
from elcaro.exchanges.paper import ManualClock, PaperEngine, PaperExchangeAdapter
from elcaro.models import Order, OrderType, Side, make_client_order_id
from elcaro.services.engine.activity import ActivityWatch
from elcaro.strategies.breakout.activity import ActivitySettings

START = 1_700_000_000_000
SETTINGS = ActivitySettings(
    windows_s=(60, 300), index_short_s=60, index_long_s=300, drop_threshold=0.5, min_baseline_trades=5
)


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_meters_count_the_tape_and_report_a_drop() -> None:
    clock = ManualClock(START)
    venue = PaperEngine([BTC, ETH], clock=clock)
    venue.update_mark(BTC.symbol, Decimal(60_000))
    venue.open_account("engine", Decimal(1000))
    venue.open_account("market", Decimal(100_000))
    watch = ActivityWatch(ExchangeClient(PaperExchangeAdapter(venue, "engine")), SETTINGS, clock)
    market = PaperExchangeAdapter(venue, "market")
    try:
        watch.follow([BTC.symbol, ETH.symbol])
        await settle()
        assert watch.followed == {BTC.symbol, ETH.symbol}
        for number in range(30):  # six trades a minute for five minutes
            clock.advance(10_000)
            side = Side.BUY if number % 2 else Side.SELL
            order = Order(make_client_order_id("tape", number), BTC.symbol, side, OrderType.MARKET, Decimal("0.001"))
            await market.place_order(order)
            await settle()
        assert watch.trades_per_minute(BTC.symbol) == 6.0  # the five-minute window is complete
        assert watch.trades_per_minute(ETH.symbol) == 0.0  # followed, and nothing traded
        assert not watch.dropped(BTC.symbol)
        clock.advance(60_000)  # a silent minute: the last minute's rate falls to 0 of a 4.8 baseline
        assert watch.dropped(BTC.symbol)

        watch.follow([ETH.symbol])
        assert watch.followed == {ETH.symbol}
        assert watch.trades_per_minute(BTC.symbol) is None  # no longer followed: unknown, not zero
    finally:
        await watch.close()


async def test_a_meter_reports_nothing_before_it_has_watched_a_whole_window() -> None:
    clock = ManualClock(START)
    venue = PaperEngine([BTC], clock=clock)
    venue.open_account("engine", Decimal(1000))
    watch = ActivityWatch(ExchangeClient(PaperExchangeAdapter(venue, "engine")), SETTINGS, clock)
    try:
        watch.follow([BTC.symbol])
        clock.advance(299_999)
        assert watch.trades_per_minute(BTC.symbol) is None
        clock.advance(1)
        assert watch.trades_per_minute(BTC.symbol) == 0.0
    finally:
        await watch.close()
