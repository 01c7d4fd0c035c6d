"""Every route with an id in its path, asked by another user for the first user's object: 404 (or 403).

The table below names how to fill each such route's path with user A's objects; a route the table does not
know fails ``test_every_route_with_a_path_id_is_in_the_table``, so a new route cannot skip the check.
"""

from __future__ import annotations

import re
import uuid
from decimal import Decimal
from typing import Any

import pytest
from web_world import World, post_signal

from elcaro.models import ExchangeKeys, Secret, Target
from elcaro.web.app import API_PREFIX

pytestmark = pytest.mark.db

ADMIN_PREFIXES = (f"{API_PREFIX}/admin", f"{API_PREFIX}/engine")
NOT_USER_SCOPED = {
    ("POST", "/webhook/{source}"),  # the source's own secret, tested in test_web_inbound
    ("PUT", f"{API_PREFIX}/me/settings/{{scope}}"),  # a settings level of the caller, not an object id
    ("DELETE", f"{API_PREFIX}/me/settings/{{scope}}"),
    ("PUT", f"{API_PREFIX}/me/targets/{{target}}"),  # the caller's own target
    ("PUT", f"{API_PREFIX}/me/strategies/{{name}}"),  # the caller's own strategy settings
}

# (method, path template) → the path with user A's objects (filled from ``objects``).
OWNED: dict[tuple[str, str], str] = {
    ("GET", f"{API_PREFIX}/trading/positions/{{position_id}}"): "/trading/positions/{position_id}",
    ("POST", f"{API_PREFIX}/trading/positions/{{position_id}}/close"): "/trading/positions/{position_id}/close",
    ("PATCH", f"{API_PREFIX}/trading/positions/{{position_id}}/exits"): "/trading/positions/{position_id}/exits",
    ("DELETE", f"{API_PREFIX}/trading/orders/{{target}}/{{ref}}"): "/trading/orders/bybit:paper/{order_ref}",
    ("POST", f"{API_PREFIX}/me/credentials/{{credential_id}}/test"): "/me/credentials/{credential_id}/test",
    ("DELETE", f"{API_PREFIX}/me/credentials/{{credential_id}}"): "/me/credentials/{credential_id}",
    ("GET", f"{API_PREFIX}/payments/{{payment_id}}"): "/payments/{payment_id}",
    ("DELETE", f"{API_PREFIX}/auth/sessions/{{session_id}}"): "/auth/sessions/{session_id}",
    ("GET", f"{API_PREFIX}/backtests/{{run_id}}"): "/backtests/{run_id}",
    ("GET", f"{API_PREFIX}/backtests/{{run_id}}/trades"): "/backtests/{run_id}/trades",
    ("GET", f"{API_PREFIX}/backtests/{{run_id}}/chart"): "/backtests/{run_id}/chart",
}

# Routes that take a body: one user A could have sent, so that a refusal comes from the id and not the body.
BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("PATCH", f"{API_PREFIX}/trading/positions/{{position_id}}/exits"): {"stop": "1"},
}


def _operations(world: World) -> list[tuple[str, str, dict[str, Any]]]:
    """Every HTTP operation the app serves, from its OpenAPI document (included routers and all)."""
    paths: dict[str, dict[str, Any]] = world.app.openapi()["paths"]
    return [(method.upper(), path, spec) for path, item in paths.items() for method, spec in item.items()]


def _routes(world: World) -> list[tuple[str, str]]:
    return [(method, path) for method, path, _ in _operations(world) if "{" in path]


async def test_the_route_table_is_read_whole(world: World) -> None:
    served = set(_routes(world))
    assert set(OWNED) <= served  # the table names routes that exist
    assert sum(path.startswith(ADMIN_PREFIXES) for _, path in served) >= 10


async def test_every_api_route_but_logging_in_needs_a_token(world: World) -> None:
    public = {"/mini-app", "/widget", "/refresh", "/logout", "/auth/options"}  # options: what a login page shows
    for method, path, spec in _operations(world):
        if path.startswith(API_PREFIX) and not any(path.endswith(end) for end in public):
            assert spec.get("security"), f"{method} {path} takes no access token"


async def test_every_route_with_a_path_id_is_in_the_table(world: World) -> None:
    unknown = [
        (method, path)
        for method, path in _routes(world)
        if (method, path) not in OWNED and (method, path) not in NOT_USER_SCOPED and not path.startswith(ADMIN_PREFIXES)
    ]
    assert unknown == [], "add these routes to OWNED (with user A's ids) or justify them in NOT_USER_SCOPED"


