"""Volume relative to its own recent past."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from elcaro.indicators._series import FloatArray, period_of, rolling, series, shift_right


def volume_surge(volume: ArrayLike, period: int) -> FloatArray:
    """Each bar's volume over the mean volume of the ``period`` bars before it (the bar itself excluded).

    NaN for the first ``period`` bars and where both are 0; ``inf`` where a bar trades after
    ``period`` bars without volume.
    """
    volume = series(volume, "volume")
    baseline = shift_right(rolling(volume, period_of(period), "mean"), 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return volume / baseline
