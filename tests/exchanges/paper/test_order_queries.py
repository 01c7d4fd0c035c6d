"""What the engine tells about orders beyond the ``Order`` itself: every order, unfired stops, venue orders.

BTC is marked at 30 000 and alice has 10 000 USDT (see conftest).
"""

from __future__ import annotations

from decimal import Decimal as D

from elcaro.exchanges.paper import PaperEngine
from elcaro.models import ExitReason, OrderStatus, Side
from paper.builders import ALICE, BTC, limit, market, stop


def test_orders_lists_open_and_done_orders_and_the_venues_own_oldest_first(engine: PaperEngine) -> None:
    engine.place_order(ALICE, market("entry", Side.BUY, "0.1", take_profit="31000"))
    engine.place_order(ALICE, limit("rest", Side.BUY, "0.1", "29000"))
    engine.update_mark(BTC.symbol, D("31000"))

    orders = engine.orders(ALICE)

    assert [order.client_order_id for order in orders[:2]] == ["entry", "rest"]
    (venue_order,) = orders[2:]
    assert venue_order.status is OrderStatus.FILLED and venue_order.reduce_only
    assert engine.closing_reason(ALICE, venue_order.client_order_id) is ExitReason.TAKE_PROFIT
    assert engine.closing_reason(ALICE, "entry") is None
    assert engine.orders(ALICE, "ETH/USDT:USDT") == []


def test_untriggered_holds_until_the_stop_fires_and_after_it_is_canceled_unfired(engine: PaperEngine) -> None:
    engine.place_order(ALICE, stop("fires", Side.BUY, "0.1", "30500", price="30600"))
    engine.place_order(ALICE, stop("canceled", Side.BUY, "0.1", "31500"))
    engine.place_order(ALICE, limit("plain", Side.BUY, "0.1", "29000"))
    assert engine.untriggered(ALICE, "fires") and engine.untriggered(ALICE, "canceled")
    assert not engine.untriggered(ALICE, "plain")
    assert not engine.untriggered(ALICE, "never-placed")

    engine.update_mark(BTC.symbol, D("30700"))  # fires the first stop; its limit 30 600 now rests below the market
    engine.cancel_order(ALICE, "canceled")

    assert engine.get_order(ALICE, "fires").status is OrderStatus.OPEN
    assert not engine.untriggered(ALICE, "fires")
    assert engine.get_order(ALICE, "canceled").status is OrderStatus.CANCELED
    assert engine.untriggered(ALICE, "canceled")


def test_a_venue_order_never_takes_over_a_client_order_id(engine: PaperEngine) -> None:
    # The entry takes sequence numbers 1 (order) and 2 (fill), the client's limit 3: the take-profit
    # order the venue places next is number 4, and the client already holds the id it would get.
    engine.place_order(ALICE, market("entry", Side.BUY, "0.1", take_profit="31000"))
    taken = "paper-take_profit-4"
    engine.place_order(ALICE, limit(taken, Side.BUY, "0.1", "29000"))

    engine.update_mark(BTC.symbol, D("31000"))

    assert engine.get_order(ALICE, taken).status is OrderStatus.OPEN
    assert engine.positions(ALICE) == []
    venue_order = engine.orders(ALICE)[-1]
    assert venue_order.client_order_id != taken
    assert engine.closing_reason(ALICE, venue_order.client_order_id) is ExitReason.TAKE_PROFIT
