"""Logging in, refreshing, the caller's sessions."""

from __future__ import annotations

from pydantic import Field

from elcaro.services.web_sessions import SessionInfo, Tokens
from elcaro.web.schemas.common import MAX_EPOCH_MS, MAX_ID, Body, Model


class LoginOptionsOut(Model):
    """What a login page needs to offer Telegram's ways in (nothing secret)."""

    bot_id: int | None = Field(
        description="For Telegram's login page (`oauth.telegram.org/auth?bot_id=…`); null: no bot."
    )
    bot_username: str | None = Field(
        description="The bot's username without `@` (a `t.me` link); null: not configured."
    )


class MiniAppLogin(Body):
    init_data: str = Field(min_length=1, max_length=4096, description="`Telegram.WebApp.initData`, as received.")


class WidgetLogin(Body):
    """The fields the Telegram Login Widget hands the page, as they came."""

    id: int = Field(ge=1, le=MAX_ID)
    auth_date: int = Field(ge=0, le=MAX_EPOCH_MS // 1000)
    hash: str = Field(pattern=r"^[0-9a-fA-F]{64}$")
    first_name: str | None = Field(None, max_length=256)
    last_name: str | None = Field(None, max_length=256)
    username: str | None = Field(None, max_length=64)
    photo_url: str | None = Field(None, max_length=1024)


class RefreshRequest(Body):
    refresh_token: str = Field(min_length=1, max_length=1024)


class TokenPair(Model):
    token_type: str = "bearer"  # noqa: S105 - the OAuth2 token type, not a secret
    access_token: str
    access_expires_at: int
    refresh_token: str
    refresh_expires_at: int
    session_id: str
    user_id: int
    is_admin: bool

    @classmethod
    def of(cls, tokens: Tokens) -> TokenPair:
        return cls(
            access_token=tokens.access_token.reveal(),
            access_expires_at=tokens.access_expires_at,
            refresh_token=tokens.refresh_token.reveal(),
            refresh_expires_at=tokens.refresh_expires_at,
            session_id=tokens.session_id,
            user_id=tokens.user.id,
            is_admin=tokens.user.is_admin,
        )


class SessionOut(Model):
    id: str
    method: str
    client: str | None
    created_at: int
    refreshed_at: int
    expires_at: int
    current: bool = False

    @classmethod
    def of(cls, info: SessionInfo, current_id: str) -> SessionOut:
        return cls(
            id=info.id,
            method=info.method,
            client=info.client,
            created_at=info.created_at,
            refreshed_at=info.refreshed_at,
            expires_at=info.expires_at,
            current=info.id == current_id,
        )
