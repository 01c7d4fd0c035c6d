"""A fan-out killed half-way resumes without doubling anything; stored orders catch up; cancels withdraw entries."""

from __future__ import annotations

import asyncio
from collections import Counter
from decimal import Decimal as D

import pytest
from copy_world import BTC, PAPER, World, plan_of

from elcaro.core.codec import decode
from elcaro.exchanges.paper import PaperExchangeAdapter
from elcaro.models import ExitReason, Order, OrderStatus
from elcaro.models.events import EventKind
from elcaro.services.copy_trading import CopyCode
from elcaro.services.exchange_access import ExchangeAccess
from elcaro.services.paper_venue import PaperVenue
from elcaro.services.positions.notices import figure
from elcaro.storage import ExecutionStatus, SignalStatus
from elcaro.trading import PositionState

pytestmark = pytest.mark.db

DCA = [{"offset_pct": "1", "size_multiplier": "0.5"}]


async def test_a_restart_mid_fan_out_leaves_exactly_one_set_of_orders_per_user(world: World) -> None:
    taken = asyncio.Semaphore(0)

    class AnswerLost(PaperExchangeAdapter):
        """The venue takes the order, and then the process dies before the answer arrives."""

        async def place_order(self, order: Order) -> Order:
            await super().place_order(order)
            taken.release()
            await asyncio.Event().wait()
            raise AssertionError("never answered")

    settings = [{"risk_pct": "1", "dca_legs": DCA}, {"risk_pct": "2", "order_type": "limit", "dca_legs": DCA}]
    done = [await world.user(settings[n % 2]) for n in range(4)]
    interrupted = [await world.user(settings[n % 2]) for n in range(3)]
    never_started = [await world.user(settings[n % 2]) for n in range(2)]
    for user_id in interrupted:
        world.script(user_id, AnswerLost)
    signal = await world.signal()
    assert signal.id is not None
    engine = world.venue.engine

    # Three pairs at a time: the interrupted users hold every slot, so the last users are never reached.
    fan_out = asyncio.create_task(world.service(max_concurrent=len(interrupted)).fan_out(signal))
    async with asyncio.timeout(10):
        await world.bus.until(EventKind.ENTRY_PLACED, len(done))
        for _ in interrupted:
            await taken.acquire()
    fan_out.cancel()  # the crash: entries of three users are on the venue, unrecorded; two users not served at all
    with pytest.raises(asyncio.CancelledError):
        await fan_out
    await world.access.close()
    records = await world.executions(signal.id)
    assert {records[user_id].status for user_id in interrupted} == {ExecutionStatus.PLACING}
    assert not set(never_started) & set(records)

    # The next start: a fresh service on the same database and venue.
    venue = PaperVenue(world.database, engine, "restarted")
    world.access = ExchangeAccess(world.credentials, venue)
    restarted = world.service()
    try:
        assert await restarted.resume() == len(interrupted)
        again = await restarted.fan_out(signal)  # the ingest retrying the same signal changes nothing
    finally:
        venue.close()

    records = await world.executions(signal.id)
    async with world.database.transaction() as tx:
        for user_id in (*done, *interrupted, *never_started):
            record = records[user_id]
            plan = plan_of(record)
            orders = engine.orders(world.account(user_id))
            ids = Counter(order.client_order_id for order in orders)
            assert ids == Counter(order.client_order_id for order in (*plan.entries, *plan.dca)), user_id
            assert record.status in (ExecutionStatus.PLACED, ExecutionStatus.FILLED)
            assert [p.id for p in await tx.positions.list_open(user_id)] == [record.position_id]
            filled = sum(order.filled_qty for order in orders)
            position = engine.position(world.account(user_id), BTC.symbol)
            assert (position.qty if position else D(0)) == filled <= plan.qty  # one entry's worth, never two
    assert {outcome.execution_id for outcome in again.outcomes} == {r.id for r in records.values()}
    assert len(world.events(EventKind.ENTRY_PLACED)) == len(done) + len(interrupted) + len(never_started)


async def test_resume_catches_stored_orders_up_with_what_happened_while_down(world: World) -> None:
    cancelled_by_hand = await world.user({"order_type": "limit", "limit_offset_pct": "1"})
    filled_while_down = await world.user({"order_type": "limit", "limit_offset_pct": "0.5"})
    signal = await world.signal()
    assert signal.id is not None
    await world.service().fan_out(signal)
    records = await world.executions(signal.id)
    engine = world.venue.engine
    cancelled_id = plan_of(records[cancelled_by_hand]).entries[0].client_order_id
    filled_id = plan_of(records[filled_while_down]).entries[0].client_order_id
    engine.cancel_order(world.account(cancelled_by_hand), cancelled_id)
    engine.update_mark(BTC.symbol, D(59650))  # through the 59 700 limit, not the 59 400 one

    assert await world.service().resume() == 0

    async with world.database.transaction() as tx:
        cancelled = await tx.orders.get(cancelled_by_hand, PAPER, cancelled_id)
        filled = await tx.orders.get(filled_while_down, PAPER, filled_id)
    assert cancelled is not None and cancelled.status is OrderStatus.CANCELED
    assert filled is not None and filled.status is OrderStatus.FILLED and filled.filled_qty == filled.qty


