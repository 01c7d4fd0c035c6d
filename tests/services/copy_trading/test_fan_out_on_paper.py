"""One signal fanned out to users of different settings on the paper venue: sizes, stops, leverage, records, events."""

from __future__ import annotations

import asyncio
from decimal import Decimal as D

import pytest
from copy_world import BTC, PAPER, World, plan_of

from elcaro.core.codec import decode
from elcaro.exchanges.paper import PaperExchangeAdapter
from elcaro.models import Balance, Entry, EntryKind, Order, OrderStatus, OrderType
from elcaro.models.errors import InvalidOrderError
from elcaro.models.events import EventKind
from elcaro.services.copy_trading import CopyCode
from elcaro.storage import ExecutionStatus
from elcaro.trading import LegKind, OrderKey, PositionState, open_position

pytestmark = pytest.mark.db


async def test_each_user_gets_entries_sized_by_their_own_risk_with_the_stop_attached(world: World) -> None:
    fixed = await world.user({"risk_pct": "1", "leverage": 5})
    bold = await world.user({"risk_pct": "3", "leverage": 10}, deposit=D(5000))
    patient = await world.user({"risk_pct": "0.5", "order_type": "limit", "limit_offset_pct": "0.5", "leverage": 3})
    signal = await world.signal()
    assert signal.id is not None

    report = await world.service().fan_out(signal)

    assert report.count(ExecutionStatus.FILLED) == 2 and report.count(ExecutionStatus.PLACED) == 1
    engine = world.venue.engine
    # equity × risk % ÷ stop distance, rounded down to the 0.001 step
    expected = {
        fixed: (D("0.083"), OrderType.MARKET, 5),  # 10 000 × 1 % ÷ 1 200
        bold: (D("0.125"), OrderType.MARKET, 10),  # 5 000 × 3 % ÷ 1 200
        patient: (D("0.055"), OrderType.LIMIT, 3),  # 10 000 × 0.5 % ÷ (59 700 − 58 800)
    }
    records = await world.executions(signal.id)
    for user_id, (qty, kind, leverage) in expected.items():
        [order] = engine.orders(world.account(user_id))
        assert (order.qty, order.type, order.stop_loss) == (qty, kind, D(58800))
        assert order.client_order_id == plan_of(records[user_id]).entries[0].client_order_id
        assert engine.leverage(world.account(user_id), BTC.symbol) == leverage
    assert engine.open_orders(world.account(patient))[0].price == D(59700)
    for user_id in (fixed, bold):
        position = engine.position(world.account(user_id), BTC.symbol)
        assert position is not None and position.stop_loss == D(58800)  # protected from the first fill
        assert position.qty == expected[user_id][0]
    assert engine.position(world.account(patient), BTC.symbol) is None

    statuses = {user_id: records[user_id].status for user_id in expected}
    assert statuses == {fixed: ExecutionStatus.FILLED, bold: ExecutionStatus.FILLED, patient: ExecutionStatus.PLACED}
    async with world.database.transaction() as tx:
        for user_id, record in records.items():
            assert record.position_id is not None and record.reason_code is None
            plan = plan_of(record)
            state = decode(PositionState, await tx.positions.get_state(record.position_id))
            assert state == open_position(plan, BTC)  # exactly what the position monitor starts from
            stored = await tx.orders.get(user_id, PAPER, plan.entries[0].client_order_id)
            assert stored is not None and stored.stop_loss == D(58800)
            position = await tx.positions.get(record.position_id)
            assert position is not None and position.signal_id == signal.id and position.qty == expected[user_id][0]
        assert await tx.orders.get(fixed, PAPER, plan.key.client_order_id(LegKind.TP, 0)) is None  # the monitor's

    placed = {event.user_id: event for event in world.events(EventKind.ENTRY_PLACED)}
    assert placed.keys() == expected.keys()
    assert placed[bold].data["qty"] == "0.125" and placed[bold].data["leverage"] == "10"
    assert placed[bold].data["stop_loss"] == "58800.0" and placed[bold].position_id == records[bold].position_id
    assert D(placed[fixed].data["risk"]) == D("0.083") * 1200


async def test_dca_legs_go_out_with_the_entry_and_ladders_rest_at_their_prices(world: World) -> None:
    dca = [{"offset_pct": "1", "size_multiplier": "1"}]
    ladder = await world.user({"risk_pct": "1", "zone_legs": 3, "dca_legs": dca})
    signal = await world.signal(entry=Entry(EntryKind.ZONE, (D(59500), D(59900))), stop_loss=D(58000))
    assert signal.id is not None
    await world.service().fan_out(signal)

    plan = plan_of((await world.executions(signal.id))[ladder])
    on_venue = {order.client_order_id: order for order in world.venue.engine.open_orders(world.account(ladder))}
    assert len(plan.entries) == 3 and len(plan.dca) == 1
    assert on_venue.keys() == {order.client_order_id for order in (*plan.entries, *plan.dca)}
    assert all(on_venue[order.client_order_id].stop_loss == D(58000) for order in plan.entries)
    assert sum(order.qty for order in plan.entries) == plan.qty


