from __future__ import annotations

from typing import Any

import pytest
from storage_builders import T0, add_user

from elcaro.models import AuditEntry, Exchange, PositionSide, SettingsKey, SettingsScope, UserSettings
from elcaro.models.errors import NotFoundError
from elcaro.storage import Database
from elcaro.storage.repositories.settings import scope_key

pytestmark = pytest.mark.db

GLOBAL = SettingsKey(SettingsScope.GLOBAL)
BYBIT = SettingsKey(SettingsScope.EXCHANGE, exchange=Exchange.BYBIT)
STRATEGY = SettingsKey(SettingsScope.STRATEGY, strategy="elcaro")
LONG = SettingsKey(SettingsScope.STRATEGY_SIDE, strategy="elcaro", side=PositionSide.LONG)
SHORT = SettingsKey(SettingsScope.STRATEGY_SIDE, strategy="elcaro", side=PositionSide.SHORT)


def test_scope_keys_are_distinct_and_readable() -> None:
    keys = [GLOBAL, BYBIT, STRATEGY, LONG, SHORT, SettingsKey(SettingsScope.STRATEGY, strategy="a:b")]
    assert [scope_key(k) for k in keys] == [
        "global",
        "exchange:bybit",
        "strategy:elcaro",
        "strategy_side:elcaro:long",
        "strategy_side:elcaro:short",
        "strategy:a:b",
    ]


async def test_put_get_replace_list_delete(database: Database, user_id: int) -> None:
    blocks: dict[SettingsKey, dict[str, Any]] = {
        GLOBAL: {"risk_pct": "1.5", "leverage": 5, "enabled": True},
        BYBIT: {"margin_mode": "cross"},
        STRATEGY: {"tp_shares": ["0.5", "0.5"], "nested": {"a": [1, None]}},
        LONG: {"enabled": False},
        SHORT: {},
    }
    async with database.transaction() as tx:
        for key, values in blocks.items():
            stored = await tx.settings.put(UserSettings(user_id, key, values, updated_at=T0))
            assert stored == UserSettings(user_id, key, values, updated_at=T0)
    async with database.transaction() as tx:
        for key, values in blocks.items():
            got = await tx.settings.get(user_id, key)
            assert got is not None
            assert (got.key, dict(got.values), got.updated_at) == (key, values, T0)
        assert {s.key for s in await tx.settings.list_for_user(user_id)} == set(blocks)

        replaced = await tx.settings.put(UserSettings(user_id, GLOBAL, {"risk_pct": "2"}, updated_at=T0 + 1))
        assert dict(replaced.values) == {"risk_pct": "2"}  # a put replaces the block, it does not merge
        got = await tx.settings.get(user_id, GLOBAL)
        assert got is not None
        assert dict(got.values) == {"risk_pct": "2"}
        assert len(await tx.settings.list_for_user(user_id)) == len(blocks)

        assert await tx.settings.delete(user_id, LONG)
        assert not await tx.settings.delete(user_id, LONG)
        assert await tx.settings.get(user_id, LONG) is None


async def test_settings_belong_to_one_user(database: Database, user_id: int) -> None:
    async with database.transaction() as tx:
        other = await add_user(tx, 43)
        await tx.settings.put(UserSettings(user_id, GLOBAL, {"risk_pct": "1"}, updated_at=T0))
        await tx.settings.put(UserSettings(other, GLOBAL, {"risk_pct": "3"}, updated_at=T0))
    async with database.transaction() as tx:
        mine = await tx.settings.get(user_id, GLOBAL)
        assert mine is not None
        assert dict(mine.values) == {"risk_pct": "1"}
        assert len(await tx.settings.list_for_user(other)) == 1
        assert await tx.settings.list_for_user(999) == []


async def test_settings_for_an_unknown_user_are_refused(database: Database) -> None:
    async with database.transaction() as tx:
        with pytest.raises(NotFoundError, match="no user with id 999"):
            await tx.settings.put(UserSettings(999, GLOBAL, {}, updated_at=T0))


async def test_audit_trail_newest_first_with_filters(database: Database) -> None:
    entries = [
        AuditEntry("user.register", None, "user:1", {"telegram_id": 1}, at=T0),
        AuditEntry("user.approve", 7, "user:1", {}, at=T0 + 2),
        AuditEntry("user.ban", 7, "user:2", {"reason": "spam", "nested": {"x": [1, 2]}}, at=T0 + 1),
        AuditEntry("user.approve", 8, "user:2", {}, at=T0 + 2),
    ]
    async with database.transaction() as tx:
        stored = [await tx.audit.add(entry) for entry in entries]
    assert [e.id for e in stored] == sorted(e.id for e in stored if e.id is not None)
    assert [(e.action, e.subject, dict(e.details), e.at) for e in stored] == [
        (e.action, e.subject, dict(e.details), e.at) for e in entries
    ]
    async with database.transaction() as tx:
        newest_first = await tx.audit.list()
        assert [e.id for e in newest_first] == [stored[3].id, stored[1].id, stored[2].id, stored[0].id]
        assert [e.id for e in await tx.audit.list(subject="user:2")] == [stored[3].id, stored[2].id]
        assert [e.id for e in await tx.audit.list(actor_user_id=7)] == [stored[1].id, stored[2].id]
        assert [e.id for e in await tx.audit.list(actor_user_id=7, subject="user:2")] == [stored[2].id]
        assert len(await tx.audit.list(limit=2)) == 2
        assert dict(newest_first[2].details) == {"reason": "spam", "nested": {"x": [1, 2]}}