async def test_a_cancel_withdraws_resting_entries_and_leaves_filled_positions_managed(world: World) -> None:
    resting = await world.user({"order_type": "limit", "limit_offset_pct": "1"})
    entered = await world.user({"dca_legs": DCA})
    signal = await world.signal()
    assert signal.id is not None
    service = world.service()
    await service.fan_out(signal)
    before = await world.executions(signal.id)

    assert await service.cancel(signal.id) == 2

    after = await world.executions(signal.id)
    engine = world.venue.engine
    [withdrawn] = engine.orders(world.account(resting))
    assert withdrawn.status is OrderStatus.CANCELED
    assert (after[resting].status, after[resting].reason_code) == (ExecutionStatus.SKIPPED, CopyCode.SIGNAL_CANCELLED)
    plan = plan_of(before[entered])
    orders = {order.client_order_id: order for order in engine.orders(world.account(entered))}
    entry, dca = orders[plan.entries[0].client_order_id], orders[plan.dca[0].client_order_id]
    assert (entry.status, dca.status) == (OrderStatus.FILLED, OrderStatus.CANCELED)
    assert (after[entered].status, after[entered].reason_code) == (ExecutionStatus.FILLED, CopyCode.SIGNAL_CANCELLED)
    position = engine.position(world.account(entered), BTC.symbol)
    assert position is not None and position.stop_loss == D(58800)
    async with world.database.transaction() as tx:
        gone = await tx.positions.get(before[resting].position_id or 0)
        kept = await tx.positions.get(before[entered].position_id or 0)
        state = decode(PositionState, await tx.positions.get_state(before[resting].position_id or 0))
    assert gone is not None and not gone.is_open and state.exit_reason is ExitReason.SIGNAL_CANCEL
    assert kept is not None and kept.is_open
    notices = {event.user_id: event for event in world.events(EventKind.ENTRY_CANCELLED)}
    assert {user: event.code for user, event in notices.items()} == {
        resting: CopyCode.SIGNAL_CANCELLED,
        entered: CopyCode.SIGNAL_CANCELLED,
    }
    assert notices[resting].data["position_open"] == "false"
    assert (notices[entered].data["withdrawn"], notices[entered].data["position_open"]) == ("1", "true")
    assert world.events(EventKind.POSITION_CLOSED) == []  # the resting entry never filled: no position to report
    assert world.events(EventKind.ENTRY_SKIPPED) == []

    assert await service.cancel(signal.id) == 0  # nothing rests any more, and no one is told again
    assert len(world.events(EventKind.ENTRY_CANCELLED)) == 2
    assert await world.executions(signal.id) == after


async def test_a_signal_stored_as_cancelled_is_not_fanned_out(world: World) -> None:
    await world.user()
    signal = await world.signal()
    assert signal.id is not None
    async with world.database.transaction() as tx:
        await tx.signals.set_status(signal.id, SignalStatus.CANCELLED)

    report = await world.service().fan_out(signal)

    assert report.outcomes == () and await world.executions(signal.id) == {}


async def test_positions_are_handed_to_the_monitor_and_the_execution_follows_them_to_closed(world: World) -> None:
    monitor = world.monitor()
    entered = await world.user()
    resting = await world.user({"order_type": "limit", "limit_offset_pct": "1"})
    signal = await world.signal()
    assert signal.id is not None
    service = world.service(positions=monitor)

    await service.fan_out(signal)

    records = await world.executions(signal.id)
    assert monitor.position_ids == {records[resting].position_id, records[entered].position_id}
    assert (records[entered].status, records[resting].status) == (ExecutionStatus.FILLED, ExecutionStatus.PLACED)
    engine = world.venue.engine
    engine.update_mark(BTC.symbol, D(59300))  # through the 59 400 limit
    await monitor.sync()
    records = await world.executions(signal.id)
    assert records[resting].status is ExecutionStatus.FILLED  # its first fill moved it on

    engine.update_mark(BTC.symbol, D(58700))  # through the stop: both positions close on the venue
    await monitor.sync()

    assert monitor.position_ids == set()
    records = await world.executions(signal.id)
    for user_id in (entered, resting):
        record = records[user_id]
        assert (record.status, record.reason_code) == (ExecutionStatus.CLOSED, "stop_loss"), user_id
        async with world.database.transaction() as tx:
            assert [r.id for r in await tx.executions.for_position(record.position_id or 0)] == [record.id]
            row = await tx.positions.get(record.position_id or 0)
            trades = await tx.trades.list_for_position(record.position_id or 0)
        assert row is not None and row.closed_at is not None
        assert record.reason == f"the position closed (stop_loss), net PnL {figure(row.realized_pnl)}"
        assert [t.exit_reason for t in trades] == [ExitReason.STOP_LOSS]
