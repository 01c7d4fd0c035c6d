"""The database handle the platform holds for its lifetime."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager, nullcontext
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, StatementError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from elcaro.models.errors import ConfigError, ElcaroError
from elcaro.storage import migrate
from elcaro.storage.engine import Dialect, create_engine, dialect_of
from elcaro.storage.errors import ReadOnlyTransactionError, is_read_only_refusal
from elcaro.storage.unit_of_work import UnitOfWork

# One BEGIN statement on asyncpg: a snapshot for the whole transaction, and the server refuses any write.
_POSTGRES_READING: dict[str, Any] = {"isolation_level": "REPEATABLE READ", "postgresql_readonly": True}


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
        # SQLite readers get connections of their own (query_only, deferred BEGIN): see reading().
        self._reader = (
            create_engine(url, sqlite_busy_timeout_ms=sqlite_busy_timeout_ms, sqlite_read_only=True)
            if self._dialect == "sqlite"
            else self._engine
        )
        self._read_sessions = async_sessionmaker(self._reader, expire_on_commit=False)
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
        async with self._turn(), self._sessions() as session, _unit(session) as tx:
            yield tx

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[UnitOfWork]:
        """A read-only unit of work: every read in it sees one moment, and any write is refused.

        For the reads the interfaces make often (statistics, listings, balances, lookups): they never
        wait for a writer. On SQLite the block reads on a connection of its own with a deferred
        ``BEGIN`` and no place in the writers' queue; under WAL it sees the last commit before its first
        read, and neither waits for the writer nor holds it up (at most ``SQLITE_READERS`` readings run
        at once: do not open another unit of work inside one). On PostgreSQL it is a ``REPEATABLE READ``,
        ``READ ONLY`` transaction. A write raises :class:`~elcaro.storage.errors.ReadOnlyTransactionError`
        (a bug: read-then-write work belongs in :meth:`transaction`, where what it read cannot change).
        """
        async with self._read_sessions() as session:
            try:
                async with _unit(session) as tx:
                    if self._dialect == "postgresql":
                        await session.connection(execution_options=_POSTGRES_READING)
                    yield tx
            except DBAPIError as exc:
                if is_read_only_refusal(exc):
                    raise ReadOnlyTransactionError("a write inside Database.reading(): use transaction()") from exc
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
        # On the readers' side: on SQLite the writers' connections begin with BEGIN IMMEDIATE, so a health check
        # there would wait behind every write in progress.
        async with self._reader.connect() as connection:
            await connection.execute(text("SELECT 1"))

    async def close(self) -> None:
        await self._engine.dispose()
        if self._reader is not self._engine:
            await self._reader.dispose()


@asynccontextmanager
async def _unit(session: AsyncSession) -> AsyncIterator[UnitOfWork]:
    """``session``'s transaction as a unit of work: committed when the block ends normally, else rolled back."""
    try:
        async with session.begin():
            yield UnitOfWork(session)
    except StatementError as exc:
        # A value refused while being bound (e.g. a number too large to store) arrives wrapped.
        if isinstance(exc.orig, ElcaroError):
            raise exc.orig from None
        raise
