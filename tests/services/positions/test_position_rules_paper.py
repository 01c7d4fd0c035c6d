"""Each management rule and request carried out on the paper venue: time exits, partial steps, ATR trailing,
signal cancels, closes by hand, repairs after changes made on the venue, and the streams."""

from __future__ import annotations

import asyncio
from decimal import Decimal as D

import pytest
from position_builders import (
    BTC,
    MINUTE,
    PAPER,
    Events,
    long_signal,
    monitor,
    new_user,
    open_tracked,
    store_settings,
    tracked_position,
    watched_position,
)

from elcaro.core.events import EventBus
from elcaro.exchanges.paper import ManualClock
from elcaro.models import ExitReason, Order, OrderType, Side
from elcaro.models.errors import ConflictError, PermissionDeniedError
from elcaro.models.events import EventKind, TradingEvent
from elcaro.models.market import Candle
from elcaro.services.exchange_access import ExchangeAccess, paper_account_id
from elcaro.services.paper_venue import PaperVenue
from elcaro.storage import Database
from elcaro.trading import LegKind

pytestmark = pytest.mark.db


async def trades_of(database: Database, user: int) -> list[tuple[ExitReason, D, D]]:
    async with database.transaction() as tx:
        trades = await tx.trades.list_for_user(user)
    return [(t.exit_reason, t.qty, t.exit_price) for t in sorted(trades, key=lambda t: (t.closed_at, t.id or 0))]


async def test_auto_close_at_a_time_of_day(
    database: Database, venue: PaperVenue, access: ExchangeAccess, bus: EventBus[TradingEvent], clock: ManualClock
) -> None:
    user = await new_user(database, 11)
    # Opened at 09:00 UTC.
    watcher = (await watched_position(database, access, bus, clock, user, auto_close_at="21:00")).watcher

    clock.advance(12 * 60 * MINUTE - 1)
    await watcher.tick()
    assert venue.engine.position(paper_account_id(user), BTC.symbol) is not None
    clock.advance(1)  # 21:00
    await watcher.tick()
    assert venue.engine.position(paper_account_id(user), BTC.symbol) is None
    await watcher.sync()
    assert await trades_of(database, user) == [(ExitReason.AUTO_CLOSE, D("0.1"), D(50000))]
    assert watcher.position_ids == set()


async def test_a_partial_take_profit_step_closes_at_market_and_resizes_the_targets(
    database: Database,
    venue: PaperVenue,
    access: ExchangeAccess,
    bus: EventBus[TradingEvent],
    events: Events,
    clock: ManualClock,
) -> None:
    engine = venue.engine
    user = await new_user(database, 12)
    steps = [{"profit_pct": 1, "close_pct": 50}]
    watcher = (await watched_position(database, access, bus, clock, user, partial_tp_steps=steps)).watcher

    clock.advance(MINUTE)
    engine.update_mark(BTC.symbol, D(50500))
    await watcher.refresh_prices()
    await watcher.sync()
    position = engine.position(paper_account_id(user), BTC.symbol)
    assert position is not None and position.qty == D("0.05")
    targets = [o.qty for o in engine.open_orders(paper_account_id(user)) if o.reduce_only]
    assert sum(targets, D(0)) == D("0.05")
    (partial,) = await events.of(EventKind.PARTIAL_TAKE_PROFIT)
    assert (partial.data["qty"], partial.data["price"], partial.data["exit_reason"]) == ("0.05", "50500", "take_profit")


async def test_the_atr_trailing_stop_tightens_on_the_venue_and_closes_the_position(
    database: Database, venue: PaperVenue, access: ExchangeAccess, bus: EventBus[TradingEvent], clock: ManualClock
) -> None:
    engine = venue.engine
    for k in range(6, 0, -1):  # closed 15-minute bars, each 100 high to low: the ATR is 100
        bar = Candle(clock() - k * 15 * MINUTE, D(50000), D(50050), D(49950), D(50000), D(1))
        engine.apply_candle(BTC.symbol, bar, timeframe="15m")
    engine.update_mark(BTC.symbol, D(50000))
    user = await new_user(database, 13)
    watched = await watched_position(
        database, access, bus, clock, user, trailing_type="atr", atr_period=3, atr_multiplier=2, atr_trigger_pct=1
    )
    watcher = watched.watcher

    def venue_stop() -> D | None:
        position = engine.position(paper_account_id(user), BTC.symbol)
        return None if position is None else position.stop_loss

    for price, stop in (("50400", "49000"), ("50600", "50400"), ("51000", "50800"), ("50900", "50800")):
        clock.advance(MINUTE)
        engine.update_mark(BTC.symbol, D(price))
        await watcher.refresh_prices()
        assert venue_stop() == D(stop), price  # trails from +1 %, best price − 2 × ATR, never loosens

    clock.advance(MINUTE)
    engine.update_mark(BTC.symbol, D(50750))
    await watcher.sync()
    assert await trades_of(database, user) == [(ExitReason.TRAILING_STOP, D("0.1"), D(50750))]


