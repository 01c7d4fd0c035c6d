"""The packaged migrations build exactly the schema the ORM describes, and take it down again."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine
from storage_builders import read_schema, run_sql

from elcaro.models.errors import ConfigError
from elcaro.storage import Database, current, current_async, downgrade, downgrade_async, migrate, upgrade, upgrade_async
from elcaro.storage.orm import Base

pytestmark = pytest.mark.db

TABLES = {table.name for table in Base.metadata.sorted_tables}


async def _tables(url: str) -> set[str]:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            names = await connection.run_sync(lambda sync: inspect(sync).get_table_names())
    finally:
        await engine.dispose()
    return {name for name in names if not name.startswith("sqlite_")}


async def test_upgrade_to_head_and_downgrade_to_base(empty_database_url: str) -> None:
    assert await current_async(empty_database_url) is None
    await upgrade_async(empty_database_url)
    assert await current_async(empty_database_url) == migrate.head()
    assert await _tables(empty_database_url) == {*TABLES, "alembic_version"}

    await downgrade_async(empty_database_url, "base")
    assert await current_async(empty_database_url) is None
    assert await _tables(empty_database_url) <= {"alembic_version"}

    await upgrade_async(empty_database_url)  # the downgrade left nothing behind that would get in the way
    assert await _tables(empty_database_url) == {*TABLES, "alembic_version"}


ADD_USER = (
    "INSERT INTO users (telegram_id, language, role, approval, banned, referral_code, created_at) "
    "VALUES (:telegram_id, 'en', 'user', 'approved', false, :code, 1) RETURNING id"
)


async def test_0003_upgrades_a_database_with_users_and_downgrades_to_the_same_schema(empty_database_url: str) -> None:
    url = empty_database_url
    await upgrade_async(url, "0002")
    schema_0002 = await read_schema(url)
    ids = [(await run_sql(url, ADD_USER, telegram_id=n, code=f"R{n}"))[0].id for n in (1, 2, 3)]
    await run_sql(url, "DELETE FROM users WHERE id = :id", id=ids[2])  # its id must never be handed out again

    # In SQL, not through the repositories: they speak the newest schema, and this is 0003's.
    await upgrade_async(url, "0003")
    assert [row.id for row in await run_sql(url, "SELECT id FROM users ORDER BY id")] == ids[:2]
    paused = await run_sql(url, "SELECT trading_paused FROM users ORDER BY id")
    assert [bool(row.trading_paused) for row in paused] == [False, False]  # every existing user starts unpaused
    await run_sql(url, "UPDATE users SET trading_paused = true WHERE id = :id", id=ids[0])
    flag = "INSERT INTO system_flags (key, value, updated_at) VALUES ('trading.paused', 'true', 1)"
    await run_sql(url, flag)  # the new tables work

    await downgrade_async(url, "0002")
    assert await current_async(url) == "0002"
    assert await read_schema(url) == schema_0002
    assert [row.id for row in await run_sql(url, "SELECT id FROM users ORDER BY id")] == ids[:2]
    assert (await run_sql(url, ADD_USER, telegram_id=4, code="R4"))[0].id == ids[2] + 1

    await upgrade_async(url)
    db = Database(url)
    try:
        async with db.transaction() as tx:
            assert await tx.users.paused_user_ids([*ids, ids[2] + 1]) == set()
    finally:
        await db.close()


async def test_sync_functions_work_inside_a_running_event_loop(empty_database_url: str) -> None:
    upgrade(empty_database_url)
    assert current(empty_database_url) == migrate.head()
    downgrade(empty_database_url, "0001")
    assert current(empty_database_url) == "0001"
    downgrade(empty_database_url, "base")
    assert current(empty_database_url) is None


def test_sync_functions_work_without_an_event_loop(empty_database_url: str) -> None:
    upgrade(empty_database_url)
    assert current(empty_database_url) == migrate.head()


async def test_migrated_schema_matches_the_orm(database: Database) -> None:
    def differences(connection: Connection) -> list[object]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))

    async with database.engine.connect() as connection:
        assert await connection.run_sync(differences) == []


async def test_the_platform_refuses_a_schema_that_is_not_current(empty_database_url: str) -> None:
    db = Database(empty_database_url)
    try:
        with pytest.raises(ConfigError, match="no schema yet: run `elcaro db upgrade`"):
            await db.require_current_schema()
        await upgrade_async(empty_database_url)
        await db.require_current_schema()
    finally:
        await db.close()


async def test_a_schema_from_a_newer_version_is_named_as_such(database: Database) -> None:
    async with database.engine.begin() as connection:
        await connection.exec_driver_sql("UPDATE alembic_version SET version_num = '9999'")
    try:
        with pytest.raises(ConfigError, match="revision 9999, which this version of ElCaro does not know"):
            await database.require_current_schema()
    finally:  # PostgreSQL's test database is shared by the session and emptied, not dropped, after each test
        async with database.engine.begin() as connection:
            await connection.execute(text("UPDATE alembic_version SET version_num = :head"), {"head": migrate.head()})
