"""The engine inside the running platform: settings, the operator's paper account, its status file, its inbox."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from elcaro.core.config import load_settings
from elcaro.engine import EngineState
from elcaro.models import TelegramProfile
from elcaro.models.errors import ConfigError, NotFoundError
from elcaro.services.engine import read_status
from elcaro.services.engine.inbox import commands_directory, drop_command
from elcaro.services.engine.wiring import engine_config, running_engine, status_path
from elcaro.services.runtime import open_runtime

pytestmark = pytest.mark.db


async def until(condition: object, what: str) -> None:
    """Wait for ``condition()`` (the engine works in tasks of its own); fail after a generous while."""
    for _ in range(600):
        if condition():  # type: ignore[operator]
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"never happened: {what}")


async def test_the_platform_runs_the_engine_on_the_operators_paper_account(
    empty_database_url: str, tmp_path: Path
) -> None:
    settings = load_settings(
        data_dir=tmp_path / "data", database_url=empty_database_url, simulator_port=0, engine_preset="scalping"
    )
    with pytest.raises(ConfigError, match="ELCARO_ENGINE_USER_ID"):
        engine_config(settings)
    async with open_runtime(settings) as runtime:
        with pytest.raises(NotFoundError):
            async with running_engine(runtime, engine_config(settings, user_id=999), settings.data_dir):
                pass
        operator = await runtime.platform.users.register(TelegramProfile(77, username="operator"))
        config = engine_config(settings, user_id=operator.id)
        assert config.publishes  # paper: the engine's entries are copy-trading signals
        path = status_path(settings.data_dir)
        async with running_engine(runtime, config, settings.data_dir) as engine:
            await until(lambda: engine.state is EngineState.MANAGING, "the first cycle")
            await until(lambda: (read_status(path) or {}).get("state") == "managing", "the status file")
            status = read_status(path)
            assert status is not None and status["preset"] == "scalping" and status["user_id"] == operator.id
            assert status["publish_signals"] is True
            # The simulator's synthetic market has only just started: its few minute bars are far too short a history
            # for any filter, so nothing is a candidate, and every symbol's decisions say why.
            scan = engine.last_scan()
            assert scan is not None and scan.candidates == () and scan.decisions

            drop_command(commands_directory(settings.data_dir), "kill_switch", "operator")
            await until(lambda: engine.state is EngineState.STOPPED, "the kill switch")
            assert engine.status().killed is not None
            client = await runtime.access.client(operator.id, config.target)
            assert await client.fetch_positions() == [] and await client.fetch_open_orders() == []
        assert (read_status(path) or {}).get("state") == "stopped"
