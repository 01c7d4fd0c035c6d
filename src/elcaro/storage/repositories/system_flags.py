"""Platform-wide switches (the global trading pause and the like), one JSON value per key."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from elcaro.storage.orm import SystemFlagRow
from elcaro.storage.upsert import upsert


class SystemFlagsRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, key: str) -> Any | None:
        """The stored value; None for a key never set."""
        return await self._session.scalar(select(SystemFlagRow.value).where(SystemFlagRow.key == key))

    async def set(self, key: str, value: Any, *, now: int) -> None:
        """Store a JSON-native value (Decimals as strings)."""
        values = {"key": key, "value": value, "updated_at": now}
        await self._session.execute(upsert(self._session, SystemFlagRow, values, key=("key",)))
