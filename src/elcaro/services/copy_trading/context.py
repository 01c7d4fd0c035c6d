"""What every part of copy trading reaches the world through, and the record a pair gets when it ends early."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Collection
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from elcaro.models import Target
from elcaro.services.copy_trading.notices import Notices
from elcaro.services.copy_trading.outcome import PairOutcome
from elcaro.services.exchange_access import ExchangeAccess
from elcaro.storage import Database, ExecutionStatus, UnitOfWork
from elcaro.trading import LicencePolicy

#: Copy trading's transactions at once on PostgreSQL: fewer than the engine's pool, so other use cases get one too.
POSTGRES_TRANSACTIONS = 8


class PositionManager(Protocol):
    """The position monitor (``services.positions.PositionMonitor``), as copy trading hands positions over to it."""

    async def track(self, position_id: int) -> None:
        """Start managing a position just stored, looking up its first fills at once."""
        ...

    async def cancel_signal(self, signal_id: int) -> int:
        """Withdraw the entries of the signal's positions that have not filled; returns how many positions."""
        ...


@runtime_checkable
class LicenceSource(Protocol):
    """Where the licence policy comes from when it is stored (``services.licences.LicenceService``)."""

    async def book(self, tx: UnitOfWork, user_ids: Collection[int], now: int) -> LicencePolicy:
        """The policy for ``user_ids`` as their licences stand at ``now``, read in ``tx``."""
        ...


class Context:
    """The database, the venues, the event stream, the licence policy, the clock and the position manager."""

    def __init__(
        self,
        database: Database,
        access: ExchangeAccess,
        notices: Notices,
        licence: LicencePolicy | LicenceSource,
        clock: Callable[[], int],
        positions: PositionManager | None,
    ) -> None:
        self.database = database
        self.access = access
        self.notices = notices
        self.licence = licence
        self.clock = clock
        self.positions = positions
        self.working: set[int] = set()
        """Executions whose orders this process is placing now: a second carry-on of one would repeat the work and
        record its position twice. One process runs copy trading for a database, so this is the whole of it."""
        # SQLite runs one writer at a time, and every transaction starts as a writer (BEGIN IMMEDIATE): hundreds of
        # pairs asking at once would wait in the driver's busy loop, each holding a pooled connection, and time
        # out behind a transaction that the busy event loop lets finish only slowly. Queued here instead, in
        # order, each starts when the last is done.
        self._transactions = asyncio.Semaphore(1 if database.dialect == "sqlite" else POSTGRES_TRANSACTIONS)

    async def licence_policy(self, tx: UnitOfWork, user_id: int, now: int) -> LicencePolicy:
        """The policy the gates ask about ``user_id``: read from storage in ``tx`` when licences are stored."""
        if isinstance(self.licence, LicenceSource):
            return await self.licence.book(tx, (user_id,), now)
        return self.licence

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[UnitOfWork]:
        async with self._transactions, self.database.transaction() as tx:
            yield tx


@dataclass(frozen=True, slots=True)
class Pair:
    """One (signal, user, target) of a fan-out."""

    signal_id: int
    user_id: int
    target: Target
    symbol: str


async def conclude(ctx: Context, pair: Pair, status: ExecutionStatus, code: str, reason: str) -> PairOutcome:
    """Record a pair that ends before it has a plan: a skip, or a failure before any order was sent.

    Claimed and concluded in one transaction, so a restart never finds it unfinished. When the pair
    was claimed already (a concurrent or earlier fan-out of the same signal), that record stands and
    nothing is announced again.
    """
    now = ctx.clock()
    async with ctx.transaction() as tx:
        record, created = await tx.executions.claim(pair.signal_id, pair.user_id, pair.target, plan={}, now=now)
        if created:
            record = await tx.executions.set_status(record.id, status, reason_code=code, reason=reason, now=now)
    if created:
        announce = ctx.notices.skipped if status is ExecutionStatus.SKIPPED else ctx.notices.failed
        announce(pair.user_id, pair.target, pair.symbol, pair.signal_id, code, reason)
    return PairOutcome.of(record)
