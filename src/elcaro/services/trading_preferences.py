"""A user's trading preferences: settings at each level, and the targets they trade on.

The bot, the web app and the CLI all change these here, so validation is one rule wherever a
trader types a value: a wrong field is refused with its allowed range and nothing is stored.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from elcaro.core.clock import now_ms
from elcaro.models import AuditEntry, Environment, PositionSide, SettingsKey, Target, UserSettings
from elcaro.services.users import require_user
from elcaro.storage import Database, UnitOfWork, UserTarget
from elcaro.trading.settings import SettingsPatch, TradingSettings, resolve_for


class TradingPreferencesService:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def update(self, user_id: int, key: SettingsKey, changes: Mapping[str, Any]) -> UserSettings:
        """Merge ``changes`` into one level (``None`` switches a rule off there); the result is validated whole."""
        async with self._db.transaction() as tx:
            await require_user(tx, user_id)
            current = await tx.settings.get(user_id, key)
            merged = {**(current.values if current else {}), **changes}
            values = SettingsPatch.parse(merged).to_values()
            stored = await tx.settings.put(UserSettings(user_id, key, values, now_ms()))
            await _audit(tx, user_id, "settings.update", {"level": _level(key), "changes": _plain(changes)})
        return stored

    async def clear(self, user_id: int, key: SettingsKey, fields: list[str] | None = None) -> None:
        """Drop fields from a level (all of them when ``fields`` is None), so the level below applies again."""
        async with self._db.transaction() as tx:
            current = await tx.settings.get(user_id, key)
            if current is None:
                return
            kept = {} if fields is None else {k: v for k, v in current.values.items() if k not in fields}
            if kept:
                await tx.settings.put(UserSettings(user_id, key, kept, now_ms()))
            else:
                await tx.settings.delete(user_id, key)
            await _audit(tx, user_id, "settings.clear", {"level": _level(key), "fields": fields})

    async def stored(self, user_id: int) -> list[UserSettings]:
        """Every level the user has set something at, as stored."""
        async with self._db.reading() as tx:
            return await tx.settings.list_for_user(user_id)

    async def effective(self, user_id: int, target: Target, strategy: str, side: PositionSide) -> TradingSettings:
        """The settings a trade of ``strategy`` on ``side`` at ``target`` would use now."""
        return resolve_for(await self.stored(user_id), strategy=strategy, side=side, exchange=target.exchange)

    async def set_target(
        self, user_id: int, target: Target, *, enabled: bool = True, live_opt_in: bool = False
    ) -> UserTarget:
        """Trade on ``target`` (or stop). A live target needs ``live_opt_in``: real money is never a default."""
        async with self._db.transaction() as tx:
            await require_user(tx, user_id)
            now = now_ms()
            opted = now if live_opt_in and target.environment is Environment.LIVE else None
            stored = await tx.user_targets.set(user_id, target, enabled=enabled, live_opt_in_at=opted, now=now)
            details = {"target": str(target), "enabled": enabled, "live_opt_in": opted is not None}
            await _audit(tx, user_id, "targets.set", details)
        return stored

    async def targets(self, user_id: int) -> list[UserTarget]:
        async with self._db.reading() as tx:
            return await tx.user_targets.list_for_user(user_id)

    async def pause(self, user_id: int, paused: bool) -> None:
        """The user's own pause: no new entries; open positions are still managed."""
        async with self._db.transaction() as tx:
            await tx.users.set_trading_paused(user_id, paused)
            await _audit(tx, user_id, "trading.pause" if paused else "trading.resume", {})


def _level(key: SettingsKey) -> str:
    parts = [key.scope.value, key.exchange, key.strategy, key.side]
    return ":".join(str(part) for part in parts if part is not None)


def _plain(values: Mapping[str, Any]) -> dict[str, Any]:
    return {
        k: (v if isinstance(v, str | int | float | bool | type(None) | list | dict) else str(v))
        for k, v in values.items()
    }


async def _audit(tx: UnitOfWork, user_id: int, action: str, details: dict[str, Any]) -> None:
    await tx.audit.add(AuditEntry(action, user_id, f"user:{user_id}", details, now_ms()))
