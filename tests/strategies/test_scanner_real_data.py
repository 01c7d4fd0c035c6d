"""The scanner's values on the ten real BTC-quoted pairs of ``shared/data/ohlcv``, against plain references.

One day of each pair (288 five-minute slots to 2018-01-28 17:20 UTC; DASH, TRX and XMR each miss
one candle in it: the gaps are real, and split the pairs into several timestamp groups) is scanned
with ETH/BTC standing in for BTC: the pairs are quoted in BTC, so ETH/BTC is the market they share.
Each value is recomputed per symbol the slow, obvious way (Python loops, ``statistics``, the exact
Decimal resampler, ``check_health`` on the candle models) and must agree.
"""

from __future__ import annotations

import math
import statistics
from pathlib import Path

import pytest

from elcaro.marketdata import CandleArrays, check_health, read_candles, resample
from elcaro.models.market import Candle
from elcaro.strategies.breakout.scanner import MarketSnapshot, ScannerSettings, ScanResult, scan

OHLCV = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "ohlcv"
PAIRS = ("ADA", "DASH", "ETC", "ETH", "LTC", "NXT", "TRX", "XLM", "XMR", "ZEC")
DAY_MS = 86_400_000
END = 1_517_160_000_000  # open time of the day's last candle

SETTINGS = ScannerSettings.model_validate(
    {
        "universe_size": 10,
        "top_n": 3,
        "min_volume_24h": 0,
        "min_open_interest": 0,
        "min_oi_change_pct": -100,
        "max_spread_bps": 1000,
        "min_depth_30bps": 0,
        "min_depth_50bps": 0,
        "min_trades_per_minute": 0,
        "atr_period": 14,
        "min_atr_pct": 0.2,
        "max_atr_pct": 3,
        "bollinger_period": 20,
        "bollinger_k": 2,
        "min_bb_width_pct": 0.5,
        "max_bb_width_pct": 20,
        "surge_period_5m": 12,
        "min_volume_surge_5m": 0,
        "surge_period_1h": 12,
        "min_volume_surge_1h": 0,
        "correlation_period": 100,
        "max_btc_correlation": 0.95,
        "max_gaps": 5,
        "max_duplicates": 0,
        "component_clip": 2,
        "weights": {
            "volume": 1,
            "volatility": 1,
            "surge_1h": 1,
            "surge_5m": 1,
            "oi_change": 0,
            "activity": 0,
            "spread": 0,
            "depth": 0,
            "correlation": 1,
        },
    }
)


def last_day(candles: list[Candle]) -> list[Candle]:
    return [c for c in candles if END - DAY_MS < c.timestamp <= END]


@pytest.fixture(scope="module")
def market() -> dict[str, list[Candle]]:
    return {pair: list(read_candles(OHLCV / f"{pair}_BTC-5m.csv")) for pair in PAIRS}


@pytest.fixture(scope="module")
def result(market: dict[str, list[Candle]]) -> ScanResult:
    snapshots = [
        MarketSnapshot(
            symbol=f"{pair}/BTC",
            candles=CandleArrays.from_candles(last_day(candles)),
            volume_24h=float(sum(c.volume * c.close for c in last_day(candles))),
            open_interest=None,
            open_interest_prev=None,
            book=None,
            trades_per_minute=None,
        )
        for pair, candles in market.items()
    ]
    return scan(snapshots, SETTINGS, btc=CandleArrays.from_candles(market["ETH"]), timeframe="5m")


def ref_atr_pct(candles: list[Candle], period: int) -> float:
    high, low, close = ([float(getattr(c, name)) for c in candles] for name in ("high", "low", "close"))
    ranges = [
        max(high[i] - low[i], abs(high[i] - close[i - 1]), abs(low[i] - close[i - 1])) for i in range(1, len(high))
    ]
    value = sum(ranges[:period]) / period
    for true_range in ranges[period:]:
        value = (value * (period - 1) + true_range) / period
    return 100 * value / close[-1]


