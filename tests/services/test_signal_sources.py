"""Administering signal sources and admin-defined parsers."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from elcaro.core.events import EventBus
from elcaro.core.secrets import Keyring, generate_key
from elcaro.models import SignalSource, SourceKind, TelegramProfile
from elcaro.models.errors import ConflictError, NotFoundError, PermissionDeniedError, SecretError, ValidationError
from elcaro.services.signal_ingest import IngestOutcome, SignalIngestService
from elcaro.services.signal_sources import (
    ParserCatalog,
    SignalSourcesService,
    reencrypt_webhook_secrets,
    webhook_secret_context,
)
from elcaro.services.users import UserService
from elcaro.signals import InvalidParserSpecError, Outcome
from elcaro.storage import Database

pytestmark = pytest.mark.db

T0 = 1_732_190_400_000
CHANNEL = "-1001234567890"
SPEC: dict[str, Any] = {
    "version": 1,
    "name": "vip",
    "strategy": "vip",
    "channel_ids": [CHANNEL],
    "marker": r"^VIP CALL",
    "symbol": r"#(?P<symbol>[A-Z0-9]+USDT)",
    "side": r"\b(?P<side>LONG|SHORT)\b",
    "price": r"^In (?P<price>[\d.]+)",
}
POST = "VIP CALL\n#ARBUSDT LONG\nIn 1.0825"


@pytest.fixture
def keyring() -> Keyring:
    return Keyring([generate_key()])


@pytest.fixture
def service(database: Database, keyring: Keyring) -> SignalSourcesService:
    return SignalSourcesService(database, keyring, clock=lambda: T0)


async def test_a_webhook_gets_a_strong_secret_shown_once_and_stored_encrypted(
    service: SignalSourcesService, database: Database, keyring: Keyring
) -> None:
    created = await service.add_webhook("tv", strategy="tv_breakout", max_lag_s=30)
    secret = created.secret.reveal()
    assert len(secret) >= 43 and secret not in repr(created)
    assert (created.source.source, created.source.strategy, created.source.max_lag_s) == (
        SignalSource(SourceKind.WEBHOOK, "tv"),
        "tv_breakout",
        30,
    )
    assert created.source.has_secret and created.source.enabled
    async with database.transaction() as tx:
        stored = await tx.signal_sources.get(SourceKind.WEBHOOK, "tv")
        audit = await tx.audit.list()
    assert stored is not None and stored.secret_enc is not None and secret.encode() not in stored.secret_enc
    assert keyring.decrypt(stored.secret_enc, context=webhook_secret_context("tv")) == secret
    with pytest.raises(SecretError):  # bound to its source: a blob moved to another source is useless
        keyring.decrypt(stored.secret_enc, context=webhook_secret_context("other"))
    assert [entry.action for entry in audit] == ["signal_source.add"]
    assert secret not in repr(audit)
    other = await service.add_webhook("tv2", strategy="tv_breakout")
    assert other.secret != created.secret


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"name": "TV Alerts"}, "name"),
        ({"name": ""}, "name"),
        ({"strategy": "no spaces please"}, "strategy"),
        ({"max_lag_s": 0}, "max_lag_s"),
        ({"max_lag_s": 3601}, "max_lag_s"),
    ],
)
async def test_a_webhook_is_refused_with_the_setting_named(
    service: SignalSourcesService, changes: dict[str, Any], field: str
) -> None:
    arguments: dict[str, Any] = {"name": "tv", "strategy": "tv_breakout", "max_lag_s": 60, **changes}
    name = arguments.pop("name")
    with pytest.raises(ValidationError) as refused:
        await service.add_webhook(name, **arguments)
    assert refused.value.field == field
    assert await service.list_sources() == []


async def test_channels_are_added_by_their_numeric_id_once(service: SignalSourcesService) -> None:
    channel = await service.add_channel(f" {CHANNEL} ", strategy="vip")
    plain = await service.add_channel("-1005555")
    assert (channel.source, channel.strategy, channel.has_secret, channel.max_lag_s) == (
        SignalSource(SourceKind.CHANNEL, CHANNEL),
        "vip",
        False,
        None,
    )
    assert plain.strategy is None
    with pytest.raises(ValidationError, match="numeric id") as refused:
        await service.add_channel("@vip_calls")
    assert refused.value.field == "channel_id"
    with pytest.raises(ConflictError, match="exists already"):
        await service.add_channel(CHANNEL)
    assert [s.source.ref for s in await service.list_sources()] == [CHANNEL, "-1005555"]


async def test_update_keeps_what_it_is_not_told_to_change(service: SignalSourcesService, keyring: Keyring) -> None:
    created = await service.add_webhook("tv", strategy="tv_breakout", max_lag_s=30)
    updated = await service.update_source(SourceKind.WEBHOOK, "tv", max_lag_s=90, enabled=False)
    assert (updated.strategy, updated.max_lag_s, updated.enabled) == ("tv_breakout", 90, False)
    assert updated.has_secret
    assert updated.created_at == created.source.created_at

    await service.add_channel(CHANNEL, strategy="vip")
    channel = await service.update_source(SourceKind.CHANNEL, CHANNEL, strategy=None)
    assert channel.strategy is None and channel.enabled
    with pytest.raises(ValidationError, match="only a webhook"):
        await service.update_source(SourceKind.CHANNEL, CHANNEL, max_lag_s=10)
    with pytest.raises(ValidationError, match="one strategy"):
        await service.update_source(SourceKind.WEBHOOK, "tv", strategy=None)
    with pytest.raises(NotFoundError, match="no webhook source 'nope'"):
        await service.update_source(SourceKind.WEBHOOK, "nope", enabled=True)


async def test_delete_a_source(service: SignalSourcesService) -> None:
    await service.add_channel(CHANNEL)
    await service.delete_source(SourceKind.CHANNEL, CHANNEL)
    assert await service.list_sources() == []
    with pytest.raises(NotFoundError):
        await service.delete_source(SourceKind.CHANNEL, CHANNEL)


async def test_only_admins_change_sources_and_parsers(service: SignalSourcesService, database: Database) -> None:
    users = UserService(database)
    trader = await users.register(TelegramProfile(1))
    admin = await users.promote((await users.register(TelegramProfile(2))).id)

    refused = [
        service.add_channel(CHANNEL, actor_id=trader.id),
        service.add_webhook("tv", strategy="x", actor_id=trader.id),
        service.save_parser(SPEC, actor_id=trader.id),
        service.list_sources(actor_id=trader.id),
        service.recent_signals(actor_id=trader.id),
    ]
    for attempt in refused:
        with pytest.raises(PermissionDeniedError):
            await attempt
    await service.add_channel(CHANNEL, actor_id=admin.id)
    saved = await service.save_parser(SPEC, actor_id=admin.id)
    assert saved.created_by == admin.id
    async with database.transaction() as tx:
        actions = {entry.action for entry in await tx.audit.list(actor_user_id=admin.id)}
    assert actions == {"signal_source.add", "custom_parser.save"}


async def test_a_parser_is_checked_before_it_is_saved(service: SignalSourcesService) -> None:
    with pytest.raises(InvalidParserSpecError, match="does not compile") as broken:
        await service.save_parser({**SPEC, "price": r"^In (?P<price>[\d.]+"})
    assert broken.value.field == "price"
    with pytest.raises(InvalidParserSpecError, match="refused") as unsafe:
        await service.save_parser({**SPEC, "symbol": r"#(?P<symbol>(\w+)+)USDT"})
    assert unsafe.value.field == "symbol"
    with pytest.raises(InvalidParserSpecError, match="named group"):
        await service.save_parser({**SPEC, "side": r"LONG|SHORT"})
    assert await service.list_parsers() == []

    saved = await service.save_parser(SPEC)
    assert saved.spec.to_dict() == {**SPEC, "stop": None, "targets": None, "leverage": None} | {
        "entry": "limit",
        "ignore_case": True,
    }
    replaced = await service.save_parser({**SPEC, "strategy": "vip2"}, enabled=False)
    [listed] = await service.list_parsers()
    assert (listed.name, listed.spec.strategy, listed.enabled) == ("vip", "vip2", False)
    assert replaced.spec == listed.spec
    await service.delete_parser("vip")
    assert await service.list_parsers() == []
    with pytest.raises(NotFoundError, match="no parser named 'vip'"):
        await service.delete_parser("vip")


def test_preview_shows_what_a_spec_extracts_before_saving(service: SignalSourcesService) -> None:
    results = service.preview(SPEC, [POST, "gm", "VIP CALL\n#ARBUSDT\nIn 1.08"])
    assert [r.outcome for r in results] == [Outcome.SIGNAL, Outcome.NOTHING, Outcome.REJECTED]
    assert results[0].signal is not None and results[0].signal.symbol == "ARB/USDT:USDT"
    assert results[2].reason == "the side pattern finds nothing in the post"
    with pytest.raises(InvalidParserSpecError):
        service.preview({**SPEC, "marker": "("}, [POST])


async def test_recent_signals_show_what_became_of_each_post(database: Database, keyring: Keyring) -> None:
    service = SignalSourcesService(database, keyring)

    async def nothing(_: object) -> None:
        return None

    ingest = SignalIngestService(database, keyring, EventBus(), nothing, nothing)
    await service.add_channel(CHANNEL)
    await ingest.ingest_post(CHANNEL, "SCALPER SHORT DOGEUSDT @ 0.08112", T0)
    await ingest.ingest_post(CHANNEL, "SCALPER SHORT DOGEUSDT @ 0.08112", T0 + 1)
    await ingest.ingest_post(CHANNEL, "SCALPER SHORT DOGEUSDT", T0 + 2)
    await ingest.close()

    recent = await service.recent_signals()
    assert [(s.status, s.symbol, s.side) for s in recent] == [
        ("rejected", None, None),
        ("duplicate", "DOGE/USDT:USDT", "short"),
        ("accepted", "DOGE/USDT:USDT", "short"),
    ]
    assert recent[0].reason == "scalper: the line has no price"
    assert recent[1].reason == f"same post as signal {recent[2].id}"
    assert len(await service.recent_signals(1)) == 1
    with pytest.raises(ValidationError):
        await service.recent_signals(0)


async def test_a_stored_parser_that_no_longer_builds_is_skipped_not_fatal(
    database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    async with database.transaction() as tx:
        broken = {**SPEC, "name": "old", "marker": "("}
        await tx.custom_parsers.save("old", broken, enabled=True, created_by=None, now=T0)
        await tx.custom_parsers.save("vip", SPEC, enabled=True, created_by=None, now=T0)
    with caplog.at_level(logging.ERROR):
        registry = await ParserCatalog(database).registry()
    assert "admin parser 'old' is skipped: marker: pattern '(' does not compile" in caplog.text
    result = registry.parse(POST, SignalSource(SourceKind.CHANNEL, CHANNEL))
    assert result.outcome is Outcome.SIGNAL and result.parser == "custom:vip"


async def test_the_parser_catalog_rebuilds_only_when_storage_changed(database: Database) -> None:
    now = [T0]
    catalog = ParserCatalog(database, refresh_ms=1000, clock=lambda: now[0])
    empty = await catalog.registry()
    async with database.transaction() as tx:
        await tx.custom_parsers.save("vip", SPEC, enabled=True, created_by=None, now=T0)
    assert await catalog.registry() is empty  # within the refresh interval
    now[0] += 1000
    built = await catalog.registry()
    assert built is not empty
    now[0] += 1000
    assert await catalog.registry() is built  # looked again, nothing changed: nothing rebuilt
    catalog.invalidate()
    async with database.transaction() as tx:
        await tx.custom_parsers.save("vip", SPEC, enabled=False, created_by=None, now=T0)
    assert (await catalog.registry()).parse(POST, SignalSource(SourceKind.CHANNEL, CHANNEL)).outcome is Outcome.NOTHING


async def test_webhook_secrets_follow_a_master_key_rotation(database: Database) -> None:
    old_key, new_key = generate_key(), generate_key()
    service = SignalSourcesService(database, Keyring([old_key]))
    secret = (await service.add_webhook("tv", strategy="tv_breakout")).secret.reveal()
    await service.add_channel(CHANNEL)

    async with database.transaction() as tx:
        assert await reencrypt_webhook_secrets(tx, Keyring([new_key, old_key])) == 1
    async with database.transaction() as tx:
        assert await reencrypt_webhook_secrets(tx, Keyring([new_key, old_key])) == 0

    async def nothing(_: object) -> None:
        return None

    ingest = SignalIngestService(database, Keyring([new_key]), EventBus(), nothing, nothing)
    alert = {"secret": secret, "strategy": "tv_breakout", "symbol": "BTCUSDT", "side": "buy", "timestamp": T0}
    assert (await ingest.ingest_webhook("tv", alert, T0)).outcome is IngestOutcome.ACCEPTED
    await ingest.close()
