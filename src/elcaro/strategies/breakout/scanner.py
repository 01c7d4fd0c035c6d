"""Market scanner: which perpetuals are worth watching for a breakout now, and why the others are not.

Settings (``[scanner]`` in a preset; every field is required and typed strictly, as in every section
(``section.py``); ranges are inclusive unless noted):

================================  =========  ==========================================================
field                             type       meaning (allowed range)
================================  =========  ==========================================================
``universe_size``                 int        active USDT linear perpetuals kept, ranked by 24h quote
                                             volume (1…5000)
``top_n``                         int        candidates returned, best score first (1…500)
``min_volume_24h``                float      24h quote volume, USDT (≥ 0)
``min_open_interest``             float      open interest in USDT (≥ 0)
``min_oi_change_pct``             float      open interest change vs the previous reading, % (−100…1000)
``max_spread_bps``                float      best ask − best bid over mid, basis points (> 0, ≤ 1000)
``min_depth_30bps``               float      USDT resting within ±0.3 % of mid on the thinner side (≥ 0)
``min_depth_50bps``               float      USDT resting within ±0.5 % of mid on the thinner side (≥ 0)
``min_trades_per_minute``         float      public trades per minute (≥ 0)
``atr_period``                    int        ATR bars, Wilder smoothing (2…500)
``min_atr_pct``/``max_atr_pct``   float      last ATR over last close, % (0…100, min < max)
``bollinger_period``              int        Bollinger bars (2…500)
``bollinger_k``                   float      band width in standard deviations (0.1…10)
``min_bb_width_pct``/``max_…``    float      (upper − lower) / middle band, % (0…1000, min < max)
``surge_period_5m``               int        previous 5m bars the last 5m volume is compared with (1…1000)
``min_volume_surge_5m``           float      last 5m volume / mean of the previous ones (0…1000)
``surge_period_1h``               int        previous 1h bars the last 1h volume is compared with (1…1000)
``min_volume_surge_1h``           float      last 1h volume / mean of the previous ones (0…1000)
``correlation_period``            int        log returns correlated with BTC's (3…5000)
``max_btc_correlation``           float      largest |correlation| with BTC allowed (0…1)
``max_gaps``                      int        missing candles allowed in the series (≥ 0)
``max_duplicates``                int        repeated candle timestamps allowed (≥ 0)
``component_clip``                float      each score component is a z-score clipped to ±this (0.1…100)
``weights``                       table      ``[scanner.weights]``: one weight per score component (below)
================================  =========  ==========================================================

``[scanner.weights]`` (each 0…100, at least one above 0): ``volume``, ``volatility``, ``surge_1h``,
``surge_5m``, ``oi_change``, ``activity``, ``spread``, ``depth``, ``correlation``.

How a pass works
----------------
1. **Universe.** Snapshots of active USDT linear perpetuals are ranked by 24h quote volume and the
   first ``universe_size`` kept. Every other symbol gets one decision, ``universe``, failed.
2. **Filters.** Each symbol in the universe gets one :class:`FilterDecision` per filter, in the
   order of :data:`FILTERS`: ``universe``, ``history``, ``gaps``, ``duplicates``, ``order``,
   ``volume_24h``, ``open_interest``, ``oi_change``, ``spread``, ``depth_30bps``, ``depth_50bps``,
   ``trades_per_minute``, ``atr_pct``, ``bb_width_pct``, ``volume_surge_1h``, ``volume_surge_5m``,
   ``btc_correlation``.

   - A filter whose input does not exist is *skipped* (``passed=None``, value ``None``), never
     silently passed: no order book (``spread``, both depths), no open interest, no trade stream,
     no BTC candles (or none at the symbol's last candle, or fewer than ``correlation_period + 1``
     shared timestamps), a 5m surge asked of 15m or longer candles.
   - A value the symbol's own candles cannot give (too short a series, a flat one) is a *failure*;
     ``history`` then names the cause: it fails below :func:`required_bars`.
   - Health is ``marketdata.check_health``'s count: ``gaps`` missing candles, ``duplicates``
     repeated timestamps, ``order`` rows out of order or off the time frame's grid (0 allowed).
   - A one-sided book is a market, not missing data: spread infinite, depth 0.
   - Volume surges compare the last *closed* bar of their time frame (5m, 1h; buckets made by
     ``marketdata.resample_arrays``, the unfinished last one dropped) with the mean of the
     ``surge_period_*`` bars before it.

   A symbol is eligible when no filter failed.
3. **Score.** For the eligible symbols, each component below is turned into a cross-sectional
   z-score (population standard deviation; 0 when all values are equal or the value is missing),
   clipped to ±``component_clip`` and weighted; the score is the sum. Scores rank symbols within one
   pass; they are not comparable across passes.

   ==============  ===========================================  ==============
   component       raw value (higher is better)                 filter
   ==============  ===========================================  ==============
   ``volume``      log10(24h quote volume)                      ``volume_24h``
   ``volatility``  ATR %                                        ``atr_pct``
   ``surge_1h``    1h volume surge                              ``volume_surge_1h``
   ``surge_5m``    5m volume surge                              ``volume_surge_5m``
   ``oi_change``   open interest change %                       ``oi_change``
   ``activity``    log10(1 + trades per minute)                 ``trades_per_minute``
   ``spread``      −spread in bps                               ``spread``
   ``depth``       log10(1 + depth within 0.5 %)                ``depth_50bps``
   ``correlation`` −|correlation with BTC|                      ``btc_correlation``
   ==============  ===========================================  ==============

4. **Candidates**: the eligible symbols, best score first (ties by 24h volume, then symbol), the first
   ``top_n``.

Beyond the shared contract: ``scan`` takes an optional keyword ``timeframe`` (the preset's, e.g.
``"5m"``); without it the time frame is the smallest step between consecutive candles of the
snapshots. :func:`required_bars` says how many candles a symbol needs for every filter to have a
value, which is what an engine or backtester should fetch or warm up.

Speed: symbols whose candles have the same length and the same timestamps (what an engine fetching a
fixed number of bars per symbol gets) are stacked into 2-D arrays, so each indicator runs once per
group rather than once per symbol; ``benchmarks/scanner_pass.py`` measures a 500-symbol pass.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from types import MappingProxyType

import numpy as np
from numpy.typing import NDArray
from pydantic import Field, ValidationInfo, field_validator, model_validator

from elcaro.indicators import atr, bollinger_width, log_returns, rolling_correlation, volume_surge
from elcaro.marketdata import TIMEFRAMES, CandleArrays, Timeframe, check_health, resample_arrays, timeframe_ms
from elcaro.models.errors import ValidationError
from elcaro.models.market import Candle, OrderBook
from elcaro.strategies.breakout.section import Section

FloatArray = NDArray[np.float64]


class ScoreWeights(Section):
    """Weight of each score component; 0 leaves a component out of the score (its filter still applies)."""

    volume: float = Field(ge=0, le=100)
    volatility: float = Field(ge=0, le=100)
    surge_1h: float = Field(ge=0, le=100)
    surge_5m: float = Field(ge=0, le=100)
    oi_change: float = Field(ge=0, le=100)
    activity: float = Field(ge=0, le=100)
    spread: float = Field(ge=0, le=100)
    depth: float = Field(ge=0, le=100)
    correlation: float = Field(ge=0, le=100)

    @model_validator(mode="after")
    def _some_weight(self) -> ScoreWeights:
        if not any(value > 0 for value in self.model_dump().values()):
            raise ValueError("at least one score weight must be above 0")
        return self


class ScannerSettings(Section):
    """Thresholds of the market scanner; see the module docstring for each field and its range."""

    universe_size: int = Field(ge=1, le=5000)
    top_n: int = Field(ge=1, le=500)
    min_volume_24h: float = Field(ge=0)
    min_open_interest: float = Field(ge=0)
    min_oi_change_pct: float = Field(ge=-100, le=1000)
    max_spread_bps: float = Field(gt=0, le=1000)
    min_depth_30bps: float = Field(ge=0)
    min_depth_50bps: float = Field(ge=0)
    min_trades_per_minute: float = Field(ge=0)
    atr_period: int = Field(ge=2, le=500)
    min_atr_pct: float = Field(ge=0, le=100)
    max_atr_pct: float = Field(ge=0, le=100)
    bollinger_period: int = Field(ge=2, le=500)
    bollinger_k: float = Field(ge=0.1, le=10)
    min_bb_width_pct: float = Field(ge=0, le=1000)
    max_bb_width_pct: float = Field(ge=0, le=1000)
    surge_period_5m: int = Field(ge=1, le=1000)
    min_volume_surge_5m: float = Field(ge=0, le=1000)
    surge_period_1h: int = Field(ge=1, le=1000)
    min_volume_surge_1h: float = Field(ge=0, le=1000)
    correlation_period: int = Field(ge=3, le=5000)
    max_btc_correlation: float = Field(ge=0, le=1)
    max_gaps: int = Field(ge=0)
    max_duplicates: int = Field(ge=0)
    component_clip: float = Field(ge=0.1, le=100)
    weights: ScoreWeights

    @field_validator("max_atr_pct", "max_bb_width_pct")
    @classmethod
    def _above_minimum(cls, value: float, info: ValidationInfo) -> float:
        # Reported on the max field, so a preset error names ``scanner.max_atr_pct`` rather than the table.
        minimum_name = "min_" + str(info.field_name).removeprefix("max_")
        minimum = info.data.get(minimum_name)
        if minimum is not None and value <= minimum:
            raise ValueError(f"must be above {minimum_name} ({minimum})")
        return value


# --------------------------------------------------------------------------------------------------
# Inputs and outputs of a pass


@dataclass(frozen=True, slots=True)
class MarketSnapshot:
    """What the scanner knows about one market at the moment of a pass."""

    symbol: str
    """ccxt unified symbol, e.g. ``"BTC/USDT:USDT"``."""
    candles: CandleArrays
    """Closed candles of the preset's time frame, oldest first."""
    volume_24h: float
    """24h quote volume (USDT)."""
    open_interest: float | None
    """Open interest in USDT now; ``None`` when the venue gives none."""
    open_interest_prev: float | None
    """Open interest in USDT at the previous reading, for the change filter."""
    book: OrderBook | None
    trades_per_minute: float | None
    """From an :class:`~elcaro.strategies.breakout.activity.ActivityMeter` when a trade stream exists."""
    active: bool = True
    linear_usdt: bool = True