async def test_an_exchange_refusal_fails_that_user_only_with_the_reason_and_a_notice(world: World) -> None:
    # At 1× the margin for the largest step-rounded size leaves less than the taker fee free: the venue refuses.
    refused = await world.user({"risk_pct": "10", "leverage": 1}, deposit=D("960.2"))
    fine = await world.user({"risk_pct": "1"})
    signal = await world.signal(stop_loss=D(59400))
    assert signal.id is not None

    report = await world.service().fan_out(signal)

    records = await world.executions(signal.id)
    assert records[fine].status is ExecutionStatus.FILLED
    failed = records[refused]
    assert (failed.status, failed.reason_code, failed.position_id) == (
        ExecutionStatus.FAILED,
        "InsufficientFundsError",
        None,
    )
    assert failed.reason is not None and "margin" in failed.reason
    assert world.venue.engine.orders(world.account(refused)) == []
    [notice] = world.events(EventKind.ENTRY_FAILED)
    assert (notice.user_id, notice.code, notice.signal_id) == (refused, "InsufficientFundsError", signal.id)
    assert len(report.outcomes) == 2


async def test_a_user_whose_venue_hangs_delays_nobody_else(world: World) -> None:
    release = asyncio.Event()

    class Hanging(PaperExchangeAdapter):
        async def fetch_balance(self) -> Balance:
            await release.wait()
            return await super().fetch_balance()

    slow = await world.user({"risk_pct": "1"})
    others = {await world.user({"risk_pct": "1"}) for _ in range(3)}
    world.script(slow, Hanging)
    signal = await world.signal()

    fan_out = asyncio.create_task(world.service().fan_out(signal))
    async with asyncio.timeout(10):
        await world.bus.until(EventKind.ENTRY_PLACED, len(others))
    assert not fan_out.done()
    assert {event.user_id for event in world.events(EventKind.ENTRY_PLACED)} == others
    release.set()
    report = await fan_out
    assert report.count(ExecutionStatus.FILLED) == 4


async def test_an_entry_the_venue_took_without_its_stop_is_closed_at_once(world: World) -> None:
    class DropsStops(PaperExchangeAdapter):
        async def place_order(self, order: Order) -> Order:
            return await super().place_order(order.with_update(stop_loss=None))

    naked = await world.user({"risk_pct": "1"})
    world.script(naked, DropsStops)
    signal = await world.signal()
    assert signal.id is not None

    await world.service().fan_out(signal)

    record = (await world.executions(signal.id))[naked]
    assert (record.status, record.reason_code, record.position_id) == (
        ExecutionStatus.FAILED,
        CopyCode.STOP_NOT_ATTACHED,
        None,
    )
    engine = world.venue.engine
    assert engine.position(world.account(naked), BTC.symbol) is None  # never left naked
    entry, close = engine.orders(world.account(naked))
    assert entry.status is OrderStatus.FILLED and close.reduce_only and close.qty == entry.qty
    assert close.client_order_id == plan_of(record).key.client_order_id(LegKind.CLOSE, 0)
    [notice] = world.events(EventKind.ENTRY_FAILED)
    assert notice.code == CopyCode.STOP_NOT_ATTACHED and "closed at market" in notice.message


async def test_a_plan_refused_half_way_is_withdrawn_whole(world: World) -> None:
    halfway = await world.user({"risk_pct": "1", "dca_legs": [{"offset_pct": "1", "size_multiplier": "1"}]})
    signal = await world.signal()
    assert signal.id is not None
    dca_id = OrderKey(signal.id, halfway, PAPER).client_order_id(LegKind.DCA, 0)

    class RefusesTheAdd(PaperExchangeAdapter):
        async def place_order(self, order: Order) -> Order:
            if order.client_order_id == dca_id:
                raise InvalidOrderError("risk limit exceeded for this symbol", exchange="paper", code="110090")
            return await super().place_order(order)

    world.script(halfway, RefusesTheAdd)
    await world.service().fan_out(signal)

    record = (await world.executions(signal.id))[halfway]
    assert (record.status, record.reason_code, record.position_id) == (
        ExecutionStatus.FAILED,
        "InvalidOrderError",
        None,
    )
    assert record.reason is not None and record.reason.startswith("risk limit exceeded")
    assert "closed at market" in record.reason
    engine = world.venue.engine
    assert engine.position(world.account(halfway), BTC.symbol) is None  # the filled entry went straight out again
    entry, close = engine.orders(world.account(halfway))
    assert close.reduce_only and close.qty == entry.filled_qty == plan_of(record).qty
    async with world.database.transaction() as tx:
        assert await tx.positions.list_open(halfway) == []
        stored_close = await tx.orders.get(halfway, PAPER, close.client_order_id)
    assert stored_close is not None and stored_close.status is OrderStatus.FILLED
