"""The database handle the platform holds for its lifetime."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager, nullcontext

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import StatementError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from elcaro.models.errors import ConfigError, ElcaroError
from elcaro.storage import migrate
from elcaro.storage.engine import Dialect, create_engine, dialect_of
from elcaro.storage.unit_of_work import UnitOfWork


class Database:
    """SQLite (``sqlite+aiosqlite:///path``, the default) or PostgreSQL (``postgresql+asyncpg://…``).

    The schema is not created here: run :func:`elcaro.storage.migrate.upgrade` first.
    """

    def __init__(self, url: str, *, sqlite_busy_timeout_ms: int = 5000) -> None:
        self._url = url
        self._dialect = dialect_of(url)
        self._engine = create_engine(url, sqlite_busy_timeout_ms=sqlite_busy_timeout_ms)
        # Repositories hand out models, never rows, so nothing needs reloading after a commit.
        self._sessions = async_sessionmaker(self._engine, expire_on_commit=False)
        # SQLite runs one transaction at a time (BEGIN IMMEDIATE). Queued here, in order, they follow each other at
        # once; left to SQLite's busy handler, each waiting one polls with growing sleeps and holds a pooled
        # connection while it sleeps. Made on first use, inside the event loop that uses it.
        self._sqlite_turn: asyncio.Lock | None = None

    def __repr__(self) -> str:
        return f"Database({make_url(self._url).render_as_string(hide_password=True)!r})"

    @property
    def url(self) -> str:
        return self._url

    @property
    def dialect(self) -> Dialect:
        return self._dialect

    @property
    def engine(self) -> AsyncEngine:
        """For storage internals and tests; the rest of the platform goes through :meth:`transaction`."""
        return self._engine

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[UnitOfWork]:
        """Commit when the block ends normally; roll back everything it wrote when it raises.

        Repositories raise ConflictError for a duplicate and NotFoundError for a reference to a
        missing row; either leaves the transaction unusable, so let it propagate out of the block.
        """
        async with self._turn(), self._sessions() as session:
            try:
                async with session.begin():
                    yield UnitOfWork(session)
            except StatementError as exc:
                # A value refused while being bound (e.g. a number too large to store) arrives wrapped.
                if isinstance(exc.orig, ElcaroError):
                    raise exc.orig from None
                raise

    def _turn(self) -> AbstractAsyncContextManager[object]:
        if self._dialect != "sqlite":
            return nullcontext()
        if self._sqlite_turn is None:
            self._sqlite_turn = asyncio.Lock()
        return self._sqlite_turn

    async def require_current_schema(self) -> None:
        """ConfigError, saying what to do, unless the schema is exactly the one this code was written for."""
        async with self._engine.connect() as connection:
            found = await connection.run_sync(migrate.read_revision)
        needed = migrate.head()
        if found == needed:
            return
        if found is None:
            raise ConfigError("the database has no schema yet: run `elcaro db upgrade`")
        if not migrate.is_known(found):
            raise ConfigError(
                f"the database schema is at revision {found}, which this version of ElCaro does not know "
                "(was it migrated by a newer version?)"
            )
        raise ConfigError(
            f"the database schema is at revision {found}, this version needs {needed}: run `elcaro db upgrade`"
        )

    async def ping(self) -> None:
        """Raise if the database cannot be reached."""
        async with self._engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    async def close(self) -> None:
        await self._engine.dispose()
