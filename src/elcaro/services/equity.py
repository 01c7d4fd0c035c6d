"""Equity history: snapshots of every trader's accounts recorded on a schedule, and the curve drawn from them.

**Recording** (:meth:`EquityService.record`, every ``equity_snapshot_interval_s`` by :mod:`elcaro.services.jobs`):
each approved, unbanned user with an enabled target has the balance of every enabled target read — through
the trading desk's own balance reading, so the figures are the ones the balances screen shows — and stored
as one snapshot per (user, target, interval). The interval a snapshot belongs to is part of its key, so a
restart, a retry or a second process inside one interval adds nothing. A target that cannot be read (no
keys, a refused key, a venue down) is skipped with a log line; so is a user whose reading fails outright.
Nothing stops the run for the others.

**Thinning** (:meth:`EquityService.thin`, daily): snapshots older than :data:`KEEP_ALL_MS` (7 days) keep
only the last of each target per hour, those older than :data:`KEEP_HOURLY_MS` (90 days) the last per UTC
day. A year of history is then some 2,000 rows per target, at 15 minutes the last week in full.

**Reading** (:meth:`EquityService.curve`): at most :data:`MAX_POINTS` points per curve, whatever the
period: the database keeps only the last snapshot of each target per step, and the targets are added up
exactly here (see :mod:`elcaro.trading.equity_curve` for how targets with different times are summed).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from elcaro.core.clock import now_ms
from elcaro.models.equity import EquityPeriod, EquityPoint, EquitySnapshot
from elcaro.models.target import Target
from elcaro.models.timeframe import DAY_MS, HOUR_MS, MINUTE_MS
from elcaro.storage import Database
from elcaro.trading.equity_curve import equity_points

if TYPE_CHECKING:  # the desk reads the curve from here: importing its views at run time would be a cycle
    from elcaro.services.desk.views import TargetBalance

log = logging.getLogger(__name__)

DEFAULT_INTERVAL_MS = 15 * MINUTE_MS
MAX_POINTS = 500
"""The most points a curve has: plenty for a chart a few hundred pixels wide."""
CARRY_MIN_MS = 6 * HOUR_MS
"""A target missing from a step counts at its last value for at least this long (see ``equity_points``)."""
CARRY_STEPS = 3
KEEP_ALL_MS = 7 * DAY_MS
KEEP_HOURLY_MS = 90 * DAY_MS
USERS_PER_BATCH = 200
READS_AT_ONCE = 8
"""Users whose balances are read concurrently: enough to finish thousands of accounts well within an interval,
few enough not to hammer a venue's rate limits."""

BalanceReader = Callable[[int], Awaitable[Sequence["TargetBalance"]]]
"""The balances of a user's enabled targets (``TradingDesk.balances``)."""


@dataclass(frozen=True, slots=True)
class EquityCurve:
    user_id: int
    period: EquityPeriod
    target: Target | None
    """The target asked for; None: every target added up."""
    since: int | None
    """Where the curve starts (epoch ms): the period's start or the first snapshot, whichever is later."""
    until: int
    step_ms: int
    interval_ms: int
    """How often snapshots are recorded: the first point of a new account appears within one interval."""
    asset: str | None
    """The asset of every snapshot in the curve; None when there are none, or the targets' assets differ."""
    points: tuple[EquityPoint, ...]


@dataclass(frozen=True, slots=True)
class EquityRecording:
    """One run of the recording job."""

    at: int
    users: int
    recorded: int
    """Snapshots stored (not counting those already stored for this interval)."""
    skipped: int
    """Targets or users that could not be read."""


