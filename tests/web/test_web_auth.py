"""Logging in to the web app: only Telegram-signed, fresh payloads of approved users; tokens rotate; logout revokes."""

from __future__ import annotations

import time

import httpx
import pytest
from web_world import World, init_data, widget_fields

from elcaro.services.runtime import Runtime
from elcaro.web.app import create_app
from elcaro.web.ratelimit import RateLimitPolicy, Rule

pytestmark = pytest.mark.db

ME = "/api/v1/me"
MINI_APP = "/api/v1/auth/telegram/mini-app"


async def test_a_signed_mini_app_login_gives_tokens_that_reach_the_own_profile(world: World) -> None:
    user = await world.user(1001)
    headers = await world.headers(1001)
    answer = await world.client.get(ME, headers=headers)
    assert answer.status_code == 200
    assert answer.json()["id"] == user.id and answer.json()["telegram_id"] == 1001


async def test_the_login_widget_logs_in_too(world: World) -> None:
    await world.user(1002)
    answer = await world.client.post("/api/v1/auth/telegram/widget", json=widget_fields(1002))
    assert answer.status_code == 200, answer.text
    assert answer.json()["access_token"]


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param(lambda: init_data(1003, token="999:another-bot"), id="signed for another bot"),
        pytest.param(lambda: init_data(1003).replace("Trader", "Trudy"), id="altered after signing"),
        pytest.param(lambda: init_data(1003, auth_date=int(time.time()) - 7200), id="older than the max age"),
        pytest.param(lambda: init_data(1003, auth_date=int(time.time()) + 3600), id="dated in the future"),
        pytest.param(lambda: init_data(1003) + "&auth_date=1", id="a repeated field"),
        pytest.param(lambda: "user=%7B%22id%22%3A1003%7D&auth_date=1&hash=" + "0" * 64, id="forged hash"),
        pytest.param(lambda: "id=1003", id="no hash at all"),
    ],
)
async def test_forged_altered_and_expired_init_data_is_refused(world: World, payload: object) -> None:
    await world.user(1003)
    assert callable(payload)
    answer = await world.client.post(MINI_APP, json={"init_data": payload()})
    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "unauthenticated"
    assert "Trader" not in answer.text  # the payload is never echoed


async def test_an_expired_widget_login_is_refused(world: World) -> None:
    await world.user(1004)
    old = widget_fields(1004, auth_date=int(time.time()) - 86_400)
    answer = await world.client.post("/api/v1/auth/telegram/widget", json=old)
    assert answer.status_code == 401


async def test_there_is_no_way_in_with_a_user_id_alone(world: World) -> None:
    await world.user(1005)
    for body in ({"user_id": 1}, {"telegram_id": 1005}, {"init_data": "user=%7B%22id%22%3A1005%7D"}):
        answer = await world.client.post(MINI_APP, json=body)
        assert answer.status_code in (401, 422)
    assert (await world.client.get(ME)).status_code == 401
    assert (await world.client.get(ME, headers={"Authorization": "Bearer 1"})).status_code == 401


@pytest.mark.parametrize(
    ("setup", "code"),
    [("unregistered", "not_registered"), ("pending", "pending"), ("banned", "banned"), ("rejected", "rejected")],
)
async def test_who_may_not_use_the_platform_is_told_why(world: World, setup: str, code: str) -> None:
    users = world.runtime.platform.users
    if setup != "unregistered":
        user = await world.user(1006, approve=setup != "pending")
        if setup == "banned":
            await users.ban(user.id)
        if setup == "rejected":
            await users.reject(user.id)
    answer = await world.client.post(MINI_APP, json={"init_data": init_data(1006)})
    assert answer.status_code == 403
    assert answer.json()["error"]["code"] == code
    if code == "not_registered":
        assert "/start" in answer.json()["error"]["message"]


