"""The position monitor on the in-process paper venue, driven pass by pass on a hand-moved clock."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from position_builders import (
    BTC,
    MINUTE,
    PAPER,
    Events,
    Intercepted,
    monitor,
    new_user,
    tracked_position,
    watched_position,
)

from elcaro.core.events import EventBus
from elcaro.exchanges.paper import ManualClock
from elcaro.exchanges.protocol import ExchangeAdapter
from elcaro.models import ExitReason, Fill, Order, OrderStatus, OrderType, Side
from elcaro.models.events import EventKind, TradingEvent
from elcaro.services.exchange_access import ExchangeAccess, paper_account_id
from elcaro.services.paper_venue import PaperVenue
from elcaro.services.statistics import StatisticsService
from elcaro.storage import Database
from elcaro.trading import LegKind, Period

pytestmark = pytest.mark.db


async def test_a_long_with_three_targets_from_entry_to_trailing_stop(
    database: Database,
    venue: PaperVenue,
    access: ExchangeAccess,
    bus: EventBus[TradingEvent],
    events: Events,
    clock: ManualClock,
) -> None:
    engine, account = venue.engine, paper_account_id
    user = await new_user(database, 1)
    watched = await watched_position(
        database, access, bus, clock, user, break_even_after_tp=1, trailing_type="moving_target"
    )
    watcher, position_id = watched.watcher, watched.position_id
    assert watched.plan.qty == D("0.1")  # 1 % of 10 000 at a 1 000 stop distance

    # The first pass saw the entry fill: stop confirmed, targets placed.
    assert engine.position(account(user), BTC.symbol).stop_loss == D(49000)
    targets = sorted((o.price, o.qty) for o in engine.open_orders(account(user)) if o.reduce_only)
    assert targets == [(D(52000), D("0.033")), (D(54000), D("0.033")), (D(56000), D("0.034"))]

    clock.advance(MINUTE)
    engine.update_mark(BTC.symbol, D(52000))  # target 1 fills
    await watcher.sync()
    assert engine.position(account(user), BTC.symbol).stop_loss == D(50000)  # break-even, on the venue

    clock.advance(MINUTE)
    engine.update_mark(BTC.symbol, D(54000))  # target 2 fills: the stop trails to target 1
    await watcher.sync()
    assert engine.position(account(user), BTC.symbol).stop_loss == D(52000)

    clock.advance(MINUTE)
    engine.update_mark(BTC.symbol, D(51900))  # through the stop: the venue closes the rest
    await watcher.sync()
    assert engine.position(account(user), BTC.symbol) is None
    assert engine.open_orders(account(user)) == []
    assert watcher.position_ids == set()

    async with database.transaction() as tx:
        trades = sorted(await tx.trades.list_for_user(user), key=lambda t: t.closed_at)
        row = await tx.positions.get(position_id)
    # Entry fee 2.75 (0.1 × 50 000 × 0.055 %) is shared by the parts; targets pay the maker fee, the stop the taker's.
    assert [(t.exit_reason, t.qty, t.exit_price, t.fees) for t in trades] == [
        (ExitReason.TAKE_PROFIT, D("0.033"), D(52000), D("1.2507")),
        (ExitReason.TAKE_PROFIT, D("0.033"), D(54000), D("1.2639")),
        (ExitReason.TRAILING_STOP, D("0.034"), D("51900"), D("1.90553")),
    ]
    assert [t.net_pnl for t in trades] == [D("64.7493"), D("130.7361"), D("62.69447")]
    assert row is not None and row.closed_at is not None and row.realized_pnl == D("258.17987")

    assert await events.kinds() == [
        EventKind.ENTRY_FILLED,
        EventKind.TAKE_PROFIT,
        EventKind.BREAK_EVEN,
        EventKind.TAKE_PROFIT,
        EventKind.STOP_MOVED,
        EventKind.POSITION_CLOSED,
    ]
    closed = (await events.of(EventKind.POSITION_CLOSED))[0]
    assert closed.data["exit_reason"] == "trailing_stop" and closed.data["realized_pnl"] == "258.17987"
    assert (await events.of(EventKind.TAKE_PROFIT))[1].data["target"] == "2"

    report = await StatisticsService(database, clock=clock).report(user, period=Period.TODAY)
    assert (report.overall.count, report.overall.wins, report.overall.win_rate) == (1, 1, D(100))
    assert report.overall.total_pnl == D("258.17987") and report.overall.fees == D("4.42013")
    assert report.by_strategy["elcaro"].long.count == 1 and report.by_target[PAPER].count == 1


async def test_a_refused_stop_closes_the_position_at_market_and_says_so(
    database: Database,
    venue: PaperVenue,
    access: ExchangeAccess,
    bus: EventBus[TradingEvent],
    events: Events,
    clock: ManualClock,
) -> None:
    """The break-even stop is decided at +2 %, but the price falls back before it reaches the venue."""
    engine = venue.engine

    async def too_late(real: ExchangeAdapter, symbol: str, *, stop_loss: D, **levels: D) -> None:
        if stop_loss == D(50000):
            engine.update_mark(symbol, D(49900))  # a long's stop above the mark is refused
        await real.set_position_protection(symbol, stop_loss=stop_loss, **levels)

    user = await new_user(database, 2)
    watched = await watched_position(
        database,
        access,
        bus,
        clock,
        user,
        watched_through=Intercepted(access, set_position_protection=too_late),
        break_even_at_pct=2,
    )
    watcher, position_id = watched.watcher, watched.position_id

    clock.advance(MINUTE)
    engine.update_mark(BTC.symbol, D(51000))
    await watcher.refresh_prices()

    assert engine.position(paper_account_id(user), BTC.symbol) is None
    errors = await events.of(EventKind.ERROR)
    assert [e.code for e in errors] == ["stop_failed"] and errors[0].position_id == position_id
    await watcher.sync()
    async with database.transaction() as tx:
        (trade,) = await tx.trades.list_for_user(user)
    assert trade.exit_reason is ExitReason.BREAK_EVEN and trade.exit_price == D(49900)
    assert (await events.of(EventKind.POSITION_CLOSED))[0].data["exit_reason"] == "break_even"


async def test_restart_with_actions_pending_sends_each_order_once(
    database: Database,
    venue: PaperVenue,
    access: ExchangeAccess,
    bus: EventBus[TradingEvent],
    clock: ManualClock,
) -> None:
    """The process dies after placing the first target: the next one finishes the batch without doubling it."""
    engine = venue.engine
    user = await new_user(database, 3)
    plan = (await tracked_position(database, access, user, now=clock())).plan

    placed = 0

    async def dies_at_the_second_order(real: ExchangeAdapter, order: Order) -> Order:
        nonlocal placed
        placed += 1
        if placed == 2:
            raise Crash
        return await real.place_order(order)

    dying = monitor(database, Intercepted(access, place_order=dies_at_the_second_order), bus, clock)
    await dying.rescan()
    with pytest.raises(Crash):
        await dying.sync()

    sent: list[str] = []

    async def recorded(real: ExchangeAdapter, order: Order) -> Order:
        sent.append(order.client_order_id)
        return await real.place_order(order)

    restarted = monitor(database, Intercepted(access, place_order=recorded), bus, clock)
    await restarted.rescan()
    await restarted.sync()
    await restarted.sync()
    account_orders = engine.orders(paper_account_id(user))
    tp_ids = [plan.key.client_order_id(LegKind.TP, i) for i in range(3)]
    assert sorted(o.client_order_id for o in account_orders if o.reduce_only) == sorted(tp_ids)
    assert all(o.status is OrderStatus.OPEN for o in account_orders if o.reduce_only)
    assert sum((o.qty for o in account_orders if o.reduce_only), D(0)) == D("0.1")
    assert sent == tp_ids[1:]  # the first target was found on the venue by its client id, not sent again


async def test_a_position_closed_on_the_venue_while_the_monitor_was_down(
    database: Database,
    venue: PaperVenue,
    access: ExchangeAccess,
    bus: EventBus[TradingEvent],
    events: Events,
    clock: ManualClock,
) -> None:
    engine = venue.engine
    user = await new_user(database, 4)
    first = await watched_position(database, access, bus, clock, user)
    position_id = first.position_id

    clock.advance(10 * MINUTE)  # the monitor is down; the venue's stop closes the position
    engine.update_mark(BTC.symbol, D(48900))

    clock.advance(10 * MINUTE)
    second = monitor(database, access, bus, clock)
    await second.rescan()
    await second.sync()
    async with database.transaction() as tx:
        (trade,) = await tx.trades.list_for_user(user)
        row = await tx.positions.get(position_id)
    assert (trade.exit_reason, trade.exit_price, trade.qty) == (ExitReason.STOP_LOSS, D(48900), D("0.1"))
    assert row is not None and row.closed_at is not None
    assert engine.open_orders(paper_account_id(user)) == []  # the targets went with the position
    closed = (await events.of(EventKind.POSITION_CLOSED))[0]
    assert closed.code is None and closed.data["exit_reason"] == "stop_loss"


async def test_a_position_gone_without_a_trace_is_closed_as_external_at_the_last_price(
    database: Database,
    venue: PaperVenue,
    access: ExchangeAccess,
    bus: EventBus[TradingEvent],
    events: Events,
    clock: ManualClock,
) -> None:
    """The venue no longer has the position and no fill explains it (a venue reset, an account wiped)."""
    engine = venue.engine
    user = await new_user(database, 5)
    position_id = (await watched_position(database, access, bus, clock, user)).position_id

    engine.place_order(  # closed by hand on the venue ...
        paper_account_id(user), Order("by-hand", BTC.symbol, Side.SELL, OrderType.MARKET, D("0.1"), reduce_only=True)
    )
    clock.advance(MINUTE)
    engine.update_mark(BTC.symbol, D(50500))

    async def forgotten(real: ExchangeAdapter, *args: object, **kwargs: object) -> list[Fill]:
        """... and the venue's fill history no longer reaches that far (Bybit keeps 7 days of it)."""
        return []

    later = monitor(database, Intercepted(access, fetch_fills=forgotten), bus, clock)
    await later.rescan()
    await later.refresh_prices()
    await later.sync()
    assert later.position_ids == {position_id}  # not on one look: a fill may still be on its way
    await later.sync()
    assert later.position_ids == set()

    async with database.transaction() as tx:
        (trade,) = await tx.trades.list_for_user(user)
    assert (trade.exit_reason, trade.exit_price, trade.qty) == (ExitReason.EXTERNAL, D(50500), D("0.1"))
    closed = (await events.of(EventKind.POSITION_CLOSED))[0]
    assert closed.code == "no_closing_fill" and closed.data["exit_reason"] == "external"
    assert engine.open_orders(paper_account_id(user)) == []


