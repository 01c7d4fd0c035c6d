"""What every route reaches: the services of the running platform, and who is calling.

Routes take these as FastAPI dependencies (``Svc``, ``CurrentUser``, ``AdminUser``, ``OrderCaller``), so a
route says in its signature whether it needs a login, an admin, or the order rate limit — and the
ownership test can read that from the route table.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Path, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from elcaro.core.config import Settings
from elcaro.models.errors import PermissionDeniedError
from elcaro.services.backtests import BacktestService
from elcaro.services.desk import AdminDesk, TradingDesk
from elcaro.services.execution_history import ExecutionHistoryService
from elcaro.services.runtime import Runtime
from elcaro.services.web_sessions import Caller, SessionError, WebSessionService
from elcaro.web.feed import EventFeed
from elcaro.web.metrics import HttpMetrics
from elcaro.web.ratelimit import RateLimits
from elcaro.web.schemas.common import MAX_ID


@dataclass
class WebServices:
    runtime: Runtime
    settings: Settings
    sessions: WebSessionService
    desk: TradingDesk
    admin: AdminDesk
    backtests: BacktestService
    executions: ExecutionHistoryService
    feed: EventFeed
    limits: RateLimits
    metrics: HttpMetrics
    engine: Any | None = None
    """The strategy engine's service when the running platform has one (``EngineService``)."""


def _services(request: Request) -> WebServices:
    found: WebServices = request.app.state.services
    return found


_bearer = HTTPBearer(auto_error=False, description="The access token from /api/v1/auth/…: `Bearer <token>`.")


async def _caller(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Caller:
    if credentials is None:
        raise SessionError("log in first: send Authorization: Bearer <access token>")
    caller = await _services(request).sessions.authenticate(credentials.credentials)
    request.state.user_id = caller.user.id
    return caller


async def _admin(caller: Annotated[Caller, Depends(_caller)]) -> Caller:
    if not caller.user.is_admin:
        raise PermissionDeniedError("only an admin can do this")
    return caller


def client_ip(request: Request) -> str:
    """The peer's address (uvicorn puts a trusted proxy's X-Forwarded-For here)."""
    return request.client.host if request.client else "unknown"


async def _order_caller(request: Request, caller: Annotated[Caller, Depends(_caller)]) -> Caller:
    limits = _services(request).limits
    limits.orders_ip.take(client_ip(request))
    limits.orders_user.take(str(caller.user.id))
    return caller


Svc = Annotated[WebServices, Depends(_services)]
CurrentUser = Annotated[Caller, Depends(_caller)]
AdminUser = Annotated[Caller, Depends(_admin)]
OrderCaller = Annotated[Caller, Depends(_order_caller)]
"""A logged-in caller within the order rate limits (per IP and per user)."""

PathId = Annotated[int, Path(ge=1, le=MAX_ID, description="A stored object's id.")]
"""An id in a path: a number the database can hold, or 422 before any lookup."""
