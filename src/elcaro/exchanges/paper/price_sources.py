"""What moves the paper engine's prices: recorded candles, a synthetic random walk, or a live venue.

None of them reads files: callers hand them candles or a ``MarketData`` source.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import math
import random
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from elcaro.exchanges.paper.clock import ManualClock
from elcaro.exchanges.paper.engine import PaperEngine
from elcaro.exchanges.protocol import MarketData
from elcaro.models.errors import ValidationError
from elcaro.models.market import Candle
from elcaro.models.timeframe import timeframe_ms


@dataclass(frozen=True, slots=True)
class ReplayStep:
    """One bar time of a replay and the candle each symbol had at it."""

    timestamp: int
    candles: Mapping[str, Candle]


class CandleReplay:
    """Feeds recorded candles to the engine bar by bar, all symbols merged by time.

    For each bar time the clock is set to the bar's open time and every symbol's candle at that time
    is applied (symbols in name order), so whatever fires inside the bar carries the bar's open time;
    then the clock moves to the bar's close, which is when the step is yielded and the caller acts
    (its orders fill at the close price, their timestamps the close time).
    """

    def __init__(
        self, engine: PaperEngine, clock: ManualClock, candles: Mapping[str, Iterable[Candle]], *, timeframe: str
    ) -> None:
        self._engine = engine
        self._clock = clock
        self._candles = candles
        self._timeframe = timeframe
        self._bar_ms = timeframe_ms(timeframe)

    def __iter__(self) -> Iterator[ReplayStep]:
        streams = [self._keyed(symbol, candles) for symbol, candles in self._candles.items()]
        merged = heapq.merge(*streams)
        for timestamp, group in itertools.groupby(merged, key=lambda item: item[0]):
            candles = {symbol: candle for _, symbol, candle in group}
            self._clock.set(timestamp)
            for symbol in sorted(candles):
                self._engine.apply_candle(symbol, candles[symbol], timeframe=self._timeframe)
            self._clock.set(timestamp + self._bar_ms)
            yield ReplayStep(timestamp, candles)

    def run(self) -> int:
        """Replay everything with nobody acting between bars; returns the number of bar times."""
        return sum(1 for _ in self)

    @staticmethod
    def _keyed(symbol: str, candles: Iterable[Candle]) -> Iterator[tuple[int, str, Candle]]:
        previous: int | None = None
        for candle in candles:
            if previous is not None and candle.timestamp <= previous:
                raise ValidationError(
                    f"{symbol} candles must be in strictly increasing time: {candle.timestamp} after {previous}",
                    field="candles",
                )
            previous = candle.timestamp
            yield candle.timestamp, symbol, candle


@dataclass(slots=True)
class _Walk:
    level: float
    """Unrounded, so that moves smaller than a tick still add up."""
    volatility: float
    drift: float


class SyntheticMarket:
    """A seeded geometric random walk per symbol, published on the instrument's tick.

    Each step moves every symbol by ``exp(drift − volatility²/2 + volatility × z)``, z a standard
    normal draw; the same seed and the same symbols give the same prices, step for step.
    """

    def __init__(self, engine: PaperEngine, clock: ManualClock, *, seed: int, step_ms: int = 1_000) -> None:
        if step_ms <= 0:
            raise ValidationError(f"must be positive, got {step_ms}", field="step_ms")
        self._engine = engine
        self._clock = clock
        self._rng = random.Random(seed)  # noqa: S311 - a simulation needs repeatability, not secrecy
        self._step_ms = step_ms
        self._walks: dict[str, _Walk] = {}

    def add_symbol(self, symbol: str, start: Decimal, *, volatility: float, drift: float = 0.0) -> None:
        """``volatility`` and ``drift`` are per step (0.001 is 0.1 % a step)."""
        instrument = self._engine.instruments.get(symbol)
        if instrument is None:
            raise ValidationError(f"the engine has no instrument {symbol}", field="symbol")
        if start <= 0 or volatility < 0:
            raise ValidationError("the start price must be positive and the volatility not negative", field="symbol")
        self._walks[symbol] = _Walk(float(start), volatility, drift)
        self._engine.update_mark(symbol, instrument.round_price(start))

    def step(self) -> dict[str, Decimal]:
        """Advance the clock one step and move every symbol (in name order); returns the new prices."""
        self._clock.advance(self._step_ms)
        prices: dict[str, Decimal] = {}
        for symbol in sorted(self._walks):
            walk = self._walks[symbol]
            z = self._rng.gauss(0.0, 1.0)
            walk.level *= math.exp(walk.drift - walk.volatility**2 / 2 + walk.volatility * z)
            tick = self._engine.instruments[symbol].tick_size
            prices[symbol] = max(self._engine.instruments[symbol].round_price(Decimal(repr(walk.level))), tick)
            self._engine.update_mark(symbol, prices[symbol])
        return prices

    def run(self, steps: int) -> None:
        for _ in range(steps):
            self.step()


class LiveFeed:
    """Keeps the engine's prices on a real venue's, read through any ``MarketData`` (public data only).

    Tickers give mark and last price; public trades move both to the trade's price between tickers;
    order books, when followed, are what paper takers walk.
    """

    def __init__(self, engine: PaperEngine, source: MarketData, symbols: Sequence[str]) -> None:
        self._engine = engine
        self._source = source
        self._symbols = list(symbols)

    async def load_instruments(self) -> None:
        """Give the engine the source's rules for the followed symbols."""
        instruments = await self._source.load_instruments()
        missing = [symbol for symbol in self._symbols if symbol not in instruments]
        if missing:
            raise ValidationError(f"the source does not list {', '.join(missing)}", field="symbols")
        for symbol in self._symbols:
            self._engine.add_instrument(instruments[symbol])

    async def refresh(self) -> None:
        """One round of tickers."""
        tickers = await self._source.fetch_tickers(self._symbols)
        for symbol in self._symbols:
            ticker = tickers.get(symbol)
            if ticker is not None:
                mark = ticker.mark if ticker.mark is not None else ticker.last
                self._engine.update_mark(symbol, mark, last=ticker.last)

    async def follow_trades(self, symbol: str) -> None:
        async for trade in self._source.watch_trades(symbol):
            self._engine.update_mark(symbol, trade.price)

    async def follow_order_book(self, symbol: str, depth: int = 50) -> None:
        async for book in self._source.watch_order_book(symbol, depth):
            self._engine.set_order_book(book)

    async def run(self, *, books: bool = False) -> None:
        """Load instruments, take one round of tickers, then follow trades (and books) until the streams end."""
        await self.load_instruments()
        await self.refresh()
        async with asyncio.TaskGroup() as group:
            for symbol in self._symbols:
                group.create_task(self.follow_trades(symbol))
                if books:
                    group.create_task(self.follow_order_book(symbol))
