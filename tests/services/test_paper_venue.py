"""Paper accounts survive a restart of the platform."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest

from elcaro.models import Instrument, Order, OrderType, PositionSide, Side, make_client_order_id
from elcaro.services.paper_venue import PaperVenue
from elcaro.storage import Database

pytestmark = pytest.mark.db

BTC = Instrument(
    "BTC/USDT:USDT",
    "BTC",
    "USDT",
    "USDT",
    Decimal("0.1"),
    Decimal("0.001"),
    Decimal("0.001"),
    min_notional=Decimal(5),
    max_leverage=Decimal(100),
)
ETH = Instrument(
    "ETH/USDT:USDT",
    "ETH",
    "USDT",
    "USDT",
    Decimal("0.01"),
    Decimal("0.01"),
    Decimal("0.01"),
    min_notional=Decimal(5),
    max_leverage=Decimal(50),
)


async def test_accounts_positions_and_orders_survive_a_restart(database: Database) -> None:
    venue = await PaperVenue.open(database, instruments=[BTC], clock=lambda: 1_000)
    venue.engine.update_mark(BTC.symbol, Decimal("60000"))
    adapter = venue.adapter("user-1", deposit=Decimal("1000"))
    await adapter.place_order(
        Order(make_client_order_id("t", 1), BTC.symbol, Side.BUY, OrderType.MARKET, Decimal("0.01"))
    )
    resting = Order(
        make_client_order_id("t", 2), BTC.symbol, Side.BUY, OrderType.LIMIT, Decimal("0.01"), price=Decimal("55000")
    )
    await adapter.place_order(resting)
    before = (await adapter.fetch_balance(), await adapter.fetch_positions(), await adapter.fetch_open_orders())
    await venue.save()
    venue.close()

    restarted = await PaperVenue.open(database, instruments=[BTC, ETH], clock=lambda: 2_000)
    again = restarted.adapter("user-1")
    after = (await again.fetch_balance(), await again.fetch_positions(), await again.fetch_open_orders())
    assert after == before
    assert after[1][0].side is PositionSide.LONG and after[2][0].client_order_id == resting.client_order_id
    assert ETH.symbol in restarted.engine.instruments  # instruments added since the save are there too


async def test_autosave_saves_changes_and_once_more_at_stop(database: Database) -> None:
    venue = await PaperVenue.open(database, instruments=[BTC])
    stop = asyncio.Event()
    saver = asyncio.create_task(venue.autosave(stop, interval=0.01))
    venue.adapter("user-2", deposit=Decimal("50"))
    stop.set()
    await saver
    restored = await PaperVenue.open(database)
    assert (await restored.adapter("user-2").fetch_balance()).wallet == Decimal("50")
