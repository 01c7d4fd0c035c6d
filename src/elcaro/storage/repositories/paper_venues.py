"""Paper exchange state, stored whole so paper accounts survive a restart."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from elcaro.storage.orm import PaperVenueRow
from elcaro.storage.upsert import upsert


class PaperVenuesRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def load(self, name: str) -> dict[str, Any] | None:
        row = await self._session.scalar(select(PaperVenueRow).where(PaperVenueRow.name == name))
        return None if row is None else dict(row.snapshot)

    async def save(self, name: str, snapshot: dict[str, Any], *, now: int) -> None:
        await self._session.execute(
            upsert(self._session, PaperVenueRow, {"name": name, "snapshot": snapshot, "updated_at": now}, key=("name",))
        )
