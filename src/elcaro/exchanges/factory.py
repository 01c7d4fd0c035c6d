"""Build the adapter for a target: the one place where decrypted keys are handed to ccxt.

``create_adapter`` serves Bybit, Binance and HyperLiquid on their DEMO, TESTNET and LIVE environments. PAPER targets
are the in-process paper exchange's (``elcaro.exchanges.paper.PaperExchangeAdapter``), which is built from a
``PaperEngine`` and an account rather than from keys; asking for one here is an error that says so.

Keys are revealed only to construct the ccxt instance; ccxt's ``verbose`` request logging stays off, so they never
reach a log. Without keys an adapter serves public market data only (private calls raise ``AuthenticationError``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from elcaro.exchanges.binance import exchange as binance
from elcaro.exchanges.binance.adapter import BinanceAdapter
from elcaro.exchanges.bybit import exchange as bybit
from elcaro.exchanges.bybit.adapter import BybitAdapter
from elcaro.exchanges.hyperliquid import exchange as hyperliquid
from elcaro.exchanges.hyperliquid.adapter import HyperliquidAdapter
from elcaro.exchanges.protocol import ExchangeAdapter
from elcaro.models import Environment, Exchange, ExchangeKeys, Target
from elcaro.models.errors import AuthenticationError, ConfigError
from elcaro.models.secret import Secret


def _reveal(secret: Secret | None) -> str | None:
    return secret.reveal() if secret else None


def _api_key_pair(target: Target, keys: ExchangeKeys | None) -> tuple[str | None, str | None]:
    api_key, secret = (None, None) if keys is None else (_reveal(keys.api_key), _reveal(keys.api_secret))
    if (api_key is None) != (secret is None):
        raise AuthenticationError(f"{target} needs both an API key and its secret", exchange=str(target.exchange))
    return api_key, secret


def _wallet(target: Target, keys: ExchangeKeys | None) -> tuple[str | None, str | None]:
    private_key = None if keys is None else _reveal(keys.private_key)
    wallet = None if keys is None else keys.wallet_address
    if (private_key is None) != (wallet is None):
        raise AuthenticationError(
            f"{target} needs the API wallet's private key and the main wallet's address together",
            exchange=str(target.exchange),
        )
    return private_key, wallet


def create_adapter(
    target: Target,
    keys: ExchangeKeys | None,
    *,
    base_url: str | None = None,
    markets: Mapping[str, Any] | None = None,
) -> ExchangeAdapter:
    """The adapter for ``target`` with ``keys`` (None: market data only).

    ``base_url`` moves every REST and websocket URL to another host (the local Bybit-compatible simulator, a test
    fake); ``markets`` is another adapter's ``markets`` for the same venue, which spares this one the market load.
    """
    if target.environment is Environment.PAPER:
        raise ConfigError(
            f"{target} is the paper exchange: build elcaro.exchanges.paper.PaperExchangeAdapter from its PaperEngine"
        )
    if target.exchange is Exchange.BYBIT:
        api_key, secret = _api_key_pair(target, keys)
        exchange: Any = bybit.create_exchange(target.environment, api_key=api_key, secret=secret, base_url=base_url)
        return BybitAdapter(exchange, target, markets=markets)
    if target.exchange is Exchange.BINANCE:
        api_key, secret = _api_key_pair(target, keys)
        exchange = binance.create_exchange(target.environment, api_key=api_key, secret=secret, base_url=base_url)
        return BinanceAdapter(exchange, target, markets=markets)
    private_key, wallet = _wallet(target, keys)
    exchange = hyperliquid.create_exchange(
        target.environment, private_key=private_key, wallet_address=wallet, base_url=base_url
    )
    return HyperliquidAdapter(exchange, target, markets=markets)
