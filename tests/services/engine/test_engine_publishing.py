"""The engine's entries become copy-trading signals (strategy ``elcaro``) through signal ingest's engine path."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest
from engine_world import BTC, make_world

from elcaro.core.events import EventBus
from elcaro.core.secrets import Keyring, generate_key
from elcaro.models import EntryKind, PositionSide, Signal, SourceKind
from elcaro.models.events import TradingEvent
from elcaro.services.engine import PositionView, SignalPublisher
from elcaro.services.signal_ingest import SignalIngestService
from elcaro.storage import Database

pytestmark = pytest.mark.db


async def test_an_entry_is_published_once_and_its_trades_point_to_the_signal(database: Database) -> None:
    world = await make_world(database)
    fanned_out: list[Signal] = []

    async def fan_out(signal: Signal) -> None:
        fanned_out.append(signal)

    async def cancel(signal_id: int) -> None:
        raise AssertionError("the engine withdrew nothing")

    bus: EventBus[TradingEvent] = EventBus()
    ingest = SignalIngestService(database, Keyring([generate_key()]), bus, fan_out, cancel, clock=world.clock)
    engine = world.engine(publisher=SignalPublisher(ingest, world.clock))
    try:
        engine.command("start", "operator")
        await engine.settle()
        for _ in range(300):
            if engine.status().positions:
                break
            assert await engine.next_bar()
        (view,) = engine.status().positions
        assert view.signal_id is not None
        await ingest.close()  # the fan-out runs in a task of ingest's own: wait for it
        (published,) = fanned_out
        assert published.id == view.signal_id
        source = (published.source.kind, published.source.ref, published.strategy)
        assert source == (SourceKind.ENGINE, "elcaro", "elcaro")
        assert (published.symbol, published.side, published.stop_loss) == (view.symbol, view.side, view.stop)
        assert published.entry.kind is EntryKind.MARKET and published.entry.prices == (view.entry_price,)
        assert [(tp.price, tp.share) for tp in published.take_profits] == [
            (tp, share) for tp, share in zip(_targets(view), (Decimal("0.5"), Decimal("0.3")), strict=True)
        ]
        assert published.timeframe == "5m" and published.details["kind"] == view.kind
        assert any(d.code == "published" for d in engine.status().decisions)

        for _ in range(300):
            if not engine.status().positions:
                break
            assert await engine.next_bar()
        async with database.transaction() as tx:
            trades = await tx.trades.list_for_user(world.user_id)
        assert trades and {trade.signal_id for trade in trades} == {view.signal_id}
    finally:
        await asyncio.shield(ingest.close())
        await world.close()


def _targets(view: PositionView) -> list[Decimal]:
    """The view's targets on BTC's 0.1 tick, rounded away from the entry as the published signal rounds them."""
    mode = "up" if view.side is PositionSide.LONG else "down"
    return [BTC.round_price(Decimal(repr(price)), mode) for price in (view.tp1, view.tp2)]
