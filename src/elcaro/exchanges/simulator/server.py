"""Starting, running and stopping the simulator, and saving its state.

``start_simulator`` binds the configured loopback address (a free port for ``port = 0``), restores the venue from
the snapshot file when there is one, starts the price driver and returns a ``RunningSimulator``; ``stop()`` saves
the state again. ``run_simulator`` serves until it is cancelled.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import secrets
import tempfile
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from aiohttp import web

from elcaro.exchanges.paper.engine import PaperEngine
from elcaro.exchanges.simulator import admin
from elcaro.exchanges.simulator.app import Service, build_app
from elcaro.exchanges.simulator.config import SimulatorConfig
from elcaro.exchanges.simulator.driver import drive
from elcaro.exchanges.simulator.venue import Venue

log = logging.getLogger(__name__)

SHUTDOWN_S = 1.0
"""How long stopping waits for requests in flight (held ones are released at once)."""


class RunningSimulator:
    def __init__(
        self,
        config: SimulatorConfig,
        service: Service,
        runner: web.AppRunner,
        url: str,
        tasks: list[asyncio.Task[None]],
    ) -> None:
        self.config = config
        self.url = url
        """``http://127.0.0.1:<port>``: the base URL for a ccxt Bybit client's ``urls['api']``."""
        self._service = service
        self._runner = runner
        self._tasks = tasks

    @property
    def engine(self) -> PaperEngine:
        return self._service.venue.engine

    @property
    def venue(self) -> Venue:
        return self._service.venue

    @property
    def admin_token(self) -> str:
        return self._service.admin_token

    def snapshot(self) -> dict[str, Any]:
        """The venue's whole state (accounts, orders, positions, prices, order registry, closed-PnL records)."""
        return self._service.venue.snapshot()

    def restore(self, snapshot: dict[str, Any]) -> None:
        """Carry on from ``snapshot`` at once; requests after this call see the restored venue."""
        self._service.restore(snapshot)

    async def stop(self) -> None:
        await self._service.stop()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._runner.cleanup()
        if self.config.snapshot_file is not None:
            _save(self.config.snapshot_file, self.snapshot())
        self._service.venue.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        await self.stop()


def _save(path: Path, snapshot: dict[str, Any]) -> None:
    """Whole or not at all: written beside the file, then renamed over it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(snapshot, out)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _venue(config: SimulatorConfig, snapshot: dict[str, Any] | None) -> Venue:
    path = config.snapshot_file
    if snapshot is None and path is not None and path.exists():
        snapshot = json.loads(path.read_text(encoding="utf-8"))
    return Venue.create(config) if snapshot is None else Venue.restore(config, snapshot)


def _report_failure(task: asyncio.Task[None]) -> None:
    """A price driver or the saver that stops by itself has failed (a bad replay file, a full disk): say so now."""
    if not task.cancelled() and task.exception() is not None:
        log.error("simulator: %s stopped", task.get_name(), exc_info=task.exception())


async def _save_every(service: Service, path: Path, interval_s: float) -> None:
    while True:
        await asyncio.sleep(interval_s)
        await asyncio.to_thread(_save, path, service.venue.snapshot())


async def start_simulator(config: SimulatorConfig, *, snapshot: dict[str, Any] | None = None) -> RunningSimulator:
    """Serve on loopback, carrying on from ``snapshot`` (else the snapshot file, else a fresh venue)."""
    token = config.admin_token.get_secret_value() if config.admin_token is not None else secrets.token_urlsafe(24)
    service = Service(config, _venue(config, snapshot), token)
    runner = web.AppRunner(build_app(service, admin.routes(service)), handle_signals=False, shutdown_timeout=SHUTDOWN_S)
    await runner.setup()
    try:
        await web.TCPSite(runner, config.host, config.port).start()
    except OSError:
        await runner.cleanup()
        raise
    host, port = runner.addresses[0][:2]
    url = f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"
    tasks = [asyncio.create_task(drive(service), name="simulator prices")]
    if config.snapshot_file is not None:
        saving = _save_every(service, config.snapshot_file, config.snapshot_interval_s)
        tasks.append(asyncio.create_task(saving, name="simulator snapshots"))
    for task in tasks:
        task.add_done_callback(_report_failure)
    log.info("Bybit simulator serving on %s", url)
    return RunningSimulator(config, service, runner, url, tasks)


async def run_simulator(config: SimulatorConfig) -> None:
    """Serve until cancelled, then stop (saving the state when a snapshot file is configured)."""
    simulator = await start_simulator(config)
    try:
        await asyncio.Event().wait()
    finally:
        await simulator.stop()
