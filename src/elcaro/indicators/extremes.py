"""Rolling extremes: Donchian channel edges."""

from __future__ import annotations

from numpy.typing import ArrayLike

from elcaro.indicators._series import FloatArray, period_of, rolling, series, shift_right


def rolling_max(values: ArrayLike, period: int, *, shift: int = 0) -> FloatArray:
    """Highest of ``period`` values ending ``shift`` bars back; NaN until that many exist.

    ``shift=1`` gives the Donchian upper band a breakout is measured against: the high of the
    ``period`` bars *before* the current one, so the current bar cannot raise its own threshold.
    """
    return shift_right(rolling(series(values, "values"), period_of(period), "max"), _shift(shift))


def rolling_min(values: ArrayLike, period: int, *, shift: int = 0) -> FloatArray:
    """Lowest of ``period`` values ending ``shift`` bars back (the Donchian lower band with ``shift=1``)."""
    return shift_right(rolling(series(values, "values"), period_of(period), "min"), _shift(shift))


def _shift(shift: int) -> int:
    return period_of(shift, "shift", minimum=0)
