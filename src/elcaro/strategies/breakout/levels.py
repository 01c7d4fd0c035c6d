"""Support and resistance levels from one window of candles, with a strength a trader can read.

Settings (``[levels]`` in a preset; every field is required, ranges inclusive):

======================  =====  ====================================================================
field                   type   meaning (allowed range)
======================  =====  ====================================================================
``lookback``            int    bars before ``end`` searched for levels (20…10000)
``atr_period``          int    ATR bars (Wilder) that scale the tolerances below (2…500)
``donchian_period``     int    bars whose highest high and lowest low are levels (2…``lookback``)
``swing_left``          int    bars left of a pivot that must be lower (pivot high) / higher (1…50)
``swing_right``         int    bars right of a pivot that may not exceed it; a pivot is known only
                               once they have closed (1…50)
``volume_period``       int    previous bars a candle's volume is compared with (2…1000)
``high_volume_ratio``   float  volume ÷ mean of the previous ``volume_period`` from which a
                               candle's high and low become levels (1…100)
``merge_atr``           float  candidates within this many ATR merge into one level (> 0, ≤ 10)
``touch_atr``           float  a high or low within this many ATR of a level touches it (> 0, ≤ 10)
``min_touches``         int    touches a level needs to be kept; channel edges always are (1…100)
``full_touches``        int    touches that earn the full touch score (1…100)
``touch_weight``        float  weight of the touch score in the strength (0…100)
``volume_weight``       float  weight of the volume score (0…100)
``age_weight``          float  weight of the age score (0…100); at least one weight above 0
``pierce_penalty``      float  strength lost per pierce, as a fraction (0…1)
``max_levels``          int    strongest levels kept on each side of the price (1…100)
``refresh_bars``        int    the strategy recomputes levels every this many bars (1…1000)
======================  =====  ====================================================================

How levels are found (all from bars ``start … end − 1``, ``start = max(0, end − lookback)``; bar
``end`` and later are never read, so a backtest cannot see the future):

1. **Candidates**: the window's Donchian extremes (highest high and lowest low of the last
   ``donchian_period`` bars), swing pivots (a bar whose high is above the ``swing_left`` highs before
   it and not below the ``swing_right`` highs after it, which must all lie before ``end``; lows
   mirrored), and the high and low of every high-volume candle.
2. **Merge**: candidates sorted by price are grouped greedily — a group takes every next candidate
   within ``merge_atr × ATR`` of its *lowest* member (so a group never drifts wider than the
   tolerance) — and a group's price is the mean of its members. ATR is the value at ``end − 1``.
3. **Measure** each level over the window, with ``tol = touch_atr × ATR``:

   - *touches*: runs of consecutive bars whose high or low lies within ``tol`` of the level (the
     candles that made it count as touching); a run of ten bars hugging the level is one touch;
   - *volume*: total volume of the touching bars; ``first_ts``/``last_ts``: the first and last touch;
   - *pierces*: closes that crossed the level and did not hold. Closes more than ``tol`` above the
     level count +1, more than ``tol`` below −1, others are ignored; each change of sign is a
     crossing, and every crossing but the last is a pierce (a clean break is not a pierce, a break
     that failed is).

4. **Strength** in [0, 1]: the weighted mean of a touch score ``min(touches, full_touches) ÷
   full_touches``, a volume score ``min(r, 2) ÷ 2`` where ``r`` is the touching bars' mean volume over
   the window's mean volume, and an age score (bars from the first to the last touch ÷ (window − 1):
   a level respected across the whole window scores 1); multiplied by ``max(0, 1 − pierce_penalty ×
   pierces)``.
5. **De-duplicate and rank**: levels are taken channel edges first (the Donchian extremes are what a
   breakout is measured against), then strongest first (more touches, then lower price on ties); a
   level within ``merge_atr × ATR`` of one already taken is dropped. A level above the last close is
   a resistance, any other a support; at most ``max_levels`` of each side are returned, by price.

Speed: :func:`level_inputs` computes the whole-series arrays (ATR, pivots, high-volume flags) once;
every indicator is causal, so a level found from precomputed inputs is the one found from the
candles cut at ``end``. Measuring is one 2-D numpy pass over (levels × window).
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray
from pydantic import Field, model_validator

from elcaro.indicators import atr, rolling_max, rolling_min, volume_surge
from elcaro.marketdata import CandleArrays
from elcaro.models.errors import ValidationError
from elcaro.strategies.breakout.section import Section

LevelSide = Literal["support", "resistance"]

_VOLUME_SCORE_CAP = 2.0
"""A level traded at twice the window's mean volume gets the full volume score."""


