from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest
from storage_builders import BINANCE_LIVE, BYBIT_DEMO, T0, add_user, make_position, make_signal, make_trade

from elcaro.models import ExitReason, MarginMode, PositionSide
from elcaro.models.errors import ConflictError, NotFoundError
from elcaro.models.trade_query import TradeFilter
from elcaro.storage import Database

pytestmark = pytest.mark.db


async def test_position_round_trip_and_update(database: Database, user_id: int) -> None:
    async with database.transaction() as tx:
        signal = await tx.signals.add(make_signal())
        position = make_position(
            user_id,
            side=PositionSide.SHORT,
            margin_mode=MarginMode.CROSS,
            contract_size=Decimal("0.001"),
            take_profit=Decimal("50000"),
            stop_loss=Decimal("65000"),
            liquidation_price=Decimal("71234.5"),
            signal_id=signal.id,
        )
        stored = await tx.positions.add(position)
        assert stored.id is not None
        assert await tx.positions.get(stored.id) == stored  # loaded into this session before the update
        moved = replace(
            stored, qty=Decimal("0.02"), entry_price=Decimal("60500.25"), stop_loss=Decimal(60000), updated_at=T0 + 9
        )
        assert await tx.positions.update(moved) == moved
        assert await tx.positions.get(stored.id) == moved
    async with database.transaction() as tx:
        assert await tx.positions.get(stored.id) == moved
        assert await tx.positions.get(999) is None


async def test_positions_need_an_owner_and_updates_a_stored_position(database: Database, user_id: int) -> None:
    async with database.transaction() as tx:
        with pytest.raises(ValueError, match="needs its user_id and target"):
            await tx.positions.add(make_position(user_id, target=None))
        with pytest.raises(ValueError, match="only a stored position"):
            await tx.positions.update(make_position(user_id))
        with pytest.raises(NotFoundError, match="no position with id 999"):
            await tx.positions.update(make_position(user_id, id=999))


async def test_list_open_and_close(database: Database, user_id: int) -> None:
    async with database.transaction() as tx:
        other = await add_user(tx, 43)
        a = await tx.positions.add(make_position(user_id, opened_at=T0 + 2))
        b = await tx.positions.add(make_position(user_id, opened_at=T0 + 1, target=BINANCE_LIVE))
        c = await tx.positions.add(make_position(other, opened_at=T0))
        await tx.positions.close(a.id or 0, closed_at=T0 + 50, realized_pnl=Decimal("12.5"))
    async with database.transaction() as tx:
        assert [p.id for p in await tx.positions.list_open()] == [c.id, b.id]
        assert [p.id for p in await tx.positions.list_open(user_id)] == [b.id]
        assert [p.id for p in await tx.positions.list_open(user_id, BYBIT_DEMO)] == []
        assert [p.id for p in await tx.positions.list_open(target=BYBIT_DEMO)] == [c.id]
        closed = await tx.positions.get(a.id or 0)
        assert closed is not None
        assert (closed.realized_pnl, closed.updated_at, closed.closed_at) == (Decimal("12.5"), T0 + 50, T0 + 50)
        assert not closed.is_open and all(p.is_open for p in await tx.positions.list_open())
        with pytest.raises(ConflictError, match=f"position {a.id} is already closed"):
            await tx.positions.close(a.id or 0, closed_at=T0 + 60, realized_pnl=Decimal(0))
        with pytest.raises(NotFoundError, match="no position with id 999"):
            await tx.positions.close(999, closed_at=T0, realized_pnl=Decimal(0))


async def test_management_state(database: Database, user_id: int) -> None:
    async with database.transaction() as tx:
        position = await tx.positions.add(make_position(user_id))
        assert await tx.positions.get_state(position.id or 0) == {}
        state = {"break_even_done": True, "tp_hits": [1, 2], "trail_stop": "61000.5", "dca": {"legs": 2}}
        await tx.positions.set_state(position.id or 0, state)
    async with database.transaction() as tx:
        assert await tx.positions.get_state(position.id or 0) == state
        with pytest.raises(NotFoundError, match="no position with id 999"):
            await tx.positions.get_state(999)
        with pytest.raises(NotFoundError, match="no position with id 999"):
            await tx.positions.set_state(999, {})


async def test_trade_round_trip(database: Database, user_id: int) -> None:
    async with database.transaction() as tx:
        signal = await tx.signals.add(make_signal())
        position = await tx.positions.add(make_position(user_id))
        trade = make_trade(user_id, signal_id=signal.id, contract_size=Decimal("0.01"))
        stored = await tx.trades.add(trade, position_id=position.id)
    assert stored.id is not None
    assert replace(stored, id=None) == trade
    async with database.transaction() as tx:
        [got] = await tx.trades.list_for_user(user_id)
    assert got == stored
    assert got.net_pnl == trade.net_pnl


