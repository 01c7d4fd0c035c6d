"""The engine trading recorded BTC/USDT candles on the platform's paper exchange, bar by bar."""

from __future__ import annotations

from decimal import Decimal

import pytest
from engine_world import BTC, EngineWorld, make_world

from elcaro.engine import EngineState
from elcaro.models import ExitReason, OrderType, PositionSide, Side
from elcaro.services.engine import EngineService, Stage
from elcaro.services.statistics import StatisticsService
from elcaro.storage import Database

pytestmark = pytest.mark.db


async def until_in_position(engine: EngineService, bars: int = 300) -> None:
    for _ in range(bars):
        if engine.status().positions:
            return
        assert await engine.next_bar()
    raise AssertionError("the replay gave the engine no trade")


async def venue_agrees(world: EngineWorld, engine: EngineService) -> None:
    """Every position the engine believes it holds is on the venue at that size, behind a stop of that size."""
    positions = {p.symbol: p for p in await world.positions()}
    orders = await world.open_orders()
    stops = {o.symbol: o for o in orders if o.type is OrderType.STOP_MARKET}
    for view in engine.status().positions:
        venue = positions[view.symbol]
        assert (venue.side, venue.qty) == (view.side, view.remaining)
        stop = stops[view.symbol]
        assert stop.reduce_only and stop.side is view.side.exit_side
        assert (stop.qty, stop.trigger_price) == (view.remaining, view.stop)
        for target in (o for o in orders if o.symbol == view.symbol and o.type is OrderType.LIMIT):
            assert target.reduce_only and target.side is view.side.exit_side  # a take-profit beyond the entry
            assert view.side.sign * (target.price - view.entry_price) > 0  # type: ignore[operator]
    assert set(positions) == {view.symbol for view in engine.status().positions}
    assert {o.symbol for o in orders} <= set(positions)  # no order outlives its position


async def test_an_entry_is_protected_by_a_stop_order_on_the_venue(database: Database) -> None:
    world = await make_world(database)
    engine = world.engine()
    try:
        engine.command("start", "operator")
        await engine.settle()
        assert engine.state is EngineState.MANAGING
        await until_in_position(engine)
        (view,) = engine.status().positions
        assert view.symbol == BTC.symbol and view.stop_reason is ExitReason.STOP_LOSS
        assert view.side.sign * (view.entry_price - view.stop) > 0  # the stop is on the losing side
        await venue_agrees(world, engine)
        targets = [o for o in await world.open_orders() if o.type is OrderType.LIMIT]
        assert [o.qty for o in targets] == [BTC.round_qty(view.qty * Decimal(share)) for share in ("0.5", "0.3")]
        assert [o.price for o in targets] == sorted(
            (o.price for o in targets), reverse=view.side is PositionSide.SHORT
        )  # TP1 nearer the entry than TP2
        entered = [d for d in engine.status().decisions if d.code == "entered"]
        assert len(entered) == 1 and entered[0].stage is Stage.ENTRY
        (signal,) = [s for s in engine.status().signals if s.taken]
        assert signal.outcome == "entered" and signal.symbol == BTC.symbol
    finally:
        await world.close()


async def test_every_exit_is_a_real_order_and_a_trade_in_the_log(database: Database) -> None:
    world = await make_world(database)
    engine = world.engine()
    try:
        engine.command("start", "operator")
        await engine.settle()
        for _ in range(600):
            assert await engine.next_bar()
            await venue_agrees(world, engine)
        assert engine.state is EngineState.MANAGING and not engine.status().faults
        async with database.transaction() as tx:
            trades = await tx.trades.list_for_user(world.user_id, limit=1000)
        assert len(trades) >= 5
        assert {trade.strategy for trade in trades} == {"elcaro"}
        reasons = {trade.exit_reason for trade in trades}
        assert ExitReason.STOP_LOSS in reasons and ExitReason.TAKE_PROFIT in reasons
        # What the log says was closed is what the venue filled: the account's closed PnL agrees.
        client = await world.client()
        venue_closed = sum((t.qty for t in await client.fetch_closed_pnl(BTC.symbol, limit=1000)), Decimal(0))
        open_qty = sum((p.remaining for p in engine.status().positions), Decimal(0))
        history = await client.fetch_order_history(BTC.symbol, limit=10_000)
        entered = sum((o.filled_qty for o in history if not o.reduce_only), Decimal(0))
        assert sum((trade.qty for trade in trades), Decimal(0)) == venue_closed
        assert entered == venue_closed + open_qty  # every entry is closed in the log or still held
        # Statistics count the engine like any strategy: parts of one position are one trade there.
        report = await StatisticsService(database, clock=world.clock).report(world.user_id, strategy="elcaro")
        assert report.overall.count == len({(t.opened_at, t.side) for t in trades})
        assert report.overall.total_pnl == sum((t.net_pnl for t in trades), Decimal(0))
    finally:
        await world.close()


