"""The ledger's storage: migration 0004, appends under the chain lock, and what a refusal leaves behind."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from storage_builders import add_user, read_schema

from elcaro.models import AccountKind, AccountRef, InsufficientBalanceError
from elcaro.models.errors import NotFoundError
from elcaro.models.ledger import GENESIS_HASH, LedgerDraft, LedgerEntry, LedgerKind, request_fingerprint
from elcaro.storage import Database, downgrade_async, upgrade_async
from elcaro.storage.retrying import is_transient

pytestmark = pytest.mark.db

EXTERNAL = AccountRef(AccountKind.EXTERNAL)
ADD_USER = (
    "INSERT INTO users (telegram_id, language, role, approval, banned, referral_code, created_at) "
    "VALUES (1, 'en', 'user', 'approved', false, 'R1', 1) RETURNING id"
)
LEDGER_TABLES = {
    "ledger_accounts",
    "ledger_transactions",
    "ledger_entries",
    "ledger_balances",
    "ledger_chain_head",
    "wallets",
    "platform_secrets",
    "referral_rewards",
}


def _purchase(user_id: int, amount: int, key: str) -> LedgerDraft:
    return LedgerDraft(
        LedgerKind.PURCHASE,
        key,
        request_fingerprint("purchase", {"user": user_id, "amount": amount}),
        (LedgerEntry(EXTERNAL, -amount), LedgerEntry(AccountRef.available(user_id), amount)),
    )


def _spend(user_id: int, amount: int, key: str) -> LedgerDraft:
    return LedgerDraft(
        LedgerKind.PAYMENT,
        key,
        request_fingerprint("payment", {"user": user_id, "amount": amount}),
        (LedgerEntry(AccountRef.available(user_id), -amount), LedgerEntry(AccountRef(AccountKind.TREASURY), amount)),
    )


async def _rows(database: Database, table: str) -> list[Any]:
    async with database.engine.connect() as connection:
        return list(await connection.execute(text(f"SELECT * FROM {table} ORDER BY 1")))  # noqa: S608 - fixed names


async def test_appends_chain_and_cache_balances(database: Database) -> None:
    async with database.transaction() as tx:
        user = await add_user(tx, 1)
        first = await tx.ledger.append(_purchase(user, 500, "a"), now=1)
        second = await tx.ledger.append(_spend(user, 200, "b"), now=2)
    assert first.created and second.created
    assert (first.transaction.seq, first.transaction.prev_hash) == (1, GENESIS_HASH)
    assert (second.transaction.seq, second.transaction.prev_hash) == (2, first.transaction.hash)
    async with database.transaction() as tx:
        assert await tx.ledger.find_by_key("b") == second.transaction
        assert await tx.ledger.get(1) == first.transaction
        assert await tx.ledger.balance(AccountRef.available(user)) == 300
        assert await tx.ledger.user_balances(user) == {AccountKind.AVAILABLE: 300}
        head = await tx.ledger.head()
        assert head is not None and (head.seq, head.hash) == (2, second.transaction.hash)
        replay = await tx.ledger.append(_purchase(user, 500, "a"), now=3)
    assert not replay.created and replay.transaction == first.transaction


async def test_a_refused_append_writes_nothing_even_when_the_caller_commits(database: Database) -> None:
    async with database.transaction() as tx:
        user = await add_user(tx, 1)
        await tx.ledger.append(_purchase(user, 100, "a"), now=1)
    before = {table: await _rows(database, table) for table in LEDGER_TABLES}
    async with database.transaction() as tx:  # the caller swallows the refusals and commits
        with pytest.raises(InsufficientBalanceError):
            await tx.ledger.append(_spend(user, 101, "b"), now=2)
        with pytest.raises(NotFoundError, match="no user with id 999"):
            await tx.ledger.append(_purchase(999, 1, "c"), now=2)
    assert {table: await _rows(database, table) for table in LEDGER_TABLES} == before


async def test_a_lost_head_row_resumes_from_the_last_transaction(database: Database) -> None:
    async with database.transaction() as tx:
        user = await add_user(tx, 1)
        first = await tx.ledger.append(_purchase(user, 100, "a"), now=1)
    async with database.engine.begin() as connection:
        await connection.execute(text("DELETE FROM ledger_chain_head"))
    async with database.transaction() as tx:
        second = await tx.ledger.append(_purchase(user, 100, "b"), now=2)
    assert (second.transaction.seq, second.transaction.prev_hash) == (2, first.transaction.hash)


def test_transient_errors_are_told_apart() -> None:
    class Busy(Exception):
        sqlite_errorname = "SQLITE_BUSY"

    class Serialization(Exception):
        sqlstate = "40001"

    class Unique(Exception):
        sqlstate = "23505"

    assert is_transient(OperationalError("BEGIN", {}, Busy()))
    assert is_transient(OperationalError("UPDATE", {}, Serialization()))
    assert not is_transient(OperationalError("INSERT", {}, Unique()))
    assert not is_transient(ValueError("not a database error"))


async def test_0004_upgrades_a_database_with_users_and_downgrades_to_the_same_schema(empty_database_url: str) -> None:
    url = empty_database_url
    await upgrade_async(url, "0003")
    schema_0003 = await read_schema(url)
    db = Database(url)
    try:
        async with db.engine.begin() as connection:  # SQL of that revision: the ORM describes the newest one
            user = (await connection.execute(text(ADD_USER))).scalar_one()
        await upgrade_async(url, "0004")
        assert set(await read_schema(url)) >= LEDGER_TABLES
        async with db.transaction() as tx:
            await tx.ledger.append(_purchase(user, 100, "a"), now=1)
            assert await tx.ledger.balance(AccountRef.available(user)) == 100
    finally:
        await db.close()
    await downgrade_async(url, "0003")
    assert await read_schema(url) == schema_0003
    await upgrade_async(url, "0004")  # the downgrade left nothing behind that would get in the way
