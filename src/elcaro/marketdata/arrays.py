"""Candles as columns: int64 timestamps and float64 prices, the form indicators and backtests compute on."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from elcaro.models.errors import ValidationError
from elcaro.models.market import Candle


@dataclass(frozen=True, slots=True)
class CandleArrays:
    """One candle per index across six equal-length, one-dimensional columns."""

    timestamp: NDArray[np.int64]
    open: NDArray[np.float64]
    high: NDArray[np.float64]
    low: NDArray[np.float64]
    close: NDArray[np.float64]
    volume: NDArray[np.float64]

    def __post_init__(self) -> None:
        # Checked rather than converted: a silent cast from float timestamps or int prices hides a caller's bug.
        if self.timestamp.dtype != np.int64 or self.timestamp.ndim != 1:
            raise ValidationError(
                f"timestamps must be a 1-D int64 array, got {self.timestamp.dtype}", field="timestamp"
            )
        for name in ("open", "high", "low", "close", "volume"):
            column: NDArray[np.float64] = getattr(self, name)
            if column.dtype != np.float64 or column.shape != self.timestamp.shape:
                raise ValidationError(
                    f"must be a float64 array of {len(self.timestamp)} values, got {column.dtype} {column.shape}",
                    field=name,
                )

    def __len__(self) -> int:
        return len(self.timestamp)

    @classmethod
    def from_candles(cls, candles: Iterable[Candle]) -> CandleArrays:
        """Columns of ``candles``; each price becomes the float nearest to its exact value."""
        items = list(candles)
        timestamps = np.fromiter((c.timestamp for c in items), dtype=np.int64, count=len(items))
        # Row-major (5, n) after the copy, so each column is one contiguous block.
        columns = np.array([(c.open, c.high, c.low, c.close, c.volume) for c in items], dtype=np.float64)
        columns = columns.reshape(len(items), 5).T.copy()
        return cls(timestamps, columns[0], columns[1], columns[2], columns[3], columns[4])
