"""One-minute bars of every price the simulator sets and every trade its accounts make, for klines and 24h figures.

The paper engine keeps candles only when it is fed candles; a synthetic walk or an admin moving the mark feeds it
prices. These bars are the simulator's own tape of both, so a chart and a ticker's 24-hour figures exist whatever
drives the market.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from decimal import Decimal

from elcaro.models.decimals import ZERO
from elcaro.models.market import Candle
from elcaro.models.timeframe import DAY_MS, MINUTE_MS

BARS_KEPT = 5000
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


class Bars:
    def __init__(self) -> None:
        self._bars: dict[str, deque[_Bar]] = {}

    def price(self, symbol: str, timestamp: int, price: Decimal) -> None:
        bar = self._bar(symbol, timestamp, price)
        bar.high = max(bar.high, price)
        bar.low = min(bar.low, price)
        bar.close = price

    def candle(self, symbol: str, candle: Candle) -> None:
        """A candle of any length folds into the minute it opens in (its own timeframe is the engine's to keep)."""
        bar = self._bar(symbol, candle.timestamp, candle.open)
        bar.high = max(bar.high, candle.high)
        bar.low = min(bar.low, candle.low)
        bar.close = candle.close
        bar.volume += candle.volume
        bar.turnover += candle.volume * candle.close

    def trade(self, symbol: str, timestamp: int, price: Decimal, qty: Decimal) -> None:
        """Volume only: a trade on the paper venue fills at the engine's prices, which ``price`` has recorded."""
        series = self._bars.get(symbol)
        if series and series[-1].start == timestamp - timestamp % MINUTE_MS:
            series[-1].volume += qty
            series[-1].turnover += qty * price

    def minutes(self, symbol: str) -> list[Candle]:
        return [bar.candle() for bar in self._bars.get(symbol, ())]

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
        series = self._bars.setdefault(symbol, deque(maxlen=BARS_KEPT))
        if series and series[-1].start == start:
            return series[-1]
        if series and series[-1].start > start:
            return series[-1]  # the clock never runs back; a replay restarted earlier keeps adding to the last bar
        bar = _Bar(start, opening, opening, opening, opening)
        series.append(bar)
        return bar