@dataclass(frozen=True, slots=True)
class FilterDecision:
    name: str
    value: float | None
    """What was measured; ``None`` when it could not be."""
    threshold: str
    """The rule, readable: ``">= 50,000,000 USDT"``, ``"0.5 … 8 %"``."""
    passed: bool | None
    """``None``: skipped because the input does not exist (no book, no BTC candles, …)."""


@dataclass(frozen=True, slots=True)
class Candidate:
    symbol: str
    score: float
    components: Mapping[str, float]
    """Clipped z-score of each component, before weighting."""
    decisions: tuple[FilterDecision, ...]


@dataclass(frozen=True, slots=True)
class ScanResult:
    candidates: tuple[Candidate, ...]
    """The top ``top_n`` eligible symbols, best first."""
    decisions: Mapping[str, tuple[FilterDecision, ...]]
    """Every snapshot's decisions, by symbol, in the order given."""


FILTERS: tuple[str, ...] = (
    "universe",
    "history",
    "gaps",
    "duplicates",
    "order",
    "volume_24h",
    "open_interest",
    "oi_change",
    "spread",
    "depth_30bps",
    "depth_50bps",
    "trades_per_minute",
    "atr_pct",
    "bb_width_pct",
    "volume_surge_1h",
    "volume_surge_5m",
    "btc_correlation",
)
"""Filter names in the order each symbol's decisions list them."""

