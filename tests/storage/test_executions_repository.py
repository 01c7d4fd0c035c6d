"""Execution records: one per (signal, user, target), however many fan-outs try to make it."""

from __future__ import annotations

import asyncio

import pytest
from storage_builders import BINANCE_LIVE, BYBIT_DEMO, T0, add_user, make_position, make_signal

from elcaro.models.errors import NotFoundError
from elcaro.storage import Database, ExecutionRecord, ExecutionStatus

pytestmark = pytest.mark.db

PLAN = {"orders": [{"client_order_id": "0x" + "ab" * 16, "qty": "0.010", "price": "60000.5"}], "leverage": "5"}


async def _signal(database: Database) -> int:
    async with database.transaction() as tx:
        signal = await tx.signals.add(make_signal())
    assert signal.id is not None
    return signal.id


async def test_claim_records_a_plan_once(database: Database, user_id: int) -> None:
    signal_id = await _signal(database)
    async with database.transaction() as tx:
        record, created = await tx.executions.claim(signal_id, user_id, BYBIT_DEMO, plan=PLAN, now=T0)
    assert created
    assert record == ExecutionRecord(
        id=record.id,
        signal_id=signal_id,
        user_id=user_id,
        target=BYBIT_DEMO,
        status=ExecutionStatus.PLANNED,
        reason_code=None,
        reason=None,
        plan=PLAN,
        position_id=None,
        created_at=T0,
        updated_at=T0,
    )
    async with database.transaction() as tx:
        # A resumed fan-out, with a plan computed again from newer prices, gets the stored one back.
        again, created_again = await tx.executions.claim(
            signal_id, user_id, BYBIT_DEMO, plan={"orders": []}, now=T0 + 5
        )
        other_target, created_other = await tx.executions.claim(signal_id, user_id, BINANCE_LIVE, plan={}, now=T0)
    assert (again, created_again) == (record, False)
    assert created_other and other_target.id != record.id
    async with database.transaction() as tx:
        assert await tx.executions.get(record.id) == record
        assert await tx.executions.get(999) is None


async def test_concurrent_claims_make_exactly_one_record(database: Database, user_id: int) -> None:
    signal_id = await _signal(database)

    async def claim(n: int) -> tuple[ExecutionRecord, bool]:
        async with database.transaction() as tx:
            claimed = await tx.executions.claim(signal_id, user_id, BYBIT_DEMO, plan={"attempt": n}, now=T0 + n)
            await asyncio.sleep(0.05)  # hold the transaction open so that the other claims overlap it
        return claimed

    results = await asyncio.gather(*(claim(n) for n in range(8)))
    [winner] = [record for record, created in results if created]
    assert all(record == winner for record, _ in results)
    async with database.transaction() as tx:
        assert await tx.executions.for_signal(signal_id) == [winner]


async def test_a_claim_rolled_back_leaves_the_key_to_the_next(database: Database, user_id: int) -> None:
    signal_id = await _signal(database)
    claimed = asyncio.Event()

    async def crashes() -> None:
        async with database.transaction() as tx:
            await tx.executions.claim(signal_id, user_id, BYBIT_DEMO, plan={"attempt": 1}, now=T0)
            claimed.set()
            await asyncio.sleep(0.05)
            raise RuntimeError("crash before commit")

    async def follows() -> tuple[ExecutionRecord, bool]:
        await claimed.wait()
        async with database.transaction() as tx:  # waits for the first transaction to end
            return await tx.executions.claim(signal_id, user_id, BYBIT_DEMO, plan={"attempt": 2}, now=T0 + 1)

    crash, follower = await asyncio.gather(crashes(), follows(), return_exceptions=True)
    assert isinstance(crash, RuntimeError)
    assert isinstance(follower, tuple)
    record, created = follower
    assert created and record.plan == {"attempt": 2}


async def test_claim_needs_the_signal_and_the_user(database: Database, user_id: int) -> None:
    async with database.transaction() as tx:
        with pytest.raises(NotFoundError, match="signal 999 or user 42 does not exist"):
            await tx.executions.claim(999, 42, BYBIT_DEMO, plan={}, now=T0)


