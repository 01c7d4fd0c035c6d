"""User settings, one JSON block per user and level (global, exchange, strategy, strategy and side)."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from elcaro.models.user import SettingsKey, UserSettings
from elcaro.storage.errors import translate_integrity_errors
from elcaro.storage.orm import SettingsRow
from elcaro.storage.upsert import upsert


def scope_key(key: SettingsKey) -> str:
    """``global``, ``exchange:bybit``, ``strategy:elcaro``, ``strategy_side:elcaro:long``.

    Unambiguous although a strategy name may contain ``:``: the scope fixes how many parts follow,
    and only the strategy is free text.
    """
    parts = [key.scope.value, key.exchange, key.strategy, key.side]
    return ":".join(str(part) for part in parts if part)


class SettingsRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def put(self, settings: UserSettings) -> UserSettings:
        """Store the block for ``settings.key``, replacing the one stored before. Values must be JSON-native."""
        key = settings.key
        values = {
            "user_id": settings.user_id,
            "scope": key.scope,
            "exchange": key.exchange,
            "strategy": key.strategy,
            "side": key.side,
            "scope_key": scope_key(key),
            "values": dict(settings.values),
            "updated_at": settings.updated_at,
        }
        statement = upsert(self._session, SettingsRow, values, key=("user_id", "scope_key")).returning(SettingsRow)
        with translate_integrity_errors(missing=f"no user with id {settings.user_id}"):
            row = (await self._session.scalars(statement)).one()
        return _settings(row)

    async def get(self, user_id: int, key: SettingsKey) -> UserSettings | None:
        row = await self._session.scalar(
            select(SettingsRow).where(SettingsRow.user_id == user_id, SettingsRow.scope_key == scope_key(key))
        )
        return None if row is None else _settings(row)

    async def list_for_user(self, user_id: int) -> list[UserSettings]:
        query = select(SettingsRow).where(SettingsRow.user_id == user_id).order_by(SettingsRow.scope_key)
        return [_settings(row) for row in await self._session.scalars(query)]

    async def delete(self, user_id: int, key: SettingsKey) -> bool:
        statement = (
            delete(SettingsRow)
            .where(SettingsRow.user_id == user_id, SettingsRow.scope_key == scope_key(key))
            .returning(SettingsRow.id)
        )
        return (await self._session.execute(statement)).scalar_one_or_none() is not None


def _settings(row: SettingsRow) -> UserSettings:
    key = SettingsKey(scope=row.scope, exchange=row.exchange, strategy=row.strategy, side=row.side)
    # A copy: the session keeps the row's dict, and a caller changing it must not change what others read.
    return UserSettings(user_id=row.user_id, key=key, values=dict(row.values), updated_at=row.updated_at)