COMPONENTS: tuple[str, ...] = tuple(ScoreWeights.model_fields)
"""Score components, in the order of :class:`ScoreWeights`."""

_SURGE_TIMEFRAMES = {"volume_surge_5m": Timeframe.parse("5m"), "volume_surge_1h": Timeframe.parse("1h")}
_DEPTH_BANDS = {"depth_30bps": Decimal("0.003"), "depth_50bps": Decimal("0.005")}
_BPS = Decimal(10_000)


def required_bars(settings: ScannerSettings, timeframe: str | Timeframe) -> int:
    """Candles a symbol needs for every candle-based filter to have a value: what an engine should fetch.

    A surge measured on a coarser time frame needs ``period + 1`` whole buckets; the series may start
    and end inside a bucket, which costs up to one bucket's worth of candles at each end.
    """
    timeframe = Timeframe.parse(timeframe)
    needs = [settings.atr_period + 1, settings.bollinger_period, settings.correlation_period + 1]
    for name, target in _SURGE_TIMEFRAMES.items():
        if target.contains(timeframe):
            per_bucket = target.ms // timeframe.ms
            needs.append((_surge_period(settings, name) + 1) * per_bucket + 2 * (per_bucket - 1))
    return max(needs)


def scan(
    snapshots: Sequence[MarketSnapshot],
    settings: ScannerSettings,
    *,
    btc: CandleArrays | None,
    timeframe: str | Timeframe | None = None,
) -> ScanResult:
    """One pass of the scanner over ``snapshots``; see the module docstring for the rules.

    ``btc`` is BTC's candles on the same time frame (``None`` skips the correlation filter). A
    symbol may appear once; ``ValidationError`` otherwise.
    """
    symbols = [snapshot.symbol for snapshot in snapshots]
    if len(set(symbols)) != len(symbols):
        repeated = sorted({symbol for symbol in symbols if symbols.count(symbol) > 1})
        raise ValidationError(f"each symbol may appear once, repeated: {', '.join(repeated)}", field="snapshots")
    if btc is not None and len(btc) > 1 and bool((np.diff(btc.timestamp) <= 0).any()):
        raise ValidationError("BTC candles must be strictly increasing", field="btc")
    if not snapshots:
        return ScanResult((), MappingProxyType({}))
    frame = Timeframe.parse(timeframe) if timeframe is not None else _infer_timeframe(snapshots)
    required = required_bars(settings, frame)
    thresholds = _thresholds(settings, frame, required)
    rules = _rules(settings, required)

    listed = [snapshot for snapshot in snapshots if snapshot.active and snapshot.linear_usdt]
    listed.sort(key=lambda snapshot: (-snapshot.volume_24h, snapshot.symbol))
    universe = listed[: settings.universe_size]
    ranks = {snapshot.symbol: rank for rank, snapshot in enumerate(listed, start=1)}

    measured = _measure(universe, settings, frame, btc)
    passed = {name: _judge(measured[name], rules[name]) for name in FILTERS[1:]}
    eligible = np.ones(len(universe), dtype=bool)
    for _, verdict in passed.values():
        eligible &= verdict != _FAILED

    # Python floats and verdicts, converted once per filter rather than once per symbol.
    columns = [
        (name, thresholds[name], values.tolist(), [_OUTCOME[v] for v in verdicts.tolist()])
        for name, (values, verdicts) in passed.items()
    ]
    decisions: dict[str, tuple[FilterDecision, ...]] = {}
    for position, snapshot in enumerate(universe):
        row = [FilterDecision("universe", float(position + 1), thresholds["universe"], True)]
        for name, threshold, values, outcomes in columns:
            value = values[position]
            row.append(FilterDecision(name, None if math.isnan(value) else value, threshold, outcomes[position]))
        decisions[snapshot.symbol] = tuple(row)
    for snapshot in snapshots:
        if snapshot.symbol not in decisions:
            rank = ranks.get(snapshot.symbol)
            value = float(rank) if rank is not None else None
            decisions[snapshot.symbol] = (FilterDecision("universe", value, thresholds["universe"], False),)
    ordered = {symbol: decisions[symbol] for symbol in symbols}

    components, scores = _score(measured, eligible, settings)
    chosen = sorted(
        np.flatnonzero(eligible).tolist(),
        key=lambda i: (-scores[i], -universe[i].volume_24h, universe[i].symbol),
    )[: settings.top_n]
    candidates = tuple(
        Candidate(
            symbol=universe[i].symbol,
            score=float(scores[i]),
            components=MappingProxyType({name: float(components[name][i]) for name in COMPONENTS}),
            decisions=ordered[universe[i].symbol],
        )
        for i in chosen
    )
    return ScanResult(candidates, MappingProxyType(ordered))


