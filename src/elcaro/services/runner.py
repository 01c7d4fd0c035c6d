"""The main job: bring the platform up, keep it running until asked to stop, shut it down cleanly."""

from __future__ import annotations

import asyncio
import logging

from elcaro import __version__
from elcaro.core.config import Settings
from elcaro.services.local_exchange import local_exchange
from elcaro.services.maintenance import upgrade_database
from elcaro.services.platform import Platform

log = logging.getLogger("elcaro")


async def run_platform(settings: Settings, stop: asyncio.Event) -> None:
    """Migrate, open every service, and serve until ``stop`` is set.

    What runs grows with the platform; each component started here is listed in the start-up line
    so an operator sees at a glance what this instance does.
    """
    revision = await upgrade_database(settings)
    async with (
        Platform.open(settings) as platform,
        local_exchange(settings, platform.database) as exchange,
    ):
        promoted = await platform.users.ensure_config_admins()
        for user in promoted:
            log.info("user %s is an admin by configuration", user.id)
        components = [
            f"database ({platform.database.dialect}, schema {revision})",
            "secrets",
            "users",
            f"Bybit-compatible simulator at {exchange.simulator.url}",
            f"paper exchange ({len(exchange.paper.engine.account_ids)} accounts)",
        ]
        log.info("ElCaro %s running: %s. Ctrl+C to stop.", __version__, "; ".join(components))
        await stop.wait()
        log.info("stopping")
    log.info("stopped")


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