async def test_a_cancelled_signal_withdraws_entries_that_have_not_filled(
    database: Database,
    venue: PaperVenue,
    access: ExchangeAccess,
    bus: EventBus[TradingEvent],
    events: Events,
    clock: ManualClock,
) -> None:
    engine = venue.engine
    engine.update_mark(BTC.symbol, D(50500))
    user = await new_user(database, 14)
    tracked = await tracked_position(database, access, user, now=clock(), order_type="limit")
    position_id, plan = tracked.position_id, tracked.plan
    assert [o.status for o in engine.open_orders(paper_account_id(user))] == ["open"]  # resting at 50 000
    watcher = monitor(database, access, bus, clock)
    await watcher.rescan()
    await watcher.sync()

    assert await watcher.cancel_signal(plan.key.signal_id) == 1
    assert engine.open_orders(paper_account_id(user)) == []
    assert watcher.position_ids == set()
    async with database.transaction() as tx:
        row = await tx.positions.get(position_id)
    assert row is not None and row.closed_at is not None and row.realized_pnl == 0
    (cancelled,) = await events.of(EventKind.ENTRY_CANCELLED)
    assert (cancelled.code, cancelled.position_id, cancelled.signal_id) == (
        "signal_cancelled",
        position_id,
        plan.key.signal_id,
    )
    assert cancelled.data == {"withdrawn": "1", "withdrawn_qty": "0.1", "position_qty": "0", "position_open": "false"}
    assert await events.of(EventKind.POSITION_CLOSED) == []  # nothing was ever held: the withdrawal says it all
    assert await watcher.cancel_signal(plan.key.signal_id) == 0  # asked again: nothing to do, no one told twice
    assert len(await events.of(EventKind.ENTRY_CANCELLED)) == 1


async def test_entries_cancelled_on_the_venue_close_the_position_that_never_opened(
    database: Database,
    venue: PaperVenue,
    access: ExchangeAccess,
    bus: EventBus[TradingEvent],
    events: Events,
    clock: ManualClock,
) -> None:
    engine = venue.engine
    engine.update_mark(BTC.symbol, D(50500))
    user = await new_user(database, 15)
    watched = await watched_position(database, access, bus, clock, user, order_type="limit")
    watcher, plan = watched.watcher, watched.plan

    engine.cancel_order(paper_account_id(user), plan.entries[0].client_order_id)  # by hand, on the exchange
    await watcher.sync()
    assert len(watcher.position_ids) == 1  # once could be a moment's disagreement
    await watcher.sync()
    assert watcher.position_ids == set()
    (gone,) = await events.of(EventKind.ENTRY_CANCELLED)
    assert (gone.code, gone.data["position_open"]) == ("entries_gone", "false")
    assert await events.of(EventKind.POSITION_CLOSED) == []


async def test_a_stop_removed_on_the_venue_is_set_again(
    database: Database, venue: PaperVenue, access: ExchangeAccess, bus: EventBus[TradingEvent], clock: ManualClock
) -> None:
    engine = venue.engine
    user = await new_user(database, 16)
    watcher = (await watched_position(database, access, bus, clock, user)).watcher

    engine.set_position_protection(paper_account_id(user), BTC.symbol, stop_loss=D(0))  # removed by hand
    await watcher.sync()
    position = engine.position(paper_account_id(user), BTC.symbol)
    assert position is not None and position.stop_loss == D(49000)


async def test_a_user_closes_part_then_all_of_their_own_position(
    database: Database, venue: PaperVenue, access: ExchangeAccess, bus: EventBus[TradingEvent], clock: ManualClock
) -> None:
    engine = venue.engine
    user = await new_user(database, 17)
    watched = await watched_position(database, access, bus, clock, user)
    watcher, position_id = watched.watcher, watched.position_id

    with pytest.raises(PermissionDeniedError):
        await watcher.close_position(position_id, user_id=user + 1)
    clock.advance(MINUTE)
    await watcher.close_position(position_id, qty=D("0.04"), user_id=user)
    await watcher.sync()
    targets = [o.qty for o in engine.open_orders(paper_account_id(user)) if o.reduce_only]
    assert sum(targets, D(0)) == D("0.06")  # the ladder follows what is left
    clock.advance(MINUTE)
    await watcher.close_position(position_id, user_id=user)
    await watcher.sync()
    assert await trades_of(database, user) == [
        (ExitReason.MANUAL, D("0.04"), D(50000)),
        (ExitReason.MANUAL, D("0.06"), D(50000)),
    ]
    assert engine.open_orders(paper_account_id(user)) == [] and watcher.position_ids == set()


