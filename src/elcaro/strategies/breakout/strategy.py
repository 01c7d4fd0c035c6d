"""The breakout strategy as one object: the facade the backtester and the engine call.

Both callers walk closed bars and ask the same three questions, so every rule exists once::

    strategy = BreakoutStrategy(load_preset("liquid"))
    series = strategy.prepare("BTC/USDT:USDT", candles)      # once per series: indicator arrays
    for i in range(strategy.preset.warmup_bars, len(candles)):
        if trade is None:
            signal = strategy.signal_at("BTC/USDT:USDT", series, i)   # bar i closed; reads bars ≤ i
            ...                                                # risk gate: strategy.new_risk_book().check(...)
        else:
            result = strategy.step(trade, series, i)           # exits for bar i; result.trade is the next state
            trade = None if result.trade.is_closed else result.trade

**Prepared series.** :meth:`BreakoutStrategy.prepare` computes every whole-series array once (ATRs,
volume surge, body ratio, swing pivots, high-volume flags); each indicator is causal, so a value at
bar ``i`` is the same whether the series ends at ``i`` or later, and a backtest over a prepared series
sees no future. Every method also takes plain ``CandleArrays``: the strategy then prepares them
itself and keeps the result for the next call with the *same* array object (a backtest passing the
same arrays each bar pays once); a new array (a live engine's refreshed window) is prepared again,
which costs a few microseconds per hundred bars.

**Level refresh.** Levels are recomputed every ``levels.refresh_bars`` bars, on bars whose open time
is a multiple of ``refresh_bars × timeframe`` since the epoch, and reused in between: at bar ``i`` the
levels are those of ``find_levels(end=e)`` where ``e = i − (bar number of i mod refresh_bars)`` (bar
number = open time ÷ timeframe). The anchor depends on time, not on where an array starts, so a
backtest and a live engine holding a sliding window see the same levels. A walk over one prepared
series costs ``n ÷ refresh_bars`` level searches for ``n`` bars; a caller passing fresh arrays every
bar (a live engine) has them searched again every bar, with the same result.

**Duplicates.** :meth:`signal_at` passes every signal through one :class:`SignalDeduper`: a repeat of a
signal still live (same symbol and side, level within ``signals.dedupe_tolerance_pct``) returns
``None``. Asking again for the bar that produced a signal returns it again. Use one strategy object
per backtest run (or call :meth:`reset`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from elcaro.indicators import atr
from elcaro.marketdata import CandleArrays
from elcaro.models.errors import ValidationError
from elcaro.models.market import OrderBook
from elcaro.strategies.breakout.exits import ExitAction, OpenTrade, Step, step
from elcaro.strategies.breakout.levels import Level, LevelInputs, find_levels, level_inputs
from elcaro.strategies.breakout.preset import BreakoutPreset
from elcaro.strategies.breakout.risk import RiskBook
from elcaro.strategies.breakout.signals import (
    Assessment,
    BreakoutSignal,
    SignalDeduper,
    SignalInputs,
    assess,
    signal_inputs,
)


@dataclass(slots=True)
class PreparedSeries:
    """One symbol's candles with the arrays the strategy reads, computed once (see the module docstring)."""

    symbol: str
    candles: CandleArrays
    levels: LevelInputs
    signals: SignalInputs
    exit_atr: NDArray[np.float64]
    bar_numbers: NDArray[np.int64]
    """Open time ÷ timeframe: the level refresh anchor."""
    _level_cache: dict[int, tuple[Level, ...]] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.candles)


