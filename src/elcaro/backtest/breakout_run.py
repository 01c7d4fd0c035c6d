"""The breakout strategy on recorded candles: the same scanner, signals, risk book and exits as the engine.

Per bar time of the universe (see :mod:`elcaro.backtest.events` for the walk itself):

- the :class:`~elcaro.strategies.breakout.risk.RiskBook` reads the marked equity (drawdown, day loss);
  when its kill switch trips, every open position is closed at market at its last close
  (``kill_switch``) and the strategy stops for the rest of the run, as the engine stays stopped
  until someone resets it;
- every ``scan_every`` bar times the scanner runs over each symbol's latest
  ``required_bars`` candles (what an engine would fetch) and its top candidates become the symbols
  allowed to signal until the next pass;
- a candidate that is flat asks :meth:`BreakoutStrategy.signal_at` at the bar's close; a signal goes
  through :meth:`RiskBook.check` (equity marked to the close, correlations of the open symbols'
  log returns over ``scanner.correlation_period`` bars) and, if allowed, is entered at the next open —
  unless that open is past the signal's expiry (a gap in the data) or beyond its stop or TP1, which
  refuses it;
- an open trade is stepped bar by bar with :meth:`BreakoutStrategy.step`; targets fill as limit
  orders (maker), every other exit at the price the exit rules give (stop, or the open when the bar
  gapped through it; the close for close-based exits) as a taker with slippage.

Recorded candles carry no order book, no open interest and no public trades. Whatever needs them —
the scanner's spread, depth, open-interest and trades-per-minute filters, the signals' book
imbalance, the risk book's depth cap, the activity-drop exit — is *skipped and reported as skipped*
(``BacktestResult.skipped_filters``), never counted as passed. The scanner's 24h volume is the quote
volume of the candles (volume × close over the last 24 h), in the candles' quote currency.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from elcaro.backtest.events import (
    Account,
    Action,
    BarWalk,
    Close,
    EntryOrder,
    MoveStop,
    Opening,
    OpenPosition,
    OrderKind,
    Progress,
)
from elcaro.backtest.fills import LONG, SHORT
from elcaro.backtest.metrics import compute_metrics
from elcaro.backtest.result import BacktestConfig, BacktestResult
from elcaro.backtest.trades import BacktestTrade, canonical_order
from elcaro.core.clock import to_datetime
from elcaro.indicators import log_returns, rolling_correlation
from elcaro.marketdata import CandleArrays
from elcaro.models.enums import Side
from elcaro.models.timeframe import DAY_MS
from elcaro.strategies.breakout.exits import ExitRule, OpenTrade, PartialClose
from elcaro.strategies.breakout.exits import MoveStop as StrategyMoveStop
from elcaro.strategies.breakout.preset import BreakoutPreset
from elcaro.strategies.breakout.scanner import MarketSnapshot, required_bars, scan
from elcaro.strategies.breakout.signals import BreakoutSignal
from elcaro.strategies.breakout.strategy import BreakoutStrategy, PreparedSeries

KILL_SWITCH = "kill_switch"
_TARGETS = frozenset({ExitRule.TP1, ExitRule.TP2})


@dataclass(frozen=True, slots=True)
class _Entry:
    signal: BreakoutSignal
    quantity: float


def _is_btc(symbol: str) -> bool:
    return symbol.split("/", 1)[0] in ("BTC", "XBT") and "/" in symbol


class BreakoutEvents:
    """The breakout strategy as an :class:`~elcaro.backtest.events.EventStrategy`; one object per run."""

    def __init__(self, preset: BreakoutPreset, *, scan_every: int) -> None:
        self.preset = preset
        self.strategy = BreakoutStrategy(preset)
        self.risk = self.strategy.new_risk_book()
        self._scan_every = scan_every
        self._window = required_bars(preset.scanner, preset.timeframe)
        self._universe: Mapping[str, CandleArrays] = {}
        self._series: dict[str, PreparedSeries] = {}
        self._btc: str | None = None
        self._candidates: frozenset[str] = frozenset()
        self._steps = 0
        self._bar_ms = preset.timeframe_ms
        self.filter_counts: dict[str, Counter[str]] = {}
        """``<section>.<filter>`` → how often it passed, failed and was skipped (scanner: every pass and
        symbol; signals and risk: every signal)."""
        self.always_skipped: set[str] = set()
        self.refusals: Counter[str] = Counter()
        """Why signals were not traded: risk codes, ``expired``, ``entry_beyond_levels``."""
        self.signals = 0
        self.scans = 0
        self.kill_switch_at: int | None = None

    # -- EventStrategy -------------------------------------------------------------------------

    def prepare(self, universe: Mapping[str, CandleArrays], account: Account) -> None:
        self._universe = universe
        self._series = {symbol: self.strategy.prepare(symbol, candles) for symbol, candles in universe.items()}
        self._btc = next((symbol for symbol in sorted(universe) if _is_btc(symbol)), None)
        if self.preset.management.exit_on_activity_drop:
            self.always_skipped.add("management.activity_drop")  # no public trades in candle files

    def on_bar_time(self, timestamp: int, cursor: Mapping[str, int], account: Account) -> Sequence[tuple[str, str]]:
        if self.kill_switch_at is not None:
            return ()  # stopped, as the engine stays after a kill switch until someone resets it
        self.risk.observe_equity(account.equity, timestamp)
        if self.risk.kill_switch_tripped():
            self.kill_switch_at = timestamp
            self._candidates = frozenset()
            return [(symbol, KILL_SWITCH) for symbol in sorted(account.positions)]
        if self._steps % self._scan_every == 0:
            self._scan(cursor)
        self._steps += 1
        return ()

    def signal(self, symbol: str, index: int, account: Account) -> EntryOrder | None:
        if symbol not in self._candidates or index < self.preset.warmup_bars:
            return None  # not a candidate of the last scan (none once the kill switch has stopped the strategy)
        series = self._series[symbol]
        signal = self.strategy.signal_at(symbol, series, index)
        if signal is None:
            return None
        self.signals += 1
        for check in signal.checks:
            self._count(f"signals.{check.name}", check.passed)
        decision = self.risk.check(signal, account.equity, book=None, correlation=self._correlations(symbol, index))
        for name in decision.skipped:
            self._count(f"risk.{name}", None)
        if not decision.allowed:
            self.refusals[str(decision.reason)] += 1
            return None
        side = LONG if signal.side is Side.BUY else SHORT
        return EntryOrder(symbol, side, index, _Entry(signal, decision.quantity))

    def open(self, order: EntryOrder, fill_price: float, index: int, account: Account) -> Opening | None:
        entry: _Entry = order.payload
        signal = entry.signal
        timestamp = int(self._universe[order.symbol].timestamp[index])
        if not signal.is_live(timestamp):
            self.refusals["expired"] += 1
            return None
        if not signal.accepts_entry(fill_price):
            self.refusals["entry_beyond_levels"] += 1
            return None
        if len(self.risk.open_positions) >= self.preset.risk.max_concurrent_positions:
            self.refusals["max_positions"] += 1  # two signals of one bar time both passed the check
            return None
        trade = self.strategy.open_trade(
            signal, quantity=entry.quantity, entry_price=fill_price, index=index, ts=timestamp
        )
        self.risk.record_open(order.symbol, entry.quantity * fill_price)
        return Opening(entry.quantity, signal.stop, None, state=trade)

    def manage(self, position: OpenPosition, index: int) -> Sequence[Action]:
        trade: OpenTrade = position.state
        step = self.strategy.step(trade, self._series[position.symbol], index)
        position.state = step.trade
        actions: list[Action] = []
        for action in step.actions:
            if isinstance(action, StrategyMoveStop):
                actions.append(MoveStop(action.new_stop, str(action.reason)))
            else:
                # Targets rest as limit orders; every other exit trades at the price its rule gives (the
                # rules already moved a stop that the bar gapped through to the open).
                kind: OrderKind = "limit" if action.reason in _TARGETS else "market"
                quantity = action.quantity if isinstance(action, PartialClose) else None
                actions.append(Close(kind, action.price, str(action.reason), quantity))
        return actions

    def closed(self, position: OpenPosition, trade: BacktestTrade, final: bool) -> None:
        remaining = 0.0 if final else position.remaining * position.entry_price
        self.risk.record_close(trade.pnl, trade.exit_time, symbol=position.symbol, remaining_notional=remaining)

    # -- internals -----------------------------------------------------------------------------

    def _count(self, name: str, passed: bool | None) -> None:
        outcome = "skipped" if passed is None else "passed" if passed else "failed"
        self.filter_counts.setdefault(name, Counter())[outcome] += 1

    @property
    def skipped(self) -> list[str]:
        """Filters never evaluated: no data for them in candle files."""
        never = {
            name
            for name, counts in self.filter_counts.items()
            if counts["skipped"] and not counts.total() - counts["skipped"]
        }
        return sorted(never | self.always_skipped)

    def _snapshot(self, symbol: str, end: int) -> MarketSnapshot:
        candles = self._universe[symbol]
        start = max(0, end - self._window)
        window = CandleArrays(
            candles.timestamp[start:end],
            candles.open[start:end],
            candles.high[start:end],
            candles.low[start:end],
            candles.close[start:end],
            candles.volume[start:end],
        )
        since = int(window.timestamp[-1]) + self._bar_ms - DAY_MS
        recent = window.timestamp >= since
        volume_24h = float(np.dot(window.volume[recent], window.close[recent]))
        return MarketSnapshot(
            symbol=symbol,
            candles=window,
            volume_24h=volume_24h,
            open_interest=None,
            open_interest_prev=None,
            book=None,
            trades_per_minute=None,
        )

    def _scan(self, cursor: Mapping[str, int]) -> None:
        snapshots = [self._snapshot(symbol, cursor[symbol] + 1) for symbol in sorted(cursor)]
        if not snapshots:
            return
        btc = None
        if self._btc is not None and self._btc in cursor:
            btc = next(s.candles for s in snapshots if s.symbol == self._btc)
        result = scan(snapshots, self.preset.scanner, btc=btc, timeframe=self.preset.timeframe)
        self.scans += 1
        self._candidates = frozenset(candidate.symbol for candidate in result.candidates)
        for decisions in result.decisions.values():
            for decision in decisions:
                self._count(f"scanner.{decision.name}", decision.passed)

    def _correlations(self, symbol: str, index: int) -> dict[str, float]:
        """Correlation of log returns with each open symbol over the last ``correlation_period`` shared bars."""
        period = self.preset.scanner.correlation_period
        mine = self._universe[symbol]
        lo = max(0, index + 1 - period - 1)
        times, closes = mine.timestamp[lo : index + 1], mine.close[lo : index + 1]
        result: dict[str, float] = {}
        for other in self.risk.open_positions:
            theirs = self._universe[other]
            upto = int(np.searchsorted(theirs.timestamp, times[-1], side="right"))
            start = max(0, upto - period - 1)
            shared, mine_at, theirs_at = np.intersect1d(
                times, theirs.timestamp[start:upto], assume_unique=True, return_indices=True
            )
            if len(shared) < 3:
                continue
            a = log_returns(closes[mine_at])[1:]
            b = log_returns(theirs.close[start:upto][theirs_at])[1:]
            value = float(rolling_correlation(a, b, len(a))[-1])
            if math.isfinite(value):
                result[other] = value
        return result


def run_breakout(
    universe: Mapping[str, CandleArrays],
    preset: BreakoutPreset,
    config: BacktestConfig,
    *,
    progress: Progress | None = None,
) -> BacktestResult:
    """The breakout preset over ``universe`` (candles at ``preset.timeframe``), bar by bar."""
    symbols = tuple(sorted(universe))
    strategy = BreakoutEvents(preset, scan_every=config.scan_every)
    walk = BarWalk(universe, strategy, config.fills, config.capital).run(progress)
    trades = canonical_order(walk.trades)
    notes = [
        f"{strategy.scans} scanner passes (every {config.scan_every} bars), {strategy.signals} signals, "
        f"{len({t.position for t in trades})} positions"
    ]
    if strategy.refusals:
        refused = ", ".join(f"{code} {count}" for code, count in sorted(strategy.refusals.items()))
        notes.append(f"signals not traded: {refused}")
    if strategy.kill_switch_at is not None:
        tripped = to_datetime(strategy.kill_switch_at)
        notes.append(f"kill switch tripped at {tripped:%Y-%m-%d %H:%M} UTC; the strategy stopped there")
    for name, counts in sorted(strategy.filter_counts.items()):
        if counts["failed"] and not counts["passed"]:
            notes.append(f"{name} failed every time it was measured ({counts['failed']})")
        if counts["skipped"] and counts["skipped"] < counts.total():
            notes.append(f"{name} skipped {counts['skipped']} of {counts.total()} times (its input was missing then)")
    return BacktestResult(
        strategy=preset.name,
        timeframe=preset.timeframe,
        path="events",
        symbols=symbols,
        trades=tuple(trades),
        curve=walk.curve,
        metrics=compute_metrics(walk.curve, trades, preset.timeframe),
        candles=sum(len(universe[s]) for s in symbols),
        skipped_filters=tuple(strategy.skipped),
        notes=tuple(notes),
    )