class LevelSettings(Section):
    """How levels are found and scored; see the module docstring for each field."""

    lookback: int = Field(ge=20, le=10_000)
    atr_period: int = Field(ge=2, le=500)
    donchian_period: int = Field(ge=2, le=10_000)
    swing_left: int = Field(ge=1, le=50)
    swing_right: int = Field(ge=1, le=50)
    volume_period: int = Field(ge=2, le=1000)
    high_volume_ratio: float = Field(ge=1, le=100)
    merge_atr: float = Field(gt=0, le=10)
    touch_atr: float = Field(gt=0, le=10)
    min_touches: int = Field(ge=1, le=100)
    full_touches: int = Field(ge=1, le=100)
    touch_weight: float = Field(ge=0, le=100)
    volume_weight: float = Field(ge=0, le=100)
    age_weight: float = Field(ge=0, le=100)
    pierce_penalty: float = Field(ge=0, le=1)
    max_levels: int = Field(ge=1, le=100)
    refresh_bars: int = Field(ge=1, le=1000)

    @model_validator(mode="after")
    def _consistent(self) -> LevelSettings:
        if self.donchian_period > self.lookback:
            raise ValueError(f"donchian_period must be at most lookback ({self.lookback}), got {self.donchian_period}")
        if self.touch_weight + self.volume_weight + self.age_weight <= 0:
            raise ValueError("touch_weight, volume_weight and age_weight must not all be 0")
        return self

    @property
    def warmup_bars(self) -> int:
        """Bars before the first full window: the lookback plus the longest indicator's warm-up."""
        return self.lookback + max(self.atr_period, self.volume_period)


@dataclass(frozen=True, slots=True)
class Level:
    """A price where the market turned or traded heavily, measured over the window it was found in."""

    price: float
    side: LevelSide
    """``resistance`` when above the last close of the window, else ``support``."""
    touches: int
    first_ts: int
    """Open time of the first touching bar."""
    last_ts: int
    """Open time of the last touching bar."""
    volume: float
    """Total volume of the touching bars (base currency)."""
    pierces: int
    """Closes through the level that did not hold (see the module docstring)."""
    strength: float
    """0…1: touches, volume and age, less the pierce penalty."""
    sources: tuple[str, ...] = ()
    """What made it a candidate: ``donchian``, ``swing``, ``volume`` (sorted)."""


@dataclass(frozen=True, slots=True)
class LevelInputs:
    """Whole-series arrays :func:`find_levels` reads; make them once per series with :func:`level_inputs`."""

    atr: NDArray[np.float64]
    pivot_high: NDArray[np.bool_]
    """Bar ``j`` is a swing high given bars up to ``j + swing_right`` (use only when that is before ``end``)."""
    pivot_low: NDArray[np.bool_]
    high_volume: NDArray[np.bool_]


def level_inputs(
    candles: CandleArrays, settings: LevelSettings, *, atr_values: NDArray[np.float64] | None = None
) -> LevelInputs:
    """Precompute the arrays levels need; ``atr_values`` reuses an ATR of ``settings.atr_period`` already computed."""
    high, low = candles.high, candles.low
    if atr_values is None:
        atr_values = atr(high, low, candles.close, settings.atr_period)
    left, right = settings.swing_left, settings.swing_right
    n = len(candles)
    # Pivot at j: above every one of the `left` highs before it (strictly) and not below the `right` highs after it.
    before_max = rolling_max(high, left, shift=1)
    after_max = _ahead(rolling_max(high, right), right)
    before_min = rolling_min(low, left, shift=1)
    after_min = _ahead(rolling_min(low, right), right)
    with np.errstate(invalid="ignore"):
        pivot_high = (high > before_max) & (high >= after_max)
        pivot_low = (low < before_min) & (low <= after_min)
        high_volume = volume_surge(candles.volume, settings.volume_period) >= settings.high_volume_ratio
    if n != len(pivot_high):  # pragma: no cover - the indicators keep the length
        raise ValidationError("indicator arrays must keep the series length", field="candles")
    return LevelInputs(atr_values, pivot_high, pivot_low, high_volume)


