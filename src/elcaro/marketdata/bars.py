"""One-minute bars built from whatever moves a market: prices as they are set, candles as they are walked, and
the volume traded.

A simulated venue is often driven by prices alone (a synthetic walk, a live ticker, an admin moving the mark), so it
has no candles of its own; these bars are its tape, from which a chart of any timeframe and a ticker's 24-hour
figures are made. Each symbol keeps its latest ``kept`` minutes, so memory stays bounded however long it runs.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from decimal import Decimal

from elcaro.marketdata.resample import resample
from elcaro.models.decimals import ZERO
from elcaro.models.market import Candle
from elcaro.models.timeframe import DAY_MS, MINUTE_MS, Timeframe

DEFAULT_KEPT = 5000
"""Per symbol: three and a half days of minutes, past the 24 hours a ticker needs."""


@dataclass(slots=True)
class _Bar:
    start: int
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal = ZERO
    turnover: Decimal = ZERO

    def candle(self) -> Candle:
        return Candle(self.start, self.open, self.high, self.low, self.close, self.volume)


@dataclass(frozen=True, slots=True)
class DayFigures:
    open: Decimal
    high: Decimal
    low: Decimal
    volume: Decimal
    turnover: Decimal


class MinuteBars:
    def __init__(self, kept: int = DEFAULT_KEPT) -> None:
        self._kept = kept
        self._bars: dict[str, deque[_Bar]] = {}

    def price(self, symbol: str, timestamp: int, price: Decimal) -> None:
        bar = self._bar(symbol, timestamp, price)
        bar.high = max(bar.high, price)
        bar.low = min(bar.low, price)
        bar.close = price

    def candle(self, symbol: str, candle: Candle) -> None:
        """A candle of any length folds into the minute it opens in (its own timeframe is the venue's to keep)."""
        bar = self._bar(symbol, candle.timestamp, candle.open)
        bar.high = max(bar.high, candle.high)
        bar.low = min(bar.low, candle.low)
        bar.close = candle.close
        bar.volume += candle.volume
        bar.turnover += candle.volume * candle.close

    def trade(self, symbol: str, timestamp: int, price: Decimal, qty: Decimal) -> None:
        """Volume only: a simulated venue fills at its own prices, which ``price`` or ``candle`` has recorded."""
        series = self._bars.get(symbol)
        if series and series[-1].start == timestamp - timestamp % MINUTE_MS:
            series[-1].volume += qty
            series[-1].turnover += qty * price

    def minutes(self, symbol: str) -> list[Candle]:
        return [bar.candle() for bar in self._bars.get(symbol, ())]

    def candles(self, symbol: str, timeframe: str | Timeframe) -> list[Candle]:
        """The minutes in ``timeframe`` bars on its UTC boundaries, oldest first; the last one may still be forming."""
        minutes = self.minutes(symbol)
        if Timeframe.parse(timeframe).ms == MINUTE_MS or not minutes:
            return minutes
        return list(resample(minutes, "1m", timeframe, include_partial=True).candles)

    def day(self, symbol: str, now: int) -> DayFigures | None:
        recent = [bar for bar in self._bars.get(symbol, ()) if bar.start > now - DAY_MS]
        if not recent:
            return None
        return DayFigures(
            open=recent[0].open,
            high=max(bar.high for bar in recent),
            low=min(bar.low for bar in recent),
            volume=sum((bar.volume for bar in recent), ZERO),
            turnover=sum((bar.turnover for bar in recent), ZERO),
        )

    def _bar(self, symbol: str, timestamp: int, opening: Decimal) -> _Bar:
        start = timestamp - timestamp % MINUTE_MS
        series = self._bars.get(symbol)
        if series is None:
            series = self._bars[symbol] = deque(maxlen=self._kept)
        elif series and series[-1].start >= start:
            return series[-1]  # the clock never runs back; a replay restarted earlier keeps adding to the last bar
        bar = _Bar(start, opening, opening, opening, opening)
        series.append(bar)
        return bar