# --------------------------------------------------------------------------------------------------
# Measuring: one float64 array per filter over the universe, NaN where there is no value


_SKIPPED, _FAILED, _PASSED = 0, 1, 2
_OUTCOME: dict[int, bool | None] = {_SKIPPED: None, _FAILED: False, _PASSED: True}


@dataclass(slots=True)
class _Measured:
    """A filter's values over the universe and which of them are skipped (input absent) rather than failed."""

    values: FloatArray
    skipped: NDArray[np.bool_]


def _measure(
    universe: Sequence[MarketSnapshot], settings: ScannerSettings, frame: Timeframe, btc: CandleArrays | None
) -> dict[str, _Measured]:
    size = len(universe)
    measured = {name: _Measured(np.full(size, np.nan), np.zeros(size, dtype=bool)) for name in FILTERS[1:]}

    def scalar(name: str, values: Iterable[float | None]) -> None:
        array = np.fromiter((np.nan if value is None else value for value in values), dtype=np.float64, count=size)
        measured[name].values[:] = array
        measured[name].skipped[:] = np.isnan(array)

    scalar("volume_24h", (snapshot.volume_24h for snapshot in universe))
    scalar("open_interest", (snapshot.open_interest for snapshot in universe))
    scalar("oi_change", (_oi_change_pct(snapshot) for snapshot in universe))
    scalar("trades_per_minute", (snapshot.trades_per_minute for snapshot in universe))
    for position, snapshot in enumerate(universe):
        figures = _book_figures(snapshot.book)
        for name in ("spread", "depth_30bps", "depth_50bps"):
            if figures is None:
                measured[name].skipped[position] = True
            else:
                measured[name].values[position] = figures[name]

    for rows, timestamps in _groups(universe):
        _measure_group([universe[i] for i in rows], np.asarray(rows), timestamps, settings, frame, btc, measured)
    return measured


