"""Shared input checks and window helpers of the indicators: every indicator works along the last axis.

A series is a float64 array of one dimension (one symbol) or two (one row per symbol, equal lengths),
so the scanner can compute an indicator for a whole universe in one call.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import ArrayLike, NDArray

from elcaro.models.errors import ValidationError

FloatArray = NDArray[np.float64]


def series(values: ArrayLike, name: str) -> FloatArray:
    """``values`` as a float64 array of one or two dimensions (no copy when it already is one)."""
    array = np.asarray(values, dtype=np.float64)
    if array.ndim not in (1, 2):
        raise ValidationError(f"must be a 1-D or 2-D array, got {array.ndim} dimensions", field=name)
    return array


def same_shape(name: str, first: FloatArray, *others: FloatArray) -> None:
    for other in others:
        if other.shape != first.shape:
            raise ValidationError(f"arrays must have the same shape, got {first.shape} and {other.shape}", field=name)


def period_of(period: int, name: str = "period", *, minimum: int = 1) -> int:
    if isinstance(period, bool) or not isinstance(period, int | np.integer) or period < minimum:
        raise ValidationError(f"must be an integer ≥ {minimum}, got {period!r}", field=name)
    return int(period)


def nan_like(values: FloatArray) -> FloatArray:
    return np.full(values.shape, np.nan)


def windows(values: FloatArray, period: int) -> FloatArray:
    """Read-only view of every run of ``period`` consecutive values: shape ``(..., n − period + 1, period)``."""
    return sliding_window_view(values, period, axis=-1)


def rolling(values: FloatArray, period: int, reduce: str) -> FloatArray:
    """``reduce`` (a numpy method name: mean, max, min, std) over the last ``period`` values, NaN before.

    Each window is reduced on its own (no running sum), so a long series accumulates no rounding
    error and a NaN spoils only the windows that hold it.
    """
    out = nan_like(values)
    if values.shape[-1] >= period:
        view = windows(values, period)
        for block in blocks(view):
            out[..., period - 1 + block.start : period - 1 + block.stop] = getattr(view[..., block, :], reduce)(axis=-1)
    return out


_BLOCK_VALUES = 1 << 20
"""Window values one step may touch: a reduction that copies its windows (std, a correlation) then needs
about 8 MB per temporary whatever the period and the length (a year of 5m bars × 288 would need 240 MB)."""


def blocks(view: FloatArray) -> list[slice]:
    """Consecutive ranges of the windows of ``view`` (shape ``(..., windows, period)``) to reduce one at a time."""
    count, size = view.shape[-2], view.shape[-1] * (view.shape[0] if view.ndim == 3 else 1)
    step = max(1, _BLOCK_VALUES // max(1, size))
    return [slice(start, min(count, start + step)) for start in range(0, count, step)]


def shift_right(values: FloatArray, by: int) -> FloatArray:
    """``values`` delayed by ``by`` positions along the last axis, NaN in front."""
    if by == 0:
        return values
    out = nan_like(values)
    if values.shape[-1] > by:
        out[..., by:] = values[..., :-by]
    return out
