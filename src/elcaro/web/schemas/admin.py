"""Admin bodies: users, signals and their executions, sources, parsers, platform status."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from elcaro.models import User
from elcaro.services.desk import SignalExecutions
from elcaro.services.signal_sources import ParserInfo, SignalSummary, SourceInfo
from elcaro.web.schemas.common import Body, Model


class UserOut(Model):
    id: int
    telegram_id: int
    username: str | None
    display_name: str
    language: str
    role: str
    approval: str
    banned: bool
    trading_paused: bool
    terms_accepted_at: int | None
    created_at: int
    last_seen_at: int | None

    @classmethod
    def of(cls, user: User) -> UserOut:
        return cls(
            id=user.id,
            telegram_id=user.telegram_id,
            username=user.username,
            display_name=user.display_name,
            language=user.language,
            role=user.role.value,
            approval=user.approval.value,
            banned=user.banned,
            trading_paused=user.trading_paused,
            terms_accepted_at=user.terms_accepted_at,
            created_at=user.created_at,
            last_seen_at=user.last_seen_at,
        )


class BanIn(Body):
    reason: str = Field("", max_length=500)


class PauseIn(Body):
    paused: bool


class SignalOut(Model):
    id: int
    source: str
    status: str
    strategy: str | None
    symbol: str | None
    side: str | None
    reason: str | None
    raw_text: str
    received_at: int

    @classmethod
    def of(cls, item: SignalSummary) -> SignalOut:
        return cls(
            id=item.id,
            source=str(item.source),
            status=item.status,
            strategy=item.strategy,
            symbol=item.symbol,
            side=item.side,
            reason=item.reason,
            raw_text=item.raw_text,
            received_at=item.received_at,
        )


class ExecutionOut(Model):
    user_id: int
    target: str
    status: str
    reason_code: str | None
    reason: str | None
    position_id: int | None


class SignalExecutionsOut(Model):
    signal_id: int
    source: str
    status: str
    symbol: str | None
    side: str | None
    strategy: str | None
    reason: str | None
    received_at: int
    executions: list[ExecutionOut]
    by_status: dict[str, int]

    @classmethod
    def of(cls, item: SignalExecutions) -> SignalExecutionsOut:
        return cls(
            signal_id=item.signal_id,
            source=str(item.source),
            status=item.status,
            symbol=item.symbol,
            side=item.side,
            strategy=item.strategy,
            reason=item.reason,
            received_at=item.received_at,
            executions=[
                ExecutionOut(
                    user_id=e.user_id,
                    target=str(e.target),
                    status=e.status,
                    reason_code=e.reason_code,
                    reason=e.reason,
                    position_id=e.position_id,
                )
                for e in item.executions
            ],
            by_status=dict(item.by_status),
        )


class SourceOut(Model):
    id: int
    kind: str
    ref: str
    strategy: str | None
    max_lag_s: int | None
    enabled: bool
    has_secret: bool
    created_at: int

    @classmethod
    def of(cls, info: SourceInfo) -> SourceOut:
        return cls(
            id=info.id,
            kind=info.source.kind.value,
            ref=info.source.ref,
            strategy=info.strategy,
            max_lag_s=info.max_lag_s,
            enabled=info.enabled,
            has_secret=info.has_secret,
            created_at=info.created_at,
        )


class NewWebhookOut(Model):
    source: SourceOut
    secret: str = Field(description="Shown this once: put it in the alert body as `secret`.")
    url_path: str


class ChannelIn(Body):
    channel_id: str = Field(max_length=24)
    strategy: str | None = Field(None, max_length=64)


class WebhookIn(Body):
    name: str = Field(max_length=64)
    strategy: str = Field(max_length=64)
    max_lag_s: int = Field(60, ge=1, le=86_400)


class SourceChange(Body):
    strategy: str | None = Field(None, max_length=64)
    max_lag_s: int | None = Field(None, ge=1, le=86_400)
    enabled: bool | None = None


class ParserOut(Model):
    name: str
    spec: dict[str, Any]
    enabled: bool
    created_by: int | None
    updated_at: int

    @classmethod
    def of(cls, info: ParserInfo) -> ParserOut:
        return cls(
            name=info.name,
            spec=info.spec.to_dict(),
            enabled=info.enabled,
            created_by=info.created_by,
            updated_at=info.updated_at,
        )


class ParserIn(Body):
    spec: dict[str, Any]
    enabled: bool = True


class PreviewIn(Body):
    spec: dict[str, Any]
    samples: list[Annotated[str, Field(max_length=4096)]] = Field(min_length=1, max_length=50)


class PreviewOut(Model):
    outcome: str
    parser: str | None
    reason: str | None
    field: str | None
    signal: dict[str, Any] | None


class PostIn(Body):
    text: str = Field(min_length=1, max_length=4096)


class IngestOut(Model):
    outcome: str
    signal_id: int | None
    reason: str | None


class StatusOut(Model):
    global_paused: bool
    pending_users: int
    open_positions: int
    managed_positions: int
    exchange_errors: dict[str, int]
    last_signal_at: int | None
    last_signal_status: str | None
    open_by_strategy: dict[str, int]
