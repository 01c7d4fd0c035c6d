from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest
from sqlalchemy import text
from storage_builders import T0, add_user

from elcaro.models import ApprovalState, Role, TelegramProfile, User
from elcaro.models.errors import NotFoundError
from elcaro.storage import Database

pytestmark = pytest.mark.db


async def test_add_and_read_back_every_field(database: Database) -> None:
    async with database.transaction() as tx:
        referrer = await add_user(tx, 1)
        added = await tx.users.add(
            TelegramProfile(9_876_543_210, username="trader", first_name="Иван", last_name="Петров"),
            language="ru",
            role=Role.ADMIN,
            approval=ApprovalState.APPROVED,
            referral_code="ABCD2345",
            referred_by=referrer,
            now=T0,
        )
    expected = User(
        id=added.id,
        telegram_id=9_876_543_210,  # beyond 32 bits, as Telegram ids are
        username="trader",
        first_name="Иван",
        last_name="Петров",
        language="ru",
        role=Role.ADMIN,
        approval=ApprovalState.APPROVED,
        banned=False,
        terms_accepted_at=None,
        referral_code="ABCD2345",
        referred_by=referrer,
        created_at=T0,
        last_seen_at=T0,
    )
    assert added == expected
    async with database.transaction() as tx:
        assert await tx.users.get(added.id) == expected
        assert await tx.users.get_by_telegram_id(9_876_543_210) == expected
        assert await tx.users.get_by_referral_code("ABCD2345") == expected
        assert await tx.users.get(999) is None
        assert await tx.users.get_by_telegram_id(5) is None
        assert await tx.users.get_by_referral_code("NOPE") is None


async def test_list_filters_and_pages_in_id_order(database: Database) -> None:
    async with database.transaction() as tx:
        ids = [await add_user(tx, telegram_id) for telegram_id in range(1, 6)]
        await tx.users.update(ids[1], approval=ApprovalState.APPROVED)
        await tx.users.update(ids[3], approval=ApprovalState.APPROVED, role=Role.ADMIN)
    async with database.transaction() as tx:
        assert [u.id for u in await tx.users.list()] == ids
        assert [u.id for u in await tx.users.list(limit=2, offset=1)] == ids[1:3]
        assert [u.id for u in await tx.users.list(approval=ApprovalState.APPROVED)] == [ids[1], ids[3]]
        assert [u.id for u in await tx.users.list(approval=ApprovalState.APPROVED, role=Role.USER)] == [ids[1]]
        assert [u.id for u in await tx.users.list(role=Role.ADMIN)] == [ids[3]]


async def test_update_changes_only_the_named_fields(database: Database, user_id: int) -> None:
    async with database.transaction() as tx:
        before = await tx.users.get(user_id)
        after = await tx.users.update(
            user_id, role="admin", approval=ApprovalState.REJECTED, banned=True, terms_accepted_at=T0 + 1
        )
        assert await tx.users.get(user_id) == after  # no stale copy within the same transaction
    assert before is not None
    assert after.role is Role.ADMIN
    assert after.approval is ApprovalState.REJECTED
    assert after.banned
    assert after.terms_accepted_at == T0 + 1
    assert (after.username, after.language, after.created_at) == (before.username, before.language, before.created_at)
    async with database.transaction() as tx:
        assert await tx.users.get(user_id) == after
        for field, value in [
            ("language", "ru"),
            ("username", None),
            ("first_name", "A"),
            ("last_name", "B"),
            ("last_seen_at", T0 + 5),
        ]:
            assert getattr(await tx.users.update(user_id, **{field: value}), field) == value
        assert await tx.users.update(user_id) == await tx.users.get(user_id)


async def test_update_of_an_unknown_user_is_not_found(database: Database) -> None:
    async with database.transaction() as tx:
        with pytest.raises(NotFoundError, match="no user with id 404"):
            await tx.users.update(404, banned=True)
        with pytest.raises(NotFoundError, match="no user with id 404"):
            await tx.users.update(404)


async def test_update_of_a_field_that_cannot_change_is_refused(database: Database, user_id: int) -> None:
    async with database.transaction() as tx:
        with pytest.raises(ValueError, match="cannot update user field 'telegram_id'"):
            await tx.users.update(user_id, telegram_id=1)
        with pytest.raises(ValueError, match="'superuser' is not a valid Role"):
            await tx.users.update(user_id, role="superuser")


