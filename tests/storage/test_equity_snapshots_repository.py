"""Equity snapshots: once per (user, target, interval), read back downsampled in SQL, thinned with age."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import insert, text
from storage_builders import BINANCE_LIVE, BYBIT_DEMO, T0, add_user

from elcaro.models import ApprovalState
from elcaro.models.equity import EquitySnapshot
from elcaro.models.target import Target
from elcaro.storage import Database
from elcaro.storage.orm import EquitySnapshotRow

pytestmark = pytest.mark.db

MINUTE = 60_000
HOUR = 60 * MINUTE
DAY = 24 * HOUR
START = T0 - T0 % DAY  # a UTC midnight, so hours and days line up with the epoch's


def snap(user_id: int, at: int, equity: str, *, target: Target = BYBIT_DEMO, unrealized: str = "0") -> EquitySnapshot:
    wallet = Decimal(equity) - Decimal(unrealized)
    return EquitySnapshot(
        user_id=user_id,
        target=target,
        at=at,
        taken_at=at + 1234,
        asset="USDT",
        equity=Decimal(equity),
        wallet=wallet,
        available=wallet / 2,
        unrealized_pnl=Decimal(unrealized),
    )


async def _store(database: Database, *snapshots: EquitySnapshot) -> int:
    async with database.transaction() as tx:
        return sum([await tx.equity.add(snapshot) for snapshot in snapshots])


async def _all(database: Database, user_id: int, target: Target | None = None) -> list[EquitySnapshot]:
    async with database.reading() as tx:
        return await tx.equity.sampled(user_id, origin=0, until=START + 400 * DAY, step=1, target=target)


async def test_a_snapshot_is_stored_once_per_interval_exactly(database: Database, user_id: int) -> None:
    first = snap(user_id, START, "10000.123456789012345678", unrealized="-12.5")
    assert await _store(database, first) == 1
    # The same interval again (a restart, a second process): nothing is added and the first reading stays.
    assert await _store(database, snap(user_id, START, "999")) == 0
    assert await _store(database, snap(user_id, START, "1", target=BINANCE_LIVE)) == 1
    assert await _all(database, user_id) == [snap(user_id, START, "1", target=BINANCE_LIVE), first]
    assert await _all(database, user_id, BYBIT_DEMO) == [first]
    async with database.reading() as tx:
        assert await tx.equity.first_at(user_id) == START
        assert await tx.equity.first_at(user_id, Target.parse("bybit:paper")) is None


async def test_a_year_of_snapshots_is_read_as_a_few_hundred_rows(database: Database, user_id: int) -> None:
    # A year at one snapshot an hour on two targets: 17,520 rows, read back as at most 400 steps × 2 targets.
    rows = [
        _row(snap(user_id, START + hour * HOUR, str(1000 + hour), target=target))
        for hour in range(365 * 24)
        for target in (BYBIT_DEMO, BINANCE_LIVE)
    ]
    async with database.engine.begin() as connection:  # in one statement: adding them one by one takes a minute
        await connection.execute(insert(EquitySnapshotRow), rows)
    until = START + 365 * DAY
    step = -(-(until - START) // 399)
    async with database.reading() as tx:
        sampled = await tx.equity.sampled(user_id, origin=START, until=until, step=step)
        only_demo = await tx.equity.sampled(user_id, origin=START, until=until, step=step, target=BYBIT_DEMO)
    assert len(sampled) <= 800 and len(only_demo) <= 400
    assert len(only_demo) == len({(s.at - START) // step for s in only_demo})  # one per step
    # Each is the last of its step: the next hour belongs to the following step.
    assert all((s.at + HOUR - START) // step != (s.at - START) // step for s in only_demo[:-1])
    assert only_demo[-1] == snap(user_id, START + (365 * 24 - 1) * HOUR, str(1000 + 365 * 24 - 1))
    assert [s.at for s in sampled] == sorted(s.at for s in sampled)
    assert {s.target for s in sampled} == {BYBIT_DEMO, BINANCE_LIVE}


async def test_old_snapshots_are_thinned_to_the_last_of_each_span(database: Database, user_id: int) -> None:
    other = await _add_user(database, 43)
    quarter_hours = [START + n * 15 * MINUTE for n in range(3 * 4)]  # 00:00 … 02:45
    await _store(database, *(snap(user_id, at, str(n)) for n, at in enumerate(quarter_hours)))
    await _store(database, *(snap(other, at, str(n)) for n, at in enumerate(quarter_hours)))
    await _store(database, snap(user_id, START + 30 * MINUTE, "7", target=BINANCE_LIVE))

    async with database.transaction() as tx:
        # Only before 02:00: the last hour is left as it is, and each target and user keeps its own last.
        assert await tx.equity.thin(before=START + 2 * HOUR, every=HOUR) == 2 * 6
    kept = [(s.at - START) // MINUTE for s in await _all(database, user_id, BYBIT_DEMO)]
    assert kept == [45, 105, 120, 135, 150, 165]
    assert [s.equity for s in await _all(database, user_id, BINANCE_LIVE)] == [Decimal(7)]
    assert len(await _all(database, other)) == 6

    async with database.transaction() as tx:
        assert await tx.equity.thin(before=START + DAY, every=DAY) == 2 * 5
        assert await tx.equity.thin(before=START + DAY, every=DAY) == 0  # thinned already: nothing more
    assert [(s.at - START) // MINUTE for s in await _all(database, user_id, BYBIT_DEMO)] == [165]
    assert [s.equity for s in await _all(database, other)] == [Decimal(11)]


async def test_recordable_users_are_approved_unbanned_and_trade_somewhere(database: Database) -> None:
    approved, pending, banned, idle, disabled = [await _add_user(database, n) for n in (1, 2, 3, 4, 5)]
    async with database.transaction() as tx:
        for user_id in (approved, banned, idle, disabled):
            await tx.users.update(user_id, approval=ApprovalState.APPROVED)
        await tx.users.update(banned, banned=True)
        for user_id in (approved, pending, banned):
            await tx.user_targets.set(user_id, BYBIT_DEMO, enabled=True, now=T0)
        await tx.user_targets.set(approved, BINANCE_LIVE, enabled=True, now=T0)
        await tx.user_targets.set(disabled, BYBIT_DEMO, enabled=False, now=T0)
    async with database.reading() as tx:
        assert await tx.equity.recordable_users() == [approved]
        assert await tx.equity.recordable_users(after=approved) == []


async def test_a_users_snapshots_go_with_the_user(database: Database, user_id: int) -> None:
    await _store(database, snap(user_id, START, "1"))
    async with database.transaction() as tx:
        await tx.users.update(user_id, approval=ApprovalState.APPROVED)
    await _delete_user(database, user_id)
    assert await _all(database, user_id) == []


def _row(snapshot: EquitySnapshot) -> dict[str, object]:
    values = {name: getattr(snapshot, name) for name in EquitySnapshot.__slots__ if name != "target"}
    return values | {"exchange": snapshot.target.exchange, "environment": snapshot.target.environment}


async def _add_user(database: Database, telegram_id: int) -> int:
    async with database.transaction() as tx:
        return await add_user(tx, telegram_id)


async def _delete_user(database: Database, user_id: int) -> None:
    """In SQL: no repository deletes users, and the schema's cascade is what is tested."""
    async with database.engine.begin() as connection:
        await connection.execute(text("DELETE FROM users WHERE id = :id"), {"id": user_id})
