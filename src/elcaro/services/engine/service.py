"""The strategy engine as a service: the cycle, the commands, and what the bot, the web app and the CLI see.

One :class:`EngineService` trades one preset on one account. The pure state machine
(``elcaro.engine``) says what may happen; this module does it::

    initializing → scanning → level_building → signal_wait → sizing → execution → managing → (next bar)

- **scanning**: the feed reads the market (``feed``), the scanner ranks it; every symbol's filter
  decisions are kept as the last scan;
- **level_building** / **signal_wait**: the breakout strategy's levels and signals at the bar that
  just closed, for each candidate without an open trade;
- **sizing**: the risk book's gate and size for each signal (best confidence first), rounded down
  to the venue's step; refusals are decisions with the risk book's code;
- **execution**: each allowed entry through the executor (entry at market, a stop read back from
  the venue, both take-profits resting as reduce-only limits); the entry is then published as a
  copy-trading signal when configured;
- **managing**: every open trade is first compared with the venue (filled take-profits and a fired
  stop are closed parts), then the exit rules run on each new closed bar and their actions become
  reduce-only orders, stop amendments, or nothing where a resting order already did the work.

Commands change the state at once (they are pure); the cycle notices at its next step and gives
way — no entry is sent once the state has left ``execution``. Closing everything (kill switch,
panic exit, time stop) is done by :meth:`step` as soon as the current step ends, and repeated with
the error policy's delays until the venue reports the account flat.

Errors follow ``elcaro.engine.policy``: a symbol's own failure is a skip; a failure of the cycle
sends it to ``error`` and it is retried after a growing delay; an emergency flattens and stops.
Each venue operation has a circuit breaker (``market_data``, ``candles``, ``account``,
``place_order``): an open breaker on ``place_order`` suspends entries but not management.

The engine's own bookkeeping (open trades, risk book, decisions) lives in memory; positions and
orders live on the venue, and closed trades in the trade log.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from elcaro.core.clock import now_ms
from elcaro.engine import (
    Breakers,
    CircuitOpenError,
    Command,
    CommandRecord,
    Disposition,
    Effect,
    EngineState,
    Fault,
    StateMachine,
    Transition,
    TransitionError,
    classify,
)
from elcaro.exchanges.client import ExchangeClient
from elcaro.marketdata import CandleArrays
from elcaro.models import ExitReason, PositionSide, Side
from elcaro.models.errors import ElcaroError, ValidationError
from elcaro.services.engine.activity import ActivityWatch
from elcaro.services.engine.book import EngineTrade, extend
from elcaro.services.engine.config import EngineConfig
from elcaro.services.engine.execution import Closed, EntryRequest, Executor, TargetRequest
from elcaro.services.engine.feed import MarketFeed, MarketPass
from elcaro.services.engine.outputs import SignalPublisher, TradeSink, engine_signal
from elcaro.services.engine.pacing import BarPacer
from elcaro.services.engine.status import (
    Decision,
    EngineStatus,
    ScanReport,
    SignalView,
    Stage,
    VenuePosition,
    write_status,
)
from elcaro.strategies.breakout.exits import CloseAll, ExitAction, ExitRule, MoveStop, PartialClose
from elcaro.strategies.breakout.preset import BreakoutPreset, list_presets, load_preset
from elcaro.strategies.breakout.risk import RiskBook
from elcaro.strategies.breakout.scanner import MarketSnapshot, required_bars, scan
from elcaro.strategies.breakout.signals import Assessment, BreakoutSignal
from elcaro.strategies.breakout.strategy import BreakoutStrategy, PreparedSeries

log = logging.getLogger(__name__)

T = TypeVar("T")

ClientOpener = Callable[[], Awaitable[ExchangeClient]]


class Wait(Enum):
    """What :meth:`EngineService.step` leaves the engine waiting for."""

    NOW = "now"
    """More work is due at once."""
    BAR = "bar"
    """The next closed bar (a command also wakes it)."""
    RETRY = "retry"
    """The error policy's next retry time (a command also wakes it)."""
    COMMAND = "command"
    """Nothing to do until someone commands it."""


class FlattenIncompleteError(ElcaroError):
    """The venue still holds positions or orders of the engine after a close-everything pass."""


class CycleInterruptedError(ElcaroError):
    """A command moved the engine while a cycle was under way: the cycle gives way."""


@dataclass(frozen=True, slots=True)
class _Approved:
    signal: BreakoutSignal
    request: EntryRequest
    snapshot: MarketSnapshot
    notional: float