async def test_trading_pause(database: Database, user_id: int) -> None:
    async with database.transaction() as tx:
        other = await add_user(tx, 43)
        before = await tx.users.get(user_id)
        assert not await tx.users.is_trading_paused(user_id)
        await tx.users.set_trading_paused(user_id, True)
    async with database.transaction() as tx:
        assert await tx.users.is_trading_paused(user_id)
        assert not await tx.users.is_trading_paused(other)
        assert await tx.users.get(user_id) == replace(before, trading_paused=True)  # nothing else changed
        assert await tx.users.paused_user_ids([user_id, other, 999]) == {user_id}
        assert await tx.users.paused_user_ids([]) == set()
        await tx.users.set_trading_paused(user_id, False)
        assert await tx.users.paused_user_ids([user_id, other]) == set()
        with pytest.raises(NotFoundError, match="no user with id 999"):
            await tx.users.set_trading_paused(999, True)
        with pytest.raises(NotFoundError, match="no user with id 999"):
            await tx.users.is_trading_paused(999)


async def _until_a_backend_waits_for_a_row_lock(database: Database) -> None:
    async with database.engine.connect() as connection:
        for _ in range(6000):  # a guard against a hung run, not a timing: each turn asks the server
            waiting = await connection.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE wait_event_type = 'Lock' AND datname = current_database()"
                )
            )
            if waiting:
                return
            # pg_stat_activity is read once per transaction (a snapshot): end it, or every turn sees the first.
            await connection.rollback()
            await asyncio.sleep(0.01)
    raise AssertionError("no transaction ever waited for the row")


async def test_a_locking_read_waits_for_the_transaction_holding_the_row(database: Database, db_backend: str) -> None:
    """Changes of one user take turns: the second reads the row once the first has committed, with its change."""
    if db_backend != "postgresql":
        pytest.skip("SQLite runs one writing transaction at a time: a second one never starts meanwhile")
    async with database.transaction() as tx:
        user_id = await add_user(tx, 1)

    async def second() -> User | None:
        async with database.transaction() as tx:
            return await tx.users.get(user_id, lock=True)

    async with database.transaction() as first:
        assert await first.users.get(user_id, lock=True) is not None
        waiting = asyncio.create_task(second())
        await _until_a_backend_waits_for_a_row_lock(database)
        assert not waiting.done()
        await first.users.update(user_id, terms_accepted_at=T0)
    read = await waiting
    assert read is not None and read.terms_accepted_at == T0


async def test_search_finds_a_username_prefix_or_part_of_a_name_ignoring_case_and_wildcards(database: Database) -> None:
    people = [
        TelegramProfile(501, username="Alice_Trader", first_name="Alice", last_name="Smith"),
        TelegramProfile(502, username="alicia", first_name="Alicia"),
        TelegramProfile(503, username="bob", first_name="Robert", last_name="Alison"),
        TelegramProfile(504, username="percent", first_name="100%", last_name="Sure"),
        TelegramProfile(505, username=None, first_name="Иван", last_name="Петров"),
    ]
    async with database.transaction() as tx:
        ids = {}
        for n, person in enumerate(people):
            added = await tx.users.add(
                person,
                language="en",
                role=Role.USER,
                approval=ApprovalState.APPROVED,
                referral_code=f"SRCH{n:04d}",
                referred_by=None,
                now=T0,
            )
            ids[person.telegram_id] = added.id
    async with database.reading() as tx:
        by_username = [user.telegram_id for user in await tx.users.search("ALI")]
        by_surname = [user.telegram_id for user in await tx.users.search("alison")]
        literal_percent = [user.telegram_id for user in await tx.users.search("0%")]
        underscore = [user.telegram_id for user in await tx.users.search("alice_")]
        wildcard_only = [user.telegram_id for user in await tx.users.search("%")]
        cyrillic = [user.telegram_id for user in await tx.users.search("Петров")]
        limited = await tx.users.search("a", limit=2)
    assert by_username == [501, 502, 503]  # 503 by its surname "Alison", which contains "ali"
    assert by_surname == [503]
    assert literal_percent == [504]
    assert underscore == [501]
    assert wildcard_only == [504]
    assert cyrillic == [505]
    assert [user.id for user in limited] == [ids[501], ids[502]]