async def test_trade_log_newest_first_with_window_and_strategy(database: Database, user_id: int) -> None:
    async with database.transaction() as tx:
        other = await add_user(tx, 43)
        trades = [
            await tx.trades.add(make_trade(user_id, closed_at=T0 + 10, strategy="elcaro")),
            await tx.trades.add(make_trade(user_id, closed_at=T0 + 30, strategy="cornix")),
            await tx.trades.add(make_trade(user_id, closed_at=T0 + 20, exit_reason=ExitReason.STOP_LOSS)),
            await tx.trades.add(make_trade(other, closed_at=T0 + 15)),
        ]
    ids = [t.id for t in trades]
    async with database.transaction() as tx:
        assert [t.id for t in await tx.trades.list_for_user(user_id)] == [ids[1], ids[2], ids[0]]
        assert [t.id for t in await tx.trades.list_for_user(user_id, TradeFilter(closed_since=T0 + 20))] == [
            ids[1],
            ids[2],
        ]
        assert [t.id for t in await tx.trades.list_for_user(user_id, TradeFilter(closed_until=T0 + 30))] == [
            ids[2],
            ids[0],
        ]
        assert [t.id for t in await tx.trades.list_for_user(user_id, TradeFilter(strategy="elcaro"))] == [
            ids[2],
            ids[0],
        ]
        assert [t.id for t in await tx.trades.list_for_user(user_id, limit=1)] == [ids[1]]
        assert [t.id for t in await tx.trades.list_for_user(other)] == [ids[3]]


async def test_trades_need_an_owner(database: Database, user_id: int) -> None:
    async with database.transaction() as tx:
        with pytest.raises(ValueError, match="needs its user_id"):
            await tx.trades.add(replace(make_trade(user_id), user_id=None))
        with pytest.raises(NotFoundError, match="position 999 does not exist"):
            await tx.trades.add(make_trade(user_id), position_id=999)


async def test_open_position_counts_and_symbols(database: Database, user_id: int) -> None:
    async with database.transaction() as tx:
        other = await add_user(tx, 43)
        await tx.positions.add(make_position(user_id, symbol="BTC/USDT:USDT"))
        await tx.positions.add(make_position(user_id, symbol="ETH/USDT:USDT"))
        closed = await tx.positions.add(make_position(user_id, symbol="SOL/USDT:USDT"))
        await tx.positions.close(closed.id or 0, closed_at=T0 + 1, realized_pnl=Decimal(0))
        await tx.positions.add(make_position(user_id, symbol="BTC/USDT:USDT", target=BINANCE_LIVE))
        await tx.positions.add(make_position(other, symbol="XRP/USDT:USDT"))
    async with database.transaction() as tx:
        assert await tx.positions.count_open(user_id) == 3
        assert await tx.positions.count_open(user_id, BYBIT_DEMO) == 2
        assert await tx.positions.count_open(user_id, BINANCE_LIVE) == 1
        assert await tx.positions.count_open(999) == 0
        assert await tx.positions.open_symbols(user_id, BYBIT_DEMO) == {"BTC/USDT:USDT", "ETH/USDT:USDT"}
        assert await tx.positions.open_symbols(user_id, BINANCE_LIVE) == {"BTC/USDT:USDT"}
        assert await tx.positions.open_symbols(other, BINANCE_LIVE) == set()


async def test_last_close_of_a_symbol_on_a_target(database: Database, user_id: int) -> None:
    async with database.transaction() as tx:
        other = await add_user(tx, 43)
        await tx.trades.add(make_trade(user_id, closed_at=T0 + 30))
        await tx.trades.add(make_trade(user_id, closed_at=T0 + 10))
        await tx.trades.add(make_trade(user_id, closed_at=T0 + 50, target=BINANCE_LIVE))
        await tx.trades.add(make_trade(user_id, closed_at=T0 + 60, symbol="ETH/USDT:USDT", exit_price=Decimal(3000)))
        await tx.trades.add(make_trade(other, closed_at=T0 + 70))
    async with database.transaction() as tx:
        assert await tx.trades.last_close(user_id, BYBIT_DEMO, "BTC/USDT:USDT") == T0 + 30
        assert await tx.trades.last_close(user_id, BINANCE_LIVE, "BTC/USDT:USDT") == T0 + 50
        assert await tx.trades.last_close(user_id, BINANCE_LIVE, "ETH/USDT:USDT") is None
        assert await tx.trades.last_close(999, BYBIT_DEMO, "BTC/USDT:USDT") is None


async def test_realized_since_is_the_exact_net_pnl_of_trades_closed_since(database: Database, user_id: int) -> None:
    day = T0 + 100
    # Amounts with more digits than a float holds: a sum done in floating point would be off.
    trades = [
        make_trade(user_id, closed_at=day + n, exit_price=Decimal("59999.123456789012345678"), fees=Decimal("0.1"))
        for n in range(10)
    ]
    async with database.transaction() as tx:
        other = await add_user(tx, 43)
        for trade in trades:
            await tx.trades.add(trade)
        await tx.trades.add(make_trade(user_id, closed_at=day - 1))  # the day before
        await tx.trades.add(make_trade(other, closed_at=day + 5))
        live = await tx.trades.add(
            make_trade(user_id, closed_at=day + 5, target=BINANCE_LIVE, side=PositionSide.LONG, fees=Decimal(3))
        )
    expected_demo = sum((t.net_pnl for t in trades), Decimal(0))
    assert len(expected_demo.as_tuple().digits) > 17  # more significant digits than a float carries
    async with database.transaction() as tx:
        assert await tx.trades.realized_since(user_id, day) == expected_demo + live.net_pnl
        assert await tx.trades.realized_since(user_id, day, target=BYBIT_DEMO) == expected_demo
        assert await tx.trades.realized_since(user_id, day, target=BINANCE_LIVE) == live.net_pnl < 0
        assert await tx.trades.realized_since(user_id, day + 100) == 0
        assert await tx.trades.realized_since(999, 0) == 0
