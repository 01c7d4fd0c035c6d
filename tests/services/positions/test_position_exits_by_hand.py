"""Exits set by hand through the monitor, on the in-process paper venue and over HTTP on the Bybit simulator: what
the venue then holds, what is stored, who is told."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from position_builders import (
    BTC,
    DEMO,
    MINUTE,
    Events,
    Intercepted,
    OnSimulator,
    long_signal,
    monitor,
    new_user,
    watched_position,
)

from elcaro.core.clock import now_ms
from elcaro.core.events import EventBus
from elcaro.exchanges.paper import ManualClock
from elcaro.exchanges.protocol import ExchangeAdapter
from elcaro.models import ExitReason
from elcaro.models.errors import PermissionDeniedError, ValidationError
from elcaro.models.events import EventKind, TradingEvent
from elcaro.services.exchange_access import ExchangeAccess, paper_account_id
from elcaro.services.paper_venue import PaperVenue
from elcaro.services.positions.record import Stored
from elcaro.storage import Database

pytestmark = pytest.mark.db


def targets_on(venue: PaperVenue, user: int) -> list[tuple[D, D]]:
    return sorted((o.price or D(0), o.qty) for o in venue.engine.open_orders(paper_account_id(user)) if o.reduce_only)


async def test_a_hand_set_stop_and_targets_reach_the_venue_are_stored_and_told(
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
    assert engine.position(account(user), BTC.symbol).stop_loss == D(49000)
    assert targets_on(venue, user) == [(D(52000), D("0.033")), (D(54000), D("0.033")), (D(56000), D("0.034"))]

    clock.advance(MINUTE)
    state = await watcher.amend_exits(
        position_id, stop=D("48500.04"), target_prices=(D(53000), D(55000), D(57000)), user_id=user
    )
    assert state.stop == D("48500.1") and state.closing is None
    assert engine.position(account(user), BTC.symbol).stop_loss == D("48500.1")
    assert targets_on(venue, user) == [(D(53000), D("0.033")), (D(55000), D("0.033")), (D(57000), D("0.034"))]

    (moved,) = await events.of(EventKind.STOP_MOVED)
    assert (moved.code, moved.position_id, moved.user_id) == ("by_hand", position_id, user)
    assert (moved.data["stop"], moved.data["previous_stop"], moved.data["stop_kind"]) == (
        "48500.1",
        "49000",
        "stop_loss",
    )

    async with database.reading() as tx:
        row = await tx.positions.get(position_id)
        stored = Stored.from_json(await tx.positions.get_state(position_id))
    assert row is not None and (row.stop_loss, row.take_profit) == (D("48500.1"), D(53000))
    assert stored.pending == () and [t.price for t in stored.state.targets] == [D(53000), D(55000), D(57000)]

    # A restarted monitor manages by the levels set by hand: the new first target fills as one.
    restarted = monitor(database, access, bus, clock)
    await restarted.rescan()
    clock.advance(MINUTE)
    engine.update_mark(BTC.symbol, D(53000))
    await restarted.sync()
    async with database.reading() as tx:
        (trade,) = await tx.trades.list_for_user(user)
    assert (trade.exit_reason, trade.exit_price, trade.qty) == (ExitReason.TAKE_PROFIT, D(53000), D("0.033"))


async def test_levels_the_position_cannot_take_and_strangers_are_refused_leaving_the_venue_alone(
    database: Database,
    venue: PaperVenue,
    access: ExchangeAccess,
    bus: EventBus[TradingEvent],
    events: Events,
    clock: ManualClock,
) -> None:
    user, other = await new_user(database, 32), await new_user(database, 33)
    watched = await watched_position(database, access, bus, clock, user)
    watcher, position_id = watched.watcher, watched.position_id

    with pytest.raises(ValidationError) as above:
        await watcher.amend_exits(position_id, stop=D(50500), user_id=user)
    assert above.value.field == "stop"
    with pytest.raises(ValidationError) as short:
        await watcher.amend_exits(position_id, target_prices=(D(53000),), user_id=user)
    assert short.value.field == "target_prices"
    with pytest.raises(PermissionDeniedError):
        await watcher.amend_exits(position_id, stop=D(48000), user_id=other)

    assert venue.engine.position(paper_account_id(user), BTC.symbol).stop_loss == D(49000)
    assert targets_on(venue, user) == [(D(52000), D("0.033")), (D(54000), D("0.033")), (D(56000), D("0.034"))]
    assert await events.of(EventKind.STOP_MOVED) == []


async def test_a_hand_set_stop_the_venue_refuses_closes_the_position_rather_than_leave_it_naked(
    database: Database,
    venue: PaperVenue,
    access: ExchangeAccess,
    bus: EventBus[TradingEvent],
    events: Events,
    clock: ManualClock,
) -> None:
    engine = venue.engine

    async def overtaken(real: ExchangeAdapter, symbol: str, *, stop_loss: D, **levels: D) -> None:
        if stop_loss == D(49800):
            engine.update_mark(symbol, D(49700))  # the price falls through the new stop on its way to the venue
        await real.set_position_protection(symbol, stop_loss=stop_loss, **levels)

    user = await new_user(database, 34)
    watched = await watched_position(
        database, access, bus, clock, user, watched_through=Intercepted(access, set_position_protection=overtaken)
    )
    watcher, position_id = watched.watcher, watched.position_id

    clock.advance(MINUTE)
    state = await watcher.amend_exits(position_id, stop=D(49800), user_id=user)
    assert state.closing is ExitReason.STOP_LOSS
    assert engine.position(paper_account_id(user), BTC.symbol) is None
    assert [e.code for e in await events.of(EventKind.ERROR)] == ["stop_failed"]
    await watcher.sync()
    async with database.reading() as tx:
        (trade,) = await tx.trades.list_for_user(user)
    assert (trade.exit_reason, trade.exit_price) == (ExitReason.STOP_LOSS, D(49700))


async def test_exits_set_by_hand_reach_the_bybit_simulator_over_http(
    database: Database, on_simulator: OnSimulator, bus: EventBus[TradingEvent]
) -> None:
    user = on_simulator.user
    signal = long_signal(targets=("61000", "62000", "63000"), stop="59000", entry="60000")
    watched = await watched_position(database, on_simulator.access, bus, now_ms, user, target=DEMO, signal=signal)
    watcher, position_id, client = watched.watcher, watched.position_id, watched.client

    await watcher.amend_exits(position_id, stop=D(59500), target_prices=(D(61500), D(62500), D(64000)), user_id=user)
    (held,) = await client.fetch_positions([BTC.symbol])
    assert held.stop_loss == D(59500)
    working = sorted((o.price, o.qty) for o in await client.fetch_open_orders(BTC.symbol) if o.reduce_only)
    assert working == [(D(61500), D("0.033")), (D(62500), D("0.033")), (D(64000), D("0.034"))]
