"""Execution records: what a fan-out did, or means to do, for each (signal, user, target)."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from elcaro.models.errors import NotFoundError
from elcaro.models.target import Target
from elcaro.storage.errors import translate_integrity_errors
from elcaro.storage.orm import ExecutionRow, ExecutionStatus, SignalRow, SignalStatus
from elcaro.storage.upsert import insert_if_absent

_KEY = ("signal_id", "user_id", "exchange", "environment")
_UNFINISHED = [status for status in ExecutionStatus if status.is_unfinished]
#: Statuses whose orders may still rest on a venue: what a signal's cancel has to withdraw.
_LIVE = [*_UNFINISHED, ExecutionStatus.PLACED, ExecutionStatus.FILLED]


@dataclass(frozen=True, slots=True)
class ExecutionRecord:
    """``plan`` is the services' JSON (orders with client order ids, sizes and prices as strings)."""

    id: int
    signal_id: int
    user_id: int
    target: Target
    status: ExecutionStatus
    reason_code: str | None
    reason: str | None
    plan: dict[str, Any]
    position_id: int | None
    created_at: int
    updated_at: int


class ExecutionsRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def claim(
        self, signal_id: int, user_id: int, target: Target, *, plan: dict[str, Any], now: int
    ) -> tuple[ExecutionRecord, bool]:
        """Record the execution as planned, or find the one recorded before: (record, created).

        One statement decides, so of any number of concurrent claims exactly one gets ``True``; the
        others, and a fan-out resumed after a crash, get the stored record with its original plan
        (``plan`` is then ignored: the stored client order ids are the ones the venue may know).
        """
        values = {
            "signal_id": signal_id,
            "user_id": user_id,
            "exchange": target.exchange,
            "environment": target.environment,
            "status": ExecutionStatus.PLANNED,
            "plan": plan,
            "created_at": now,
            "updated_at": now,
        }
        statement = insert_if_absent(self._session, ExecutionRow, values, key=_KEY).returning(ExecutionRow)
        with translate_integrity_errors(missing=f"signal {signal_id} or user {user_id} does not exist"):
            row = (await self._session.scalars(statement)).one_or_none()
        if row is not None:
            return _record(row), True
        existing = (
            await self._session.scalars(
                select(ExecutionRow).where(
                    ExecutionRow.signal_id == signal_id,
                    ExecutionRow.user_id == user_id,
                    ExecutionRow.exchange == target.exchange,
                    ExecutionRow.environment == target.environment,
                )
            )
        ).one()
        return _record(existing), False

    async def set_status(
        self,
        execution_id: int,
        status: ExecutionStatus,
        *,
        reason_code: str | None = None,
        reason: str | None = None,
        position_id: int | None = None,
        now: int,
    ) -> ExecutionRecord:
        """Move to ``status``. The reason (code and text) is replaced, so a retry that succeeds clears an
        old error; a position link, once stored, stays when a later change does not name one."""
        values: dict[str, Any] = {
            "status": ExecutionStatus(status),
            "reason_code": reason_code,
            "reason": reason,
            "updated_at": now,
        }
        if position_id is not None:
            values["position_id"] = position_id
        statement = update(ExecutionRow).where(ExecutionRow.id == execution_id).values(**values).returning(ExecutionRow)
        with translate_integrity_errors(missing=f"position {position_id} does not exist"):
            row = (await self._session.scalars(statement)).one_or_none()
        if row is None:
            raise NotFoundError(f"no execution with id {execution_id}")
        return _record(row)

    async def get(self, execution_id: int) -> ExecutionRecord | None:
        row = await self._session.scalar(select(ExecutionRow).where(ExecutionRow.id == execution_id))
        return None if row is None else _record(row)

    async def for_signal(self, signal_id: int) -> list[ExecutionRecord]:
        """In the order they were claimed."""
        query = select(ExecutionRow).where(ExecutionRow.signal_id == signal_id).order_by(ExecutionRow.id)
        return [_record(row) for row in await self._session.scalars(query)]

    async def for_user(self, user_id: int, *, limit: int = 100) -> list[ExecutionRecord]:
        """Newest first."""
        query = (
            select(ExecutionRow)
            .where(ExecutionRow.user_id == user_id)
            .order_by(ExecutionRow.created_at.desc(), ExecutionRow.id.desc())
            .limit(limit)
        )
        return [_record(row) for row in await self._session.scalars(query)]

    async def for_position(self, position_id: int) -> list[ExecutionRecord]:
        """The executions that opened this position (one, unless a future change shares positions), oldest first."""
        query = select(ExecutionRow).where(ExecutionRow.position_id == position_id).order_by(ExecutionRow.id)
        return [_record(row) for row in await self._session.scalars(query)]

    async def unfinished(self) -> list[ExecutionRecord]:
        """Planned or placing, oldest first: the work a restart must resume."""
        query = select(ExecutionRow).where(ExecutionRow.status.in_(_UNFINISHED)).order_by(ExecutionRow.id)
        return [_record(row) for row in await self._session.scalars(query)]

    async def awaiting_cancel(self, *, since: int, noted_code: str) -> list[int]:
        """Ids of cancelled signals received at or after ``since`` with an execution the cancel has not reached.

        An execution still live (unfinished, placed, filled) whose ``reason_code`` is not ``noted_code`` — the code
        the cancel writes once it has dealt with the execution — was missed: the process stopped between storing
        the cancel and carrying it out. Oldest signal first.
        """
        query = (
            select(ExecutionRow.signal_id)
            .join(SignalRow, SignalRow.id == ExecutionRow.signal_id)
            .where(
                SignalRow.status == SignalStatus.CANCELLED,
                SignalRow.received_at >= since,
                ExecutionRow.status.in_(_LIVE),
                or_(ExecutionRow.reason_code.is_(None), ExecutionRow.reason_code != noted_code),
            )
            .group_by(ExecutionRow.signal_id)
            .order_by(func.min(SignalRow.received_at), ExecutionRow.signal_id)
        )
        return list(await self._session.scalars(query))


def _record(row: ExecutionRow) -> ExecutionRecord:
    return ExecutionRecord(
        id=row.id,
        signal_id=row.signal_id,
        user_id=row.user_id,
        target=Target(row.exchange, row.environment),
        status=row.status,
        reason_code=row.reason_code,
        reason=row.reason,
        plan=copy.deepcopy(row.plan),  # nested: a caller changing it must not change the session's copy
        position_id=row.position_id,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )
