"""Takers walk a known order book level by level, and use it up.

The book: asks 0.5 @ 30 000, 1.0 @ 30 010, 2.0 @ 30 050; bids 0.4 @ 29 990, 1.0 @ 29 980.
"""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from elcaro.exchanges.paper import PaperEngine
from elcaro.models import ExitReason, OrderStatus, PositionSide, Side, TimeInForce
from elcaro.models.errors import InvalidOrderError
from elcaro.models.market import BookLevel, OrderBook
from paper.builders import ALICE, BTC, limit, market


def levels(*pairs: tuple[str, str]) -> tuple[BookLevel, ...]:
    return tuple(BookLevel(D(price), D(qty)) for price, qty in pairs)


BOOK = OrderBook(
    BTC.symbol,
    bids=levels(("29990", "0.4"), ("29980", "1.0")),
    asks=levels(("30000", "0.5"), ("30010", "1.0"), ("30050", "2.0")),
    timestamp=0,
)


@pytest.fixture
def booked(engine: PaperEngine) -> PaperEngine:
    engine.set_order_book(BOOK)
    return engine


def test_a_market_order_walks_the_book_at_each_levels_price(booked: PaperEngine) -> None:
    order = booked.place_order(ALICE, market("m", Side.BUY, "1.2"))

    assert [(fill.qty, fill.price, fill.fee) for fill in booked.fills(ALICE)] == [
        (D("0.5"), D("30000"), D("8.25")),  # 15 000 × 0.055 %
        (D("0.7"), D("30010"), D("11.55385")),  # 21 007 × 0.055 %
    ]
    assert order.status is OrderStatus.FILLED
    assert order.avg_fill_price == D("30005.8333333")  # 36 007 / 1.2, six digits beyond the tick
    assert order.fee == D("19.80385")
    position = booked.position(ALICE, BTC.symbol)
    assert position is not None and position.entry_price == D("30005.8333333")
    book = booked.order_book(BTC.symbol)
    assert book is not None and book.asks == levels(("30010", "0.3"), ("30050", "2.0"))
    assert book.bids == BOOK.bids


def test_a_market_order_that_exhausts_the_book_fills_what_it_can(booked: PaperEngine) -> None:
    order = booked.place_order(ALICE, market("m", Side.SELL, "2"))

    assert (order.status, order.filled_qty) == (OrderStatus.CANCELED, D("1.4"))
    assert order.reject_reason == "no liquidity left for the rest of the market order"
    assert order.avg_fill_price == D("29982.8571429")  # 41 976 / 1.4
    book = booked.order_book(BTC.symbol)
    assert book is not None and book.bids == ()
    position = booked.position(ALICE, BTC.symbol)
    assert position is not None and (position.side, position.qty) == (PositionSide.SHORT, D("1.4"))


def test_ioc_takes_what_is_within_its_price_and_expires_the_rest(booked: PaperEngine) -> None:
    order = booked.place_order(ALICE, limit("ioc", Side.BUY, "1", "30005", TimeInForce.IOC))
    assert (order.status, order.filled_qty, order.avg_fill_price) == (OrderStatus.EXPIRED, D("0.5"), D("30000"))
    assert order.reject_reason == "immediate-or-cancel remainder"


def test_fok_fills_completely_or_not_at_all(booked: PaperEngine) -> None:
    killed = booked.place_order(ALICE, limit("fok-2", Side.BUY, "2", "30010", TimeInForce.FOK))
    assert (killed.status, killed.filled_qty) == (OrderStatus.EXPIRED, D(0))
    assert booked.order_book(BTC.symbol) == BOOK and booked.fills(ALICE) == []

    done = booked.place_order(ALICE, limit("fok-1", Side.BUY, "1", "30010", TimeInForce.FOK))
    assert (done.status, done.avg_fill_price) == (OrderStatus.FILLED, D("30005"))


def test_a_gtc_limit_takes_what_crosses_and_rests_the_rest(booked: PaperEngine) -> None:
    order = booked.place_order(ALICE, limit("gtc", Side.BUY, "1", "30005"))

    assert (order.status, order.filled_qty, order.fee) == (OrderStatus.PARTIALLY_FILLED, D("0.5"), D("8.25"))
    assert booked.open_orders(ALICE) == [order]
    # Wallet 9 991.75, less 1 500 held by the position (15 000 at 10x) and 1 508.501375 by the
    # resting half (1 500.25 of margin on 15 002.50 and 8.251375 of taker fee).
    assert booked.balance(ALICE).available == D("6983.248625")
    with pytest.raises(InvalidOrderError, match=r"must be above the 0\.5 filled"):
        booked.amend_order(ALICE, "gtc", qty=D("0.4"))

    booked.update_mark(BTC.symbol, D("29000"))  # the book, not the last price, is the market now
    assert booked.get_order(ALICE, "gtc").status is OrderStatus.PARTIALLY_FILLED
    booked.set_order_book(OrderBook(BTC.symbol, BOOK.bids, levels(("30005", "3")), 1))
    filled = booked.get_order(ALICE, "gtc")
    assert (filled.status, filled.avg_fill_price, filled.fee) == (OrderStatus.FILLED, D("30002.5"), D("11.2505"))
    assert [fill.is_maker for fill in booked.fills(ALICE)] == [False, True]


def test_post_only_is_judged_against_the_book(booked: PaperEngine) -> None:
    crossing = booked.place_order(ALICE, limit("po1", Side.BUY, "0.1", "30000", TimeInForce.POST_ONLY))
    assert crossing.status is OrderStatus.REJECTED
    inside = booked.place_order(ALICE, limit("po2", Side.BUY, "0.1", "29995", TimeInForce.POST_ONLY))
    assert inside.status is OrderStatus.OPEN


def test_a_reduce_only_close_through_the_book_is_one_trade(booked: PaperEngine) -> None:
    booked.place_order(ALICE, market("entry", Side.BUY, "0.5"))
    close = booked.place_order(ALICE, market("close", Side.SELL, "1", reduce_only=True))

    assert (close.qty, close.status) == (D("0.5"), OrderStatus.FILLED)  # trimmed to the position
    assert [(fill.qty, fill.price) for fill in booked.fills(ALICE, BTC.symbol)][1:] == [
        (D("0.4"), D("29990")),
        (D("0.1"), D("29980")),
    ]
    (trade,) = booked.closed_pnl(ALICE)
    assert (trade.qty, trade.entry_price, trade.exit_price) == (D("0.5"), D("30000"), D("29988"))  # 14 994 / 0.5
    assert trade.exit_reason is ExitReason.EXTERNAL
    assert trade.fees == D("16.4967")  # 8.25 to open; 6.5978 + 1.6489 to close
    assert booked.positions(ALICE) == []


def test_without_a_book_takers_fill_at_the_last_price_again(booked: PaperEngine) -> None:
    booked.clear_order_book(BTC.symbol)
    assert booked.place_order(ALICE, market("m", Side.BUY, "1.2")).avg_fill_price == D("30000")


def test_a_book_for_an_unknown_symbol_is_refused(engine: PaperEngine) -> None:
    with pytest.raises(InvalidOrderError, match="unknown symbol"):
        engine.set_order_book(OrderBook("XRP/USDT:USDT", (), (), 0))
