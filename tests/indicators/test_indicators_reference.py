"""Every indicator against a plain, loop-by-loop reference on real candles from ``shared/data/ohlcv``.

The references are written the obvious way (Python floats, ``statistics``, one bar at a time) and
share no code with ``elcaro.indicators``, so an agreement to 1e-9 relative says the vectorised
versions compute the textbook definitions.
"""

from __future__ import annotations

import math
import statistics
from pathlib import Path

import numpy as np
import pytest

from elcaro.indicators import (
    atr,
    body_ratio,
    bollinger,
    bollinger_width,
    ema,
    log_returns,
    rolling_correlation,
    rolling_max,
    rolling_min,
    sma,
    true_range,
    volume_surge,
    wilder,
)
from elcaro.marketdata import CandleArrays, read_candles

OHLCV = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "ohlcv"
BARS = 3000  # enough for every warm-up many times over; the loop references stay quick


@pytest.fixture(scope="module")
def btc() -> CandleArrays:
    candles = CandleArrays.from_candles(read_candles(OHLCV / "BTC_USDT-5m.csv"))
    return CandleArrays(
        candles.timestamp[:BARS],
        candles.open[:BARS],
        candles.high[:BARS],
        candles.low[:BARS],
        candles.close[:BARS],
        candles.volume[:BARS],
    )


@pytest.fixture(scope="module")
def eth_btc() -> CandleArrays:
    return CandleArrays.from_candles(read_candles(OHLCV / "ETH_BTC-5m.csv"))


def agree(actual: np.ndarray, expected: list[float]) -> None:
    np.testing.assert_allclose(actual, np.array(expected), rtol=1e-9, atol=1e-12, equal_nan=True)


def ref_sma(values: list[float], period: int) -> list[float]:
    return [math.nan if i < period - 1 else sum(values[i - period + 1 : i + 1]) / period for i in range(len(values))]


def ref_ema(values: list[float], period: int, alpha: float, start: int = 0) -> list[float]:
    out = [math.nan] * len(values)
    out[start + period - 1] = sum(values[start : start + period]) / period
    for i in range(start + period, len(values)):
        out[i] = alpha * values[i] + (1 - alpha) * out[i - 1]
    return out


def ref_true_range(high: list[float], low: list[float], close: list[float]) -> list[float]:
    return [math.nan] + [
        max(high[i] - low[i], abs(high[i] - close[i - 1]), abs(low[i] - close[i - 1])) for i in range(1, len(high))
    ]


@pytest.mark.parametrize("period", [1, 14, 50])
def test_sma_ema_and_wilder(btc: CandleArrays, period: int) -> None:
    close = btc.close.tolist()
    agree(sma(btc.close, period), ref_sma(close, period))
    agree(ema(btc.close, period), ref_ema(close, period, 2 / (period + 1)))
    agree(wilder(btc.close, period), ref_ema(close, period, 1 / period))


@pytest.mark.parametrize("period", [5, 14])
def test_true_range_and_wilder_atr(btc: CandleArrays, period: int) -> None:
    high, low, close = btc.high.tolist(), btc.low.tolist(), btc.close.tolist()
    ranges = ref_true_range(high, low, close)
    agree(true_range(btc.high, btc.low, btc.close), ranges)
    # Wilder: ATR_t = (ATR_{t−1}·(n−1) + TR_t) / n, seeded with the mean of TR_1…TR_n
    expected = [math.nan] * len(ranges)
    expected[period] = sum(ranges[1 : period + 1]) / period
    for i in range(period + 1, len(ranges)):
        expected[i] = (expected[i - 1] * (period - 1) + ranges[i]) / period
    agree(atr(btc.high, btc.low, btc.close, period), expected)


@pytest.mark.parametrize(("period", "shift"), [(20, 0), (20, 1), (55, 1), (10, 3)])
def test_donchian_extremes(btc: CandleArrays, period: int, shift: int) -> None:
    high, low = btc.high.tolist(), btc.low.tolist()
    first = period - 1 + shift
    upper = [math.nan if i < first else max(high[i - shift - period + 1 : i - shift + 1]) for i in range(len(high))]
    lower = [math.nan if i < first else min(low[i - shift - period + 1 : i - shift + 1]) for i in range(len(low))]
    agree(rolling_max(btc.high, period, shift=shift), upper)
    agree(rolling_min(btc.low, period, shift=shift), lower)


def test_bollinger_bands_and_width(btc: CandleArrays) -> None:
    close, period, k = btc.close.tolist(), 20, 2.0
    middle, upper, lower = bollinger(btc.close, period, k)
    deviations = [
        math.nan if i < period - 1 else statistics.pstdev(close[i - period + 1 : i + 1]) for i in range(len(close))
    ]
    means = ref_sma(close, period)
    agree(middle, means)
    agree(upper, [m + k * d for m, d in zip(means, deviations, strict=True)])
    agree(lower, [m - k * d for m, d in zip(means, deviations, strict=True)])
    agree(bollinger_width(btc.close, period, k), [2 * k * d / m for m, d in zip(means, deviations, strict=True)])


def test_volume_surge(btc: CandleArrays) -> None:
    volume, period = btc.volume.tolist(), 12
    expected = [
        math.nan if i < period else volume[i] / (sum(volume[i - period : i]) / period) for i in range(len(volume))
    ]
    agree(volume_surge(btc.volume, period), expected)


def test_log_returns_and_correlation_between_two_real_markets(btc: CandleArrays, eth_btc: CandleArrays) -> None:
    # Two different markets (different years even): the correlation of their returns bar by bar is just numbers.
    a, b = eth_btc.close[: len(btc)], btc.close[: len(eth_btc)]
    returns_a, returns_b = log_returns(a), log_returns(b)
    agree(returns_a, [math.nan] + [math.log(a[i] / a[i - 1]) for i in range(1, len(a))])
    period = 48
    ra, rb = returns_a[1:].tolist(), returns_b[1:].tolist()
    expected = [math.nan] * (period - 1) + [
        statistics.correlation(ra[i - period + 1 : i + 1], rb[i - period + 1 : i + 1])
        for i in range(period - 1, len(ra))
    ]
    agree(rolling_correlation(returns_a[1:], returns_b[1:], period), expected)


def test_body_ratio() -> None:
    trx = CandleArrays.from_candles(read_candles(OHLCV / "TRX_BTC-5m.csv"))  # 71 bars with high == low
    o, h, low, c = (column.tolist() for column in (trx.open, trx.high, trx.low, trx.close))
    expected = [math.nan if h[i] == low[i] else abs(c[i] - o[i]) / (h[i] - low[i]) for i in range(len(o))]
    agree(body_ratio(trx.open, trx.high, trx.low, trx.close), expected)
    assert any(math.isnan(value) for value in expected)  # real flat bars exist here: the NaN rule is exercised