class EngineService:
    """See the module docstring. Use :meth:`run` as a task, or :meth:`step` to drive it one step at a time."""

    def __init__(
        self,
        config: EngineConfig,
        open_client: ClientOpener,
        *,
        pacer: BarPacer,
        clock: Callable[[], int] = now_ms,
        trade_log: TradeSink | None = None,
        publisher: SignalPublisher | None = None,
        status_file: Path | None = None,
        preset: BreakoutPreset | None = None,
        at_market_end: Command = Command.STOP,
        keep: int = 200,
    ) -> None:
        """``open_client`` gives the account's client (the caller owns it and closes it); ``preset`` overrides
        ``config.preset`` (a preset built in code, as tests do); ``at_market_end`` is what the engine does
        when the pacer has no more bars (a replay's end): stop, or time-stop to close its trades first."""
        self.config = config
        self._open_client = open_client
        self._pacer = pacer
        self._clock = clock
        self._trade_log = trade_log if config.record_trades else None
        self._publisher = publisher if config.publishes else None
        self._status_file = status_file
        self.machine = StateMachine(clock, backoff=config.backoff, history_limit=keep)
        self.breakers = Breakers(config.breakers, clock)
        self._preset = preset or load_preset(config.preset)
        self._strategy = BreakoutStrategy(self._preset)
        self._risk = self._strategy.new_risk_book()
        self._pending_preset: BreakoutPreset | None = None
        self._client: ExchangeClient | None = None
        self._executor: Executor | None = None
        self._feed: MarketFeed | None = None
        self._activity: ActivityWatch | None = None
        self._symbols: list[str] = []
        self._trades: dict[str, EngineTrade] = {}
        self._unmanaged: tuple[VenuePosition, ...] = ()
        self._last_scan: ScanReport | None = None
        self._decisions: deque[Decision] = deque(maxlen=keep)
        self._signals: deque[SignalView] = deque(maxlen=keep)
        self._bar_ready = False
        self._market_ended = False
        self._cycles = 0
        self._last_cycle_at: int | None = None
        self._flatten_started: int | None = None
        self._flatten_attempt = 0
        self._operation = "cycle"
        """The operation under way, named in a failure's fault."""
        self._at_market_end = at_market_end
        self._wake = asyncio.Event()
        self._listeners: list[Callable[[Transition], None]] = []
        self._seen_transitions = 0

    # ================================================================================== the API

    @property
    def state(self) -> EngineState:
        return self.machine.state

    @property
    def preset(self) -> BreakoutPreset:
        return self._preset

    @staticmethod
    def presets() -> list[str]:
        """Names of the shipped presets (``reload_preset`` also takes a preset file's path)."""
        return list_presets()

    def last_scan(self) -> ScanReport | None:
        return self._last_scan

    def subscribe(self, listener: Callable[[Transition], None]) -> Callable[[], None]:
        """Call ``listener`` with every state change from now on; returns the function that unsubscribes."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def command(self, name: str | Command, actor: str, *, preset: str | None = None) -> CommandRecord:
        """Carry out a command for ``actor`` (``operator``, ``user:7`` …); ``ConflictError`` when refused.

        The state changes at once; what the command needs from the venue (closing everything) is
        done by the running engine's next step. ``preset`` names the preset ``reload_preset`` loads
        (by default the current one, read again from its file).
        """
        try:
            command = Command(name)
        except ValueError:
            raise ValidationError(
                f"unknown command {name!r}; commands: {', '.join(c.value for c in Command)}", field="command"
            ) from None
        loaded = None
        if command is Command.RELOAD_PRESET:
            loaded = load_preset(preset or self.config.preset)  # a bad preset refuses the command, changes nothing
        record = self.machine.command(command, actor)
        if record.effect is Effect.RELOAD_PRESET and loaded is not None:
            self._pending_preset = loaded
            if self.machine.state in (EngineState.IDLE, EngineState.STOPPED, EngineState.PAUSED):
                self._apply_preset()
        elif record.effect is Effect.RESET:
            self.breakers.reset()
            self._risk.reset_kill_switch()
        log.info("engine command %s by %s: %s → %s", command, actor, record.state, self.machine.state)
        self._after_change()
        self._wake.set()
        return record

    def status(self) -> EngineStatus:
        machine = self.machine.status()
        return EngineStatus(
            state=machine.state,
            since=machine.since,
            preset=self._preset.name,
            timeframe=self._preset.timeframe,
            mode=self.config.mode.value,
            target=self.config.target,
            user_id=self.config.user_id,
            ready=machine.ready,
            killed=machine.killed,
            flatten=machine.flatten,
            attempts=machine.attempts,
            retry_at=machine.retry_at,
            cycles=self._cycles,
            last_cycle_at=self._last_cycle_at,
            history=machine.history,
            commands=machine.commands,
            faults=machine.faults,
            breakers=tuple(self.breakers.statuses()),
            positions=tuple(trade.view() for trade in self._trades.values()),
            unmanaged=self._unmanaged,
            last_scan=self._last_scan,
            decisions=tuple(self._decisions),
            signals=tuple(self._signals),
            risk=self._risk.snapshot(),
            publish_signals=self._publisher is not None,
        )

    # ================================================================================ the loop

    async def run(self, stop: asyncio.Event) -> None:
        """Work until ``stop`` is set (or a replay's recording ends and the engine has stopped)."""
        bar: asyncio.Task[bool] | None = None
        stopping = asyncio.create_task(stop.wait(), name="engine stop")
        try:
            while not stop.is_set():
                # Cleared before the step, so a command given while it runs still wakes the wait after it.
                self._wake.clear()
                wait = await self.step()
                if wait is Wait.NOW:
                    continue
                if self._market_ended and not self.machine.state.running:
                    return
                # Waiting for a retry waits for bars too: a replay's clock moves only with them.
                if wait in (Wait.BAR, Wait.RETRY) and bar is None and not self._market_ended:
                    bar = asyncio.create_task(self._pacer.next_bar(), name="engine bar")
                await self._wait(wait, stopping, bar)
                if bar is not None and bar.done():
                    self._on_bar(bar.result())
                    bar = None
        finally:
            for task in (stopping, bar):
                if task is not None:
                    task.cancel()
            await asyncio.gather(*(t for t in (stopping, bar) if t is not None), return_exceptions=True)
            await self.close()

    async def _wait(self, wait: Wait, stopping: asyncio.Task[Any], bar: asyncio.Task[bool] | None) -> None:
        """Until ``stop``, a command, the next bar, or (waiting for a retry) the retry time."""
        woken = asyncio.create_task(self._wake.wait(), name="engine wake")
        waiters: set[asyncio.Future[Any]] = {stopping, woken}
        if wait in (Wait.BAR, Wait.RETRY) and bar is not None:
            waiters.add(bar)
        retry_at = self.machine.retry_at
        timer = None
        if wait is Wait.RETRY and retry_at is not None:
            timer = asyncio.create_task(asyncio.sleep(max(0, retry_at - self._clock()) / 1000))
            waiters.add(timer)
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        for task in (woken, timer):
            if task is not None and not task.done():
                task.cancel()

    def _on_bar(self, arrived: bool) -> None:
        if arrived:
            self._bar_ready = True
            return
        self._market_ended = True
        log.info("the market data ended: the engine stops")
        if self.machine.state.running and self.machine.flatten is None:
            with contextlib.suppress(ElcaroError):
                self.command(self._at_market_end, "market data")

    async def settle(self, *, limit: int = 1_000) -> Wait:
        """Run steps until the engine waits for something (a bar, a retry time, a command); for tests and tools."""
        for _ in range(limit):
            wait = await self.step()
            if wait is not Wait.NOW:
                return wait
        raise RuntimeError(f"the engine did not come to rest within {limit} steps")

    async def next_bar(self) -> bool:
        """Have the pacer close the next bar and run the work it makes due; ``False`` when no bar came."""
        if not await self._pacer.next_bar():
            self._market_ended = True
            return False
        self._bar_ready = True
        await self.settle()
        return True

    async def step(self) -> Wait:
        """Do the next piece of work the state calls for; returns what the engine waits for next."""
        try:
            return await self._step()
        except Exception as error:  # a failure outside the guarded work: the loop must live on, the policy decides
            log.exception("engine step failed in %s", self.machine.state)
            self.machine.fail(Fault.of("engine", error, self._clock()))
            if self.machine.retry_at is not None:
                return Wait.RETRY
            return Wait.BAR if self.machine.state.running else Wait.COMMAND
        finally:
            self._after_change()

    async def close(self) -> None:
        """Stop following trade streams. The client is the caller's; positions stay on the venue with their stops."""
        if self._activity is not None:
            await self._activity.close()
            self._activity = None

    # ============================================================================== the steps

    async def _step(self) -> Wait:
        if self.machine.flatten is not None:
            return await self._flatten_step()
        state = self.machine.state
        if state in (EngineState.IDLE, EngineState.STOPPED):
            return Wait.COMMAND
        if state is EngineState.ERROR:
            return self._error_step()
        if state is EngineState.INITIALIZING:
            await self._guard_step(self._initialize, initializing=True)
            return Wait.NOW
        if state is EngineState.PAUSED:
            if self._take_bar():
                await self._guard_step(self._manage_all)
            return Wait.BAR
        return await self._cycle_step(state)

    def _error_step(self) -> Wait:
        if self.machine.retry_due():
            self.machine.command(Command.RETRY, "engine")
            return Wait.NOW
        return Wait.RETRY if self.machine.retry_at is not None else Wait.COMMAND

    async def _cycle_step(self, state: EngineState) -> Wait:
        if state is EngineState.MANAGING:
            if not self._take_bar():
                return Wait.BAR
            self.machine.advance(EngineState.SCANNING, "next bar")
            return Wait.NOW
        if state is not EngineState.SCANNING:
            # A phase other than scanning at rest: a cycle was cut short; the next bar starts a new one.
            self.machine.advance(EngineState.MANAGING, "cycle cut short")
            return Wait.BAR
        self._bar_ready = False
        await self._guard_step(self._cycle)
        return Wait.BAR if self.machine.state is EngineState.MANAGING else Wait.NOW

    def _take_bar(self) -> bool:
        ready, self._bar_ready = self._bar_ready, False
        return ready

    async def _guard_step(self, work: Callable[[], Awaitable[None]], *, initializing: bool = False) -> None:
        """Run ``work``; a failure goes through the error policy (see the module docstring)."""
        state = self.machine.state
        try:
            await work()
        except (CycleInterruptedError, TransitionError) as interrupted:
            log.info("engine step in %s gave way: %s", state, interrupted)
        except Exception as error:  # every failure is classified; none may kill the loop
            fault = Fault.of(self._operation_of(error), error, self._clock())
            if initializing and fault.disposition is Disposition.SKIP:
                fault = replace(fault, disposition=Disposition.RETRY)  # nothing to skip to: try again later
            log.warning("engine %s failed in %s (%s): %s", fault.operation, state, fault.disposition, fault.message)
            transition = self.machine.fail(fault)
            if transition is None and fault.disposition is Disposition.SKIP and self.machine.state.in_cycle:
                self._decide(Stage.SCAN, None, "cycle_skipped", f"{fault.error}: {fault.message}")
                if self.machine.can(EngineState.MANAGING) and self.machine.state is not EngineState.MANAGING:
                    self.machine.advance(EngineState.MANAGING, f"cycle skipped: {fault.error}")

    def _operation_of(self, error: BaseException) -> str:
        if isinstance(error, CircuitOpenError):
            return error.operation
        return self._operation

    # ---------------------------------------------------------------------------- initializing

    async def _initialize(self) -> None:
        self._apply_preset()
        self._operation = "account"
        if self._client is None:
            self._client = await self._open_client()
        client = self._client
        self._executor = Executor(client, self.config.account_ref, clock=self._clock)
        if self.config.follows_trades and self._activity is None:
            self._activity = ActivityWatch(client, self._preset.activity, self._clock)
        activity = self._activity
        self._feed = MarketFeed(
            client,
            self._preset.timeframe,
            clock=self._clock,
            universe=self.config.universe,
            trades_per_minute=activity.trades_per_minute if activity is not None else None,
        )
        self._symbols = await self._guarded("market_data", self._feed.markets())
        if not self._symbols:
            raise ValidationError(
                f"{self.config.target} lists none of the markets the engine may trade", field="universe"
            )
        equity = await self._equity()
        await self._refresh_unmanaged()
        self.machine.advance(
            EngineState.SCANNING,
            f"initialized: preset {self._preset.name}, {len(self._symbols)} markets, equity {equity:g}",
        )

    def _apply_preset(self) -> None:
        preset, self._pending_preset = self._pending_preset, None
        if preset is None:
            return
        state = self._risk.snapshot()
        self._preset = preset
        self._strategy = BreakoutStrategy(preset)
        self._risk = RiskBook.restore(preset.risk, state)
        if self._feed is not None:
            self._feed.timeframe = preset.timeframe
        if self._activity is not None:
            self._activity.retune(preset.activity)
        log.info("engine preset %s loaded", preset.name)

    # ----------------------------------------------------------------------------------- cycle

    def _bars(self) -> int:
        preset = self._preset
        need = max(required_bars(preset.scanner, preset.timeframe), preset.warmup_bars + 2)
        return need + self.config.extra_bars

    async def _cycle(self) -> None:
        market = await self._scan()
        snapshots = {snapshot.symbol: snapshot for snapshot in market.snapshots}
        candidates = self._last_scan.candidates if self._last_scan is not None else ()
        if self._activity is not None:
            self._activity.follow({*self._trades, *(c.symbol for c in candidates)})
        # A symbol with a position the engine did not open is left alone: one-way mode would add to it.
        busy = {*self._trades, *(p.symbol for p in self._unmanaged)}
        for symbol in sorted({c.symbol for c in candidates} & {p.symbol for p in self._unmanaged}):
            self._decide(
                Stage.SIGNAL, symbol, "not_engines_position", "the account holds a position the engine did not open"
            )
        fresh = [c.symbol for c in candidates if c.symbol not in busy and len(snapshots[c.symbol].candles)]
        if not fresh:
            await self._end_cycle("no new candidate")
            return
        self._advance(EngineState.LEVEL_BUILDING, f"{len(fresh)} candidates: {', '.join(fresh)}")
        series = self._build_levels(fresh, snapshots)
        self._advance(EngineState.SIGNAL_WAIT, f"levels of {len(series)} symbols")
        signals = self._find_signals(series, snapshots)
        if not signals:
            await self._end_cycle("no signal")
            return
        self._advance(EngineState.SIZING, f"{len(signals)} signals")
        self._operation = "sizing"
        approved = await self._size(sorted(signals, key=lambda s: -s.confidence), snapshots)
        if not approved:
            await self._end_cycle("no entry allowed")
            return
        try:
            self._advance(EngineState.EXECUTION, f"{len(approved)} entries")
            self._operation = "place_order"
            for item in approved:
                if self.machine.state is not EngineState.EXECUTION:
                    raise CycleInterruptedError(f"left execution for {self.machine.state}")
                await self._enter(item, series[item.signal.symbol].candles)
        finally:
            for item in approved:  # sizing reserved room for each; give back what did not become a trade
                if item.signal.symbol not in self._trades:
                    self._release(item.signal.symbol)
        await self._end_cycle("entries done")

    async def _scan(self) -> MarketPass:
        feed, preset = self._require_feed(), self._preset
        self._operation = "market_data"
        market = await self._guarded(
            "market_data", feed.read(self._symbols, bars=self._bars(), universe_size=preset.scanner.universe_size)
        )
        result = scan(market.snapshots, preset.scanner, btc=market.btc, timeframe=preset.timeframe)
        self._last_scan = ScanReport(
            at=market.at,
            preset=preset.name,
            timeframe=preset.timeframe,
            candidates=result.candidates,
            decisions=dict(result.decisions),
            skipped=dict(market.skipped),
        )
        self._decide(Stage.SCAN, None, "scanned", f"{len(result.candidates)} candidates of {len(market.snapshots)}")
        return market

    def _build_levels(self, symbols: list[str], snapshots: Mapping[str, MarketSnapshot]) -> dict[str, PreparedSeries]:
        self._operation = "levels"
        series = {}
        for symbol in symbols:
            candles = snapshots[symbol].candles
            try:
                prepared = self._strategy.prepare(symbol, candles)
                self._strategy.levels_for(symbol, prepared, len(candles) - 1)
            except ValidationError as error:
                self._decide(Stage.SIGNAL, symbol, "no_levels", str(error))
                continue
            series[symbol] = prepared
        return series

    def _find_signals(
        self, series: Mapping[str, PreparedSeries], snapshots: Mapping[str, MarketSnapshot]
    ) -> list[BreakoutSignal]:
        self._operation = "signals"
        strategy, now = self._strategy, self._clock()
        signals: list[BreakoutSignal] = []
        for symbol, prepared in series.items():
            index = len(prepared) - 1
            book = snapshots[symbol].book
            signal = strategy.signal_at(symbol, prepared, index, book)
            if signal is None:
                code, text = _no_signal(strategy.assess_at(symbol, prepared, index, book))
                self._decide(Stage.SIGNAL, symbol, code, text)
            elif not signal.is_live(now):
                self._decide(Stage.SIGNAL, symbol, "expired", f"signal of bar {signal.bar_ts} expired")
            else:
                signals.append(signal)
        return signals

    async def _end_cycle(self, cause: str) -> None:
        self._advance(EngineState.MANAGING, cause)
        await self._finish_cycle()

    async def _finish_cycle(self) -> None:
        await self._manage_all()
        self._cycles += 1
        self._last_cycle_at = self._clock()

    async def _size(self, signals: list[BreakoutSignal], snapshots: Mapping[str, MarketSnapshot]) -> list[_Approved]:
        equity = await self._equity()
        approved: list[_Approved] = []
        client = self._require_client()
        for signal in signals:
            snapshot = snapshots[signal.symbol]
            decision = self._risk.check(
                signal, equity, book=snapshot.book, correlation=self._correlations(signal.symbol, snapshots)
            )
            side = PositionSide.from_side(signal.side)
            if not decision.allowed:
                code = decision.reason.value if decision.reason is not None else "refused"
                self._decide(Stage.RISK, signal.symbol, code, decision.message)
                self._note_signal(signal, taken=False, outcome=code)
                continue
            instrument = await client.instrument(signal.symbol)
            qty = instrument.round_qty(Decimal(repr(decision.quantity)) / instrument.contract_size)
            entry = Decimal(repr(signal.entry))
            value = instrument.notional(qty, entry)
            if qty < instrument.min_qty or value < instrument.min_notional:
                text = (
                    f"{qty} contracts ({value:.2f}) is below the venue's minimum "
                    f"{instrument.min_qty} / {instrument.min_notional}"
                )
                self._decide(Stage.RISK, signal.symbol, "below_min_size", text)
                self._note_signal(signal, taken=False, outcome="below_min_size")
                continue
            long = side is PositionSide.LONG
            stop = instrument.round_price(Decimal(repr(signal.stop)), "down" if long else "up")
            management = self._preset.management
            targets = tuple(
                TargetRequest(name, instrument.round_price(Decimal(repr(price)), "up" if long else "down"), share)
                for name, price, share in (
                    (ExitRule.TP1.value, signal.tp1, Decimal(repr(management.tp1_fraction))),
                    (ExitRule.TP2.value, signal.tp2, Decimal(repr(management.tp2_fraction))),
                )
            )
            request = EntryRequest(signal.symbol, side, qty, stop, entry, signal.bar_ts, self.config.leverage, targets)
            self._risk.record_open(signal.symbol, float(value))  # reserved: later signals see it
            approved.append(_Approved(signal, request, snapshot, float(value)))
            self._decide(Stage.RISK, signal.symbol, "allowed", decision.message)
        return approved

    def _correlations(self, symbol: str, snapshots: Mapping[str, MarketSnapshot]) -> dict[str, float] | None:
        """Correlation of log returns between ``symbol`` and each open position's symbol over the common bars."""
        mine = snapshots[symbol].candles
        result: dict[str, float] = {}
        for other in self._risk.open_positions:
            theirs = snapshots[other].candles if other in snapshots else None
            if theirs is None and other in self._trades:
                theirs = self._trades[other].candles
            if theirs is None:
                continue
            value = _correlation(mine, theirs)
            if value is not None:
                result[other] = value
        return result

    def _release(self, symbol: str) -> None:
        """Give back a reservation made at sizing for an entry that did not happen."""
        state = self._risk.snapshot()
        if symbol not in state.open_positions:
            return
        opened = {k: v for k, v in state.open_positions.items() if k != symbol}
        pnl = {k: v for k, v in state.open_pnl.items() if k != symbol}
        self._risk = RiskBook.restore(self._preset.risk, replace(state, open_positions=opened, open_pnl=pnl))

    async def _enter(self, item: _Approved, candles: CandleArrays) -> None:
        signal, request = item.signal, item.request
        executor = self._require_executor()
        try:
            held, closed = await self._guarded("place_order", executor.open(request))
        except CircuitOpenError as error:
            self._release(signal.symbol)
            self._decide(Stage.ENTRY, signal.symbol, "entries_paused", str(error))
            self._note_signal(signal, taken=False, outcome="entries_paused")
            return
        except Exception as error:
            self._release(signal.symbol)
            if classify(error) is not Disposition.SKIP:
                raise
            self._decide(Stage.ENTRY, signal.symbol, "entry_refused", f"{type(error).__name__}: {error}")
            self._note_signal(signal, taken=False, outcome="entry_refused")
            self.machine.fail(Fault.of("place_order", error, self._clock(), symbol=signal.symbol))
            return
        if held is None:
            self._release(signal.symbol)
            if closed is not None:
                await self._record(None, closed)
            reason = "closed at once: its stop could not be placed" if closed is not None else "not filled"
            self._decide(Stage.ENTRY, signal.symbol, "entry_abandoned", reason)
            self._note_signal(signal, taken=False, outcome="entry_abandoned")
            return
        fill = float(held.entry_price)
        base = float(held.qty * held.instrument.contract_size)
        self._release(signal.symbol)
        self._risk.record_open(signal.symbol, base * fill)
        if not signal.accepts_entry(fill):  # the fill gapped past the stop or TP1: the trade is void
            beyond_stop = (fill - signal.stop) * (1 if signal.side is Side.BUY else -1) <= 0
            closed = await executor.close(held, ExitReason.STOP_LOSS if beyond_stop else ExitReason.TAKE_PROFIT)
            if closed is not None:
                await self._record(None, closed)
            self._decide(Stage.ENTRY, signal.symbol, "entry_slipped", f"filled at {fill:g}, beyond the stop or TP1")
            self._note_signal(signal, taken=False, outcome="entry_slipped")
            return
        # The entry filled in the bar after the signal's: the first bar the exit rules look at.
        trade = self._strategy.open_trade(
            signal, quantity=base, entry_price=fill, index=len(candles), ts=held.opened_at
        )
        engine_trade = EngineTrade(held, trade, signal, candles)
        self._trades[signal.symbol] = engine_trade
        engine_trade.signal_id = await self._publish(engine_trade)
        self._decide(
            Stage.ENTRY,
            signal.symbol,
            "entered",
            f"{held.side} {held.qty} at {held.entry_price}, stop {held.stop_price} on the venue",
        )
        self._note_signal(signal, taken=True, outcome="entered", signal_id=engine_trade.signal_id)

    async def _publish(self, engine_trade: EngineTrade) -> int | None:
        if self._publisher is None:
            return None
        held, management = engine_trade.held, self._preset.management
        try:
            signal = engine_signal(
                engine_trade.signal,
                held.instrument,
                entry_price=held.entry_price,
                stop=held.stop_price,
                timeframe=self._preset.timeframe,
                preset=self._preset.name,
                tp1_share=management.tp1_fraction,
                tp2_share=management.tp2_fraction,
                received_at=self._clock(),
            )
            signal_id = await self._publisher.publish(signal)
        except ElcaroError as error:  # the engine's own trade stands; only its followers miss it
            self._decide(Stage.PUBLISH, held.symbol, "publish_failed", f"{type(error).__name__}: {error}")
            return None
        self._decide(Stage.PUBLISH, held.symbol, "published", f"copy-trading signal {signal_id}")
        return signal_id

    # -------------------------------------------------------------------------------- managing

    async def _manage_all(self) -> None:
        self._operation = "manage"
        for symbol in list(self._trades):
            if self.machine.state not in (EngineState.MANAGING, EngineState.PAUSED) or self.machine.flatten:
                raise CycleInterruptedError(f"left managing for {self.machine.state}")
            try:
                await self._manage(self._trades[symbol])
            except Exception as error:  # one trade's refusal must not leave the others unmanaged this bar
                if isinstance(error, CycleInterruptedError) or classify(error) is not Disposition.SKIP:
                    raise
                self.machine.fail(Fault.of("manage", error, self._clock(), symbol=symbol))
                self._decide(Stage.EXIT, symbol, "manage_refused", f"{type(error).__name__}: {error}")
        await self._equity()
        await self._refresh_unmanaged()

    async def _manage(self, engine_trade: EngineTrade) -> None:
        executor, feed = self._require_executor(), self._require_feed()
        held = engine_trade.held
        for closed in await self._guarded("account", executor.sync(held)):
            await self._record(engine_trade, closed)
        if held.remaining <= 0:
            self._forget(engine_trade, "closed on the venue")
            return
        window = await self._guarded("candles", feed.candles(held.symbol, self._bars()))
        engine_trade.candles = extend(engine_trade.candles, window)
        series = self._strategy.prepare(held.symbol, engine_trade.candles)
        for index in range(engine_trade.trade.last_index + 1, len(series)):
            dropped = self._activity is not None and self._activity.dropped(held.symbol)
            result = self._strategy.step(engine_trade.trade, series, index, dropped)
            market = Decimal(repr(float(series.candles.close[index])))
            for action in result.actions:
                await self._carry_out(engine_trade, action, market)
                if held.remaining <= 0:
                    break
            engine_trade.trade = result.trade
            if held.remaining <= 0:
                self._forget(engine_trade, f"closed: {result.trade.exit_rule or 'exit'}")
                return
            if result.trade.is_closed:  # the rules closed it but rounding left a remainder on the venue
                reason = result.trade.exit_rule.exit_reason if result.trade.exit_rule else ExitReason.MANUAL
                rest = await executor.close(held, reason)
                if rest is not None:
                    await self._record(engine_trade, rest)
                self._forget(engine_trade, "closed")
                return
            engine_trade.sync_remaining()

    async def _carry_out(self, engine_trade: EngineTrade, action: ExitAction, market: Decimal) -> None:
        executor, held = self._require_executor(), engine_trade.held
        closed: Closed | None
        if isinstance(action, PartialClose) and action.reason in (ExitRule.TP1, ExitRule.TP2):
            qty = engine_trade.contracts(action.quantity)
            for part in await executor.take_target(held, action.reason.value, qty, action.reason.exit_reason):
                await self._record(engine_trade, part)
            return
        if isinstance(action, PartialClose):
            closed = await executor.reduce(held, engine_trade.contracts(action.quantity), action.reason.exit_reason)
        elif isinstance(action, MoveStop):
            closed = await executor.move_stop(
                held, Decimal(repr(action.new_stop)), action.reason.exit_reason, market=market
            )
            if closed is None:
                self._decide(Stage.EXIT, held.symbol, f"stop_{action.reason.value}", f"stop moved to {held.stop_price}")
        elif isinstance(action, CloseAll):
            closed = await executor.close(held, action.reason.exit_reason)
        else:  # pragma: no cover - the union above is exhaustive
            raise TypeError(f"unknown exit action {action!r}")
        if closed is not None:
            await self._record(engine_trade, closed)

    def _forget(self, engine_trade: EngineTrade, why: str) -> None:
        self._trades.pop(engine_trade.symbol, None)
        self._release(engine_trade.symbol)  # closed without a recorded close (a flatten found it gone): free the slot
        log.info("engine trade %s %s done: %s", engine_trade.held.side, engine_trade.symbol, why)

    async def _record(self, engine_trade: EngineTrade | None, closed: Closed) -> None:
        """A closed part: the risk book, the decision log and the trade log learn of it."""
        gross = closed.side.sign * (closed.exit_price - closed.entry_price) * closed.qty * closed.contract_size
        pnl = float(gross - closed.fees)
        remaining = engine_trade.held.remaining if engine_trade is not None else Decimal(0)
        remaining_notional = float(remaining * closed.contract_size * closed.entry_price)
        if closed.symbol in self._risk.open_positions:
            self._risk.record_close(pnl, closed.closed_at, symbol=closed.symbol, remaining_notional=remaining_notional)
        else:
            self._risk.record_close(pnl, closed.closed_at)
        self._decide(
            Stage.EXIT,
            closed.symbol,
            closed.reason.value,
            f"closed {closed.qty} at {closed.exit_price} ({closed.reason}), PnL {pnl:+.4f} after fees",
        )
        if self._trade_log is None:
            return
        try:
            await self._trade_log.record(closed, engine_trade.signal_id if engine_trade is not None else None)
        except ElcaroError as error:
            log.error("engine trade of %s not recorded: %s", closed.symbol, error)
            self._decide(Stage.RECORD, closed.symbol, "record_failed", f"{type(error).__name__}: {error}")

    # ------------------------------------------------------------------------- close everything

    async def _flatten_step(self) -> Wait:
        machine = self.machine
        plan = machine.flatten
        assert plan is not None  # checked by the caller
        if machine.retry_at is not None and not machine.retry_due():
            return Wait.RETRY
        try:
            executor = await self._flatten_executor()
            for engine_trade in list(self._trades.values()):
                with contextlib.suppress(ElcaroError):  # a fired stop is recorded as such; the rest is closed below
                    for part in await executor.sync(engine_trade.held):
                        await self._record(engine_trade, part)
            if self._flatten_started is None:
                self._flatten_started, self._flatten_attempt = self._clock(), 0
            self._flatten_attempt += 1
            report = await executor.flatten(f"{self._flatten_started}:{self._flatten_attempt}")
        except Exception as error:
            machine.fail(Fault.of("flatten", error, self._clock()))
            return Wait.RETRY if machine.retry_at is not None else Wait.COMMAND
        for engine_trade in list(self._trades.values()):
            closed = executor.closed_by_flatten(engine_trade.held, report.closed, plan.reason)
            if closed is not None:
                await self._record(engine_trade, closed)
            if engine_trade.held.remaining <= 0 or report.flat:
                self._forget(engine_trade, str(plan.reason))
        if not report.flat:
            left = ", ".join(f"{p.side} {p.qty} {p.symbol}" for p in report.left_positions)
            problem = FlattenIncompleteError(
                f"still open after closing everything: positions [{left}], {len(report.left_orders)} orders; "
                + "; ".join(report.errors)
            )
            machine.fail(Fault.of("flatten", problem, self._clock()))
            return Wait.RETRY
        self._decide(
            Stage.EXIT,
            None,
            str(plan.reason),
            f"{plan.cause}: {len(report.closed)} positions closed, {report.cancelled} orders cancelled; "
            "the account is flat",
        )
        self._unmanaged = ()
        self._flatten_started = None
        machine.flattened()
        return Wait.NOW

    async def _flatten_executor(self) -> Executor:
        if self._executor is None:
            if self._client is None:
                self._client = await self._open_client()
            self._executor = Executor(self._client, self.config.account_ref, clock=self._clock)
        return self._executor

    # -------------------------------------------------------------------------------- helpers

    async def _equity(self) -> float:
        client = self._require_client()
        balance = await self._guarded("account", client.fetch_balance())
        equity = float(balance.equity)
        self._risk.observe_equity(equity, self._clock())
        if self._risk.kill_switch_tripped() and self.machine.killed is None and self.machine.flatten is None:
            self._decide(Stage.RISK, None, "kill_switch_drawdown", f"equity {equity:g}: drawdown limit reached")
            self.command(Command.KILL_SWITCH, "risk")
            raise CycleInterruptedError("the drawdown kill switch tripped")
        return equity

    async def _refresh_unmanaged(self) -> None:
        client = self._require_client()
        positions = await self._guarded("account", client.fetch_positions())
        self._unmanaged = tuple(
            VenuePosition(p.symbol, p.side, p.qty, p.entry_price) for p in positions if p.symbol not in self._trades
        )

    async def _guarded(self, operation: str, call: Awaitable[T]) -> T:
        """``call`` under ``operation``'s circuit breaker; only failures the policy retries count against it."""
        breaker = self.breakers[operation]
        try:
            breaker.check()
        except CircuitOpenError:
            _close_quietly(call)
            raise
        try:
            result = await call
        except Exception as error:
            if classify(error) is Disposition.SKIP:
                breaker.success()  # the venue answered: a refusal is not an outage
            else:
                breaker.failure()
            raise
        breaker.success()
        return result

    def _advance(self, target: EngineState, cause: str) -> None:
        if self.machine.flatten is not None:
            raise CycleInterruptedError("everything is being closed")
        self.machine.advance(target, cause)

    def _decide(self, stage: Stage, symbol: str | None, code: str, message: str) -> None:
        self._decisions.append(Decision(self._clock(), stage, symbol, code, message))

    def _note_signal(self, signal: BreakoutSignal, *, taken: bool, outcome: str, signal_id: int | None = None) -> None:
        self._signals.append(
            SignalView(
                at=self._clock(),
                symbol=signal.symbol,
                side=PositionSide.from_side(signal.side),
                kind=signal.kind,
                entry=signal.entry,
                stop=signal.stop,
                tp1=signal.tp1,
                tp2=signal.tp2,
                confidence=signal.confidence,
                bar_ts=signal.bar_ts,
                level=signal.level.price,
                taken=taken,
                outcome=outcome,
                signal_id=signal_id,
            )
        )

    def _require_client(self) -> ExchangeClient:
        if self._client is None:
            raise CycleInterruptedError("the engine has no venue client yet")
        return self._client

    def _require_executor(self) -> Executor:
        if self._executor is None:
            raise CycleInterruptedError("the engine has no executor yet")
        return self._executor

    def _require_feed(self) -> MarketFeed:
        if self._feed is None:
            raise CycleInterruptedError("the engine has no market feed yet")
        return self._feed

    def _after_change(self) -> None:
        moves = self.machine.moves
        fresh = self.machine.history[-(moves - self._seen_transitions) :] if moves > self._seen_transitions else ()
        self._seen_transitions = moves
        for transition in fresh:
            for listener in list(self._listeners):
                listener(transition)
        if self._status_file is not None:
            write_status(self._status_file, self.status())


def _no_signal(assessment: Assessment) -> tuple[str, str]:
    """The decision code and text for a bar without a signal: a repeat, the failed check, or nothing broken."""
    if assessment.signal is not None:
        return "duplicate", "the same signal is still live"
    failed = next((check for check in assessment.checks if check.passed is False), None)
    if failed is None:
        return "no_signal", "no level broken or retested"
    return (
        f"{assessment.kind}_{failed.name}",
        f"{assessment.kind}: {failed.name} {failed.value} (needs {failed.threshold})",
    )


def _close_quietly(call: Awaitable[Any]) -> None:
    close = getattr(call, "close", None)
    if callable(close):
        close()


def _correlation(a: CandleArrays, b: CandleArrays) -> float | None:
    common, ia, ib = np.intersect1d(a.timestamp, b.timestamp, assume_unique=True, return_indices=True)
    if len(common) < 3:
        return None
    ra = np.diff(np.log(a.close[ia]))
    rb = np.diff(np.log(b.close[ib]))
    if np.std(ra) == 0 or np.std(rb) == 0:
        return None
    value = float(np.corrcoef(ra, rb)[0, 1])
    return None if math.isnan(value) else value
