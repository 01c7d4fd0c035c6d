"""When the engine's next cycle is due: at each close of a bar of the preset's time frame.

- :class:`WallClockBars` waits for the next bar boundary of the real clock (plus a moment for the
  venue to publish the closed candle) — live and paper trading;
- :class:`ReplayBars` moves an in-process paper exchange through recorded candles, one bar per
  call, so the engine trades the replay exactly as it would trade the live market (its stop orders
  fire inside the bars, on the paper exchange's intra-bar path).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Protocol

from elcaro.core.clock import now_ms
from elcaro.exchanges.paper import ManualClock, PaperEngine
from elcaro.exchanges.paper.price_sources import CandleReplay, ReplayStep
from elcaro.marketdata import read_candles, timeframe_ms
from elcaro.models.market import Candle


class BarPacer(Protocol):
    async def next_bar(self) -> bool:
        """Wait for the next closed bar; ``False`` when there will be none (a replay has ended)."""
        ...


class WallClockBars:
    """Closes of the real clock's bars; ``timeframe`` may be a callable, read at each wait (a reload may change it)."""

    def __init__(
        self,
        timeframe: str | Callable[[], str],
        *,
        settle_ms: int = 2_000,
        clock: Callable[[], int] = now_ms,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._timeframe = timeframe
        self._settle_ms = settle_ms
        self._clock = clock
        self._sleep = sleep

    def due(self) -> int:
        """When the bar under way has closed and the venue has had ``settle_ms`` to publish it."""
        timeframe = self._timeframe() if callable(self._timeframe) else self._timeframe
        bar_ms = timeframe_ms(timeframe)
        now = self._clock()
        return now - now % bar_ms + bar_ms + self._settle_ms

    async def next_bar(self) -> bool:
        await self._sleep((self.due() - self._clock()) / 1000)
        return True


class ReplayBars:
    """Recorded candles played into a paper engine, one bar time per :meth:`next_bar`.

    ``warmup`` bar times are played at once by :meth:`prime`, so the first cycle has the history
    its indicators need. ``delay`` seconds pass between bars (0: as fast as the engine trades).
    """

    def __init__(
        self,
        engine: PaperEngine,
        clock: ManualClock,
        candles: Mapping[str, Sequence[Candle]],
        timeframe: str,
        *,
        delay: float = 0.0,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._steps: Iterator[ReplayStep] = iter(CandleReplay(engine, clock, candles, timeframe=timeframe))
        self._delay = delay
        self._sleep = sleep
        self.played = 0
        self.total = len({candle.timestamp for series in candles.values() for candle in series})

    @classmethod
    def from_files(
        cls,
        engine: PaperEngine,
        clock: ManualClock,
        files: Mapping[str, Path],
        timeframe: str,
        *,
        delay: float = 0.0,
    ) -> ReplayBars:
        candles = {symbol: list(read_candles(path)) for symbol, path in files.items()}
        return cls(engine, clock, candles, timeframe, delay=delay)

    def prime(self, warmup: int) -> int:
        """Play ``warmup`` bar times at once; returns how many there were."""
        played = 0
        while played < warmup and next(self._steps, None) is not None:
            played += 1
        self.played += played
        return played

    async def next_bar(self) -> bool:
        if self._delay:
            await self._sleep(self._delay)
        if next(self._steps, None) is None:
            return False
        self.played += 1
        return True
