"""Shared fixtures: migrated and empty databases on every backend chosen with ``--db``.

A test that takes ``database`` or ``empty_database_url`` runs once per backend (ids ``sqlite`` and
``postgresql``); a test taking both gets the same backend for each.

PostgreSQL comes from ``ELCARO_TEST_POSTGRES_URL``. One database is created and migrated per
session and emptied (TRUNCATE) after every test; ``empty_database_url`` creates and drops a
database of its own. When the server cannot be reached the PostgreSQL runs are skipped, or fail
when ``ELCARO_REQUIRE_POSTGRES=1`` (CI, where a skip would hide a broken backend).
"""

from __future__ import annotations

import asyncio
import os
import secrets
import sqlite3
from collections.abc import AsyncIterator, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from pathlib import Path
from typing import Any, TypeVar

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from elcaro.storage import Database, migrate
from elcaro.storage.orm import Base

T = TypeVar("T")

BACKENDS = ("sqlite", "postgresql")
DEFAULT_POSTGRES_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--db",
        choices=(*BACKENDS, "all"),
        default="all",
        help="database backend(s) for tests marked db (default: all)",
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "db_backend" in metafunc.fixturenames:
        chosen = metafunc.config.getoption("--db")
        backends = BACKENDS if chosen == "all" else (chosen,)
        metafunc.parametrize("db_backend", backends, ids=backends)


def _in_thread(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run on a private loop: session fixtures must not touch the loops pytest-asyncio gives each test."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


async def _admin(url: str, *statements: str) -> None:
    engine = create_async_engine(url, isolation_level="AUTOCOMMIT", connect_args={"timeout": 10})
    try:
        async with engine.connect() as connection:
            for statement in statements:
                await connection.execute(text(statement))
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """The maintenance database's URL, once the server has answered."""
    url = os.environ.get("ELCARO_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)
    try:
        _in_thread(_admin(url, "SELECT 1"))
    except Exception as exc:
        shown = make_url(url).render_as_string(hide_password=True)
        reason = f"PostgreSQL at {shown} is unreachable ({type(exc).__name__}: {exc}); set ELCARO_TEST_POSTGRES_URL"
        if os.environ.get("ELCARO_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"{reason} (required by ELCARO_REQUIRE_POSTGRES=1)", pytrace=False)
        pytest.skip(f"{reason}, or run with --db sqlite")
    return url


def _create_postgres_database(maintenance_url: str) -> tuple[str, str]:
    name = f"elcaro_test_{secrets.token_hex(6)}"
    _in_thread(_admin(maintenance_url, f'CREATE DATABASE "{name}"'))
    return name, make_url(maintenance_url).set(database=name).render_as_string(hide_password=False)


def _drop_postgres_database(maintenance_url: str, name: str) -> None:
    _in_thread(_admin(maintenance_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def postgres_session_database(postgres_url: str) -> Iterator[str]:
    """One migrated database for the whole session; ``database`` empties it after each test."""
    name, url = _create_postgres_database(postgres_url)
    try:
        migrate.upgrade(url)
        yield url
    finally:
        _drop_postgres_database(postgres_url, name)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Migrated once; each test gets a copy, which is much faster than migrating again."""
    path = tmp_path_factory.mktemp("template") / "elcaro.db"
    migrate.upgrade(f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture
async def database(db_backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    """A migrated, empty database."""
    if db_backend == "sqlite":
        path = tmp_path / "elcaro.db"
        template: Path = request.getfixturevalue("sqlite_template")
        with closing(sqlite3.connect(template)) as source, closing(sqlite3.connect(path)) as copy:
            source.backup(copy)
        db = Database(f"sqlite+aiosqlite:///{path}")
        yield db
        await db.close()
        return
    db = Database(request.getfixturevalue("postgres_session_database"))
    yield db
    tables = ", ".join(table.name for table in Base.metadata.sorted_tables)
    async with db.engine.begin() as connection:
        await connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    await db.close()


@pytest.fixture
def empty_database_url(db_backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of a brand-new database with no tables, for migration, restore and CLI tests."""
    if db_backend == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'empty' / 'elcaro.db'}"
        return
    maintenance_url: str = request.getfixturevalue("postgres_url")
    name, url = _create_postgres_database(maintenance_url)
    try:
        yield url
    finally:
        _drop_postgres_database(maintenance_url, name)
