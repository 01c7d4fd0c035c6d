"""``Database.reading()``: read-only units of work that see one moment and never queue behind a writer."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import text
from storage_builders import add_user

from elcaro.storage import Database, migrate
from elcaro.storage.errors import ReadOnlyTransactionError

pytestmark = pytest.mark.db

GUARD_S = 60
"""Only turns a reader stuck behind the writer into a failure instead of a hung run; nothing is timed."""


async def test_a_reader_proceeds_while_a_writer_holds_the_write_lock(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'elcaro.db'}"
    await migrate.upgrade_async(url)
    db = Database(url)
    try:
        async with db.transaction() as tx:
            first = await add_user(tx, 1)
        writing, read_done = asyncio.Event(), asyncio.Event()

        async def writer() -> None:
            async with db.transaction() as tx:  # BEGIN IMMEDIATE: SQLite's write lock and this process's queue
                await add_user(tx, 2)
                writing.set()
                await read_done.wait()  # the lock is held until the reader has finished

        async def reader() -> list[int]:
            await writing.wait()
            async with db.reading() as tx:
                seen = [user.id for user in await tx.users.list()]
            read_done.set()
            return seen

        holding = asyncio.create_task(writer())
        seen = await asyncio.wait_for(reader(), GUARD_S)
        await holding
        assert seen == [first]  # the last commit, not the writer's uncommitted row
        async with db.reading() as tx:
            assert len(await tx.users.list()) == 2
    finally:
        await db.close()


async def test_a_write_inside_reading_is_refused_and_leaves_nothing(database: Database) -> None:
    with pytest.raises(ReadOnlyTransactionError, match="use transaction"):
        async with database.reading() as tx:
            await add_user(tx, 1)
    async with database.transaction() as tx:  # the pooled connection writes again afterwards
        assert await tx.users.list() == []
        await add_user(tx, 2)
    async with database.reading() as tx:
        assert [user.telegram_id for user in await tx.users.list()] == [2]


async def test_a_reading_sees_one_moment_while_others_commit(database: Database) -> None:
    async with database.transaction() as tx:
        await add_user(tx, 1)
    async with database.reading() as tx:
        before = await tx.users.list()
        async with database.transaction() as writer:  # commits while the reading is open
            await add_user(writer, 2)
        after = await tx.users.list()
    assert [user.telegram_id for user in before] == [user.telegram_id for user in after] == [1]
    async with database.reading() as tx:
        assert len(await tx.users.list()) == 2


async def test_postgresql_readings_are_repeatable_read_and_read_only(database: Database, db_backend: str) -> None:
    if db_backend != "postgresql":
        pytest.skip("SQLite readers are query_only connections with a deferred BEGIN (tested above)")
    show = "SELECT current_setting('transaction_isolation'), current_setting('transaction_read_only')"
    async with database.reading() as tx:
        reading = tuple((await tx.users._session.execute(text(show))).one())
    async with database.transaction() as tx:  # the same pooled connection, reset when it was returned
        writing = tuple((await tx.users._session.execute(text(show))).one())
    assert reading == ("repeatable read", "on")
    assert writing == ("read committed", "off")
