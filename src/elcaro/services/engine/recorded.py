"""Recorded candles for the engine's tools: one scanner pass over a directory of CSV files, and a replay.

A file is named ``BASE_QUOTE-<timeframe>.csv`` (spot, ``BTC_USDT-5m.csv``) or
``BASE_QUOTE_SETTLE-<timeframe>.csv`` (a perpetual, ``XRP_USDT_USDT-5m.csv``), as freqtrade writes
them (the rules are in ``elcaro.marketdata.files``). Candles are resampled to the preset's time frame
when theirs is finer (a symbol recorded at several time frames is read from the preset's own, else
the finest that fits). Only USDT-quoted symbols count as the USDT linear perpetuals the scanner looks
for; ``any_quote`` treats every file as one (the BTC-quoted pairs of the shared data, say), and the
table says so.

Without an exchange there is no order book, open interest or trade stream: those filters are
reported as skipped. The 24h volume is the last day's candles' volume × close.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np

from elcaro.marketdata import CandleArrays, CandleFile, Timeframe, candle_files, read_candles, resample_arrays
from elcaro.models import Instrument
from elcaro.models.errors import NotFoundError
from elcaro.models.market import Candle
from elcaro.models.timeframe import DAY_MS
from elcaro.services.engine.feed import BTC_SYMBOL
from elcaro.services.engine.status import ScanReport
from elcaro.strategies.breakout.preset import BreakoutPreset, list_presets, load_preset
from elcaro.strategies.breakout.scanner import MarketSnapshot, required_bars, scan


def preset_names() -> list[str]:
    return list_presets()


def preset_with(name_or_path: str, overrides: Mapping[str, Any] | None = None) -> BreakoutPreset:
    """A shipped preset (or a preset file) with dotted fields replaced, validated like a file."""
    preset = load_preset(name_or_path)
    return preset.with_values(dict(overrides)) if overrides else preset


def pick_files(directory: Path, timeframe: str) -> list[CandleFile]:
    """One file per symbol: the preset's time frame, else the finest one that resamples to it."""
    files = candle_files(directory)
    target = Timeframe.parse(timeframe)
    chosen: dict[str, CandleFile] = {}
    for found in files:
        if not target.contains(found.timeframe):
            continue
        best = chosen.get(found.symbol)
        if best is None or (best.timeframe != target and found.timeframe.ms > best.timeframe.ms):
            chosen[found.symbol] = found
    if not chosen:
        raise NotFoundError(f"no candle file in {directory} can make {timeframe} candles (BASE_QUOTE-5m.csv, …)")
    return sorted(chosen.values(), key=lambda f: f.symbol)


def load_series(file: CandleFile, timeframe: str) -> CandleArrays:
    """The file's candles in ``timeframe``, oldest first."""
    candles = CandleArrays.from_candles(read_candles(file.path))
    if file.timeframe == Timeframe.parse(timeframe):
        return candles
    return resample_arrays(candles, file.timeframe, timeframe).candles


def volume_24h(candles: CandleArrays) -> float:
    if not len(candles):
        return 0.0
    recent = candles.timestamp > candles.timestamp[-1] - DAY_MS
    return float(np.sum(candles.volume[recent] * candles.close[recent]))


@dataclass(frozen=True, slots=True)
class RecordedScan:
    report: ScanReport
    files: Mapping[str, Path]
    relabelled: tuple[str, ...] = field(default=())
    """Symbols not quoted in USDT that ``any_quote`` let into the universe."""


def scan_recorded(
    directory: Path, preset: BreakoutPreset, *, at: int | None = None, any_quote: bool = False
) -> RecordedScan:
    """One scanner pass over the files of ``directory``, each series cut at ``at`` (default: its end)."""
    files = pick_files(directory, preset.timeframe)
    bars = required_bars(preset.scanner, preset.timeframe) + 1
    snapshots = []
    btc: CandleArrays | None = None
    for file in files:
        series = load_series(file, preset.timeframe)
        if at is not None:
            series = _cut(series, at)
        window = _tail(series, bars)
        usdt = file.quote == "USDT"
        snapshots.append(
            MarketSnapshot(
                file.symbol, window, volume_24h(window), None, None, None, None, linear_usdt=usdt or any_quote
            )
        )
        if file.symbol in (BTC_SYMBOL, "BTC/USDT"):
            btc = window
    result = scan(snapshots, preset.scanner, btc=btc, timeframe=preset.timeframe)
    latest = max((int(s.candles.timestamp[-1]) for s in snapshots if len(s.candles)), default=0)
    report = ScanReport(
        at=latest,
        preset=preset.name,
        timeframe=preset.timeframe,
        candidates=result.candidates,
        decisions=dict(result.decisions),
    )
    relabelled = tuple(f.symbol for f in files if f.quote != "USDT") if any_quote else ()
    return RecordedScan(report, {f.symbol: f.path for f in files}, relabelled)


