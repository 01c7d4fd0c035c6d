"""The real platform (migrated database, local exchange, monitor, ingest) with the web app on top of it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from web_world import BOT_TOKEN, RELAXED, World

from elcaro.core.config import Settings
from elcaro.core.secrets import generate_key
from elcaro.services.runtime import Runtime, open_runtime
from elcaro.storage import Database
from elcaro.web.app import create_app, serving


def web_settings(database: Database, data_dir: Path, **overrides: object) -> Settings:
    return Settings(
        data_dir=data_dir,
        database_url=database.url,
        master_key=generate_key(),
        simulator_port=0,
        telegram_bot_token=BOT_TOKEN,
        web_port=0,
        **overrides,  # type: ignore[arg-type]
    )


@pytest.fixture
async def runtime(database: Database, tmp_path: Path) -> AsyncIterator[Runtime]:
    async with open_runtime(web_settings(database, tmp_path)) as running:
        yield running


@pytest.fixture
async def world(runtime: Runtime) -> AsyncIterator[World]:
    app = create_app(runtime, runtime.platform.settings, limits=RELAXED)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield World(app, runtime, client)


@pytest.fixture
async def served(runtime: Runtime) -> AsyncIterator[World]:
    """The app behind a real uvicorn server on loopback (``world.url``), in the test's event loop."""
    app = create_app(runtime, runtime.platform.settings, limits=RELAXED)
    async with serving(app, "127.0.0.1", 0) as url, httpx.AsyncClient(base_url=url) as client:
        yield World(app, runtime, client, url)
