"""Reaching a user's account on any target through the unified client."""

from __future__ import annotations

from decimal import Decimal

import pytest

from elcaro.core.secrets import Keyring, generate_key
from elcaro.exchanges.client import ExchangeClient
from elcaro.models import Instrument, Order, OrderType, Side, Target, TelegramProfile, make_client_order_id
from elcaro.models.errors import NotFoundError
from elcaro.services.credentials import CredentialService
from elcaro.services.exchange_access import ExchangeAccess
from elcaro.services.paper_venue import PaperVenue
from elcaro.services.users import UserService
from elcaro.storage import Database

pytestmark = pytest.mark.db

BTC = Instrument(
    "BTC/USDT:USDT",
    "BTC",
    "USDT",
    "USDT",
    Decimal("0.1"),
    Decimal("0.001"),
    Decimal("0.001"),
    min_notional=Decimal(5),
    max_leverage=Decimal(100),
)


async def test_paper_accounts_open_funded_on_first_use(database: Database) -> None:
    user = await UserService(database).register(TelegramProfile(1))
    venue = await PaperVenue.open(database, instruments=[BTC])
    venue.engine.update_mark(BTC.symbol, Decimal("60000"))
    access = ExchangeAccess(CredentialService(database, Keyring([generate_key()])), venue, paper_deposit=Decimal(500))
    try:
        client = await access.client(user.id, Target.parse("bybit:paper"))
        assert isinstance(client, ExchangeClient)
        assert (await client.fetch_balance()).wallet == Decimal(500)
        order = Order(make_client_order_id("x", user.id), BTC.symbol, Side.BUY, OrderType.MARKET, Decimal("0.001"))
        assert (await client.place_order(order)).filled_qty == Decimal("0.001")
        assert await access.client(user.id, Target.parse("bybit:paper")) is client
    finally:
        await access.close()


async def test_a_real_target_without_keys_says_so(database: Database) -> None:
    user = await UserService(database).register(TelegramProfile(2))
    venue = await PaperVenue.open(database, instruments=[BTC])
    access = ExchangeAccess(CredentialService(database, Keyring([generate_key()])), venue)
    try:
        with pytest.raises(NotFoundError, match="no API keys for bybit:demo: add them"):
            await access.client(user.id, Target.parse("bybit:demo"))
    finally:
        await access.close()