async def test_refresh_rotates_and_a_reused_refresh_token_ends_the_session(world: World) -> None:
    await world.user(1007)
    first = await world.login(1007)
    second = (await world.client.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})).json()
    assert second["refresh_token"] != first["refresh_token"]
    access = {"Authorization": f"Bearer {second['access_token']}"}
    assert (await world.client.get(ME, headers=access)).status_code == 200

    replay = await world.client.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert replay.status_code == 401
    # Reuse of a replaced token means two holders: the whole session ends, the newer tokens too.
    assert (await world.client.get(ME, headers=access)).status_code == 401
    again = await world.client.post("/api/v1/auth/refresh", json={"refresh_token": second["refresh_token"]})
    assert again.status_code == 401


async def test_logout_revokes_the_access_token_at_once(world: World) -> None:
    await world.user(1008)
    tokens = await world.login(1008)
    access = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert (await world.client.get(ME, headers=access)).status_code == 200
    out = await world.client.post("/api/v1/auth/logout", json={"refresh_token": tokens["refresh_token"]})
    assert out.status_code == 204
    assert (await world.client.get(ME, headers=access)).status_code == 401


async def test_a_ban_locks_out_a_logged_in_user(world: World) -> None:
    admin = await world.user(1009, admin=True)
    target = await world.user(1010)
    victim = await world.headers(1010)
    admin_headers = await world.headers(1009)
    answer = await world.client.post(
        f"/api/v1/admin/users/{target.id}/ban", json={"reason": "spam"}, headers=admin_headers
    )
    assert answer.status_code == 200 and admin.is_admin
    assert (await world.client.get(ME, headers=victim)).status_code == 401


async def test_a_tampered_access_token_is_refused(world: World) -> None:
    await world.user(1011)
    token = (await world.login(1011))["access_token"]
    header, body, signature = token.split(".")
    for forged in (f"{header}.{body}.{signature[:-2]}AA", f"{header}.{body}.", f"eyJhbGciOiJub25lIn0.{body}."):
        assert (await world.client.get(ME, headers={"Authorization": f"Bearer {forged}"})).status_code == 401


async def test_login_is_rate_limited_per_ip_with_retry_after(runtime: Runtime) -> None:
    app = create_app(runtime, runtime.platform.settings, limits=RateLimitPolicy(login_per_ip=Rule(1, 3)))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            codes = [(await client.post(MINI_APP, json={"init_data": "x=1"})).status_code for _ in range(4)]
            assert codes[:3] == [401, 401, 401]
            limited = await client.post(MINI_APP, json={"init_data": "x=1"})
    assert codes[3] == 429 and limited.status_code == 429
    assert int(limited.headers["Retry-After"]) >= 1


async def test_a_demotion_through_the_api_applies_to_the_next_request(world: World) -> None:
    await world.user(1012, admin=True)
    other = await world.user(1013, admin=True)
    mine, theirs = await world.headers(1012), await world.headers(1013)
    assert (await world.client.get("/api/v1/admin/status", headers=theirs)).status_code == 200
    demoted = await world.client.post(f"/api/v1/admin/users/{other.id}/demote", headers=mine)
    assert demoted.status_code == 200 and demoted.json()["role"] == "user"
    assert (await world.client.get("/api/v1/admin/status", headers=theirs)).status_code == 403
    assert (await world.client.get("/api/v1/me", headers=theirs)).json()["role"] == "user"


async def test_the_login_options_name_the_bot_for_telegrams_login_page_and_nothing_secret(runtime: Runtime) -> None:
    settings = runtime.platform.settings.model_copy(update={"telegram_bot_username": "@elcaro_test_bot"})
    app = create_app(runtime, settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            answer = await client.get("/api/v1/auth/options")
    assert answer.status_code == 200
    assert answer.json() == {"bot_id": 123456, "bot_username": "elcaro_test_bot"}
    assert "TEST-made-up-token" not in answer.text


async def test_without_a_configured_username_the_options_still_give_the_bot_id(world: World) -> None:
    answer = await world.client.get("/api/v1/auth/options")
    assert answer.json() == {"bot_id": 123456, "bot_username": None}
