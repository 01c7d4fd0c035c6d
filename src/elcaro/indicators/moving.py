"""Moving averages: simple, exponential and Wilder's.

The two recursive averages are seeded the way TA-Lib and most charting tools seed them: the first
value is the simple mean of the first ``period`` inputs, placed at index ``period − 1``; every later
value is ``previous + alpha × (input − previous)``. EMA uses ``alpha = 2 / (period + 1)``; Wilder's
average (RMA/SMMA, the smoothing of ATR and RSI) uses ``alpha = 1 / period``, i.e.
``(previous × (period − 1) + input) / period``.

Each value needs the one before, but the recursion is linear, so it is solved a block of ``k`` bars
at a time rather than bar by bar. Within a block that starts after the value ``y₀``::

    y_j = keepʲ · (S_j + keep · y₀),   S_j = Σ_{i ≤ j} keep⁻ⁱ · alpha · x_i,   keep = 1 − alpha

so a block costs one cumulative sum, vectorised across blocks and rows, and only the last value of
each block is carried to the next in a loop of ``n / k`` steps. ``k`` (at most 4096) keeps
``keep⁻ᵏ`` under 2²⁰⁰, far from overflow. The values differ from the bar-by-bar loop by rounding
only (below 1e-14 relative on real prices); ``benchmarks/backtest_speed.py`` times the two. A NaN
or infinite input spoils the values from its bar on, as it does in the plain recursion.
"""

from __future__ import annotations

import math

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
    with np.errstate(invalid="ignore"):  # ∞ − ∞ from infinite inputs is NaN, as in the plain recursion
        seed = values[..., start : seed_at + 1].mean(axis=-1)
        out[..., seed_at] = seed
        _recurse(out[..., seed_at + 1 :], values[..., seed_at + 1 :], seed, alpha)
    return out


_MAX_GROWTH_BITS = 200
"""Inside a block ``keep⁻ʲ`` stays below 2 to this power: room for inputs up to about 1e248."""
_MAX_BLOCK = 4096


def _recurse(target: FloatArray, inputs: FloatArray, first: FloatArray | float, alpha: float) -> None:
    """Write ``y_t = keep·y_{t−1} + alpha·x_t`` into ``target`` along the last axis, from ``y_{−1} = first``."""
    length = target.shape[-1]
    keep = 1.0 - alpha
    if length == 0:
        return
    if keep == 0.0:
        # alpha = 1 (period 1): y is the input, except that 0 × a non-finite y is NaN in the recursion.
        np.multiply(inputs, alpha, out=target)
        started = np.concatenate((np.asarray(first, dtype=np.float64)[..., None], inputs), axis=-1)
        target[np.cumsum(~np.isfinite(started), axis=-1)[..., :-1] > 0] = np.nan
        return
    bits_per_bar = abs(math.log2(abs(keep)))  # how much keep⁻ʲ grows from one bar to the next
    longest = int(_MAX_GROWTH_BITS / bits_per_bar) if bits_per_bar > 0 else _MAX_BLOCK
    block = max(1, min(length, _MAX_BLOCK, longest))
    whole = length - length % block
    lead = target.shape[:-1]
    if whole:
        first = _recurse_blocks(
            target[..., :whole].reshape(*lead, whole // block, block),
            inputs[..., :whole].reshape(*lead, whole // block, block),
            first,
            alpha,
            keep,
        )
    if whole < length:
        _recurse_blocks(
            target[..., whole:].reshape(*lead, 1, length - whole),
            inputs[..., whole:].reshape(*lead, 1, length - whole),
            first,
            alpha,
            keep,
        )


def _recurse_blocks(
    target: FloatArray, inputs: FloatArray, first: FloatArray | float, alpha: float, keep: float
) -> FloatArray | float:
    """The recursion over blocks of shape ``(..., blocks, k)``, in place in ``target``; returns the last value.

    ``y_j = keepʲ·(S_j + keep·y₀)`` with ``S_j = Σ_{i≤j} keep⁻ⁱ·alpha·x_i``: one cumulative sum per block.
    """
    bars = np.arange(target.shape[-1], dtype=np.float64)
    decay = np.power(keep, bars)
    np.multiply(inputs, np.power(keep, -bars) * alpha, out=target)
    np.cumsum(target, axis=-1, out=target)
    ends = np.moveaxis(target[..., -1], -1, 0) * decay[-1]  # each block's last value had it started from 0
    carry = keep ** target.shape[-1]
    starts = np.empty(target.shape[:-1])
    previous = first
    for index, end in enumerate(ends):
        starts[..., index] = previous
        previous = carry * previous + end
    target += starts[..., None] * keep
    target *= decay
    return previous
