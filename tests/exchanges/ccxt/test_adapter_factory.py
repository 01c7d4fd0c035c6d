"""create_adapter: the right venue, host and options for each target, keys handed over only here, nothing hidden."""

from __future__ import annotations

import secrets
from typing import Any

import pytest
from fakes.bybit import FakeBybit

from elcaro.exchanges.binance.adapter import BinanceAdapter
from elcaro.exchanges.bybit.adapter import BybitAdapter
from elcaro.exchanges.factory import create_adapter
from elcaro.exchanges.hyperliquid.adapter import HyperliquidAdapter
from elcaro.exchanges.protocol import ExchangeAdapter
from elcaro.models import Environment, Exchange, ExchangeKeys, Secret, Target
from elcaro.models.errors import AuthenticationError, ConfigError

API = ExchangeKeys(api_key=Secret(secrets.token_hex(9)), api_secret=Secret(secrets.token_hex(18)))
WALLET = ExchangeKeys(private_key=Secret("0x" + secrets.token_hex(32)), wallet_address="0x" + secrets.token_hex(20))


def urls(adapter: ExchangeAdapter) -> list[str]:
    found: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, str):
            found.append(value)

    walk(adapter._exchange.urls["api"])  # type: ignore[attr-defined]
    return found


@pytest.mark.parametrize(
    ("target", "keys", "kind", "host"),
    [
        (Target(Exchange.BYBIT, Environment.DEMO), API, BybitAdapter, "https://api-demo.{hostname}"),
        (Target(Exchange.BYBIT, Environment.TESTNET), API, BybitAdapter, "https://api-testnet.{hostname}"),
        (Target(Exchange.BYBIT, Environment.LIVE), API, BybitAdapter, "https://api.{hostname}"),
        (Target(Exchange.BINANCE, Environment.TESTNET), API, BinanceAdapter, "https://demo-fapi.binance.com/fapi/v1"),
        (Target(Exchange.BINANCE, Environment.LIVE), API, BinanceAdapter, "https://fapi.binance.com/fapi/v1"),
        (
            Target(Exchange.HYPERLIQUID, Environment.TESTNET),
            WALLET,
            HyperliquidAdapter,
            "https://api.hyperliquid-testnet.xyz",
        ),
        (Target(Exchange.HYPERLIQUID, Environment.LIVE), WALLET, HyperliquidAdapter, "https://api.{hostname}"),
    ],
    ids=str,
)
async def test_each_target_gets_its_venue_and_host(target: Target, keys: ExchangeKeys, kind: type, host: str) -> None:
    adapter = create_adapter(target, keys)
    try:
        assert isinstance(adapter, kind) and isinstance(adapter, ExchangeAdapter)
        assert adapter.target == target
        assert host in urls(adapter)
        exchange = adapter._exchange  # type: ignore[attr-defined]
        assert exchange.verbose is False and exchange.enableRateLimit is False
        assert exchange.has["fetchCurrencies"] is False
        assert exchange.options.get("adjustForTimeDifference", False) is False
    finally:
        await adapter.close()


async def test_hyperliquid_signs_for_its_network_with_the_fast_signer() -> None:
    for environment, mainnet in ((Environment.TESTNET, False), (Environment.LIVE, True)):
        adapter = create_adapter(Target(Exchange.HYPERLIQUID, environment), WALLET)
        exchange = adapter._exchange  # type: ignore[attr-defined]
        assert exchange.elcaro_signer is not None and exchange.elcaro_signer.is_mainnet is mainnet
        assert exchange.options["sandboxMode"] is not mainnet
        assert exchange.walletAddress == WALLET.wallet_address
        assert exchange.options["approvedBuilderFee"] is False and exchange.options["refSet"] is True
        await adapter.close()


async def test_base_url_moves_every_rest_and_websocket_url() -> None:
    for target, keys in (
        (Target(Exchange.BYBIT, Environment.DEMO), API),
        (Target(Exchange.BINANCE, Environment.TESTNET), API),
        (Target(Exchange.HYPERLIQUID, Environment.TESTNET), WALLET),
    ):
        adapter = create_adapter(target, keys, base_url="http://127.0.0.1:8999")
        found = urls(adapter)
        assert found and all(url.startswith(("http://127.0.0.1:8999", "ws://127.0.0.1:8999")) for url in found), found
        await adapter.close()
    bybit = create_adapter(Target(Exchange.BYBIT, Environment.DEMO), API, base_url="http://127.0.0.1:8999")
    ws = bybit._exchange.urls["api"]["ws"]  # type: ignore[attr-defined]
    assert ws["private"]["contract"] == "ws://127.0.0.1:8999/v5/private"
    assert ws["public"]["linear"] == "ws://127.0.0.1:8999/v5/public/linear"
    await bybit.close()


def test_paper_targets_belong_to_the_paper_exchange() -> None:
    with pytest.raises(ConfigError, match="PaperExchangeAdapter"):
        create_adapter(Target(Exchange.BYBIT, Environment.PAPER), None)


def test_half_a_credential_is_refused() -> None:
    with pytest.raises(AuthenticationError, match="API key and its secret"):
        create_adapter(Target(Exchange.BYBIT, Environment.DEMO), ExchangeKeys(api_key=Secret("k")))
    with pytest.raises(AuthenticationError, match="private key"):
        create_adapter(Target(Exchange.HYPERLIQUID, Environment.TESTNET), ExchangeKeys(wallet_address="0x" + "1" * 40))


def test_a_bad_base_url_is_a_config_error() -> None:
    with pytest.raises(ConfigError):
        create_adapter(Target(Exchange.BYBIT, Environment.DEMO), API, base_url="127.0.0.1:8999")


async def test_without_keys_public_data_works_and_private_calls_are_refused_locally(bybit_fake: FakeBybit) -> None:
    adapter = create_adapter(Target(Exchange.BYBIT, Environment.DEMO), None, base_url=bybit_fake.url)
    try:
        assert (await adapter.fetch_ticker("BTC/USDT:USDT")).last > 0
        with pytest.raises(AuthenticationError):
            await adapter.fetch_balance()
        assert all(seen.path.startswith("/v5/market/") for seen in bybit_fake.seen)
    finally:
        await adapter.close()


async def test_markets_from_one_account_spare_the_next_the_load(bybit_fake: FakeBybit) -> None:
    first = create_adapter(Target(Exchange.BYBIT, Environment.DEMO), None, base_url=bybit_fake.url)
    await first.load_instruments()
    loads = len(bybit_fake.requests("/v5/market/instruments-info"))
    second = create_adapter(
        Target(Exchange.BYBIT, Environment.DEMO),
        API,
        base_url=bybit_fake.url,
        markets=first.markets,  # type: ignore[attr-defined]
    )
    assert set(await second.load_instruments()) == set(await first.load_instruments())
    assert len(bybit_fake.requests("/v5/market/instruments-info")) == loads
    for adapter in (first, second):
        await adapter.close()