def _groups(universe: Sequence[MarketSnapshot]) -> list[tuple[list[int], NDArray[np.int64]]]:
    """Positions of the symbols whose candles share one timestamp column, with that column."""
    groups: dict[tuple[int, int, int], list[tuple[list[int], NDArray[np.int64]]]] = {}
    for position, snapshot in enumerate(universe):
        timestamps = snapshot.candles.timestamp
        key = (len(timestamps), int(timestamps[0]), int(timestamps[-1])) if len(timestamps) else (0, 0, 0)
        for rows, shared in groups.setdefault(key, []):
            if np.array_equal(shared, timestamps):
                rows.append(position)
                break
        else:
            groups[key].append(([position], timestamps))
    return [group for same_key in groups.values() for group in same_key]


def _measure_group(
    members: Sequence[MarketSnapshot],
    rows: NDArray[np.intp],
    timestamps: NDArray[np.int64],
    settings: ScannerSettings,
    frame: Timeframe,
    btc: CandleArrays | None,
    measured: dict[str, _Measured],
) -> None:
    """Every candle-based filter for symbols sharing ``timestamps``, each indicator run once on a 2-D block."""
    bars = len(timestamps)
    measured["history"].values[rows] = bars
    gaps, duplicates, disorder = _health(timestamps, frame)
    measured["gaps"].values[rows] = gaps
    measured["duplicates"].values[rows] = duplicates
    measured["order"].values[rows] = disorder
    for name, target in _SURGE_TIMEFRAMES.items():
        if not target.contains(frame):
            measured[name].skipped[rows] = True  # e.g. a 5m surge from 1h candles does not exist
    if btc is None:
        measured["btc_correlation"].skipped[rows] = True
    if bars == 0:
        return
    high = np.stack([member.candles.high for member in members])
    low = np.stack([member.candles.low for member in members])
    close = np.stack([member.candles.close for member in members])
    volume = np.stack([member.candles.volume for member in members])
    last_close = close[:, -1]

    with np.errstate(divide="ignore", invalid="ignore"):
        measured["atr_pct"].values[rows] = atr(high, low, close, settings.atr_period)[:, -1] / last_close * 100
    window = settings.bollinger_period
    if bars >= window:
        width = bollinger_width(close[:, -window:], window, settings.bollinger_k)[:, -1]
        measured["bb_width_pct"].values[rows] = width * 100

    for name, target in _SURGE_TIMEFRAMES.items():
        if target.contains(frame):
            period = _surge_period(settings, name)
            measured[name].values[rows] = _surges(volume, timestamps, members[0].candles, frame, target, period)

    if btc is not None:
        correlation = _btc_correlation(close, timestamps, btc, settings.correlation_period)
        if correlation is None:
            measured["btc_correlation"].skipped[rows] = True
        else:
            measured["btc_correlation"].values[rows] = correlation


