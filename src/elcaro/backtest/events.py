"""The bar-by-bar path: any strategy, a multi-symbol universe, one shared account.

The walk visits every bar time of the universe in order; at each, for the symbols that have a
candle then (in name order):

1. an entry decided at the symbol's previous candle fills at this candle's open
   (:meth:`EventStrategy.open` sizes it, or refuses it);
2. an open position is managed against this candle (:meth:`EventStrategy.manage`), and the exits it
   asks for are priced by the :class:`FillModel`; at the symbol's last candle what is left is closed
   at market at the close (``end_of_data``);

then the equity is marked to the closes and the strategy sees the bar time as a whole
(:meth:`EventStrategy.on_bar_time`: a scanner runs at its cadence, a risk book reads the equity, and
symbols it names are closed at market at their last close, e.g. by a kill switch); then each flat
symbol may signal at this candle's close (:meth:`EventStrategy.signal`), and the equity of the bar
time is recorded.

A symbol missing a candle at a bar time (a gap in the record) simply has nothing happen then; its
open position keeps its last mark, and an entry decided before the gap fills at the first candle
after it. The data report lists every gap, so a reader knows where that happened.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import numpy as np
from numpy.typing import NDArray

from elcaro.backtest.fills import END_OF_DATA, LONG, FillModel
from elcaro.backtest.metrics import EquityCurve
from elcaro.backtest.trades import BacktestTrade
from elcaro.marketdata import CandleArrays
from elcaro.models.enums import PositionSide
from elcaro.models.errors import ValidationError

OrderKind = Literal["stop", "limit", "market"]

Progress = Callable[[int, int], None]
"""Told (bar times done, bar times in all) as a walk goes."""

_PROGRESS_EVERY = 500
_DUST = 1e-9
"""A remainder below this share of the position is float noise, not a position."""


@dataclass(frozen=True, slots=True)
class EntryOrder:
    """A decision at a candle's close to enter at the next open; ``payload`` is the strategy's own (its signal)."""

    symbol: str
    side: int
    signal_index: int
    payload: Any = None


@dataclass(frozen=True, slots=True)
class Opening:
    """How a filled entry is held: its size, its stop, an optional full-close target, and the strategy's state."""

    quantity: float
    stop: float
    target: float | None = None
    state: Any = None


@dataclass(slots=True)
class OpenPosition:
    """A position the walk holds for a strategy. ``state`` is the strategy's own record of it."""

    id: int
    symbol: str
    side: int
    entry_index: int
    entry_time: int
    entry_price: float
    quantity: float
    remaining: float
    entry_fee_left: float
    initial_stop: float
    stop: float
    target: float | None
    state: Any = None
    realized: float = 0.0
    """Net PnL of the parts closed so far."""


@dataclass(frozen=True, slots=True)
class Close:
    """Close ``quantity`` (None: everything left) with an order of ``kind`` at ``price``.

    ``stop`` orders fill at the price or at the open beyond it, then slippage; ``limit`` orders at the
    price or the open beyond it, as makers; ``market`` orders at the price with slippage. A quantity
    that leaves (almost) nothing closes the position.
    """

    kind: OrderKind
    price: float
    reason: str
    quantity: float | None = None


@dataclass(frozen=True, slots=True)
class MoveStop:
    """Move the position's stop (the strategy decides which way is allowed)."""

    stop: float
    reason: str


Action = Close | MoveStop


@dataclass(slots=True)
class Account:
    """What a strategy may read of the account while deciding."""

    initial: float
    cash: float
    equity: float = 0.0
    """At the last marked bar time (closes of every symbol)."""
    positions: dict[str, OpenPosition] = field(default_factory=dict)


class EventStrategy(Protocol):
    """What the walk asks of a strategy. Everything is called in a fixed order, so a run is deterministic."""

    def prepare(self, universe: Mapping[str, CandleArrays], account: Account) -> None:
        """Before the walk: precompute whatever is vectorisable per symbol."""

    def on_bar_time(self, timestamp: int, cursor: Mapping[str, int], account: Account) -> Sequence[tuple[str, str]]:
        """After exits, before signals; ``cursor`` holds each symbol's latest candle index.

        Returns ``(symbol, reason)`` for open positions to close at market at their latest close now.
        """

    def signal(self, symbol: str, index: int, account: Account) -> EntryOrder | None:
        """A flat symbol's decision at the close of candle ``index``."""

    def open(self, order: EntryOrder, fill_price: float, index: int, account: Account) -> Opening | None:
        """Size and protect a filled entry; None refuses it (a risk rule), and nothing is traded."""

    def manage(self, position: OpenPosition, index: int) -> Sequence[Action]:
        """Exits and stop moves for candle ``index``, in the order they happen inside it."""

    def closed(self, position: OpenPosition, trade: BacktestTrade, final: bool) -> None:
        """A part (or, when ``final``, the rest) of ``position`` was closed as ``trade``."""


