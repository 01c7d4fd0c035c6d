"""``GET /trading/history`` filtered and paged by the server, ``GET /statistics/pnl``, and the 422s naming the field."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from web_world import World

from elcaro.models import Environment, Exchange, ExitReason, PositionSide, Target, Trade

pytestmark = pytest.mark.db

PAPER = Target(Exchange.BYBIT, Environment.PAPER)
TESTNET = Target(Exchange.BINANCE, Environment.TESTNET)
DAY = 86_400_000
T0 = 1_731_974_400_000  # 2024-11-19 00:00 UTC


def trade(user_id: int, closed_at: int, net: str, **changes: Any) -> Trade:
    """A long of 1 with no fees whose net PnL is exactly ``net``."""
    fields: dict[str, Any] = {
        "target": PAPER,
        "symbol": "BTC/USDT:USDT",
        "side": PositionSide.LONG,
        "qty": Decimal(1),
        "entry_price": Decimal(100),
        "opened_at": closed_at - 60_000,
        "closed_at": closed_at,
        "exit_reason": ExitReason.TAKE_PROFIT,
        "strategy": "elcaro",
        "user_id": user_id,
    }
    fields.update(changes)
    side: PositionSide = fields["side"]
    return Trade(exit_price=Decimal(100) + side.sign * Decimal(net), **fields)


async def seeded(world: World) -> tuple[dict[str, str], dict[str, int]]:
    me, other = await world.user(701), await world.user(702)
    trades = {
        "win": trade(me.id, T0 + 1_000, "5"),
        "loss": trade(me.id, T0 + 2_000, "-3", exit_reason=ExitReason.STOP_LOSS, strategy="cornix"),
        "short": trade(me.id, T0 + DAY, "2", side=PositionSide.SHORT, target=TESTNET, strategy=None),
        "eth": trade(me.id, T0 + DAY + 5, "-1", symbol="ETH/USDT:USDT"),
        "even": trade(me.id, T0 + 2 * DAY, "0"),
        "theirs": trade(other.id, T0 + 3_000, "9"),
    }
    ids: dict[str, int] = {}
    async with world.runtime.platform.database.transaction() as tx:  # a fixture: trades as the monitor stores them
        for name, item in trades.items():
            ids[name] = (await tx.trades.add(item)).id or 0
    return await world.headers(701), ids


async def listed(world: World, headers: dict[str, str], **query: Any) -> list[int]:
    answer = await world.client.get("/api/v1/trading/history", params=query, headers=headers)
    assert answer.status_code == 200, answer.text
    return [item["id"] for item in answer.json()["trades"]]


async def test_each_filter_is_applied_by_the_server(world: World) -> None:
    headers, ids = await seeded(world)
    win, loss, short, eth, even = (ids[name] for name in ("win", "loss", "short", "eth", "even"))
    assert await listed(world, headers) == [even, eth, short, loss, win]  # never another user's
    assert await listed(world, headers, strategy="cornix") == [loss]
    assert await listed(world, headers, strategy="manual") == [short]  # no strategy
    assert await listed(world, headers, target="binance:testnet") == [short]
    assert await listed(world, headers, symbol="ETH/USDT:USDT") == [eth]
    assert await listed(world, headers, side="short") == [short]
    assert await listed(world, headers, exit_reason="stop_loss") == [loss]
    assert await listed(world, headers, result="win") == [short, win]
    assert await listed(world, headers, result="loss") == [eth, loss]  # an even trade is neither
    assert await listed(world, headers, closed_since=T0 + DAY, closed_until=T0 + 2 * DAY) == [eth, short]
    assert await listed(world, headers, strategy="elcaro", result="loss") == [eth]
    assert await listed(world, headers, symbol="XRP/USDT:USDT") == []


async def test_pages_by_number_or_by_cursor_keep_the_filters(world: World) -> None:
    headers, ids = await seeded(world)
    first = (await world.client.get("/api/v1/trading/history", params={"page_size": 2}, headers=headers)).json()
    assert [t["id"] for t in first["trades"]] == [ids["even"], ids["eth"]] and first["has_more"]
    assert await listed(world, headers, page=1, page_size=2) == [ids["short"], ids["loss"]]

    seen: list[int] = []
    query: dict[str, Any] = {"page_size": 1, "result": "win"}
    while True:
        answer = await world.client.get("/api/v1/trading/history", params=query, headers=headers)
        page = answer.json()
        seen += [t["id"] for t in page["trades"]]
        if page["next_cursor"] is None:
            assert not page["has_more"]
            break
        query["cursor"] = page["next_cursor"]
    assert seen == [ids["short"], ids["win"]]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"side": "up"}, "side"),
        ({"result": "draw"}, "result"),
        ({"exit_reason": "bored"}, "exit_reason"),
        ({"target": "nowhere"}, "target"),
        ({"target": "bybit:moon"}, "target"),
        ({"cursor": "yesterday"}, "cursor"),
        ({"closed_since": 2_000, "closed_until": 1_000}, "closed_until"),
        ({"closed_since": -1}, "closed_since"),
        ({"strategy": ""}, "strategy"),
        ({"page": 50}, "page"),
    ],
)
async def test_an_invalid_filter_is_a_422_naming_it(world: World, query: dict[str, Any], field: str) -> None:
    await world.user(703)
    answer = await world.client.get("/api/v1/trading/history", params=query, headers=await world.headers(703))
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["field"] == field


async def test_the_pnl_history_adds_up_each_day(world: World) -> None:
    headers, _ = await seeded(world)
    answer = await world.client.get("/api/v1/statistics/pnl", params={"bucket": "day"}, headers=headers)
    assert answer.status_code == 200, answer.text
    points = [(p["start"], Decimal(p["pnl"]), Decimal(p["cumulative"]), p["trades"]) for p in answer.json()["points"]]
    assert points == [(T0, Decimal(2), Decimal(2), 2), (T0 + DAY, Decimal(1), Decimal(3), 2), (T0 + 2 * DAY, 0, 3, 1)]
    elcaro = await world.client.get("/api/v1/statistics/pnl", params={"strategy": "elcaro"}, headers=headers)
    assert [p["pnl"] for p in elcaro.json()["points"]] == ["5", "-1", "0"]
    refused = await world.client.get("/api/v1/statistics/pnl", params={"bucket": "hour"}, headers=headers)
    assert refused.status_code == 422 and refused.json()["error"]["field"] == "bucket"


async def test_the_choices_are_the_callers_own_symbols_strategies_and_targets(world: World) -> None:
    headers, _ = await seeded(world)
    answer = await world.client.get("/api/v1/trading/history/choices", headers=headers)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "symbols": ["BTC/USDT:USDT", "ETH/USDT:USDT"],
        "strategies": ["cornix", "elcaro", "manual"],
        "targets": ["binance:testnet", "bybit:paper"],
        "exit_reasons": ["stop_loss", "take_profit"],
    }
    await world.user(704)
    newcomer = await world.client.get("/api/v1/trading/history/choices", headers=await world.headers(704))
    assert newcomer.json() == {"symbols": [], "strategies": [], "targets": [], "exit_reasons": []}