async def test_set_status_through_the_life_of_an_execution(database: Database, user_id: int) -> None:
    signal_id = await _signal(database)
    async with database.transaction() as tx:
        record, _ = await tx.executions.claim(signal_id, user_id, BYBIT_DEMO, plan=PLAN, now=T0)
        position = await tx.positions.add(make_position(user_id))
        placing = await tx.executions.set_status(record.id, ExecutionStatus.PLACING, now=T0 + 1)
        failed = await tx.executions.set_status(
            record.id, ExecutionStatus.FAILED, reason_code="network", reason="timed out placing the entry", now=T0 + 2
        )
        filled = await tx.executions.set_status(record.id, ExecutionStatus.FILLED, position_id=position.id, now=T0 + 3)
        closed = await tx.executions.set_status(record.id, ExecutionStatus.CLOSED, now=T0 + 4)
    assert (placing.status, placing.updated_at, placing.created_at) == (ExecutionStatus.PLACING, T0 + 1, T0)
    assert (failed.status, failed.reason_code, failed.reason) == (
        ExecutionStatus.FAILED,
        "network",
        "timed out placing the entry",
    )
    assert (filled.status, filled.reason_code, filled.reason, filled.position_id) == (
        ExecutionStatus.FILLED,
        None,  # the retry succeeded: the old error is gone
        None,
        position.id,
    )
    assert (closed.status, closed.position_id) == (ExecutionStatus.CLOSED, position.id)  # the link stays
    async with database.transaction() as tx:
        assert await tx.executions.get(record.id) == closed
        with pytest.raises(NotFoundError, match="no execution with id 999"):
            await tx.executions.set_status(999, ExecutionStatus.SKIPPED, now=T0)
    async with database.transaction() as tx:
        with pytest.raises(NotFoundError, match="position 999 does not exist"):
            await tx.executions.set_status(record.id, ExecutionStatus.FILLED, position_id=999, now=T0)


async def test_listings_by_signal_by_user_and_unfinished(database: Database, user_id: int) -> None:
    first = await _signal(database)
    second = await _signal(database)
    async with database.transaction() as tx:
        other = await add_user(tx, 43)
        a, _ = await tx.executions.claim(first, user_id, BYBIT_DEMO, plan={}, now=T0)
        b, _ = await tx.executions.claim(first, other, BYBIT_DEMO, plan={}, now=T0 + 1)
        c, _ = await tx.executions.claim(second, user_id, BYBIT_DEMO, plan={}, now=T0 + 2)
        d, _ = await tx.executions.claim(second, user_id, BINANCE_LIVE, plan={}, now=T0 + 2)
        await tx.executions.set_status(a.id, ExecutionStatus.PLACING, now=T0 + 3)
        await tx.executions.set_status(b.id, ExecutionStatus.SKIPPED, reason_code="max_positions", now=T0 + 3)
        await tx.executions.set_status(d.id, ExecutionStatus.PLACED, now=T0 + 3)
    async with database.transaction() as tx:
        assert [r.id for r in await tx.executions.for_signal(first)] == [a.id, b.id]
        assert await tx.executions.for_signal(999) == []
        assert [r.id for r in await tx.executions.for_user(user_id)] == [d.id, c.id, a.id]
        assert [r.id for r in await tx.executions.for_user(user_id, limit=1)] == [d.id]
        assert [r.id for r in await tx.executions.for_user(other)] == [b.id]
        assert [(r.id, r.status) for r in await tx.executions.unfinished()] == [
            (a.id, ExecutionStatus.PLACING),
            (c.id, ExecutionStatus.PLANNED),
        ]


async def test_a_returned_plan_is_the_callers_own(database: Database, user_id: int) -> None:
    signal_id = await _signal(database)
    async with database.transaction() as tx:
        record, _ = await tx.executions.claim(signal_id, user_id, BYBIT_DEMO, plan=PLAN, now=T0)
        record.plan["orders"][0]["qty"] = "999"
        stored = await tx.executions.get(record.id)
    assert stored is not None
    assert stored.plan == PLAN
