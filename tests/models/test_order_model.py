from decimal import Decimal as D

import pytest

from elcaro.models import Order, OrderStatus, OrderType, Side, TimeInForce, make_client_order_id
from elcaro.models.errors import ValidationError


def test_client_order_id_is_deterministic_and_fits_every_venue() -> None:
    first = make_client_order_id("signal", 42, "user", 7, "bybit:demo", "entry", 0)
    assert first == make_client_order_id("signal", 42, "user", 7, "bybit:demo", "entry", 0)
    assert first != make_client_order_id("signal", 42, "user", 7, "bybit:demo", "entry", 1)
    assert len(first) == 34 and first.startswith("0x") and int(first, 16) < 2**128


def test_parts_do_not_run_into_each_other() -> None:
    assert make_client_order_id("ab", "c") != make_client_order_id("a", "bc")


def test_order_rules() -> None:
    order = Order("0x1", "BTC/USDT:USDT", Side.BUY, OrderType.LIMIT, D("0.01"), price=D("60000"))
    assert order.status is OrderStatus.PENDING and order.remaining_qty == D("0.01")
    filled = order.with_update(status=OrderStatus.FILLED, filled_qty=D("0.01"))
    assert not filled.is_open and filled.remaining_qty == 0 and order.is_open
    with pytest.raises(ValidationError, match="needs a positive price"):
        Order("0x1", "BTC/USDT:USDT", Side.BUY, OrderType.LIMIT, D("0.01"))
    with pytest.raises(ValidationError, match="market order takes no price"):
        Order("0x1", "BTC/USDT:USDT", Side.BUY, OrderType.MARKET, D("0.01"), price=D("1"))
    with pytest.raises(ValidationError, match="trigger price"):
        Order("0x1", "BTC/USDT:USDT", Side.SELL, OrderType.STOP_MARKET, D("0.01"))
    with pytest.raises(ValidationError, match="post-only"):
        Order("0x1", "BTC/USDT:USDT", Side.SELL, OrderType.MARKET, D("0.01"), time_in_force=TimeInForce.POST_ONLY)
    with pytest.raises(ValidationError, match="filled"):
        order.with_update(filled_qty=D("0.02"))
