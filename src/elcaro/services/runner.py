"""The main job: bring the platform up, keep it running until asked to stop, shut it down cleanly."""

from __future__ import annotations

import asyncio
import logging

from elcaro import __version__
from elcaro.core.config import Settings
from elcaro.core.events import EventBus
from elcaro.models.events import TradingEvent
from elcaro.services.copy_trading import CopyTradingService
from elcaro.services.exchange_access import ExchangeAccess
from elcaro.services.local_exchange import local_exchange
from elcaro.services.maintenance import upgrade_database
from elcaro.services.notifications import ErrorDigest, Notifications
from elcaro.services.platform import Platform
from elcaro.services.positions import PositionMonitor
from elcaro.services.signal_inbox import inbox_directory, run_inbox
from elcaro.services.signal_ingest import open_signal_ingest

log = logging.getLogger("elcaro")


async def run_platform(settings: Settings, stop: asyncio.Event) -> None:
    """Migrate, open every service, and serve until ``stop`` is set.

    Paper mode by default: the local exchange (the Bybit-compatible simulator and the in-process
    paper venue on one engine) is where ``*:paper`` targets trade. Signals come in through the
    inbox directory (``elcaro signal send``); fan-outs interrupted by a crash are resumed before
    any new signal is taken; every open position is managed by the monitor.
    """
    revision = await upgrade_database(settings)
    async with (
        Platform.open(settings) as platform,
        local_exchange(settings, platform.database) as exchange,
    ):
        promoted = await platform.users.ensure_config_admins()
        for user in promoted:
            log.info("user %s is an admin by configuration", user.id)
        bus: EventBus[TradingEvent] = EventBus()
        access = ExchangeAccess(platform.credentials, exchange.paper)
        monitor = PositionMonitor(platform.database, access, bus)
        copy = CopyTradingService(platform.database, access, bus, positions=monitor)
        notifications = Notifications(bus)
        inbox = inbox_directory(settings.data_dir)
        try:
            async with notifications.running(), monitor.running():
                resumed = await copy.resume()
                async with open_signal_ingest(
                    platform.database, platform.keyring, bus, copy.fan_out, copy.cancel
                ) as ingest:
                    feed = asyncio.create_task(_log_notices(notifications), name="notice log")
                    reading = asyncio.create_task(run_inbox(ingest, inbox, stop), name="signal inbox")
                    components = [
                        f"database ({platform.database.dialect}, schema {revision})",
                        f"Bybit-compatible simulator at {exchange.simulator.url}",
                        f"paper exchange ({len(exchange.paper.engine.account_ids)} accounts)",
                        f"copy trading ({resumed} interrupted executions resumed)",
                        "position monitor",
                        f"signal inbox {inbox}",
                    ]
                    log.info("ElCaro %s running: %s. Ctrl+C to stop.", __version__, "; ".join(components))
                    await stop.wait()
                    log.info("stopping")
                    await reading
                    feed.cancel()
                    await asyncio.gather(feed, return_exceptions=True)
        finally:
            await access.close()
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
