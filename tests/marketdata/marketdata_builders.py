"""Candles for the market-data tests: the real files of ``shared/data`` and hypothesis-made series."""

from __future__ import annotations

from decimal import Decimal
from functools import cache
from pathlib import Path

from hypothesis import strategies as st

from elcaro.marketdata import read_candles
from elcaro.models.market import Candle

# The real data lives beside the repository (never copied into it); see shared/data/README.md.
DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
OHLCV = DATA / "ohlcv"
TRADES = DATA / "trades"

FIVE_MINUTES = 300_000
BTC_PAIRS = ("ADA", "DASH", "ETC", "ETH", "LTC", "NXT", "TRX", "XLM", "XMR", "ZEC")
"""The ten ``*_BTC-5m.csv`` files sharing one window."""


@cache
def real(name: str) -> tuple[Candle, ...]:
    """A real candle file, read once per test session (candles are immutable, so sharing them is safe)."""
    return tuple(read_candles(OHLCV / name))


def candle(timestamp: int, ohlc: str, volume: str = "1") -> Candle:
    """``candle(0, "10 12 9 11")``: open, high, low and close in the order every chart shows them."""
    o, h, low, c = (Decimal(price) for price in ohlc.split())
    return Candle(timestamp, o, h, low, c, Decimal(volume))


def flat(timestamp: int, price: str = "100", volume: str = "1") -> Candle:
    return candle(timestamp, f"{price} {price} {price} {price}", volume)


_prices = st.decimals(min_value=Decimal("0.00000001"), max_value=Decimal(1_000_000), places=8)
_volumes = st.decimals(min_value=Decimal(0), max_value=Decimal(10) ** 12, places=8)


@st.composite
def candles(draw: st.DrawFn) -> Candle:
    """A valid candle at timestamp 0 (``series`` moves it): four prices sorted into low ≤ open, close ≤ high."""
    low, a, b, high = sorted(draw(st.lists(_prices, min_size=4, max_size=4)))
    o, c = (a, b) if draw(st.booleans()) else (b, a)
    return Candle(0, o, high, low, c, draw(_volumes))


@st.composite
def series(draw: st.DrawFn, step: int = FIVE_MINUTES, max_size: int = 80) -> list[Candle]:
    """Sorted candles on ``step`` boundaries, starting anywhere up to 2033, with gaps (about one slot in five)."""
    start = draw(st.integers(min_value=0, max_value=2_000_000_000_000 // step)) * step
    slots = draw(st.lists(st.tuples(st.integers(0, 4), candles()), max_size=max_size))
    return [
        Candle(start + i * step, c.open, c.high, c.low, c.close, c.volume) for i, (keep, c) in enumerate(slots) if keep
    ]