@dataclass(frozen=True, slots=True)
class WalkResult:
    trades: tuple[BacktestTrade, ...]
    curve: EquityCurve


def _timeline(
    universe: Mapping[str, CandleArrays], symbols: Sequence[str]
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
    """Every (time, symbol, index) event sorted by time then symbol name, and where each bar time starts."""
    times = np.concatenate([universe[s].timestamp for s in symbols]) if symbols else np.empty(0, np.int64)
    ranks = (
        np.concatenate([np.full(len(universe[s]), k, np.int64) for k, s in enumerate(symbols)]) if symbols else times
    )
    indexes = np.concatenate([np.arange(len(universe[s]), dtype=np.int64) for s in symbols]) if symbols else times
    order = np.lexsort((ranks, times))
    times, ranks, indexes = times[order], ranks[order], indexes[order]
    starts = np.flatnonzero(np.diff(times, prepend=times[:1] - 1))
    return times, ranks, indexes, starts


class BarWalk:
    """One run of a strategy over a universe: build it, call :meth:`run` once."""

    def __init__(
        self, universe: Mapping[str, CandleArrays], strategy: EventStrategy, fills: FillModel, capital: float
    ) -> None:
        if capital <= 0:
            raise ValidationError(f"must be positive, got {capital}", field="capital")
        self._universe = universe
        self._symbols = sorted(universe)
        self._strategy = strategy
        self._fills = fills
        self._account = Account(initial=capital, cash=capital, equity=capital)
        self._trades: list[BacktestTrade] = []
        self._next_id = 0
        self._marks: dict[str, float] = {}  # symbol → last close seen
        self._cursor: dict[str, int] = {}  # symbol → index of its latest candle
        self._lasts = {symbol: len(candles) - 1 for symbol, candles in universe.items()}
        self._pending: dict[str, EntryOrder] = {}

    def run(self, progress: Progress | None = None) -> WalkResult:
        """Walk every bar time; ``progress(done, total)`` is called every few hundred bar times and at the end."""
        universe, symbols, account = self._universe, self._symbols, self._account
        self._strategy.prepare(universe, account)
        times, ranks, indexes, starts = _timeline(universe, symbols)
        ends = np.append(starts[1:], len(times))
        bar_times = times[starts]
        equity = np.empty(len(starts))
        in_market = np.zeros(len(starts), dtype=np.bool_)
        rank_list, index_list = ranks.tolist(), indexes.tolist()
        for step, (first, end) in enumerate(zip(starts.tolist(), ends.tolist(), strict=True)):
            timestamp = int(bar_times[step])
            present = [(symbols[rank_list[at]], index_list[at]) for at in range(first, end)]
            held = self._fills_and_exits(present, timestamp)
            self._mark()
            held = self._flatten(self._strategy.on_bar_time(timestamp, self._cursor, account)) or held
            self._signals(present)
            equity[step] = account.equity
            in_market[step] = held or bool(account.positions)
            if progress is not None and step % _PROGRESS_EVERY == 0:
                progress(step, len(starts))
        if progress is not None:
            progress(len(starts), len(starts))
        curve = EquityCurve(bar_times, equity, in_market, account.initial)
        return WalkResult(tuple(self._trades), curve)

    def _fills_and_exits(self, present: list[tuple[str, int]], timestamp: int) -> bool:
        """Pending entries fill, open positions are managed; whether any position was held in this bar time."""
        held = False
        positions = self._account.positions
        for symbol, index in present:
            self._cursor[symbol] = index
            candles = self._universe[symbol]
            order = self._pending.pop(symbol, None)
            opened_now = order is not None and self._enter(order, candles, index, timestamp)
            position = positions.get(symbol)
            if position is not None:
                held = True
                if self._fills.exits_on_entry_bar or not opened_now:
                    self._manage(position, candles, index, timestamp)
                if symbol in positions and index == self._lasts[symbol]:
                    price = self._fills.market_exit_price(position.side, float(candles.close[index]))
                    self._close(position, None, price, END_OF_DATA, False, index, timestamp)
            self._marks[symbol] = float(candles.close[index])
        return held

    def _flatten(self, orders: Sequence[tuple[str, str]]) -> bool:
        """Close the named positions at market at their latest close; whether there was any."""
        flattened = False
        for symbol, reason in orders:
            position = self._account.positions.get(symbol)
            if position is None:
                continue
            index = self._cursor[symbol]
            price = self._fills.market_exit_price(position.side, self._marks[symbol])
            self._close(position, None, price, reason, False, index, int(self._universe[symbol].timestamp[index]))
            self._mark()
            flattened = True
        return flattened

    def _signals(self, present: list[tuple[str, int]]) -> None:
        for symbol, index in present:
            if symbol in self._account.positions or index == self._lasts[symbol]:
                continue  # a signal at a symbol's last candle has no next open
            order = self._strategy.signal(symbol, index, self._account)
            if order is not None:
                self._pending[symbol] = order

    def _mark(self) -> None:
        account = self._account
        account.equity = account.cash + sum(
            p.side * p.remaining * (self._marks[p.symbol] - p.entry_price) for p in account.positions.values()
        )

    def _enter(self, order: EntryOrder, candles: CandleArrays, index: int, timestamp: int) -> bool:
        fill = self._fills.entry_price(order.side, float(candles.open[index]))
        opening = self._strategy.open(order, fill, index, self._account)
        if opening is None or not opening.quantity > 0:
            return False
        fee = self._fills.fee(opening.quantity, fill, maker=False)
        self._account.cash -= fee
        self._account.positions[order.symbol] = OpenPosition(
            id=self._next_id,
            symbol=order.symbol,
            side=order.side,
            entry_index=index,
            entry_time=timestamp,
            entry_price=fill,
            quantity=opening.quantity,
            remaining=opening.quantity,
            entry_fee_left=fee,
            initial_stop=opening.stop,
            stop=opening.stop,
            target=opening.target,
            state=opening.state,
        )
        self._next_id += 1
        return True

    def _manage(self, position: OpenPosition, candles: CandleArrays, index: int, timestamp: int) -> None:
        open_ = float(candles.open[index])
        for action in self._strategy.manage(position, index):
            if isinstance(action, MoveStop):
                position.stop = action.stop
                continue
            if action.kind == "stop":
                price, maker = self._fills.stop_exit_price(position.side, action.price, open_), False
            elif action.kind == "limit":
                price, maker = self._fills.target_exit_price(position.side, action.price, open_), True
            else:
                price, maker = self._fills.market_exit_price(position.side, action.price), False
            self._close(position, action.quantity, price, action.reason, maker, index, timestamp)
            if position.symbol not in self._account.positions:
                break

    def _close(
        self,
        position: OpenPosition,
        quantity: float | None,
        price: float,
        reason: str,
        maker: bool,
        index: int,
        timestamp: int,
    ) -> None:
        whole = quantity is None or quantity >= position.remaining * (1.0 - _DUST)
        if quantity is None or whole:
            quantity = position.remaining
        entry_fee = position.entry_fee_left if whole else position.entry_fee_left * (quantity / position.remaining)
        exit_fee = self._fills.fee(quantity, price, maker=maker)
        pnl = position.side * quantity * (price - position.entry_price) - entry_fee - exit_fee
        self._account.cash += position.side * quantity * (price - position.entry_price) - exit_fee
        position.remaining = 0.0 if whole else position.remaining - quantity
        position.entry_fee_left -= entry_fee
        position.realized += pnl
        trade = BacktestTrade(
            position=position.id,
            symbol=position.symbol,
            side=PositionSide.LONG if position.side == LONG else PositionSide.SHORT,
            entry_index=position.entry_index,
            exit_index=index,
            entry_time=position.entry_time,
            exit_time=timestamp,
            entry_price=position.entry_price,
            exit_price=price,
            quantity=quantity,
            initial_stop=position.initial_stop,
            fees=entry_fee + exit_fee,
            pnl=pnl,
            exit_reason=reason,
        )
        self._trades.append(trade)
        if whole:
            del self._account.positions[position.symbol]
        self._strategy.closed(position, trade, whole)
