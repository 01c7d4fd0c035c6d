"""Adapters pointed at the loopback fakes, with keys made on the spot (never anyone's)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from fakes.binance import FakeBinance
from fakes.bybit import FakeBybit
from fakes.hyperliquid import FakeHyperliquid

from elcaro.exchanges.binance.adapter import BinanceAdapter
from elcaro.exchanges.binance.exchange import create_exchange as create_binance
from elcaro.exchanges.bybit.adapter import BybitAdapter
from elcaro.exchanges.bybit.exchange import create_exchange as create_bybit
from elcaro.exchanges.hyperliquid.adapter import HyperliquidAdapter
from elcaro.exchanges.hyperliquid.exchange import create_exchange as create_hyperliquid
from elcaro.exchanges.hyperliquid.signing import L1Signer
from elcaro.models import Environment, Exchange, Target


def make_bybit(fake: FakeBybit, *, api_key: str | None = None, secret: str | None = None) -> BybitAdapter:
    exchange = create_bybit(
        Environment.DEMO,
        api_key=api_key or fake.account.api_key,
        secret=secret or fake.account.secret,
        base_url=fake.url,
    )
    return BybitAdapter(exchange, Target(Exchange.BYBIT, Environment.DEMO))


def make_binance(fake: FakeBinance, *, api_key: str | None = None, secret: str | None = None) -> BinanceAdapter:
    exchange = create_binance(
        Environment.TESTNET,
        api_key=api_key or fake.account.api_key,
        secret=secret or fake.account.secret,
        base_url=fake.url,
    )
    return BinanceAdapter(exchange, Target(Exchange.BINANCE, Environment.TESTNET))


@dataclass(frozen=True)
class HyperliquidKeys:
    agent_key: str
    agent: str
    wallet: str

    @classmethod
    def generate(cls) -> HyperliquidKeys:
        """A fresh agent (API wallet) key and a main wallet address."""
        agent_key = "0x" + secrets.token_hex(32)
        return cls(agent_key, L1Signer(agent_key, is_mainnet=False).address, "0x" + secrets.token_hex(20))


def make_hyperliquid(
    fake: FakeHyperliquid, keys: HyperliquidKeys, *, fast_signing: bool = True, private_key: str | None = None
) -> HyperliquidAdapter:
    exchange = create_hyperliquid(
        Environment.TESTNET,
        private_key=private_key or keys.agent_key,
        wallet_address=keys.wallet,
        base_url=fake.url,
        fast_signing=fast_signing,
    )
    return HyperliquidAdapter(exchange, Target(Exchange.HYPERLIQUID, Environment.TESTNET))