def _health(timestamps: NDArray[np.int64], frame: Timeframe) -> tuple[int, int, int]:
    """Missing candles, repeated timestamps, and rows out of order or off the grid, as ``check_health`` counts them."""
    steps = np.diff(timestamps)
    if len(timestamps) and bool((steps == frame.ms).all()) and frame.is_boundary(int(timestamps[0])):
        return 0, 0, 0  # a regular series: nothing to count, no need to build candles
    # check_health reads only open times (and volumes, for zero-volume runs, not used here): zero prices
    # keep a malformed bar's OHLC from stopping the count.
    zero = Decimal(0)
    health = check_health((Candle(timestamp, zero, zero, zero, zero, zero) for timestamp in timestamps.tolist()), frame)
    return health.missing, len(health.duplicates), len(health.out_of_order) + len(health.misaligned)


def _surges(
    volume: FloatArray,
    timestamps: NDArray[np.int64],
    first: CandleArrays,
    frame: Timeframe,
    target: Timeframe,
    period: int,
) -> FloatArray:
    """The last closed ``target`` bar's volume over the mean of the ``period`` before it, per row of ``volume``.

    ``volume`` is the group's block of volumes on ``timestamps``; ``first`` is one member's candles.
    """
    if target != frame:
        try:
            resampled = resample_arrays(first, frame, target)
        except ValidationError:
            return np.full(len(volume), np.nan)  # out of order: cannot be bucketed, and the order filter fails it
        if not len(resampled.counts):
            return np.full(len(volume), np.nan)
        # The buckets are resample_arrays' own (alignment, the unfinished last one dropped), found once for the
        # group since its members share timestamps; the block's volumes are then summed over them in one call.
        starts = np.searchsorted(timestamps, resampled.candles.timestamp)
        volume = np.add.reduceat(volume[:, : starts[-1] + resampled.counts[-1]], starts, axis=1)
    if volume.shape[1] <= period:
        return np.full(len(volume), np.nan)
    return volume_surge(volume[:, -(period + 1) :], period)[:, -1]


