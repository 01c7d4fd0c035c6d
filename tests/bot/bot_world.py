"""The whole platform with the bot, for tests: the running platform (``open_runtime``: database, local
exchange, monitor, copy trading, ingest, notifications) and the real PTB application long-polling the fake
Bot API server on loopback.

The local exchange quotes fixed prices (BTC 60 000, ETH 3 000: no price feed), and has one Bybit-compatible
API account whose generated keys a test user can add for ``bybit:demo``: the bot's exchange access (and its
trading desk) send ``bybit:demo`` requests to the local simulator, so testing those keys is real HTTP to a real
Bybit API; every other real venue points at a closed loopback port. The desk's loop adopting manual fills is not
running here: a test calls ``adopt_filled`` when it wants a pass.
"""

from __future__ import annotations

import secrets
import string
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from fake_bot_api import TOKEN, FakeBotApi, FakeUser, Output

from elcaro.bot.app import BotConfig, TelegramBot, running_bot
from elcaro.bot.delivery import Limits
from elcaro.core.config import Settings
from elcaro.models import SUPPORTED_ENVIRONMENTS, Environment, Exchange, Target, User
from elcaro.services.desk import TradingDesk
from elcaro.services.exchange_access import ExchangeAccess
from elcaro.services.runtime import Runtime, open_runtime

ADMIN_ID = 700_001
DEMO = Target.parse("bybit:demo")
PAPER = Target.parse("bybit:paper")
CHANNEL = -1001234567890
NOWHERE = "http://127.0.0.1:1"
"""A loopback port nothing listens on: a venue there is unreachable, and no test ever leaves the machine."""
REAL_TARGETS = [
    Target(exchange, environment)
    for exchange in Exchange
    for environment in SUPPORTED_ENVIRONMENTS[exchange]
    if environment is not Environment.PAPER
]
FAST = Limits(global_per_second=1000, private_interval=0.001, group_per_minute=1000)
"""Delivery limits that do not slow a test down (the limits themselves are tested on a virtual clock)."""


def token(length: int) -> str:
    return "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(length))


@dataclass
class BotWorld:
    api: FakeBotApi
    runtime: Runtime
    bot: TelegramBot
    exchange_key: str
    exchange_secret: str

    async def user(self, telegram_id: int) -> User:
        found = await self.runtime.platform.users.find_by_telegram_id(telegram_id)
        assert found is not None
        return found

    async def admin(self) -> FakeUser:
        """The configured admin, registered, terms accepted, at the main menu."""
        admin = self.api.user(ADMIN_ID, "Root", username="root")
        await admin.send("/start")
        terms = await admin.next("Terms of use")
        await admin.press(terms, "I accept")
        await admin.next("Choose what to do")
        return admin

    async def trader(self, telegram_id: int, name: str, *, language: str = "en") -> FakeUser:
        """A registered, approved user who accepted the terms, at the main menu (approved through the service)."""
        person = self.api.user(telegram_id, name, language_code=language)
        await person.send("/start")
        terms = await person.next(
            lambda output: "Terms of use" in output.plain or "Условия использования" in output.plain
        )
        user = await self.user(telegram_id)
        await self.runtime.platform.users.approve(user.id)
        await person.press(terms, data=terms.message.buttons[0]["callback_data"])
        await person.next(_menu)
        return person


def _menu(output: Output) -> bool:
    return "Choose what to do" in output.plain or "Выберите действие" in output.plain


@asynccontextmanager
async def bot_world(
    tmp_path: Path,
    database_url: str,
    *,
    limits: Limits = FAST,
    clock: Callable[[], float] | None = None,
    sleep: Callable[[float], Awaitable[None]] | None = None,
    **settings: Any,
) -> AsyncIterator[BotWorld]:
    """The platform and the bot; ``clock`` and ``sleep`` drive the delivery queue (a virtual clock in tests);
    ``settings`` are more platform settings."""
    key, secret = token(18), token(36)
    simulator = tmp_path / "simulator.toml"
    simulator.write_text(
        f'[[accounts]]\napi_key = "{key}"\napi_secret = "{secret}"\nbalance = 5000\n\n[prices]\nkind = "none"\n'
    )
    platform_settings = Settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        simulator_port=0,
        simulator_config_file=simulator,
        admin_telegram_ids=[ADMIN_ID],
        **settings,
    )
    api = await FakeBotApi().start()
    try:
        async with open_runtime(platform_settings) as runtime:
            # Every real venue is on loopback: Bybit demo is the local simulator, the others a closed port.
            urls = {target: NOWHERE for target in REAL_TARGETS} | {DEMO: runtime.exchange.simulator.url}
            access = ExchangeAccess(runtime.platform.credentials, runtime.exchange.paper, base_urls=urls)
            platform = runtime.platform
            desk = TradingDesk(platform.database, platform.preferences, platform.credentials, access, runtime.positions)
            wired = replace(runtime, access=access, desk=desk)
            try:
                config = BotConfig(
                    TOKEN,
                    api_base_url=api.url,
                    poll_timeout=2,
                    limits=limits,
                    delivery_clock=clock,
                    delivery_sleep=sleep,
                )
                async with running_bot(wired, config) as bot:
                    yield BotWorld(api, wired, bot, key, secret)
            finally:
                await access.close()
    finally:
        await api.close()
