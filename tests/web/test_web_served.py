"""The web app through a real uvicorn server on loopback, in the platform's own event loop."""

from __future__ import annotations

import httpx
import pytest
from web_world import init_data

from elcaro.models import TelegramProfile
from elcaro.services.runtime import Runtime
from elcaro.web.app import create_app, serving

pytestmark = pytest.mark.db


async def test_served_on_loopback(runtime: Runtime) -> None:
    user = await runtime.platform.users.register(TelegramProfile(5001))
    await runtime.platform.users.approve(user.id)
    app = create_app(runtime, runtime.platform.settings)
    async with serving(app, "127.0.0.1", 0) as url, httpx.AsyncClient(base_url=url) as client:
        assert url.startswith("http://127.0.0.1:")
        assert (await client.get("/health")).json()["ok"] is True
        tokens = (await client.post("/api/v1/auth/telegram/mini-app", json={"init_data": init_data(5001)})).json()
        me = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {tokens['access_token']}"})
        assert me.status_code == 200 and me.json()["id"] == user.id
        docs = await client.get("/openapi.json")
        assert "/api/v1/trading/positions" in docs.json()["paths"]
        broken = await client.get("/api/v1/trading/positions/not-a-number", headers={"Authorization": "Bearer x"})
        assert broken.status_code in (401, 422) and "Traceback" not in broken.text
