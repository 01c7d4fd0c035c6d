"""Candles for the backtester's tests: hand-made bars, seeded synthetic series and the real files."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from pathlib import Path

import numpy as np

from elcaro.marketdata import CandleArrays, read_candles

# The real data lives beside the repository (never copied into it); see shared/data/README.md.
OHLCV = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "ohlcv"
BTC_PAIRS = ("ADA", "DASH", "ETC", "ETH", "LTC", "NXT", "TRX", "XLM", "XMR", "ZEC")
FIVE_MINUTES = 300_000
START = 1_700_000_100_000 - 1_700_000_100_000 % FIVE_MINUTES


def bars(rows: Sequence[tuple[float, float, float, float]], *, start: int = START) -> CandleArrays:
    """Candles from (open, high, low, close) rows, five minutes apart, volume 1."""
    table = np.asarray(rows, dtype=np.float64).reshape(len(rows), 4)
    n = len(rows)
    return CandleArrays(
        start + FIVE_MINUTES * np.arange(n, dtype=np.int64),
        table[:, 0].copy(),
        table[:, 1].copy(),
        table[:, 2].copy(),
        table[:, 3].copy(),
        np.ones(n),
    )


def synthetic(seed: int, n: int, *, start: int = START, volatility: float = 0.004) -> CandleArrays:
    """A seeded random walk of ``n`` five-minute candles (synthetic, not market data)."""
    rng = np.random.default_rng(seed)
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, volatility, n)))
    open_ = np.concatenate(([100.0], close[:-1])) * np.exp(rng.normal(0.0, volatility / 4, n))
    wick = np.abs(rng.normal(0.0, volatility, (2, n))) * close
    high = np.maximum(open_, close) + wick[0]
    low = np.minimum(open_, close) - wick[1]
    volume = rng.lognormal(3.0, 0.5, n)
    return CandleArrays(start + FIVE_MINUTES * np.arange(n, dtype=np.int64), open_, high, low, close, volume)


@cache
def real(name: str) -> CandleArrays:
    """A real candle file as columns, read once per test session."""
    return CandleArrays.from_candles(read_candles(OHLCV / name))


def btc_pairs() -> dict[str, CandleArrays]:
    """The ten real BTC-quoted pairs (0–40 missing candles each)."""
    return {f"{base}/BTC": real(f"{base}_BTC-5m.csv") for base in BTC_PAIRS}


def head(candles: CandleArrays, n: int) -> CandleArrays:
    """The first ``n`` candles."""
    return CandleArrays(
        candles.timestamp[:n],
        candles.open[:n],
        candles.high[:n],
        candles.low[:n],
        candles.close[:n],
        candles.volume[:n],
    )
