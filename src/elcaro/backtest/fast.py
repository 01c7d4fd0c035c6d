"""The vectorised path: a fixed-bracket strategy simulated trade by trade instead of bar by bar.

A strategy whose entries are a precomputed signal array and whose exits are a stop and a target
fixed at entry (the Donchian breakout) needs no per-bar decisions. This path finds the next signal
with a binary search, enters at the next open, finds the bar where the stop or the target is first
touched with a vectorised scan of the bars after the entry (in growing windows, so a short trade
reads few bars and a long one few numpy calls), then jumps past it. The loop runs once per trade,
not per candle. Fills are priced by the same :class:`FillModel` calls as the bar-by-bar path, which
the tests hold to the same trades, float for float.

Each symbol trades its own sleeve of the capital (``capital / symbols``), compounding its own PnL.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from elcaro.backtest.fills import END_OF_DATA, LONG, FillModel
from elcaro.backtest.trades import BacktestTrade
from elcaro.marketdata import CandleArrays
from elcaro.models.enums import PositionSide
from elcaro.strategies.donchian import DonchianSettings, bracket, donchian_signals

TradeRow = tuple[str, int, int, int, int, int, float, float, float, float, float, float, str]
"""symbol, side, entry and exit index, entry and exit time, entry and exit price, quantity, initial stop,
fees, pnl, exit reason: a :class:`BacktestTrade` before its position number is known."""

_FIRST_WINDOW = 64
"""Candles scanned first for an exit; each further window is eight times wider. A numpy call costs
about the same for 10 values as for 500, so wide windows mean fewer calls per trade."""
_GROWTH = 8


@dataclass(frozen=True, slots=True)
class SleeveRun:
    """One symbol's sleeve: its trades (as rows; positions are numbered across symbols later) and its equity."""

    symbol: str
    timestamps: NDArray[np.int64]
    trades: tuple[TradeRow, ...]
    equity: NDArray[np.float64]
    """Sleeve equity at each candle's close, open positions marked to the close."""
    holding: NDArray[np.bool_]
    """Whether a position was held during the candle (from its entry candle to its exit candle)."""
    open_after: NDArray[np.bool_]
    """Whether a position was still open at the candle's close."""


def sleeve_quantity(sleeve: float, fraction: float, entry: float, taker_fee: float) -> float:
    """The quantity ``fraction`` of ``sleeve`` buys at ``entry`` with the entry fee paid from it too."""
    return sleeve * fraction / (entry * (1.0 + taker_fee))


def first_touch(
    low: NDArray[np.float64], high: NDArray[np.float64], start: int, side: int, stop: float, target: float
) -> int:
    """Index of the first candle from ``start`` on that touches ``stop`` or ``target``; -1 when none does."""
    n = len(low)
    width = _FIRST_WINDOW
    while start < n:
        end = min(n, start + width)
        if side == LONG:
            hit = (low[start:end] <= stop) | (high[start:end] >= target)
        else:
            hit = (high[start:end] >= stop) | (low[start:end] <= target)
        at = int(hit.argmax())
        if hit[at]:
            return start + at
        start = end
        width *= _GROWTH
    return -1


