"""The candle store and paper-exchange state."""

from __future__ import annotations

from decimal import Decimal

import pytest

from elcaro.models.market import Candle
from elcaro.storage import Database

pytestmark = pytest.mark.db

MINUTE = 60_000


def candle(ts: int, close: str) -> Candle:
    price = Decimal(close)
    return Candle(ts, price, price + 1, price - 1, price, Decimal("12.345678901234"))


async def test_candles_round_trip_in_order_and_reimport_overwrites(database: Database) -> None:
    bars = [candle(i * MINUTE, f"{100 + i}.123456789") for i in range(4000)]  # more than one insert batch
    async with database.transaction() as tx:
        assert await tx.candles.put("bybit", "BTC/USDT:USDT", "1m", reversed(bars)) == 4000
        assert await tx.candles.put("bybit", "ETH/USDT:USDT", "1m", bars[:5]) == 5
    async with database.transaction() as tx:
        stored = await tx.candles.get("bybit", "BTC/USDT:USDT", "1m")
        assert stored == bars
        assert await tx.candles.span("bybit", "BTC/USDT:USDT", "1m") == (0, 3999 * MINUTE, 4000)
        assert await tx.candles.span("bybit", "BTC/USDT:USDT", "5m") is None
        assert await tx.candles.timeframes("bybit", "BTC/USDT:USDT") == ["1m"]
        window = await tx.candles.get("bybit", "BTC/USDT:USDT", "1m", since=10 * MINUTE, until=13 * MINUTE)
        assert [c.timestamp for c in window] == [10 * MINUTE, 11 * MINUTE, 12 * MINUTE]
        assert len(await tx.candles.get("bybit", "BTC/USDT:USDT", "1m", limit=7)) == 7
        await tx.candles.put("bybit", "BTC/USDT:USDT", "1m", [candle(0, "1.5")])
    async with database.transaction() as tx:
        assert (await tx.candles.get("bybit", "BTC/USDT:USDT", "1m", limit=1))[0].close == Decimal("1.5")
        assert await tx.candles.span("bybit", "BTC/USDT:USDT", "1m") == (0, 3999 * MINUTE, 4000)


async def test_paper_venue_state_is_saved_and_replaced(database: Database) -> None:
    async with database.transaction() as tx:
        assert await tx.paper_venues.load("default") is None
        await tx.paper_venues.save("default", {"accounts": {"a": {"wallet": "100.5"}}}, now=1)
    async with database.transaction() as tx:
        await tx.paper_venues.save("default", {"accounts": {"a": {"wallet": "90"}}}, now=2)
    async with database.transaction() as tx:
        assert await tx.paper_venues.load("default") == {"accounts": {"a": {"wallet": "90"}}}
