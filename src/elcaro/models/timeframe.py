"""Candle timeframes: the names venues use, their length in milliseconds, and bucket boundaries.

Every timeframe up to a day is aligned to the Unix epoch (1970-01-01 00:00 UTC), as venues do. A
week starts on Monday 00:00 UTC, as Bybit's weekly candles do and as ccxt's ``round_timeframe``
counts them (from Monday 1970-01-05): the epoch was a Thursday, so plain epoch alignment would
put weeks on Thursdays. Names are case-sensitive on purpose: in ccxt ``1M`` is a month.
"""

from __future__ import annotations

from dataclasses import dataclass

from elcaro.models.errors import ValidationError

MINUTE_MS = 60_000
HOUR_MS = 60 * MINUTE_MS
DAY_MS = 24 * HOUR_MS
WEEK_MS = 7 * DAY_MS
WEEK_OFFSET_MS = 4 * DAY_MS
"""1970-01-05, the first Monday after the epoch: weekly buckets start on it and every 7 days from it."""

_LENGTHS: dict[str, int] = {
    "1m": MINUTE_MS,
    "3m": 3 * MINUTE_MS,
    "5m": 5 * MINUTE_MS,
    "15m": 15 * MINUTE_MS,
    "30m": 30 * MINUTE_MS,
    "1h": HOUR_MS,
    "2h": 2 * HOUR_MS,
    "4h": 4 * HOUR_MS,
    "6h": 6 * HOUR_MS,
    "12h": 12 * HOUR_MS,
    "1d": DAY_MS,
    "1w": WEEK_MS,
}

TIMEFRAMES: tuple[str, ...] = tuple(_LENGTHS)
"""Supported timeframe names, shortest first."""


@dataclass(frozen=True, slots=True)
class Timeframe:
    """A supported candle length. Build it with :meth:`parse`, which refuses anything else."""

    name: str
    ms: int

    def __post_init__(self) -> None:
        if _LENGTHS.get(self.name) != self.ms:
            raise ValidationError(f"{self.name!r} is not {self.ms} ms long", field="timeframe")

    @classmethod
    def parse(cls, value: str | Timeframe) -> Timeframe:
        """Read ``"5m"``; a ``Timeframe`` is returned as it is, so APIs can take either."""
        if isinstance(value, Timeframe):
            return value
        name = value.strip() if isinstance(value, str) else ""
        if name not in _LENGTHS:
            raise ValidationError(f"unknown timeframe {value!r} (allowed: {', '.join(TIMEFRAMES)})", field="timeframe")
        return cls(name, _LENGTHS[name])

    @property
    def origin(self) -> int:
        """An instant (epoch ms) where a bucket starts; buckets repeat every ``ms`` from it either way."""
        return WEEK_OFFSET_MS if self.ms == WEEK_MS else 0

    def floor(self, timestamp: int) -> int:
        """Open time of the bucket holding ``timestamp`` (UTC epoch ms; negative ones floor too)."""
        return timestamp - (timestamp - self.origin) % self.ms

    def is_boundary(self, timestamp: int) -> bool:
        return (timestamp - self.origin) % self.ms == 0

    def contains(self, smaller: Timeframe) -> bool:
        """Whether whole ``smaller`` candles tile this timeframe's buckets, so one can be resampled into the other.

        Lengths dividing evenly is enough: every supported length divides a day, and weeks start on a day boundary.
        """
        return self.ms % smaller.ms == 0

    def __str__(self) -> str:
        return self.name


def timeframe_ms(value: str) -> int:
    """Length of a timeframe such as ``"4h"`` in milliseconds; a ``ValidationError`` lists the allowed names."""
    return Timeframe.parse(value).ms


def floor_timestamp(timestamp: int, timeframe: str | Timeframe) -> int:
    """Open time of the ``timeframe`` bucket holding ``timestamp``."""
    return Timeframe.parse(timeframe).floor(timestamp)
