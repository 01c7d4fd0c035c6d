"""The one way in for every signal: channel posts, webhook alerts, the strategy engine, an admin.

Whatever the source, a post ends in exactly one :class:`IngestResult`:

- a signal is stored once with its raw text and handed to the fan-out (``on_signal``); the same
  post from the same source again within the de-duplication window is recorded as a duplicate of
  the first and never fanned out again;
- a cancel marks the newest still-accepted signal of that source and symbol cancelled and hands
  its id to ``on_cancel``; a repeat of the same cancel post within the window changes nothing, so a
  redelivered update cannot withdraw an older signal as well (the signal it withdrew records the post,
  so this holds across restarts);
- a post that looks like a signal but is not a valid one is stored with its reason and announced to
  admins as a ``SIGNAL_REJECTED`` event;
- anything else (chat, news, a post from a channel nobody configured) leaves no trace.

The fan-out and cancel callables run as background tasks owned by the service, so ingest answers a
channel or a webhook caller at once however long the orders take; :meth:`SignalIngestService.close`
waits for them.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation
from enum import StrEnum

from elcaro.core.clock import now_ms, to_datetime
from elcaro.core.events import EventBus
from elcaro.core.secrets import Keyring
from elcaro.models import AuditEntry, Signal, SignalCancel, SignalSource, SourceKind
from elcaro.models.errors import ConflictError, InvalidSignalError, NotFoundError, ValidationError
from elcaro.models.events import EventKind, TradingEvent
from elcaro.services.signal_sources import ParserCatalog, webhook_secret_context
from elcaro.services.users import require_admin
from elcaro.signals import (
    Outcome,
    ParseResult,
    StaleWebhookError,
    WebhookPayloadError,
    WebhookSecretError,
    parse_message,
    parse_webhook,
)
from elcaro.signals.message import MAX_MESSAGE_CHARS
from elcaro.storage import Database, SignalStatus

log = logging.getLogger(__name__)

DEFAULT_DEDUP_WINDOW_MS = 24 * 3600 * 1000
"""Channels repost and Telegram redelivers within hours; a day covers both, and a genuinely new
signal with word-for-word the same text a day later is taken as new."""
DEFAULT_CANCEL_WINDOW_MS = 7 * 24 * 3600 * 1000
"""How far back a cancel post reaches: older signals are long filled or expired."""
INBOX_REF = "inbox"
"""``manual:inbox``: posts an operator drops into the platform's inbox directory."""

OnSignal = Callable[[Signal], Awaitable[object]]
OnCancel = Callable[[int], Awaitable[object]]


class IngestOutcome(StrEnum):
    ACCEPTED = "accepted"
    """Stored and handed to the fan-out; ``signal_id`` is the new signal."""
    DUPLICATE = "duplicate"
    """Seen within the window: recorded, not fanned out; ``signal_id`` is the original."""
    CANCELLED = "cancelled"
    """``signal_id`` was withdrawn and handed to ``on_cancel``."""
    CANCEL_UNMATCHED = "cancel_unmatched"
    """A cancel with no open signal of its source and symbol to withdraw: nothing changed."""
    REJECTED = "rejected"
    """Stored with ``reason`` for admins; ``signal_id`` is the stored post."""
    IGNORED = "ignored"
    """Not a signal, or not from a configured source: nothing stored."""


@dataclass(frozen=True, slots=True)
class IngestResult:
    outcome: IngestOutcome
    signal_id: int | None = None
    reason: str | None = None


class UnknownSourceError(NotFoundError):
    """A webhook alert for a source that is not configured or is switched off."""


def parse_post(text: str) -> ParseResult:
    """What the built-in formats make of ``text``, without storing anything: for trying a format."""
    return parse_message(text, SignalSource(SourceKind.MANUAL, "preview"))


