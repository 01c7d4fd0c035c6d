"""Equity snapshots: each user's account per target, once per recording interval, and the curve read from them.

Reads never ship the whole history: :meth:`EquityRepository.sampled` keeps, in SQL, only the last snapshot of
each target in each step of the window, so a year of 5-minute snapshots is still a few hundred rows.
Money columns are text on SQLite, so nothing is added up here: the service sums in Python.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, delete, exists, func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from elcaro.models.enums import ApprovalState
from elcaro.models.equity import EquitySnapshot
from elcaro.models.target import Target
from elcaro.storage.orm import EquitySnapshotRow, UserRow, UserTargetRow
from elcaro.storage.upsert import insert_if_absent

_KEY = ("user_id", "exchange", "environment", "at")


class EquityRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, snapshot: EquitySnapshot) -> bool:
        """Store the snapshot unless its (user, target, interval) has one already; whether it was stored."""
        values = {
            "user_id": snapshot.user_id,
            "exchange": snapshot.target.exchange,
            "environment": snapshot.target.environment,
            "at": snapshot.at,
            "taken_at": snapshot.taken_at,
            "asset": snapshot.asset,
            "equity": snapshot.equity,
            "wallet": snapshot.wallet,
            "available": snapshot.available,
            "unrealized_pnl": snapshot.unrealized_pnl,
        }
        result = await self._session.execute(insert_if_absent(self._session, EquitySnapshotRow, values, key=_KEY))
        return bool(getattr(result, "rowcount", 0))

    async def recordable_users(self, *, after: int = 0, limit: int = 500) -> list[int]:
        """Ids above ``after``, ascending, of approved users not banned with at least one enabled target."""
        enabled = exists().where(UserTargetRow.user_id == UserRow.id, UserTargetRow.enabled.is_(True))
        query = (
            select(UserRow.id)
            .where(UserRow.id > after, UserRow.approval == ApprovalState.APPROVED, UserRow.banned.is_(False), enabled)
            .order_by(UserRow.id)
            .limit(limit)
        )
        return list(await self._session.scalars(query))

    async def first_at(self, user_id: int, target: Target | None = None) -> int | None:
        """When the user's oldest snapshot (on ``target``, or any) was recorded; None when there is none."""
        query = select(func.min(EquitySnapshotRow.at)).where(*_owned(user_id, target))
        value = await self._session.scalar(query)
        return None if value is None else int(value)

    async def sampled(
        self, user_id: int, *, origin: int, until: int, step: int, target: Target | None = None
    ) -> list[EquitySnapshot]:
        """Snapshots in ``[origin, until]``, only the last of each target in each ``step`` counted from ``origin``;
        oldest first."""
        if step <= 0:
            raise ValueError("the step must be positive")
        # ``at - origin`` is never negative here, so integer division is the floor on both backends.
        bucket = (EquitySnapshotRow.at - origin) // step
        rank = (
            func.row_number()
            .over(
                partition_by=(EquitySnapshotRow.exchange, EquitySnapshotRow.environment, bucket),
                order_by=EquitySnapshotRow.at.desc(),
            )
            .label("rank")
        )
        ranked = (
            select(EquitySnapshotRow, rank)
            .where(*_owned(user_id, target), EquitySnapshotRow.at >= origin, EquitySnapshotRow.at <= until)
            .subquery()
        )
        row = aliased(EquitySnapshotRow, ranked)
        query = select(row).where(ranked.c.rank == 1).order_by(ranked.c.at, ranked.c.exchange, ranked.c.environment)
        return [_snapshot(found) for found in await self._session.scalars(query)]

    async def thin(self, *, before: int, every: int) -> int:
        """Of the snapshots older than ``before``, keep only the last of each target in each ``every``-long span
        (spans counted from the epoch; ``before`` should fall on a span's start); how many were deleted."""
        row = EquitySnapshotRow
        rank = (
            func.row_number()
            .over(partition_by=(row.user_id, row.exchange, row.environment, row.at // every), order_by=row.at.desc())
            .label("rank")
        )
        ranked = select(row.user_id, row.exchange, row.environment, row.at, rank).where(row.at < before).subquery()
        # A set to delete, not a correlated "is there a later one?": PostgreSQL plans that as a hash join on the
        # target and compares every pair of its rows, minutes for a year of 5-minute snapshots.
        superseded = select(ranked.c.user_id, ranked.c.exchange, ranked.c.environment, ranked.c.at).where(
            ranked.c.rank > 1
        )
        statement = delete(row).where(
            row.at < before, tuple_(row.user_id, row.exchange, row.environment, row.at).in_(superseded)
        )
        result = await self._session.execute(statement.execution_options(synchronize_session=False))
        return int(getattr(result, "rowcount", 0))


def _owned(user_id: int, target: Target | None) -> list[ColumnElement[bool]]:
    conditions = [EquitySnapshotRow.user_id == user_id]
    if target is not None:
        conditions += [
            EquitySnapshotRow.exchange == target.exchange,
            EquitySnapshotRow.environment == target.environment,
        ]
    return conditions


def _snapshot(row: EquitySnapshotRow) -> EquitySnapshot:
    return EquitySnapshot(
        user_id=row.user_id,
        target=Target(row.exchange, row.environment),
        at=row.at,
        taken_at=row.taken_at,
        asset=row.asset,
        equity=row.equity,
        wallet=row.wallet,
        available=row.available,
        unrealized_pnl=row.unrealized_pnl,
    )
