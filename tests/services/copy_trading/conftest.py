"""A world per test: a migrated database, a paper venue priced at BTC 60 000 and ETH 3 000, exchange access."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal

import pytest
from copy_world import BTC, ETH, ScriptedVenue, World

from elcaro.core.secrets import Keyring, generate_key
from elcaro.exchanges.paper import PaperEngine
from elcaro.services.credentials import CredentialService
from elcaro.services.exchange_access import ExchangeAccess
from elcaro.storage import Database


@pytest.fixture
async def world(database: Database) -> AsyncIterator[World]:
    venue = ScriptedVenue(database, PaperEngine([BTC, ETH]), "default")
    venue.engine.update_mark(BTC.symbol, Decimal(60000))
    venue.engine.update_mark(ETH.symbol, Decimal(3000))
    credentials = CredentialService(database, Keyring([generate_key()]))
    access = ExchangeAccess(credentials, venue)
    yield World(database, venue, credentials, access)
    await access.close()
    venue.close()