def find_levels(
    candles: CandleArrays,
    settings: LevelSettings,
    *,
    end: int | None = None,
    inputs: LevelInputs | None = None,
) -> list[Level]:
    """Levels from bars ``< end`` (all bars when ``end`` is ``None``), sorted by price.

    ``inputs`` are the arrays of :func:`level_inputs` over the same ``candles``; without them they
    are computed from ``candles[:end]`` (slower when called bar after bar, same result). An empty
    list means no level: a window shorter than the ATR warm-up, or a flat market.
    """
    n = len(candles)
    end = n if end is None else end
    if not 0 <= end <= n:
        raise ValidationError(f"must be between 0 and {n}, got {end}", field="end")
    if inputs is None:
        candles = _head(candles, end)
        inputs = level_inputs(candles, settings)
    if end < 2:
        return []
    tolerance_atr = float(inputs.atr[end - 1])
    if not np.isfinite(tolerance_atr) or tolerance_atr <= 0:
        return []
    start = max(0, end - settings.lookback)
    prices, bars, kinds = _candidates(candles, settings, inputs, start, end)
    if len(prices) == 0:
        return []
    merge_tol = settings.merge_atr * tolerance_atr
    first = _group_starts(prices, merge_tol)
    return _measure(candles, settings, start, end, first, prices, bars, kinds, tolerance_atr)


_DONCHIAN, _SWING, _VOLUME = 0, 1, 2
_SOURCE_NAMES = ("donchian", "swing", "volume")


def _candidates(
    candles: CandleArrays, settings: LevelSettings, inputs: LevelInputs, start: int, end: int
) -> tuple[NDArray[np.float64], NDArray[np.int64], NDArray[np.int64]]:
    """Candidate prices with the bar that made each and its source code, sorted by price."""
    high, low = candles.high, candles.low
    channel = max(start, end - settings.donchian_period)
    top = channel + int(np.argmax(high[channel:end]))
    bottom = channel + int(np.argmin(low[channel:end]))
    # A pivot needs its right-hand bars to have closed before `end`.
    confirmed = slice(start, max(start, end - settings.swing_right))
    swing_highs = start + np.flatnonzero(inputs.pivot_high[confirmed])
    swing_lows = start + np.flatnonzero(inputs.pivot_low[confirmed])
    heavy = start + np.flatnonzero(inputs.high_volume[start:end])
    bars = np.concatenate(([top, bottom], swing_highs, swing_lows, heavy, heavy)).astype(np.int64)
    prices = np.concatenate(([high[top], low[bottom]], high[swing_highs], low[swing_lows], high[heavy], low[heavy]))
    kinds = np.concatenate(
        (
            [_DONCHIAN, _DONCHIAN],
            np.full(len(swing_highs) + len(swing_lows), _SWING),
            np.full(2 * len(heavy), _VOLUME),
        )
    ).astype(np.int64)
    order = np.argsort(prices, kind="stable")
    return prices[order], bars[order], kinds[order]


def _group_starts(prices: NDArray[np.float64], tolerance: float) -> NDArray[np.int64]:
    """Where each greedy group of sorted ``prices`` starts (a group spans ``tolerance`` from its first)."""
    starts = [0]
    anchor = prices[0]
    for index in range(1, len(prices)):
        if prices[index] - anchor > tolerance:
            starts.append(index)
            anchor = prices[index]
    return np.array(starts, dtype=np.int64)


