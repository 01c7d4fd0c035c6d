"""The Donchian breakout on both paths: vectorised (the fast one) and bar by bar (the reference).

Both size a position from the symbol's own sleeve (``capital / symbols`` plus the PnL of its own
closed positions), place the stop and target with :func:`elcaro.strategies.donchian.bracket` and
price every fill with the same :class:`FillModel` calls, so they must agree trade for trade; the
tests hold them to it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from elcaro.backtest.events import (
    Account,
    Action,
    BarWalk,
    Close,
    EntryOrder,
    Opening,
    OpenPosition,
    Progress,
)
from elcaro.backtest.fast import SleeveRun, numbered_trades, run_donchian_fast, sleeve_quantity
from elcaro.backtest.fills import STOP as STOP_REASON
from elcaro.backtest.fills import TARGET as TARGET_REASON
from elcaro.backtest.fills import FillModel, stop_touched, target_touched
from elcaro.backtest.metrics import EquityCurve, compute_metrics
from elcaro.backtest.result import BacktestConfig, BacktestResult
from elcaro.backtest.trades import BacktestTrade, canonical_order
from elcaro.marketdata import CandleArrays, Timeframe
from elcaro.strategies.donchian import DonchianSettings, bracket, donchian_signals


class DonchianEvents:
    """The Donchian breakout as an :class:`~elcaro.backtest.events.EventStrategy`."""

    def __init__(self, settings: DonchianSettings, fills: FillModel) -> None:
        self._settings = settings
        self._fills = fills
        self._universe: Mapping[str, CandleArrays] = {}
        self._signals: dict[str, NDArray[np.int8]] = {}
        self._sleeves: dict[str, float] = {}

    def prepare(self, universe: Mapping[str, CandleArrays], account: Account) -> None:
        self._universe = universe
        self._signals = {symbol: donchian_signals(candles, self._settings) for symbol, candles in universe.items()}
        self._sleeves = dict.fromkeys(universe, account.initial / len(universe)) if universe else {}

    def on_bar_time(self, timestamp: int, cursor: Mapping[str, int], account: Account) -> Sequence[tuple[str, str]]:
        return ()

    def signal(self, symbol: str, index: int, account: Account) -> EntryOrder | None:
        side = int(self._signals[symbol][index])
        return EntryOrder(symbol, side, index) if side else None

    def open(self, order: EntryOrder, fill_price: float, index: int, account: Account) -> Opening | None:
        settings = self._settings
        quantity = sleeve_quantity(
            self._sleeves[order.symbol], settings.position_fraction, fill_price, self._fills.taker_fee
        )
        stop, target = bracket(order.side, fill_price, settings)
        return Opening(quantity, stop, target)

    def manage(self, position: OpenPosition, index: int) -> Sequence[Action]:
        candles = self._universe[position.symbol]
        high, low = float(candles.high[index]), float(candles.low[index])
        if stop_touched(position.side, position.stop, high, low):
            return (Close("stop", position.stop, STOP_REASON),)
        if position.target is not None and target_touched(position.side, position.target, high, low):
            return (Close("limit", position.target, TARGET_REASON),)
        return ()

    def closed(self, position: OpenPosition, trade: BacktestTrade, final: bool) -> None:
        if final:
            self._sleeves[position.symbol] += position.realized


def _union(series: Sequence[NDArray[np.int64]], step: int) -> NDArray[np.int64]:
    """Every bar time of any series, sorted; on a grid of ``step`` it is marked rather than sorted."""
    first = series[0]
    if all(np.array_equal(times, first) for times in series[1:]):
        return first  # one shared window without gaps
    joined = np.concatenate(series)
    origin = int(joined.min())
    offsets = joined - origin
    if not (offsets % step).any():
        present = np.zeros(int(offsets.max()) // step + 1, dtype=np.bool_)
        present[offsets // step] = True
        return origin + step * np.flatnonzero(present).astype(np.int64)
    return np.unique(joined)


def portfolio_curve(runs: Sequence[SleeveRun], capital: float, step: int) -> EquityCurve:
    """Sleeves added up on the union of their bar times; a sleeve without a candle then keeps its last value."""
    if not runs:
        return EquityCurve(np.empty(0, np.int64), np.empty(0), np.empty(0, np.bool_), capital)
    times = _union([run.timestamps for run in runs], step)
    sleeve = capital / len(runs)
    equity = np.zeros(len(times))
    in_market = np.zeros(len(times), dtype=np.bool_)
    for run in runs:
        if run.timestamps is times or np.array_equal(run.timestamps, times):
            equity += run.equity
            in_market |= run.holding
            continue
        last = np.searchsorted(run.timestamps, times, side="right") - 1
        seen = last >= 0
        at = np.where(seen, last, 0)
        equity += np.where(seen, run.equity[at], sleeve) if len(run.timestamps) else sleeve
        if len(run.timestamps):
            present = seen & (run.timestamps[at] == times)
            in_market |= np.where(present, run.holding[at], seen & run.open_after[at])
    return EquityCurve(times, equity, in_market, capital)


def run_donchian(
    universe: Mapping[str, CandleArrays],
    settings: DonchianSettings,
    config: BacktestConfig,
    *,
    progress: Progress | None = None,
) -> BacktestResult:
    """The Donchian breakout over ``universe`` (candles at ``settings.timeframe``), on the path ``config`` picks."""
    symbols = tuple(sorted(universe))
    candles = sum(len(universe[s]) for s in symbols)
    path: Literal["fast", "events"]
    if config.path == "events":
        walk = BarWalk(universe, DonchianEvents(settings, config.fills), config.fills, config.capital).run(progress)
        trades, curve, path = canonical_order(walk.trades), walk.curve, "events"
    else:
        runs = run_donchian_fast(universe, settings, config.fills, config.capital)
        trades = canonical_order(numbered_trades(runs))
        curve, path = portfolio_curve(runs, config.capital, Timeframe.parse(settings.timeframe).ms), "fast"
    return BacktestResult(
        strategy=settings.name,
        timeframe=settings.timeframe,
        path=path,
        symbols=symbols,
        trades=tuple(trades),
        curve=curve,
        metrics=compute_metrics(curve, trades, settings.timeframe),
        candles=candles,
    )
