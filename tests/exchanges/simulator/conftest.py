"""A simulator per test on a free loopback port, a real ccxt Bybit client pointed at it, and an admin client.

Keys are generated per test; rate limits are off unless a test turns them on (the rate-limit tests set their own),
and prices move only through the admin API (BTC starts at 60 000, ETH at 3 000, DOGE at 0.1).
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from elcaro.exchanges.simulator import (
    AccountConfig,
    RateLimitConfig,
    RunningSimulator,
    SimulatorConfig,
    start_simulator,
)
from simulator.helpers import Admin, bybit_client

BTC = "BTC/USDT:USDT"


@pytest.fixture
def account() -> AccountConfig:
    return AccountConfig(api_key=secrets.token_hex(9), api_secret=secrets.token_hex(18))


@pytest.fixture
def config(account: AccountConfig) -> SimulatorConfig:
    return SimulatorConfig(accounts=(account,), rate_limits=RateLimitConfig(enabled=False))


@pytest.fixture
async def simulator(config: SimulatorConfig) -> AsyncIterator[RunningSimulator]:
    running = await start_simulator(config)
    yield running
    await running.stop()


@pytest.fixture
async def admin(simulator: RunningSimulator) -> AsyncIterator[Admin]:
    async with Admin(simulator) as client:
        yield client


@pytest.fixture
async def exchange(simulator: RunningSimulator, account: AccountConfig) -> AsyncIterator[Any]:
    client = bybit_client(simulator, account.api_key, account.api_secret.get_secret_value())
    yield client
    await client.close()


@pytest.fixture
def make_client(simulator: RunningSimulator) -> Callable[..., Any]:
    """More clients (other keys, other options); closed by the test."""

    def make(api_key: str, secret: str, **options: Any) -> Any:
        return bybit_client(simulator, api_key, secret, **options)

    return make
