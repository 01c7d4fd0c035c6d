"""Configured signal sources and admin-defined parsers."""

from __future__ import annotations

import pytest
from storage_builders import T0, add_user

from elcaro.models import SignalSource, SourceKind
from elcaro.models.errors import NotFoundError
from elcaro.storage import CustomParserRecord, Database, SignalSourceRecord

pytestmark = pytest.mark.db

SPEC = {
    "version": 1,
    "name": "vip",
    "strategy": "vip",
    "channel_ids": ["-100123"],
    "marker": "VIP",
    "symbol": r"#(\w+)",
    "side": r"(LONG|SHORT)",
    "price": r"Entry: ([\d.]+)",
}


async def test_sources_upsert_get_list_and_delete(database: Database) -> None:
    async with database.transaction() as tx:
        webhook = await tx.signal_sources.upsert(
            SourceKind.WEBHOOK,
            "tradingview",
            strategy="elcaro",
            secret_enc=b"\x00sealed",
            max_lag_s=30,
            enabled=True,
            now=T0,
        )
        channel = await tx.signal_sources.upsert(
            SourceKind.CHANNEL, "-100123", strategy=None, secret_enc=None, max_lag_s=None, enabled=True, now=T0 + 1
        )
    assert webhook == SignalSourceRecord(
        id=webhook.id,
        source=SignalSource(SourceKind.WEBHOOK, "tradingview"),
        strategy="elcaro",
        secret_enc=b"\x00sealed",
        max_lag_s=30,
        enabled=True,
        created_at=T0,
    )
    assert "sealed" not in repr(webhook)
    async with database.transaction() as tx:
        changed = await tx.signal_sources.upsert(
            SourceKind.WEBHOOK,
            "tradingview",
            strategy=None,
            secret_enc=b"new",
            max_lag_s=None,
            enabled=False,
            now=T0 + 9,
        )
        assert (changed.id, changed.created_at, changed.strategy, changed.secret_enc, changed.max_lag_s) == (
            webhook.id,
            T0,
            None,
            b"new",
            None,
        )
        assert not changed.enabled
    async with database.transaction() as tx:
        assert await tx.signal_sources.get(SourceKind.WEBHOOK, "tradingview") == changed
        assert await tx.signal_sources.get(SourceKind.CHANNEL, "tradingview") is None
        assert await tx.signal_sources.list() == [changed, channel]
        assert await tx.signal_sources.delete(channel.id)
        assert not await tx.signal_sources.delete(channel.id)
        assert await tx.signal_sources.list() == [changed]


async def test_custom_parsers_save_replace_list_and_delete(database: Database, user_id: int) -> None:
    async with database.transaction() as tx:
        editor = await add_user(tx, 43)
        vip = await tx.custom_parsers.save("vip", SPEC, enabled=True, created_by=user_id, now=T0)
        off = await tx.custom_parsers.save("alpha", {**SPEC, "name": "alpha"}, enabled=False, created_by=None, now=T0)
    assert vip == CustomParserRecord(
        id=vip.id, name="vip", spec=SPEC, enabled=True, created_by=user_id, created_at=T0, updated_at=T0
    )
    async with database.transaction() as tx:
        replaced = await tx.custom_parsers.save(
            "vip", {**SPEC, "marker": "VIP2"}, enabled=True, created_by=editor, now=T0 + 5
        )
        # Same parser, new spec; its creator and creation time stay.
        assert replaced == CustomParserRecord(
            id=vip.id,
            name="vip",
            spec={**SPEC, "marker": "VIP2"},
            enabled=True,
            created_by=user_id,
            created_at=T0,
            updated_at=T0 + 5,
        )
    async with database.transaction() as tx:
        assert await tx.custom_parsers.list() == [off, replaced]
        assert await tx.custom_parsers.list(enabled_only=True) == [replaced]
        assert await tx.custom_parsers.delete("alpha")
        assert not await tx.custom_parsers.delete("alpha")
        assert await tx.custom_parsers.list() == [replaced]
        with pytest.raises(NotFoundError, match="no user with id 999"):
            await tx.custom_parsers.save("beta", SPEC, enabled=True, created_by=999, now=T0)
