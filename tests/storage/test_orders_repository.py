from __future__ import annotations

from decimal import Decimal

import pytest
from storage_builders import BINANCE_LIVE, BYBIT_DEMO, T0, add_user, make_order, make_position, make_signal

from elcaro.models import OrderStatus, OrderType, Side, TimeInForce
from elcaro.models.errors import NotFoundError
from elcaro.storage import Database

pytestmark = pytest.mark.db


async def test_every_field_survives_a_round_trip(database: Database, user_id: int) -> None:
    order = make_order(
        "0x" + "1" * 32,
        side=Side.SELL,
        type=OrderType.STOP_LIMIT,
        qty=Decimal("1.25"),
        price=Decimal("59000.5"),
        trigger_price=Decimal("59100"),
        time_in_force=TimeInForce.IOC,
        reduce_only=True,
        take_profit=Decimal("50000"),
        stop_loss=Decimal("61000.25"),
        status=OrderStatus.PARTIALLY_FILLED,
        exchange_order_id="1700000000-abc",
        filled_qty=Decimal("0.5"),
        avg_fill_price=Decimal("59000.4"),
        fee=Decimal("-0.0012"),  # a maker rebate
        reject_reason=None,
    )
    async with database.transaction() as tx:
        await tx.orders.save(user_id, BYBIT_DEMO, order)
    async with database.transaction() as tx:
        assert await tx.orders.get(user_id, BYBIT_DEMO, order.client_order_id) == order
        assert await tx.orders.get(user_id, BINANCE_LIVE, order.client_order_id) is None
        assert await tx.orders.get(user_id + 1, BYBIT_DEMO, order.client_order_id) is None


async def test_saving_the_same_order_again_updates_it(database: Database, user_id: int) -> None:
    order = make_order()
    async with database.transaction() as tx:
        signal = await tx.signals.add(make_signal())
        position = await tx.positions.add(make_position(user_id))
        first = await tx.orders.save(user_id, BYBIT_DEMO, order, signal_id=signal.id, position_id=position.id)
        assert await tx.orders.get(user_id, BYBIT_DEMO, order.client_order_id) == order  # now in this session
        again = await tx.orders.save(user_id, BYBIT_DEMO, order)  # a retried placement: harmless
        filled = order.with_update(
            status=OrderStatus.FILLED, filled_qty=order.qty, avg_fill_price=Decimal("60000"), updated_at=T0 + 5
        )
        updated = await tx.orders.save(user_id, BYBIT_DEMO, filled)
        assert first == again == updated
        assert await tx.orders.get(user_id, BYBIT_DEMO, order.client_order_id) == filled  # not a stale copy
    async with database.transaction() as tx:
        assert await tx.orders.get(user_id, BYBIT_DEMO, order.client_order_id) == filled
    async with database.engine.connect() as connection:
        links = (await connection.exec_driver_sql("SELECT signal_id, position_id FROM orders")).all()
    assert [tuple(row) for row in links] == [(signal.id, position.id)]  # kept although later saves named none


async def test_the_same_client_order_id_is_separate_per_user_and_target(database: Database, user_id: int) -> None:
    async with database.transaction() as tx:
        other = await add_user(tx, 43)
        ids = {
            await tx.orders.save(user_id, BYBIT_DEMO, make_order()),
            await tx.orders.save(user_id, BINANCE_LIVE, make_order()),
            await tx.orders.save(other, BYBIT_DEMO, make_order()),
        }
    assert len(ids) == 3


async def test_list_open_leaves_out_finished_orders(database: Database, user_id: int) -> None:
    statuses = [OrderStatus.PENDING, OrderStatus.FILLED, OrderStatus.OPEN, OrderStatus.CANCELED]
    async with database.transaction() as tx:
        for n, status in enumerate(statuses):
            filled = Decimal("0.010") if status is OrderStatus.FILLED else Decimal(0)
            order = make_order(f"0x{n}", status=status, filled_qty=filled, created_at=T0 - n)
            await tx.orders.save(user_id, BYBIT_DEMO, order)
        await tx.orders.save(user_id, BINANCE_LIVE, make_order("0xlive", status=OrderStatus.PARTIALLY_FILLED))
    async with database.transaction() as tx:
        assert [o.client_order_id for o in await tx.orders.list_open(user_id)] == ["0x2", "0x0", "0xlive"]
        assert [o.client_order_id for o in await tx.orders.list_open(user_id, BYBIT_DEMO)] == ["0x2", "0x0"]
        assert await tx.orders.list_open(user_id + 1) == []


async def test_an_order_for_a_missing_position_is_refused(database: Database, user_id: int) -> None:
    async with database.transaction() as tx:
        with pytest.raises(NotFoundError, match="position 999 does not exist"):
            await tx.orders.save(user_id, BYBIT_DEMO, make_order(), position_id=999)


async def test_open_symbols_are_those_with_any_unfinished_order(database: Database, user_id: int) -> None:
    async with database.transaction() as tx:
        other = await add_user(tx, 43)
        await tx.orders.save(user_id, BYBIT_DEMO, make_order("0x1", symbol="BTC/USDT:USDT"))
        stop = make_order(
            "0x2",
            symbol="ETH/USDT:USDT",
            type=OrderType.STOP_MARKET,
            price=None,
            trigger_price=Decimal(2900),
            reduce_only=True,
            status=OrderStatus.OPEN,
        )
        await tx.orders.save(user_id, BYBIT_DEMO, stop)
        await tx.orders.save(
            user_id, BYBIT_DEMO, make_order("0x3", symbol="SOL/USDT:USDT", status=OrderStatus.CANCELED)
        )
        await tx.orders.save(user_id, BINANCE_LIVE, make_order("0x4", symbol="XRP/USDT:USDT"))
        await tx.orders.save(other, BYBIT_DEMO, make_order("0x5", symbol="DOGE/USDT:USDT"))
    async with database.transaction() as tx:
        assert await tx.orders.open_symbols(user_id, BYBIT_DEMO) == {"BTC/USDT:USDT", "ETH/USDT:USDT"}
        assert await tx.orders.open_symbols(user_id, BINANCE_LIVE) == {"XRP/USDT:USDT"}
        assert await tx.orders.open_symbols(999, BYBIT_DEMO) == set()
