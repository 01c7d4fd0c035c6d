"""Backtests on request (the web app's backtest form): queued, run in worker processes, followed while they run.

A request names a strategy (the breakout preset by name, or the Donchian breakout), optional settings
overrides (``dotted.field → value``, checked by the strategy's own validation before anything is queued),
an exchange, symbols, a window and a starting capital. The candles come from the platform's candle store
(``elcaro data import``) at the strategy's timeframe, resampled from a shorter stored one when needed.

The work itself — :func:`elcaro.backtest.run_backtest`, pure CPU — runs in a process pool (``spawn``: a
clean interpreter, never a fork of a process holding event loops and sockets), so a long backtest never
stalls the event loop that serves trading. Each worker reports progress through one queue the pool
shares; a reader thread files it under the run's id, at most every whole percent.

Candles are read a slice at a time (``LOAD_CHUNK_BARS``) and kept as float columns, so a request for a long
window neither holds a million ``Candle`` objects at once nor keeps the event loop busy for long between
awaits; ``MAX_BARS`` caps what one request may load, ``max_queued`` how many runs may wait for a worker.

Runs and their results are kept in memory for the life of the process (the newest ``keep_per_user`` of
each user): a backtest is cheap to run again and its inputs are all in the request. Every read takes the
caller's user id and finds only that user's runs, so a run id of someone else's is simply not found.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import queue
import secrets
import signal
import sys
import threading
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

import numpy as np

from elcaro.backtest import BacktestConfig, BacktestResult, StrategySettings, run_backtest, with_values
from elcaro.core.clock import now_ms
from elcaro.marketdata import CandleArrays, Timeframe
from elcaro.models.errors import ConflictError, NotFoundError, ValidationError
from elcaro.services.market_data import MarketDataService
from elcaro.strategies.breakout.preset import list_presets, load_preset
from elcaro.strategies.donchian import DonchianSettings

log = logging.getLogger(__name__)

STRATEGIES = ("breakout", "donchian")
MAX_SYMBOLS = 20
MAX_BARS_PER_SYMBOL = 500_000
"""About 4.7 years of 5-minute bars: more is a job for ``elcaro backtest`` at the machine."""
MAX_BARS = 1_000_000
"""Bars of every symbol of one request together (48 MB as float columns)."""
LOAD_CHUNK_BARS = 20_000
"""Bars read per query while loading: the event loop serves other requests between slices."""


class RunStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class BacktestRequest:
    strategy: str
    """``breakout`` (with ``preset``) or ``donchian``."""
    exchange: str
    symbols: tuple[str, ...]
    start: int
    """Epoch ms, inclusive."""
    end: int
    """Epoch ms, exclusive."""
    preset: str | None = None
    overrides: Mapping[str, Any] = field(default_factory=dict, hash=False)
    capital: float = 10_000.0
    scan_every: int = 12


@dataclass(frozen=True, slots=True)
class BacktestRun:
    id: str
    user_id: int
    request: BacktestRequest
    status: RunStatus
    created_at: int
    timeframe: str
    done: int = 0
    total: int = 0
    finished_at: int | None = None
    error: str | None = None
    result: BacktestResult | None = None

    @property
    def progress(self) -> float:
        """0 to 1; 1 once done."""
        if self.status is RunStatus.DONE:
            return 1.0
        return self.done / self.total if self.total else 0.0


@dataclass(frozen=True, slots=True)
class ChartData:
    """What a result chart draws: the equity curve (thinned to at most ``points``) and the candles of one symbol."""

    symbol: str
    equity_timestamps: tuple[int, ...]
    equity: tuple[float, ...]
    drawdown: tuple[float, ...]
    candles: CandleArrays


@dataclass
class _Live:
    run: BacktestRun
    universe: dict[str, CandleArrays]
    task: asyncio.Task[None] | None = None


class BacktestService:
    """Start with :meth:`running` (it owns the worker processes); ``start`` queues a run and returns at once."""

    def __init__(
        self,
        market_data: MarketDataService,
        *,
        workers: int = 1,
        per_user: int = 2,
        max_queued: int = 8,
        keep_per_user: int = 20,
        clock: Callable[[], int] = now_ms,
    ) -> None:
        if workers < 1:
            raise ValidationError("at least one worker", field="workers")
        self._market_data = market_data
        self._workers = workers
        self._per_user = per_user
        self._max_queued = max_queued
        self._keep = keep_per_user
        self._clock = clock
        self._runs: OrderedDict[str, _Live] = OrderedDict()
        self._pool: Any = None
        self._progress: Any = None
        self._reader: threading.Thread | None = None
        self._latest: dict[str, tuple[int, int]] = {}
        self._context: Any = None
        self._open = False
        """Latest (done, total) per run, written by the reader thread only."""

    @staticmethod
    def presets() -> list[str]:
        return list_presets()

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[BacktestService]:
        """Start the worker processes; on the way out stop them, ending any backtest still running."""
        self._context = multiprocessing.get_context("spawn")
        self._progress = self._context.Queue()
        self._reader = threading.Thread(target=self._read_progress, name="backtest progress", daemon=True)
        self._reader.start()
        self._open = True
        try:
            yield self
        finally:
            tasks = [live.task for live in self._runs.values() if live.task is not None]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            self._open = False
            pool, self._pool = self._pool, None
            if pool is not None:
                pool.terminate()  # a backtest runs for minutes: stopping must not wait for it
                await asyncio.to_thread(pool.join)
            self._progress.put(None)
            await asyncio.to_thread(self._reader.join)
            self._progress.close()
            self._progress.join_thread()

    async def start(self, user_id: int, request: BacktestRequest) -> BacktestRun:
        """Check the request, load its candles and queue it; ``ConflictError`` when the user has too many running."""
        if not self._open:
            raise ConflictError("the backtester is not running")
        settings = strategy_settings(request)
        request = _checked(request)
        if sum(1 for live in self._runs.values() if live.run.user_id == user_id and not _ended(live.run)) >= (
            self._per_user
        ):
            raise ConflictError(f"at most {self._per_user} backtests of yours can run at once: wait for one to end")
        if sum(1 for live in self._runs.values() if not _ended(live.run)) >= self._max_queued:
            raise ConflictError("the backtester is busy with other runs: try again in a few minutes")
        universe = await self._load(request, settings.timeframe)
        run = BacktestRun(
            id=secrets.token_hex(8),
            user_id=user_id,
            request=request,
            status=RunStatus.QUEUED,
            created_at=self._clock(),
            timeframe=settings.timeframe,
        )
        if self._pool is None:  # the worker processes start with the first backtest, not with the app
            self._pool = self._context.Pool(self._workers, initializer=_worker_init, initargs=(self._progress,))
        live = _Live(run, universe)
        self._runs[run.id] = live
        self._forget_old(user_id)
        live.task = asyncio.create_task(self._run(live, settings), name=f"backtest {run.id}")
        return run

    def get(self, user_id: int, run_id: str) -> BacktestRun:
        live = self._runs.get(run_id)
        if live is None or live.run.user_id != user_id:
            raise NotFoundError(f"no backtest {run_id!r}")
        return self._current(live)

    def list_for_user(self, user_id: int) -> list[BacktestRun]:
        """Newest first."""
        return [self._current(live) for live in reversed(self._runs.values()) if live.run.user_id == user_id]

    def chart(self, user_id: int, run_id: str, *, symbol: str | None = None, points: int = 2000) -> ChartData:
        """The equity curve thinned to ``points`` and the candles of ``symbol`` (the most traded by default)."""
        run = self.get(user_id, run_id)
        if run.result is None:
            raise ConflictError(f"backtest {run_id} has no result yet ({run.status})")
        live = self._runs[run_id]
        result = run.result
        chosen = symbol or _most_traded(result)
        if chosen not in live.universe:
            raise ValidationError(f"{chosen} is not among the backtested symbols", field="symbol")
        curve = result.curve
        picked = _thinned(len(curve.timestamps), points)
        return ChartData(
            symbol=chosen,
            equity_timestamps=tuple(int(t) for t in curve.timestamps[picked]),
            equity=tuple(float(v) for v in curve.equity[picked]),
            drawdown=tuple(float(v) for v in curve.drawdown[picked]),
            candles=live.universe[chosen],
        )

    def queue_sizes(self) -> dict[str, int]:
        statuses = [self._current(live).status for live in self._runs.values()]
        return {status.value: statuses.count(status) for status in (RunStatus.QUEUED, RunStatus.RUNNING)}

    # ------------------------------------------------------------------------------ inside

    async def _load(self, request: BacktestRequest, timeframe: str) -> dict[str, CandleArrays]:
        tf = Timeframe.parse(timeframe)
        bars = -(-(request.end - request.start) // tf.ms)
        if bars > MAX_BARS_PER_SYMBOL:
            raise ValidationError(f"at most {MAX_BARS_PER_SYMBOL} {timeframe} bars per symbol", field="end")
        if bars * len(request.symbols) > MAX_BARS:
            raise ValidationError(
                f"at most {MAX_BARS} {timeframe} bars in all: a shorter window or fewer symbols", field="symbols"
            )
        universe: dict[str, CandleArrays] = {}
        for symbol in request.symbols:
            found = await self._load_symbol(request, symbol, tf)
            if not len(found):
                raise ValidationError(
                    f"no {timeframe} candles of {symbol} on {request.exchange} in the window", field="symbols"
                )
            universe[symbol] = found
        return universe

    async def _load_symbol(self, request: BacktestRequest, symbol: str, tf: Timeframe) -> CandleArrays:
        """The candles of ``symbol`` in the window, read in slices whose edges fall on ``tf``'s bar edges (so
        no resampled bar is split between two slices)."""
        parts: list[CandleArrays] = []
        start = request.start
        edge = tf.floor(request.start)
        while start < request.end:
            edge += LOAD_CHUNK_BARS * tf.ms
            stop = min(edge, request.end)
            try:
                candles = await self._market_data.candles(
                    request.exchange, symbol, tf.name, since=start, until=stop - 1
                )
            except NotFoundError as error:  # nothing stored to read or build them from
                raise ValidationError(str(error), field="symbols") from None
            if candles:
                parts.append(CandleArrays.from_candles(candles))
            start = stop
            await asyncio.sleep(0)
        return _joined(parts)

    async def _run(self, live: _Live, settings: StrategySettings) -> None:
        config = BacktestConfig(capital=live.run.request.capital, scan_every=live.run.request.scan_every)
        loop = asyncio.get_running_loop()
        outcome: asyncio.Future[BacktestResult] = loop.create_future()

        def settle(result: BacktestResult | BaseException) -> None:
            if outcome.done():
                return
            if isinstance(result, BaseException):
                outcome.set_exception(result)
            else:
                outcome.set_result(result)

        def deliver(result: BacktestResult | BaseException) -> None:  # called on the pool's result thread
            loop.call_soon_threadsafe(settle, result)

        self._pool.apply_async(
            _work, (live.run.id, live.universe, settings, config), callback=deliver, error_callback=deliver
        )
        try:
            result = await outcome
        except asyncio.CancelledError:
            live.run = replace(live.run, status=RunStatus.FAILED, error="stopped", finished_at=self._clock())
            raise
        except ValidationError as error:
            live.run = replace(live.run, status=RunStatus.FAILED, error=str(error), finished_at=self._clock())
        except Exception as error:  # a crash in a worker must end the run, not the service
            log.error("backtest %s failed: %s: %s", live.run.id, type(error).__name__, error)
            live.run = replace(live.run, status=RunStatus.FAILED, error=type(error).__name__, finished_at=self._clock())
        else:
            live.run = replace(live.run, status=RunStatus.DONE, result=result, finished_at=self._clock())

    def _current(self, live: _Live) -> BacktestRun:
        run = live.run
        reported = self._latest.get(run.id)
        if reported is None:
            return run
        done, total = reported
        status = RunStatus.RUNNING if run.status is RunStatus.QUEUED else run.status
        return replace(run, status=status, done=done, total=total)

    def _forget_old(self, user_id: int) -> None:
        mine = [run_id for run_id, live in self._runs.items() if live.run.user_id == user_id and _ended(live.run)]
        for run_id in mine[: max(0, len(mine) - self._keep)]:
            del self._runs[run_id]
            self._latest.pop(run_id, None)

    def _read_progress(self) -> None:
        while True:
            try:
                item = self._progress.get()
            except (EOFError, OSError):
                return
            if item is None:
                return
            run_id, done, total = item
            self._latest[run_id] = (done, total)


def strategy_settings(request: BacktestRequest) -> StrategySettings:
    """The strategy's settings with the request's overrides, validated; a preset is taken by shipped name only."""
    if request.strategy not in STRATEGIES:
        raise ValidationError(f"one of {', '.join(STRATEGIES)}", field="strategy")
    base: StrategySettings
    if request.strategy == "donchian":
        if request.preset is not None:
            raise ValidationError("the Donchian breakout has no presets: leave it empty", field="preset")
        base = DonchianSettings()
    else:
        name = request.preset or "liquid"
        if name not in list_presets():  # never a path: load_preset would read any file it is given
            raise ValidationError(f"one of {', '.join(list_presets())}", field="preset")
        base = load_preset(name)
    if not request.overrides:
        return base
    try:
        return with_values(base, dict(request.overrides))
    except ValidationError as error:  # named as the request names it: a key of ``overrides``
        raise ValidationError(error.reason, field=f"overrides.{error.field}" if error.field else "overrides") from None


def _checked(request: BacktestRequest) -> BacktestRequest:
    symbols = tuple(dict.fromkeys(symbol.strip() for symbol in request.symbols if symbol.strip()))
    if not 1 <= len(symbols) <= MAX_SYMBOLS:
        raise ValidationError(f"1 to {MAX_SYMBOLS} symbols", field="symbols")
    if request.start >= request.end:
        raise ValidationError("the window is empty: start must be before end", field="start")
    BacktestConfig(capital=request.capital, scan_every=request.scan_every)  # its own checks name the field
    return replace(request, symbols=symbols)


def _thinned(length: int, points: int) -> np.ndarray[Any, np.dtype[np.intp]]:
    """At most ``points`` evenly spaced indices of ``length``, the first and the last always among them."""
    if length <= points:
        return np.arange(length)
    step = -(-(length - 1) // max(points - 1, 1))
    picked = np.arange(0, length, step)
    return picked if picked[-1] == length - 1 else np.append(picked, length - 1)


def _joined(parts: list[CandleArrays]) -> CandleArrays:
    if len(parts) == 1:
        return parts[0]
    if not parts:
        empty = np.empty(0, dtype=np.float64)
        return CandleArrays(np.empty(0, dtype=np.int64), empty, empty, empty, empty, empty)
    columns = ("timestamp", "open", "high", "low", "close", "volume")
    return CandleArrays(*(np.concatenate([getattr(part, name) for part in parts]) for name in columns))


def _ended(run: BacktestRun) -> bool:
    return run.status in (RunStatus.DONE, RunStatus.FAILED)


def _most_traded(result: BacktestResult) -> str:
    counts = dict.fromkeys(result.symbols, 0)
    for trade in result.trades:
        counts[trade.symbol] += 1
    return min(counts, key=lambda symbol: (-counts[symbol], symbol))


# ---------------------------------------------------------------------------------- in the worker process

_worker_queue: Any = None


def _worker_init(progress: Any) -> None:
    global _worker_queue  # noqa: PLW0603 - one queue per worker process, set once as it starts
    _worker_queue = progress
    # A SIGTERM to the whole process group (systemd, docker stop, kill -- -pgid) reaches the workers too. Killed
    # outright, an idle worker dies holding the pool's task-queue lock, and the pool's terminate() then waits for
    # that lock for ever; exiting through SystemExit unwinds the worker and releases it.
    signal.signal(signal.SIGTERM, _exit_on_term)


def _exit_on_term(_signum: int, _frame: object) -> None:
    sys.exit(0)


def _work(
    run_id: str, universe: Mapping[str, CandleArrays], settings: StrategySettings, config: BacktestConfig
) -> BacktestResult:
    last = [-1]
    if _worker_queue is not None:  # the run has left the queue: it is running now
        with contextlib.suppress(queue.Full, ValueError, OSError):
            _worker_queue.put_nowait((run_id, 0, 0))

    def progress(done: int, total: int) -> None:
        percent = done * 100 // total if total else 0
        if percent != last[0] and _worker_queue is not None:
            last[0] = percent
            with contextlib.suppress(queue.Full, ValueError, OSError):
                _worker_queue.put_nowait((run_id, done, total))

    return run_backtest(universe, settings, config, progress=progress)
