"""Async engines for the two supported databases, set up the same way wherever one is made."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from elcaro.models.errors import ConfigError

Dialect = Literal["sqlite", "postgresql"]

_DRIVERS: dict[str, Dialect] = {"sqlite+aiosqlite": "sqlite", "postgresql+asyncpg": "postgresql"}

SQLITE_READERS = 2
"""Read-only transactions on SQLite at once; more wait for a connection. The platform is one event loop, and a
reader's work takes turns on it with the writers'. 16 readers reading flat out beside busy writers
(``benchmarks/sqlite_reads.py --read-rate 0``): uncapped, the writers kept 0.22× of their ELC transfers/s and
0.13× of their batches/s; capped at 2, 0.39× and 0.34×, for 22 % fewer reads/s. At 200 reads/s they keep pace
(0.99×) either way."""


def dialect_of(url: str | URL) -> Dialect:
    driver = make_url(url).drivername
    try:
        return _DRIVERS[driver]
    except KeyError:
        raise ConfigError(
            f"unsupported database driver {driver!r}: use sqlite+aiosqlite:///path/to/file.db "
            "or postgresql+asyncpg://user@host:port/dbname"
        ) from None


def sqlite_path(url: str | URL) -> Path:
    """The file behind a SQLite URL; in-memory databases are refused because each connection would get its own."""
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        raise ConfigError(f"a SQLite database must be a file path, got {database!r}")
    return Path(database)


def create_engine(
    url: str, *, sqlite_busy_timeout_ms: int = 5000, sqlite_foreign_keys: bool = True, sqlite_read_only: bool = False
) -> AsyncEngine:
    """Make an engine; for SQLite every pooled connection gets the same pragmas.

    ``sqlite_foreign_keys`` is off only for migrations: SQLite rebuilds a table to alter it, and
    enforcing foreign keys mid-rebuild would cascade deletes into the referencing tables.

    ``sqlite_read_only`` makes the readers' engine of :meth:`Database.reading`: ``PRAGMA query_only``
    refuses every write, and a transaction starts with a plain (deferred) ``BEGIN``, which takes no
    lock: under WAL it reads the last commit before its first read while the writer carries on.
    """
    if dialect_of(url) == "postgresql":
        if sqlite_read_only:
            raise ValueError("sqlite_read_only is for SQLite; PostgreSQL reads use one engine")
        # pre_ping: a connection dropped by a server restart or an idle timeout is replaced, not handed out.
        return create_async_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10, pool_recycle=1800)
    sqlite_path(url).parent.mkdir(parents=True, exist_ok=True)
    engine = (
        create_async_engine(url, pool_size=SQLITE_READERS, max_overflow=0)
        if sqlite_read_only
        else create_async_engine(url)
    )
    pragmas = (
        "PRAGMA journal_mode=WAL",  # readers never block the writer, and a backup runs while the platform writes
        f"PRAGMA busy_timeout={int(sqlite_busy_timeout_ms)}",  # wait for the write lock instead of failing at once
        f"PRAGMA foreign_keys={'ON' if sqlite_foreign_keys else 'OFF'}",  # SQLite's default is off
        "PRAGMA synchronous=NORMAL",  # with WAL a power cut may lose the last commits but never corrupts the file
        *(("PRAGMA query_only=ON",) if sqlite_read_only else ()),
    )
    begin = "BEGIN" if sqlite_read_only else "BEGIN IMMEDIATE"

    @event.listens_for(engine.sync_engine, "connect")
    def _set_pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        for pragma in pragmas:
            cursor.execute(pragma)
        cursor.close()
        # The driver would otherwise run reads outside any transaction and open one only at the first
        # write, so a read-then-write use case could act on a value another writer just changed.
        dbapi_connection.isolation_level = None

    @event.listens_for(engine.sync_engine, "begin")
    def _begin(connection: Any) -> None:
        # IMMEDIATE takes the write lock up front: transactions run one writer at a time, each seeing
        # what the previous one committed, and never fail mid-way upgrading a read lock to a write lock.
        # A reader (query_only) cannot write, so it has no lock to upgrade: a deferred BEGIN is enough.
        connection.exec_driver_sql(begin)

    return engine
