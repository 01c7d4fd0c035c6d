"""The web app: FastAPI on the running platform's services, served by uvicorn inside the platform's event loop.

``create_app(runtime, settings)`` builds the ASGI app (its lifespan starts the live feed and the backtester;
the trading desk is the runtime's, shared with the bot); ``serve(runtime, settings)`` is what ``elcaro run`` starts when
``ELCARO_WEB_PORT`` is set: uvicorn as a task of the same loop, stopped cleanly on the way out.

Paths: the versioned API under ``/api/v1`` (OpenAPI at ``/docs`` and ``/openapi.json``), the live websocket
at ``/api/v1/ws``, and outside the version, because other systems are configured with them once:
``/health``, ``/metrics``, ``/webhook/{source}`` and ``/payments/crypto/callback``.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import logging
from collections.abc import AsyncIterator
from typing import Any

import uvicorn
from fastapi import APIRouter, FastAPI

from elcaro import __version__
from elcaro.core.config import Settings
from elcaro.models import Secret
from elcaro.services.backtests import BacktestService
from elcaro.services.desk import AdminDesk
from elcaro.services.execution_history import ExecutionHistoryService
from elcaro.services.runtime import Runtime
from elcaro.services.web_sessions import SessionPolicy, WebSessionService
from elcaro.web import dashboard, errors
from elcaro.web.context import WebServices
from elcaro.web.feed import ADMIN, EventFeed
from elcaro.web.guards import RefuseNul
from elcaro.web.metrics import HttpMetrics, MetricsMiddleware
from elcaro.web.ratelimit import RateLimitPolicy, RateLimits
from elcaro.web.routes import (
    account,
    admin,
    admin_accounts,
    auth,
    backtests,
    inbound,
    live,
    market,
    signals,
    system,
    trading,
    users,
)
from elcaro.web.routes import engine as engine_routes

log = logging.getLogger(__name__)

API_PREFIX = "/api/v1"
SESSION_PRUNE_INTERVAL_S = 6 * 3600


def build_services(
    runtime: Runtime,
    settings: Settings,
    *,
    engine: Any | None = None,
    limits: RateLimitPolicy | None = None,
    backtest_workers: int = 1,
) -> WebServices:
    platform = runtime.platform
    token = settings.telegram_bot_token
    jwt_secret = settings.web_jwt_secret
    return WebServices(
        runtime=runtime,
        settings=settings,
        sessions=WebSessionService(
            platform.database,
            platform.keyring,
            bot_token=None if token is None else Secret(token.get_secret_value()),
            signing_key=None if jwt_secret is None else Secret(jwt_secret.get_secret_value()),
            policy=SessionPolicy(
                auth_max_age_s=settings.web_auth_max_age_s,
                access_ttl_s=settings.web_access_token_ttl_s,
                refresh_ttl_s=settings.web_refresh_token_ttl_s,
            ),
        ),
        desk=runtime.desk,
        admin=AdminDesk(platform.database, runtime.positions),
        backtests=BacktestService(platform.market_data, workers=backtest_workers),
        executions=ExecutionHistoryService(platform.database),
        feed=EventFeed(runtime.notifications),
        limits=RateLimits(limits),
        metrics=HttpMetrics(),
        engine=engine,
    )


def create_app(
    runtime: Runtime,
    settings: Settings,
    *,
    engine: Any | None = None,
    limits: RateLimitPolicy | None = None,
    backtest_workers: int = 1,
) -> FastAPI:
    """The ASGI app on ``runtime``; ``engine`` is the running ``EngineService`` when the platform has one."""
    services = build_services(runtime, settings, engine=engine, limits=limits, backtest_workers=backtest_workers)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with (
            services.feed.running(),
            services.backtests.running(),
            _engine_events(services),
            _pruning(services),
        ):
            yield

    app = FastAPI(
        title="ElCaro",
        version=__version__,
        summary="Copy trading, the strategy engine and accounts: the API behind the dashboard and the Mini App.",
        docs_url="/docs",
        redoc_url=None,
        openapi_url="/openapi.json",
        lifespan=lifespan,
    )
    app.state.services = services
    errors.install(app)
    app.add_middleware(RefuseNul)
    app.add_middleware(MetricsMiddleware, metrics=services.metrics)

    api = APIRouter(prefix=API_PREFIX)
    for router in (
        auth.router,
        users.router,
        trading.router,
        trading.statistics,
        signals.router,
        account.licences,
        account.payments,
        account.wallet,
        backtests.router,
        market.router,
        engine_routes.router,
        admin.router,
        admin_accounts.router,
        live.router,
    ):
        api.include_router(router)
    app.include_router(api)
    app.include_router(inbound.router)
    app.include_router(system.router)
    dashboard.install(app)  # last: the API's routes come first
    return app


@contextlib.asynccontextmanager
async def _engine_events(services: WebServices) -> AsyncIterator[None]:
    """The engine's state changes on the admins' channel of the live feed."""
    if services.engine is None:
        yield
        return

    def on_transition(transition: Any) -> None:
        services.feed.publish(
            ADMIN,
            {
                "kind": "engine_state",
                "at": transition.at,
                "from": transition.source.value,
                "to": transition.target.value,
                "cause": transition.cause,
            },
        )

    unsubscribe = services.engine.subscribe(on_transition)
    try:
        yield
    finally:
        unsubscribe()


@contextlib.asynccontextmanager
async def _pruning(services: WebServices) -> AsyncIterator[None]:
    async def prune_forever() -> None:
        while True:
            try:
                removed = await services.sessions.prune()
                if removed:
                    log.info("forgot %s ended web sessions", removed)
            except Exception:  # housekeeping must never take the app down
                log.exception("pruning web sessions failed")
            await asyncio.sleep(SESSION_PRUNE_INTERVAL_S)

    task = asyncio.create_task(prune_forever(), name="web session pruning")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


class _Server(uvicorn.Server):
    """uvicorn inside an event loop it does not own: the platform handles signals, not uvicorn."""

    def install_signal_handlers(self) -> None:
        return None


@contextlib.asynccontextmanager
async def serving(app: FastAPI, host: str, port: int) -> AsyncIterator[str]:
    """Serve ``app`` on ``host:port`` (0: any free port) until the block ends; yields the base URL."""
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        lifespan="on",
        log_config=None,  # the platform's logging (scrubbed of secrets) handles uvicorn's loggers too
        access_log=False,
        proxy_headers=True,
        server_header=False,
        ws="websockets-sansio" if _websockets_available() else "none",
    )
    server = _Server(config)
    task = asyncio.create_task(server.serve(), name="web app")
    try:
        while not server.started:
            if task.done():
                await task  # it failed to start: raise why
                raise OSError(f"the web app could not listen on {host}:{port}")
            await asyncio.sleep(0.02)
        sockets = [socket for server_ in server.servers for socket in server_.sockets]
        bound = sockets[0].getsockname()[1] if sockets else port
        yield f"http://{host}:{bound}"
    finally:
        server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await task


@contextlib.asynccontextmanager
async def serve(runtime: Runtime, settings: Settings, engine: Any | None = None) -> AsyncIterator[str]:
    """What ``elcaro run`` starts when ``ELCARO_WEB_PORT`` is set; yields a line for the start-up log."""
    assert settings.web_port is not None
    app = create_app(runtime, settings, engine=engine)
    if settings.telegram_bot_token is None:
        log.warning("web app: no ELCARO_TELEGRAM_BOT_TOKEN, so nobody can log in (webhooks and /health still work)")
    if not _websockets_available():
        log.warning("web app: no websocket library (install `websockets`): /api/v1/ws will be refused")
    async with serving(app, settings.web_host, settings.web_port) as url:
        yield f"web app at {url} (API {url}{API_PREFIX}, docs {url}/docs)"


def _websockets_available() -> bool:
    """uvicorn serves websockets with the ``websockets`` package's sans-I/O protocol (a pinned dependency)."""
    return importlib.util.find_spec("websockets") is not None
