"""The ingest service: every source, every outcome, de-duplication, cancels, webhook secrets, fan-out tasks."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest

from elcaro.core.events import EventBus, Subscription
from elcaro.core.secrets import Keyring, generate_key
from elcaro.models import Entry, EntryKind, PositionSide, Signal, SignalSource, SourceKind, TelegramProfile
from elcaro.models.errors import ConflictError, PermissionDeniedError, ValidationError
from elcaro.models.events import EventKind, TradingEvent
from elcaro.services.signal_ingest import (
    DEFAULT_DEDUP_WINDOW_MS,
    IngestOutcome,
    SignalIngestService,
    UnknownSourceError,
    open_signal_ingest,
)
from elcaro.services.signal_sources import SignalSourcesService
from elcaro.services.users import UserService
from elcaro.signals import WebhookSecretError
from elcaro.storage import Database, SignalStatus

pytestmark = pytest.mark.db

T0 = 1_732_190_400_000
CHANNEL = "-1001234567890"
OTHER_CHANNEL = "-1009876543210"
SCALPER = "SCALPER SHORT DOGEUSDT @ 0.08112"
CORNIX_ETH = "ETH/USDT\nBuy 3385\nTake Profit 3450 3500\nStop 3300"
CORNIX_ETH_LATER = "ETH/USDT\nBuy 3390\nTake Profit 3460\nStop 3310"
INCONSISTENT = "ETH/USDT LONG\nBuy 3385\nTake Profit 3450\nStop 3400"
VIP_SPEC: dict[str, Any] = {
    "version": 1,
    "name": "vip",
    "strategy": "vip",
    "channel_ids": [CHANNEL],
    "marker": r"^VIP CALL",
    "symbol": r"#(?P<symbol>[A-Z0-9]+USDT)",
    "side": r"\b(?P<side>LONG|SHORT)\b",
    "price": r"^In (?P<price>[\d.]+)",
}
VIP_POST = "VIP CALL\n#ARBUSDT LONG\nIn 1.0825"


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> int:
        return self.now


@dataclass
class FanOut:
    """Stands in for the copy-trading service: records what it is handed."""

    signals: list[Signal] = field(default_factory=list)
    cancelled: list[int] = field(default_factory=list)

    async def on_signal(self, signal: Signal) -> None:
        self.signals.append(signal)

    async def on_cancel(self, signal_id: int) -> None:
        self.cancelled.append(signal_id)


@dataclass
class World:
    database: Database
    keyring: Keyring
    clock: Clock
    fan_out: FanOut
    ingest: SignalIngestService
    admin: SignalSourcesService
    events: Subscription[TradingEvent]

    def drained_events(self) -> list[TradingEvent]:
        found = []
        while self.events.pending():
            found.append(self.events._queue.get_nowait())
        return found

    async def stored(self) -> list[Any]:
        async with self.database.transaction() as tx:
            return await tx.signals.list_recent(100)


@pytest.fixture
async def world(database: Database) -> AsyncIterator[World]:
    keyring = Keyring([generate_key()])
    clock = Clock()
    fan_out = FanOut()
    bus: EventBus[TradingEvent] = EventBus()
    subscription = bus.subscribe()
    ingest = SignalIngestService(database, keyring, bus, fan_out.on_signal, fan_out.on_cancel, clock=clock)
    admin = SignalSourcesService(database, keyring, parsers=ingest.parsers, clock=clock)
    yield World(database, keyring, clock, fan_out, ingest, admin, subscription)
    await ingest.close()


async def test_a_channel_post_is_stored_once_with_its_text_and_fanned_out(world: World) -> None:
    await world.admin.add_channel(CHANNEL)
    result = await world.ingest.ingest_post(CHANNEL, SCALPER, T0)
    await world.ingest.close()

    assert result.outcome is IngestOutcome.ACCEPTED and result.reason is None
    [handed] = world.fan_out.signals
    assert handed.id == result.signal_id
    assert (handed.strategy, handed.symbol, handed.side) == ("scalper", "DOGE/USDT:USDT", PositionSide.SHORT)
    assert handed.source == SignalSource(SourceKind.CHANNEL, CHANNEL)
    [record] = await world.stored()
    assert (record.id, record.status, record.raw_text) == (result.signal_id, SignalStatus.ACCEPTED, SCALPER)
    assert world.drained_events() == []


async def test_the_channels_strategy_is_the_one_its_signals_belong_to(world: World) -> None:
    await world.admin.add_channel(CHANNEL, strategy="dog_scalps")
    result = await world.ingest.ingest_post(CHANNEL, SCALPER, T0)
    await world.ingest.close()
    assert result.outcome is IngestOutcome.ACCEPTED
    assert world.fan_out.signals[0].strategy == "dog_scalps"


async def test_posts_of_unconfigured_or_disabled_channels_and_non_signals_leave_no_trace(world: World) -> None:
    unknown = await world.ingest.ingest_post(CHANNEL, SCALPER, T0)
    await world.admin.add_channel(CHANNEL)
    chat = await world.ingest.ingest_post(CHANNEL, "gm, BTC looks strong today", T0)
    await world.admin.update_source(SourceKind.CHANNEL, CHANNEL, enabled=False)
    disabled = await world.ingest.ingest_post(CHANNEL, SCALPER, T0)
    await world.ingest.close()

    assert unknown.outcome is IngestOutcome.IGNORED and "not a signal source" in (unknown.reason or "")
    assert chat.outcome is IngestOutcome.IGNORED and chat.reason == "not a signal"
    assert disabled.outcome is IngestOutcome.IGNORED
    assert await world.stored() == []
    assert world.fan_out.signals == [] and world.drained_events() == []


async def test_an_inconsistent_post_is_stored_with_its_reason_and_admins_are_told(world: World) -> None:
    await world.admin.add_channel(CHANNEL)
    result = await world.ingest.ingest_post(CHANNEL, INCONSISTENT, T0)
    await world.ingest.close()

    assert result.outcome is IngestOutcome.REJECTED and result.signal_id is not None
    assert result.reason == "cornix_free: a long's stop 3400 must be below its entry 3385"
    [record] = await world.stored()
    assert (record.id, record.status, record.reject_reason) == (result.signal_id, SignalStatus.REJECTED, result.reason)
    assert record.raw_text == INCONSISTENT
    [event] = world.drained_events()
    assert (event.kind, event.user_id, event.signal_id, event.code) == (
        EventKind.SIGNAL_REJECTED,
        None,
        result.signal_id,
        "invalid_signal",
    )
    assert event.data == {
        "source": f"channel:{CHANNEL}",
        "reason": "a long's stop 3400 must be below its entry 3385",
        "parser": "cornix_free",
        "field": "stop_loss",
    }
    assert world.fan_out.signals == []


async def test_a_repost_within_the_window_is_recorded_but_never_fanned_out_twice(world: World) -> None:
    await world.admin.add_channel(CHANNEL)
    await world.admin.add_channel(OTHER_CHANNEL)
    first = await world.ingest.ingest_post(CHANNEL, SCALPER, T0)
    again = await world.ingest.ingest_post(CHANNEL, "  scalper short   DOGEUSDT @ 0.08112\n", T0 + 60_000)
    elsewhere = await world.ingest.ingest_post(OTHER_CHANNEL, SCALPER, T0 + 60_000)
    at_the_edge = await world.ingest.ingest_post(CHANNEL, SCALPER, T0 + DEFAULT_DEDUP_WINDOW_MS)
    next_day = await world.ingest.ingest_post(CHANNEL, SCALPER, T0 + DEFAULT_DEDUP_WINDOW_MS + 1)
    await world.ingest.close()

    assert first.outcome is IngestOutcome.ACCEPTED
    assert (again.outcome, again.signal_id) == (IngestOutcome.DUPLICATE, first.signal_id)
    assert again.reason == f"same post as signal {first.signal_id}"
    assert (at_the_edge.outcome, at_the_edge.signal_id) == (IngestOutcome.DUPLICATE, first.signal_id)
    assert elsewhere.outcome is IngestOutcome.ACCEPTED
    assert next_day.outcome is IngestOutcome.ACCEPTED
    handed = {signal.id for signal in world.fan_out.signals}
    assert handed == {first.signal_id, elsewhere.signal_id, next_day.signal_id}
    statuses = [record.status for record in sorted(await world.stored(), key=lambda r: r.id)]
    accepted, duplicate = SignalStatus.ACCEPTED, SignalStatus.DUPLICATE
    assert statuses == [accepted, duplicate, accepted, duplicate, accepted]


async def test_two_copies_arriving_together_make_one_signal(world: World) -> None:
    await world.admin.add_channel(CHANNEL)
    results = await asyncio.gather(*(world.ingest.ingest_post(CHANNEL, SCALPER, T0) for _ in range(5)))
    await world.ingest.close()
    assert sorted(r.outcome for r in results) == [IngestOutcome.ACCEPTED] + [IngestOutcome.DUPLICATE] * 4
    assert len(world.fan_out.signals) == 1


async def test_a_configurable_window(database: Database) -> None:
    fan_out = FanOut()
    keyring = Keyring([generate_key()])
    ingest = SignalIngestService(
        database, keyring, EventBus(), fan_out.on_signal, fan_out.on_cancel, dedup_window_ms=1000
    )
    await SignalSourcesService(database, keyring).add_channel(CHANNEL)
    outcomes = [(await ingest.ingest_post(CHANNEL, SCALPER, T0 + delay)).outcome for delay in (0, 1000, 2001)]
    await ingest.close()
    assert outcomes == [IngestOutcome.ACCEPTED, IngestOutcome.DUPLICATE, IngestOutcome.ACCEPTED]


async def test_a_cancel_withdraws_the_newest_open_signal_of_that_source_and_symbol(world: World) -> None:
    await world.admin.add_channel(CHANNEL)
    await world.admin.add_channel(OTHER_CHANNEL)
    older = await world.ingest.ingest_post(CHANNEL, CORNIX_ETH, T0)
    newer = await world.ingest.ingest_post(CHANNEL, CORNIX_ETH_LATER, T0 + 1000)
    foreign = await world.ingest.ingest_post(OTHER_CHANNEL, CORNIX_ETH, T0 + 2000)

    cancel = await world.ingest.ingest_post(CHANNEL, "❌ Cancel #ETHUSDT", T0 + 5000)
    redelivered = await world.ingest.ingest_post(CHANNEL, "❌ Cancel #ETHUSDT", T0 + 6000)
    nothing_open = await world.ingest.ingest_post(CHANNEL, "Cancel #SOL/USDT", T0 + 7000)
    await world.ingest.close()

    assert (cancel.outcome, cancel.signal_id) == (IngestOutcome.CANCELLED, newer.signal_id)
    assert (redelivered.outcome, redelivered.signal_id) == (IngestOutcome.DUPLICATE, newer.signal_id)
    assert nothing_open.outcome is IngestOutcome.CANCEL_UNMATCHED
    assert nothing_open.reason == f"no open signal of channel:{CHANNEL} for SOL/USDT:USDT to cancel"
    assert world.fan_out.cancelled == [newer.signal_id]
    status = {record.id: record.status for record in await world.stored()}
    assert status[newer.signal_id] is SignalStatus.CANCELLED
    assert status[older.signal_id] is SignalStatus.ACCEPTED
    assert status[foreign.signal_id] is SignalStatus.ACCEPTED
    assert len(status) == 3  # cancel posts are not signals of their own


async def test_a_second_different_cancel_withdraws_the_next_one(world: World) -> None:
    await world.admin.add_channel(CHANNEL)
    older = await world.ingest.ingest_post(CHANNEL, CORNIX_ETH, T0)
    newer = await world.ingest.ingest_post(CHANNEL, CORNIX_ETH_LATER, T0 + 1000)
    first = await world.ingest.ingest_post(CHANNEL, "Cancel #ETH/USDT", T0 + 2000)
    second = await world.ingest.ingest_post(CHANNEL, "Cancel #ETH/USDT - both setups failed", T0 + 3000)
    await world.ingest.close()
    assert [first.signal_id, second.signal_id] == [newer.signal_id, older.signal_id]
    assert world.fan_out.cancelled == [newer.signal_id, older.signal_id]


async def test_ingest_returns_before_a_slow_fan_out_ends_and_close_waits_for_it(database: Database) -> None:
    release = asyncio.Event()
    finished: list[int | None] = []

    async def slow_fan_out(signal: Signal) -> None:
        await release.wait()
        finished.append(signal.id)

    async def on_cancel(signal_id: int) -> None:
        raise AssertionError("no cancel here")

    keyring = Keyring([generate_key()])
    await SignalSourcesService(database, keyring).add_channel(CHANNEL)
    async with open_signal_ingest(database, keyring, EventBus(), slow_fan_out, on_cancel) as ingest:
        result = await ingest.ingest_post(CHANNEL, SCALPER, T0)
        assert result.outcome is IngestOutcome.ACCEPTED
        assert finished == []  # ingest answered while the fan-out is still waiting
        closing = asyncio.create_task(ingest.close())
        await asyncio.sleep(0)
        assert not closing.done()
        with pytest.raises(ConflictError, match="shut down"):
            await ingest.ingest_post(CHANNEL, SCALPER, T0)
        release.set()
        await closing
        assert finished == [result.signal_id]


async def test_a_failing_fan_out_is_reported_to_admins_and_ingest_goes_on(database: Database) -> None:
    async def broken(signal: Signal) -> None:
        raise RuntimeError("exchange pool exploded")

    keyring = Keyring([generate_key()])
    bus: EventBus[TradingEvent] = EventBus()
    events = bus.subscribe()
    await SignalSourcesService(database, keyring).add_channel(CHANNEL)
    ingest = SignalIngestService(database, keyring, bus, broken, FanOut().on_cancel)
    first = await ingest.ingest_post(CHANNEL, SCALPER, T0)
    second = await ingest.ingest_post(CHANNEL, CORNIX_ETH, T0)
    await ingest.close()
    assert first.outcome is second.outcome is IngestOutcome.ACCEPTED
    failures = [await events.get(), await events.get()]
    assert {(e.kind, e.code, e.user_id) for e in failures} == {(EventKind.ERROR, "fan_out_failed", None)}
    assert {e.signal_id for e in failures} == {first.signal_id, second.signal_id}


def engine_signal(**changes: Any) -> Signal:
    fields: dict[str, Any] = {
        "source": SignalSource(SourceKind.ENGINE, "breakout"),
        "strategy": "breakout",
        "symbol": "BTC/USDT:USDT",
        "side": PositionSide.LONG,
        "entry": Entry(EntryKind.LIMIT, (Decimal("67250.5"),)),
        "stop_loss": Decimal("66100"),
    }
    return Signal(**{**fields, **changes})


async def test_engine_signals_are_ingested_like_any_other(world: World) -> None:
    result = await world.ingest.ingest_engine(engine_signal())
    repeat = await world.ingest.ingest_engine(engine_signal(received_at=T0 + 5))
    with pytest.raises(ValidationError, match="engine source"):
        await world.ingest.ingest_engine(engine_signal(source=SignalSource(SourceKind.CHANNEL, CHANNEL)))
    await world.ingest.close()
    assert result.outcome is IngestOutcome.ACCEPTED
    assert repeat.outcome is IngestOutcome.DUPLICATE
    [handed] = world.fan_out.signals
    assert handed.received_at == T0  # stamped on arrival when the engine left it out


async def test_manual_signals_are_for_admins_and_audited(world: World) -> None:
    users = UserService(world.database)
    trader = await users.register(TelegramProfile(1))
    admin = await users.promote((await users.register(TelegramProfile(2))).id)
    manual = engine_signal(source=SignalSource(SourceKind.MANUAL, f"admin:{admin.id}"), strategy="manual")

    with pytest.raises(PermissionDeniedError):
        await world.ingest.ingest_manual(manual, trader.id)
    with pytest.raises(ValidationError, match="manual source"):
        await world.ingest.ingest_manual(engine_signal(), admin.id)
    result = await world.ingest.ingest_manual(manual, admin.id)
    with pytest.raises(PermissionDeniedError):
        await world.ingest.ingest_manual_post(SCALPER, T0, actor_id=trader.id)
    await world.ingest.close()

    assert result.outcome is IngestOutcome.ACCEPTED
    assert [s.id for s in world.fan_out.signals] == [result.signal_id]
    async with world.database.transaction() as tx:
        [entry] = await tx.audit.list(actor_user_id=admin.id, limit=1)
    assert entry.action == "signal.manual" and entry.details["signal_id"] == result.signal_id


async def test_a_manual_post_is_read_like_a_channel_post_from_the_inbox_source(world: World) -> None:
    result = await world.ingest.ingest_manual_post(SCALPER, T0)
    await world.ingest.close()
    assert result.outcome is IngestOutcome.ACCEPTED
    assert world.fan_out.signals[0].source == SignalSource(SourceKind.MANUAL, "inbox")


async def test_an_admin_parser_from_storage_reads_its_channel_only(world: World) -> None:
    await world.admin.add_channel(CHANNEL)
    await world.admin.add_channel(OTHER_CHANNEL)
    assert (await world.ingest.ingest_post(CHANNEL, VIP_POST, T0)).outcome is IngestOutcome.IGNORED

    await world.admin.save_parser(VIP_SPEC)
    read = await world.ingest.ingest_post(CHANNEL, VIP_POST, T0 + 1)
    elsewhere = await world.ingest.ingest_post(OTHER_CHANNEL, VIP_POST, T0 + 1)
    await world.admin.delete_parser("vip")
    after_delete = await world.ingest.ingest_post(CHANNEL, VIP_POST + "\n", T0 + 2)
    await world.ingest.close()

    assert read.outcome is IngestOutcome.ACCEPTED
    assert elsewhere.outcome is IngestOutcome.IGNORED
    assert after_delete.outcome is IngestOutcome.IGNORED
    [signal] = world.fan_out.signals
    assert (signal.strategy, signal.symbol, signal.entry) == (
        "vip",
        "ARB/USDT:USDT",
        Entry(EntryKind.LIMIT, (Decimal("1.0825"),)),
    )


async def test_a_parser_saved_by_another_process_applies_after_the_refresh(world: World) -> None:
    await world.admin.add_channel(CHANNEL)
    assert (await world.ingest.ingest_post(CHANNEL, VIP_POST, T0)).outcome is IngestOutcome.IGNORED
    # Another process (the CLI, a second bot) shares the database but not the cache.
    await SignalSourcesService(world.database, world.keyring).save_parser(VIP_SPEC)

    cached = await world.ingest.ingest_post(CHANNEL, VIP_POST, T0)
    world.clock.now += 60_000
    refreshed = await world.ingest.ingest_post(CHANNEL, VIP_POST, T0 + 1)
    await world.ingest.close()
    assert cached.outcome is IngestOutcome.IGNORED
    assert refreshed.outcome is IngestOutcome.ACCEPTED


def alert(secret: str, **changes: Any) -> dict[str, Any]:
    return {
        "secret": secret,
        "strategy": "tv_breakout",
        "symbol": "BTCUSDT",
        "side": "buy",
        "price": 67250.5,
        "stop_loss": 66100,
        "take_profits": [68400, 69800],
        "leverage": 10,
        "timestamp": T0,
        **changes,
    }


async def test_a_webhook_alert_with_the_right_secret_becomes_a_signal(world: World) -> None:
    created = await world.admin.add_webhook("tv", strategy="tv_breakout", max_lag_s=60)
    secret = created.secret.reveal()
    result = await world.ingest.ingest_webhook("tv", alert(secret), T0 + 2000)
    await world.ingest.close()

    assert result.outcome is IngestOutcome.ACCEPTED
    [signal] = world.fan_out.signals
    assert (signal.source, signal.strategy, signal.symbol) == (
        SignalSource(SourceKind.WEBHOOK, "tv"),
        "tv_breakout",
        "BTC/USDT:USDT",
    )
    [record] = await world.stored()
    assert secret not in record.raw_text and '"symbol": "BTCUSDT"' in record.raw_text


async def test_a_wrong_secret_is_refused_and_never_stored_or_logged(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    created = await world.admin.add_webhook("tv", strategy="tv_breakout")
    wrong = "guess-" + created.secret.reveal()[6:]
    caplog.set_level(logging.DEBUG)

    for payload in (alert(wrong), alert(""), {k: v for k, v in alert(wrong).items() if k != "secret"}):
        with pytest.raises(WebhookSecretError):
            await world.ingest.ingest_webhook("tv", payload, T0)
    await world.ingest.close()

    assert await world.stored() == [] and world.fan_out.signals == [] and world.drained_events() == []
    assert "wrong or missing secret" in caplog.text and "webhook:tv" in caplog.text
    assert wrong not in caplog.text
    async with world.database.transaction() as tx:
        audit = await tx.audit.list(limit=100)
    assert audit and all(wrong not in repr(entry) for entry in audit)


async def test_unknown_and_disabled_webhook_sources_are_refused(world: World) -> None:
    with pytest.raises(UnknownSourceError, match="no enabled webhook source 'nope'"):
        await world.ingest.ingest_webhook("nope", alert("anything"), T0)
    created = await world.admin.add_webhook("tv", strategy="tv_breakout")
    await world.admin.update_source(SourceKind.WEBHOOK, "tv", enabled=False)
    with pytest.raises(UnknownSourceError):
        await world.ingest.ingest_webhook("tv", alert(created.secret.reveal()), T0)
    assert await world.stored() == []


async def test_a_stale_alert_is_rejected_and_the_sources_max_lag_wins(world: World) -> None:
    secret = (await world.admin.add_webhook("tv", strategy="tv_breakout", max_lag_s=30)).secret.reveal()
    stale = await world.ingest.ingest_webhook("tv", alert(secret), T0 + 45_000)
    patient = await world.ingest.ingest_webhook("tv", alert(secret, max_lag=600), T0 + 45_000)
    stricter = await world.ingest.ingest_webhook("tv", alert(secret, max_lag=10), T0 + 20_000)
    fresh = await world.ingest.ingest_webhook("tv", alert(secret, max_lag="600"), T0 + 20_000)
    await world.ingest.close()

    assert [r.outcome for r in (stale, patient, stricter)] == [IngestOutcome.REJECTED] * 3
    assert stale.reason == "webhook: the alert is 45.0 s old, over its max_lag 30 s"
    assert fresh.outcome is IngestOutcome.ACCEPTED
    events = world.drained_events()
    assert [e.code for e in events] == ["stale_alert"] * 3
    records = await world.stored()
    assert all(secret not in record.raw_text for record in records)
    assert {record.status for record in records} == {SignalStatus.REJECTED, SignalStatus.ACCEPTED}


async def test_an_authenticated_but_malformed_or_foreign_alert_is_rejected(world: World) -> None:
    secret = (await world.admin.add_webhook("tv", strategy="tv_breakout")).secret.reveal()
    malformed = await world.ingest.ingest_webhook("tv", alert(secret, side="sideways"), T0)
    foreign = await world.ingest.ingest_webhook("tv", alert(secret, strategy="elcaro"), T0)
    inconsistent = await world.ingest.ingest_webhook("tv", alert(secret, stop_loss=68000), T0)
    await world.ingest.close()

    assert malformed.reason == "webhook: side must be buy, sell, long or short, not 'sideways'"
    assert foreign.reason == "webhook: this source posts for strategy 'tv_breakout', not 'elcaro'"
    assert inconsistent.reason == "webhook: a long's stop 68000 must be below its entry 67250.5"
    assert [e.code for e in world.drained_events()] == ["invalid_alert", "strategy_not_allowed", "invalid_signal"]
    assert world.fan_out.signals == []
    assert all(secret not in record.raw_text for record in await world.stored())


async def test_a_rotated_secret_replaces_the_old_one_at_once(world: World) -> None:
    old = (await world.admin.add_webhook("tv", strategy="tv_breakout")).secret.reveal()
    new = (await world.admin.rotate_webhook_secret("tv")).secret.reveal()
    with pytest.raises(WebhookSecretError):
        await world.ingest.ingest_webhook("tv", alert(old), T0)
    assert (await world.ingest.ingest_webhook("tv", alert(new), T0)).outcome is IngestOutcome.ACCEPTED
