"""The live chart's routes on the real platform: the paper venue's candles, fed from recorded BTC candles, and the
caller's own entries, exits and position levels on them."""

from __future__ import annotations

import asyncio
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from web_world import World, post_signal

from elcaro.marketdata import read_candles
from elcaro.models import ExitReason, PositionSide, Target, Trade
from elcaro.models.market import Candle
from elcaro.services.desk.chart import DEFAULT_CANDLE_TTL, MarketChart
from elcaro.services.runtime import Runtime

pytestmark = pytest.mark.db

BTC_CANDLES = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "ohlcv" / "BTC_USDT-5m.csv"
PAPER = Target.parse("bybit:paper")
BTC = "BTC/USDT:USDT"
MINUTE = 60_000


def recorded(count: int) -> list[Candle]:
    """The last ``count`` bars of a real BTC/USDT 5-minute recording."""
    return list(read_candles(BTC_CANDLES))[-count:]


def feed(runtime: Runtime, candles: list[Candle], timeframe: str = "5m", market: str = "BTCUSDT") -> None:
    """The paper market walks these bars, as a replay would, and keeps them as its ``timeframe`` candles."""
    for candle in candles:
        runtime.exchange.simulator.venue.apply_candle(market, candle, timeframe)


def same(answered: dict[str, Any], candle: Candle) -> bool:
    return answered["time"] == candle.timestamp and [
        Decimal(answered[name]) for name in ("open", "high", "low", "close", "volume")
    ] == [candle.open, candle.high, candle.low, candle.close, candle.volume]


async def test_candles_are_the_venues_last_ones(world: World) -> None:
    await world.user(3101)
    headers = await world.headers(3101)
    bars = recorded(60)
    feed(world.runtime, bars)
    answer = await world.client.get(
        "/api/v1/market/candles",
        params={"target": "bybit:paper", "symbol": "BTCUSDT", "timeframe": "5m", "limit": 50},
        headers=headers,
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["target"], body["symbol"], body["timeframe"]) == ("bybit:paper", BTC, "5m")
    assert len(body["candles"]) == 50
    assert all(same(got, bar) for got, bar in zip(body["candles"], bars[-50:], strict=True))
    # A timeframe the paper market was never fed is its minute bars of every price resampled, on hour boundaries.
    hourly = await world.client.get(
        "/api/v1/market/candles", params={"target": "bybit:paper", "symbol": BTC, "timeframe": "1h"}, headers=headers
    )
    assert hourly.status_code == 200, hourly.text
    assert hourly.json()["candles"] and all(got["time"] % (60 * MINUTE) == 0 for got in hourly.json()["candles"])


@pytest.mark.parametrize(
    ("params", "status", "code"),
    [
        ({"symbol": "BTCUSDT", "timeframe": "7m"}, 422, "chart.timeframe"),
        ({"symbol": "BTCUSDT", "timeframe": "1M"}, 422, "chart.timeframe"),
        ({"symbol": "NOSUCHUSDT"}, 422, "chart.symbol_unknown"),
        ({"symbol": "hello"}, 422, "chart.symbol"),
        ({"symbol": "BTCUSDT", "limit": 0}, 422, "invalid"),
        ({"symbol": "BTCUSDT", "limit": 1001}, 422, "invalid"),
        ({"symbol": "BTCUSDT", "target": "bybit:nowhere"}, 422, "invalid"),
        ({"symbol": "BTCUSDT", "target": "bybit:live"}, 404, "not_found"),  # no keys of the caller there
    ],
)
async def test_what_cannot_be_charted_is_refused_clearly(
    world: World, params: dict[str, Any], status: int, code: str
) -> None:
    await world.user(3102)
    headers = await world.headers(3102)
    query = {"target": "bybit:paper", "timeframe": "5m", **params}
    answer = await world.client.get("/api/v1/market/candles", params=query, headers=headers)
    assert answer.status_code == status, answer.text
    assert answer.json()["error"]["code"] == code


async def test_one_venue_read_serves_every_dashboard_until_it_ages(runtime: Runtime) -> None:
    now = [0.0]
    chart = MarketChart(runtime.platform.database, runtime.access, clock=lambda: now[0])
    bars = recorded(30)
    feed(runtime, bars[:-1])
    callers = range(1, 101)  # a hundred dashboards (paper accounts open on first use, no user rows needed)
    answers = await asyncio.gather(*(chart.candles(user, PAPER, "BTCUSDT", "5m", limit=10) for user in callers))
    assert chart.venue_reads == 1
    assert {answer.candles for answer in answers} == {tuple(bars[-11:-1])}
    feed(runtime, bars[-1:])
    kept = await chart.candles(7, PAPER, BTC, "5m", limit=10)
    assert kept.candles[-1] == bars[-2] and chart.venue_reads == 1  # still the copy of a moment ago
    now[0] += DEFAULT_CANDLE_TTL
    fresh = await chart.candles(7, PAPER, BTC, "5m", limit=10)
    assert fresh.candles[-1] == bars[-1] and chart.venue_reads == 2
    other = await chart.candles(7, PAPER, BTC, "15m", limit=10)  # another series is a read of its own
    assert other.candles != fresh.candles and chart.venue_reads == 3


