"""The local exchange: the Bybit-compatible simulator and the in-process paper venue, one market.

The simulator serves its paper engine over HTTP to anything that speaks Bybit's API (our Bybit
adapter, ccxt, a user's own bot); the same engine serves ``*:paper`` targets in process, with no
HTTP in the way. Its whole state is kept in the database, so accounts survive a restart.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from elcaro.core.config import Settings
from elcaro.exchanges.simulator import RunningSimulator, SimulatorConfig, SyntheticPrices, start_simulator
from elcaro.services.paper_venue import PaperVenue
from elcaro.storage import Database

log = logging.getLogger(__name__)

VENUE_NAME = "simulator"


@dataclass(frozen=True, slots=True)
class LocalExchange:
    simulator: RunningSimulator
    paper: PaperVenue


def simulator_config(settings: Settings) -> SimulatorConfig:
    """The configured simulator (or a synthetic market when none is), on ``settings.simulator_port``."""
    file = settings.simulator_config_file
    config = SimulatorConfig.from_toml(file) if file is not None else SimulatorConfig(prices=SyntheticPrices())
    return config.model_copy(update={"port": settings.simulator_port})


@asynccontextmanager
async def local_exchange(settings: Settings, database: Database) -> AsyncIterator[LocalExchange]:
    """Serve the simulator carrying on from its saved state, save it every few seconds and at the end."""
    config = simulator_config(settings)
    running = await start_simulator(config, snapshot=await PaperVenue.saved(database, VENUE_NAME))
    paper = PaperVenue(database, running.engine, VENUE_NAME, snapshot=running.snapshot)
    stop = asyncio.Event()
    saver = asyncio.create_task(paper.autosave(stop), name="local exchange saver")
    try:
        yield LocalExchange(running, paper)
    finally:
        stop.set()
        await saver
        paper.close()
        await running.stop()
