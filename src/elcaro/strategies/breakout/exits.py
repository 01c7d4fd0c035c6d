"""Managing an open breakout trade bar by bar: targets, stop moves and the reasons to leave early.

Settings (``[management]`` in a preset; every field is required; a ``*_bars`` of 0 turns its rule off):

================================  =====  ==============================================================
field                             type   meaning (allowed range)
================================  =====  ==============================================================
``tp1_fraction``                  float  share of the entry quantity closed at TP1 (> 0, ≤ 1)
``tp2_fraction``                  float  share closed at TP2 (> 0, ≤ 1; with ``tp1_fraction`` ≤ 1 —
                                         what is left after both trails)
``break_even_after_tp1``          bool   move the stop to the entry (plus the offset) once TP1 filled
``break_even_offset_pct``         float  that offset, % of the entry, toward profit: pays the fees (0…10)
``atr_period``                    int    ATR bars (Wilder) of the trailing stop and buffers (2…500)
``chandelier_atr``                float  chandelier trailing: stop = best price ∓ this × ATR; 0 = off
                                         (0…50)
``trail_activation_r``            float  trailing starts once the best price is this many R in favour
                                         (0 = from the entry; 0…50)
``time_stop_bars``                int    close a trade that has not reached TP1 after this many bars
``max_hold_bars``                 int    close any trade after this many bars
``no_progress_bars``              int    close when the best price has not advanced by
                                         ``no_progress_min_r`` for this many bars
``no_progress_min_r``             float  the advance that counts as progress, in R (0…50; 0 = any new
                                         best price)
``failed_breakout_bars``          int    for this many bars after the entry, a close back through the
                                         level (beyond ``failed_breakout_buffer_atr`` × ATR) exits
``failed_breakout_buffer_atr``    float  (0…10)
``weak_impulse_bars``             int    after this many bars, exit unless the best price reached
                                         ``weak_impulse_min_r`` (and TP1 has not filled)
``weak_impulse_min_r``            float  (0…50)
``exit_on_activity_drop``         bool   exit when the caller reports the activity index dropped
================================  =====  ==============================================================

(All ``*_bars`` fields: 0…100000.)

One bar ``i`` (long shown; a short mirrors every comparison), with ``R = |entry − initial stop|`` and
``bars held = i − opened_index`` (0 on the bar the entry filled in):

1. **Stop** — if the low reaches the stop, everything closes at the stop (at the open when the bar
   opened through it) and nothing else is looked at: *when a bar's range touches both the stop and a
   target, the stop is assumed hit first* (the backtester documents the same rule). The reason is
   the rule that put the stop there: ``stop``, ``break_even`` or ``trailing``.
2. **Targets** — if the high reaches TP1, ``tp1_fraction`` of the entry quantity closes at TP1 (at the
   open when it opened beyond); then TP2 likewise. A target that empties the position is a
   :class:`CloseAll`.
3. **Stop moves**, decided on the close and in force from the next bar (tighten-only): to
   ``entry × (1 + offset)`` once TP1 has filled; to the chandelier ``highest high since entry −
   chandelier_atr × ATR`` once the best price is ``trail_activation_r`` R in favour. When the close is
   already through the new stop, the trade closes at the close instead (the venue's stop would fire).
4. **Exits at the close**, first that applies: ``failed_breakout`` (bars held ≤ N and the close is
   below ``level − buffer × ATR``), ``weak_impulse`` (bars held ≥ M, TP1 not filled, best price below
   ``entry + min_r × R``), ``activity_drop``, ``no_progress`` (the best price last advanced by
   ``no_progress_min_r`` R at least N bars ago), ``time_stop`` (bars held ≥ N without TP1),
   ``max_hold``.

:func:`manage` returns the actions; :func:`step` also returns the trade as it is once they are
carried out, which is how a caller walks bars. Both are pure: nothing is changed in place.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from enum import StrEnum

import numpy as np
from numpy.typing import NDArray
from pydantic import Field, model_validator

from elcaro.indicators import atr
from elcaro.marketdata import CandleArrays
from elcaro.models.enums import ExitReason, Side
from elcaro.models.errors import ValidationError
from elcaro.strategies.breakout.section import Section
from elcaro.strategies.breakout.signals import BreakoutSignal

_DUST = 1e-9
"""A remainder below this share of the entry quantity is float noise, not a position."""


class ManagementSettings(Section):
    """How an open trade is managed; see the module docstring for each field."""

    tp1_fraction: float = Field(gt=0, le=1)
    tp2_fraction: float = Field(gt=0, le=1)
    break_even_after_tp1: bool
    break_even_offset_pct: float = Field(ge=0, le=10)
    atr_period: int = Field(ge=2, le=500)
    chandelier_atr: float = Field(ge=0, le=50)
    trail_activation_r: float = Field(ge=0, le=50)
    time_stop_bars: int = Field(ge=0, le=100_000)
    max_hold_bars: int = Field(ge=0, le=100_000)
    no_progress_bars: int = Field(ge=0, le=100_000)
    no_progress_min_r: float = Field(ge=0, le=50)
    failed_breakout_bars: int = Field(ge=0, le=100_000)
    failed_breakout_buffer_atr: float = Field(ge=0, le=10)
    weak_impulse_bars: int = Field(ge=0, le=100_000)
    weak_impulse_min_r: float = Field(ge=0, le=50)
    exit_on_activity_drop: bool

    @model_validator(mode="after")
    def _fractions(self) -> ManagementSettings:
        total = self.tp1_fraction + self.tp2_fraction
        if total > 1 + _DUST:
            raise ValueError(f"tp2_fraction plus tp1_fraction must be at most 1, got {total:g}")
        return self


class ExitRule(StrEnum):
    """The rule behind an action. :attr:`exit_reason` is what a closed trade records."""

    TP1 = "tp1"
    TP2 = "tp2"
    STOP = "stop"
    BREAK_EVEN = "break_even"
    TRAILING = "trailing"
    TIME_STOP = "time_stop"
    MAX_HOLD = "max_hold"
    NO_PROGRESS = "no_progress"
    FAILED_BREAKOUT = "failed_breakout"
    WEAK_IMPULSE = "weak_impulse"
    ACTIVITY_DROP = "activity_drop"

    @property
    def exit_reason(self) -> ExitReason:
        mapped = _EXIT_REASONS.get(self)
        return mapped if mapped is not None else ExitReason(self.value)


_EXIT_REASONS = {
    ExitRule.TP1: ExitReason.TAKE_PROFIT,
    ExitRule.TP2: ExitReason.TAKE_PROFIT,
    ExitRule.STOP: ExitReason.STOP_LOSS,
    ExitRule.TRAILING: ExitReason.TRAILING_STOP,
}


@dataclass(frozen=True, slots=True)
class PartialClose:
    """Close ``quantity`` (``fraction`` of the entry quantity) at ``price``, reduce-only."""

    fraction: float
    reason: ExitRule
    price: float
    quantity: float


@dataclass(frozen=True, slots=True)
class MoveStop:
    """Move the protective stop to ``new_stop`` (always tighter than before), from the next bar."""

    new_stop: float
    reason: ExitRule


@dataclass(frozen=True, slots=True)
class CloseAll:
    """Close the whole remaining ``quantity`` at ``price``."""

    reason: ExitRule
    price: float
    quantity: float


ExitAction = PartialClose | MoveStop | CloseAll


@dataclass(frozen=True, slots=True)
class OpenTrade:
    """An open breakout trade and what management has learned about it so far.

    Build it with :meth:`from_signal` when the entry fills; :func:`step` returns the next one.
    """

    symbol: str
    side: Side
    entry: float
    """Average fill price of the entry."""
    stop: float
    """The stop in force now."""
    tp1: float
    tp2: float
    quantity: float
    """Entry quantity (base currency)."""
    remaining: float
    opened_index: int
    """The bar the entry filled in."""
    opened_ts: int
    level_price: float
    """The level the trade broke (or retested)."""
    initial_stop: float = math.nan
    """The stop at entry (defaults to ``stop``): 1 R is ``|entry − initial_stop|``."""
    stop_rule: ExitRule = ExitRule.STOP
    """What put the stop where it is: ``stop``, ``break_even`` or ``trailing``."""
    tp1_done: bool = False
    tp2_done: bool = False
    best_price: float = math.nan
    """Most favourable price since the entry (highest high for a long); defaults to ``entry``."""
    progress_price: float = math.nan
    """Best price when progress was last made (see ``no_progress``); defaults to ``entry``."""
    progress_index: int = -1
    """Bar of the last progress; defaults to ``opened_index``."""
    last_index: int = -1
    """Last bar managed; ``opened_index − 1`` until the first."""
    exit_rule: ExitRule | None = None
    """Set once the trade is closed."""
    tags: tuple[str, ...] = field(default=())
    """Free labels for the caller (signal kind, ids); management ignores them."""

    def __post_init__(self) -> None:
        for name, default in (("initial_stop", self.stop), ("best_price", self.entry), ("progress_price", self.entry)):
            if math.isnan(getattr(self, name)):
                object.__setattr__(self, name, default)
        if self.progress_index < 0:
            object.__setattr__(self, "progress_index", self.opened_index)
        if self.last_index < 0:
            object.__setattr__(self, "last_index", self.opened_index - 1)
        sign = self.sign
        if not (self.quantity > 0 and 0 <= self.remaining <= self.quantity * (1 + _DUST)):
            raise ValidationError(
                f"quantity must be above 0 and remaining within 0…quantity, got {self.quantity} and {self.remaining}",
                field="remaining",
            )
        if not sign * (self.entry - self.initial_stop) > 0:
            raise ValidationError(
                f"a {self.side} entry at {self.entry} needs its stop on the other side, got {self.initial_stop}",
                field="stop",
            )
        if not (sign * (self.tp1 - self.entry) > 0 and sign * (self.tp2 - self.tp1) >= 0):
            raise ValidationError(
                f"targets must lie beyond the entry {self.entry} in order, got {self.tp1} and {self.tp2}", field="tp1"
            )

    @classmethod
    def from_signal(
        cls, signal: BreakoutSignal, *, quantity: float, entry_price: float, index: int, ts: int
    ) -> OpenTrade:
        """The trade of ``signal`` filled for ``quantity`` at ``entry_price`` in bar ``index``.

        Check ``signal.accepts_entry(entry_price)`` first: a fill beyond the stop or TP1 is refused.
        """
        if not signal.accepts_entry(entry_price):
            raise ValidationError(
                f"{entry_price} is not between the stop {signal.stop} and TP1 {signal.tp1}", field="entry_price"
            )
        return cls(
            symbol=signal.symbol,
            side=signal.side,
            entry=entry_price,
            stop=signal.stop,
            tp1=signal.tp1,
            tp2=signal.tp2,
            quantity=quantity,
            remaining=quantity,
            opened_index=index,
            opened_ts=ts,
            level_price=signal.level.price,
            tags=(signal.kind,),
        )

    @property
    def sign(self) -> float:
        return 1.0 if self.side is Side.BUY else -1.0

    @property
    def risk(self) -> float:
        """1 R: price distance from the entry to the initial stop."""
        return abs(self.entry - self.initial_stop)

    @property
    def is_closed(self) -> bool:
        return self.exit_rule is not None

    def bars_held(self, index: int) -> int:
        return index - self.opened_index


@dataclass(frozen=True, slots=True)
class Step:
    """One bar of management: the actions, and the trade once they are carried out."""

    trade: OpenTrade
    actions: tuple[ExitAction, ...]


def manage(
    trade: OpenTrade,
    candles: CandleArrays,
    index: int,
    settings: ManagementSettings,
    *,
    activity_dropped: bool = False,
    atr_values: NDArray[np.float64] | None = None,
) -> list[ExitAction]:
    """The actions for bar ``index`` (closed); see the module docstring for the rules and their order.

    ``atr_values`` is the ATR of ``settings.atr_period`` over ``candles`` (computed here when absent).
    """
    return list(step(trade, candles, index, settings, activity_dropped=activity_dropped, atr_values=atr_values).actions)


def step(
    trade: OpenTrade,
    candles: CandleArrays,
    index: int,
    settings: ManagementSettings,
    *,
    activity_dropped: bool = False,
    atr_values: NDArray[np.float64] | None = None,
) -> Step:
    """Like :func:`manage`, and also the trade after the actions (a closed trade has ``exit_rule`` set)."""
    if trade.is_closed:
        raise ValidationError(f"the {trade.symbol} trade is already closed ({trade.exit_rule})", field="trade")
    if not trade.last_index < index < len(candles):
        raise ValidationError(
            f"must be after the last bar managed ({trade.last_index}) and below {len(candles)}, got {index}",
            field="index",
        )
    if atr_values is None:
        end = index + 1
        atr_values = atr(candles.high[:end], candles.low[:end], candles.close[:end], settings.atr_period)
    return _Bar(trade, candles, index, settings, float(atr_values[index])).run(activity_dropped)


@dataclass(slots=True)
class _Bar:
    """The working state of one bar's management."""

    trade: OpenTrade
    candles: CandleArrays
    index: int
    settings: ManagementSettings
    atr: float
    actions: list[ExitAction] = field(default_factory=list)

    def run(self, activity_dropped: bool) -> Step:
        trade, s, i = self.trade, self.settings, self.index
        sign = trade.sign
        open_, close = float(self.candles.open[i]), float(self.candles.close[i])
        favourable = float(self.candles.high[i] if sign > 0 else self.candles.low[i])
        adverse = float(self.candles.low[i] if sign > 0 else self.candles.high[i])
        done = replace(trade, last_index=i)

        if sign * (adverse - trade.stop) <= 0:
            price = open_ if sign * (open_ - trade.stop) < 0 else trade.stop
            return self._close_all(done, trade.stop_rule, price)

        remaining, tp1_done, tp2_done = trade.remaining, trade.tp1_done, trade.tp2_done
        for target, fraction, rule, reached in (
            (trade.tp1, s.tp1_fraction, ExitRule.TP1, tp1_done),
            (trade.tp2, s.tp2_fraction, ExitRule.TP2, tp2_done),
        ):
            if reached or sign * (favourable - target) < 0:
                continue
            price = open_ if sign * (open_ - target) > 0 else target
            quantity = min(fraction * trade.quantity, remaining)
            tp1_done = tp1_done or rule is ExitRule.TP1
            tp2_done = tp2_done or rule is ExitRule.TP2
            if remaining - quantity <= _DUST * trade.quantity:
                emptied = replace(done, remaining=remaining, tp1_done=tp1_done, tp2_done=tp2_done)
                return self._close_all(emptied, rule, price)
            self.actions.append(PartialClose(fraction, rule, price, quantity))
            remaining -= quantity

        best = favourable if sign * (favourable - trade.best_price) > 0 else trade.best_price
        progress_price, progress_index = trade.progress_price, trade.progress_index
        advance = sign * (best - progress_price)
        if advance > 0 and advance >= s.no_progress_min_r * trade.risk:
            progress_price, progress_index = best, i
        done = replace(
            done,
            remaining=remaining,
            tp1_done=tp1_done,
            tp2_done=tp2_done,
            best_price=best,
            progress_price=progress_price,
            progress_index=progress_index,
        )

        stop, stop_rule = trade.stop, trade.stop_rule
        if tp1_done and s.break_even_after_tp1:
            break_even = trade.entry * (1 + sign * s.break_even_offset_pct / 100)
            if sign * (break_even - stop) > 0:
                stop, stop_rule = break_even, ExitRule.BREAK_EVEN
        trailing = s.chandelier_atr > 0 and np.isfinite(self.atr)
        if trailing and sign * (best - trade.entry) >= s.trail_activation_r * trade.risk:
            chandelier = best - sign * s.chandelier_atr * self.atr
            if sign * (chandelier - stop) > 0:
                stop, stop_rule = chandelier, ExitRule.TRAILING
        if stop != trade.stop:
            if sign * (close - stop) <= 0:
                return self._close_all(done, stop_rule, close)
            self.actions.append(MoveStop(stop, stop_rule))
            done = replace(done, stop=stop, stop_rule=stop_rule)

        leaving = self._exit_at_close(done, close, activity_dropped)
        if leaving is not None:
            return self._close_all(done, leaving, close)
        return Step(done, tuple(self.actions))

    def _exit_at_close(self, trade: OpenTrade, close: float, activity_dropped: bool) -> ExitRule | None:
        s, sign, held = self.settings, trade.sign, trade.bars_held(self.index)
        buffer = s.failed_breakout_buffer_atr * self.atr if np.isfinite(self.atr) else 0.0
        excursion = sign * (trade.best_price - trade.entry)
        rules = (
            (
                ExitRule.FAILED_BREAKOUT,
                s.failed_breakout_bars > 0
                and held <= s.failed_breakout_bars
                and sign * (close - trade.level_price) < -buffer,
            ),
            (
                ExitRule.WEAK_IMPULSE,
                0 < s.weak_impulse_bars <= held
                and not trade.tp1_done
                and excursion < s.weak_impulse_min_r * trade.risk,
            ),
            (ExitRule.ACTIVITY_DROP, activity_dropped and s.exit_on_activity_drop),
            (ExitRule.NO_PROGRESS, 0 < s.no_progress_bars <= self.index - trade.progress_index),
            (ExitRule.TIME_STOP, 0 < s.time_stop_bars <= held and not trade.tp1_done),
            (ExitRule.MAX_HOLD, 0 < s.max_hold_bars <= held),
        )
        return next((rule for rule, applies in rules if applies), None)

    def _close_all(self, trade: OpenTrade, rule: ExitRule, price: float) -> Step:
        remaining = trade.remaining
        self.actions.append(CloseAll(rule, price, remaining))
        return Step(replace(trade, remaining=0.0, exit_rule=rule), tuple(self.actions))