def run_sleeve(
    symbol: str, candles: CandleArrays, settings: DonchianSettings, fills: FillModel, sleeve: float
) -> SleeveRun:
    """Simulate the Donchian breakout on one symbol with ``sleeve`` of capital."""
    signals = donchian_signals(candles, settings)
    timestamps = candles.timestamp
    open_, high, low, close = candles.open, candles.high, candles.low, candles.close
    n = len(timestamps)
    # A signal on the last candle has no next open to enter at.
    starts: list[int] = np.flatnonzero(signals[:-1]).tolist() if n else []
    first_exit = 0 if fills.exits_on_entry_bar else 1
    taker = fills.taker_fee

    rows: list[TradeRow] = []
    entries: list[int] = []
    exits: list[int] = []
    levels = [sleeve]  # sleeve equity before the first trade and after each one
    entry_costs: list[float] = []  # per trade: sleeve before it minus its entry fee
    exposures: list[float] = []  # per trade: side × quantity
    entry_prices: list[float] = []
    free_from = 0  # the first candle whose close may bring a new signal
    at = 0
    while True:
        at = bisect_left(starts, free_from, at)
        if at == len(starts):
            break
        signal_bar = starts[at]
        entry_bar = signal_bar + 1
        side = int(signals[signal_bar])
        entry = fills.entry_price(side, float(open_[entry_bar]))
        stop, target = bracket(side, entry, settings)
        quantity = sleeve_quantity(sleeve, settings.position_fraction, entry, taker)
        entry_fee = fills.fee(quantity, entry, maker=False)
        exit_bar = first_touch(low, high, entry_bar + first_exit, side, stop, target)
        exit_fill = (
            None
            if exit_bar < 0
            else fills.bracket_exit(
                side, stop, target, float(open_[exit_bar]), float(high[exit_bar]), float(low[exit_bar])
            )
        )
        if exit_fill is None:
            exit_bar = n - 1
            exit_price, reason, maker = fills.market_exit_price(side, float(close[exit_bar])), END_OF_DATA, False
        else:
            exit_price, reason, maker = exit_fill.price, exit_fill.reason, exit_fill.maker
        exit_fee = fills.fee(quantity, exit_price, maker=maker)
        pnl = side * quantity * (exit_price - entry) - entry_fee - exit_fee
        rows.append(
            (
                symbol,
                side,
                entry_bar,
                exit_bar,
                int(timestamps[entry_bar]),
                int(timestamps[exit_bar]),
                entry,
                exit_price,
                quantity,
                stop,
                entry_fee + exit_fee,
                pnl,
                reason,
            )
        )
        entries.append(entry_bar)
        exits.append(exit_bar)
        entry_costs.append(sleeve - entry_fee)
        exposures.append(side * quantity)
        entry_prices.append(entry)
        sleeve += pnl
        levels.append(sleeve)
        free_from = exit_bar  # flat again from the exit candle's close
    equity, holding, open_after = _sleeve_curve(close, entries, exits, levels, entry_costs, exposures, entry_prices)
    return SleeveRun(symbol, timestamps, tuple(rows), equity, holding, open_after)


def _sleeve_curve(
    close: NDArray[np.float64],
    entries: list[int],
    exits: list[int],
    levels: list[float],
    entry_costs: list[float],
    exposures: list[float],
    entry_prices: list[float],
) -> tuple[NDArray[np.float64], NDArray[np.bool_], NDArray[np.bool_]]:
    """Equity per candle without a loop over candles: realised levels, then open positions marked to the close."""
    n = len(close)
    entry_at = np.asarray(entries, dtype=np.int64)
    exit_at = np.asarray(exits, dtype=np.int64)
    # From each exit candle on, the sleeve stands at the level after that trade (exits strictly increase).
    equity = np.repeat(np.asarray(levels), np.diff(np.concatenate(([0], exit_at, [n]))))
    lengths = exit_at - entry_at  # candles closed with the position open: entry … exit − 1
    total = int(lengths.sum())
    if total:
        first = np.cumsum(lengths) - lengths
        bars = np.repeat(entry_at - first, lengths) + np.arange(total)
        equity[bars] = np.repeat(np.asarray(entry_costs), lengths) + np.repeat(np.asarray(exposures), lengths) * (
            close[bars] - np.repeat(np.asarray(entry_prices), lengths)
        )
    # Entries are distinct candles, and so are exits: plain fancy-index updates count each once.
    marks = np.zeros(n + 1, dtype=np.int64)
    marks[entry_at] += 1
    marks[exit_at + 1] -= 1
    holding = np.cumsum(marks[:n]) > 0
    open_marks = np.zeros(n + 1, dtype=np.int64)
    open_marks[entry_at] += 1
    open_marks[exit_at] -= 1
    open_after = np.cumsum(open_marks[:n]) > 0
    return equity, holding, open_after


def run_donchian_fast(
    universe: Mapping[str, CandleArrays], settings: DonchianSettings, fills: FillModel, capital: float
) -> list[SleeveRun]:
    """Every symbol of ``universe`` (in name order) on an equal sleeve of ``capital``."""
    symbols = sorted(universe)
    sleeve = capital / len(symbols) if symbols else capital
    return [run_sleeve(symbol, universe[symbol], settings, fills, sleeve) for symbol in symbols]


def numbered_trades(runs: Sequence[SleeveRun]) -> list[BacktestTrade]:
    """Rows of every sleeve as trades, positions numbered in the order they opened (entry time, then symbol).

    That is the order in which the bar-by-bar walk opens them, so both paths number alike.
    """
    rows = sorted((row for run in runs for row in run.trades), key=lambda row: (row[4], row[0]))
    sides = {LONG: PositionSide.LONG, -LONG: PositionSide.SHORT}
    return [BacktestTrade(k, r[0], sides[r[1]], *r[2:]) for k, r in enumerate(rows)]
