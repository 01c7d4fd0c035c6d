"""Copy trading: one stored signal in, the right orders for every subscribed user out.

Every (user, target) runs in a task of its own with its own error handling, under one bound on how many run at
once: a slow or failing account holds one slot, never the others. Each account keeps within its own rate limit
because its requests go through its own client of the exchange pool. The pairs of one signal run in one task
group, so cancelling a fan-out (shutdown) stops them all; whatever was mid-placement is ``placing`` in storage
and :meth:`CopyTradingService.resume` carries it on at the next start.

A fan-out that settles every pair marks its signal fanned out. At the next start, an accepted signal without
that mark — stored, then the process stopped before or during its fan-out — is fanned out again (pairs already
recorded are carried on or left as they are, the others served) while it is younger than ``signal_max_age_ms``;
older, the subscribers not yet served are skipped with ``signal_expired`` and told, and a signal nobody was
served from is marked ``expired`` for admins.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from typing import Any, TypeVar

from elcaro.core.clock import now_ms, to_datetime
from elcaro.core.events import EventBus
from elcaro.models import Signal, Target
from elcaro.models.errors import ConfigError, ValidationError
from elcaro.models.events import TradingEvent
from elcaro.services.copy_trading.cancel import Handover
from elcaro.services.copy_trading.context import Context, LicenceSource, Pair, PositionManager, conclude
from elcaro.services.copy_trading.execute import PairExecutor
from elcaro.services.copy_trading.notices import Notices
from elcaro.services.copy_trading.outcome import CopyCode, FanOutReport, PairOutcome
from elcaro.services.copy_trading.placement import Placement
from elcaro.services.copy_trading.resume import Halt, Resumer
from elcaro.services.copy_trading.subscribers import Subscriber, select_audience
from elcaro.services.exchange_access import ExchangeAccess
from elcaro.storage import Database, ExecutionRecord, ExecutionStatus, SignalRecord, SignalStatus
from elcaro.trading import ALLOW_ALL, LicencePolicy

log = logging.getLogger(__name__)

T = TypeVar("T")

DEFAULT_CONCURRENCY = 200
"""Pairs served at once. Enough to keep every venue's round trips overlapping; more would only let all pairs
advance in step and finish together, later on average, once the process is busy (see benchmarks/fan_out.py)."""
DEFAULT_SIGNAL_MAX_AGE_MS = 10 * 60_000
"""How old a signal may be and still be fanned out after a restart. A restart takes seconds; ten minutes covers a
slow one, while the fast formats (scalper, OI squeeze) have lost the price they were posted at well before an hour
has passed. A signal fanned out late is still sized at the current price and refused past its stop or target."""
RESUME_WINDOW_MS = 7 * 24 * 3_600_000
"""How far back a start looks for signals whose fan-out or cancel the last run did not finish: the reach of a
cancel post (``signal_ingest.DEFAULT_CANCEL_WINDOW_MS``)."""
CANCELLED = Halt(CopyCode.SIGNAL_CANCELLED, "the signal was cancelled before the entry reached the exchange")


class CopyTradingService:
    def __init__(
        self,
        database: Database,
        access: ExchangeAccess,
        events: EventBus[TradingEvent],
        licence: LicencePolicy | LicenceSource = ALLOW_ALL,
        *,
        clock: Callable[[], int] = now_ms,
        max_concurrent: int = DEFAULT_CONCURRENCY,
        positions: PositionManager | None = None,
        signal_max_age_ms: int = DEFAULT_SIGNAL_MAX_AGE_MS,
    ) -> None:
        """``positions`` is the position monitor: every position placed is handed to it at once, and a cancel's
        withdrawal is its to make. The platform always runs one; without it (a fan-out benchmark) positions are
        placed and stored but nobody manages them, and :meth:`cancel` is refused. ``signal_max_age_ms``: how old
        a signal whose fan-out a stop interrupted may be and still be fanned out at the next start."""
        if max_concurrent < 1:
            raise ValidationError(f"max_concurrent is at least 1, got {max_concurrent}", field="max_concurrent")
        if signal_max_age_ms < 0:
            raise ValidationError(f"signal_max_age_ms cannot be negative, got {signal_max_age_ms}", field="max_age")
        self._max_age_ms = signal_max_age_ms
        self._ctx = Context(database, access, Notices(events, clock), licence, clock, positions)
        self._cancelled: set[int] = set()
        placement = Placement(self._ctx)
        self._executor = PairExecutor(self._ctx, placement, self._cancelled.__contains__)
        self._resumer = Resumer(self._ctx, placement)
        self._slots = asyncio.Semaphore(max_concurrent)
        self._fanning_out: dict[int, list[asyncio.Event]] = {}

    async def fan_out(self, signal: Signal) -> FanOutReport:
        """Execute a stored signal for every subscriber on every enabled target; returns when all are settled.

        A pair recorded before (an earlier fan-out of this signal) is not placed again: a finished one is
        reported as it stands, an unfinished one is carried on from its stored plan.
        """
        return await self._fan_out(signal)

    async def _fan_out(self, signal: Signal, *, expired: str | None = None) -> FanOutReport:
        """``expired``: the signal is too old to trade; subscribers not yet served are skipped with this reason."""
        if signal.id is None:
            raise ValidationError("only a stored signal can be fanned out: its id names the orders", field="signal")
        signal_id = signal.id
        done = asyncio.Event()
        self._fanning_out.setdefault(signal_id, []).append(done)
        try:
            async with self._ctx.transaction() as tx:
                record = await tx.signals.get_record(signal_id)
                if record is not None and record.status in (SignalStatus.CANCELLED, SignalStatus.EXPIRED):
                    return FanOutReport(signal_id, ())
                audience = await select_audience(tx, signal)
                recorded = {(r.user_id, r.target): r for r in await tx.executions.for_signal(signal_id)}
            async with asyncio.TaskGroup() as group:
                tasks = [
                    group.create_task(self._serve(signal, subscriber, audience.global_paused, recorded, expired))
                    for subscriber in audience.subscribers
                ]
            report = FanOutReport(signal_id, tuple(task.result() for task in tasks))
            async with self._ctx.transaction() as tx:  # every pair settled: a restart need not look at it again
                await tx.signals.mark_fanned_out(signal_id, self._ctx.clock())
        finally:
            done.set()
            self._fanning_out[signal_id].remove(done)
            if not self._fanning_out[signal_id]:
                del self._fanning_out[signal_id]
        log.info(
            "signal %s fanned out to %s pairs: %s placed, %s filled, %s skipped, %s failed",
            signal_id,
            len(report.outcomes),
            report.count(ExecutionStatus.PLACED),
            report.count(ExecutionStatus.FILLED),
            report.count(ExecutionStatus.SKIPPED),
            report.count(ExecutionStatus.FAILED),
        )
        return report

    async def cancel(self, signal_id: int) -> int:
        """Withdraw the resting entries of a cancelled signal for every user; returns how many positions had any.

        Call it once the signal is stored as cancelled. Pairs of a fan-out still under way skip the signal if they
        have not claimed it yet and are waited for if they have; interrupted work is carried on first without
        sending anything new, so that whatever reached the venue is tracked and then withdrawn like the rest.
        Filled quantity stays managed. Calling it again for the same signal withdraws and tells nothing twice.
        """
        positions = self._ctx.positions
        if positions is None:
            raise ConfigError("cancelling a signal needs the position monitor: it makes every withdrawal")
        self._cancelled.add(signal_id)
        try:
            running = [event.wait() for event in self._fanning_out.get(signal_id, ())]
            if running:
                await asyncio.gather(*running)
            async with self._ctx.transaction() as tx:
                records = await tx.executions.for_signal(signal_id)
            await self._bounded(self._carry_on(r, halt=CANCELLED) for r in records if r.status.is_unfinished)
            async with self._ctx.transaction() as tx:
                records = await tx.executions.for_signal(signal_id)
            placed = [r for r in records if r.status in (ExecutionStatus.PLACED, ExecutionStatus.FILLED)]
            changed = await Handover(self._ctx, positions).withdraw(signal_id, placed)
        finally:
            self._cancelled.discard(signal_id)
        log.info("signal %s cancelled: entries withdrawn for %s positions", signal_id, changed)
        return changed

    async def resume(self) -> int:
        """At start, finish what the last run left half done, before any new signal is taken:

        1. every execution it left unfinished is carried on from its stored plan (for a signal cancelled
           meanwhile or too old to trade by now, only what reached the venue is kept);
        2. every accepted signal whose fan-out never finished is fanned out, or, too old to trade, expired;
        3. every cancel stored but not carried out is carried out;
        4. stored open orders are caught up with the venues.

        Returns how many executions were carried on in step 1.
        """
        now = self._ctx.clock()
        async with self._ctx.transaction() as tx:
            unfinished = await tx.executions.unfinished()
            signals = {r.signal_id: await tx.signals.get_record(r.signal_id) for r in unfinished}
        halts = {signal_id: self._halt(stored, now) for signal_id, stored in signals.items()}
        outcomes = await self._bounded(self._carry_on(r, halt=halts[r.signal_id]) for r in unfinished)
        carried = sum(1 for outcome in outcomes if outcome is not None)
        fanned, expired = await self._resume_fan_outs()
        cancels = await self._resume_cancels()
        updated = await self._resumer.reconcile_orders(self._slots)
        log.info(
            "resumed %s interrupted executions, %s interrupted fan-outs (%s of them expired) and %s cancels; "
            "%s stored orders caught up with the venues",
            carried,
            fanned + expired,
            expired,
            cancels,
            updated,
        )
        return carried

    async def _resume_fan_outs(self) -> tuple[int, int]:
        """Fan out, oldest first, the accepted signals whose fan-out never finished; returns (fanned out, expired)."""
        now = self._ctx.clock()
        async with self._ctx.transaction() as tx:
            pending = await tx.signals.unfinished_fan_outs(since=now - RESUME_WINDOW_MS)
        fanned = expired = 0
        for record in pending:
            signal = record.signal
            if signal is None:
                continue
            reason = self._too_old(record.received_at, now)
            if reason is None:
                if await _guarded(self._fan_out(signal), None) is not None:
                    fanned += 1
                continue
            report = await _guarded(self._fan_out(signal, expired=reason), None)
            if report is None:
                continue  # left for the next start
            skipped = report.count_code(CopyCode.SIGNAL_EXPIRED)
            served = len(report.outcomes) - skipped
            if not served:
                async with self._ctx.transaction() as tx:
                    await tx.signals.set_status(record.id, SignalStatus.EXPIRED, reason)
            age = str((now - record.received_at) // 60_000)
            data = {"age_minutes": age, "served": str(served), "skipped": str(skipped)}
            self._ctx.notices.signal_expired(record.id, signal.symbol, reason, data)
            expired += 1
        return fanned, expired

    def _too_old(self, received_at: int, now: int) -> str | None:
        """Why a signal received at ``received_at`` is too old to trade at a start at ``now``; None while it is not."""
        age = now - received_at
        if age <= self._max_age_ms:
            return None
        received = to_datetime(received_at).strftime("%Y-%m-%d %H:%M:%S UTC")
        return (
            f"the signal of {received} was not copied before the platform stopped, and at the restart it was "
            f"{age // 60_000} minutes old, past the {self._max_age_ms // 60_000} minutes a signal may wait"
        )

    def _halt(self, signal: SignalRecord | None, now: int) -> Halt | None:
        """Whether interrupted work for ``signal`` may send new orders at a start at ``now`` (None: it may)."""
        if signal is None:
            return None
        if signal.status is SignalStatus.CANCELLED:
            return CANCELLED
        too_old = self._too_old(signal.received_at, now)
        return None if too_old is None else Halt(CopyCode.SIGNAL_EXPIRED, too_old)

    async def _resume_cancels(self) -> int:
        """Carry out the cancels the last run stored but did not finish; returns how many signals."""
        now = self._ctx.clock()
        async with self._ctx.transaction() as tx:
            signal_ids = await tx.executions.awaiting_cancel(
                since=now - RESUME_WINDOW_MS, noted_code=CopyCode.SIGNAL_CANCELLED
            )
        if signal_ids and self._ctx.positions is None:
            log.error("the cancels of signals %s wait for a start with the position monitor", signal_ids)
            return 0
        done = [await _guarded(self.cancel(signal_id), None) for signal_id in signal_ids]
        return sum(1 for count in done if count is not None)

    async def _serve(
        self,
        signal: Signal,
        subscriber: Subscriber,
        global_paused: bool,
        recorded: dict[tuple[int, Target], ExecutionRecord],
        expired: str | None,
    ) -> PairOutcome:
        user_id, target = subscriber.user.id, subscriber.target.target
        earlier = recorded.get((user_id, target))
        if earlier is not None:
            halt = CANCELLED if earlier.signal_id in self._cancelled else None
            if expired is not None:
                halt = halt or Halt(CopyCode.SIGNAL_EXPIRED, expired)
            carried = await self._carry_on(earlier, halt=halt) if earlier.status.is_unfinished else None
            return carried or PairOutcome.of(earlier)
        if expired is not None:
            assert signal.id is not None  # checked by fan_out
            pair = Pair(signal.id, user_id, target, signal.symbol)
            return await conclude(self._ctx, pair, ExecutionStatus.SKIPPED, CopyCode.SIGNAL_EXPIRED, expired)
        async with self._slots:
            try:
                return await self._executor.run(signal, subscriber, global_paused)
            except Exception as error:
                log.exception("copying signal %s for user %s on %s failed", signal.id, user_id, target)
                assert signal.id is not None  # checked by fan_out
                pair = Pair(signal.id, user_id, target, signal.symbol)
                reason = f"an internal error stopped the entry ({type(error).__name__})"
                return await _guarded(
                    conclude(self._ctx, pair, ExecutionStatus.FAILED, CopyCode.INTERNAL_ERROR, reason),
                    PairOutcome(user_id, target, ExecutionStatus.FAILED, CopyCode.INTERNAL_ERROR, reason),
                )

    async def _carry_on(self, record: ExecutionRecord, *, halt: Halt | None = None) -> PairOutcome | None:
        """None when this process is carrying it on already."""
        working = self._ctx.working
        if record.id in working:
            return None
        working.add(record.id)
        try:
            async with self._slots:
                return await _guarded(self._resumer.carry_on(record, halt=halt), None)
        finally:
            working.discard(record.id)

    @staticmethod
    async def _bounded(work: Iterable[Coroutine[Any, Any, T]]) -> list[T]:
        """Run concurrently (each takes a slot itself) and wait for all."""
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(item) for item in work]
        return [task.result() for task in tasks]


async def _guarded(work: Awaitable[T], fallback: T) -> T:
    """One pair's unexpected error is logged and ends that pair only, never the fan-out around it."""
    try:
        return await work
    except Exception:
        log.exception("copy trading: an execution could not be completed")
        return fallback