def ref_bb_width_pct(candles: list[Candle], period: int, k: float) -> float:
    closes = [float(c.close) for c in candles[-period:]]
    return 100 * 2 * k * statistics.pstdev(closes) / statistics.fmean(closes)


def ref_surge(volumes: list[float], period: int) -> float:
    return volumes[-1] / statistics.fmean(volumes[-period - 1 : -1])


def ref_correlation(candles: list[Candle], benchmark: list[Candle], period: int) -> float:
    closes = {c.timestamp: float(c.close) for c in benchmark}
    shared = [(float(c.close), closes[c.timestamp]) for c in candles if c.timestamp in closes][-(period + 1) :]
    a = [math.log(shared[i][0] / shared[i - 1][0]) for i in range(1, len(shared))]
    b = [math.log(shared[i][1] / shared[i - 1][1]) for i in range(1, len(shared))]
    return statistics.correlation(a, b)


def test_values_agree_with_the_references(market: dict[str, list[Candle]], result: ScanResult) -> None:
    groups = set()
    for pair, candles in market.items():
        day = last_day(candles)
        groups.add(tuple(c.timestamp for c in day))
        values = {d.name: d.value for d in result.decisions[f"{pair}/BTC"]}
        health = check_health(day, "5m")
        hourly = [float(c.volume) for c in resample(day, "5m", "1h").candles]
        expected = {
            "history": len(day),
            "gaps": health.missing,
            "duplicates": len(health.duplicates),
            "atr_pct": ref_atr_pct(day, 14),
            "bb_width_pct": ref_bb_width_pct(day, 20, 2.0),
            "volume_surge_5m": ref_surge([float(c.volume) for c in day], 12),
            "volume_surge_1h": ref_surge(hourly, 12),
            "btc_correlation": ref_correlation(day, market["ETH"], 100),
        }
        for name, value in expected.items():
            assert values[name] == pytest.approx(value, rel=1e-9, abs=1e-12), f"{pair} {name}"
    assert len(groups) == 4  # the gaps split the pairs: DASH, TRX, XMR alone, the seven others together
    assert [check_health(last_day(market[pair]), "5m").missing for pair in ("DASH", "TRX", "XMR")] == [1, 1, 1]


def test_decisions_follow_the_thresholds(result: ScanResult) -> None:
    rules = {
        "gaps": lambda v: v <= SETTINGS.max_gaps,
        "atr_pct": lambda v: SETTINGS.min_atr_pct <= v <= SETTINGS.max_atr_pct,
        "bb_width_pct": lambda v: SETTINGS.min_bb_width_pct <= v <= SETTINGS.max_bb_width_pct,
        "btc_correlation": lambda v: abs(v) <= SETTINGS.max_btc_correlation,
    }
    verdicts = []
    for rows in result.decisions.values():
        for decision in rows:
            if decision.name in rules:
                assert decision.value is not None
                assert decision.passed == rules[decision.name](decision.value), decision
                verdicts.append(decision.passed)
            if decision.name in ("spread", "depth_30bps", "open_interest", "trades_per_minute"):
                assert (decision.value, decision.passed) == (None, None)  # no book, OI or trades recorded
    assert True in verdicts and False in verdicts  # the thresholds cut through the real values
    eth = {d.name: d for d in result.decisions["ETH/BTC"]}["btc_correlation"]
    assert eth.value == pytest.approx(1.0) and eth.passed is False  # the benchmark against itself


def test_candidates_are_the_best_eligible_scores(result: ScanResult) -> None:
    eligible = {symbol for symbol, rows in result.decisions.items() if all(d.passed is not False for d in rows)}
    assert 0 < len(result.candidates) <= SETTINGS.top_n
    assert {c.symbol for c in result.candidates} <= eligible
    scores = [c.score for c in result.candidates]
    assert scores == sorted(scores, reverse=True)
    for candidate in result.candidates:
        weighted = sum(getattr(SETTINGS.weights, name) * z for name, z in candidate.components.items())
        assert candidate.score == pytest.approx(weighted)
        assert all(abs(z) <= SETTINGS.component_clip for z in candidate.components.values())
