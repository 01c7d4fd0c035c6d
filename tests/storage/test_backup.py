"""Backups are consistent while the platform writes, and restore into a working database."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url
from storage_builders import T0, add_user

from elcaro.models import AuditEntry, User
from elcaro.storage import BackupError, Database, backup, restore
from elcaro.storage.backup import _libpq_url


@pytest.mark.db
async def test_backup_while_writing_then_restore(database: Database, empty_database_url: str, tmp_path: Path) -> None:
    async with database.transaction() as tx:
        for telegram_id in range(1, 4):
            await add_user(tx, telegram_id)

    stop = asyncio.Event()
    writing = asyncio.Event()
    committed = 0

    async def writer() -> None:
        """Each transaction adds a user and its audit entry: a consistent copy has both or neither."""
        nonlocal committed
        telegram_id = 1000
        while not stop.is_set():
            async with database.transaction() as tx:
                user_id = await add_user(tx, telegram_id)
                await tx.audit.add(AuditEntry("user.register", None, f"user:{user_id}", at=T0))
            committed += 1
            telegram_id += 1
            if committed == 5:
                writing.set()

    task = asyncio.create_task(writer())
    try:
        await writing.wait()
        async with database.transaction() as open_tx:
            await add_user(open_tx, 999)  # uncommitted while the backup runs: must neither block it nor be in it
            written = await backup(database, tmp_path / "backups" / "copy.bak")
    finally:
        stop.set()
        await task
    assert written == tmp_path / "backups" / "copy.bak"
    assert [p.name for p in written.parent.iterdir()] == ["copy.bak"]  # no partial file left behind

    await restore(empty_database_url, written)
    restored = Database(empty_database_url)
    try:
        await restored.require_current_schema()
        async with restored.transaction() as tx:
            users = await tx.users.list(limit=100_000)
            audit = await tx.audit.list(limit=100_000)
    finally:
        await restored.close()
    telegram_ids = {user.telegram_id for user in users}
    assert {1, 2, 3} <= telegram_ids
    assert 999 in {u.telegram_id for u in await _all_users(database)}  # committed after the backup...
    assert 999 not in telegram_ids  # ...so not in it
    assert len(users) - 3 == len(audit) >= 5  # whole transactions only


async def _all_users(database: Database) -> list[User]:
    async with database.transaction() as tx:
        return await tx.users.list(limit=100_000)


@pytest.mark.db
async def test_backup_into_a_directory_gets_a_time_stamped_name(database: Database, tmp_path: Path) -> None:
    written = await backup(database, tmp_path)
    assert written.parent == tmp_path
    assert written.name.startswith("elcaro-")
    assert written.suffix == (".sqlite3" if database.dialect == "sqlite" else ".pgdump")


async def test_restore_refuses_a_damaged_sqlite_backup_and_leaves_the_database_alone(tmp_path: Path) -> None:
    target = tmp_path / "live.db"
    target.write_bytes(b"the live database")
    damaged = tmp_path / "damaged.sqlite3"
    damaged.write_bytes(b"SQLite format 3\x00" + b"\x07" * 4096)
    with pytest.raises(BackupError, match=r"damaged\.sqlite3"):
        await restore(f"sqlite+aiosqlite:///{target}", damaged)
    assert target.read_bytes() == b"the live database"
    with pytest.raises(BackupError, match="no backup file at"):
        await restore(f"sqlite+aiosqlite:///{target}", tmp_path / "missing.sqlite3")


async def test_missing_postgres_tools_are_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    db = Database("postgresql+asyncpg://elcaro@127.0.0.1:5432/elcaro")
    with pytest.raises(BackupError, match="pg_dump is not on PATH"):
        await backup(db, tmp_path / "x.pgdump")
    with pytest.raises(BackupError, match="pg_restore is not on PATH"):
        await restore(db.url, Path(__file__))


async def test_a_failing_pg_dump_reports_its_error_without_the_password(tmp_path: Path) -> None:
    db = Database("postgresql+asyncpg://elcaro:hunter2@127.0.0.1:1/elcaro")  # nothing listens on port 1
    with pytest.raises(BackupError, match="pg_dump failed") as failure:
        await backup(db, tmp_path / "x.pgdump")
    assert "hunter2" not in str(failure.value)
    assert await asyncio.to_thread(lambda: list(tmp_path.iterdir())) == []


def test_libpq_url_drops_the_driver_and_password() -> None:
    url = make_url("postgresql+asyncpg://elcaro:hunter2@db:5433/prod?ssl=require")
    assert _libpq_url(url) == "postgresql://elcaro@db:5433/prod?sslmode=require"
