from __future__ import annotations

from dataclasses import fields
from decimal import Decimal

import pytest
from storage_builders import T0, make_signal

from elcaro.models import AtrExit, Entry, EntryKind, PositionSide, Signal, SignalSource, SourceKind, TakeProfit
from elcaro.models.errors import NotFoundError
from elcaro.storage import Database, SignalRecord, SignalStatus

pytestmark = pytest.mark.db

WEBHOOK = SignalSource(SourceKind.WEBHOOK, "tradingview")


def assert_same_signal(got: Signal | None, expected: Signal) -> None:
    """Every field, including those Signal's own equality skips (id, details)."""
    assert got is not None
    for field in fields(Signal):
        assert getattr(got, field.name) == getattr(expected, field.name), field.name


async def test_every_field_survives_a_round_trip(database: Database) -> None:
    signal = make_signal(
        source=WEBHOOK,
        strategy="elcaro",
        symbol="ETH/USDT:USDT",
        side=PositionSide.SHORT,
        entry=Entry(EntryKind.LADDER, (Decimal("3000.10"), Decimal("3050.0000001")), (Decimal("0.4"), Decimal("0.6"))),
        take_profits=(TakeProfit(Decimal("2900"), Decimal("0.25")), TakeProfit(Decimal("2800.5"), Decimal("0.75"))),
        stop_loss=Decimal("3100.123456789012345678"),
        leverage=Decimal("12.5"),
        timeframe="15m",
        score=Decimal("87.5"),
        quality="B",
        quality_score=Decimal("72"),
        rsi=Decimal("31.25"),
        oi_change_pct=Decimal("-4.2"),
        atr_exit=AtrExit(14, Decimal("2.5"), Decimal("1.0")),
        details={"trigger": "retest of 3050", "volume": "x3"},
        raw_text="ETH short ladder…",
        received_at=T0,
    )
    async with database.transaction() as tx:
        stored = await tx.signals.add(signal)
    assert stored.id is not None
    async with database.transaction() as tx:
        got = await tx.signals.get(stored.id)
    assert_same_signal(got, stored)
    assert got is not None
    assert [str(p) for p in got.entry.prices] == ["3000.10", "3050.0000001"]  # entry prices keep their exact form


async def test_a_minimal_signal_survives_too(database: Database) -> None:
    signal = make_signal(entry=Entry(EntryKind.MARKET), stop_loss=None, raw_text="")
    async with database.transaction() as tx:
        stored = await tx.signals.add(signal)
    async with database.transaction() as tx:
        assert_same_signal(await tx.signals.get(stored.id or 0), stored)


async def test_a_rejected_post_keeps_its_text_and_reason(database: Database) -> None:
    source = SignalSource(SourceKind.CHANNEL, "-100777")
    async with database.transaction() as tx:
        rejected_id = await tx.signals.add_rejected(source, "BTC long sl 70000 entry 60000", "stop above entry", T0)
    async with database.transaction() as tx:
        assert await tx.signals.get(rejected_id) is None  # there is no valid signal to give
        record = await tx.signals.get_record(rejected_id)
    assert record == SignalRecord(
        id=rejected_id,
        source=source,
        strategy=None,
        symbol=None,
        status=SignalStatus.REJECTED,
        reject_reason="stop above entry",
        raw_text="BTC long sl 70000 entry 60000",
        received_at=T0,
        signal=None,
    )


async def test_duplicates_are_found_by_hash_within_the_window(database: Database) -> None:
    original = make_signal(raw_text="BTC LONG 60000.50 SL 58000", received_at=T0)
    repost = make_signal(raw_text="btc   long 60000.50 sl 58000", received_at=T0 + 30_000)
    assert original.content_hash == repost.content_hash
    async with database.transaction() as tx:
        stored = await tx.signals.add(original)
        assert await tx.signals.find_duplicate(repost.content_hash, since=T0 - 60_000) == stored.id
        assert await tx.signals.find_duplicate(repost.content_hash, since=T0 + 1) is None  # outside the window
        assert await tx.signals.find_duplicate(make_signal(raw_text="other").content_hash, since=0) is None

        duplicate = await tx.signals.add(repost)
        await tx.signals.set_status(duplicate.id or 0, SignalStatus.DUPLICATE, f"repost of {stored.id}")
        await tx.signals.set_status(stored.id or 0, SignalStatus.CANCELLED, "withdrawn by the channel")
        # A cancelled signal still counts as the original; the duplicate row never does.
        assert await tx.signals.find_duplicate(repost.content_hash, since=0) == stored.id
        await tx.signals.set_status(stored.id or 0, SignalStatus.REJECTED, "bad")
        assert await tx.signals.find_duplicate(repost.content_hash, since=0) is None