class EquityService:
    def __init__(
        self,
        database: Database,
        *,
        interval_ms: int = DEFAULT_INTERVAL_MS,
        clock: Callable[[], int] = now_ms,
        max_points: int = MAX_POINTS,
    ) -> None:
        if interval_ms < MINUTE_MS:
            raise ValueError("equity snapshots are at most one a minute")
        if max_points < 2:
            raise ValueError("a curve needs room for two points")
        self._db = database
        self._clock = clock
        self._max_points = max_points
        self.interval_ms = interval_ms

    # --- reading ---------------------------------------------------------------------------------

    async def curve(self, user_id: int, period: EquityPeriod, *, target: Target | None = None) -> EquityCurve:
        """The user's equity over ``period``, on ``target`` or on every target added up."""
        until = self._clock()
        span = period.span_ms
        async with self._db.reading() as tx:
            first = await tx.equity.first_at(user_id, target)
            if first is None or first > until:
                return EquityCurve(user_id, period, target, None, until, self.interval_ms, self.interval_ms, None, ())
            since = first if span is None else max(first, until - span)
            step = _step(until - since, self._max_points)
            carry = max(CARRY_STEPS * step, CARRY_MIN_MS)
            # One step before the window too: a target missing from the first step carries its value in.
            origin = since - step
            snapshots = await tx.equity.sampled(user_id, origin=origin, until=until, step=step, target=target)
        points = equity_points(snapshots, origin=origin, step=step, first_step=1, carry_ms=carry)
        assets = {snapshot.asset for snapshot in snapshots}
        asset = next(iter(assets)) if len(assets) == 1 else None
        return EquityCurve(user_id, period, target, since, until, step, self.interval_ms, asset, tuple(points))

    # --- recording -------------------------------------------------------------------------------

    async def record(self, read: BalanceReader) -> EquityRecording:
        """Snapshot every recordable user's enabled targets for the current interval (see the module docstring)."""
        now = self._clock()
        at = now - now % self.interval_ms
        gate = asyncio.Semaphore(READS_AT_ONCE)
        users = recorded = skipped = 0
        after = 0
        while True:
            async with self._db.reading() as tx:
                batch = await tx.equity.recordable_users(after=after, limit=USERS_PER_BATCH)
            if not batch:
                break
            after = batch[-1]
            users += len(batch)
            read_all = await asyncio.gather(*(self._read(read, gate, user_id, at) for user_id in batch))
            snapshots = [snapshot for found, _ in read_all for snapshot in found]
            skipped += sum(missed for _, missed in read_all)
            async with self._db.transaction() as tx:
                for snapshot in snapshots:
                    recorded += await tx.equity.add(snapshot)
        return EquityRecording(at=at, users=users, recorded=recorded, skipped=skipped)

    async def _read(
        self, read: BalanceReader, gate: asyncio.Semaphore, user_id: int, at: int
    ) -> tuple[list[EquitySnapshot], int]:
        """The user's snapshots for interval ``at`` and how many targets (or the user as a whole) were missed."""
        async with gate:
            try:
                balances = await read(user_id)
            except Exception:  # one account must never stop the job for the others
                log.warning("equity of user %s not recorded: reading the balances failed", user_id, exc_info=True)
                return [], 1
            taken_at = self._clock()
        found: list[EquitySnapshot] = []
        missed = 0
        for item in balances:
            balance = item.balance
            if balance is None:
                log.info("equity of user %s on %s not recorded: %s", user_id, item.target, item.error)
                missed += 1
                continue
            found.append(
                EquitySnapshot(
                    user_id=user_id,
                    target=item.target,
                    at=at,
                    taken_at=taken_at,
                    asset=balance.asset,
                    equity=balance.equity,
                    wallet=balance.wallet,
                    available=balance.available,
                    unrealized_pnl=balance.unrealized_pnl,
                )
            )
        return found, missed

    # --- thinning --------------------------------------------------------------------------------

    async def thin(self) -> int:
        """Thin old snapshots (see the module docstring); how many were deleted."""
        now = self._clock()
        hourly_before = (now - KEEP_ALL_MS) // HOUR_MS * HOUR_MS
        daily_before = (now - KEEP_HOURLY_MS) // DAY_MS * DAY_MS
        async with self._db.transaction() as tx:
            deleted = await tx.equity.thin(before=hourly_before, every=HOUR_MS)
            deleted += await tx.equity.thin(before=daily_before, every=DAY_MS)
        return deleted


def _step(span_ms: int, max_points: int) -> int:
    """The step that fits ``span_ms`` into at most ``max_points`` steps, in whole seconds (the chart's resolution)."""
    step = -(-span_ms // (max_points - 1))
    return max(1000, -(-step // 1000) * 1000)
