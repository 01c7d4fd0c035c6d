"""A paper venue on a hand-moved clock, a user's access to it, and the event bus the monitor publishes on."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal as D
from typing import Any

import pytest
from position_builders import BTC, T0, Events

from elcaro.core.events import EventBus
from elcaro.core.secrets import Keyring, generate_key
from elcaro.exchanges.client import CachePolicy, ClientSettings, ExchangeClientPool, RetryPolicy
from elcaro.exchanges.paper import ManualClock
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
