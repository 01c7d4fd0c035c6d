"""The interfaces ``elcaro run`` serves besides the command line: the Telegram bot when a token is set, the web
app when a port is.

The command line is the top layer: it alone may know every interface, and it hands the configured ones to the
main job, which sits below them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from elcaro.core.config import Settings
    from elcaro.services.engine import EngineService
    from elcaro.services.runner import Interface
    from elcaro.services.runtime import Runtime


def configured_interfaces(settings: Settings) -> list[Interface]:
    interfaces: list[Interface] = []
    if settings.telegram_bot_token is not None:
        interfaces.append(_telegram_bot)
    if settings.web_port is not None:
        interfaces.append(_web_app)
    return interfaces


@asynccontextmanager
async def _telegram_bot(runtime: Runtime, settings: Settings, engine: EngineService | None) -> AsyncIterator[str]:
    from elcaro.bot.app import serve

    async with serve(runtime, settings) as line:
        yield line


@asynccontextmanager
async def _web_app(runtime: Runtime, settings: Settings, engine: EngineService | None) -> AsyncIterator[str]:
    from elcaro.web.app import serve

    async with serve(runtime, settings, engine) as line:
        yield line
