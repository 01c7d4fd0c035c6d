"""Candles of a higher timeframe made from a lower one: exact with ``Decimal``, fast with numpy columns.

A bucket's candle takes the open of its first base candle, the highest high, the lowest low, the
close of its last base candle and the summed volume; its timestamp is the bucket's open time.
Rules shared by both paths:

- The last bucket is dropped while unfinished (its last base candle has not been seen), because its
  values would still change on a live feed; ``include_partial=True`` keeps it.
- Any other bucket missing base candles (a gap, or a series starting mid-bucket) is still produced,
  and reported, so a strategy can decide whether a bar built from 3 of 12 candles is good enough.
- Input must be strictly increasing and on base-timeframe boundaries; anything else is refused,
  since bucket counts would be wrong. ``gaps.check_health`` finds where such a series breaks.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import MAX_EMAX, MAX_PREC, MIN_EMIN, Context, Decimal, localcontext

import numpy as np
from numpy.typing import NDArray

from elcaro.marketdata.arrays import CandleArrays
from elcaro.models.errors import ValidationError
from elcaro.models.market import Candle
from elcaro.models.timeframe import Timeframe

# Summing volumes in the default 28-digit context would round (1e20 + 1e-8 needs 29 digits).
_EXACT = Context(prec=MAX_PREC, Emax=MAX_EMAX, Emin=MIN_EMIN)


@dataclass(frozen=True, slots=True)
class IncompleteBucket:
    """A produced bucket built from fewer base candles than it spans."""

    timestamp: int
    present: int
    expected: int

    @property
    def missing(self) -> int:
        return self.expected - self.present


@dataclass(frozen=True, slots=True)
class Resampled:
    timeframe: Timeframe
    candles: tuple[Candle, ...]
    incomplete: tuple[IncompleteBucket, ...]
    """The buckets of ``candles`` that miss base candles, oldest first."""


@dataclass(frozen=True, slots=True)
class ResampledArrays:
    timeframe: Timeframe
    candles: CandleArrays
    counts: NDArray[np.int64]
    """Base candles in each bucket; below ``expected`` where some were missing."""
    expected: int

    @property
    def incomplete(self) -> NDArray[np.bool_]:
        return self.counts < self.expected


def resample(
    candles: Iterable[Candle], base: str | Timeframe, target: str | Timeframe, *, include_partial: bool = False
) -> Resampled:
    """Exact resampling of a sorted ``base`` series into ``target`` buckets, reading ``candles`` once."""
    base, target = _timeframes(base, target)
    expected = target.ms // base.ms
    produced: list[Candle] = []
    incomplete: list[IncompleteBucket] = []

    def emit(candle: Candle, count: int) -> None:
        produced.append(candle)
        if count < expected:
            incomplete.append(IncompleteBucket(candle.timestamp, count, expected))

    start: int | None = None  # open time of the bucket being built
    open_ = high = low = close = volume = Decimal(0)
    count = 0
    previous: int | None = None
    with localcontext(_EXACT):
        for candle in candles:
            timestamp = candle.timestamp
            if previous is not None and timestamp <= previous:
                raise ValidationError(f"candle {timestamp} follows {previous}: input must be strictly increasing")
            if not base.is_boundary(timestamp):
                raise ValidationError(f"candle {timestamp} is not on a {base} boundary", field="timestamp")
            previous = timestamp
            bucket = target.floor(timestamp)
            if bucket != start:
                if start is not None:
                    emit(Candle(start, open_, high, low, close, volume), count)
                start, open_, high, low, volume, count = bucket, candle.open, candle.high, candle.low, candle.volume, 1
            else:
                high = max(high, candle.high)
                low = min(low, candle.low)
                volume += candle.volume
                count += 1
            close = candle.close
    if start is not None and previous is not None and (include_partial or previous + base.ms == start + target.ms):
        emit(Candle(start, open_, high, low, close, volume), count)
    return Resampled(target, tuple(produced), tuple(incomplete))


def resample_arrays(
    candles: CandleArrays, base: str | Timeframe, target: str | Timeframe, *, include_partial: bool = False
) -> ResampledArrays:
    """The same as :func:`resample` on float64 columns, vectorised; volumes agree to float rounding."""
    base, target = _timeframes(base, target)
    timestamps = candles.timestamp
    _check_series(timestamps, base)
    keys = timestamps - (timestamps - target.origin) % target.ms
    starts = np.flatnonzero(np.diff(keys, prepend=keys[:1] - 1))
    ends = np.append(starts[1:], len(keys))[: len(starts)]  # one past each bucket's last base candle
    if len(starts) and not include_partial and timestamps[-1] + base.ms != keys[-1] + target.ms:
        starts, ends = starts[:-1], ends[:-1]
    last = ends[-1] if len(ends) else 0  # reduceat runs the last slice to the end: cut a dropped bucket off first
    result = CandleArrays(
        keys[starts],
        candles.open[starts],
        np.maximum.reduceat(candles.high[:last], starts),
        np.minimum.reduceat(candles.low[:last], starts),
        candles.close[ends - 1],
        np.add.reduceat(candles.volume[:last], starts),
    )
    return ResampledArrays(target, result, (ends - starts).astype(np.int64), target.ms // base.ms)


def _check_series(timestamps: NDArray[np.int64], base: Timeframe) -> None:
    steps = np.diff(timestamps)
    if (steps <= 0).any():
        at = int(np.argmax(steps <= 0)) + 1
        raise ValidationError(
            f"candle {timestamps[at]} at index {at} follows {timestamps[at - 1]}: input must be strictly increasing"
        )
    off_boundary = (timestamps - base.origin) % base.ms != 0
    if off_boundary.any():
        at = int(np.argmax(off_boundary))
        raise ValidationError(f"candle {timestamps[at]} at index {at} is not on a {base} boundary", field="timestamp")


def _timeframes(base: str | Timeframe, target: str | Timeframe) -> tuple[Timeframe, Timeframe]:
    base, target = Timeframe.parse(base), Timeframe.parse(target)
    if not target.contains(base):
        raise ValidationError(f"{base} candles cannot be resampled into {target}", field="timeframe")
    return base, target
