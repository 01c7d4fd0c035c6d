"""``/api/v1/auth``: log in with a Telegram-signed payload, refresh, log out, list and end sessions.

Flow: the Mini App posts ``Telegram.WebApp.initData`` to ``/auth/telegram/mini-app`` (a browser page posts
the Login Widget's fields to ``/auth/telegram/widget``) and gets an access token (send it as
``Authorization: Bearer …``) and a refresh token. Before the access token expires, post the refresh token
to ``/auth/refresh``: both are replaced (keep only the new ones). ``/auth/logout`` ends the session.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from elcaro.web.context import CurrentUser, Svc, client_ip
from elcaro.web.schemas.auth import LoginOptionsOut, MiniAppLogin, RefreshRequest, SessionOut, TokenPair, WidgetLogin
from elcaro.web.schemas.common import Done, error_responses

router = APIRouter(prefix="/auth", tags=["auth"])


def _client(request: Request) -> str | None:
    return request.headers.get("user-agent")


@router.get("/options", response_model=LoginOptionsOut)
async def options(svc: Svc) -> LoginOptionsOut:
    """How to log in here: the bot's id for Telegram's login page and its username for a link to the bot.

    The login page in a browser sends the reader to ``https://oauth.telegram.org/auth?bot_id=…&origin=…&return_to=…``
    (the bot's domain set with @BotFather's ``/setdomain``); Telegram sends them back with ``#tgAuthResult=…``,
    which the page posts to ``/auth/telegram/widget``."""
    username = svc.settings.telegram_bot_username
    return LoginOptionsOut(bot_id=svc.sessions.bot_id, bot_username=None if username is None else username.lstrip("@"))


@router.post("/telegram/mini-app", response_model=TokenPair, responses=error_responses(503))
async def login_mini_app(body: MiniAppLogin, request: Request, svc: Svc) -> TokenPair:
    """Log in from inside Telegram: the Mini App's ``initData``, checked against the bot token."""
    svc.limits.login_ip.take(client_ip(request))
    tokens = await svc.sessions.login_mini_app(
        body.init_data, client=_client(request), admit=lambda telegram_id: svc.limits.login_user.take(str(telegram_id))
    )
    return TokenPair.of(tokens)


@router.post("/telegram/widget", response_model=TokenPair, responses=error_responses(503))
async def login_widget(body: WidgetLogin, request: Request, svc: Svc) -> TokenPair:
    """Log in from a browser with the Telegram Login Widget."""
    svc.limits.login_ip.take(client_ip(request))
    fields = body.model_dump(exclude_none=True)
    tokens = await svc.sessions.login_widget(
        fields, client=_client(request), admit=lambda telegram_id: svc.limits.login_user.take(str(telegram_id))
    )
    return TokenPair.of(tokens)


@router.post("/refresh", response_model=TokenPair)
async def refresh(body: RefreshRequest, request: Request, svc: Svc) -> TokenPair:
    """New access and refresh tokens for a refresh token, which stops working (present it again: logged out)."""
    svc.limits.login_ip.take(client_ip(request))
    return TokenPair.of(await svc.sessions.refresh(body.refresh_token))


@router.post("/logout", status_code=204)
async def logout(body: RefreshRequest, svc: Svc) -> Response:
    """End the session of this refresh token; its access tokens stop working at once."""
    await svc.sessions.logout(body.refresh_token)
    return Response(status_code=204)


@router.get("/sessions", response_model=list[SessionOut])
async def sessions(caller: CurrentUser, svc: Svc) -> list[SessionOut]:
    """The caller's live sessions (each device or browser logged in), newest first."""
    return [SessionOut.of(info, caller.session_id) for info in await svc.sessions.sessions(caller.user.id)]


@router.delete("/sessions/{session_id}", response_model=Done)
async def end_session(session_id: str, caller: CurrentUser, svc: Svc) -> Done:
    """End one of the caller's sessions (another device); someone else's is not found."""
    await svc.sessions.revoke(caller.user.id, session_id)
    return Done()
