"""Shape of a single candle."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from elcaro.indicators._series import FloatArray, same_shape, series


def body_ratio(open: ArrayLike, high: ArrayLike, low: ArrayLike, close: ArrayLike) -> FloatArray:
    """``|close − open| / (high − low)``: 1 for a bar that is all body, near 0 for a doji; NaN when ``high == low``."""
    open_, high, low, close = series(open, "open"), series(high, "high"), series(low, "low"), series(close, "close")
    same_shape("close", open_, high, low, close)
    span = high - low
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.abs(close - open_) / span
    ratio[span == 0] = np.nan
    return ratio
