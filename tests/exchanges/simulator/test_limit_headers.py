"""Bybit's remaining-limit headers reach the unified client's buckets through the adapter."""

from __future__ import annotations

import pytest

from elcaro.exchanges.client import LimitStatus, Scope
from elcaro.exchanges.factory import create_adapter
from elcaro.exchanges.simulator import AccountConfig, RunningSimulator, SimulatorConfig
from elcaro.models import ExchangeKeys, Secret, Target

DEMO = Target.parse("bybit:demo")


@pytest.fixture
def config(account: AccountConfig) -> SimulatorConfig:
    return SimulatorConfig(accounts=(account,))  # the simulator's own rate limits on: it sends the headers


async def test_the_adapter_reports_what_bybit_says_is_left(simulator: RunningSimulator, account: AccountConfig) -> None:
    keys = ExchangeKeys(Secret(account.api_key), Secret(account.api_secret.get_secret_value()))
    adapter = create_adapter(DEMO, keys, base_url=simulator.url)
    heard: list[LimitStatus] = []
    adapter.set_limit_listener(heard.append)  # type: ignore[attr-defined]
    try:
        await adapter.fetch_balance()
        await adapter.fetch_balance()
    finally:
        await adapter.close()
    assert len(heard) >= 2 and all(status.scope is Scope.ACCOUNT for status in heard)
    assert heard[-1].remaining < heard[0].remaining  # the second request used one more of the window
    assert all(status.reset_after is not None and status.reset_after >= 0 for status in heard)