class SignalIngestService:
    def __init__(
        self,
        database: Database,
        keyring: Keyring,
        events: EventBus[TradingEvent],
        on_signal: OnSignal,
        on_cancel: OnCancel,
        *,
        parsers: ParserCatalog | None = None,
        dedup_window_ms: int = DEFAULT_DEDUP_WINDOW_MS,
        cancel_window_ms: int = DEFAULT_CANCEL_WINDOW_MS,
        clock: Callable[[], int] = now_ms,
    ) -> None:
        self._db = database
        self._keyring = keyring
        self._events = events
        self._on_signal = on_signal
        self._on_cancel = on_cancel
        self.parsers = parsers or ParserCatalog(database, clock=clock)
        """Share it with ``SignalSourcesService`` so a parser an admin saves applies to the next post."""
        self._dedup_window_ms = dedup_window_ms
        self._cancel_window_ms = cancel_window_ms
        self._clock = clock
        # Checking for a duplicate and storing must be one step, or two copies of a post arriving
        # together would both be new. SQLite serialises writers anyway; PostgreSQL at READ
        # COMMITTED would not, hence the lock (one process: the embedded default).
        self._store_lock = asyncio.Lock()
        self._tasks: set[asyncio.Task[None]] = set()
        self._active = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self._closed = False

    async def ingest_post(self, channel_id: str, text: str, received_at: int) -> IngestResult:
        """A post of a Telegram channel (the bot calls this for every channel post it sees)."""
        async with self._working():
            async with self._db.transaction() as tx:
                configured = await tx.signal_sources.get(SourceKind.CHANNEL, channel_id)
            if configured is None or not configured.enabled:
                log.debug("post of channel %s ignored: not an enabled signal source", channel_id)
                return IngestResult(IngestOutcome.IGNORED, reason=f"channel {channel_id} is not a signal source")
            source = SignalSource(SourceKind.CHANNEL, channel_id)
            return await self._ingest_text(source, text, received_at, strategy=configured.strategy)

    async def ingest_manual_post(
        self, text: str, received_at: int, *, ref: str = INBOX_REF, actor_id: int | None = None
    ) -> IngestResult:
        """A post written by an admin or dropped into the inbox, read like a channel post."""
        async with self._working():
            await self._require_admin(actor_id)
            return await self._ingest_text(SignalSource(SourceKind.MANUAL, ref), text, received_at, strategy=None)

    async def ingest_manual(self, signal: Signal, actor_id: int | None) -> IngestResult:
        """A signal an admin composed (in the bot or web app); audited under their name."""
        if signal.source.kind is not SourceKind.MANUAL:
            raise ValidationError(f"a manual signal has a manual source, not {signal.source}", field="source")
        async with self._working():
            await self._require_admin(actor_id)
            audit = AuditEntry(
                action="signal.manual",
                actor_user_id=actor_id,
                subject=f"signal_source:{signal.source}",
                details={"symbol": signal.symbol, "side": str(signal.side), "strategy": signal.strategy},
                at=self._clock(),
            )
            return await self._accept(self._received(signal), audit)

    async def ingest_engine(self, signal: Signal) -> IngestResult:
        """A signal of the platform's own strategy engine."""
        if signal.source.kind is not SourceKind.ENGINE:
            raise ValidationError(f"an engine signal has an engine source, not {signal.source}", field="source")
        async with self._working():
            return await self._accept(self._received(signal))

    async def ingest_webhook(self, source_name: str, payload: Mapping[str, object], now: int) -> IngestResult:
        """A TradingView-style alert POSTed to webhook source ``source_name``.

        Raises ``UnknownSourceError`` for a source that is not configured (or is off) and
        ``WebhookSecretError`` for a wrong or missing secret; either way nothing is stored and the
        log line names the source only, never what the caller sent. An authenticated alert that is
        malformed, stale or for another strategy is rejected like an inconsistent post.
        """
        async with self._working():
            async with self._db.transaction() as tx:
                configured = await tx.signal_sources.get(SourceKind.WEBHOOK, source_name)
            if configured is None or not configured.enabled:
                log.warning("webhook alert refused: %r is not an enabled webhook source", source_name[:64])
                raise UnknownSourceError(f"no enabled webhook source {source_name[:64]!r}")
            secret = (
                self._keyring.decrypt(configured.secret_enc, context=webhook_secret_context(source_name))
                if configured.secret_enc is not None
                else ""
            )
            source = SignalSource(SourceKind.WEBHOOK, source_name)
            try:
                signal = parse_webhook(
                    _within_lag(payload, configured.max_lag_s), secret=secret, now_ms=now, source=source_name
                )
            except WebhookSecretError:
                log.warning("webhook alert for %s refused: wrong or missing secret", source)
                raise
            except InvalidSignalError as error:
                code = (
                    "stale_alert"
                    if isinstance(error, StaleWebhookError)
                    else "invalid_alert"
                    if isinstance(error, WebhookPayloadError)
                    else "invalid_signal"
                )
                return await self._reject(
                    source, _alert_text(payload), now, error.reason, code=code, parser="webhook", field=error.field
                )
            if configured.strategy is not None and signal.strategy != configured.strategy:
                reason = f"this source posts for strategy {configured.strategy!r}, not {signal.strategy!r}"
                return await self._reject(
                    source,
                    signal.raw_text,
                    now,
                    reason,
                    code="strategy_not_allowed",
                    parser="webhook",
                    field="strategy",
                )
            return await self._accept(signal)

    async def close(self) -> None:
        """Refuse new posts, then wait for the ones being ingested and every fan-out and cancel started."""
        self._closed = True
        await self._idle.wait()
        while self._tasks:
            await asyncio.gather(*self._tasks)

    @asynccontextmanager
    async def _working(self) -> AsyncIterator[None]:
        if self._closed:
            raise ConflictError("signal ingest is shut down")
        self._active += 1
        self._idle.clear()
        try:
            yield
        finally:
            self._active -= 1
            if not self._active:
                self._idle.set()

    async def _require_admin(self, actor_id: int | None) -> None:
        if actor_id is not None:
            async with self._db.transaction() as tx:
                await require_admin(tx, actor_id)

    def _received(self, signal: Signal) -> Signal:
        return signal if signal.received_at else replace(signal, received_at=self._clock())

    async def _ingest_text(
        self, source: SignalSource, text: str, received_at: int, *, strategy: str | None
    ) -> IngestResult:
        result = (await self.parsers.registry()).parse(text, source, received_at=received_at)
        if result.outcome is Outcome.SIGNAL and result.signal is not None:
            signal = result.signal
            if strategy is not None and signal.strategy != strategy:
                # The source's strategy is what users follow; the format only says how to read it.
                signal = replace(signal, strategy=strategy)
            return await self._accept(signal)
        if result.outcome is Outcome.CANCEL and result.cancel is not None:
            return await self._cancel(result.cancel)
        if result.outcome is Outcome.REJECTED:
            return await self._reject(
                source,
                text[:MAX_MESSAGE_CHARS],
                received_at,
                result.reason or "refused",
                code="invalid_signal",
                parser=result.parser,
                field=result.field,
            )
        return IngestResult(IngestOutcome.IGNORED, reason="not a signal")

    async def _accept(self, signal: Signal, audit: AuditEntry | None = None) -> IngestResult:
        async with self._store_lock, self._db.transaction() as tx:
            original = await tx.signals.find_duplicate(
                signal.content_hash, since=signal.received_at - self._dedup_window_ms
            )
            stored = await tx.signals.add(signal)
            signal_id = stored.id
            assert signal_id is not None  # the repository hands the signal back with its id
            if original is not None:
                await tx.signals.set_status(signal_id, SignalStatus.DUPLICATE, f"same post as signal {original}")
            if audit is not None:
                await tx.audit.add(replace(audit, details={**audit.details, "signal_id": signal_id}))
        if original is not None:
            log.info("signal from %s is a repeat of signal %s: not fanned out again", signal.source, original)
            return IngestResult(IngestOutcome.DUPLICATE, original, f"same post as signal {original}")
        log.info("signal %s from %s: %s %s %s", signal_id, signal.source, signal.strategy, signal.side, signal.symbol)
        self._spawn(self._on_signal(stored), "fan-out", signal_id)
        return IngestResult(IngestOutcome.ACCEPTED, signal_id)

    async def _cancel(self, cancel: SignalCancel) -> IngestResult:
        key = _post_key(cancel.source, cancel.raw_text)
        async with self._store_lock, self._db.transaction() as tx:
            withdrawn = await tx.signals.cancelled_by(
                cancel.source,
                key,
                signals_since=cancel.received_at - self._cancel_window_ms,
                posted_since=cancel.received_at - self._dedup_window_ms,
            )
            if withdrawn is not None:
                reason = f"same cancel post as for signal {withdrawn}"
                return IngestResult(IngestOutcome.DUPLICATE, withdrawn, reason)
            open_signal = await tx.signals.latest_open_for(
                cancel.source, cancel.symbol, since=cancel.received_at - self._cancel_window_ms
            )
            if open_signal is None:
                return IngestResult(
                    IngestOutcome.CANCEL_UNMATCHED,
                    reason=f"no open signal of {cancel.source} for {cancel.symbol} to cancel",
                )
            when = to_datetime(cancel.received_at or self._clock()).strftime("%Y-%m-%d %H:%M:%S UTC")
            await tx.signals.cancel(
                open_signal.id, f"withdrawn by the source at {when}", post_key=key, posted_at=cancel.received_at
            )
        log.info("signal %s withdrawn by %s", open_signal.id, cancel.source)
        self._spawn(self._on_cancel(open_signal.id), "cancel", open_signal.id)
        return IngestResult(IngestOutcome.CANCELLED, open_signal.id)

    async def _reject(
        self,
        source: SignalSource,
        raw_text: str,
        received_at: int,
        reason: str,
        *,
        code: str,
        parser: str | None,
        field: str | None,
    ) -> IngestResult:
        described = f"{parser}: {reason}" if parser else reason
        async with self._db.transaction() as tx:
            signal_id = await tx.signals.add_rejected(source, raw_text, described, received_at)
        data = {"source": str(source), "reason": reason}
        if parser:
            data["parser"] = parser
        if field:
            data["field"] = field
        self._events.publish(
            TradingEvent(
                EventKind.SIGNAL_REJECTED,
                at=self._clock(),
                signal_id=signal_id,
                code=code,
                data=data,
                message=described,
            )
        )
        log.info("post %s from %s rejected: %s", signal_id, source, described)
        return IngestResult(IngestOutcome.REJECTED, signal_id, described)

    def _spawn(self, work: Awaitable[object], what: str, signal_id: int) -> None:
        task = asyncio.create_task(self._guarded(work, what, signal_id), name=f"signal {signal_id} {what}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _guarded(self, work: Awaitable[object], what: str, signal_id: int) -> None:
        # The fan-out records each user's outcome itself; what arrives here is a failure of the
        # whole step, which admins must hear about because no user will.
        try:
            await work
        except Exception as error:
            log.exception("%s of signal %s failed", what, signal_id)
            self._events.publish(
                TradingEvent(
                    EventKind.ERROR,
                    at=self._clock(),
                    signal_id=signal_id,
                    code=f"{what.replace('-', '_')}_failed",
                    message=f"{what} of signal {signal_id} failed: {type(error).__name__}",
                )
            )


@asynccontextmanager
async def open_signal_ingest(
    database: Database,
    keyring: Keyring,
    events: EventBus[TradingEvent],
    on_signal: OnSignal,
    on_cancel: OnCancel,
    *,
    clock: Callable[[], int] = now_ms,
) -> AsyncIterator[SignalIngestService]:
    """The ingest service for the main job, closed (its fan-outs finished) when the block ends."""
    service = SignalIngestService(database, keyring, events, on_signal, on_cancel, clock=clock)
    try:
        yield service
    finally:
        await service.close()


def _within_lag(payload: Mapping[str, object], limit_s: int | None) -> Mapping[str, object]:
    """The alert with its ``max_lag`` capped at the source's: an alert may ask for less patience, never more."""
    if limit_s is None:
        return payload
    asked = payload.get("max_lag")
    if asked is None:
        return {**payload, "max_lag": limit_s}
    if isinstance(asked, bool) or not isinstance(asked, int | float | str | Decimal):
        return payload  # malformed: parse_webhook refuses it with the reason
    try:
        asked_s = Decimal(str(asked).strip())
    except InvalidOperation:
        return payload
    if asked_s.is_finite() and asked_s > limit_s:
        return {**payload, "max_lag": limit_s}
    return payload


def _alert_text(payload: Mapping[str, object]) -> str:
    """A refused alert as admins see it: every field but the secret."""
    kept = {str(key): value for key, value in payload.items() if key != "secret"}
    return json.dumps(kept, sort_keys=True, default=str, ensure_ascii=False)[:MAX_MESSAGE_CHARS]


def _post_key(source: SignalSource, text: str) -> str:
    return hashlib.sha256(f"{source}\x1f{' '.join(text.split()).casefold()}".encode()).hexdigest()