def _btc_correlation(
    close: FloatArray, timestamps: NDArray[np.int64], btc: CandleArrays, period: int
) -> FloatArray | None:
    """Correlation of log returns with BTC's over the last ``period`` returns on timestamps both have.

    ``None`` when BTC has no candle at the group's last timestamp (stale BTC data would correlate an old
    window) or fewer than ``period + 1`` of the group's timestamps have one.
    """
    positions = np.searchsorted(btc.timestamp, timestamps)
    inside = positions < len(btc)
    common = np.flatnonzero(inside & (btc.timestamp[np.minimum(positions, len(btc) - 1)] == timestamps))
    if len(common) < period + 1 or common[-1] != len(timestamps) - 1:
        return None
    common = common[-(period + 1) :]
    returns = log_returns(close[:, common])[:, 1:]
    benchmark = log_returns(btc.close[positions[common]])[1:]
    return rolling_correlation(returns, benchmark, period)[:, -1]


def _oi_change_pct(snapshot: MarketSnapshot) -> float | None:
    now, before = snapshot.open_interest, snapshot.open_interest_prev
    if now is None or before is None or before <= 0:
        return None
    return (now / before - 1.0) * 100.0


def _book_figures(book: OrderBook | None) -> dict[str, float] | None:
    """Spread in bps and the thinner side's USDT within each depth band of mid; ``None`` without a book.

    A one-sided book is a market, not missing data: its spread is infinite and its depth 0.
    """
    if book is None:
        return None
    mid = book.mid
    if mid is None or mid <= 0:
        return {"spread": math.inf, **dict.fromkeys(_DEPTH_BANDS, 0.0)}
    figures = {"spread": float((book.asks[0].price - book.bids[0].price) / mid * _BPS)}
    for name, band in _DEPTH_BANDS.items():
        depth = book.depth_within(band)
        figures[name] = float(min(depth.bid_notional, depth.ask_notional))
    return figures


# --------------------------------------------------------------------------------------------------
# Judging and scoring


def _judge(measured: _Measured, rule: _Rule) -> tuple[FloatArray, NDArray[np.int8]]:
    """Each symbol's value and verdict (skipped, failed, passed) under ``rule``."""
    values = measured.values
    with np.errstate(invalid="ignore"):
        ok = rule(values)
    verdict = np.where(ok, _PASSED, _FAILED).astype(np.int8)  # NaN compares false: no value is a failure
    verdict[measured.skipped] = _SKIPPED
    return values, verdict


_Rule = Callable[[FloatArray], NDArray[np.bool_]]


def _rules(s: ScannerSettings, required: int) -> dict[str, _Rule]:
    return {
        "history": lambda v: v >= required,
        "gaps": lambda v: v <= s.max_gaps,
        "duplicates": lambda v: v <= s.max_duplicates,
        "order": lambda v: v == 0,
        "volume_24h": lambda v: v >= s.min_volume_24h,
        "open_interest": lambda v: v >= s.min_open_interest,
        "oi_change": lambda v: v >= s.min_oi_change_pct,
        "spread": lambda v: v <= s.max_spread_bps,
        "depth_30bps": lambda v: v >= s.min_depth_30bps,
        "depth_50bps": lambda v: v >= s.min_depth_50bps,
        "trades_per_minute": lambda v: v >= s.min_trades_per_minute,
        "atr_pct": lambda v: (v >= s.min_atr_pct) & (v <= s.max_atr_pct),
        "bb_width_pct": lambda v: (v >= s.min_bb_width_pct) & (v <= s.max_bb_width_pct),
        "volume_surge_1h": lambda v: v >= s.min_volume_surge_1h,
        "volume_surge_5m": lambda v: v >= s.min_volume_surge_5m,
        "btc_correlation": lambda v: np.abs(v) <= s.max_btc_correlation,
    }


