"""Copy trading: one stored signal in, the right orders for every subscribed user out.

Every (user, target) runs in a task of its own with its own error handling, under one bound on how many run at
once: a slow or failing account holds one slot, never the others. Each account keeps within its own rate limit
because its requests go through its own client of the exchange pool. The pairs of one signal run in one task
group, so cancelling a fan-out (shutdown) stops them all; whatever was mid-placement is ``placing`` in storage
and :meth:`CopyTradingService.resume` carries it on at the next start.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from typing import Any, TypeVar

from elcaro.core.clock import now_ms
from elcaro.core.events import EventBus
from elcaro.models import Signal, Target
from elcaro.models.errors import ValidationError
from elcaro.models.events import TradingEvent
from elcaro.services.copy_trading.cancel import Handover, Withdrawal
from elcaro.services.copy_trading.context import Context, Pair, PositionManager, conclude
from elcaro.services.copy_trading.execute import PairExecutor
from elcaro.services.copy_trading.notices import Notices
from elcaro.services.copy_trading.outcome import CopyCode, FanOutReport, PairOutcome
from elcaro.services.copy_trading.placement import Placement
from elcaro.services.copy_trading.resume import Resumer
from elcaro.services.copy_trading.subscribers import Subscriber, select_audience
from elcaro.services.exchange_access import ExchangeAccess
from elcaro.storage import Database, ExecutionRecord, ExecutionStatus, SignalStatus
from elcaro.trading import ALLOW_ALL, LicencePolicy

log = logging.getLogger(__name__)

T = TypeVar("T")

DEFAULT_CONCURRENCY = 200
"""Pairs served at once. Enough to keep every venue's round trips overlapping; more would only let all pairs
advance in step and finish together, later on average, once the process is busy (see benchmarks/fan_out.py)."""


class CopyTradingService:
    def __init__(
        self,
        database: Database,
        access: ExchangeAccess,
        events: EventBus[TradingEvent],
        licence: LicencePolicy = ALLOW_ALL,
        *,
        clock: Callable[[], int] = now_ms,
        max_concurrent: int = DEFAULT_CONCURRENCY,
        positions: PositionManager | None = None,
    ) -> None:
        """``positions`` is the position monitor when it runs: every position placed is handed to it at once, and
        a cancel's withdrawal is its to make."""
        if max_concurrent < 1:
            raise ValidationError(f"max_concurrent is at least 1, got {max_concurrent}", field="max_concurrent")
        self._ctx = Context(database, access, Notices(events, clock), licence, clock, positions)
        self._cancelled: set[int] = set()
        placement = Placement(self._ctx)
        self._executor = PairExecutor(self._ctx, placement, self._cancelled.__contains__)
        self._resumer = Resumer(self._ctx, placement)
        self._withdrawal = Withdrawal(self._ctx)
        self._slots = asyncio.Semaphore(max_concurrent)
        self._fanning_out: dict[int, list[asyncio.Event]] = {}

    async def fan_out(self, signal: Signal) -> FanOutReport:
        """Execute a stored signal for every subscriber on every enabled target; returns when all are settled.

        A pair recorded before (an earlier fan-out of this signal) is not placed again: a finished one is
        reported as it stands, an unfinished one is carried on from its stored plan.
        """
        if signal.id is None:
            raise ValidationError("only a stored signal can be fanned out: its id names the orders", field="signal")
        signal_id = signal.id
        done = asyncio.Event()
        self._fanning_out.setdefault(signal_id, []).append(done)
        try:
            async with self._ctx.transaction() as tx:
                record = await tx.signals.get_record(signal_id)
                if record is not None and record.status is SignalStatus.CANCELLED:
                    return FanOutReport(signal_id, ())
                audience = await select_audience(tx, signal)
                recorded = {(r.user_id, r.target): r for r in await tx.executions.for_signal(signal_id)}
            async with asyncio.TaskGroup() as group:
                tasks = [
                    group.create_task(self._serve(signal, subscriber, audience.global_paused, recorded))
                    for subscriber in audience.subscribers
                ]
            report = FanOutReport(signal_id, tuple(task.result() for task in tasks))
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
        """Withdraw the resting entries of a cancelled signal for every user; returns how many positions changed.

        Call it once the signal is stored as cancelled. Pairs of a fan-out still under way skip the signal if they
        have not claimed it yet and are waited for if they have; interrupted work is carried on first, so that
        whatever reached the venue is tracked and then withdrawn like the rest. Filled quantity stays managed.
        """
        self._cancelled.add(signal_id)
        try:
            running = [event.wait() for event in self._fanning_out.get(signal_id, ())]
            if running:
                await asyncio.gather(*running)
            async with self._ctx.transaction() as tx:
                records = await tx.executions.for_signal(signal_id)
            await self._bounded(self._carry_on(r) for r in records if r.status.is_unfinished)
            async with self._ctx.transaction() as tx:
                records = await tx.executions.for_signal(signal_id)
            placed = [r for r in records if r.status in (ExecutionStatus.PLACED, ExecutionStatus.FILLED)]
            if self._ctx.positions is not None:
                changed = await Handover(self._ctx, self._ctx.positions).withdraw(signal_id, placed)
            else:
                withdrawn = await self._bounded(self._withdraw(record) for record in placed)
                changed = sum(1 for outcome in withdrawn if outcome is not None)
        finally:
            self._cancelled.discard(signal_id)
        log.info("signal %s cancelled: entries withdrawn for %s positions", signal_id, changed)
        return changed

    async def resume(self) -> int:
        """At start: carry on every execution a crash left unfinished, then catch stored orders up with the venues.

        Returns how many executions were carried on. Run it before new signals are fanned out.
        """
        async with self._ctx.transaction() as tx:
            unfinished = await tx.executions.unfinished()
        outcomes = await self._bounded(self._carry_on(record) for record in unfinished)
        carried = sum(1 for outcome in outcomes if outcome is not None)
        updated = await self._resumer.reconcile_orders(self._slots)
        log.info("resumed %s interrupted executions; %s stored orders caught up with the venues", carried, updated)
        return carried

    async def _serve(
        self,
        signal: Signal,
        subscriber: Subscriber,
        global_paused: bool,
        recorded: dict[tuple[int, Target], ExecutionRecord],
    ) -> PairOutcome:
        user_id, target = subscriber.user.id, subscriber.target.target
        earlier = recorded.get((user_id, target))
        if earlier is not None:
            carried = await self._carry_on(earlier) if earlier.status.is_unfinished else None
            return carried or PairOutcome.of(earlier)
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

    async def _carry_on(self, record: ExecutionRecord) -> PairOutcome | None:
        """None when this process is carrying it on already."""
        working = self._ctx.working
        if record.id in working:
            return None
        working.add(record.id)
        try:
            async with self._slots:
                return await _guarded(self._resumer.carry_on(record), None)
        finally:
            working.discard(record.id)

    async def _withdraw(self, record: ExecutionRecord) -> PairOutcome | None:
        async with self._slots:
            return await _guarded(self._withdrawal.withdraw(record), None)

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
