"""The venue-neutral conformance suite, run by the Bybit adapter (ccxt underneath) against the simulator over HTTP.

The market is moved through the admin API; the account holds 100 000 USDT, a few hundred of BTC's smallest orders.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal

import pytest
from conformance import CHECKS, Check, Venue, run_all

from elcaro.exchanges.bybit.adapter import BybitAdapter
from elcaro.exchanges.bybit.exchange import create_exchange
from elcaro.exchanges.protocol import ExchangeAdapter
from elcaro.exchanges.simulator import AccountConfig, RateLimitConfig, RunningSimulator, SimulatorConfig
from elcaro.models import Environment, Exchange, Target
from simulator.conftest import BTC
from simulator.helpers import Admin


class AdminDriver:
    def __init__(self, admin: Admin) -> None:
        self._admin = admin

    async def set_price(self, symbol: str, price: Decimal) -> None:
        await self._admin.mark(symbol.split(":", maxsplit=1)[0].replace("/", ""), price)


@pytest.fixture
def config(account: AccountConfig) -> SimulatorConfig:
    funded = account.model_copy(update={"balance": Decimal(100_000)})
    return SimulatorConfig(accounts=(funded,), rate_limits=RateLimitConfig(enabled=False))


@pytest.fixture
async def venue(simulator: RunningSimulator, admin: Admin, account: AccountConfig) -> AsyncIterator[Venue]:
    exchange = create_exchange(
        Environment.DEMO,
        api_key=account.api_key,
        secret=account.api_secret.get_secret_value(),
        base_url=simulator.url,
    )
    exchange.timeout_on_exit = 0
    adapter = BybitAdapter(exchange, Target(Exchange.BYBIT, Environment.DEMO))
    yield Venue(adapter, AdminDriver(admin), BTC, Decimal(60_000))
    await adapter.close()


def test_the_bybit_adapter_implements_the_protocol(venue: Venue) -> None:
    assert isinstance(venue.adapter, ExchangeAdapter)


@pytest.mark.parametrize("check", CHECKS, ids=lambda check: check.__name__.removeprefix("check_"))
async def test_conformance(check: Check, venue: Venue) -> None:
    await check(venue)


async def test_the_checks_run_one_after_another_on_one_account(venue: Venue) -> None:
    await run_all(venue)
