"""Admin-defined parsers. Storage keeps the spec dict as given; ``elcaro.signals`` validates and builds it."""

from __future__ import annotations

import builtins
import copy
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from elcaro.storage.errors import translate_integrity_errors
from elcaro.storage.orm import CustomParserRow
from elcaro.storage.upsert import upsert


@dataclass(frozen=True, slots=True)
class CustomParserRecord:
    id: int
    name: str
    spec: dict[str, Any]
    enabled: bool
    created_by: int | None
    created_at: int
    updated_at: int


class CustomParsersRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def save(
        self, name: str, spec: dict[str, Any], *, enabled: bool, created_by: int | None, now: int
    ) -> CustomParserRecord:
        """Insert the parser, or replace the spec and switch of the one with this name.

        A replaced parser keeps its creator and creation time; who changed it is the audit log's to say.
        """
        values = {
            "name": name,
            "spec": spec,
            "enabled": enabled,
            "created_by": created_by,
            "created_at": now,
            "updated_at": now,
        }
        statement = upsert(
            self._session, CustomParserRow, values, key=("name",), keep=("created_by", "created_at")
        ).returning(CustomParserRow)
        with translate_integrity_errors(missing=f"no user with id {created_by}"):
            row = (await self._session.scalars(statement)).one()
        return _record(row)

    async def list(self, enabled_only: bool = False) -> builtins.list[CustomParserRecord]:
        """By name."""
        query = select(CustomParserRow).order_by(CustomParserRow.name)
        if enabled_only:
            query = query.where(CustomParserRow.enabled.is_(True))
        return [_record(row) for row in await self._session.scalars(query)]

    async def delete(self, name: str) -> bool:
        statement = delete(CustomParserRow).where(CustomParserRow.name == name).returning(CustomParserRow.id)
        return (await self._session.execute(statement)).scalar_one_or_none() is not None


def _record(row: CustomParserRow) -> CustomParserRecord:
    return CustomParserRecord(
        id=row.id,
        name=row.name,
        spec=copy.deepcopy(row.spec),  # nested: a caller changing it must not change the session's copy
        enabled=row.enabled,
        created_by=row.created_by,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )
