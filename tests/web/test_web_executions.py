"""What became of signals: a user's own executions, and an admin's view of every execution of one signal.

Signals are posted by an admin through the API and fanned out for real to users following the strategy on
the paper venue (ETH at 3000 there): one that trades, one that a gate skips with its reason.
"""

from __future__ import annotations

import pytest
from web_world import World, post_signal

pytestmark = pytest.mark.db

SKIPPED = "ETH/USDT\nBuy 3385\nTake Profit 3450 3500\nStop 3300"
"""The paper price (3000) is already past the stop: refused by the gate ``price_past_stop``."""
TRADED = "ETH/USDT\nBuy 3000\nTake Profit 3150\nStop 2900"


async def _follower(world: World, telegram_id: int) -> tuple[int, dict[str, str]]:
    user = await world.user(telegram_id)
    headers = await world.headers(telegram_id)
    for path, body in (
        ("/api/v1/me/targets/bybit:paper", {"enabled": True}),
        ("/api/v1/me/strategies/cornix", {"enabled": True}),
    ):
        answer = await world.client.put(path, json=body, headers=headers)
        assert answer.status_code == 200, answer.text
    return user.id, headers


async def test_a_user_sees_their_own_executions_newest_first_with_reasons(world: World) -> None:
    await world.user(6001, admin=True)
    admin = await world.headers(6001)
    alice_id, alice = await _follower(world, 6002)
    bob_id, bob = await _follower(world, 6003)
    skipped = await post_signal(world, admin, SKIPPED, executions=2)
    traded = await post_signal(world, admin, TRADED, executions=2)

    mine = (await world.client.get("/api/v1/signals/executions", headers=alice)).json()
    assert [(e["signal"]["id"], e["user_id"]) for e in mine] == [(traded, alice_id), (skipped, alice_id)]
    newest, oldest = mine
    assert (
        oldest["status"] == "skipped" and oldest["reason_code"] == "price_past_stop" and oldest["position_id"] is None
    )
    assert "3300" in oldest["reason"]
    assert newest["status"] in ("placed", "filled") and newest["target"] == "bybit:paper"
    assert newest["signal"] == {
        "id": traded,
        "source_kind": "manual",
        "strategy": "cornix",
        "symbol": "ETH/USDT:USDT",
        "side": "long",
        "status": "accepted",
        "received_at": newest["signal"]["received_at"],
    }
    if newest["status"] == "filled":
        position = await world.client.get(f"/api/v1/trading/positions/{newest['position_id']}", headers=alice)
        assert position.status_code == 200 and position.json()["signal_id"] == traded

    theirs = (await world.client.get("/api/v1/signals/executions", headers=bob)).json()
    assert {e["user_id"] for e in theirs} == {bob_id}
    assert not {e["id"] for e in theirs} & {e["id"] for e in mine}
    one = await world.client.get("/api/v1/signals/executions", params={"limit": 1}, headers=alice)
    assert [e["id"] for e in one.json()] == [newest["id"]]


async def test_admins_see_every_execution_of_a_signal_and_users_may_not(world: World) -> None:
    await world.user(6011, admin=True)
    admin = await world.headers(6011)
    alice_id, alice = await _follower(world, 6012)
    bob_id, _ = await _follower(world, 6013)
    signal_id = await post_signal(world, admin, SKIPPED, executions=2)

    answer = await world.client.get(f"/api/v1/admin/signals/{signal_id}/executions", headers=admin)
    assert answer.status_code == 200, answer.text
    assert sorted(e["user_id"] for e in answer.json()) == sorted([alice_id, bob_id])
    assert {e["reason_code"] for e in answer.json()} == {"price_past_stop"}
    assert all(e["signal"]["id"] == signal_id for e in answer.json())

    refused = await world.client.get(f"/api/v1/admin/signals/{signal_id}/executions", headers=alice)
    assert refused.status_code == 403
    missing = await world.client.get(f"/api/v1/admin/signals/{signal_id + 1000}/executions", headers=admin)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    for limit in (0, 501, "x"):
        bad = await world.client.get("/api/v1/signals/executions", params={"limit": limit}, headers=alice)
        assert bad.status_code == 422 and bad.json()["error"]["field"] == "limit"