class Crash(Exception):
    """The process dies here."""


async def test_entries_filled_long_before_the_position_was_stored_are_found(
    database: Database, venue: PaperVenue, access: ExchangeAccess, bus: EventBus[TradingEvent], clock: ManualClock
) -> None:
    """A fan-out resumed after a crash stores the position hours after its entry filled."""
    user = await new_user(database, 6)
    clock.advance(MINUTE)
    plan = (await watched_position(database, access, bus, clock, user, opened_at=clock() + 3 * 60 * MINUTE)).plan
    targets = [o.client_order_id for o in venue.engine.open_orders(paper_account_id(user)) if o.reduce_only]
    assert targets == [o.client_order_id for o in plan.take_profits]


async def test_funding_paid_over_the_position_life_is_booked_on_the_part_that_closes_it(
    database: Database,
    venue: PaperVenue,
    access: ExchangeAccess,
    bus: EventBus[TradingEvent],
    events: Events,
    clock: ManualClock,
) -> None:
    engine, account = venue.engine, paper_account_id
    user = await new_user(database, 31)
    watched = await watched_position(database, access, bus, clock, user)
    watcher, position_id = watched.watcher, watched.position_id
    wallet_before = engine.balance(account(user)).wallet  # the entry fee is already paid

    clock.advance(MINUTE)
    engine.apply_funding(BTC.symbol, D("0.0001"))  # the long pays 0.1 × 50 000 × 0.01 % = 0.5
    clock.advance(MINUTE)
    engine.update_mark(BTC.symbol, D(52000))  # target 1 (0.033) fills
    await watcher.sync()
    clock.advance(MINUTE)
    engine.apply_funding(BTC.symbol, D("-0.0002"))  # now shorts pay: the long gets 0.067 × 52 000 × 0.02 % = 0.6968
    clock.advance(MINUTE)
    engine.update_mark(BTC.symbol, D(48900))  # through the stop: the rest closes
    await watcher.sync()
    assert watcher.position_ids == set()

    async with database.transaction() as tx:
        trades = await tx.trades.list_for_position(position_id)
        row = await tx.positions.get(position_id)
    assert [(t.exit_reason, t.funding) for t in trades] == [
        (ExitReason.TAKE_PROFIT, D(0)),
        (ExitReason.STOP_LOSS, D("0.1968")),  # −0.5 + 0.6968, the position's whole life
    ]
    venue_records = engine.closed_pnl(account(user), BTC.symbol)
    assert sum(t.funding for t in trades) == sum(r.funding for r in venue_records)
    # What the account gained, to the cent, is what the trade log says: fees, funding and all.
    entry_fees = sum(f.fee for f in engine.fills(account(user)) if f.side is Side.BUY)
    assert row is not None and row.realized_pnl == sum(t.net_pnl for t in trades)
    assert engine.balance(account(user)).wallet - wallet_before - entry_fees == row.realized_pnl
    (closed,) = await events.of(EventKind.POSITION_CLOSED)
    assert (closed.data["funding"], closed.data["funding_included"]) == ("0.1968", "true")
    assert closed.data["realized_pnl"] == str(row.realized_pnl.normalize())