async def test_running_with_streams_a_new_position_is_followed_as_it_fills(
    database: Database, venue: PaperVenue, access: ExchangeAccess, bus: EventBus[TradingEvent], clock: ManualClock
) -> None:
    """Loops and streams on: the fan-out tells the monitor of a new position, fills arrive by the stream."""
    engine = venue.engine
    user = await new_user(database, 18)
    settings = await store_settings(database, user, break_even_after_tp=1)
    client = await access.client(user, PAPER)
    quiet = 3600.0  # no pass but the ones the test causes
    running = monitor(
        database,
        access,
        bus,
        clock,
        streams=True,
        stream_poll_interval=quiet,
        price_interval=quiet,
        tick_interval=quiet,
        rescan_interval=quiet,
    )
    published = bus.subscribe()

    async def until(kind: EventKind) -> TradingEvent:
        async with asyncio.timeout(30):  # a guard against hanging, not a measurement
            while (event := await published.get()).kind is not kind:
                pass
        return event

    async with running.running():
        position_id, plan = await open_tracked(
            database, client, user, PAPER, signal=long_signal(raw_text="streamed"), settings=settings, now=clock()
        )
        await running.track(position_id)
        assert (await until(EventKind.ENTRY_FILLED)).position_id == position_id
        clock.advance(MINUTE)
        engine.update_mark(BTC.symbol, D(52000))
        moved = await until(EventKind.BREAK_EVEN)
    assert moved.data["stop"] == "50000"
    position = engine.position(paper_account_id(user), BTC.symbol)
    assert position is not None and position.stop_loss == D(50000)
    tp = plan.key.client_order_id(LegKind.TP, 0)
    assert [f.side for f in engine.fills(paper_account_id(user)) if f.client_order_id == tp] == [Side.SELL]


async def test_a_position_opened_by_hand_is_adopted_as_manual_and_managed_from_then_on(
    database: Database, venue: PaperVenue, access: ExchangeAccess, bus: EventBus[TradingEvent], clock: ManualClock
) -> None:
    engine = venue.engine
    user = await new_user(database, 19)
    await store_settings(database, user, sl_pct=3, tp_pct=6)
    client = await access.client(user, PAPER)
    await client.place_order(Order("by-hand", BTC.symbol, Side.BUY, OrderType.MARKET, D("0.1")))
    watcher = monitor(database, access, bus, clock)
    assert [p.symbol for p in await watcher.untracked(user, PAPER)] == [BTC.symbol]

    clock.advance(MINUTE)
    position_id = await watcher.adopt(user, PAPER, BTC.symbol)
    assert await watcher.untracked(user, PAPER) == []
    with pytest.raises(ConflictError):
        await watcher.adopt(user, PAPER, BTC.symbol)
    held = engine.position(paper_account_id(user), BTC.symbol)
    assert held is not None and (held.qty, held.stop_loss) == (D("0.1"), D(48500))  # the fill by hand counted once
    assert [(o.price, o.qty) for o in engine.open_orders(paper_account_id(user))] == [(D(53000), D("0.1"))]

    clock.advance(MINUTE)
    engine.update_mark(BTC.symbol, D(53000))
    await watcher.sync()
    async with database.transaction() as tx:
        (trade,) = await tx.trades.list_for_user(user)
        row = await tx.positions.get(position_id)
    assert (trade.strategy, trade.exit_reason, trade.qty, trade.exit_price) == (
        "manual",
        ExitReason.TAKE_PROFIT,
        D("0.1"),
        D(53000),
    )
    assert row is not None and row.strategy == "manual" and row.closed_at is not None


async def test_a_liquidation_is_recorded_as_such(
    database: Database, venue: PaperVenue, access: ExchangeAccess, bus: EventBus[TradingEvent], clock: ManualClock
) -> None:
    """At 100× the venue liquidates (near 49 750) before the stop at 49 000 is reached."""
    engine = venue.engine
    user = await new_user(database, 20)
    # The first pass learns the liquidation price with the position.
    watcher = (await watched_position(database, access, bus, clock, user, leverage=100)).watcher

    clock.advance(MINUTE)
    engine.update_mark(BTC.symbol, D(49500))
    await watcher.sync()
    ((reason, qty, price),) = await trades_of(database, user)
    assert (reason, qty) == (ExitReason.LIQUIDATION, D("0.1")) and D(49500) < price < D(50000)


async def test_changed_settings_apply_to_open_positions_once_reloaded(
    database: Database, venue: PaperVenue, access: ExchangeAccess, bus: EventBus[TradingEvent], clock: ManualClock
) -> None:
    engine = venue.engine
    user = await new_user(database, 22)
    watcher = (await watched_position(database, access, bus, clock, user)).watcher

    await store_settings(database, user, break_even_at_pct=1)  # the trader turns break-even on in the bot
    await watcher.reload_settings(user)
    clock.advance(MINUTE)
    engine.update_mark(BTC.symbol, D(50500))
    await watcher.refresh_prices()
    position = engine.position(paper_account_id(user), BTC.symbol)
    assert position is not None and position.stop_loss == D(50000)
