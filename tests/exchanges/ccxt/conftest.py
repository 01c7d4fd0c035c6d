"""Fixtures for the ccxt adapters: each venue's loopback fake on a free port, and an adapter pointed at it.

Every URL of every adapter here is the fake's (``base_url``), so nothing leaves 127.0.0.1; keys are made per test.
"""

from __future__ import annotations

import secrets
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import ccxt.async_support as ccxt_async  # type: ignore[import-untyped]
import pytest

# The fakes live in tests/exchanges/fakes, a package shared with benchmarks; make it importable from here.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ccxt_venues import HyperliquidKeys, make_binance, make_bybit, make_hyperliquid
from fakes.binance import FakeBinance
from fakes.bybit import FakeBybit
from fakes.hyperliquid import FakeHyperliquid

from elcaro.exchanges.binance.adapter import BinanceAdapter
from elcaro.exchanges.bybit.adapter import BybitAdapter
from elcaro.exchanges.hyperliquid.adapter import HyperliquidAdapter


@pytest.fixture(autouse=True)
def _no_wait_on_close(monkeypatch: pytest.MonkeyPatch) -> None:
    """ccxt sleeps 250 ms in close() to let TLS connections shut down; loopback HTTP has none to wait for."""
    monkeypatch.setattr(ccxt_async.Exchange, "timeout_on_exit", 0)


@pytest.fixture
async def bybit_fake() -> AsyncIterator[FakeBybit]:
    fake = FakeBybit(api_key=secrets.token_hex(9), secret=secrets.token_hex(18))
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
async def bybit(bybit_fake: FakeBybit) -> AsyncIterator[BybitAdapter]:
    adapter = make_bybit(bybit_fake)
    yield adapter
    await adapter.close()


@pytest.fixture
async def binance_fake() -> AsyncIterator[FakeBinance]:
    fake = FakeBinance(api_key=secrets.token_hex(32), secret=secrets.token_hex(32))
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
async def binance(binance_fake: FakeBinance) -> AsyncIterator[BinanceAdapter]:
    adapter = make_binance(binance_fake)
    yield adapter
    await adapter.close()


@pytest.fixture
def hyperliquid_keys() -> HyperliquidKeys:
    return HyperliquidKeys.generate()


@pytest.fixture
async def hyperliquid_fake(hyperliquid_keys: HyperliquidKeys) -> AsyncIterator[FakeHyperliquid]:
    fake = FakeHyperliquid(hyperliquid_keys.wallet, hyperliquid_keys.agent)
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
async def hyperliquid(
    hyperliquid_fake: FakeHyperliquid, hyperliquid_keys: HyperliquidKeys
) -> AsyncIterator[HyperliquidAdapter]:
    adapter = make_hyperliquid(hyperliquid_fake, hyperliquid_keys)
    yield adapter
    await adapter.close()
