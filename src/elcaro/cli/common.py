"""What every ``elcaro`` command shares: settings, the platform, one clear line for an error.

Command modules import these; each keeps its own imports of the platform inside its commands, so
``elcaro --help`` answers at once.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

import typer

if TYPE_CHECKING:
    import asyncio

    from elcaro.core.config import Settings
    from elcaro.models import User
    from elcaro.services.platform import Platform

T = TypeVar("T")


def fail(message: str, code: int = 1) -> typer.Exit:
    from rich.console import Console

    Console(stderr=True).print(f"[bold red]Error:[/] {message}", highlight=False)
    return typer.Exit(code)


def load_cli_settings() -> Settings:
    from elcaro.core.config import load_settings
    from elcaro.core.logging import setup_logging
    from elcaro.models.errors import ConfigError

    try:
        settings = load_settings()
    except ConfigError as exc:
        raise fail(str(exc), 2) from None
    setup_logging(settings.log_level, settings.log_format, settings.data_dir / "logs" / "elcaro.log")
    return settings


def run_async(coro: Awaitable[T]) -> T:
    """Run a coroutine; turn the platform's own errors into one clear line instead of a traceback."""
    import asyncio

    from elcaro.models.errors import ConfigError, ElcaroError

    async def runner() -> T:
        return await coro

    try:
        return asyncio.run(runner())
    except ConfigError as exc:
        raise fail(str(exc), 2) from None
    except ElcaroError as exc:
        raise fail(str(exc)) from None


def with_platform(action: Callable[[Platform], Awaitable[T]]) -> T:
    from elcaro.services.platform import Platform

    settings = load_cli_settings()

    async def go() -> T:
        async with Platform.open(settings) as platform:
            return await action(platform)

    return run_async(go())


async def resolve_user(platform: Platform, ref: str) -> User:
    from elcaro.models.errors import NotFoundError, ValidationError

    if ref.startswith("tg:") and ref[3:].isdigit():
        user = await platform.users.find_by_telegram_id(int(ref[3:]))
        if user is None:
            raise NotFoundError(f"no user with Telegram id {ref[3:]}")
        return user
    if ref.isdigit():
        return await platform.users.get(int(ref))
    raise ValidationError(f"expected a user id or tg:<Telegram id>, got {ref!r}", field="user")


def serve_until_stopped(job: Callable[[Settings, asyncio.Event], Awaitable[None]]) -> None:
    """Run a long-lived job until SIGINT or SIGTERM, which let it stop cleanly."""
    import asyncio
    import signal

    settings = load_cli_settings()

    async def serve() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await job(settings, stop)

    run_async(serve())
