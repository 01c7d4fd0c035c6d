"""Average true range in exact decimals, for the ATR trailing stop.

Wilder's smoothing, as TA-Lib and TradingView compute it: the first value is the mean of the first
``period`` true ranges, each later one ``(previous × (period − 1) + TR) ÷ period``. The stop it
feeds is rounded to the tick, so Decimal's 28 significant digits are far more than enough.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from itertools import pairwise

from elcaro.models import ZERO
from elcaro.models.errors import ValidationError
from elcaro.models.market import Candle


def true_ranges(candles: Sequence[Candle]) -> list[Decimal]:
    """One per candle after the first (the first has no previous close to gap from)."""
    return [
        max(candle.high - candle.low, abs(candle.high - previous.close), abs(candle.low - previous.close))
        for previous, candle in pairwise(candles)
    ]


def average_true_range(candles: Sequence[Candle], period: int) -> Decimal | None:
    """The ATR after the last candle; None with fewer than ``period + 1`` candles."""
    if period < 1:
        raise ValidationError(f"the ATR period is at least 1, got {period}", field="period")
    ranges = true_ranges(candles)
    if len(ranges) < period:
        return None
    atr = sum(ranges[:period], ZERO) / period
    for value in ranges[period:]:
        atr = (atr * (period - 1) + value) / period
    return atr


def closed_candles(candles: Sequence[Candle], timeframe_ms: int, now: int) -> list[Candle]:
    """Drop the bar still forming: venues return it last, and its range is not final."""
    return [candle for candle in candles if candle.timestamp + timeframe_ms <= now]