async def test_set_status_and_recent_list(database: Database) -> None:
    async with database.transaction() as tx:
        first = await tx.signals.add(make_signal(raw_text="one", received_at=T0))
        rejected = await tx.signals.add_rejected(WEBHOOK, "{bad json", "not JSON", T0 + 1)
        third = await tx.signals.add(make_signal(raw_text="three", received_at=T0 + 2))
        await tx.signals.set_status(first.id or 0, SignalStatus.CANCELLED, "cancelled by the channel")
        with pytest.raises(NotFoundError, match="no signal with id 999"):
            await tx.signals.set_status(999, SignalStatus.CANCELLED)
    async with database.transaction() as tx:
        recent = await tx.signals.list_recent()
        assert [(r.id, r.status) for r in recent] == [
            (third.id, SignalStatus.ACCEPTED),
            (rejected, SignalStatus.REJECTED),
            (first.id, SignalStatus.CANCELLED),
        ]
        assert recent[2].reject_reason == "cancelled by the channel"
        assert recent[2].strategy == "cornix"
        assert recent[2].symbol == "BTC/USDT:USDT"
        assert_same_signal(recent[0].signal, third)
        assert recent[1].signal is None
        assert [r.id for r in await tx.signals.list_recent(limit=1)] == [third.id]
        await tx.signals.set_status(first.id or 0, SignalStatus.ACCEPTED)
        record = await tx.signals.get_record(first.id or 0)
        assert record is not None
        assert record.reject_reason is None


async def test_latest_open_signal_of_a_source_for_a_symbol(database: Database) -> None:
    channel = SignalSource(SourceKind.CHANNEL, "-100777")
    eth = "ETH/USDT:USDT"

    def post(n: int, **changes: object) -> Signal:
        fields: dict[str, object] = {
            "source": channel,
            "symbol": eth,
            "entry": Entry(EntryKind.LIMIT, (Decimal(3000),)),
            "stop_loss": Decimal(2900),
            "raw_text": f"ETH long {n}",
            "received_at": T0 + n,
        }
        return make_signal(**{**fields, **changes})

    async with database.transaction() as tx:
        older = await tx.signals.add(post(1))
        newest = await tx.signals.add(post(2))
        cancelled = await tx.signals.add(post(5))
        await tx.signals.set_status(cancelled.id or 0, SignalStatus.CANCELLED, "cancel post")
        duplicate = await tx.signals.add(post(6))
        await tx.signals.set_status(duplicate.id or 0, SignalStatus.DUPLICATE, f"repost of {newest.id}")
        await tx.signals.add_rejected(channel, "ETH long ???", "no entry", T0 + 7)
        await tx.signals.add(post(8, source=WEBHOOK))  # another source
        await tx.signals.add(post(9, symbol="BTC/USDT:USDT", entry=Entry(EntryKind.MARKET), stop_loss=None))
    async with database.transaction() as tx:
        found = await tx.signals.latest_open_for(channel, eth, since=T0)
        assert found is not None
        assert (found.id, found.status) == (newest.id, SignalStatus.ACCEPTED)
        assert_same_signal(found.signal, newest)
        await tx.signals.set_status(newest.id or 0, SignalStatus.CANCELLED, "cancel post")
        found = await tx.signals.latest_open_for(channel, eth, since=T0)
        assert found is not None and found.id == older.id  # the next one back is what a second cancel withdraws
        assert await tx.signals.latest_open_for(channel, eth, since=T0 + 2) is None  # outside the window
        assert await tx.signals.latest_open_for(channel, "SOL/USDT:USDT", since=0) is None
