"""Helpers for the web app's tests: Telegram-signed logins, registered users, authorised requests."""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
from fastapi import FastAPI

from elcaro.models import TelegramProfile, User
from elcaro.services.runtime import Runtime
from elcaro.services.telegram_login import login_widget_secret, mini_app_secret, sign
from elcaro.web.ratelimit import RateLimitPolicy, Rule

BOT_TOKEN = "123456:TEST-made-up-token-for-the-web-tests"
RELAXED = RateLimitPolicy(
    login_per_ip=Rule(6000, 1000),
    login_per_user=Rule(6000, 1000),
    orders_per_ip=Rule(6000, 1000),
    orders_per_user=Rule(6000, 1000),
    webhook_per_ip=Rule(6000, 1000),
)
"""Limits no test reaches by accident (the rate-limit tests set their own)."""


def init_data(telegram_id: int, *, token: str = BOT_TOKEN, auth_date: int | None = None, **extra: str) -> str:
    """``Telegram.WebApp.initData`` as Telegram would sign it for ``token``."""
    user = {"id": telegram_id, "first_name": f"Trader {telegram_id}", "username": f"t{telegram_id}"}
    fields = {
        "query_id": "AAHdF6IQAAAAAN0XohDhrOrc",
        "user": json.dumps(user, separators=(",", ":")),
        "auth_date": str(int(time.time()) if auth_date is None else auth_date),
        **extra,
    }
    fields["hash"] = sign(fields, mini_app_secret(token))
    return urlencode(fields)


def widget_fields(telegram_id: int, *, token: str = BOT_TOKEN, auth_date: int | None = None) -> dict[str, Any]:
    fields = {
        "id": str(telegram_id),
        "first_name": f"Trader {telegram_id}",
        "auth_date": str(int(time.time()) if auth_date is None else auth_date),
    }
    fields["hash"] = sign(fields, login_widget_secret(token))
    return {**fields, "id": telegram_id, "auth_date": int(fields["auth_date"])}


@dataclass
class World:
    app: FastAPI
    runtime: Runtime
    client: httpx.AsyncClient
    url: str = "http://testserver"
    """Where the app is served: a real uvicorn server's base URL, or the in-process transport's."""

    async def user(self, telegram_id: int, *, admin: bool = False, approve: bool = True, terms: bool = True) -> User:
        users = self.runtime.platform.users
        user = await users.register(TelegramProfile(telegram_id, username=f"t{telegram_id}"))
        if approve:
            user = await users.approve(user.id)
        if admin:
            user = await users.promote(user.id)
        if terms:
            user = await users.accept_terms(user.id)
        return user

    async def login(self, telegram_id: int) -> dict[str, Any]:
        answer = await self.client.post("/api/v1/auth/telegram/mini-app", json={"init_data": init_data(telegram_id)})
        assert answer.status_code == 200, answer.text
        tokens: dict[str, Any] = answer.json()
        return tokens

    async def headers(self, telegram_id: int) -> dict[str, str]:
        tokens = await self.login(telegram_id)
        return {"Authorization": f"Bearer {tokens['access_token']}"}


async def post_signal(world: World, admin_headers: dict[str, str], text: str, *, executions: int) -> int:
    """Post a signal as an admin; wait until its fan-out (run in the background) settled ``executions`` records."""
    posted = await world.client.post("/api/v1/admin/signals/post", json={"text": text}, headers=admin_headers)
    assert posted.status_code == 200 and posted.json()["outcome"] == "accepted", posted.text
    signal_id: int = posted.json()["signal_id"]
    path = f"/api/v1/admin/signals/{signal_id}/executions"
    async with asyncio.timeout(20):
        while True:
            found: list[dict[str, Any]] = (await world.client.get(path, headers=admin_headers)).json()
            if len(found) == executions and not {e["status"] for e in found} & {"planned", "placing"}:
                break
            await asyncio.sleep(0.02)
        # ... and the fan-out task itself has ended (it names itself after the signal), so nothing of it is
        # still writing when the test goes on or the platform stops.
        fan_out = [task for task in asyncio.all_tasks() if task.get_name().startswith(f"signal {signal_id} ")]
        await asyncio.gather(*fan_out, return_exceptions=True)
    return signal_id
