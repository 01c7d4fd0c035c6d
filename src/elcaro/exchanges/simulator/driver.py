"""What moves the simulator's market between requests: a synthetic walk or a candle replay, and funding.

A driver follows whichever venue the service holds: after a restore it picks up the new venue's prices (a walk
carries on from them, a replay skips the bars before the restored clock).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

from elcaro.core.clock import now_ms
from elcaro.exchanges.paper.clock import ManualClock
from elcaro.exchanges.paper.price_sources import CandleReplay, ReplayStep, SyntheticMarket
from elcaro.exchanges.simulator.app import Service
from elcaro.exchanges.simulator.config import FundingConfig, ReplayPrices, SyntheticPrices
from elcaro.exchanges.simulator.venue import Venue
from elcaro.marketdata.csv_io import read_candles
from elcaro.models.market import Candle
from elcaro.models.timeframe import MINUTE_MS


class Funding:
    """Charges the configured rate on every symbol each time the venue's clock passes a funding boundary."""

    def __init__(self, config: FundingConfig) -> None:
        self._config = config
        self._interval = config.interval_minutes * MINUTE_MS
        self._next: int | None = None

    def settle_due(self, venue: Venue) -> None:
        if not self._config.enabled:
            return
        now = venue.engine.now()
        if self._next is None:
            self._next = now - now % self._interval + self._interval
        while now >= self._next:
            for market in venue.markets.values():
                if venue.engine.mark_price(market.symbol) is not None:
                    venue.apply_funding(market.id, self._config.rate)
            self._next += self._interval


class SyntheticDriver:
    def __init__(self, service: Service, config: SyntheticPrices) -> None:
        self._service = service
        self._config = config
        self._venue: Venue | None = None
        self._walk: SyntheticMarket | None = None

    def _bind(self, venue: Venue) -> SyntheticMarket:
        walk = SyntheticMarket(
            venue.engine, ManualClock(now_ms()), seed=self._config.seed, step_ms=self._config.step_ms
        )
        for market in venue.markets.values():
            start = venue.engine.mark_price(market.symbol) or market.config.price
            if start is not None:
                walk.add_symbol(market.symbol, start, volatility=self._config.volatility)
        self._venue, self._walk = venue, walk
        return walk

    def step(self) -> None:
        venue = self._service.venue
        walk = self._walk if venue is self._venue and self._walk is not None else self._bind(venue)
        for symbol, price in walk.step().items():
            venue.priced(symbol, price)

    @property
    def pause_s(self) -> float:
        return self._config.step_ms / 1000


class ReplayDriver:
    def __init__(self, service: Service, config: ReplayPrices) -> None:
        self._service = service
        self._config = config
        self._venue: Venue | None = None
        self._steps: Iterator[ReplayStep] = iter(())

    def _bind(self, venue: Venue) -> Iterator[ReplayStep]:
        if venue.clock is None:
            raise RuntimeError("a replay needs a venue on a manual clock")  # Venue.create gives it one
        start = venue.clock()
        candles = {
            venue.markets[market_id].symbol: _from(read_candles(path), start)
            for market_id, path in self._config.files.items()
        }
        replay = CandleReplay(venue.engine, venue.clock, candles, timeframe=self._config.timeframe)
        self._venue, self._steps = venue, iter(replay)
        return self._steps

    def step(self) -> bool:
        """One bar time; False when the recording is over."""
        venue = self._service.venue
        steps = self._steps if venue is self._venue else self._bind(venue)
        step = next(steps, None)
        if step is None:
            return False
        for symbol, candle in step.candles.items():
            venue.candled(symbol, candle)
        return True

    @property
    def pause_s(self) -> float:
        return 1 / self._config.bars_per_second


def _from(candles: Iterator[Candle], start: int) -> Iterator[Candle]:
    return (candle for candle in candles if candle.timestamp >= start)


async def drive(service: Service) -> None:
    """Move the market until cancelled (a replay stops at its last bar); nothing to do for ``prices.kind = none``."""
    source = service.config.prices
    funding = Funding(service.config.funding)
    if isinstance(source, SyntheticPrices):
        synthetic = SyntheticDriver(service, source)
        while True:
            await asyncio.sleep(synthetic.pause_s)
            synthetic.step()
            funding.settle_due(service.venue)
    elif isinstance(source, ReplayPrices):
        replay = ReplayDriver(service, source)
        while replay.step():
            funding.settle_due(service.venue)
            await asyncio.sleep(replay.pause_s)
