"""Returns and how two series move together."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from elcaro.indicators._series import FloatArray, blocks, nan_like, period_of, series, windows


def log_returns(close: ArrayLike) -> FloatArray:
    """``ln(close[i] / close[i − 1])``; NaN for the first bar."""
    close = series(close, "close")
    out = nan_like(close)
    with np.errstate(divide="ignore", invalid="ignore"):
        out[..., 1:] = np.log(close[..., 1:] / close[..., :-1])
    return out


def rolling_correlation(a: ArrayLike, b: ArrayLike, period: int) -> FloatArray:
    """Pearson correlation of ``a`` and ``b`` over the last ``period`` values; NaN before, and where either is flat.

    ``b`` may be 1-D against a 2-D ``a`` (one benchmark series against many symbols): it is broadcast
    over the rows. Each window is centred on its own means, so large price levels lose no precision.
    """
    a, b = np.broadcast_arrays(series(a, "a"), series(b, "b"))
    period = period_of(period, minimum=2)
    out = nan_like(a)
    if a.shape[-1] < period:
        return out
    wa, wb = windows(a, period), windows(b, period)
    for block in blocks(wa):
        da = wa[..., block, :] - wa[..., block, :].mean(axis=-1, keepdims=True)
        db = wb[..., block, :] - wb[..., block, :].mean(axis=-1, keepdims=True)
        with np.errstate(divide="ignore", invalid="ignore"):
            correlation = (da * db).sum(axis=-1) / np.sqrt((da * da).sum(axis=-1) * (db * db).sum(axis=-1))
        out[..., period - 1 + block.start : period - 1 + block.stop] = np.clip(correlation, -1.0, 1.0)
    return out