def _thresholds(s: ScannerSettings, frame: Timeframe, required: int) -> dict[str, str]:
    return {
        "universe": f"active USDT linear perpetual, among the {s.universe_size} largest by 24h volume",
        "history": f">= {required} candles",
        "gaps": f"<= {s.max_gaps} missing candles",
        "duplicates": f"<= {s.max_duplicates} repeated candles",
        "order": f"0 candles out of order or off the {frame} grid",
        "volume_24h": f">= {_number(s.min_volume_24h)} USDT",
        "open_interest": f">= {_number(s.min_open_interest)} USDT",
        "oi_change": f">= {_number(s.min_oi_change_pct)} %",
        "spread": f"<= {_number(s.max_spread_bps)} bps",
        "depth_30bps": f">= {_number(s.min_depth_30bps)} USDT within 0.3 % of mid (thinner side)",
        "depth_50bps": f">= {_number(s.min_depth_50bps)} USDT within 0.5 % of mid (thinner side)",
        "trades_per_minute": f">= {_number(s.min_trades_per_minute)} trades/min",
        "atr_pct": f"{_number(s.min_atr_pct)} … {_number(s.max_atr_pct)} % (ATR {s.atr_period})",
        "bb_width_pct": (
            f"{_number(s.min_bb_width_pct)} … {_number(s.max_bb_width_pct)} % "
            f"(Bollinger {s.bollinger_period}, k {_number(s.bollinger_k)})"
        ),
        "volume_surge_1h": f">= {_number(s.min_volume_surge_1h)} × mean of {s.surge_period_1h} previous 1h bars",
        "volume_surge_5m": f">= {_number(s.min_volume_surge_5m)} × mean of {s.surge_period_5m} previous 5m bars",
        "btc_correlation": f"|r| <= {_number(s.max_btc_correlation)} over {s.correlation_period} log returns",
    }


def _number(value: float) -> str:
    return f"{value:,.10g}"


# Each component's source filter and the transform that makes "higher is better" and tames magnitudes.
_COMPONENT_SOURCES: dict[str, tuple[str, Callable[[FloatArray], FloatArray]]] = {
    "volume": ("volume_24h", np.log10),
    "volatility": ("atr_pct", np.positive),
    "surge_1h": ("volume_surge_1h", np.positive),
    "surge_5m": ("volume_surge_5m", np.positive),
    "oi_change": ("oi_change", np.positive),
    "activity": ("trades_per_minute", lambda v: np.log10(1 + v)),
    "spread": ("spread", np.negative),
    "depth": ("depth_50bps", lambda v: np.log10(1 + v)),
    "correlation": ("btc_correlation", lambda v: -np.abs(v)),
}


def _score(
    measured: dict[str, _Measured], eligible: NDArray[np.bool_], settings: ScannerSettings
) -> tuple[dict[str, FloatArray], FloatArray]:
    """Clipped cross-sectional z-scores of each component over the eligible symbols, and their weighted sum."""
    clip = settings.component_clip
    scores = np.zeros(len(eligible))
    components: dict[str, FloatArray] = {}
    for name in COMPONENTS:
        source, transform = _COMPONENT_SOURCES[name]
        with np.errstate(divide="ignore", invalid="ignore"):
            raw = transform(measured[source].values)
        usable = eligible & np.isfinite(raw)
        z = np.zeros(len(eligible))
        sample = raw[usable]
        # Equal values would give a spread of rounding noise, not 0: compare them exactly instead.
        if len(sample) > 1 and np.ptp(sample) > 0:
            z[usable] = np.clip((sample - sample.mean()) / sample.std(), -clip, clip)
        components[name] = z
        scores += getattr(settings.weights, name) * z
    return components, scores


def _surge_period(settings: ScannerSettings, name: str) -> int:
    return settings.surge_period_5m if name == "volume_surge_5m" else settings.surge_period_1h


def _infer_timeframe(snapshots: Sequence[MarketSnapshot]) -> Timeframe:
    """The time frame whose length is the smallest step between consecutive candles of any snapshot."""
    steps = [np.diff(s.candles.timestamp) for s in snapshots if len(s.candles) > 1]
    positive = [step[step > 0] for step in steps]
    smallest = min((int(step.min()) for step in positive if len(step)), default=None)
    if smallest is None:
        raise ValidationError("no snapshot has two candles to tell the time frame from; pass it", field="timeframe")
    for name in TIMEFRAMES:
        if timeframe_ms(name) == smallest:
            return Timeframe.parse(name)
    raise ValidationError(f"candles {smallest} ms apart are not a supported time frame; pass it", field="timeframe")
