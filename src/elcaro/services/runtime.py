"""The running platform: the services that live as long as the main job, in one object.

``Platform`` holds what answers requests (users, credentials, settings); ``Runtime`` adds what keeps
working between requests — the local exchange, exchange access, the event bus, the position monitor,
copy trading, signal ingest, notifications, the scheduled jobs (staking interest, referral catch-up,
licence expiry warnings, equity snapshots) and the trading desk (one for every interface, so a manual
order placed from the web app or the bot is adopted once, by one loop). The Telegram bot, the web app
and the strategy engine each take a ``Runtime``, so they all see the same positions, the same event
stream and the same ingest.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from elcaro.core.config import Settings
from elcaro.core.events import EventBus
from elcaro.models.events import TradingEvent
from elcaro.services.copy_trading import CopyTradingService
from elcaro.services.desk import TradingDesk
from elcaro.services.equity import EquityService
from elcaro.services.exchange_access import ExchangeAccess
from elcaro.services.jobs import Scheduler, platform_jobs
from elcaro.services.local_exchange import LocalExchange, local_exchange
from elcaro.services.maintenance import upgrade_database
from elcaro.services.notifications import Notifications
from elcaro.services.platform import Platform
from elcaro.services.positions import PositionMonitor
from elcaro.services.signal_ingest import SignalIngestService, open_signal_ingest

log = logging.getLogger("elcaro")


@dataclass(frozen=True, slots=True)
class Runtime:
    platform: Platform
    exchange: LocalExchange
    access: ExchangeAccess
    bus: EventBus[TradingEvent]
    positions: PositionMonitor
    copy_trading: CopyTradingService
    ingest: SignalIngestService
    notifications: Notifications
    desk: TradingDesk
    """What a trader does through any interface (the bot, the web app); it adopts filled manual orders."""
    jobs: Scheduler
    """The platform's scheduled jobs, running in the background (see :mod:`elcaro.services.jobs`)."""
    schema_revision: str | None
    resumed_executions: int
    """Executions of a fan-out interrupted by a crash, carried on before any new signal was taken."""


@asynccontextmanager
async def open_runtime(settings: Settings) -> AsyncIterator[Runtime]:
    """Migrate, open every service and start the background ones; stop them all on the way out.

    Fan-outs interrupted by a crash are resumed before signal ingest opens, so no new signal
    overtakes one that was half done.
    """
    revision = await upgrade_database(settings)
    async with (
        Platform.open(settings) as platform,
        local_exchange(settings, platform.database) as exchange,
    ):
        for user in await platform.users.ensure_config_admins():
            log.info("user %s is an admin by configuration", user.id)
        bus: EventBus[TradingEvent] = EventBus()
        access = ExchangeAccess(platform.credentials, exchange.paper)
        monitor = PositionMonitor(platform.database, access, bus)
        copy = CopyTradingService(platform.database, access, bus, platform.licences, positions=monitor)
        notifications = Notifications(bus)
        equity = EquityService(platform.database, interval_ms=settings.equity_snapshot_interval_s * 1000)
        desk = TradingDesk(
            platform.database, platform.preferences, platform.credentials, access, monitor, equity=equity
        )
        jobs = platform_jobs(
            platform.ledger, platform.referrals, platform.licences, equity=equity, read_balances=desk.balances
        )
        try:
            async with notifications.running(), monitor.running(), jobs.running():
                resumed = await copy.resume()
                async with (
                    open_signal_ingest(platform.database, platform.keyring, bus, copy.fan_out, copy.cancel) as ingest,
                    desk.running(),
                ):
                    yield Runtime(
                        platform=platform,
                        exchange=exchange,
                        access=access,
                        bus=bus,
                        positions=monitor,
                        copy_trading=copy,
                        ingest=ingest,
                        notifications=notifications,
                        desk=desk,
                        jobs=jobs,
                        schema_revision=revision,
                        resumed_executions=resumed,
                    )
        finally:
            await access.close()
