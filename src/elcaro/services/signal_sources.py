"""Where signals may come from, administered: channels, webhooks and admin-defined parsers.

A source must be configured before ingest accepts anything from it, so the bot being added to a
chat, or a stranger guessing a webhook URL, never produces a signal. Webhook secrets are generated
here (never chosen by a person, so they cannot be weak), shown once, and stored encrypted like
exchange keys; the context binds each blob to its source, so a blob copied to another source does
not decrypt.
"""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Any

from elcaro.core.clock import now_ms
from elcaro.core.secrets import Keyring
from elcaro.models import AuditEntry, Secret, SignalSource, SourceKind
from elcaro.models.errors import ConflictError, NotFoundError, ValidationError
from elcaro.services.users import require_admin
from elcaro.signals import CustomParserSpec, ParseResult, SignalParserRegistry, preview
from elcaro.signals.webhook import DEFAULT_MAX_LAG_S, LONGEST_MAX_LAG_S
from elcaro.storage import Database, SignalRecord, SignalSourceRecord, UnitOfWork

if TYPE_CHECKING:
    from collections.abc import Callable

log = logging.getLogger(__name__)

_KEY = re.compile(r"[a-z0-9][a-z0-9_.-]{0,63}")
_CHANNEL_ID = re.compile(r"-?[1-9][0-9]{0,19}")
_SECRET_BYTES = 32
"""256 bits, url-safe: fits in a TradingView alert body and cannot be guessed."""
DEFAULT_PARSER_REFRESH_MS = 10_000
"""How stale the parsers of a running platform may be after an admin changes them from another
process (the CLI, a second bot instance); changes made through a service sharing the catalog apply
at once."""


def webhook_secret_context(name: str) -> str:
    """Associated data of a webhook source's secret blob: it decrypts for that source only."""
    return f"signal_source:webhook:{name}"


class _Unchanged(Enum):
    UNCHANGED = "unchanged"


UNCHANGED = _Unchanged.UNCHANGED
"""For :meth:`SignalSourcesService.update_source`: leave this setting as it is."""


@dataclass(frozen=True, slots=True)
class SourceInfo:
    """A configured source as admins see it: everything but the secret."""

    id: int
    source: SignalSource
    strategy: str | None
    """None: each post keeps the strategy of the format that read it."""
    max_lag_s: int | None
    enabled: bool
    has_secret: bool
    created_at: int


@dataclass(frozen=True, slots=True)
class NewWebhook:
    """A webhook source and its secret, which is shown this once and never again."""

    source: SourceInfo
    secret: Secret


@dataclass(frozen=True, slots=True)
class ParserInfo:
    name: str
    spec: CustomParserSpec
    enabled: bool
    created_by: int | None
    updated_at: int


@dataclass(frozen=True, slots=True)
class SignalSummary:
    """One stored post for the admins' list: what it became and, when refused, why."""

    id: int
    source: SignalSource
    status: str
    strategy: str | None
    symbol: str | None
    side: str | None
    reason: str | None
    raw_text: str
    received_at: int


class ParserCatalog:
    """The parser registry ingest uses: built-ins plus the enabled admin parsers in storage.

    Building a registry compiles and safety-checks every admin pattern, so it is kept until the
    stored parsers change. Storage is looked at again at most every ``refresh_ms`` (another process
    may have changed them) or at once after :meth:`invalidate`.
    """

    def __init__(
        self, database: Database, *, refresh_ms: int = DEFAULT_PARSER_REFRESH_MS, clock: Callable[[], int] = now_ms
    ) -> None:
        self._db = database
        self._refresh_ms = refresh_ms
        self._clock = clock
        self._registry = SignalParserRegistry()
        self._loaded: list[tuple[str, dict[str, Any]]] | None = None
        self._checked_at: int | None = None

    def invalidate(self) -> None:
        self._checked_at = None

    async def registry(self) -> SignalParserRegistry:
        now = self._clock()
        if self._checked_at is not None and now - self._checked_at < self._refresh_ms:
            return self._registry
        async with self._db.transaction() as tx:
            records = await tx.custom_parsers.list(enabled_only=True)
        loaded = [(record.name, record.spec) for record in records]
        if loaded != self._loaded:
            self._registry = SignalParserRegistry(custom=_specs(loaded))
            self._loaded = loaded
        self._checked_at = now
        return self._registry