async def _closed(
    world: World, user_id: int, symbol: str, opened: int, *, target: Target = PAPER, parts: int = 1
) -> None:
    """A long closed in ``parts`` (partial take-profits first), four hours after ``opened``."""
    async with world.runtime.platform.database.transaction() as tx:
        for part in range(parts):
            last = part == parts - 1
            await tx.trades.add(
                Trade(
                    target=target,
                    symbol=symbol,
                    side=PositionSide.LONG,
                    qty=Decimal("0.010"),
                    entry_price=Decimal(60000),
                    exit_price=Decimal(60600 + 100 * part),
                    opened_at=opened,
                    closed_at=opened + (4 * 60 if last else 60 * (part + 1)) * MINUTE,
                    exit_reason=ExitReason.TRAILING_STOP if last else ExitReason.TAKE_PROFIT,
                    strategy="scryptomera",
                    fees=Decimal("0.66"),
                    user_id=user_id,
                )
            )


async def test_marks_are_the_callers_entries_and_exits_on_the_symbol(world: World) -> None:
    a = await world.user(3103)
    b = await world.user(3104)
    a_headers, b_headers = await world.headers(3103), await world.headers(3104)
    day = 24 * 60 * MINUTE
    start = 1_700_000_000_000
    await _closed(world, a.id, BTC, start, parts=2)  # one entry, two exits
    await _closed(world, a.id, BTC, start + day)
    await _closed(world, a.id, BTC, start - 30 * day)  # closed before the window
    await _closed(world, a.id, "ETH/USDT:USDT", start)  # another symbol
    await _closed(world, a.id, BTC, start, target=Target.parse("binance:paper"))  # another target
    await _closed(world, b.id, BTC, start)  # another user
    query = {"target": "bybit:paper", "symbol": "BTC/USDT", "since": start - day}
    answer = await world.client.get("/api/v1/market/marks", params=query, headers=a_headers)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["symbol"] == BTC and body["levels"] == [] and body["position_id"] is None
    kinds = [(mark["kind"], mark["time"]) for mark in body["marks"]]
    assert kinds == [
        ("entry", start),
        ("exit", start + 60 * MINUTE),
        ("exit", start + 240 * MINUTE),
        ("entry", start + day),
        ("exit", start + day + 240 * MINUTE),
    ]
    exits = [mark for mark in body["marks"] if mark["kind"] == "exit"]
    assert [mark["exit_reason"] for mark in exits] == ["take_profit", "trailing_stop", "trailing_stop"]
    # 0.010 × (60600 − 60000) − 0.66 fees
    assert Decimal(exits[0]["net_pnl"]) == Decimal("5.34") and exits[0]["trade_id"] is not None
    assert all(mark["side"] == "long" and Decimal(mark["price"]) > 0 for mark in body["marks"])
    until = await world.client.get(
        "/api/v1/market/marks", params={**query, "until": start + day - 1}, headers=a_headers
    )
    assert [mark["time"] for mark in until.json()["marks"]][-1] == start + 240 * MINUTE
    theirs = await world.client.get("/api/v1/market/marks", params=query, headers=b_headers)
    assert [(mark["kind"], mark["time"]) for mark in theirs.json()["marks"]] == [
        ("entry", start),
        ("exit", start + 240 * MINUTE),
    ]


async def test_an_open_position_shows_its_entry_stop_and_targets(world: World) -> None:
    await world.user(3105, admin=True)
    await world.user(3106)
    headers = await world.headers(3106)
    for path, body in (
        ("/api/v1/me/targets/bybit:paper", {"enabled": True}),
        ("/api/v1/me/strategies/cornix", {"enabled": True}),
    ):
        assert (await world.client.put(path, json=body, headers=headers)).status_code == 200
    # A long waiting below the market (ETH starts at 3000 there): its entry, stop and both targets are known.
    text = "ETH/USDT\nBuy 2900\nTake Profit 3100 3200\nStop 2800"
    await post_signal(world, await world.headers(3105), text, executions=1)
    answer = await world.client.get(
        "/api/v1/market/marks", params={"target": "bybit:paper", "symbol": "ETHUSDT"}, headers=headers
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["position_id"] is not None
    levels = [(level["kind"], Decimal(level["price"]), level["index"]) for level in body["levels"]]
    assert levels[0][0] == "entry" and levels[0][1] > 0
    assert ("stop", Decimal(2800), None) in levels
    assert [(kind, price) for kind, price, _ in levels if kind == "take_profit"] == [
        ("take_profit", Decimal(3100)),
        ("take_profit", Decimal(3200)),
    ]
    assert all(level["position_id"] == body["position_id"] for level in body["levels"])
    assert [mark["position_id"] for mark in body["marks"] if mark["kind"] == "entry"] == [body["position_id"]]
    # Nobody else sees it.
    await world.user(3107)
    other = await world.client.get(
        "/api/v1/market/marks",
        params={"target": "bybit:paper", "symbol": "ETHUSDT"},
        headers=await world.headers(3107),
    )
    assert other.json()["levels"] == [] and other.json()["position_id"] is None


async def test_a_manual_position_marks_its_entry_on_the_chart(world: World) -> None:
    await world.user(3108)
    headers = await world.headers(3108)
    assert (
        await world.client.put("/api/v1/me/targets/bybit:paper", json={"enabled": True}, headers=headers)
    ).status_code == 200
    placed = await world.client.post(
        "/api/v1/trading/manual",
        json={"symbol": "BTCUSDT", "side": "long", "qty": "0.01", "target": "bybit:paper", "intent": uuid.uuid4().hex},
        headers=headers,
    )
    assert placed.status_code == 201, placed.text
    position_id = placed.json()["position_id"]
    body = (
        await world.client.get("/api/v1/market/marks", params={"target": "bybit:paper", "symbol": BTC}, headers=headers)
    ).json()
    assert body["position_id"] == position_id
    assert {level["kind"] for level in body["levels"]} >= {"entry", "stop"}
    assert [mark["kind"] for mark in body["marks"]] == ["entry"]
