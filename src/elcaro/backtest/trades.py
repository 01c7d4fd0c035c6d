"""Simulated trades: one row per closed position or closed part of one, in float64 like the rest of a backtest.

A row is the backtester's record of a fill pair, with the bar indexes it happened at; the platform's
``elcaro.models.Trade`` (exact Decimals, a venue target) stays the type of real and paper trades.
"""

from __future__ import annotations

import csv
import io
import math
import os
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import NamedTuple

from elcaro.core.clock import to_datetime
from elcaro.models.enums import PositionSide

TRADE_COLUMNS = (
    "position",
    "symbol",
    "side",
    "entry_time",
    "exit_time",
    "entry_index",
    "exit_index",
    "entry_price",
    "exit_price",
    "quantity",
    "initial_stop",
    "fees",
    "pnl",
    "r_multiple",
    "exit_reason",
)


class BacktestTrade(NamedTuple):
    """A closed position, or the part of one a partial close took (a row of its own, same ``position``).

    A named tuple rather than a dataclass: a fast backtest makes thousands of these per second, and
    a tuple is built several times faster than a frozen dataclass while being just as immutable.

    Prices are fill prices (after slippage); ``fees`` are the entry fee share of this quantity plus
    its exit fee; ``pnl`` is net of both. ``r_multiple`` is ``pnl`` over the risk this quantity
    carried at entry, ``quantity × |entry_price − initial_stop|`` (NaN without a stop). Indexes are
    positions in the symbol's candle arrays; times are bar open times in UTC milliseconds (an entry
    at the open of its bar, an exit during its bar).
    """

    position: int
    symbol: str
    side: PositionSide
    entry_index: int
    exit_index: int
    entry_time: int
    exit_time: int
    entry_price: float
    exit_price: float
    quantity: float
    initial_stop: float
    fees: float
    pnl: float
    exit_reason: str

    @property
    def risk(self) -> float:
        """What this quantity stood to lose at the initial stop, before fees."""
        return self.quantity * abs(self.entry_price - self.initial_stop)

    @property
    def r_multiple(self) -> float:
        risk = self.risk
        return self.pnl / risk if risk > 0 else math.nan


def held_across_gaps(trades: Iterable[BacktestTrade], bar_ms: int) -> int:
    """Rows whose position was held over missing candles (more time passed than candles between entry and exit)."""
    return sum(1 for t in trades if t.exit_time - t.entry_time != (t.exit_index - t.entry_index) * bar_ms)


def canonical_order(trades: Iterable[BacktestTrade]) -> list[BacktestTrade]:
    """Rows by exit time, then symbol, then position; a stable sort keeps a position's partial closes in order."""
    return sorted(trades, key=lambda t: (t.exit_time, t.symbol, t.position))


def _iso(ms: int) -> str:
    return to_datetime(ms).strftime("%Y-%m-%dT%H:%M:%SZ")


def trade_rows(trades: Sequence[BacktestTrade]) -> list[tuple[str, ...]]:
    """Rows as text; floats in ``repr`` form, which reads back to the same float."""
    return [
        (
            str(t.position),
            t.symbol,
            str(t.side),
            _iso(t.entry_time),
            _iso(t.exit_time),
            str(t.entry_index),
            str(t.exit_index),
            repr(t.entry_price),
            repr(t.exit_price),
            repr(t.quantity),
            repr(t.initial_stop),
            repr(t.fees),
            repr(t.pnl),
            repr(t.r_multiple),
            t.exit_reason,
        )
        for t in trades
    ]


def trades_csv(trades: Sequence[BacktestTrade]) -> str:
    """The trade list as CSV text: the same trades give the same bytes."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(TRADE_COLUMNS)
    writer.writerows(trade_rows(trades))
    return buffer.getvalue()


def write_trades(path: str | os.PathLike[str], trades: Sequence[BacktestTrade]) -> Path:
    """Write :func:`trades_csv` to ``path``; the file appears whole or not at all."""
    path = Path(path)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as stream:
            stream.write(trades_csv(trades))
        Path(temporary).chmod(0o644)  # a report, not a secret: readable like any file the user writes
        Path(temporary).replace(path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path
