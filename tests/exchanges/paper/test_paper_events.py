"""Subscribers hear about orders, fills, positions, closed PnL and market data once each call is complete."""

from __future__ import annotations

from decimal import Decimal as D

from elcaro.exchanges.paper import (
    BookEvent,
    CandleEvent,
    ClosedPnlEvent,
    EngineEvent,
    FillEvent,
    OrderEvent,
    PaperEngine,
    PositionEvent,
    PublicTradeEvent,
)
from elcaro.models import OrderStatus, PositionSide, Side
from elcaro.models.market import BookLevel, Candle, OrderBook
from paper.builders import ALICE, BTC, limit, market


def record(engine: PaperEngine) -> list[EngineEvent]:
    events: list[EngineEvent] = []
    engine.subscribe(events.append)
    return events


def test_a_market_order_reports_its_fill_the_order_and_the_position(engine: PaperEngine) -> None:
    events = record(engine)
    engine.place_order(ALICE, market("m", Side.BUY, "0.1"))

    assert [type(event) for event in events] == [FillEvent, PublicTradeEvent, OrderEvent, PositionEvent]
    fill, tape, order, position = events
    assert isinstance(fill, FillEvent) and fill.account_id == ALICE and fill.fill.qty == D("0.1")
    assert isinstance(tape, PublicTradeEvent) and (tape.trade.side, tape.trade.price) == (Side.BUY, D("30000"))
    assert isinstance(order, OrderEvent) and order.order.status is OrderStatus.FILLED
    assert isinstance(position, PositionEvent) and position.position is not None
    assert position.position.side is PositionSide.LONG


def test_closing_reports_the_trade_and_a_flat_position(engine: PaperEngine) -> None:
    engine.place_order(ALICE, market("open", Side.BUY, "0.1"))
    events = record(engine)
    engine.place_order(ALICE, market("close", Side.SELL, "0.1"))

    closed = [event for event in events if isinstance(event, ClosedPnlEvent)]
    assert len(closed) == 1 and closed[0].trade.qty == D("0.1")
    assert events[-1] == PositionEvent(ALICE, BTC.symbol, None)


def test_resting_orders_report_each_change(engine: PaperEngine) -> None:
    events = record(engine)
    engine.place_order(ALICE, limit("l", Side.BUY, "0.1", "29000"))
    engine.amend_order(ALICE, "l", price=D("29100"))
    engine.cancel_order(ALICE, "l")
    orders = [event.order for event in events if isinstance(event, OrderEvent)]
    assert [(order.status, order.price) for order in orders] == [
        (OrderStatus.OPEN, D("29000")),
        (OrderStatus.OPEN, D("29100")),
        (OrderStatus.CANCELED, D("29100")),
    ]


def test_subscribers_see_the_finished_state_and_may_call_back(engine: PaperEngine) -> None:
    """A subscriber protects every new position as it hears of it: the way a position manager would."""
    seen_positions = []

    def protect(event: EngineEvent) -> None:
        if isinstance(event, FillEvent) and event.fill.client_order_id == "entry":
            seen_positions.append(engine.position(ALICE, BTC.symbol))
            engine.place_order(ALICE, limit("tp", Side.SELL, "0.1", "31000", reduce_only=True))

    engine.subscribe(protect)
    events = record(engine)
    engine.place_order(ALICE, market("entry", Side.BUY, "0.1"))

    assert seen_positions[0] is not None and seen_positions[0].qty == D("0.1")
    assert [order.client_order_id for order in engine.open_orders(ALICE)] == ["tp"]
    assert any(isinstance(event, OrderEvent) and event.order.client_order_id == "tp" for event in events)


def test_unsubscribing_stops_delivery(engine: PaperEngine) -> None:
    events: list[EngineEvent] = []
    unsubscribe = engine.subscribe(events.append)
    unsubscribe()
    unsubscribe()
    engine.place_order(ALICE, market("m", Side.BUY, "0.1"))
    assert events == []


def test_market_data_events(engine: PaperEngine) -> None:
    events = record(engine)
    candle = Candle(0, D("30000"), D("30100"), D("29900"), D("30050"), D("1"))
    book = OrderBook(BTC.symbol, (BookLevel(D("30040"), D("1")),), (BookLevel(D("30060"), D("1")),), 0)
    engine.apply_candle(BTC.symbol, candle, timeframe="1m")
    engine.set_order_book(book)
    assert events == [CandleEvent(BTC.symbol, "1m", candle), BookEvent(book)]
