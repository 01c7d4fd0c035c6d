"""``GET /api/v1/statistics/equity``: the caller's own recorded equity, per target or added up, over a period.

Snapshots are recorded the platform's way — the equity service reading the trading desk's balances of the
paper venue — at moments the test chooses, so the curve's times are known; its figures are the balances the
API itself reports.
"""

from __future__ import annotations

import time
import uuid
from decimal import Decimal

import pytest
from web_world import World

from elcaro.services.equity import EquityService

pytestmark = pytest.mark.db

MINUTE = 60_000
INTERVAL = 15 * MINUTE
URL = "/api/v1/statistics/equity"


async def _trader(world: World, telegram_id: int) -> dict[str, str]:
    await world.user(telegram_id)
    headers = await world.headers(telegram_id)
    enabled = await world.client.put("/api/v1/me/targets/bybit:paper", json={"enabled": True}, headers=headers)
    assert enabled.status_code == 200, enabled.text
    return headers


async def _record_at(world: World, at: int) -> None:
    service = EquityService(world.runtime.platform.database, interval_ms=INTERVAL, clock=lambda: at)
    await service.record(world.runtime.desk.balances)


async def _equity_now(world: World, headers: dict[str, str]) -> Decimal:
    [paper] = (await world.client.get("/api/v1/trading/balances", headers=headers)).json()
    return Decimal(paper["balance"]["equity"])


async def test_the_curve_is_the_callers_own_and_follows_the_account(world: World) -> None:
    alice = await _trader(world, 8101)
    bob = await _trader(world, 8102)
    now = int(time.time() * 1000)
    earlier, later = now - now % INTERVAL - 8 * INTERVAL, now - now % INTERVAL - 4 * INTERVAL

    nothing = await world.client.get(URL, headers=alice)
    assert nothing.status_code == 200, nothing.text
    assert nothing.json()["points"] == [] and nothing.json()["interval_ms"] == INTERVAL

    await _record_at(world, earlier)
    before = await _equity_now(world, alice)
    placed = await world.client.post(
        "/api/v1/trading/manual",
        json={"symbol": "BTCUSDT", "side": "long", "qty": "0.01", "target": "bybit:paper", "intent": uuid.uuid4().hex},
        headers=alice,
    )
    assert placed.status_code == 201, placed.text
    after = await _equity_now(world, alice)
    assert after < before  # the entry paid its fee
    await _record_at(world, later)

    curve = (await world.client.get(URL, params={"period": "day"}, headers=alice)).json()
    assert (curve["period"], curve["target"], curve["asset"], curve["since"]) == ("day", None, "USDT", earlier)
    assert [(p["at"], Decimal(p["equity"]), p["targets"]) for p in curve["points"]] == [
        (earlier, before, 1),
        (later, after, 1),
    ]
    one = (await world.client.get(URL, params={"period": "week", "target": "bybit:paper"}, headers=alice)).json()
    assert [Decimal(p["equity"]) for p in one["points"]] == [before, after] and one["target"] == "bybit:paper"
    other = (await world.client.get(URL, params={"target": "bybit:demo"}, headers=alice)).json()
    assert other["points"] == []

    # Bob sees his own account only: untouched at both moments.
    bobs = (await world.client.get(URL, params={"period": "all"}, headers=bob)).json()
    assert [Decimal(p["equity"]) for p in bobs["points"]] == [Decimal(10_000), Decimal(10_000)]


async def test_bad_parameters_are_refused_and_a_token_is_needed(world: World) -> None:
    headers = await _trader(world, 8103)
    for params in ({"period": "decade"}, {"target": "nowhere"}, {"target": "bybit:mainnet"}):
        answer = await world.client.get(URL, params=params, headers=headers)
        assert answer.status_code == 422, (params, answer.text)
    assert (await world.client.get(URL)).status_code == 401
