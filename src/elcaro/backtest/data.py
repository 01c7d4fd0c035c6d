"""Recorded candles for a backtest: files found, read, cut to a window, resampled, and their gaps reported.

Candle files are the platform's CSV (``timestamp,open,high,low,close,volume``, see
``elcaro.marketdata.csv_io``) named ``<BASE>_<QUOTE>[_<SETTLE>]-<timeframe>.csv``, as freqtrade
names its downloads (the rules are in ``elcaro.marketdata.files``): ``ETH_BTC-5m.csv`` is ``ETH/BTC`` in
5-minute candles, ``XRP_USDT_USDT-1h.csv`` is ``XRP/USDT:USDT`` in hourly ones. A folder is read for
every such file in it; a file given by name must be named so. When a symbol comes in several
timeframes, the finest one that divides the backtest's timeframe is used.

Gaps are not filled: a missing candle stays missing (the strategy sees the next candle as the next
bar), and every gap is reported with the data, so a reader can tell where a result leans on a hole
in the record. A resampled bar built from fewer base candles than it spans is counted too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from elcaro.marketdata import (
    CandleArrays,
    CandleFile,
    SeriesHealth,
    Timeframe,
    candle_files,
    check_health,
    read_candles,
    resample_arrays,
)
from elcaro.models.errors import ValidationError


@dataclass(frozen=True, slots=True)
class SymbolData:
    """One symbol's candles at the backtest timeframe, inside the window, and what the record lacks."""

    symbol: str
    path: Path
    base_timeframe: str
    candles: CandleArrays
    health: SeriesHealth
    """Of the base candles inside the window: gaps, duplicates, coverage."""
    incomplete_bars: int
    """Bars at the backtest timeframe built from fewer base candles than they span."""

    @property
    def missing(self) -> int:
        return self.health.missing


@dataclass(frozen=True, slots=True)
class Dataset:
    timeframe: str
    start: int | None
    end: int | None
    symbols: tuple[SymbolData, ...]
    skipped: tuple[str, ...] = ()
    """Files or symbols left out, each with the reason."""

    @property
    def universe(self) -> dict[str, CandleArrays]:
        return {item.symbol: item.candles for item in self.symbols}

    @property
    def candles(self) -> int:
        return sum(len(item.candles) for item in self.symbols)

    def gap_lines(self) -> list[str]:
        """One line per symbol whose record has holes or short bars inside the window."""
        lines = []
        for item in self.symbols:
            if item.missing or item.incomplete_bars:
                biggest = max((gap.count for gap in item.health.gaps), default=0)
                line = (
                    f"{item.symbol}: {item.missing} missing {item.base_timeframe} candles in "
                    f"{len(item.health.gaps)} gaps (longest {biggest})"
                )
                if item.base_timeframe != self.timeframe:
                    line += f", {item.incomplete_bars} {self.timeframe} bars built from fewer candles than they span"
                lines.append(line)
        return lines


def find_files(paths: Iterable[str | Path]) -> list[CandleFile]:
    """Every candle file named as the module docstring says, in the given files and folders, sorted by path."""
    found: list[CandleFile] = []
    for given in paths:
        path = Path(given)
        if not path.exists():
            raise ValidationError(f"no such file or folder: {path}", field="data")
        if path.is_dir():
            found.extend(candle_files(path))
            continue
        try:
            found.append(CandleFile.parse(path))
        except ValidationError as error:
            raise ValidationError(error.reason, field="data") from None
    return sorted(found, key=lambda f: str(f.path))


def _choose(
    files: Sequence[CandleFile], target: Timeframe
) -> tuple[dict[str, CandleFile], list[tuple[CandleFile, str]]]:
    chosen: dict[str, CandleFile] = {}
    unused: list[tuple[CandleFile, str]] = []
    for item in sorted(files, key=lambda f: (f.symbol, f.timeframe.ms, str(f.path))):
        if not target.contains(item.timeframe):
            unused.append((item, f"{item.path.name}: {item.timeframe} candles cannot make {target} bars"))
        elif item.symbol in chosen:
            unused.append((item, f"{item.path.name}: {item.symbol} already comes from {chosen[item.symbol].path.name}"))
        else:
            chosen[item.symbol] = item
    return chosen, unused


def _wanted(symbols: Sequence[str] | None, available: Mapping[str, CandleFile]) -> list[str]:
    if not symbols:
        return sorted(available)
    wanted: list[str] = []
    for name in symbols:
        key = name.strip().upper()
        matches = [s for s in available if s == key or s.replace("/", "_").replace(":", "_") == key]
        if not matches:
            raise ValidationError(
                f"no candle file for {name!r} (available: {', '.join(sorted(available)) or 'none'})", field="symbols"
            )
        wanted.extend(m for m in matches if m not in wanted)
    return sorted(wanted)


def load_dataset(
    paths: Iterable[str | Path],
    timeframe: str,
    *,
    start: int | None = None,
    end: int | None = None,
    symbols: Sequence[str] | None = None,
    on_file: Callable[[str, int, int], None] | None = None,
) -> Dataset:
    """Candles of every file under ``paths`` at ``timeframe``, open times in ``[start, end)`` (UTC ms).

    ``on_file(name, done, total)`` is called before each file is read.
    """
    target = Timeframe.parse(timeframe)
    if start is not None and end is not None and start >= end:
        raise ValidationError("the window is empty: --from must be before --to", field="from")
    files = find_files(paths)
    if not files:
        raise ValidationError("no candle files found (expected names like ETH_BTC-5m.csv)", field="data")
    chosen, unused = _choose(files, target)
    wanted = _wanted(symbols, chosen)
    skipped = [reason for item, reason in unused if not symbols or item.symbol in wanted]
    loaded: list[SymbolData] = []
    for done, symbol in enumerate(wanted):
        item = chosen[symbol]
        if on_file is not None:
            on_file(item.path.name, done, len(wanted))
        candles = [
            c
            for c in read_candles(item.path)
            if (start is None or c.timestamp >= start) and (end is None or c.timestamp < end)
        ]
        if not candles:
            skipped.append(f"{item.path.name}: no candles inside the window")
            continue
        base = CandleArrays.from_candles(candles)
        health = check_health(candles, item.timeframe)
        if item.timeframe == target:
            bars, incomplete = base, 0
        else:
            resampled = resample_arrays(base, item.timeframe, target)
            bars, incomplete = resampled.candles, int(resampled.incomplete.sum())
        if not len(bars):
            skipped.append(f"{item.path.name}: too few candles for one {target} bar")
            continue
        loaded.append(SymbolData(symbol, item.path, item.timeframe.name, bars, health, incomplete))
    if not loaded:
        raise ValidationError("no candles to backtest: " + "; ".join(skipped), field="data")
    return Dataset(target.name, start, end, tuple(loaded), tuple(skipped))