def _measure(
    candles: CandleArrays,
    settings: LevelSettings,
    start: int,
    end: int,
    first: NDArray[np.int64],
    prices: NDArray[np.float64],
    bars: NDArray[np.int64],
    kinds: NDArray[np.int64],
    atr_value: float,
) -> list[Level]:
    high = candles.high[start:end]
    low = candles.low[start:end]
    close = candles.close[start:end]
    volume = candles.volume[start:end]
    width = end - start
    groups = len(first)
    members = np.diff(np.append(first, len(prices)))
    group_of = np.repeat(np.arange(groups), members)
    level_prices = np.add.reduceat(prices, first) / members
    column = level_prices[:, None]
    tolerance = settings.touch_atr * atr_value

    touching = (np.abs(high - column) <= tolerance) | (np.abs(low - column) <= tolerance)
    touching[group_of, bars - start] = True  # the candles that made a level touch it
    starts_run = touching.copy()
    starts_run[:, 1:] &= ~touching[:, :-1]
    touches = starts_run.sum(axis=1)
    touched_volume = touching @ volume
    touched_bars = touching.sum(axis=1)
    first_bar = touching.argmax(axis=1)
    last_bar = width - 1 - touching[:, ::-1].argmax(axis=1)

    side_of = (close > column + tolerance).astype(np.int8) - (close < column - tolerance).astype(np.int8)
    pierces = np.maximum(_sign_changes(side_of) - 1, 0)

    mean_volume = float(volume.mean())
    relative = touched_volume / touched_bars / mean_volume if mean_volume > 0 else np.zeros(groups)
    touch_score = np.minimum(touches, settings.full_touches) / settings.full_touches
    volume_score = np.minimum(relative, _VOLUME_SCORE_CAP) / _VOLUME_SCORE_CAP
    age_score = (last_bar - first_bar) / (width - 1) if width > 1 else np.zeros(groups)
    weights = settings.touch_weight + settings.volume_weight + settings.age_weight
    base = (
        settings.touch_weight * touch_score + settings.volume_weight * volume_score + settings.age_weight * age_score
    ) / weights
    strength = np.clip(base * np.maximum(0.0, 1.0 - settings.pierce_penalty * pierces), 0.0, 1.0)

    source_bits = np.zeros(groups, dtype=np.int64)
    np.bitwise_or.at(source_bits, group_of, 1 << kinds)
    channel_edge = source_bits & (1 << _DONCHIAN) != 0
    keep = (touches >= settings.min_touches) | channel_edge
    chosen = _select(
        np.flatnonzero(keep),
        level_prices,
        strength,
        touches,
        channel_edge,
        settings.merge_atr * atr_value,
        float(close[-1]),
        settings.max_levels,
    )
    timestamps = candles.timestamp[start:end]
    return [
        Level(
            price=float(level_prices[row]),
            side="resistance" if level_prices[row] > close[-1] else "support",
            touches=int(touches[row]),
            first_ts=int(timestamps[first_bar[row]]),
            last_ts=int(timestamps[last_bar[row]]),
            volume=float(touched_volume[row]),
            pierces=int(pierces[row]),
            strength=float(strength[row]),
            sources=tuple(name for bit, name in enumerate(_SOURCE_NAMES) if source_bits[row] & (1 << bit)),
        )
        for row in chosen
    ]


def _sign_changes(signs: NDArray[np.int8]) -> NDArray[np.int64]:
    """Per row, how often the non-zero values change sign (zeros are skipped, not counted as a side)."""
    positions = np.where(signs != 0, np.arange(signs.shape[1]), 0)
    np.maximum.accumulate(positions, axis=1, out=positions)
    filled = np.take_along_axis(signs, positions, axis=1)  # each zero takes the last non-zero before it
    changed = (filled[:, 1:] != filled[:, :-1]) & (filled[:, :-1] != 0)
    counts: NDArray[np.int64] = changed.sum(axis=1, dtype=np.int64)
    return counts


def _select(
    rows: NDArray[np.int64],
    prices: NDArray[np.float64],
    strength: NDArray[np.float64],
    touches: NDArray[np.int64],
    channel_edge: NDArray[np.bool_],
    tolerance: float,
    last_close: float,
    max_levels: int,
) -> list[int]:
    """Rows kept, by price: channel edges, then the strongest; none within ``tolerance`` of one kept before."""
    order = rows[np.lexsort((prices[rows], -touches[rows], -strength[rows], ~channel_edge[rows]))]
    kept: list[float] = []  # sorted prices of the rows kept so far
    chosen: list[int] = []
    per_side = {True: 0, False: 0}
    for row in order:
        price = float(prices[row])
        at = bisect_left(kept, price)
        if (at > 0 and price - kept[at - 1] <= tolerance) or (at < len(kept) and kept[at] - price <= tolerance):
            continue
        kept.insert(at, price)  # a dropped-by-side level still shadows weaker neighbours
        above = price > last_close
        if per_side[above] < max_levels:
            per_side[above] += 1
            chosen.append(int(row))
    return sorted(chosen, key=lambda row: prices[row])


def _ahead(values: NDArray[np.float64], bars: int) -> NDArray[np.float64]:
    """``values`` moved ``bars`` earlier, NaN at the end: the window ending at ``j + bars`` read at ``j``."""
    moved = np.full_like(values, np.nan)
    if bars < len(values):
        moved[: len(values) - bars] = values[bars:]
    return moved


def _head(candles: CandleArrays, end: int) -> CandleArrays:
    return CandleArrays(
        candles.timestamp[:end],
        candles.open[:end],
        candles.high[:end],
        candles.low[:end],
        candles.close[:end],
        candles.volume[:end],
    )
