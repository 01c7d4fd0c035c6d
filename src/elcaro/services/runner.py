"""The main job: bring the platform up, keep it running until asked to stop, shut it down cleanly."""

from __future__ import annotations

import asyncio
import logging

from elcaro import __version__
from elcaro.core.config import Settings
from elcaro.services.maintenance import upgrade_database
from elcaro.services.platform import Platform

log = logging.getLogger("elcaro")


async def run_platform(settings: Settings, stop: asyncio.Event) -> None:
    """Migrate, open every service, and serve until ``stop`` is set.

    What runs grows with the platform; each component started here is listed in the start-up line
    so an operator sees at a glance what this instance does.
    """
    revision = await upgrade_database(settings)
    async with Platform.open(settings) as platform:
        promoted = await platform.users.ensure_config_admins()
        for user in promoted:
            log.info("user %s is an admin by configuration", user.id)
        components = ["database", "secrets", "users"]
        log.info(
            "ElCaro %s running: %s (database %s at revision %s). Ctrl+C to stop.",
            __version__,
            ", ".join(components),
            platform.database.dialect,
            revision,
        )
        await stop.wait()
        log.info("stopping")
    log.info("stopped")
