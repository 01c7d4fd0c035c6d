"""Schema migrations, configured in code: the scripts ship inside the package and no alembic.ini is needed.

Every function takes the same SQLAlchemy URL as :class:`~elcaro.storage.Database`. The plain
functions are for synchronous callers (CLI, scripts) and work even when the calling thread runs an
event loop; inside async code prefer the ``_async`` variants, which do not block the loop's thread.

To write the next revision: ``alembic.command.revision(alembic_config(), "what changes", rev_id="0002")``
renders ``migrations/script.py.mako`` into ``migrations/versions/``; fill in both directions by
hand. The storage tests compare the migrated schema with ``orm.py`` on both backends.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy.engine import Connection

from elcaro.storage.engine import create_engine

T = TypeVar("T")

SCRIPT_LOCATION = Path(__file__).with_name("migrations")

# Alembic keeps the running migration's context in module globals: one migration at a time per process.
_alembic_lock = threading.Lock()


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(SCRIPT_LOCATION))
    config.attributes["connection"] = connection
    return config


def head() -> str:
    """The revision this version of the code works with."""
    revision = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if revision is None:
        raise RuntimeError(f"no migrations found in {SCRIPT_LOCATION}")
    return revision


def is_known(revision: str) -> bool:
    """False for a revision written by a newer version of ElCaro (or by something else)."""
    try:
        return ScriptDirectory.from_config(alembic_config()).get_revision(revision) is not None
    except CommandError:
        return False


def read_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


async def upgrade_async(url: str, revision: str = "head") -> None:
    await _on_connection(url, lambda connection: _command(command.upgrade, connection, revision))


async def downgrade_async(url: str, revision: str) -> None:
    await _on_connection(url, lambda connection: _command(command.downgrade, connection, revision))


async def current_async(url: str) -> str | None:
    """The revision the database is at; ``None`` for a database never migrated."""
    return await _on_connection(url, read_revision)


def upgrade(url: str, revision: str = "head") -> None:
    _in_own_loop(upgrade_async(url, revision))


def downgrade(url: str, revision: str) -> None:
    _in_own_loop(downgrade_async(url, revision))


def current(url: str) -> str | None:
    return _in_own_loop(current_async(url))


def _command(run: Callable[[Config, str], None], connection: Connection, revision: str) -> None:
    with _alembic_lock:
        run(alembic_config(connection), revision)


async def _on_connection(url: str, work: Callable[[Connection], T]) -> T:
    # Foreign keys off on SQLite: batch migrations rebuild tables, which would fire ON DELETE actions.
    engine = create_engine(url, sqlite_foreign_keys=False)
    try:
        async with engine.connect() as connection:  # alembic begins and commits its own transactions
            return await connection.run_sync(work)
    finally:
        await engine.dispose()


def _in_own_loop(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run on a fresh event loop in a worker thread: works whether or not this thread already runs a loop,
    and leaves that loop alone (``asyncio.run`` here would replace the thread's current loop)."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="elcaro-migrate") as pool:
        return pool.submit(asyncio.run, coroutine).result()
