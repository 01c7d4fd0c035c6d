"""Live marks from the monitor's price pass, on the in-process paper venue and a hand-moved clock.

Each position's figures are the listing's (side, quantity, contract size, exact decimals) and reach only its
owner's listeners; a price that stands still sends nothing, a change inside the interval waits for the next
pass, and a closed position leaves the board. None of it is published on the event bus.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from decimal import Decimal as D

import pytest
from position_builders import BTC, MINUTE, PAPER, Events, long_signal, new_user, tracked_position, watched_position

from elcaro.core.events import EventBus
from elcaro.exchanges.paper import ManualClock
from elcaro.models import Position, PositionSide
from elcaro.models.events import TradingEvent
from elcaro.models.signal import TakeProfit
from elcaro.services.exchange_access import ExchangeAccess
from elcaro.services.paper_venue import PaperVenue
from elcaro.services.positions.marks import DEFAULT_INTERVAL_MS, PositionMark
from elcaro.storage import Database

pytestmark = pytest.mark.db

CONTRACT = D("0.01")
"""BTC in contracts of 0.01 here, so a PnL that forgot the contract size would be a hundred times too big."""


@pytest.fixture
async def venue(database: Database, clock: ManualClock) -> AsyncIterator[PaperVenue]:
    venue = await PaperVenue.open(
        database, instruments=[replace(BTC, contract_size=CONTRACT, min_qty=D(1), qty_step=D(1))], clock=clock
    )
    venue.engine.update_mark(BTC.symbol, D(50000))
    yield venue
    venue.close()


async def _row(database: Database, position_id: int) -> Position:
    async with database.reading() as tx:
        row = await tx.positions.get(position_id)
    assert row is not None
    return row


def _expected(row: Position, mark: D) -> tuple[D, D]:
    """PnL and change written out from the definitions, not through the code under test."""
    move = mark - row.entry_price if row.side is PositionSide.LONG else row.entry_price - mark
    return move * row.qty * row.contract_size, move / row.entry_price * 100


def _figures(mark: PositionMark) -> tuple[int, D, D, D]:
    return mark.position_id, mark.mark_price, mark.unrealized_pnl, mark.change_pct


async def test_marks_reach_their_owner_exactly_once_per_change_and_leave_with_the_position(
    database: Database,
    venue: PaperVenue,
    access: ExchangeAccess,
    bus: EventBus[TradingEvent],
    events: Events,
    clock: ManualClock,
) -> None:
    alice = await new_user(database, 1)
    bob = await new_user(database, 2)
    long_id = (await tracked_position(database, access, alice, now=clock())).position_id
    short = replace(long_signal(), side=PositionSide.SHORT, stop_loss=D(52000), take_profits=(TakeProfit(D(47000)),))
    # One monitor for both: its first pass fills both entries.
    watched = await watched_position(database, access, bus, clock, bob, signal=short)
    watcher, short_id = watched.watcher, watched.position_id
    board = watcher.marks
    alices, bobs = board.listen(alice), board.listen(bob)
    seen_before = await events.kinds()

    clock.advance(MINUTE)
    venue.engine.update_mark(BTC.symbol, D(50500))
    await watcher.refresh_prices()
    long_row, short_row = await _row(database, long_id), await _row(database, short_id)
    assert long_row.contract_size == CONTRACT and long_row.qty > 0 and short_row.qty > 0
    assert [_figures(m) for m in alices.take()] == [(long_id, D(50500), *_expected(long_row, D(50500)))]
    [bobs_mark] = bobs.take()  # his own short only, losing as the price rises
    assert _figures(bobs_mark) == (short_id, D(50500), *_expected(short_row, D(50500)))
    assert bobs_mark.unrealized_pnl < 0 and bobs_mark.user_id == bob and bobs_mark.target == PAPER
    assert [m.position_id for m in board.current(alice)] == [long_id]

    clock.advance(MINUTE)
    await watcher.refresh_prices()  # the price stood still: nothing to send
    assert alices.take() == [] and bobs.take() == []

    clock.advance(MINUTE)
    venue.engine.update_mark(BTC.symbol, D(50600))
    await watcher.refresh_prices()
    assert [m.mark_price for m in alices.take()] == [D(50600)]
    clock.advance(DEFAULT_INTERVAL_MS // 10)
    venue.engine.update_mark(BTC.symbol, D(50700))
    await watcher.refresh_prices()  # too soon after the last one sent: held back, yet current
    assert alices.take() == []
    assert [m.mark_price for m in board.current(alice)] == [D(50700)]
    clock.advance(DEFAULT_INTERVAL_MS)
    await watcher.refresh_prices()  # the same price, but the held-back change is now due
    assert [_figures(m) for m in alices.take()] == [(long_id, D(50700), *_expected(long_row, D(50700)))]
    assert [m.mark_price for m in bobs.take()] == [D(50700)]  # not taken since 50,600: the latest only, no backlog
    assert await events.kinds() == seen_before  # prices are no news: nothing for the bus (and the chats)

    clock.advance(MINUTE)
    venue.engine.update_mark(BTC.symbol, D(48900))  # through the long's stop; the short gains
    await watcher.sync()
    await watcher.refresh_prices()
    assert long_id not in watcher.position_ids
    assert board.current(alice) == [] and alices.take() == []
    assert [(m.position_id, m.mark_price) for m in bobs.take()] == [(short_id, D(48900))]

    alices.close()
    bobs.close()
    assert board.listeners() == 0
