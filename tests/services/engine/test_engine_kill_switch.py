"""The kill switch, the panic exit and the time stop really flatten the engine's account on the paper exchange."""

from __future__ import annotations

from decimal import Decimal

import pytest
from engine_world import ETH, EngineWorld, make_world

from elcaro.engine import CommandRefusedError, EngineState
from elcaro.models import ExitReason, Order, OrderType, Side, make_client_order_id
from elcaro.services.engine import EngineService
from elcaro.storage import Database

pytestmark = pytest.mark.db


async def trading(world: EngineWorld, engine: EngineService) -> None:
    """Start the engine and play bars until it holds a position; add an ETH position and a resting order by hand."""
    engine.command("start", "operator")
    await engine.settle()
    for _ in range(300):
        if engine.status().positions:
            break
        assert await engine.next_bar()
    assert engine.status().positions, "the replay gave the engine no trade"
    client = await world.client()
    await client.place_order(
        Order(make_client_order_id("test", "eth"), ETH.symbol, Side.SELL, OrderType.MARKET, Decimal("0.5"))
    )
    await client.place_order(
        Order(
            make_client_order_id("test", "eth-limit"),
            ETH.symbol,
            Side.BUY,
            OrderType.LIMIT,
            Decimal("0.5"),
            price=Decimal(1000),
        )
    )
    positions = await world.positions()
    assert {p.symbol for p in positions} == {"BTC/USDT:USDT", ETH.symbol}
    orders = await world.open_orders()
    assert {o.type for o in orders} == {OrderType.STOP_MARKET, OrderType.LIMIT}  # the engine's stop is a real order


async def exit_reasons(world: EngineWorld) -> list[ExitReason]:
    async with world.database.transaction() as tx:
        trades = await tx.trades.list_for_user(world.user_id)
    assert all(trade.strategy == "elcaro" for trade in trades)
    return [trade.exit_reason for trade in trades]


async def test_kill_switch_flattens_the_paper_account_and_keeps_the_engine_stopped(database: Database) -> None:
    world = await make_world(database)
    engine = world.engine()
    try:
        await trading(world, engine)
        engine.command("kill_switch", "operator")
        assert engine.state is EngineState.EMERGENCY
        await engine.settle()

        assert await world.positions() == []
        assert await world.open_orders() == []
        assert engine.state is EngineState.STOPPED
        status = engine.status()
        assert status.positions == () and status.unmanaged == ()
        assert status.killed is not None and status.killed.actor == "operator"
        assert ExitReason.KILL_SWITCH in await exit_reasons(world)

        with pytest.raises(CommandRefusedError, match="reset first"):
            engine.command("start", "operator")
        for _ in range(50):  # the market moves on; a stopped engine trades nothing
            assert await engine.next_bar()
        assert engine.state is EngineState.STOPPED
        assert await world.positions() == [] and await world.open_orders() == []
        engine.command("reset", "operator")
        engine.command("start", "operator")
        assert engine.state is EngineState.INITIALIZING
    finally:
        await world.close()


async def test_panic_exit_flattens_then_pauses(database: Database) -> None:
    world = await make_world(database)
    engine = world.engine()
    try:
        await trading(world, engine)
        engine.command("panic_exit", "operator")
        await engine.settle()
        assert await world.positions() == []
        assert await world.open_orders() == []
        assert engine.state is EngineState.PAUSED and engine.status().killed is None
        assert ExitReason.MANUAL in await exit_reasons(world)
        engine.command("resume", "operator")
        await engine.settle()
        assert engine.state is EngineState.MANAGING
    finally:
        await world.close()


async def test_time_stop_closes_with_its_reason_and_stops_without_a_latch(database: Database) -> None:
    world = await make_world(database)
    engine = world.engine()
    try:
        await trading(world, engine)
        engine.command("time_stop", "operator")
        assert engine.state is EngineState.MANAGING
        await engine.settle()
        assert await world.positions() == []
        assert await world.open_orders() == []
        assert engine.state is EngineState.STOPPED
        assert ExitReason.TIME_STOP in await exit_reasons(world)
        engine.command("start", "operator")
        await engine.settle()
        assert engine.state is EngineState.MANAGING
    finally:
        await world.close()
