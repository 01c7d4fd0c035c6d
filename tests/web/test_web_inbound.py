"""Webhook alerts and the settings form's refusals: clear 4xx answers, never a 500."""

from __future__ import annotations

import json
import time

import pytest
from web_world import World

pytestmark = pytest.mark.db


async def _webhook(world: World) -> str:
    await world.user(3001, admin=True)
    headers = await world.headers(3001)
    made = await world.client.post(
        "/api/v1/admin/sources/webhooks", json={"name": "tv", "strategy": "elcaro", "max_lag_s": 60}, headers=headers
    )
    assert made.status_code == 201, made.text
    assert made.json()["url_path"] == "/webhook/tv"
    secret: str = made.json()["secret"]
    listed = await world.client.get("/api/v1/admin/sources", headers=headers)
    assert secret not in listed.text  # shown once, never again
    return secret


def _alert(secret: str, **changes: object) -> dict[str, object]:
    alert: dict[str, object] = {
        "secret": secret,
        "strategy": "elcaro",
        "symbol": "BTCUSDT",
        "side": "long",
        "entry": "60000",
        "stop_loss": "59000",
        "take_profit": ["61000"],
        "time": int(time.time() * 1000),
    }
    alert.update(changes)
    return alert


async def test_webhook_answers(world: World) -> None:
    secret = await _webhook(world)
    post = world.client.post
    assert (await post("/webhook/tv", json=_alert("x" * 43))).status_code == 401
    assert (await post("/webhook/nobody", json=_alert(secret))).status_code == 404
    assert (await post("/webhook/tv", content=b"not json")).status_code == 422
    assert (await post("/webhook/tv", json=[1, 2])).status_code == 422
    assert (await post("/webhook/tv", content=b"x" * 40_000)).status_code == 413
    stale = await post("/webhook/tv", json=_alert(secret, time=int(time.time() * 1000) - 3_600_000))
    assert stale.status_code == 202 and stale.json()["outcome"] == "rejected"
    taken = await post("/webhook/tv", json=_alert(secret))
    assert taken.status_code == 202, taken.text
    assert taken.json()["outcome"] in ("accepted", "rejected")


async def test_a_refused_setting_names_the_field_and_its_range(world: World) -> None:
    await world.user(3002)
    headers = await world.headers(3002)
    answer = await world.client.put(
        "/api/v1/me/settings/strategy",
        params={"strategy": "elcaro"},
        json={"changes": {"risk_pct": "500"}},
        headers=headers,
    )
    assert answer.status_code == 422
    error = answer.json()["error"]
    assert error["field"] == "risk_pct" and any(ch.isdigit() for ch in error["message"])
    good = await world.client.put(
        "/api/v1/me/settings/strategy",
        params={"strategy": "elcaro"},
        json={"changes": {"risk_pct": "1.5"}},
        headers=headers,
    )
    assert good.status_code == 200, good.text
    assert good.json()["values"]["risk_pct"] == "1.5"


async def test_health_and_metrics(world: World) -> None:
    health = await world.client.get("/health")
    assert health.status_code == 200 and health.json()["database"]["ok"] is True
    metrics = await world.client.get("/metrics")
    assert metrics.status_code == 200
    assert 'elcaro_http_requests_total{method="GET",route="/health",status="200"}' in metrics.text


async def test_text_no_database_can_store_is_refused_naming_where_it_was(world: World) -> None:
    """A NUL (PostgreSQL refuses it) or an unpaired surrogate (not UTF-8) is a 422, never a failed query."""
    await world.user(3003, admin=True)
    headers = {**await world.headers(3003), "content-type": "application/json"}
    cases = [
        ("/api/v1/admin/promos", '{"code": "A\\u0000B", "tier": "basic", "days": 1, "max_uses": 1}', "code"),
        ("/api/v1/admin/signals/post", '{"text": "BTC \\udc80"}', "text"),
        ("/api/v1/admin/signals/preview", '{"spec": {"name\\u0000": 1}, "samples": ["x"]}', "spec"),
        ("/api/v1/admin/signals/preview", '{"spec": {}, "samples": ["ok", "x\\u0000"]}', "samples"),
    ]
    for path, body, field in cases:
        answer = await world.client.post(path, content=body.encode(), headers=headers)
        assert answer.status_code == 422, f"{path} {body}: {answer.text}"
        assert answer.json()["error"]["field"] == field
    in_query = await world.client.get("/api/v1/admin/users/search", params={"q": "a\x00b"}, headers=headers)
    assert in_query.status_code == 422 and in_query.json()["error"]["field"] == "url"
    in_path = await world.client.delete("/api/v1/admin/sources/webhook/a%00b", headers=headers)
    assert in_path.status_code == 422 and in_path.json()["error"]["field"] == "url"
    secret = (
        await world.client.post(
            "/api/v1/admin/sources/webhooks", json={"name": "tv2", "strategy": "elcaro"}, headers=headers
        )
    ).json()["secret"]
    alert = json.dumps({"secret": secret, "symbol": "BTC\x00USDT", "side": "long"})  # NUL escaped as \\u0000
    hooked = await world.client.post(
        "/webhook/tv2", content=alert.encode(), headers={"content-type": "application/json"}
    )
    assert hooked.status_code == 422 and hooked.json()["error"]["field"] == "body"


async def test_a_user_search_that_looks_like_an_id_but_is_none_is_refused(world: World) -> None:
    await world.user(3004, admin=True)
    headers = await world.headers(3004)
    for q in ("³", "#²", "9" * 30, "#" + "9" * 20):
        answer = await world.client.get("/api/v1/admin/users/search", params={"q": q}, headers=headers)
        assert answer.status_code == 422 and answer.json()["error"]["field"] == "q", f"{q}: {answer.text}"
    found = await world.client.get("/api/v1/admin/users/search", params={"q": "3004"}, headers=headers)
    assert [user["telegram_id"] for user in found.json()] == [3004]