class BreakoutStrategy:
    """Levels, signals and trade management of one preset; see the module docstring for the walk.

    Stable API (the backtester and the engine depend on it):

    - :meth:`prepare` ``(symbol, candles) -> PreparedSeries``
    - :meth:`levels_for` ``(symbol, candles, index) -> tuple[Level, ...]``
    - :meth:`signal_at` ``(symbol, candles, index, book=None) -> BreakoutSignal | None``
    - :meth:`assess_at` ``(symbol, candles, index, book=None) -> Assessment`` (diagnostics)
    - :meth:`open_trade` ``(signal, *, quantity, entry_price, index, ts) -> OpenTrade``
    - :meth:`manage` ``(trade, candles, index, activity_dropped=False) -> list[ExitAction]``
    - :meth:`step` ``(trade, candles, index, activity_dropped=False) -> Step``
    - :meth:`new_risk_book` ``() -> RiskBook``

    ``candles`` is always either a :class:`PreparedSeries` or ``CandleArrays`` in the preset's
    timeframe, oldest first; ``index`` is the bar that just closed.
    """

    def __init__(self, preset: BreakoutPreset) -> None:
        self.preset = preset
        self._bar_ms = preset.timeframe_ms
        self._prepared: dict[str, PreparedSeries] = {}
        self._deduper = SignalDeduper(preset.signals.dedupe_tolerance_pct)

    def prepare(self, symbol: str, candles: CandleArrays) -> PreparedSeries:
        """Compute the whole-series arrays of ``candles`` once; pass the result to the other methods."""
        p = self.preset
        atrs: dict[int, NDArray[np.float64]] = {}
        for period in {p.levels.atr_period, p.signals.atr_period, p.management.atr_period}:
            atrs[period] = atr(candles.high, candles.low, candles.close, period)
        series = PreparedSeries(
            symbol=symbol,
            candles=candles,
            levels=level_inputs(candles, p.levels, atr_values=atrs[p.levels.atr_period]),
            signals=signal_inputs(candles, p.signals, atr_values=atrs[p.signals.atr_period]),
            exit_atr=atrs[p.management.atr_period],
            bar_numbers=candles.timestamp // self._bar_ms,
        )
        self._prepared[symbol] = series
        return series

    def levels_for(self, symbol: str, candles: CandleArrays | PreparedSeries, index: int) -> tuple[Level, ...]:
        """The levels in force at bar ``index``: found from bars before the last refresh anchor ``≤ index``."""
        series = self._series(symbol, candles)
        _check_index(series, index)
        end = max(0, index - int(series.bar_numbers[index] % self.preset.levels.refresh_bars))
        cached = series._level_cache.get(end)
        if cached is None:
            cached = tuple(find_levels(series.candles, self.preset.levels, end=end, inputs=series.levels))
            series._level_cache.clear()  # walks go forward: only the current anchor is worth keeping
            series._level_cache[end] = cached
        return cached

    def assess_at(
        self, symbol: str, candles: CandleArrays | PreparedSeries, index: int, book: OrderBook | None = None
    ) -> Assessment:
        """What the signal rules found at bar ``index`` (the signal, or the candidate and the check it failed).

        Not de-duplicated and not remembered: for diagnostics and the engine's decision log.
        """
        series = self._series(symbol, candles)
        levels = self.levels_for(symbol, series, index)
        return assess(
            symbol,
            series.candles,
            levels,
            self.preset.signals,
            index=index,
            book=book,
            inputs=series.signals,
            bar_ms=self._bar_ms,
        )

    def signal_at(
        self, symbol: str, candles: CandleArrays | PreparedSeries, index: int, book: OrderBook | None = None
    ) -> BreakoutSignal | None:
        """The signal at the close of bar ``index`` (reads bars ``≤ index``), or ``None``; repeats are dropped.

        ``book`` enables the order-book check; without it that check is skipped and the signal's
        ``checks`` say so.
        """
        signal = self.assess_at(symbol, candles, index, book).signal
        if signal is None or not self._deduper.accept(signal):
            return None
        return signal

    def open_trade(
        self, signal: BreakoutSignal, *, quantity: float, entry_price: float, index: int, ts: int
    ) -> OpenTrade:
        """The trade once ``signal``'s entry filled (check ``signal.accepts_entry(entry_price)`` first)."""
        return OpenTrade.from_signal(signal, quantity=quantity, entry_price=entry_price, index=index, ts=ts)

    def manage(
        self,
        trade: OpenTrade,
        candles: CandleArrays | PreparedSeries,
        index: int,
        activity_dropped: bool = False,
    ) -> list[ExitAction]:
        """The exit actions for ``trade`` at bar ``index`` (see :mod:`elcaro.strategies.breakout.exits`)."""
        return list(self.step(trade, candles, index, activity_dropped).actions)

    def step(
        self,
        trade: OpenTrade,
        candles: CandleArrays | PreparedSeries,
        index: int,
        activity_dropped: bool = False,
    ) -> Step:
        """Like :meth:`manage`, plus the trade as it is once the actions are carried out."""
        series = self._series(trade.symbol, candles)
        return step(
            trade,
            series.candles,
            index,
            self.preset.management,
            activity_dropped=activity_dropped,
            atr_values=series.exit_atr,
        )

    def new_risk_book(self) -> RiskBook:
        return RiskBook(self.preset.risk)

    def reset(self) -> None:
        """Forget prepared series and remembered signals (a new run over other data)."""
        self._prepared.clear()
        self._deduper.clear()

    def _series(self, symbol: str, candles: CandleArrays | PreparedSeries) -> PreparedSeries:
        if isinstance(candles, PreparedSeries):
            return candles
        known = self._prepared.get(symbol)
        if known is not None and known.candles is candles:
            return known
        return self.prepare(symbol, candles)


def _check_index(series: PreparedSeries, index: int) -> None:
    if not 0 <= index < len(series):
        raise ValidationError(f"must be between 0 and {len(series) - 1}, got {index}", field="index")
