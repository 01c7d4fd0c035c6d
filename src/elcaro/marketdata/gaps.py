"""Health of a candle series: what is missing, repeated, out of place or dead, in one pass.

It takes the series as it is (read with ``csv_io.read_candles(..., check_order=False)`` to see a
broken file whole) and reports every problem with the row index it sits at; in a CSV file that is
line ``index + 2``. Missing candles are counted on the time line, so they come out the same
whether or not the rows were sorted.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from elcaro.models.errors import ValidationError
from elcaro.models.market import Candle
from elcaro.models.timeframe import Timeframe


@dataclass(frozen=True, slots=True)
class Run:
    """Consecutive candle slots from ``start`` to ``end``, both open times and both included."""

    start: int
    end: int
    count: int


@dataclass(frozen=True, slots=True)
class Misplaced:
    """A row that breaks the order: ``timestamp`` at ``index`` after ``previous`` (or a repeat of it)."""

    index: int
    timestamp: int
    previous: int


@dataclass(frozen=True, slots=True)
class SeriesHealth:
    timeframe: Timeframe
    start: int | None
    """First open time the series should have (the window's, else its earliest candle's); None when empty."""
    end: int | None
    """Last open time the series should have, included."""
    rows: int
    present: int
    """Distinct, boundary-aligned candles inside the window: what coverage counts."""
    gaps: tuple[Run, ...]
    """Missing candles as runs (start, end, count), oldest first."""
    duplicates: tuple[Misplaced, ...]
    """Rows repeating the timestamp of an earlier row; ``previous`` is the row before them."""
    out_of_order: tuple[Misplaced, ...]
    """Rows earlier than the row before them (and not a repeat)."""
    misaligned: tuple[int, ...]
    """Indexes of rows whose timestamp is not on a timeframe boundary; left out of every other count."""
    outside: int
    """Aligned rows before ``start`` or after ``end`` of a given window; left out of coverage."""
    zero_volume: tuple[Run, ...]
    """Runs of present candles with zero volume (a halted or dead market), oldest first."""

    @property
    def expected(self) -> int:
        if self.start is None or self.end is None:
            return 0
        # A window starting after the last candle (start given, end not) expects nothing.
        return max(0, (self.end - self.start) // self.timeframe.ms + 1)

    @property
    def missing(self) -> int:
        return sum(gap.count for gap in self.gaps)

    @property
    def coverage_pct(self) -> float:
        """Share of expected candles present, in percent; 0 for an empty series."""
        return 100.0 * self.present / self.expected if self.expected else 0.0

    @property
    def is_healthy(self) -> bool:
        """Complete, in order, without repeats. Zero volume is a market fact, not a data fault, so it does not count."""
        return self.expected > 0 and not (self.gaps or self.duplicates or self.out_of_order or self.misaligned)

    def summary(self) -> str:
        """One line for a log or a terminal."""
        return (
            f"{self.timeframe}: {self.present}/{self.expected} candles ({self.coverage_pct:.2f}%), "
            f"{self.missing} missing in {len(self.gaps)} gaps, {len(self.duplicates)} duplicates, "
            f"{len(self.out_of_order)} out of order, {len(self.misaligned)} misaligned, "
            f"{sum(run.count for run in self.zero_volume)} zero-volume in {len(self.zero_volume)} runs"
        )


def check_health(
    candles: Iterable[Candle], timeframe: str | Timeframe, *, start: int | None = None, end: int | None = None
) -> SeriesHealth:
    """Report on ``candles`` at ``timeframe``.

    ``start`` and ``end`` (open times, included) set the window the series should cover, so that
    candles missing before the first row or after the last one count too; by default the window
    runs from the earliest to the latest candle. They are rounded inwards to timeframe boundaries.
    """
    timeframe = Timeframe.parse(timeframe)
    if start is not None and not timeframe.is_boundary(start):
        start = timeframe.floor(start) + timeframe.ms
    if end is not None:
        end = timeframe.floor(end)
    if start is not None and end is not None and start > end:
        raise ValidationError(f"the window {start}…{end} holds no {timeframe} candle", field="start")

    rows = 0
    volumes: dict[int, bool] = {}  # open time → zero volume, first row of each timestamp only
    duplicates: list[Misplaced] = []
    out_of_order: list[Misplaced] = []
    misaligned: list[int] = []
    previous: int | None = None
    for index, candle in enumerate(candles):
        rows += 1
        timestamp = candle.timestamp
        if not timeframe.is_boundary(timestamp):
            misaligned.append(index)
            continue
        if previous is not None:
            if timestamp in volumes:
                duplicates.append(Misplaced(index, timestamp, previous))
            elif timestamp < previous:
                out_of_order.append(Misplaced(index, timestamp, previous))
        previous = timestamp
        volumes.setdefault(timestamp, candle.volume == 0)

    times = sorted(volumes)
    first = start if start is not None else (times[0] if times else None)
    last = end if end is not None else (times[-1] if times else None)
    inside = [t for t in times if first is not None and last is not None and first <= t <= last]
    return SeriesHealth(
        timeframe=timeframe,
        start=first,
        end=last,
        rows=rows,
        present=len(inside),
        gaps=_gaps(inside, first, last, timeframe.ms),
        duplicates=tuple(duplicates),
        out_of_order=tuple(out_of_order),
        misaligned=tuple(misaligned),
        outside=len(times) - len(inside),
        zero_volume=_runs((t for t in inside if volumes[t]), timeframe.ms),
    )


def _gaps(times: list[int], first: int | None, last: int | None, step: int) -> tuple[Run, ...]:
    """Missing slots between ``first`` and ``last`` given the sorted present ``times`` inside them."""
    if first is None or last is None:
        return ()
    gaps: list[Run] = []
    expected = first  # the next open time that should be present
    for timestamp in [*times, last + step]:  # the sentinel closes a trailing gap
        if timestamp > expected:
            gaps.append(Run(expected, timestamp - step, (timestamp - expected) // step))
        expected = timestamp + step
    return tuple(gaps)


def _runs(times: Iterable[int], step: int) -> tuple[Run, ...]:
    """Group sorted open times into runs of adjacent slots."""
    runs: list[Run] = []
    for timestamp in times:
        if runs and runs[-1].end + step == timestamp:
            runs[-1] = Run(runs[-1].start, timestamp, runs[-1].count + 1)
        else:
            runs.append(Run(timestamp, timestamp, 1))
    return tuple(runs)
