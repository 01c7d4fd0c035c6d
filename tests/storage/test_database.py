"""The database handle: connection set-up, transactions, and errors in the platform's own terms."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from storage_builders import T0, add_user

from elcaro.models import ApprovalState, AuditEntry, Role, SettingsKey, SettingsScope, TelegramProfile, UserSettings
from elcaro.models.errors import ConfigError, ConflictError, NotFoundError
from elcaro.storage import Database, UnitOfWork, migrate

pytestmark = pytest.mark.db


async def register(tx: UnitOfWork, telegram_id: int, referral_code: str) -> None:
    await tx.users.add(
        TelegramProfile(telegram_id),
        language="en",
        role=Role.USER,
        approval=ApprovalState.PENDING,
        referral_code=referral_code,
        referred_by=None,
        now=T0,
    )


async def test_ping_and_dialect(database: Database, db_backend: str) -> None:
    await database.ping()
    assert database.dialect == db_backend


async def test_a_ping_answers_while_a_write_transaction_holds_the_database(database: Database) -> None:
    # A health check must not queue behind writers: on SQLite the writers' side takes the write lock at BEGIN.
    async with database.transaction() as tx:
        await register(tx, 4242, "PING4242")
        await database.ping()


async def test_sqlite_connections_use_wal_busy_timeout_and_foreign_keys(tmp_path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'new' / 'dir' / 'elcaro.db'}", sqlite_busy_timeout_ms=1234)
    try:
        async with db.engine.connect() as connection:
            pragmas = {
                name: (await connection.exec_driver_sql(f"PRAGMA {name}")).scalar_one()
                for name in ("journal_mode", "busy_timeout", "foreign_keys", "synchronous")
            }
    finally:
        await db.close()
    assert pragmas == {"journal_mode": "wal", "busy_timeout": 1234, "foreign_keys": 1, "synchronous": 1}
    assert (tmp_path / "new" / "dir" / "elcaro.db").is_file()  # the parent directories were made


def test_unsupported_urls_are_refused() -> None:
    with pytest.raises(ConfigError, match="unsupported database driver 'mysql"):
        Database("mysql+aiomysql://localhost/elcaro")
    with pytest.raises(ConfigError, match="must be a file path"):
        Database("sqlite+aiosqlite:///:memory:")


def test_repr_hides_the_password() -> None:
    db = Database("postgresql+asyncpg://elcaro:hunter2@db.example:5432/elcaro")
    assert "hunter2" not in repr(db)
    assert "db.example" in repr(db)


async def test_commit_on_success(database: Database) -> None:
    async with database.transaction() as tx:
        user_id = await add_user(tx, 1)
    async with database.transaction() as tx:
        assert await tx.users.get(user_id) is not None


async def test_an_exception_rolls_back_every_write_of_the_transaction(database: Database) -> None:
    async def write_then_fail() -> None:
        async with database.transaction() as tx:
            user_id = await add_user(tx, 1)
            await tx.audit.add(AuditEntry("user.register", None, f"user:{user_id}", at=T0))
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        await write_then_fail()
    async with database.transaction() as tx:
        assert await tx.users.list() == []
        assert await tx.audit.list() == []


async def test_duplicate_telegram_id_is_a_conflict_and_writes_nothing(database: Database) -> None:
    async with database.transaction() as tx:
        await register(tx, 42, "FIRST")

    async def register_again() -> None:
        async with database.transaction() as tx:
            await tx.audit.add(AuditEntry("user.register", None, "user:?", at=T0))
            await register(tx, 42, "SECOND")

    with pytest.raises(ConflictError, match="a user with Telegram id 42 is already registered"):
        await register_again()
    async with database.transaction() as tx:
        assert [user.referral_code for user in await tx.users.list()] == ["FIRST"]
        assert await tx.audit.list() == []  # the audit entry written before the conflict is gone too


async def test_duplicate_referral_code_is_a_conflict(database: Database) -> None:
    async def same_code_twice() -> None:
        async with database.transaction() as tx:
            await register(tx, 1, "CODE")
            await register(tx, 2, "CODE")

    with pytest.raises(ConflictError, match="the referral code 'CODE' is already taken"):
        await same_code_twice()
    async with database.transaction() as tx:
        assert await tx.users.list() == []


async def test_a_reference_to_a_missing_row_is_not_found(database: Database) -> None:
    async def refer_to_nobody() -> None:
        async with database.transaction() as tx:
            await add_user(tx, 1, referred_by=999)

    with pytest.raises(NotFoundError, match="the referring user 999 does not exist"):
        await refer_to_nobody()


async def test_sqlite_read_then_write_transactions_do_not_lose_updates(tmp_path: Path) -> None:
    """Two use cases that read a value and write it back changed must not overwrite each other."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'elcaro.db'}"
    await migrate.upgrade_async(url)
    db = Database(url)
    key = SettingsKey(SettingsScope.GLOBAL)
    try:
        async with db.transaction() as tx:
            user_id = await add_user(tx, 1)
            await tx.settings.put(UserSettings(user_id, key, {"count": 0}))

        async def increment() -> None:
            async with db.transaction() as tx:
                current = await tx.settings.get(user_id, key)
                assert current is not None
                await asyncio.sleep(0.01)  # let the other task run its read now, if it can
                await tx.settings.put(UserSettings(user_id, key, {"count": current.values["count"] + 1}))

        await asyncio.gather(*(increment() for _ in range(5)))
        async with db.transaction() as tx:
            final = await tx.settings.get(user_id, key)
        assert final is not None and final.values["count"] == 5
    finally:
        await db.close()