async def test_a_stop_the_venue_refuses_means_the_position_is_closed_at_once(database: Database) -> None:
    world = await make_world(database)
    faulty = world.use_faulty_account()
    faulty.refuse.add(OrderType.STOP_MARKET)
    engine = world.engine()
    try:
        engine.command("start", "operator")
        await engine.settle()
        for _ in range(300):
            if any(d.code == "entry_abandoned" for d in engine.status().decisions):
                break
            assert await engine.next_bar()
        abandoned = [d for d in engine.status().decisions if d.code == "entry_abandoned"]
        assert abandoned and "stop could not be placed" in abandoned[0].message
        assert await world.positions() == [] and await world.open_orders() == []
        assert engine.status().positions == ()
        async with database.transaction() as tx:
            (trade,) = await tx.trades.list_for_user(world.user_id)
        assert trade.exit_reason is ExitReason.STOP_LOSS and trade.strategy == "elcaro"
        assert engine.state is EngineState.MANAGING  # one trade abandoned; the engine carries on
    finally:
        await world.close()


async def test_a_refused_entry_is_skipped_and_the_engine_carries_on(database: Database) -> None:
    world = await make_world(database)
    faulty = world.use_faulty_account()
    faulty.refuse.add(OrderType.MARKET)
    engine = world.engine()
    try:
        engine.command("start", "operator")
        await engine.settle()
        for _ in range(300):
            if any(d.code == "entry_refused" for d in engine.status().decisions):
                break
            assert await engine.next_bar()
        assert engine.state is EngineState.MANAGING
        assert await world.positions() == []
        assert engine.status().faults[-1].error == "InvalidOrderError"
        assert engine.status().risk is not None and engine.status().risk.open_positions == {}  # reservation released
        faulty.refuse.clear()
        await until_in_position(engine)
    finally:
        await world.close()


async def test_pause_keeps_managing_but_enters_nothing(database: Database) -> None:
    world = await make_world(database)
    engine = world.engine()
    try:
        engine.command("start", "operator")
        await engine.settle()
        await until_in_position(engine)
        engine.command("pause", "operator")
        entries = sum(1 for d in engine.status().decisions if d.code == "entered")
        for _ in range(400):
            assert await engine.next_bar()
            await venue_agrees(world, engine)
        assert engine.state is EngineState.PAUSED
        assert sum(1 for d in engine.status().decisions if d.code == "entered") == entries
        assert engine.status().positions == ()  # the open trade was managed to its exit while paused
        async with database.transaction() as tx:
            assert await tx.trades.list_for_user(world.user_id)
        engine.command("resume", "operator")
        await engine.settle()
        assert engine.state is EngineState.MANAGING
    finally:
        await world.close()


async def test_reload_preset_initializes_again_with_the_new_one(database: Database) -> None:
    world = await make_world(database)
    engine = world.engine()
    try:
        engine.command("start", "operator")
        await engine.settle()
        engine.command("reload_preset", "operator", preset="conservative")
        assert engine.state is EngineState.INITIALIZING
        await engine.settle()
        assert engine.preset.name == "conservative"
        assert engine.state is EngineState.MANAGING
        assert [t.target for t in engine.status().history][-3:] == [
            EngineState.INITIALIZING,
            EngineState.SCANNING,
            EngineState.MANAGING,
        ]
    finally:
        await world.close()


async def test_a_short_is_protected_by_a_buy_stop_above(database: Database) -> None:
    world = await make_world(database)
    engine = world.engine()
    try:
        engine.command("start", "operator")
        await engine.settle()
        for _ in range(1500):
            views = engine.status().positions
            if views and views[0].side is PositionSide.SHORT:
                break
            assert await engine.next_bar()
        (view,) = engine.status().positions
        assert view.side is PositionSide.SHORT and view.stop > view.entry_price
        (stop,) = [o for o in await world.open_orders() if o.type is OrderType.STOP_MARKET]
        assert stop.side is Side.BUY
    finally:
        await world.close()


async def test_a_take_profit_the_venue_will_not_rest_is_closed_at_market_when_reached(database: Database) -> None:
    world = await make_world(database)
    faulty = world.use_faulty_account()
    faulty.refuse.add(OrderType.LIMIT)
    engine = world.engine()
    try:
        engine.command("start", "operator")
        await engine.settle()
        for _ in range(900):
            async with database.transaction() as tx:
                trades = await tx.trades.list_for_user(world.user_id, limit=1000)
            if any(trade.exit_reason is ExitReason.TAKE_PROFIT for trade in trades):
                break
            assert await engine.next_bar()
            await venue_agrees(world, engine)
        else:
            raise AssertionError("no target was reached in the replay")
        assert engine.state is EngineState.MANAGING
        history = await (await world.client()).fetch_order_history(BTC.symbol, limit=10_000)
        assert not any(o.type is OrderType.LIMIT for o in history)  # nothing rested: the market close did it
    finally:
        await world.close()