def _specs(stored: Iterable[tuple[str, dict[str, Any]]]) -> list[CustomParserSpec]:
    specs = []
    for name, spec in stored:
        try:
            specs.append(CustomParserSpec.from_dict(spec))
        except ValidationError as error:
            # Saved specs were valid when saved; one that no longer is (a newer rule, a hand edit)
            # must not take every other parser down with it.
            log.error("admin parser %r is skipped: %s", name, error)
    return specs


class SignalSourcesService:
    """Every change is one transaction with its audit entry; ``actor_id`` as in ``UserService``."""

    def __init__(
        self,
        database: Database,
        keyring: Keyring,
        *,
        parsers: ParserCatalog | None = None,
        clock: Callable[[], int] = now_ms,
    ) -> None:
        self._db = database
        self._keyring = keyring
        self._parsers = parsers
        self._clock = clock

    async def add_channel(
        self, channel_id: str, *, strategy: str | None = None, actor_id: int | None = None
    ) -> SourceInfo:
        """Accept posts of a Telegram channel; ``strategy`` files all of them under one strategy."""
        channel_id = _channel_id(channel_id)
        strategy = None if strategy is None else _key(strategy, "strategy")
        async with self._db.transaction() as tx:
            await require_admin(tx, actor_id)
            await _refuse_existing(tx, SourceKind.CHANNEL, channel_id)
            record = await tx.signal_sources.upsert(
                SourceKind.CHANNEL,
                channel_id,
                strategy=strategy,
                secret_enc=None,
                max_lag_s=None,
                enabled=True,
                now=self._clock(),
            )
            await self._audit(tx, "signal_source.add", actor_id, record, {"strategy": strategy})
        return _info(record)

    async def add_webhook(
        self, name: str, *, strategy: str, max_lag_s: int = DEFAULT_MAX_LAG_S, actor_id: int | None = None
    ) -> NewWebhook:
        """A webhook source with a fresh secret. Its alerts must name ``strategy``: a leaked secret
        then lets nobody post to another strategy's followers."""
        name = _key(name, "name")
        strategy = _key(strategy, "strategy")
        max_lag_s = _max_lag(max_lag_s)
        secret = secrets.token_urlsafe(_SECRET_BYTES)
        async with self._db.transaction() as tx:
            await require_admin(tx, actor_id)
            await _refuse_existing(tx, SourceKind.WEBHOOK, name)
            record = await tx.signal_sources.upsert(
                SourceKind.WEBHOOK,
                name,
                strategy=strategy,
                secret_enc=self._keyring.encrypt(secret, context=webhook_secret_context(name)),
                max_lag_s=max_lag_s,
                enabled=True,
                now=self._clock(),
            )
            await self._audit(tx, "signal_source.add", actor_id, record, {"strategy": strategy, "max_lag_s": max_lag_s})
        return NewWebhook(_info(record), Secret(secret))

    async def rotate_webhook_secret(self, name: str, *, actor_id: int | None = None) -> NewWebhook:
        """Replace a webhook's secret (the old one stops working at once); the new one is shown once."""
        secret = secrets.token_urlsafe(_SECRET_BYTES)
        async with self._db.transaction() as tx:
            await require_admin(tx, actor_id)
            record = await _require(tx, SourceKind.WEBHOOK, name)
            record = await _rewrite(
                tx, record, secret_enc=self._keyring.encrypt(secret, context=webhook_secret_context(name))
            )
            await self._audit(tx, "signal_source.rotate_secret", actor_id, record, {})
        return NewWebhook(_info(record), Secret(secret))

    async def update_source(
        self,
        kind: SourceKind,
        ref: str,
        *,
        strategy: str | _Unchanged | None = UNCHANGED,
        max_lag_s: int | _Unchanged = UNCHANGED,
        enabled: bool | _Unchanged = UNCHANGED,
        actor_id: int | None = None,
    ) -> SourceInfo:
        kind = SourceKind(kind)
        changes: dict[str, Any] = {}
        if strategy is not UNCHANGED:
            if strategy is None and kind is SourceKind.WEBHOOK:
                raise ValidationError("a webhook source always posts for one strategy", field="strategy")
            changes["strategy"] = None if strategy is None else _key(strategy, "strategy")
        if max_lag_s is not UNCHANGED:
            if kind is not SourceKind.WEBHOOK:
                raise ValidationError("only a webhook source has a max lag", field="max_lag_s")
            changes["max_lag_s"] = _max_lag(max_lag_s)
        if enabled is not UNCHANGED:
            changes["enabled"] = bool(enabled)
        async with self._db.transaction() as tx:
            await require_admin(tx, actor_id)
            record = await _rewrite(tx, await _require(tx, kind, ref), **changes)
            await self._audit(tx, "signal_source.update", actor_id, record, changes)
        return _info(record)

    async def delete_source(self, kind: SourceKind, ref: str, *, actor_id: int | None = None) -> None:
        async with self._db.transaction() as tx:
            await require_admin(tx, actor_id)
            record = await _require(tx, kind, ref)
            await tx.signal_sources.delete(record.id)
            await self._audit(tx, "signal_source.delete", actor_id, record, {})

    async def list_sources(self, *, actor_id: int | None = None) -> list[SourceInfo]:
        async with self._db.transaction() as tx:
            await require_admin(tx, actor_id)
            return [_info(record) for record in await tx.signal_sources.list()]

    def preview(self, spec: Mapping[str, Any], samples: Iterable[str]) -> list[ParseResult]:
        """What a parser spec would make of each sample post; ``InvalidParserSpecError`` names a broken pattern."""
        return preview(CustomParserSpec.from_dict(spec), samples)

    async def save_parser(
        self, spec: Mapping[str, Any], *, enabled: bool = True, actor_id: int | None = None
    ) -> ParserInfo:
        """Add or replace the parser named in ``spec``, once it has passed every check of ``CustomParserSpec``."""
        built = CustomParserSpec.from_dict(spec)
        async with self._db.transaction() as tx:
            await require_admin(tx, actor_id)
            record = await tx.custom_parsers.save(
                built.name, built.to_dict(), enabled=enabled, created_by=actor_id, now=self._clock()
            )
            await tx.audit.add(
                AuditEntry(
                    action="custom_parser.save",
                    actor_user_id=actor_id,
                    subject=f"custom_parser:{built.name}",
                    details={"spec": built.to_dict(), "enabled": enabled},
                    at=self._clock(),
                )
            )
        self._parsers_changed()
        return ParserInfo(record.name, built, record.enabled, record.created_by, record.updated_at)

    async def list_parsers(self, *, actor_id: int | None = None) -> list[ParserInfo]:
        async with self._db.transaction() as tx:
            await require_admin(tx, actor_id)
            records = await tx.custom_parsers.list()
        return [
            ParserInfo(record.name, spec, record.enabled, record.created_by, record.updated_at)
            for record in records
            for spec in _specs([(record.name, record.spec)])
        ]

    async def delete_parser(self, name: str, *, actor_id: int | None = None) -> None:
        async with self._db.transaction() as tx:
            await require_admin(tx, actor_id)
            if not await tx.custom_parsers.delete(name):
                raise NotFoundError(f"no parser named {name!r}")
            await tx.audit.add(
                AuditEntry(
                    action="custom_parser.delete",
                    actor_user_id=actor_id,
                    subject=f"custom_parser:{name}",
                    at=self._clock(),
                )
            )
        self._parsers_changed()

    async def recent_signals(self, limit: int = 50, *, actor_id: int | None = None) -> list[SignalSummary]:
        """Newest first, with what became of each post."""
        if not 1 <= limit <= 1000:
            raise ValidationError("show 1–1000 signals", field="limit")
        async with self._db.transaction() as tx:
            await require_admin(tx, actor_id)
            return [_summary(record) for record in await tx.signals.list_recent(limit)]

    def _parsers_changed(self) -> None:
        if self._parsers is not None:
            self._parsers.invalidate()

    async def _audit(
        self, tx: UnitOfWork, action: str, actor_id: int | None, record: SignalSourceRecord, details: dict[str, Any]
    ) -> None:
        await tx.audit.add(
            AuditEntry(
                action=action,
                actor_user_id=actor_id,
                subject=f"signal_source:{record.source}",
                details=details,
                at=self._clock(),
            )
        )


