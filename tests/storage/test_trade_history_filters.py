"""The trade log's filters and keyset pages, in SQL on both databases, and the stored win/loss result."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest
from storage_builders import BINANCE_LIVE, BYBIT_DEMO, T0, add_user, make_position, make_trade

from elcaro.models import ExitReason, PositionSide, Trade
from elcaro.models.errors import ValidationError
from elcaro.models.trade_query import ANY_TRADE, TradeCursor, TradeFilter, TradeResult
from elcaro.storage import Database

pytestmark = pytest.mark.db


def priced(
    user_id: int, closed_at: int, net: str, *, side: PositionSide = PositionSide.LONG, **changes: object
) -> Trade:
    """A trade of 1 with no fees and funding whose net PnL is exactly ``net``."""
    return make_trade(
        user_id,
        closed_at,
        side=side,
        qty=Decimal(1),
        entry_price=Decimal(100),
        exit_price=Decimal(100) + side.sign * Decimal(net),
        fees=Decimal(0),
        funding=Decimal(0),
        **changes,
    )


async def ids(
    database: Database,
    user_id: int,
    where: TradeFilter = ANY_TRADE,
    *,
    after: TradeCursor | None = None,
    offset: int = 0,
    limit: int = 500,
) -> list[int]:
    async with database.reading() as tx:
        found = await tx.trades.list_for_user(user_id, where, after=after, offset=offset, limit=limit)
    return [trade.id or 0 for trade in found]


async def test_each_filter_picks_its_trades_and_filters_combine(database: Database, user_id: int) -> None:
    async with database.transaction() as tx:
        other = await add_user(tx, 43)
        stored = [
            await tx.trades.add(priced(user_id, T0 + 10, "5", strategy="elcaro")),
            await tx.trades.add(priced(user_id, T0 + 20, "-3", strategy="cornix", exit_reason=ExitReason.STOP_LOSS)),
            await tx.trades.add(priced(user_id, T0 + 30, "0", strategy=None, target=BINANCE_LIVE)),
            await tx.trades.add(priced(user_id, T0 + 40, "2", strategy="manual", side=PositionSide.SHORT)),
            await tx.trades.add(priced(user_id, T0 + 50, "-1", symbol="ETH/USDT:USDT")),
            await tx.trades.add(priced(other, T0 + 60, "9")),
        ]
    a, b, c, d, e, _ = (t.id for t in stored)
    assert await ids(database, user_id) == [e, d, c, b, a]
    assert await ids(database, user_id, TradeFilter(strategy="elcaro")) == [e, a]
    assert await ids(database, user_id, TradeFilter(strategy="manual")) == [d, c]  # no strategy files as manual
    assert await ids(database, user_id, TradeFilter(target=BINANCE_LIVE)) == [c]
    assert await ids(database, user_id, TradeFilter(target=BYBIT_DEMO)) == [e, d, b, a]
    assert await ids(database, user_id, TradeFilter(symbol="ETH/USDT:USDT")) == [e]
    assert await ids(database, user_id, TradeFilter(side=PositionSide.LONG)) == [e, c, b, a]  # short: net +2
    assert await ids(database, user_id, TradeFilter(exit_reason=ExitReason.STOP_LOSS)) == [b]
    assert await ids(database, user_id, TradeFilter(result=TradeResult.WIN)) == [d, a]
    assert await ids(database, user_id, TradeFilter(result=TradeResult.LOSS)) == [e, b]  # exactly zero is neither
    assert await ids(database, user_id, TradeFilter(closed_since=T0 + 20, closed_until=T0 + 40)) == [c, b]
    both = TradeFilter(strategy="elcaro", result=TradeResult.LOSS, closed_until=T0 + 51)
    assert await ids(database, user_id, both) == [e]
    assert await ids(database, user_id, TradeFilter(symbol="XRP/USDT:USDT")) == []


async def test_the_result_follows_the_exact_net_pnl_and_funding_added_later(database: Database, user_id: int) -> None:
    # 0.1 + 0.2 − 0.3 is exactly zero in decimal (not in float): neither a win nor a loss.
    even = make_trade(
        user_id,
        side=PositionSide.LONG,
        qty=Decimal("0.1"),
        entry_price=Decimal("1"),
        exit_price=Decimal("4"),
        fees=Decimal("0.2"),
        funding=Decimal("-0.1"),
    )
    assert even.net_pnl == 0
    async with database.transaction() as tx:
        position = await tx.positions.add(make_position(user_id))
        stored = await tx.trades.add(even, position_id=position.id)
    wins, losses = TradeFilter(result=TradeResult.WIN), TradeFilter(result=TradeResult.LOSS)
    assert await ids(database, user_id, wins) == [] and await ids(database, user_id, losses) == []
    async with database.transaction() as tx:
        await tx.trades.add_funding(position.id or 0, Decimal("0.000000000000000001"))
    assert await ids(database, user_id, wins) == [stored.id]
    async with database.transaction() as tx:
        await tx.trades.add_funding(position.id or 0, Decimal("-0.000000000000000002"))
    assert await ids(database, user_id, wins) == [] and await ids(database, user_id, losses) == [stored.id]


async def test_keyset_pages_reach_every_trade_once_across_ties_and_new_trades(database: Database, user_id: int) -> None:
    async with database.transaction() as tx:
        stored = [await tx.trades.add(priced(user_id, T0 + 100 * (n // 3), str(n + 1))) for n in range(8)]
    newest_first = [t.id for t in sorted(stored, key=lambda t: (t.closed_at, t.id or 0), reverse=True)]
    seen: list[int] = []
    after: TradeCursor | None = None
    while True:
        page = await ids(database, user_id, after=after, limit=3)
        seen += page
        if len(page) < 3:
            break
        last = next(t for t in stored if t.id == page[-1])
        after = TradeCursor(last.closed_at, page[-1])
        async with database.transaction() as tx:  # a trade closing meanwhile neither shifts nor repeats a page
            await tx.trades.add(priced(user_id, T0 + 10_000 + len(seen), "1"))
    assert seen == newest_first
    winners_after = await ids(database, user_id, TradeFilter(result=TradeResult.WIN, closed_until=T0 + 1000), offset=2)
    assert winners_after == newest_first[2:]


def test_a_cursor_reads_back_what_it_wrote_and_refuses_anything_else() -> None:
    assert TradeCursor.parse(str(TradeCursor(T0, 42))) == TradeCursor(T0, 42)
    for bad in ("", "12", "a.b", "1.-2", "1.2.3", "1" * 16 + ".2", "1." + "2" * 19, "1.²", ".2"):
        with pytest.raises(ValidationError) as refused:
            TradeCursor.parse(bad)
        assert refused.value.field == "cursor"
    with pytest.raises(ValidationError) as backwards:
        TradeFilter(closed_since=T0, closed_until=T0)
    assert backwards.value.field == "closed_until"


async def test_a_stored_trade_keeps_its_result_through_a_round_trip(database: Database, user_id: int) -> None:
    async with database.transaction() as tx:
        stored = await tx.trades.add(priced(user_id, T0 + 1, "-0.5"))
    async with database.reading() as tx:
        [got] = await tx.trades.list_for_user(user_id, TradeFilter(result=TradeResult.LOSS))
    assert got == stored and replace(got, id=None) == priced(user_id, T0 + 1, "-0.5")
