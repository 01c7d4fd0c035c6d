"""``PATCH /trading/positions/{id}/exits``: the stop and targets set by hand, on a real position on the paper venue."""

from __future__ import annotations

import uuid
from decimal import Decimal as D
from typing import Any

import pytest
from web_world import World

from elcaro.models import Target

pytestmark = pytest.mark.db

PAPER = Target.parse("bybit:paper")
BTC = "BTC/USDT:USDT"


async def _open(world: World, telegram_id: int) -> tuple[dict[str, str], dict[str, Any], int]:
    """A managed BTC long opened through the API, with the ``manual`` settings' stop (2 %) and one target (5 %)."""
    user = await world.user(telegram_id)
    headers = await world.headers(telegram_id)
    client = world.client
    assert (await client.put("/api/v1/me/targets/bybit:paper", json={"enabled": True}, headers=headers)).is_success
    levels = await client.put(
        "/api/v1/me/settings/strategy",
        params={"strategy": "manual"},
        json={"changes": {"sl_pct": "2", "tp_pct": "5"}},
        headers=headers,
    )
    assert levels.status_code == 200, levels.text
    placed = await client.post(
        "/api/v1/trading/manual",
        json={"symbol": "BTCUSDT", "side": "long", "qty": "0.01", "target": "bybit:paper", "intent": uuid.uuid4().hex},
        headers=headers,
    )
    assert placed.status_code == 201, placed.text
    position_id = placed.json()["position_id"]
    shown = await client.get(f"/api/v1/trading/positions/{position_id}", headers=headers)
    assert shown.status_code == 200, shown.text
    return headers, shown.json(), user.id


async def _venue(world: World, user_id: int) -> tuple[D | None, list[D]]:
    """The stop the venue holds on the position and the prices of its reduce-only orders."""
    client = await world.runtime.access.client(user_id, PAPER)
    (held,) = await client.fetch_positions([BTC])
    return held.stop_loss, sorted(o.price for o in await client.fetch_open_orders(BTC) if o.reduce_only and o.price)


async def test_the_stop_and_target_move_on_the_venue_and_the_answer_shows_them(world: World) -> None:
    headers, position, user_id = await _open(world, 4101)
    entry = D(position["entry_price"])
    stop, (target,) = D(position["stop_loss"]), position["targets"]
    assert target["number"] == 1 and target["hit"] is False and D(target["price"]) > entry > stop
    assert await _venue(world, user_id) == (stop, [D(target["price"])])

    wanted_stop, wanted_target = (entry * D("0.97")).quantize(D(1)), (entry * D("1.08")).quantize(D(1))
    answer = await world.client.patch(
        f"/api/v1/trading/positions/{position['id']}/exits",
        json={"stop": str(wanted_stop), "target_prices": [str(wanted_target)]},
        headers=headers,
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert D(body["stop_loss"]) == wanted_stop and D(body["take_profit"]) == wanted_target
    assert [(D(t["price"]), t["hit"]) for t in body["targets"]] == [(wanted_target, False)]
    assert await _venue(world, user_id) == (wanted_stop, [wanted_target])

    tighter = await world.client.patch(
        f"/api/v1/trading/positions/{position['id']}/exits", json={"stop": str(entry * D("0.99"))}, headers=headers
    )
    assert tighter.status_code == 200, tighter.text
    assert (await _venue(world, user_id))[0] == D(tighter.json()["stop_loss"]) > wanted_stop


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({"stop": "1000000"}, "stop", "invalid"),  # above a long's price: it would fire at once
        ({"target_prices": ["1", "2"]}, "target_prices", "invalid"),  # one target is left, not two
        ({"target_prices": ["1"]}, "target_prices.0", "invalid"),  # a take-profit below the price
        ({}, "stop", "position.exits_empty"),
    ],
)
async def test_levels_the_position_cannot_take_are_refused_at_their_field(
    world: World, body: dict[str, Any], field: str, code: str
) -> None:
    headers, position, user_id = await _open(world, 4102)
    before = await _venue(world, user_id)
    answer = await world.client.patch(f"/api/v1/trading/positions/{position['id']}/exits", json=body, headers=headers)
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert (error["field"], error["code"]) == (field, code) and error["message"]
    assert await _venue(world, user_id) == before


async def test_a_malformed_level_is_refused_before_the_desk(world: World) -> None:
    headers, position, _ = await _open(world, 4103)
    for body in ({"stop": "-5"}, {"stop": "NaN"}, {"target_prices": []}, {"stop": "1", "extra": 1}):
        answer = await world.client.patch(
            f"/api/v1/trading/positions/{position['id']}/exits", json=body, headers=headers
        )
        assert answer.status_code == 422, (body, answer.text)


async def test_another_users_position_and_an_unknown_one_are_not_found(world: World) -> None:
    _, position, user_id = await _open(world, 4104)
    await world.user(4105)
    stranger = await world.headers(4105)
    before = await _venue(world, user_id)
    for position_id in (position["id"], 999_999):
        answer = await world.client.patch(
            f"/api/v1/trading/positions/{position_id}/exits", json={"stop": "1"}, headers=stranger
        )
        assert answer.status_code == 404, answer.text
    assert await _venue(world, user_id) == before
