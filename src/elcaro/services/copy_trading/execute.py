"""One subscriber on one target: gates, sizing, the claim of the execution record, then the placement.

The record is claimed only once there is a plan to store with it, so a record that exists either holds its
plan or was concluded (skipped, failed) in the same transaction that made it: a restart never meets one it
cannot carry on. Everything a venue can refuse before the claim ends as a concluded record with the reason.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from decimal import Decimal
from weakref import WeakValueDictionary

from elcaro.core.codec import encode
from elcaro.exchanges.client import ExchangeClient
from elcaro.models import Balance, Instrument, Signal, Target
from elcaro.models.errors import ExchangeError, NotFoundError
from elcaro.services.copy_trading.context import Context, Pair, conclude
from elcaro.services.copy_trading.outcome import CopyCode, PairOutcome
from elcaro.services.copy_trading.placement import Placement
from elcaro.services.copy_trading.snapshot import read_facts
from elcaro.services.copy_trading.subscribers import Subscriber
from elcaro.storage import ExecutionStatus
from elcaro.trading import GateCode, Refusal, TradingSettings, build_plan, check_gates

_SymbolKey = tuple[int, Target, str]


class SymbolLocks:
    """One entry at a time per (user, target, symbol) in this process.

    The in-position and open-orders gates read storage, and a pair's orders reach storage only once they are
    placed; two signals for the same symbol fanned out at once would otherwise both pass for the same user.
    """

    def __init__(self) -> None:
        self._locks: WeakValueDictionary[_SymbolKey, asyncio.Lock] = WeakValueDictionary()

    @asynccontextmanager
    async def hold(self, key: _SymbolKey) -> AsyncIterator[None]:
        lock = self._locks.get(key)
        if lock is None:
            lock = self._locks[key] = asyncio.Lock()
        async with lock:
            yield


class PairExecutor:
    def __init__(self, ctx: Context, placement: Placement, cancelled: Callable[[int], bool]) -> None:
        self._ctx = ctx
        self._placement = placement
        self._cancelled = cancelled
        self._locks = SymbolLocks()

    async def run(self, signal: Signal, subscriber: Subscriber, global_paused: bool) -> PairOutcome:
        assert signal.id is not None  # fan_out refuses signals that were not stored
        pair = Pair(signal.id, subscriber.user.id, subscriber.target.target, signal.symbol)
        async with self._locks.hold((pair.user_id, pair.target, pair.symbol)):
            try:
                return await self._run(pair, signal, subscriber, global_paused)
            except ExchangeError as error:
                return await conclude(self._ctx, pair, ExecutionStatus.FAILED, type(error).__name__, str(error))

    async def _run(self, pair: Pair, signal: Signal, subscriber: Subscriber, global_paused: bool) -> PairOutcome:
        ctx, settings = self._ctx, subscriber.settings
        if settings is None:
            reason = f"your settings cannot be used: {subscriber.settings_error}"
            return await conclude(ctx, pair, ExecutionStatus.SKIPPED, CopyCode.INVALID_SETTINGS, reason)
        account = await self._admit(pair, signal, subscriber, settings, global_paused)
        if isinstance(account, _Refused):
            return await conclude(ctx, pair, ExecutionStatus.SKIPPED, account.code, account.reason)
        plan = build_plan(
            signal,
            settings,
            account.instrument,
            target=pair.target,
            user_id=pair.user_id,
            equity=account.balance.equity,
            free_margin=account.balance.available,
            price=account.price,
        )
        if isinstance(plan, Refusal):
            return await conclude(ctx, pair, ExecutionStatus.SKIPPED, plan.code, plan.reason)
        if self._cancelled(pair.signal_id):
            reason = "the signal was cancelled before the entry was placed"
            return await conclude(ctx, pair, ExecutionStatus.SKIPPED, CopyCode.SIGNAL_CANCELLED, reason)
        now = ctx.clock()
        async with ctx.transaction() as tx:
            record, created = await tx.executions.claim(
                pair.signal_id, pair.user_id, pair.target, plan=encode(plan), now=now
            )
            if created:
                # Nothing is sent between the two, so one transaction: the record is "placing" once it can matter.
                record = await tx.executions.set_status(record.id, ExecutionStatus.PLACING, now=now)
        if not created:  # a concurrent or earlier fan-out of this signal has it
            return PairOutcome.of(record)
        ctx.working.add(record.id)
        try:
            return await self._placement.carry_out(record.id, plan, account.instrument, account.client)
        finally:
            ctx.working.discard(record.id)

    async def _admit(
        self, pair: Pair, signal: Signal, subscriber: Subscriber, settings: TradingSettings, global_paused: bool
    ) -> _Account | _Refused:
        """The account to trade on and what it holds, or why the user is refused: a gate, or a venue without the
        instrument."""
        ctx = self._ctx
        async with ctx.transaction() as tx:
            facts = await read_facts(
                tx,
                user_id=pair.user_id,
                target=pair.target,
                symbol=pair.symbol,
                settings=settings,
                now=ctx.clock(),
                global_paused=global_paused,
                user_paused=subscriber.paused,
                user_may_trade=subscriber.user.may_trade,
                live_opted_in=subscriber.target.live_opt_in_at is not None,
            )
            licence = await ctx.licence_policy(tx, pair.user_id, facts.now)

        def gates(*, has_credentials: bool, wallet: Decimal | None = None) -> _Refused | None:
            snapshot = facts.snapshot(has_credentials=has_credentials, wallet=wallet)
            blocked = check_gates(signal, settings, pair.target, pair.user_id, snapshot, licence)
            return None if blocked is None else _Refused(blocked.code, blocked.message)

        refused = gates(has_credentials=True)
        if refused is not None:
            return refused
        try:
            client = await ctx.access.client(pair.user_id, pair.target)
        except NotFoundError as missing:
            return gates(has_credentials=False) or _Refused(GateCode.NO_CREDENTIALS, str(missing))
        try:
            instrument = await client.instrument(signal.symbol)
        except NotFoundError as unknown:
            return _Refused(CopyCode.UNKNOWN_SYMBOL, str(unknown))
        # One round trip for both: the price is wasted only on the rare user the daily loss limit stops.
        balance, ticker = await asyncio.gather(client.fetch_balance(), client.fetch_ticker(signal.symbol))
        return gates(has_credentials=True, wallet=balance.wallet) or _Account(client, instrument, balance, ticker.last)


@dataclass(frozen=True, slots=True)
class _Refused:
    code: str
    reason: str


@dataclass(frozen=True, slots=True)
class _Account:
    client: ExchangeClient
    instrument: Instrument
    balance: Balance
    price: Decimal