def _cut(series: CandleArrays, at: int) -> CandleArrays:
    end = int(np.searchsorted(series.timestamp, at, side="right"))
    return _slice(series, 0, end)


def _tail(series: CandleArrays, bars: int) -> CandleArrays:
    return _slice(series, max(0, len(series) - bars), len(series))


def _slice(series: CandleArrays, start: int, end: int) -> CandleArrays:
    return CandleArrays(
        series.timestamp[start:end].copy(),
        series.open[start:end].copy(),
        series.high[start:end].copy(),
        series.low[start:end].copy(),
        series.close[start:end].copy(),
        series.volume[start:end].copy(),
    )


# ------------------------------------------------------------------------------------- scan tables


@dataclass(frozen=True, slots=True)
class FilterCell:
    name: str
    value: float | None
    threshold: str
    passed: bool | None


@dataclass(frozen=True, slots=True)
class ScanRow:
    """One symbol of a scan as a table shows it."""

    symbol: str
    rank: int | None
    """Place among the candidates (1 = best); ``None`` for a symbol that is not one."""
    score: float | None
    cells: tuple[FilterCell, ...]

    @property
    def failed(self) -> tuple[str, ...]:
        return tuple(cell.name for cell in self.cells if cell.passed is False)

    @property
    def skipped(self) -> tuple[str, ...]:
        return tuple(cell.name for cell in self.cells if cell.passed is None)


def scan_rows(report: ScanReport) -> list[ScanRow]:
    """Candidates first (best first), then every other symbol by name."""
    ranks = {c.symbol: (position, c.score) for position, c in enumerate(report.candidates, start=1)}
    rows = [
        ScanRow(
            symbol,
            ranks[symbol][0] if symbol in ranks else None,
            ranks[symbol][1] if symbol in ranks else None,
            tuple(FilterCell(d.name, d.value, d.threshold, d.passed) for d in decisions),
        )
        for symbol, decisions in report.decisions.items()
    ]
    return sorted(rows, key=lambda row: (row.rank is None, row.rank or 0, row.symbol))


def scan_rows_from_status(data: Mapping[str, Any]) -> tuple[list[ScanRow], int, str] | None:
    """The rows of the last scan in a status file written by a running engine (see ``status.write_status``)."""
    scan_data = data.get("last_scan")
    if not scan_data:
        return None
    candidates = {c["symbol"]: (position, c["score"]) for position, c in enumerate(scan_data["candidates"], start=1)}
    rows = [
        ScanRow(
            symbol,
            candidates[symbol][0] if symbol in candidates else None,
            candidates[symbol][1] if symbol in candidates else None,
            tuple(FilterCell(d["name"], d["value"], d["threshold"], d["passed"]) for d in decisions),
        )
        for symbol, decisions in scan_data["decisions"].items()
    ]
    rows.sort(key=lambda row: (row.rank is None, row.rank or 0, row.symbol))
    return rows, int(scan_data["at"]), str(scan_data["preset"])


# ------------------------------------------------------------------------------ replay instruments


def replay_instrument(symbol: str, candles: Sequence[Candle]) -> Instrument:
    """Rules for a recorded symbol on the replay's paper exchange, from its prices.

    The tick is the finest price step the file shows; the quantity step makes one step worth about
    a tenth of a quote unit, so sizes round finely whatever the price. No minimum notional: a
    replay is about the strategy's decisions, not one venue's limits.
    """
    places = max((-_exponent(value) for c in candles[:2000] for value in (c.open, c.high, c.low, c.close)), default=2)
    tick = Decimal(1).scaleb(-max(0, places))
    price = float(candles[-1].close) if candles else 1.0
    step = Decimal(1).scaleb(math.floor(math.log10(0.1 / price))) if price > 0 else Decimal(1)
    base, _, rest = symbol.partition("/")
    quote, _, settle = rest.partition(":")
    return Instrument(symbol, base, quote, settle or None, tick, step, step, max_leverage=Decimal(100))


def _exponent(value: Decimal) -> int:
    exponent = value.normalize().as_tuple().exponent
    return exponent if isinstance(exponent, int) else 0
