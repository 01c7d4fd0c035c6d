"""Range and volatility: true range, ATR, Bollinger bands and their width."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from elcaro.indicators._series import FloatArray, nan_like, period_of, rolling, same_shape, series
from elcaro.indicators.moving import smooth


def true_range(high: ArrayLike, low: ArrayLike, close: ArrayLike) -> FloatArray:
    """``max(high − low, |high − previous close|, |low − previous close|)``.

    The first bar has no previous close, so its true range is NaN (as in Wilder's definition and
    TA-Lib) rather than a plain ``high − low`` that would mix two definitions in one series.
    """
    high, low, close = series(high, "high"), series(low, "low"), series(close, "close")
    same_shape("close", high, low, close)
    out = nan_like(high)
    previous = close[..., :-1]
    out[..., 1:] = np.maximum(
        high[..., 1:] - low[..., 1:],
        np.maximum(np.abs(high[..., 1:] - previous), np.abs(low[..., 1:] - previous)),
    )
    return out


def atr(high: ArrayLike, low: ArrayLike, close: ArrayLike, period: int) -> FloatArray:
    """Average true range with Wilder's smoothing (``alpha = 1 / period``).

    The first value, at index ``period``, is the mean of the true ranges of bars 1…``period`` (bar 0
    has none); each later one is ``(previous × (period − 1) + true range) / period``. This matches
    TA-Lib's ``ATR`` and Wilder's book.
    """
    period = period_of(period)
    return smooth(true_range(high, low, close), 1.0 / period, period, start=1)


def bollinger(close: ArrayLike, period: int, k: float) -> tuple[FloatArray, FloatArray, FloatArray]:
    """``(middle, upper, lower)``: SMA of ``period`` closes ± ``k`` population standard deviations.

    The deviation divides by ``period`` (not ``period − 1``), as Bollinger and TA-Lib do.
    """
    close = series(close, "close")
    period = period_of(period)
    middle = rolling(close, period, "mean")
    spread = k * rolling(close, period, "std")
    return middle, middle + spread, middle - spread


def bollinger_width(close: ArrayLike, period: int, k: float) -> FloatArray:
    """``(upper − lower) / middle`` as a fraction (0.04 is a band 4 % of price wide); NaN where middle is 0."""
    middle, upper, lower = bollinger(close, period, k)
    with np.errstate(divide="ignore", invalid="ignore"):
        width = (upper - lower) / middle
    width[middle == 0] = np.nan
    return width
