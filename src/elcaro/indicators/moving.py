"""Moving averages: simple, exponential and Wilder's.

The two recursive averages are seeded the way TA-Lib and most charting tools seed them: the first
value is the simple mean of the first ``period`` inputs, placed at index ``period − 1``; every later
value is ``previous + alpha × (input − previous)``. EMA uses ``alpha = 2 / (period + 1)``; Wilder's
average (RMA/SMMA, the smoothing of ATR and RSI) uses ``alpha = 1 / period``, i.e.
``(previous × (period − 1) + input) / period``.

The recursion is the only loop over bars in the package, and it is inherent: each value needs the
one before. For one series it runs over Python floats (about 50 ns a bar); for a 2-D block it steps
through time once with each step vectorised across the rows, so a universe costs one pass.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from elcaro.indicators._series import FloatArray, nan_like, period_of, rolling, series


def sma(values: ArrayLike, period: int) -> FloatArray:
    """Mean of the last ``period`` values; NaN for the first ``period − 1``."""
    return rolling(series(values, "values"), period_of(period), "mean")


def ema(values: ArrayLike, period: int) -> FloatArray:
    """Exponential moving average, ``alpha = 2 / (period + 1)``, seeded with the SMA of the first ``period`` values.

    The input must hold no NaN: a NaN makes every later value NaN, as the recursion carries it.
    """
    period = period_of(period)
    return smooth(series(values, "values"), 2.0 / (period + 1), period)


def wilder(values: ArrayLike, period: int) -> FloatArray:
    """Wilder's moving average (RMA), ``alpha = 1 / period``, seeded with the SMA of the first ``period`` values."""
    period = period_of(period)
    return smooth(series(values, "values"), 1.0 / period, period)


def smooth(values: FloatArray, alpha: float, period: int, *, start: int = 0) -> FloatArray:
    """The seeded recursion behind :func:`ema` and :func:`wilder`, over ``values[..., start:]``.

    The seed is the mean of ``values[..., start : start + period]`` at index ``start + period − 1``;
    everything before it is NaN. ``start`` skips leading values that are undefined (the first true
    range has no previous close).
    """
    out = nan_like(values)
    seed_at = start + period - 1
    length = values.shape[-1]
    if length <= seed_at:
        return out
    seed = values[..., start : seed_at + 1].mean(axis=-1)
    keep = 1.0 - alpha
    if values.ndim == 1:
        previous = float(seed)
        result = [previous]
        append = result.append
        for value in values[seed_at + 1 :].tolist():
            previous = previous * keep + alpha * value
            append(previous)
        out[seed_at:] = result
        return out
    # Time-major copy, so each step reads and writes one contiguous row of all symbols.
    scaled = np.ascontiguousarray(values[:, seed_at:].T) * alpha
    steps = np.empty_like(scaled)
    steps[0] = seed
    for step in range(1, len(steps)):
        np.multiply(steps[step - 1], keep, out=steps[step])
        steps[step] += scaled[step]
    out[:, seed_at:] = steps.T
    return out
