"""``/api/v1/admin``: users and approvals, bans, pauses, signals with what became of them, sources and
webhook secrets, parsers (with preview), the platform's state. Every route needs the admin role (403);
the services check it again (``require_admin``) with the caller's id."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from elcaro.core.clock import now_ms
from elcaro.models import ApprovalState, Role, SourceKind
from elcaro.models.errors import ValidationError
from elcaro.services.signal_sources import UNCHANGED
from elcaro.web.context import AdminUser, PathId, Svc
from elcaro.web.schemas.admin import (
    BanIn,
    ChannelIn,
    IngestOut,
    NewWebhookOut,
    ParserIn,
    ParserOut,
    PauseIn,
    PostIn,
    PreviewIn,
    PreviewOut,
    SignalExecutionsOut,
    SignalOut,
    SourceChange,
    SourceOut,
    StatusOut,
    UserOut,
    WebhookIn,
)
from elcaro.web.schemas.common import MAX_ID, Done, plain
from elcaro.web.schemas.signals import ExecutionEntryOut

router = APIRouter(prefix="/admin", tags=["admin"])


def _kind(kind: str) -> SourceKind:
    try:
        return SourceKind(kind)
    except ValueError:
        raise ValidationError(f"one of {', '.join(SourceKind)}", field="kind") from None


# ------------------------------------------------------------------------------ users


@router.get("/users", response_model=list[UserOut])
async def users(
    admin: AdminUser,
    svc: Svc,
    approval: ApprovalState | None = None,
    role: Role | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> list[UserOut]:
    found = await svc.runtime.platform.users.list_users(approval=approval, role=role, limit=limit, offset=offset)
    return [UserOut.of(user) for user in found]


@router.get("/users/search", response_model=list[UserOut])
async def search_users(
    admin: AdminUser, svc: Svc, q: Annotated[str, Query(min_length=1, max_length=64)]
) -> list[UserOut]:
    """By platform id (``#12``), Telegram id or username (a prefix will do)."""
    digits = q.strip().removeprefix("#")
    if digits.isdigit() and not (digits.isascii() and int(digits) <= MAX_ID):  # "³" is a digit, not a number
        raise ValidationError(f"an id is a number from 1 to {MAX_ID}", field="q")
    return [UserOut.of(user) for user in await svc.admin.find_users(admin.user.id, q)]


@router.get("/users/{user_id}", response_model=UserOut)
async def user(user_id: PathId, admin: AdminUser, svc: Svc) -> UserOut:
    return UserOut.of(await svc.runtime.platform.users.get(user_id))


@router.post("/users/{user_id}/approve", response_model=UserOut)
async def approve(user_id: PathId, admin: AdminUser, svc: Svc) -> UserOut:
    changed = await svc.runtime.platform.users.approve(user_id, actor_id=admin.user.id)
    svc.sessions.forget_user(user_id)
    return UserOut.of(changed)


@router.post("/users/{user_id}/reject", response_model=UserOut)
async def reject(user_id: PathId, admin: AdminUser, svc: Svc) -> UserOut:
    changed = await svc.runtime.platform.users.reject(user_id, actor_id=admin.user.id)
    svc.sessions.forget_user(user_id)
    return UserOut.of(changed)


@router.post("/users/{user_id}/ban", response_model=UserOut)
async def ban(user_id: PathId, body: BanIn, admin: AdminUser, svc: Svc) -> UserOut:
    """Ban a user: every web session of theirs stops working at once."""
    banned = await svc.runtime.platform.users.ban(user_id, actor_id=admin.user.id, reason=body.reason)
    await svc.sessions.revoke_all(user_id, reason="banned")
    return UserOut.of(banned)


@router.post("/users/{user_id}/unban", response_model=UserOut)
async def unban(user_id: PathId, admin: AdminUser, svc: Svc) -> UserOut:
    changed = await svc.runtime.platform.users.unban(user_id, actor_id=admin.user.id)
    svc.sessions.forget_user(user_id)
    return UserOut.of(changed)


@router.post("/users/{user_id}/promote", response_model=UserOut)
async def promote(user_id: PathId, admin: AdminUser, svc: Svc) -> UserOut:
    changed = await svc.runtime.platform.users.promote(user_id, actor_id=admin.user.id)
    svc.sessions.forget_user(user_id)
    return UserOut.of(changed)


@router.post("/users/{user_id}/demote", response_model=UserOut)
async def demote(user_id: PathId, admin: AdminUser, svc: Svc) -> UserOut:
    changed = await svc.runtime.platform.users.demote(user_id, actor_id=admin.user.id)
    svc.sessions.forget_user(user_id)
    return UserOut.of(changed)


@router.put("/users/{user_id}/pause", response_model=Done)
async def pause_user(user_id: PathId, body: PauseIn, admin: AdminUser, svc: Svc) -> Done:
    """Pause (or resume) one user's new entries; their open positions are still managed."""
    await svc.runtime.platform.users.get(user_id)  # 404 for no such user
    await svc.admin.set_user_paused(admin.user.id, user_id, body.paused)
    return Done()


# ------------------------------------------------------------------------------ trading


@router.put("/pause", response_model=Done)
async def global_pause(body: PauseIn, admin: AdminUser, svc: Svc) -> Done:
    """Stop (or allow again) every new entry on the platform; open positions are still managed."""
    await svc.admin.set_global_pause(admin.user.id, body.paused)
    return Done()


@router.post("/strategies/{strategy}/close", response_model=Done)
async def close_strategy(strategy: str, admin: AdminUser, svc: Svc) -> Done:
    """Close every open position of a strategy, for every user."""
    return Done(count=await svc.admin.close_strategy(admin.user.id, strategy))


@router.get("/status", response_model=StatusOut)
async def status(admin: AdminUser, svc: Svc) -> StatusOut:
    found = await svc.admin.status(admin.user.id)
    return StatusOut(
        global_paused=found.global_paused,
        pending_users=found.pending_users,
        open_positions=found.open_positions,
        managed_positions=found.managed_positions,
        exchange_errors=found.exchange_errors,
        last_signal_at=found.last_signal_at,
        last_signal_status=found.last_signal_status,
        open_by_strategy=await svc.admin.open_by_strategy(admin.user.id),
    )


# ------------------------------------------------------------------------------ signals


@router.get("/signals", response_model=list[SignalOut])
async def signals(admin: AdminUser, svc: Svc, limit: Annotated[int, Query(ge=1, le=1000)] = 50) -> list[SignalOut]:
    """Every source's posts, newest first, with what became of each (and why a refused one was refused)."""
    found = await svc.runtime.platform.signal_sources.recent_signals(limit, actor_id=admin.user.id)
    return [SignalOut.of(item) for item in found]


@router.post("/signals/preview", response_model=list[PreviewOut])
async def preview(body: PreviewIn, admin: AdminUser, svc: Svc) -> list[PreviewOut]:
    """What a parser spec would make of each sample post, before it is saved."""
    results = svc.runtime.platform.signal_sources.preview(body.spec, body.samples)
    return [
        PreviewOut(
            outcome=result.outcome.value,
            parser=result.parser,
            reason=result.reason,
            field=result.field,
            signal=None if result.signal is None else plain(result.signal),
        )
        for result in results
    ]


@router.post("/signals/post", response_model=IngestOut)
async def post_signal(body: PostIn, admin: AdminUser, svc: Svc) -> IngestOut:
    """Post a signal as an admin (read like a channel post, audited under the admin's name)."""
    result = await svc.runtime.ingest.ingest_manual_post(body.text, now_ms(), ref="web", actor_id=admin.user.id)
    return IngestOut(outcome=result.outcome.value, signal_id=result.signal_id, reason=result.reason)


@router.get("/signals/{signal_id}", response_model=SignalExecutionsOut)
async def signal(signal_id: PathId, admin: AdminUser, svc: Svc) -> SignalExecutionsOut:
    """One signal and its execution for every subscriber and target."""
    return SignalExecutionsOut.of(await svc.admin.signal(admin.user.id, signal_id))


@router.get("/signals/{signal_id}/executions", response_model=list[ExecutionEntryOut])
async def signal_executions(signal_id: PathId, admin: AdminUser, svc: Svc) -> list[ExecutionEntryOut]:
    """Every execution of one signal, in fan-out order, with when each was claimed and last changed."""
    return [ExecutionEntryOut.of(entry) for entry in await svc.executions.for_signal(admin.user.id, signal_id)]


# ------------------------------------------------------------------------------ sources and parsers


@router.get("/sources", response_model=list[SourceOut])
async def sources(admin: AdminUser, svc: Svc) -> list[SourceOut]:
    return [
        SourceOut.of(info) for info in await svc.runtime.platform.signal_sources.list_sources(actor_id=admin.user.id)
    ]


@router.post("/sources/channels", response_model=SourceOut, status_code=201)
async def add_channel(body: ChannelIn, admin: AdminUser, svc: Svc) -> SourceOut:
    added = await svc.runtime.platform.signal_sources.add_channel(
        body.channel_id, strategy=body.strategy, actor_id=admin.user.id
    )
    return SourceOut.of(added)


@router.post("/sources/webhooks", response_model=NewWebhookOut, status_code=201)
async def add_webhook(body: WebhookIn, admin: AdminUser, svc: Svc) -> NewWebhookOut:
    """A webhook source and its secret, shown this once."""
    made = await svc.runtime.platform.signal_sources.add_webhook(
        body.name, strategy=body.strategy, max_lag_s=body.max_lag_s, actor_id=admin.user.id
    )
    return NewWebhookOut(
        source=SourceOut.of(made.source), secret=made.secret.reveal(), url_path=f"/webhook/{made.source.source.ref}"
    )


@router.post("/sources/webhooks/{name}/rotate-secret", response_model=NewWebhookOut)
async def rotate_secret(name: str, admin: AdminUser, svc: Svc) -> NewWebhookOut:
    """A new secret for a webhook (the old one stops working at once), shown this once."""
    made = await svc.runtime.platform.signal_sources.rotate_webhook_secret(name, actor_id=admin.user.id)
    return NewWebhookOut(
        source=SourceOut.of(made.source), secret=made.secret.reveal(), url_path=f"/webhook/{made.source.source.ref}"
    )


@router.patch("/sources/{kind}/{ref}", response_model=SourceOut)
async def change_source(kind: str, ref: str, body: SourceChange, admin: AdminUser, svc: Svc) -> SourceOut:
    sent = body.model_fields_set
    changed = await svc.runtime.platform.signal_sources.update_source(
        _kind(kind),
        ref,
        strategy=body.strategy if "strategy" in sent else UNCHANGED,
        max_lag_s=body.max_lag_s if "max_lag_s" in sent and body.max_lag_s is not None else UNCHANGED,
        enabled=body.enabled if "enabled" in sent and body.enabled is not None else UNCHANGED,
        actor_id=admin.user.id,
    )
    return SourceOut.of(changed)


@router.delete("/sources/{kind}/{ref}", response_model=Done)
async def delete_source(kind: str, ref: str, admin: AdminUser, svc: Svc) -> Done:
    await svc.runtime.platform.signal_sources.delete_source(_kind(kind), ref, actor_id=admin.user.id)
    return Done()


@router.get("/parsers", response_model=list[ParserOut])
async def parsers(admin: AdminUser, svc: Svc) -> list[ParserOut]:
    return [
        ParserOut.of(info) for info in await svc.runtime.platform.signal_sources.list_parsers(actor_id=admin.user.id)
    ]


@router.put("/parsers", response_model=ParserOut)
async def save_parser(body: ParserIn, admin: AdminUser, svc: Svc) -> ParserOut:
    """Add or replace the parser named in ``spec`` once it passes every check (preview it first)."""
    saved = await svc.runtime.platform.signal_sources.save_parser(
        body.spec, enabled=body.enabled, actor_id=admin.user.id
    )
    svc.runtime.ingest.parsers.invalidate()
    return ParserOut.of(saved)


@router.delete("/parsers/{name}", response_model=Done)
async def delete_parser(name: str, admin: AdminUser, svc: Svc) -> Done:
    await svc.runtime.platform.signal_sources.delete_parser(name, actor_id=admin.user.id)
    svc.runtime.ingest.parsers.invalidate()
    return Done()
