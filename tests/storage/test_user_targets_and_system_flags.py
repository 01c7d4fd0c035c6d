"""Which targets each user trades on, and the platform-wide switches."""

from __future__ import annotations

from decimal import Decimal

import pytest
from storage_builders import BINANCE_LIVE, BYBIT_DEMO, T0, add_user

from elcaro.models import Environment, Exchange, Target
from elcaro.models.errors import NotFoundError
from elcaro.storage import Database, UserTarget
from elcaro.storage.batches import BATCH

pytestmark = pytest.mark.db

HYPERLIQUID_TESTNET = Target(Exchange.HYPERLIQUID, Environment.TESTNET)


async def test_set_replaces_settings_and_keeps_the_creation_time(database: Database, user_id: int) -> None:
    async with database.transaction() as tx:
        added = await tx.user_targets.set(user_id, BINANCE_LIVE, enabled=True, live_opt_in_at=T0 + 1, now=T0)
        assert added == UserTarget(user_id, BINANCE_LIVE, enabled=True, live_opt_in_at=T0 + 1, created_at=T0)
        # A later change that does not repeat the opt-in withdraws it.
        changed = await tx.user_targets.set(user_id, BINANCE_LIVE, enabled=False, now=T0 + 5)
        assert changed == UserTarget(user_id, BINANCE_LIVE, enabled=False, live_opt_in_at=None, created_at=T0)
        await tx.user_targets.set(user_id, BYBIT_DEMO, enabled=True, now=T0 + 6)
    async with database.transaction() as tx:
        assert await tx.user_targets.list_for_user(user_id) == [
            changed,
            UserTarget(user_id, BYBIT_DEMO, enabled=True, live_opt_in_at=None, created_at=T0 + 6),
        ]
        assert await tx.user_targets.list_for_user(999) == []
        with pytest.raises(NotFoundError, match="no user with id 999"):
            await tx.user_targets.set(999, BYBIT_DEMO, enabled=True, now=T0)


async def test_active_targets_of_many_users_at_once(database: Database, user_id: int) -> None:
    async with database.transaction() as tx:
        other = await add_user(tx, 43)
        idle = await add_user(tx, 44)
        await tx.user_targets.set(user_id, BYBIT_DEMO, enabled=True, now=T0)
        await tx.user_targets.set(user_id, HYPERLIQUID_TESTNET, enabled=True, now=T0)
        await tx.user_targets.set(user_id, BINANCE_LIVE, enabled=False, now=T0)
        await tx.user_targets.set(other, BINANCE_LIVE, enabled=True, now=T0)  # live without opt-in: the gates decide
        await tx.user_targets.set(idle, BYBIT_DEMO, enabled=False, now=T0)
    async with database.transaction() as tx:
        active = await tx.user_targets.active_for_users([user_id, other, idle, 999, user_id])
        assert {uid: [t.target for t in targets] for uid, targets in active.items()} == {
            user_id: [BYBIT_DEMO, HYPERLIQUID_TESTNET],
            other: [BINANCE_LIVE],
            idle: [],
            999: [],
        }
        assert await tx.user_targets.active_for_users([]) == {}
        # More ids than one statement may carry.
        many = await tx.user_targets.active_for_users([*range(10_000, 10_000 + BATCH), other])
        assert len(many) == BATCH + 1
        assert [t.target for t in many[other]] == [BINANCE_LIVE]


async def test_remove(database: Database, user_id: int) -> None:
    async with database.transaction() as tx:
        await tx.user_targets.set(user_id, BYBIT_DEMO, enabled=True, now=T0)
        assert await tx.user_targets.remove(user_id, BYBIT_DEMO)
        assert not await tx.user_targets.remove(user_id, BYBIT_DEMO)
        assert await tx.user_targets.list_for_user(user_id) == []


async def test_system_flags_hold_any_json_value(database: Database) -> None:
    async with database.transaction() as tx:
        assert await tx.system_flags.get("trading.paused") is None
        await tx.system_flags.set("trading.paused", True, now=T0)
        await tx.system_flags.set("limits", {"max_users": 1000, "fee": str(Decimal("0.055"))}, now=T0)
    async with database.transaction() as tx:
        assert await tx.system_flags.get("trading.paused") is True
        assert await tx.system_flags.get("limits") == {"max_users": 1000, "fee": "0.055"}
        await tx.system_flags.set("trading.paused", False, now=T0 + 1)
    async with database.transaction() as tx:
        assert await tx.system_flags.get("trading.paused") is False