async def _objects_of_a(world: World, a_headers: dict[str, str], a_id: int) -> dict[str, Any]:
    client = world.client
    assert (
        await client.put("/api/v1/me/targets/bybit:paper", json={"enabled": True}, headers=a_headers)
    ).status_code == 200
    assert (
        await client.put("/api/v1/me/strategies/cornix", json={"enabled": True}, headers=a_headers)
    ).status_code == 200
    placed = await client.post(
        "/api/v1/trading/manual",
        json={"symbol": "BTCUSDT", "side": "long", "qty": "0.01", "target": "bybit:paper", "intent": uuid.uuid4().hex},
        headers=a_headers,
    )
    assert placed.status_code == 201, placed.text
    position_id = placed.json()["position_id"]
    assert position_id is not None
    resting = await client.post(
        "/api/v1/trading/manual",
        json={
            "symbol": "ETHUSDT",
            "side": "long",
            "qty": "0.1",
            "price": "1000",
            "target": "bybit:paper",
            "intent": uuid.uuid4().hex,
        },
        headers=a_headers,
    )
    assert resting.status_code == 201, resting.text
    keys = ExchangeKeys(api_key=Secret("A" * 18), api_secret=Secret("b" * 36))
    credential = await world.runtime.platform.credentials.save(a_id, Target.parse("bybit:demo"), keys)
    payment = await world.runtime.platform.payments.declare(
        a_id, "basic", 1, amount=Decimal(25), currency="USDT", reference="tx 1"
    )
    sessions = (await client.get("/api/v1/auth/sessions", headers=a_headers)).json()
    return {
        "position_id": position_id,
        "order_ref": resting.json()["order"]["ref"],
        "credential_id": credential.id,
        "payment_id": payment.id,
        "session_id": sessions[0]["id"],
        "run_id": "0123456789abcdef",
    }


async def test_another_users_ids_are_not_found(world: World) -> None:
    a = await world.user(2001)
    await world.user(2002)
    a_headers = await world.headers(2001)
    b_headers = await world.headers(2002)
    objects = await _objects_of_a(world, a_headers, a.id)
    for (method, template), path in OWNED.items():
        url = API_PREFIX + path.format(**objects)
        answer = await world.client.request(method, url, headers=b_headers, json=BODIES.get((method, template)))
        assert answer.status_code in (403, 404), f"{method} {url} as user B: {answer.status_code} {answer.text}"
    # ... and A's objects are untouched and still A's.
    mine = await world.client.get(f"/api/v1/trading/positions/{objects['position_id']}", headers=a_headers)
    assert mine.status_code == 200
    keys = (await world.client.get("/api/v1/me/credentials", headers=a_headers)).json()
    assert [item["id"] for item in keys] == [objects["credential_id"]]
    assert "b" * 36 not in str(keys) and "A" * 18 not in str(keys)  # never a secret, only a hint


async def test_admin_routes_are_refused_to_users(world: World) -> None:
    await world.user(2003)
    headers = await world.headers(2003)
    checked = 0
    for method, path, _ in _operations(world):
        if path.startswith(ADMIN_PREFIXES):
            url = re.sub(r"\{[a-z_]+\}", "1", path)
            answer = await world.client.request(method, url, headers=headers, json={})
            assert answer.status_code == 403, f"{method} {url}: {answer.status_code} {answer.text}"
            checked += 1
    assert checked > 20


# List route → the ids in its answer. A list answers with the caller's objects only.
LISTS: dict[str, Any] = {
    "/trading/positions": lambda body: [item["id"] for item in body["items"]],
    "/trading/orders": lambda body: [item["client_order_id"] for item in body],
    "/me/credentials": lambda body: [item["id"] for item in body],
    "/payments": lambda body: [item["id"] for item in body],
    "/auth/sessions": lambda body: [item["id"] for item in body],
    "/signals/executions": lambda body: [item["id"] for item in body],
}


async def test_another_users_lists_hold_none_of_the_first_users_objects(world: World) -> None:
    await world.user(2010, admin=True)
    a = await world.user(2011)
    await world.user(2012)
    a_headers = await world.headers(2011)
    b_headers = await world.headers(2012)
    await _objects_of_a(world, a_headers, a.id)
    await post_signal(world, await world.headers(2010), "ETH/USDT\nBuy 3385\nTake Profit 3450\nStop 3300", executions=1)
    for path, ids_of in LISTS.items():
        mine = ids_of((await world.client.get(API_PREFIX + path, headers=a_headers)).json())
        theirs = ids_of((await world.client.get(API_PREFIX + path, headers=b_headers)).json())
        assert mine, f"{path}: user A should have something here"
        assert not set(mine) & set(theirs), f"{path} shows user B some of user A's objects"
