"""Public market data: server time, instruments, tickers, order book, klines, funding history, open interest."""

from __future__ import annotations

import time
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Final

from elcaro.exchanges.simulator import codes, render
from elcaro.exchanges.simulator.routing import Call, Route
from elcaro.exchanges.simulator.venue import Market, Venue
from elcaro.exchanges.simulator.wire import (
    BybitError,
    category,
    integer,
    linear,
    listing,
    num,
    on_step,
    page,
    required,
    text,
)
from elcaro.models.market import Candle
from elcaro.models.timeframe import MINUTE_MS, Timeframe

INTERVALS: Final = {
    "1": "1m",
    "3": "3m",
    "5": "5m",
    "15": "15m",
    "30": "30m",
    "60": "1h",
    "120": "2h",
    "240": "4h",
    "360": "6h",
    "720": "12h",
    "D": "1d",
    "W": "1w",
}
OPEN_INTEREST_INTERVALS: Final = {"5min": 5, "15min": 15, "30min": 30, "1h": 60, "4h": 240, "1d": 1440}
LAUNCHED_MS: Final = 1_585_526_400_000
"""Listing time shown for every instrument (BTCUSDT's on Bybit)."""


def server_time(call: Call) -> Mapping[str, Any]:
    nanos = time.time_ns()
    return {"timeSecond": str(nanos // 1_000_000_000), "timeNano": str(nanos)}


def instruments(call: Call) -> Mapping[str, Any]:
    if not category(call.params):
        return listing([], "")
    status = text(call.params, "status", "Trading")
    wanted = text(call.params, "symbol")
    base = text(call.params, "baseCoin")
    markets = [
        market
        for market in call.venue.markets.values()
        if status == "Trading"
        and (wanted is None or market.id == wanted)
        and (base is None or market.instrument.base == base)
    ]
    rows, cursor = page(markets, call.params, default=500, maximum=1000)
    minutes = call.venue.funding.interval_minutes
    return listing([render.instrument(market, LAUNCHED_MS, minutes) for market in rows], cursor)


def _next_funding(venue: Venue, now: int) -> int:
    interval = venue.funding.interval_minutes * MINUTE_MS
    return now - now % interval + interval


def ticker(venue: Venue, market: Market) -> dict[str, Any]:
    engine, symbol, tick = venue.engine, market.symbol, market.instrument.tick_size
    now = engine.now()
    last, mark = engine.last_price(symbol), engine.mark_price(symbol)
    bids, asks = render.top_of_book(venue, market)
    day = engine.bars.day(symbol, now)
    funding = engine.funding_rate(symbol)
    open_interest = engine.open_interest(symbol)
    change = "0"
    if day is not None and last is not None and day.open:
        change = num((last / day.open - 1).quantize(Decimal("0.000001")))
    return {
        "symbol": market.id,
        "lastPrice": on_step(last, tick),
        "indexPrice": on_step(mark, tick),
        "markPrice": on_step(mark, tick),
        "prevPrice24h": on_step(day.open if day else last, tick),
        "price24hPcnt": change,
        "highPrice24h": on_step(day.high if day else last, tick),
        "lowPrice24h": on_step(day.low if day else last, tick),
        "prevPrice1h": on_step(last, tick),
        "openInterest": num(open_interest),
        "openInterestValue": num(open_interest * (mark or Decimal(0)) * market.instrument.contract_size),
        "turnover24h": num(day.turnover if day else Decimal(0)),
        "volume24h": num(day.volume if day else Decimal(0)),
        "fundingRate": num(funding.rate if funding is not None else venue.funding.rate),
        "nextFundingTime": str(_next_funding(venue, now)),
        "predictedDeliveryPrice": "",
        "basisRate": "",
        "deliveryFeeRate": "",
        "deliveryTime": "0",
        "bid1Price": on_step(bids[0].price, tick) if bids else "",
        "bid1Size": num(bids[0].qty) if bids else "",
        "ask1Price": on_step(asks[0].price, tick) if asks else "",
        "ask1Size": num(asks[0].qty) if asks else "",
        "basis": "",
    }


def tickers(call: Call) -> Mapping[str, Any]:
    if not category(call.params):
        return listing([])
    wanted = text(call.params, "symbol")
    markets = [call.venue.market(wanted)] if wanted is not None else list(call.venue.markets.values())
    return listing([ticker(call.venue, market) for market in markets])


def order_book(call: Call) -> Mapping[str, Any]:
    linear(call.params)
    market = call.venue.market(required(call.params, "symbol"))
    depth = integer(call.params, "limit", 25)
    if not 1 <= depth <= 500:
        raise BybitError(codes.PARAMS, "params error: limit must be between 1 and 500")
    bids, asks = render.top_of_book(call.venue, market)
    tick, now = market.instrument.tick_size, call.venue.engine.now()
    book = call.venue.engine.order_book(market.symbol)
    return {
        "s": market.id,
        "b": [[on_step(level.price, tick), num(level.qty)] for level in bids[:depth]],
        "a": [[on_step(level.price, tick), num(level.qty)] for level in asks[:depth]],
        "ts": book.timestamp if book is not None else now,
        "u": now,
        "seq": now,
        "cts": now,
    }


def candles(venue: Venue, market: Market, timeframe: Timeframe) -> list[Candle]:
    """Candles fed at this timeframe (replay, admin) when there are any, else the engine's minute bars resampled."""
    return venue.engine.ohlcv(market.symbol, timeframe.name)


def _kline_rows(call: Call, *, with_volume: bool) -> Mapping[str, Any]:
    linear(call.params)
    market = call.venue.market(required(call.params, "symbol"))
    interval = required(call.params, "interval")
    if interval not in INTERVALS:
        raise BybitError(codes.PARAMS, f"params error: interval {interval} is not served")
    limit = integer(call.params, "limit", 200)
    if not 1 <= limit <= 1000:
        raise BybitError(codes.PARAMS, "params error: limit must be between 1 and 1000")
    start = integer(call.params, "start", 0)
    end = integer(call.params, "end", call.venue.engine.now())
    found = [
        c for c in candles(call.venue, market, Timeframe.parse(INTERVALS[interval])) if start <= c.timestamp <= end
    ]
    tick = market.instrument.tick_size
    rows = []
    for candle in reversed(found[-limit:]):  # the newest of the window, newest first, as Bybit answers
        row = [str(candle.timestamp), *(on_step(p, tick) for p in (candle.open, candle.high, candle.low, candle.close))]
        if with_volume:
            row += [num(candle.volume), num(candle.volume * candle.close)]
        rows.append(row)
    return {"category": "linear", "symbol": market.id, "list": rows}


def kline(call: Call) -> Mapping[str, Any]:
    return _kline_rows(call, with_volume=True)


def mark_price_kline(call: Call) -> Mapping[str, Any]:
    """The simulator's mark and last price move together unless an admin sets them apart, so these are the same
    bars without volume."""
    return _kline_rows(call, with_volume=False)


def funding_history(call: Call) -> Mapping[str, Any]:
    linear(call.params)
    market = call.venue.market(required(call.params, "symbol"))
    limit = integer(call.params, "limit", 200)
    if not 1 <= limit <= 200:
        raise BybitError(codes.PARAMS, "params error: limit must be between 1 and 200")
    start = integer(call.params, "startTime", 0)
    end = integer(call.params, "endTime", call.venue.engine.now())
    paid = [item for item in call.venue.journal.funding(market.symbol) if start <= item.timestamp <= end]
    rows = [
        {"symbol": market.id, "fundingRate": num(item.rate), "fundingRateTimestamp": str(item.timestamp)}
        for item in reversed(paid[-limit:])
    ]
    return listing(rows)


def open_interest(call: Call) -> Mapping[str, Any]:
    """The paper venue knows its open interest now, not its history: one row, at the current interval's start."""
    linear(call.params)
    market = call.venue.market(required(call.params, "symbol"))
    interval = required(call.params, "intervalTime")
    if interval not in OPEN_INTEREST_INTERVALS:
        raise BybitError(codes.PARAMS, f"params error: intervalTime {interval} is not served")
    now = call.venue.engine.now()
    bucket = OPEN_INTEREST_INTERVALS[interval] * MINUTE_MS
    row = {"openInterest": num(call.venue.engine.open_interest(market.symbol)), "timestamp": str(now - now % bucket)}
    return {"symbol": market.id, "category": "linear", "list": [row], "nextPageCursor": ""}


ROUTES = (
    Route("GET", "/v5/market/time", server_time, signed=False),
    Route("GET", "/v5/market/instruments-info", instruments, signed=False),
    Route("GET", "/v5/market/tickers", tickers, signed=False),
    Route("GET", "/v5/market/orderbook", order_book, signed=False),
    Route("GET", "/v5/market/kline", kline, signed=False),
    Route("GET", "/v5/market/mark-price-kline", mark_price_kline, signed=False),
    Route("GET", "/v5/market/funding/history", funding_history, signed=False),
    Route("GET", "/v5/market/open-interest", open_interest, signed=False),
)
