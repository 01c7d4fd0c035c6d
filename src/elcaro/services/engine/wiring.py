"""The engine inside the running platform: its settings, its account, its outputs, its background tasks.

``elcaro run`` starts it when ``engine_enabled`` is set; ``elcaro engine run`` starts the platform
with it whatever that setting says. Either way the engine trades through the platform's exchange
access (the paper venue for ``*:paper`` targets, the operator user's stored keys otherwise),
publishes through the platform's signal ingest, logs trades in the platform's database, writes its
status to ``<data dir>/engine/status.json`` and takes commands dropped in ``<data dir>/engine/commands``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from elcaro.core.clock import now_ms
from elcaro.core.config import Settings
from elcaro.engine import Transition
from elcaro.exchanges.client import ExchangeClient
from elcaro.models import Target
from elcaro.models.errors import ConfigError, ValidationError
from elcaro.services.engine.config import EngineConfig, EngineMode
from elcaro.services.engine.inbox import commands_directory, run_command_inbox
from elcaro.services.engine.outputs import SignalPublisher, TradeLog
from elcaro.services.engine.pacing import WallClockBars
from elcaro.services.engine.service import EngineService
from elcaro.services.engine.status import EngineStatus
from elcaro.services.runtime import Runtime, open_runtime

log = logging.getLogger(__name__)


def status_path(data_dir: Path) -> Path:
    return data_dir / "engine" / "status.json"


def engine_config(
    settings: Settings,
    *,
    preset: str | None = None,
    mode: str | None = None,
    target: str | None = None,
    user_id: int | None = None,
    allow_live: bool | None = None,
    publish_signals: bool | None = None,
) -> EngineConfig:
    """The engine's set-up from the settings (``ELCARO_ENGINE_*``), each overridden by an argument given."""
    user = user_id if user_id is not None else settings.engine_user_id
    if user is None:
        raise ConfigError("the engine trades an operator user's account: set ELCARO_ENGINE_USER_ID or pass --user")
    try:
        parsed = Target.parse(target or settings.engine_target)
    except ValidationError as error:
        raise ConfigError(f"ELCARO_ENGINE_TARGET: {error.reason}") from None
    return EngineConfig(
        user_id=user,
        preset=preset or settings.engine_preset,
        mode=EngineMode(mode or settings.engine_mode),
        target=parsed,
        universe=tuple(settings.engine_universe),
        allow_live=settings.engine_allow_live if allow_live is None else allow_live,
        publish_signals=settings.engine_publish_signals if publish_signals is None else publish_signals,
    )


@asynccontextmanager
async def running_engine(
    runtime: Runtime, config: EngineConfig, data_dir: Path, *, start: bool = True
) -> AsyncIterator[EngineService]:
    """The engine running as background tasks of ``runtime`` (started at once unless ``start`` is false).

    On the way out the engine stops where it is: positions stay on the venue behind their stop orders.
    """
    if config.user_id is None:
        raise ConfigError("the engine trades an operator user's account: set ELCARO_ENGINE_USER_ID or pass --user")
    user_id = config.user_id
    await runtime.platform.users.get(user_id)  # NotFoundError for a user who does not exist

    async def open_client() -> ExchangeClient:
        return await runtime.access.client(user_id, config.target)

    publisher = SignalPublisher(runtime.ingest, now_ms) if config.publishes else None
    engine = EngineService(
        config,
        open_client,
        pacer=WallClockBars(lambda: engine.preset.timeframe),  # read at each wait: a reload may change it
        trade_log=TradeLog(runtime.platform.database, user_id, config.target),
        publisher=publisher,
        status_file=status_path(data_dir),
    )
    stop = asyncio.Event()
    tasks = [
        asyncio.create_task(engine.run(stop), name="strategy engine"),
        asyncio.create_task(run_command_inbox(engine, commands_directory(data_dir), stop), name="engine commands"),
    ]
    if start:
        engine.command("start", "config")
    log.info(
        "strategy engine: preset %s, %s on %s as user %s%s",
        engine.preset.name,
        config.mode,
        config.target,
        config.user_id,
        ", publishing its entries as strategy elcaro" if publisher is not None else "",
    )
    try:
        yield engine
    finally:
        stop.set()
        await asyncio.gather(*tasks)


async def run_engine(
    settings: Settings,
    stop: asyncio.Event,
    config: EngineConfig,
    *,
    on_transition: Callable[[Transition], None] | None = None,
) -> EngineStatus:
    """``elcaro engine run``: the platform (exchange, copy trading, ingest) with the engine, until ``stop``.

    Returns the engine's status as it stopped.
    """
    async with (
        open_runtime(settings) as runtime,
        running_engine(runtime, config, settings.data_dir, start=False) as engine,
    ):
        if on_transition is not None:
            engine.subscribe(on_transition)
        engine.command("start", "operator")
        await stop.wait()
        return engine.status()
