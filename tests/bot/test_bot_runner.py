"""``elcaro run`` serves the bot when a token is configured: the main job, in process, against the fake Bot API."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from bot_world import ADMIN_ID
from fake_bot_api import TOKEN, FakeBotApi

from elcaro.cli.interfaces import configured_interfaces
from elcaro.core.config import Settings, load_settings
from elcaro.models.errors import ConfigError
from elcaro.services.runner import run_platform

pytestmark = pytest.mark.db


async def test_the_main_job_serves_the_bot_when_a_token_is_set(tmp_path: Path, empty_database_url: str) -> None:
    api = await FakeBotApi().start()
    settings = Settings(
        data_dir=tmp_path / "data",
        database_url=empty_database_url,
        simulator_port=0,
        admin_telegram_ids=[ADMIN_ID],
        telegram_bot_token=TOKEN,
        telegram_api_base_url=api.url,
    )
    stop = asyncio.Event()
    job = asyncio.create_task(run_platform(settings, stop, configured_interfaces(settings)))
    try:
        admin = api.user(ADMIN_ID, "Root")
        await admin.send("/start")
        await admin.next("Welcome! You are an admin of this platform.")
        assert [command["command"] for command in api.commands["ru"]] == ["start", "menu", "help", "language", "cancel"]
        assert api.commands["ru"][0]["description"] == "Начать или узнать статус аккаунта"
    finally:
        stop.set()
        await asyncio.wait_for(job, 60)
        await api.close()
    polls = api.calls_of("getUpdates")
    assert polls and all(call.ok for call in polls)


def test_the_bot_api_url_must_not_send_the_token_in_clear_over_the_network(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(Path(__file__).parent)  # no elcaro.toml or .env of a developer's in the way
    with pytest.raises(ConfigError, match="ELCARO_TELEGRAM_API_BASE_URL"):
        load_settings(telegram_api_base_url="http://api.example.org")
    with pytest.raises(ConfigError) as refused:
        load_settings(telegram_bot_token=12345)
    assert "12345" not in str(refused.value)
    assert load_settings(telegram_api_base_url="https://api.telegram.org/").telegram_api_base_url == (
        "https://api.telegram.org"
    )
