"""A paper venue on a hand-moved clock, a user's access to it, and the event bus the monitor publishes on; the Bybit
simulator over HTTP for the tests that go through the real adapter."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from decimal import Decimal as D
from typing import Any

import pytest
from position_builders import BTC, DEMO, T0, Events, OnSimulator, new_user
from pydantic import SecretStr

from elcaro.core.events import EventBus
from elcaro.core.secrets import Keyring, generate_key
from elcaro.exchanges.client import CachePolicy, ClientSettings, ExchangeClientPool, RetryPolicy
from elcaro.exchanges.paper import ManualClock
from elcaro.exchanges.simulator import AccountConfig, RateLimitConfig, SimulatorConfig, start_simulator
from elcaro.models import ExchangeKeys, Secret
from elcaro.models.events import TradingEvent
from elcaro.services.credentials import CredentialService
from elcaro.services.exchange_access import ExchangeAccess
from elcaro.services.paper_venue import PaperVenue
from elcaro.storage import Database


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


@pytest.fixture
async def venue(database: Database, clock: ManualClock) -> AsyncIterator[PaperVenue]:
    venue = await PaperVenue.open(database, instruments=[BTC], clock=clock)
    venue.engine.update_mark(BTC.symbol, D(50000))
    yield venue
    venue.close()


class InProcessAccess(ExchangeAccess):
    """Clients tuned to a venue in the same process: prices here move faster than the one second a
    client keeps a ticker (it keeps none), and a venue with no lag needs no time to catch up before a
    look-up after a refusal (back-off of milliseconds)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        settings = ClientSettings(
            retry=RetryPolicy(backoff_initial=0.001, backoff_max=0.01), cache=CachePolicy(ticker_ttl=0)
        )
        self.pool = ExchangeClientPool(self._open, self._keys, settings=settings)


@pytest.fixture
async def access(database: Database, venue: PaperVenue) -> AsyncIterator[ExchangeAccess]:
    access = InProcessAccess(CredentialService(database, Keyring([generate_key()])), venue, paper_deposit=D(10_000))
    yield access
    await access.close()


@pytest.fixture
def bus() -> EventBus[TradingEvent]:
    return EventBus()


@pytest.fixture
def events(bus: EventBus[TradingEvent]) -> Events:
    return Events(bus.subscribe())


@pytest.fixture
async def on_simulator(database: Database) -> AsyncIterator[OnSimulator]:
    account = AccountConfig(api_key=secrets.token_hex(9), api_secret=SecretStr(secrets.token_hex(18)))
    simulator = await start_simulator(SimulatorConfig(accounts=(account,), rate_limits=RateLimitConfig(enabled=False)))
    user = await new_user(database, 21)
    credentials = CredentialService(database, Keyring([generate_key()]))
    keys = ExchangeKeys(api_key=Secret(account.api_key), api_secret=Secret(account.api_secret.get_secret_value()))
    await credentials.save(user, DEMO, keys)
    venue = PaperVenue(database, simulator.engine, "simulator", snapshot=simulator.snapshot)
    access = ExchangeAccess(credentials, venue, base_urls={DEMO: simulator.url})
    try:
        yield OnSimulator(simulator, access, user)
    finally:
        await access.close()
        venue.close()
        await simulator.stop()
