"""The main job: bring the platform up, keep it running until asked to stop, shut it down cleanly."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager

from elcaro import __version__
from elcaro.core.config import Settings
from elcaro.models.events import TradingEvent
from elcaro.services.engine import EngineService
from elcaro.services.engine.wiring import engine_config, running_engine
from elcaro.services.local_exchange import local_exchange
from elcaro.services.maintenance import upgrade_database
from elcaro.services.notifications import ErrorDigest, Notifications
from elcaro.services.platform import Platform
from elcaro.services.runtime import Runtime, open_runtime
from elcaro.services.signal_inbox import inbox_directory, run_inbox

log = logging.getLogger("elcaro")


Interface = Callable[[Runtime, Settings, EngineService | None], AbstractAsyncContextManager[str]]
"""An interface the main job serves (the Telegram bot, the web app): a context manager that runs it and yields a
line for the start-up log. Interfaces sit above the services, so the command line, which sits above them all,
hands them in."""


async def run_platform(settings: Settings, stop: asyncio.Event, interfaces: Sequence[Interface] = ()) -> None:
    """Open the running platform, the strategy engine when enabled and ``interfaces``; serve until ``stop`` is set.

    Paper mode by default: the local exchange (the Bybit-compatible simulator and the in-process
    paper venue on one engine) is where ``*:paper`` targets trade. Signals come in through the
    inbox directory (``elcaro signal send``); every open position is managed by the monitor.
    """
    async with open_runtime(settings) as runtime, contextlib.AsyncExitStack() as running:
        inbox = inbox_directory(settings.data_dir)
        feed = asyncio.create_task(_log_notices(runtime.notifications), name="notice log")
        reading = asyncio.create_task(run_inbox(runtime.ingest, inbox, stop), name="signal inbox")
        components = [
            f"database ({runtime.platform.database.dialect}, schema {runtime.schema_revision})",
            f"Bybit-compatible simulator at {runtime.exchange.simulator.url}",
            f"paper exchange ({len(runtime.exchange.paper.engine.account_ids)} accounts)",
            f"copy trading ({runtime.resumed_executions} interrupted executions resumed)",
            "position monitor",
            f"signal inbox {inbox}",
        ]
        engine: EngineService | None = None
        if settings.engine_enabled:
            config = engine_config(settings)
            engine = await running.enter_async_context(running_engine(runtime, config, settings.data_dir))
            components.append(f"strategy engine ({engine.preset.name}, {config.mode} on {config.target})")
        for interface in interfaces:
            components.append(await running.enter_async_context(interface(runtime, settings, engine)))
        log.info("ElCaro %s running: %s. Ctrl+C to stop.", __version__, "; ".join(components))
        try:
            await stop.wait()
            log.info("stopping")
            await reading
        finally:
            feed.cancel()
            await asyncio.gather(feed, return_exceptions=True)
    log.info("stopped")


async def _log_notices(notifications: Notifications) -> None:
    """Until the Telegram bot and the web app carry them, trading events go to the log."""
    stream = notifications.subscribe(None)
    try:
        async for notice in stream:
            log.info("event: %s", _describe(notice))
    finally:
        stream.close()


def _describe(notice: TradingEvent | ErrorDigest) -> str:
    if isinstance(notice, ErrorDigest):
        return f"{notice}"
    where = " ".join(str(part) for part in (notice.target, notice.symbol) if part)
    user = f"user {notice.user_id}" if notice.user_id is not None else "admins"
    return f"{notice.kind} for {user} {where} {notice.code or ''} {notice.message}".strip()


async def run_simulator(settings: Settings, stop: asyncio.Event) -> None:
    """Only the local exchange, for trading against it with any Bybit client."""
    await upgrade_database(settings)
    async with Platform.open(settings) as platform, local_exchange(settings, platform.database) as exchange:
        simulator = exchange.simulator
        log.info(
            "Bybit-compatible simulator at %s (admin token: %s). Ctrl+C to stop.",
            simulator.url,
            "from the config file" if simulator.config.admin_token else simulator.admin_token,
        )
        await stop.wait()