async def reencrypt_webhook_secrets(tx: UnitOfWork, keyring: Keyring) -> int:
    """Put every webhook secret under the keyring's primary key, for master-key rotation; the count changed."""
    changed = 0
    for record in await tx.signal_sources.list():
        blob = record.secret_enc
        if blob is None or keyring.is_current(blob):
            continue
        context = webhook_secret_context(record.source.ref)
        await _rewrite(tx, record, secret_enc=keyring.encrypt(keyring.decrypt(blob, context=context), context=context))
        changed += 1
    return changed


def _key(value: str, field: str) -> str:
    value = value.strip()
    if not _KEY.fullmatch(value):
        raise ValidationError("use 1–64 lower-case letters, digits, '_', '.' or '-'", field=field)
    return value


def _channel_id(value: str) -> str:
    value = value.strip()
    if not _CHANNEL_ID.fullmatch(value):
        raise ValidationError(
            "the numeric id Telegram gives the chat, e.g. -1001234567890 (not its @name, which can change)",
            field="channel_id",
        )
    return value


def _max_lag(value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= LONGEST_MAX_LAG_S:
        raise ValidationError(f"seconds in 1–{LONGEST_MAX_LAG_S}", field="max_lag_s")
    return value


async def _refuse_existing(tx: UnitOfWork, kind: SourceKind, ref: str) -> None:
    if await tx.signal_sources.get(kind, ref) is not None:
        raise ConflictError(f"{kind} source {ref!r} exists already; update or delete it")


async def _require(tx: UnitOfWork, kind: SourceKind, ref: str) -> SignalSourceRecord:
    record = await tx.signal_sources.get(kind, ref)
    if record is None:
        raise NotFoundError(f"no {kind} source {ref!r}")
    return record


async def _rewrite(tx: UnitOfWork, record: SignalSourceRecord, **changes: Any) -> SignalSourceRecord:
    """Store ``record`` with ``changes``; the repository replaces every setting, so the rest are passed as they are."""
    settings: dict[str, Any] = {
        "strategy": record.strategy,
        "secret_enc": record.secret_enc,
        "max_lag_s": record.max_lag_s,
        "enabled": record.enabled,
        **changes,
    }
    return await tx.signal_sources.upsert(record.source.kind, record.source.ref, now=record.created_at, **settings)


def _info(record: SignalSourceRecord) -> SourceInfo:
    return SourceInfo(
        id=record.id,
        source=record.source,
        strategy=record.strategy,
        max_lag_s=record.max_lag_s,
        enabled=record.enabled,
        has_secret=record.secret_enc is not None,
        created_at=record.created_at,
    )


def _summary(record: SignalRecord) -> SignalSummary:
    return SignalSummary(
        id=record.id,
        source=record.source,
        status=str(record.status),
        strategy=record.strategy,
        symbol=record.symbol,
        side=None if record.signal is None else str(record.signal.side),
        reason=record.reject_reason,
        raw_text=record.raw_text,
        received_at=record.received_at,
    )
