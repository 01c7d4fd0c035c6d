"""Reaching a user's account on any target through the unified client."""

from __future__ import annotations

import gc
import secrets
import socket
import string
from decimal import Decimal

import aiohttp
import pytest
from pydantic import SecretStr

from elcaro.core.secrets import Keyring, generate_key
from elcaro.exchanges.client import ExchangeClient
from elcaro.exchanges.simulator import AccountConfig, SimulatorConfig, start_simulator
from elcaro.models import (
    ExchangeKeys,
    Instrument,
    Order,
    OrderType,
    Secret,
    Side,
    Target,
    TelegramProfile,
    make_client_order_id,
)
from elcaro.models.errors import AuthenticationError, ExchangeError, NotFoundError
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


def _token(length: int) -> str:
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(length))


async def test_verify_keys_on_the_local_bybit_simulator(database: Database) -> None:
    """Real HTTP through our Bybit adapter to the simulator: good keys verify, a wrong secret is named as such."""
    api_key, api_secret = _token(18), _token(36)
    config = SimulatorConfig(accounts=(AccountConfig(api_key=api_key, api_secret=SecretStr(api_secret)),))
    simulator = await start_simulator(config)
    demo = Target.parse("bybit:demo")
    user = await UserService(database).register(TelegramProfile(3))
    credentials = CredentialService(database, Keyring([generate_key()]))
    venue = PaperVenue(database, simulator.engine, "simulator", snapshot=simulator.snapshot)
    access = ExchangeAccess(credentials, venue, base_urls={demo: simulator.url})
    try:
        await credentials.save(user.id, demo, ExchangeKeys(api_key=Secret(api_key), api_secret=Secret(api_secret)))
        assert (await access.verify(user.id, demo)).wallet == Decimal(10_000)
        assert (await credentials.list_for_user(user.id))[0].last_verified_at is not None

        await credentials.save(user.id, demo, ExchangeKeys(api_key=Secret(api_key), api_secret=Secret(_token(36))))
        with pytest.raises(AuthenticationError, match="bybit:demo refused the API key"):
            await access.verify(user.id, demo)
    finally:
        await access.close()
        venue.close()
        await simulator.stop()


def _closed_loopback_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])  # closed again on leaving: nothing listens there


def _open_http_sessions() -> set[int]:
    """The aiohttp client sessions alive and not closed (a ccxt exchange's ``session``)."""
    gc.collect()
    return {id(item) for item in gc.get_objects() if isinstance(item, aiohttp.ClientSession) and not item.closed}


async def test_an_adapter_whose_markets_cannot_load_is_closed(database: Database) -> None:
    """A venue that refuses connections: the ccxt adapter opened for it is closed, not left with its session open.

    (Left open, its session outlives the failure, held by ccxt's throttler until the event loop ends, and
    aiohttp then reports "Unclosed client session".)
    """
    testnet = Target.parse("binance:testnet")
    user = await UserService(database).register(TelegramProfile(4))
    credentials = CredentialService(database, Keyring([generate_key()]))
    await credentials.save(user.id, testnet, ExchangeKeys(api_key=Secret(_token(64)), api_secret=Secret(_token(64))))
    venue = await PaperVenue.open(database, instruments=[BTC])
    access = ExchangeAccess(credentials, venue, base_urls={testnet: f"http://127.0.0.1:{_closed_loopback_port()}"})
    before = _open_http_sessions()
    try:
        with pytest.raises(ExchangeError, match=r"127\.0\.0\.1"):
            await access.client(user.id, testnet)
        assert _open_http_sessions() - before == set()
    finally:
        await access.close()
