"""Breakout signals: a close through a level (momentum) or a return to a level just broken (retest).

Settings (``[signals]`` in a preset; every field is required, ranges inclusive unless noted):

===========================  =======  =================================================================
field                        type     meaning (allowed range)
===========================  =======  =================================================================
``momentum``                 bool     look for momentum breakouts
``retest``                   bool     look for retests (at least one of the two must be on)
``atr_period``               int      ATR bars (Wilder) that scale the distances below (2…500)
``min_level_strength``       float    weaker levels are ignored (0…1)
``breakout_buffer_mode``     str      ``atr`` or ``pct``: unit of ``breakout_buffer``
``breakout_buffer``          float    ε: how far beyond the level the close must be, in ATR or %
                                      of the level (0…10)
``max_extension_atr``        float    a close further than this many ATR beyond the level is a chase,
                                      not a breakout (> 0, ≤ 50)
``volume_period``            int      previous bars the signal bar's volume is compared with (2…1000)
``min_volume_surge``         float    momentum: volume ÷ mean of the previous bars at least (0…100)
``min_body_ratio``           float    momentum: body ÷ range of the signal candle, in the breakout's
                                      direction, at least (0…1)
``book_band_pct``            float    order book depth counted within ±this % of mid (> 0, ≤ 10)
``min_book_imbalance``       float    momentum, when a book is given: (bids − asks) ÷ (bids + asks)
                                      within the band, signed toward the breakout, at least (0…1)
``retest_tolerance_atr``     float    retest: the low (long) comes within this many ATR of the
                                      level (0…10)
``retest_max_pierce_atr``    float    retest: the low may dip at most this many ATR through the level,
                                      and closes since the break may not close further through (0…10)
``retest_min_bars``          int      retest: bars since the break at least (1…500)
``retest_max_bars``          int      retest: bars since the break at most (``retest_min_bars``…1000)
``retest_min_volume_ratio``  float    retest: volume ÷ mean of the previous bars at least — volume
                                      holding up (0…100)
``stop_mode``                str      ``structure`` (beyond the level, or the retest's low) or ``atr``
``stop_atr``                 float    ``atr`` mode: stop this many ATR from the entry (> 0, ≤ 50)
``stop_buffer_atr``          float    ``structure`` mode: stop this many ATR beyond the structure (0…10)
``min_stop_atr``             float    a closer stop is widened to this many ATR (0…50)
``max_stop_atr``             float    a wider stop means no signal (above ``min_stop_atr``, ≤ 100)
``tp1_r``                    float    first target, in R (> 0, ≤ 50)
``tp2_r``                    float    second target, in R (above ``tp1_r``, ≤ 100)
``min_confidence``           float    signals below this confidence are dropped (0…1)
``expiry_bars``              int      bars after the signal bar during which it may be entered (1…1000)
``dedupe_tolerance_pct``     float    :class:`SignalDeduper`: levels this close (%) are the same (0…10)
===========================  =======  =================================================================

Rules, at bar ``i`` (closed; nothing after ``i`` is read). ``ATR`` is the value at ``i``, ``ε`` the
breakout buffer (``breakout_buffer × ATR``, or ``breakout_buffer`` % of the level). Long side shown;
the short side mirrors every comparison.

**Momentum** (level ``L`` with strength ≥ ``min_level_strength``): ``close[i] > L + ε`` and
``close[i−1] ≤ L + ε`` (this bar broke it; a level broken earlier is a retest's business), and
``close[i] − L ≤ max_extension_atr × ATR``. When several levels break in one bar the nearest to the
close is used. Then each check must pass: ``volume_surge`` (volume ÷ mean of the previous
``volume_period`` bars), ``body_ratio`` (a bullish candle whose body is at least ``min_body_ratio`` of
its range), ``book_imbalance`` (only with a book; *skipped* — recorded with ``passed=None`` — without
one).

**Retest**: the latest bar ``b`` with ``i − retest_max_bars ≤ b ≤ i − retest_min_bars`` where the close
broke ``L`` as above (with ε from ``ATR[b]``); some close in ``b … i−1`` went beyond
``L + retest_tolerance_atr × ATR`` (price left the level before coming back); no close in ``b+1 … i−1``
fell below ``L − retest_max_pierce_atr × ATR`` (the break held). At ``i``: ``low ≤ L + tolerance``
(back at the level), ``low ≥ L − retest_max_pierce_atr × ATR`` (limited pierce), ``close > L`` (held),
and ``volume_surge ≥ retest_min_volume_ratio`` (volume holding). Among levels the latest break wins.
Momentum is looked for first.

**Prices**: entry = ``close[i]``. Stop (``structure``): ``L − stop_buffer_atr × ATR`` for momentum,
``min(L, low[i]) − stop_buffer_atr × ATR`` for a retest; (``atr``): ``entry − stop_atr × ATR``. A stop
closer than ``min_stop_atr × ATR`` is widened to it; one wider than ``max_stop_atr × ATR`` fails the
``stop_distance`` check. ``R = entry − stop``; TP1 = ``entry + tp1_r × R``, TP2 = ``entry + tp2_r × R``.

**Confidence** in [0, 1]: the mean of the available scores — level strength; volume ``s ÷ (1 + s)``
for a surge ``s``; candle shape (momentum: body ratio; retest: lower wick ÷ range, the rejection);
closeness ``1 − (close − L) ÷ (max_extension_atr × ATR)``, floored at 0; and, for momentum with a
book, ``(1 + signed imbalance) ÷ 2``. A signal below ``min_confidence`` fails the ``confidence`` check.
A retest does not read the book.

**Expiry**: ``expires_at = bar_ts + (1 + expiry_bars) × bar_ms`` — the signal bar closes at
``bar_ts + bar_ms`` and may be entered during the next ``expiry_bars`` bars.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

import numpy as np
from numpy.typing import NDArray
from pydantic import Field, model_validator

from elcaro.indicators import atr, body_ratio, volume_surge
from elcaro.marketdata import CandleArrays
from elcaro.models.enums import Side
from elcaro.models.errors import ValidationError
from elcaro.models.market import OrderBook
from elcaro.strategies.breakout.levels import Level
from elcaro.strategies.breakout.scanner import FilterDecision
from elcaro.strategies.breakout.section import Section, must_exceed

SignalKind = Literal["momentum", "retest"]


class SignalSettings(Section):
    """When a level break becomes a signal, and its prices; see the module docstring for each field."""

    momentum: bool
    retest: bool
    atr_period: int = Field(ge=2, le=500)
    min_level_strength: float = Field(ge=0, le=1)
    breakout_buffer_mode: Literal["atr", "pct"]
    breakout_buffer: float = Field(ge=0, le=10)
    max_extension_atr: float = Field(gt=0, le=50)
    volume_period: int = Field(ge=2, le=1000)
    min_volume_surge: float = Field(ge=0, le=100)
    min_body_ratio: float = Field(ge=0, le=1)
    book_band_pct: float = Field(gt=0, le=10)
    min_book_imbalance: float = Field(ge=0, le=1)
    retest_tolerance_atr: float = Field(ge=0, le=10)
    retest_max_pierce_atr: float = Field(ge=0, le=10)
    retest_min_bars: int = Field(ge=1, le=500)
    retest_max_bars: int = Field(ge=1, le=1000)
    retest_min_volume_ratio: float = Field(ge=0, le=100)
    stop_mode: Literal["structure", "atr"]
    stop_atr: float = Field(gt=0, le=50)
    stop_buffer_atr: float = Field(ge=0, le=10)
    min_stop_atr: float = Field(ge=0, le=50)
    max_stop_atr: float = Field(gt=0, le=100)
    tp1_r: float = Field(gt=0, le=50)
    tp2_r: float = Field(gt=0, le=100)
    min_confidence: float = Field(ge=0, le=1)
    expiry_bars: int = Field(ge=1, le=1000)
    dedupe_tolerance_pct: float = Field(ge=0, le=10)

    @model_validator(mode="after")
    def _consistent(self) -> SignalSettings:
        if not (self.momentum or self.retest):
            raise ValueError("momentum must be true when retest is false: no signal could ever be given")
        if self.retest_max_bars < self.retest_min_bars:
            raise ValueError(
                f"retest_max_bars must be at least retest_min_bars ({self.retest_min_bars}), got {self.retest_max_bars}"
            )
        must_exceed("max_stop_atr", self.max_stop_atr, "min_stop_atr", self.min_stop_atr)
        must_exceed("tp2_r", self.tp2_r, "tp1_r", self.tp1_r)
        return self

    @property
    def warmup_bars(self) -> int:
        return max(self.atr_period, self.volume_period) + 1


@dataclass(frozen=True, slots=True)
class BreakoutSignal:
    """A trade idea at the close of bar ``bar_ts``; prices are floats, rounded to the instrument by the executor."""

    symbol: str
    side: Side
    kind: SignalKind
    level: Level
    entry: float
    """The signal bar's close; a backtest fills at the next bar's open."""
    stop: float
    tp1: float
    tp2: float
    confidence: float
    bar_ts: int
    """Open time of the signal bar."""
    expires_at: int
    """Epoch ms after which the signal may no longer be entered."""
    atr: float = 0.0
    """ATR at the signal bar (the unit of the buffers and of ``max_stop_atr``)."""
    checks: tuple[FilterDecision, ...] = ()
    """Every check made, in order, with its value and threshold; ``passed=None`` means skipped (no data)."""

    @property
    def risk_per_unit(self) -> float:
        """``|entry − stop|``: what one unit loses at the stop (1 R)."""
        return abs(self.entry - self.stop)

    def accepts_entry(self, price: float) -> bool:
        """Whether a fill at ``price`` still leaves the stop and TP1 on their sides (a gap may have passed either)."""
        if self.side is Side.BUY:
            return self.stop < price < self.tp1
        return self.tp1 < price < self.stop

    def is_live(self, now_ms: int) -> bool:
        return now_ms < self.expires_at


@dataclass(frozen=True, slots=True)
class Assessment:
    """What :func:`assess` found at one bar: the signal, or the candidate that failed and why."""

    signal: BreakoutSignal | None
    kind: SignalKind | None
    """The kind of the candidate examined; ``None`` when no level was broken or retested."""
    checks: tuple[FilterDecision, ...] = ()


@dataclass(frozen=True, slots=True)
class SignalInputs:
    """Whole-series arrays :func:`detect` reads; make them once per series with :func:`signal_inputs`."""

    atr: NDArray[np.float64]
    volume_surge: NDArray[np.float64]
    body_ratio: NDArray[np.float64]


def signal_inputs(
    candles: CandleArrays, settings: SignalSettings, *, atr_values: NDArray[np.float64] | None = None
) -> SignalInputs:
    """Precompute the arrays signals need; ``atr_values`` reuses an ATR of ``settings.atr_period``."""
    if atr_values is None:
        atr_values = atr(candles.high, candles.low, candles.close, settings.atr_period)
    return SignalInputs(
        atr=atr_values,
        volume_surge=volume_surge(candles.volume, settings.volume_period),
        body_ratio=body_ratio(candles.open, candles.high, candles.low, candles.close),
    )


def detect(
    symbol: str,
    candles: CandleArrays,
    levels: list[Level] | tuple[Level, ...],
    settings: SignalSettings,
    *,
    index: int,
    book: OrderBook | None = None,
    inputs: SignalInputs | None = None,
    bar_ms: int | None = None,
) -> BreakoutSignal | None:
    """The signal at the close of bar ``index``, or ``None``; reads bars ``≤ index`` only.

    ``levels`` must come from bars before ``index`` (``find_levels(..., end=index)`` or earlier).
    ``inputs`` are :func:`signal_inputs` of the same ``candles`` (computed here when absent);
    ``bar_ms`` is the timeframe's length (inferred from the timestamps when absent).
    """
    return assess(symbol, candles, levels, settings, index=index, book=book, inputs=inputs, bar_ms=bar_ms).signal


def assess(
    symbol: str,
    candles: CandleArrays,
    levels: list[Level] | tuple[Level, ...],
    settings: SignalSettings,
    *,
    index: int,
    book: OrderBook | None = None,
    inputs: SignalInputs | None = None,
    bar_ms: int | None = None,
) -> Assessment:
    """Like :func:`detect`, and also says which candidate failed which check (for diagnostics)."""
    n = len(candles)
    if not 0 <= index < n:
        raise ValidationError(f"must be between 0 and {n - 1}, got {index}", field="index")
    if inputs is None:
        inputs = signal_inputs(candles, settings)
    bar = _Bar(candles, inputs, index)
    if index < 1 or not np.isfinite(bar.atr) or bar.atr <= 0:
        return Assessment(None, None)
    usable = [level for level in levels if level.strength >= settings.min_level_strength]
    failed: Assessment | None = None
    finders = ((settings.momentum, _momentum), (settings.retest, _retest))
    for enabled, find in finders:
        if not enabled:
            continue
        found = find(bar, usable, settings)
        if found is None:
            continue
        assessment = _finish(symbol, bar, found, settings, book, bar_ms)
        if assessment.signal is not None:
            return assessment
        failed = failed or assessment
    return failed or Assessment(None, None)


@dataclass(frozen=True, slots=True)
class _Bar:
    candles: CandleArrays
    inputs: SignalInputs
    index: int

    @property
    def atr(self) -> float:
        return float(self.inputs.atr[self.index])

    @property
    def close(self) -> float:
        return float(self.candles.close[self.index])


@dataclass(frozen=True, slots=True)
class _Candidate:
    kind: SignalKind
    side: Side
    level: Level
    structure: float
    """The price the structure stop is placed beyond."""
    shape: float
    """Candle shape score: body ratio (momentum) or rejection wick (retest)."""
    checks: list[FilterDecision] = field(default_factory=list)


def _buffer(settings: SignalSettings, level: float, atr_value: float) -> float:
    if settings.breakout_buffer_mode == "atr":
        return settings.breakout_buffer * atr_value
    return settings.breakout_buffer / 100 * level


def _momentum(bar: _Bar, levels: list[Level], settings: SignalSettings) -> _Candidate | None:
    i, close, atr_value = bar.index, bar.close, bar.atr
    previous = float(bar.candles.close[i - 1])
    reach = settings.max_extension_atr * atr_value
    best: tuple[float, Side, Level] | None = None
    for level in levels:
        epsilon = _buffer(settings, level.price, atr_value)
        for side, sign in ((Side.BUY, 1.0), (Side.SELL, -1.0)):
            beyond = sign * (close - level.price)
            broke = beyond > epsilon and sign * (previous - level.price) <= epsilon and beyond <= reach
            # Several levels broken at once: the one nearest the close is the one that matters now.
            if broke and (best is None or beyond < best[0]):
                best = (beyond, side, level)
    if best is None:
        return None
    _, side, level = best
    sign = 1.0 if side is Side.BUY else -1.0
    surge = float(bar.inputs.volume_surge[i])
    direction = sign * (close - float(bar.candles.open[i]))
    body = float(bar.inputs.body_ratio[i]) if direction > 0 else 0.0
    body = 0.0 if not np.isfinite(body) else body
    checks = [
        _check("volume_surge", surge, f"≥ {settings.min_volume_surge:g}", surge >= settings.min_volume_surge),
        _check("body_ratio", body, f"≥ {settings.min_body_ratio:g} toward the break", body >= settings.min_body_ratio),
    ]
    return _Candidate("momentum", side, level, level.price, body, checks)


def _retest(bar: _Bar, levels: list[Level], settings: SignalSettings) -> _Candidate | None:
    i, atr_value = bar.index, bar.atr
    first = max(1, i - settings.retest_max_bars)
    last = i - settings.retest_min_bars
    if last < first:
        return None
    candles = bar.candles
    close = candles.close
    tolerance = settings.retest_tolerance_atr * atr_value
    pierce = settings.retest_max_pierce_atr * atr_value
    break_atr = bar.inputs.atr[first : last + 1]
    best: tuple[int, Side, Level] | None = None
    for level in levels:
        for side, sign in ((Side.BUY, 1.0), (Side.SELL, -1.0)):
            # The bar itself first (cheap): back at the level, not too far through it, closed on the right side.
            adverse = float(candles.low[i] if side is Side.BUY else candles.high[i])
            reach = sign * (adverse - level.price)
            if not (-pierce <= reach <= tolerance and sign * (bar.close - level.price) > 0):
                continue
            epsilon = (
                settings.breakout_buffer * break_atr
                if settings.breakout_buffer_mode == "atr"
                else np.full(len(break_atr), settings.breakout_buffer / 100 * level.price)
            )
            now = sign * (close[first : last + 1] - level.price)
            before = sign * (close[first - 1 : last] - level.price)
            with np.errstate(invalid="ignore"):
                breaks = np.flatnonzero((now > epsilon) & (before <= epsilon))
            if len(breaks) == 0:
                continue
            b = first + int(breaks[-1])
            since = sign * (close[b:i] - level.price)
            if since.max() <= tolerance or (len(since) > 1 and since[1:].min() < -pierce):
                continue
            if best is None or (b, level.strength) > (best[0], best[2].strength):
                best = (b, side, level)
    if best is None:
        return None
    _, side, level = best
    high, low, open_ = float(candles.high[i]), float(candles.low[i]), float(candles.open[i])
    span = high - low
    wick = (min(open_, bar.close) - low) if side is Side.BUY else (high - max(open_, bar.close))
    shape = wick / span if span > 0 else 0.0
    structure = min(level.price, low) if side is Side.BUY else max(level.price, high)
    surge = float(bar.inputs.volume_surge[i])
    checks = [
        _check(
            "retest_volume",
            surge,
            f"≥ {settings.retest_min_volume_ratio:g}",
            surge >= settings.retest_min_volume_ratio,
        )
    ]
    return _Candidate("retest", side, level, structure, shape, checks)


def _finish(
    symbol: str,
    bar: _Bar,
    candidate: _Candidate,
    settings: SignalSettings,
    book: OrderBook | None,
    bar_ms: int | None,
) -> Assessment:
    side, level = candidate.side, candidate.level
    sign = 1.0 if side is Side.BUY else -1.0
    entry, atr_value = bar.close, bar.atr
    checks = list(candidate.checks)
    scores = [level.strength, _surge_score(float(bar.inputs.volume_surge[bar.index])), candidate.shape]
    scores.append(max(0.0, 1.0 - sign * (entry - level.price) / (settings.max_extension_atr * atr_value)))

    if candidate.kind == "momentum":
        imbalance = None if book is None else book_imbalance(book, settings.book_band_pct)
        if book is None:
            checks.append(FilterDecision("book_imbalance", None, f"≥ {settings.min_book_imbalance:g}", None))
        else:
            signed = None if imbalance is None else sign * imbalance
            passed = signed is not None and signed >= settings.min_book_imbalance
            checks.append(FilterDecision("book_imbalance", signed, f"≥ {settings.min_book_imbalance:g}", passed))
            scores.append(0.0 if signed is None else (1.0 + signed) / 2)

    if settings.stop_mode == "structure":
        stop = candidate.structure - sign * settings.stop_buffer_atr * atr_value
    else:
        stop = entry - sign * settings.stop_atr * atr_value
    distance = sign * (entry - stop)
    floor = settings.min_stop_atr * atr_value
    if distance < floor:
        distance = floor
        stop = entry - sign * distance
    distance_atr = distance / atr_value
    checks.append(
        _check(
            "stop_distance",
            distance_atr,
            f"> 0 and ≤ {settings.max_stop_atr:g} ATR",
            0 < distance_atr <= settings.max_stop_atr,
        )
    )
    confidence = float(np.clip(np.mean(scores), 0.0, 1.0))
    checks.append(
        _check("confidence", confidence, f"≥ {settings.min_confidence:g}", confidence >= settings.min_confidence)
    )

    if any(check.passed is False for check in checks):
        return Assessment(None, candidate.kind, tuple(checks))
    bar_ts = int(bar.candles.timestamp[bar.index])
    length = bar_ms if bar_ms is not None else _bar_length(bar.candles.timestamp, bar.index)
    signal = BreakoutSignal(
        symbol=symbol,
        side=side,
        kind=candidate.kind,
        level=level,
        entry=entry,
        stop=stop,
        tp1=entry + sign * settings.tp1_r * distance,
        tp2=entry + sign * settings.tp2_r * distance,
        confidence=confidence,
        bar_ts=bar_ts,
        expires_at=bar_ts + (1 + settings.expiry_bars) * length,
        atr=atr_value,
        checks=tuple(checks),
    )
    return Assessment(signal, candidate.kind, tuple(checks))


def book_imbalance(book: OrderBook, band_pct: float) -> float | None:
    """``(bids − asks) ÷ (bids + asks)`` in quote notional within ``band_pct`` % of mid; ``None`` without depth."""
    imbalance = book.depth_within(Decimal(str(band_pct)) / 100).imbalance
    return None if imbalance is None else float(imbalance)


def _check(name: str, value: float, threshold: str, passed: bool) -> FilterDecision:
    return FilterDecision(name, float(value) if np.isfinite(value) else None, threshold, bool(passed))


def _surge_score(surge: float) -> float:
    return surge / (1.0 + surge) if np.isfinite(surge) and surge > 0 else (1.0 if surge == np.inf else 0.0)


def _bar_length(timestamps: NDArray[np.int64], index: int) -> int:
    recent = np.diff(timestamps[max(0, index - 20) : index + 1])
    recent = recent[recent > 0]
    if len(recent) == 0:
        raise ValidationError("cannot tell the bar length from one candle; pass bar_ms", field="bar_ms")
    return int(recent.min())


class SignalDeduper:
    """Drops a signal that repeats one still live: same symbol and side, a level within ``tolerance_pct`` %.

    ``accept`` is idempotent: offering the very signal it accepted (same bar) again returns ``True``,
    so a caller that retries a bar does not lose its own signal.
    """

    def __init__(self, tolerance_pct: float) -> None:
        if not 0 <= tolerance_pct <= 10:
            raise ValidationError(f"must be between 0 and 10, got {tolerance_pct}", field="tolerance_pct")
        self._tolerance = tolerance_pct / 100
        self._live: dict[tuple[str, Side], list[BreakoutSignal]] = {}

    def accept(self, signal: BreakoutSignal) -> bool:
        """``True`` and remembered when new; ``False`` for a duplicate of a signal not yet expired."""
        key = (signal.symbol, signal.side)
        live = [other for other in self._live.get(key, []) if signal.bar_ts < other.expires_at]
        for other in live:
            if abs(other.level.price - signal.level.price) <= self._tolerance * other.level.price:
                self._live[key] = live
                return other.bar_ts == signal.bar_ts and other.kind == signal.kind
        live.append(signal)
        self._live[key] = live
        return True

    def clear(self) -> None:
        self._live.clear()
