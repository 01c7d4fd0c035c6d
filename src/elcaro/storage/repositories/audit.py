"""The audit trail: append and read, never change."""

from __future__ import annotations

import builtins

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from elcaro.models.user import AuditEntry
from elcaro.storage.orm import AuditRow


class AuditRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, entry: AuditEntry) -> AuditEntry:
        row = AuditRow(
            actor_user_id=entry.actor_user_id,
            action=entry.action,
            subject=entry.subject,
            details=dict(entry.details),
            at=entry.at,
        )
        self._session.add(row)
        await self._session.flush()
        return _entry(row)

    async def list(
        self, *, subject: str | None = None, actor_user_id: int | None = None, limit: int = 100
    ) -> builtins.list[AuditEntry]:
        """Newest first."""
        query = select(AuditRow).order_by(AuditRow.at.desc(), AuditRow.id.desc()).limit(limit)
        if subject is not None:
            query = query.where(AuditRow.subject == subject)
        if actor_user_id is not None:
            query = query.where(AuditRow.actor_user_id == actor_user_id)
        return [_entry(row) for row in await self._session.scalars(query)]


def _entry(row: AuditRow) -> AuditEntry:
    return AuditEntry(
        action=row.action,
        actor_user_id=row.actor_user_id,
        subject=row.subject,
        details=dict(row.details),  # a copy: the session keeps the row's dict
        at=row.at,
        id=row.id,
    )
