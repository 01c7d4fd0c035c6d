"""0010 fills in the win/loss result of the trades stored before it, from their exact net PnL."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from storage_builders import run_sql

from elcaro.models.trade_query import TradeFilter, TradeResult
from elcaro.storage import Database, current_async, downgrade_async, upgrade_async

pytestmark = pytest.mark.db

ADD_USER = (
    "INSERT INTO users (telegram_id, language, role, approval, banned, referral_code, created_at) "
    "VALUES (1, 'en', 'user', 'approved', false, 'R1', 1) RETURNING id"
)
ADD_TRADE = (
    "INSERT INTO trades (user_id, exchange, environment, symbol, side, qty, entry_price, exit_price, fees, funding, "
    "contract_size, exit_reason, opened_at, closed_at) VALUES (:user_id, 'bybit', 'paper', 'BTC/USDT:USDT', :side, "
    ":qty, :entry, :exit, :fees, :funding, 1, 'take_profit', 1, :closed_at) RETURNING id"
)


async def test_existing_trades_get_the_sign_of_their_exact_net_pnl(empty_database_url: str) -> None:
    url = empty_database_url
    await upgrade_async(url, "0009")
    [user] = await run_sql(url, ADD_USER)
    trades = {  # side, qty, entry, exit, fees, funding
        "win": ("short", "2", "100", "99.5", "0.25", "-0.5"),  # +1 − 0.25 − 0.5 = +0.25
        "loss": ("long", "1", "100", "100.1", "0.05", "-0.050000000000000001"),  # just below zero
        "even": ("long", "0.1", "1", "4", "0.2", "-0.1"),  # exactly zero, not in float
    }
    # As each backend stores amounts: TEXT on SQLite, NUMERIC on PostgreSQL.
    amount: Any = str if url.startswith("sqlite") else Decimal
    stored = {
        name: (
            await run_sql(
                url,
                ADD_TRADE,
                user_id=user.id,
                side=side,
                qty=amount(qty),
                entry=amount(entry),
                exit=amount(exit_),
                fees=amount(fees),
                funding=amount(funding),
                closed_at=n + 1,
            )
        )[0].id
        for n, (name, (side, qty, entry, exit_, fees, funding)) in enumerate(trades.items())
    }

    await upgrade_async(url)
    db = Database(url)
    try:
        async with db.reading() as tx:
            wins = await tx.trades.list_for_user(user.id, TradeFilter(result=TradeResult.WIN))
            losses = await tx.trades.list_for_user(user.id, TradeFilter(result=TradeResult.LOSS))
    finally:
        await db.close()
    assert [trade.id for trade in wins] == [stored["win"]]
    assert [trade.id for trade in losses] == [stored["loss"]]

    await downgrade_async(url, "0009")
    assert await current_async(url) == "0009"
    assert len(await run_sql(url, "SELECT id FROM trades")) == 3
