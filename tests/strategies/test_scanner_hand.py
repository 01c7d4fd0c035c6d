"""Scanner on a small universe whose every filter value is computed by hand in the comments.

Candles are 5m, 60 per symbol from an hour boundary (five whole hours). The base shape, ``wave``:
closes alternate 100 (even bars) and 102 (odd bars), high = close + 1, low = close − 1, volume 10
except the last bar's 30. Its true range is 3 on every bar (from 100 to a 101…103 bar, or from
102 to a 99…101 bar), so ATR(20) = 3 and ATR % = 3 / 102 = 2.941 %. Twenty closes alternating
100/102 have mean 101 and population deviation 1: Bollinger(20, 2) width = 4 / 101 = 3.960 %. The
last bar's volume over the 12 before it is 30 / 10 = 3; the last hour's (11 × 10 + 30 = 140) over
the two hours before it (120 each) is 7/6.
"""

from __future__ import annotations

import math
from decimal import Decimal

import numpy as np
import pytest

from elcaro.marketdata import CandleArrays
from elcaro.models.errors import ValidationError
from elcaro.models.market import BookLevel, OrderBook
from elcaro.strategies.breakout.scanner import (
    FILTERS,
    MarketSnapshot,
    ScannerSettings,
    ScanResult,
    required_bars,
    scan,
)

T0 = 1_699_999_200_000  # an hour boundary
STEP = 300_000
BARS = 60


def candles(
    close: list[float], *, timestamps: list[int] | None = None, volume: list[float] | None = None
) -> CandleArrays:
    c = np.array(close)
    stamps = np.array(timestamps if timestamps is not None else [T0 + i * STEP for i in range(len(close))])
    v = np.array(volume) if volume is not None else np.array([10.0] * (len(close) - 1) + [30.0])
    return CandleArrays(stamps.astype(np.int64), c.copy(), c + 1, c - 1, c, v)


def wave(bars: int = BARS) -> list[float]:
    return [100.0 if i % 2 == 0 else 102.0 for i in range(bars)]


def book(bids: list[tuple[str, str]], asks: list[tuple[str, str]]) -> OrderBook:
    def levels(rows: list[tuple[str, str]]) -> tuple[BookLevel, ...]:
        return tuple(BookLevel(Decimal(price), Decimal(qty)) for price, qty in rows)

    return OrderBook("X", levels(bids), levels(asks), T0)


# mid 100.00, spread 0.02 / 100 = 2 bps.
# within 0.3 % (99.7 … 100.3): bids 99.99×100 + 99.80×200 = 29,959; asks 100.01×50 + 100.20×100 = 15,020.5
# within 0.5 % (99.5 … 100.5): bids + 99.50×300 = 59,809;         asks + 100.45×500 = 65,245.5
DEEP = book(
    [("99.99", "100"), ("99.80", "200"), ("99.50", "300")],
    [("100.01", "50"), ("100.20", "100"), ("100.45", "500")],
)
WIDE = book([("99.95", "1000")], [("100.05", "1000")])  # spread 0.10 / 100 = 10 bps

# BTC: flat at 200, then 200, 204, 208.08, 204, 200: returns b, b, −b, −b with b = ln 1.02. The wave's
# last four returns are −a, a, −a, a (a = ln 1.02): products −ab + ab + ab − ab = 0, correlation 0.
BTC = candles([200.0] * 55 + [200.0, 204.0, 208.08, 204.0, 200.0])


def settings(**changes: object) -> ScannerSettings:
    values: dict[str, object] = {
        "universe_size": 8,
        "top_n": 2,
        "min_volume_24h": 1_000_000,
        "min_open_interest": 1_000_000,
        "min_oi_change_pct": 0,
        "max_spread_bps": 5,
        "min_depth_30bps": 10_000,
        "min_depth_50bps": 50_000,
        "min_trades_per_minute": 5,
        "atr_period": 20,
        "min_atr_pct": 0.5,
        "max_atr_pct": 5,
        "bollinger_period": 20,
        "bollinger_k": 2,
        "min_bb_width_pct": 1,
        "max_bb_width_pct": 10,
        "surge_period_5m": 12,
        "min_volume_surge_5m": 1.5,
        "surge_period_1h": 2,
        "min_volume_surge_1h": 1.1,
        "correlation_period": 4,
        "max_btc_correlation": 0.9,
        "max_gaps": 0,
        "max_duplicates": 0,
        "component_clip": 1.0,
        "weights": {
            "volume": 1,
            "volatility": 0,
            "surge_1h": 0,
            "surge_5m": 0,
            "oi_change": 0,
            "activity": 0,
            "spread": 0,
            "depth": 0,
            "correlation": 0,
        },
    }
    return ScannerSettings.model_validate(values | changes)


def snapshot(
    symbol: str,
    volume_24h: float,
    series: CandleArrays | None = None,
    *,
    book: OrderBook | None = DEEP,
    open_interest: float | None = 2_200_000,
    open_interest_prev: float | None = 2_000_000,
    trades_per_minute: float | None = 40,
    active: bool = True,
) -> MarketSnapshot:
    return MarketSnapshot(
        symbol=f"{symbol}/USDT:USDT",
        candles=series if series is not None else candles(wave()),
        volume_24h=volume_24h,
        open_interest=open_interest,
        open_interest_prev=open_interest_prev,
        book=book,
        trades_per_minute=trades_per_minute,
        active=active,
    )


def with_gap() -> CandleArrays:
    stamps = [T0 + i * STEP for i in range(BARS) if i != 30]  # the 5m bar at index 30 is missing
    return candles(wave(BARS - 1), timestamps=stamps)


def with_duplicate() -> CandleArrays:
    stamps = [T0 + i * STEP for i in range(BARS)]
    stamps[41] = stamps[40]
    return candles(wave(), timestamps=stamps)


def in_phase_with_btc() -> CandleArrays:
    # The last five closes move like BTC's (returns b, b, −b, −b): correlation 1.
    return candles([50.0 if i % 2 == 0 else 51.0 for i in range(55)] + [50.0, 51.0, 52.02, 51.0, 50.0])


UNIVERSE = [
    snapshot("DDD", 900_000_000, active=False),  # the largest, but not trading
    snapshot("AAA", 100_000_000),
    snapshot("CCC", 50_000_000, book=WIDE),
    snapshot("HHH", 40_000_000, in_phase_with_btc()),
    snapshot("GGG", 30_000_000, with_gap()),
    snapshot("FFF", 20_000_000, candles(wave(30))),  # too short
    snapshot("JJJ", 15_000_000, with_duplicate()),
    snapshot("BBB", 10_000_000, book=None, open_interest=None, open_interest_prev=None, trades_per_minute=None),
    snapshot("III", 1_000_000),  # exactly the minimum volume: passes
    snapshot("EEE", 500_000),  # 9th active by volume: outside a universe of 8
]


@pytest.fixture(scope="module")
def result() -> ScanResult:
    return scan(UNIVERSE, settings(), btc=BTC, timeframe="5m")


def decisions(result: ScanResult, symbol: str) -> dict[str, tuple[float | None, bool | None]]:
    return {d.name: (d.value, d.passed) for d in result.decisions[f"{symbol}/USDT:USDT"]}


def test_required_bars_is_the_longest_need() -> None:
    # ATR 21, Bollinger 20, correlation 5, 5m surge 13, 1h surge (2 + 1) × 12 + 2 × 11 = 58
    assert required_bars(settings(), "5m") == 58
    assert required_bars(settings(), "1h") == 21  # a 1h surge on 1h candles needs 3; no 5m surge at all


def test_every_filter_of_a_passing_symbol_has_the_hand_computed_value(result: ScanResult) -> None:
    values = decisions(result, "AAA")
    assert list(values) == list(FILTERS)
    expected = {
        "universe": 1.0,  # DDD is larger but inactive
        "history": 60.0,
        "gaps": 0.0,
        "duplicates": 0.0,
        "order": 0.0,
        "volume_24h": 100_000_000.0,
        "open_interest": 2_200_000.0,
        "oi_change": 10.0,
        "spread": 2.0,
        "depth_30bps": 15_020.5,
        "depth_50bps": 59_809.0,
        "trades_per_minute": 40.0,
        "atr_pct": 300 / 102,
        "bb_width_pct": 400 / 101,
        "volume_surge_1h": 7 / 6,
        "volume_surge_5m": 3.0,
        "btc_correlation": 0.0,
    }
    for name, value in expected.items():
        measured, passed = values[name]
        assert measured == pytest.approx(value, rel=1e-12, abs=1e-12), name
        assert passed is True, name


def test_missing_inputs_are_skipped_not_passed(result: ScanResult) -> None:
    values = decisions(result, "BBB")
    skipped = {name for name, (_, passed) in values.items() if passed is None}
    assert skipped == {"open_interest", "oi_change", "spread", "depth_30bps", "depth_50bps", "trades_per_minute"}
    assert all(values[name][0] is None for name in skipped)
    assert all(passed for name, (_, passed) in values.items() if name not in skipped)


def test_each_failing_symbol_fails_for_its_own_reason(result: ScanResult) -> None:
    failed = {
        symbol.split("/")[0]: {d.name for d in rows if d.passed is False} for symbol, rows in result.decisions.items()
    }
    assert failed["AAA"] == failed["BBB"] == failed["III"] == set()
    assert failed["CCC"] == {"spread"}
    assert decisions(result, "CCC")["spread"][0] == pytest.approx(10.0)
    assert decisions(result, "CCC")["depth_30bps"] == (99_950.0, True)  # 99.95 × 1000, 0.05 % from mid: inside
    assert "btc_correlation" in failed["HHH"]
    assert decisions(result, "HHH")["btc_correlation"][0] == pytest.approx(1.0)
    assert failed["GGG"] == {"gaps"}
    assert decisions(result, "GGG")["gaps"] == (1.0, False)
    # 30 bars: short of the 58 needed; the 1h surge has no value from 2 whole hours, and fails with it; BTC is
    # flat over its last bars, so there is no correlation either (undefined, not 0).
    assert failed["FFF"] == {"history", "volume_surge_1h", "btc_correlation"}
    assert decisions(result, "FFF")["history"] == (30.0, False)
    assert decisions(result, "FFF")["volume_surge_1h"] == (None, False)
    # Bar 41 repeats bar 40's timestamp: one duplicate, one slot missing, and no hourly buckets from it.
    assert failed["JJJ"] == {"gaps", "duplicates", "volume_surge_1h"}
    assert decisions(result, "JJJ")["duplicates"] == (1.0, False)
    assert decisions(result, "JJJ")["gaps"] == (1.0, False)


def test_the_universe_keeps_active_linear_perpetuals_ranked_by_volume(result: ScanResult) -> None:
    assert list(result.decisions) == [s.symbol for s in UNIVERSE]  # every symbol, in the order given
    assert result.decisions["DDD/USDT:USDT"] == (result.decisions["DDD/USDT:USDT"][0],)
    assert decisions(result, "DDD") == {"universe": (None, False)}
    assert decisions(result, "EEE") == {"universe": (9.0, False)}  # 9th by volume, universe of 8
    assert decisions(result, "III")["universe"] == (8.0, True)


def test_candidates_are_ranked_by_clipped_z_scores_and_cut_at_top_n(result: ScanResult) -> None:
    # Eligible: AAA, BBB, III with log10 volumes 8, 7, 6: mean 7, deviation √(2/3) = 0.816, z = ±1.22 and 0,
    # clipped to ±1. Only the volume component is weighted, so the scores are 1, 0, −1; top 2 are kept.
    assert [(c.symbol, c.score) for c in result.candidates] == [("AAA/USDT:USDT", 1.0), ("BBB/USDT:USDT", 0.0)]
    first = result.candidates[0]
    assert first.components["volume"] == 1.0
    assert first.decisions == result.decisions["AAA/USDT:USDT"]


def test_weighted_components_add_up() -> None:
    # AAA, BBB, III: trades per minute 9, 99, 999 → log10(1 + x) = 1, 2, 3 → z = −1.22, 0, 1.22, clipped to ±1.2.
    # Volume z: 1.22, 0, −1.22 → clipped ±1.2. Score = 1 × volume + 2 × activity: AAA −1.2, BBB 0, III 1.2.
    weights = dict.fromkeys(settings().weights.model_dump(), 0.0) | {"volume": 1.0, "activity": 2.0}
    universe = [
        snapshot("AAA", 100_000_000, trades_per_minute=9),
        snapshot("BBB", 10_000_000, trades_per_minute=99),
        snapshot("III", 1_000_000, trades_per_minute=999),
    ]
    result = scan(universe, settings(weights=weights, component_clip=1.2, top_n=3, min_trades_per_minute=0), btc=BTC)
    z = math.sqrt(1.5)
    assert [c.symbol[:3] for c in result.candidates] == ["III", "BBB", "AAA"]
    assert [c.score for c in result.candidates] == pytest.approx([1.2, 0.0, -1.2])
    assert result.candidates[0].components["activity"] == pytest.approx(min(z, 1.2))
    assert result.candidates[0].components["volume"] == pytest.approx(-1.2)


def test_the_time_frame_is_inferred_from_the_candles(result: ScanResult) -> None:
    assert scan(UNIVERSE, settings(), btc=BTC) == result


def test_without_btc_the_correlation_is_skipped() -> None:
    result = scan(UNIVERSE, settings(), btc=None)
    assert decisions(result, "AAA")["btc_correlation"] == (None, None)
    assert decisions(result, "HHH")["btc_correlation"] == (None, None)


def test_stale_btc_candles_are_not_correlated() -> None:
    stale = CandleArrays(
        BTC.timestamp[:-1], BTC.open[:-1], BTC.high[:-1], BTC.low[:-1], BTC.close[:-1], BTC.volume[:-1]
    )
    assert decisions(scan(UNIVERSE[:2], settings(), btc=stale), "AAA")["btc_correlation"] == (None, None)


def test_one_sided_book_fails_the_book_filters() -> None:
    one_sided = book([("99.99", "100")], [])
    values = decisions(scan([snapshot("AAA", 1e8, book=one_sided)], settings(), btc=BTC), "AAA")
    assert values["spread"] == (math.inf, False)
    assert values["depth_30bps"] == (0.0, False)


def test_hourly_candles_skip_the_5m_surge() -> None:
    hourly = candles(wave(30), timestamps=[T0 + i * 3_600_000 for i in range(30)])
    values = decisions(scan([snapshot("AAA", 1e8, hourly)], settings(), btc=None, timeframe="1h"), "AAA")
    assert values["volume_surge_5m"] == (None, None)
    assert values["volume_surge_1h"] == (3.0, True)  # on 1h bars: the last bar's 30 over the 10 of the 2 before


def test_inputs_are_checked() -> None:
    with pytest.raises(ValidationError, match="AAA/USDT:USDT"):
        scan([snapshot("AAA", 1e8), snapshot("AAA", 1e7)], settings(), btc=None)
    backwards = candles([1.0, 2.0], timestamps=[T0 + STEP, T0])
    with pytest.raises(ValidationError) as caught:
        scan([snapshot("AAA", 1e8)], settings(), btc=backwards)
    assert caught.value.field == "btc"
    assert scan([], settings(), btc=None) == ScanResult((), {})


def test_a_symbol_without_candles_fails_history_and_the_candle_filters() -> None:
    no_prices = np.array([], dtype=np.float64)
    empty = CandleArrays(np.array([], dtype=np.int64), no_prices, no_prices, no_prices, no_prices, no_prices)
    result = scan([snapshot("AAA", 1e8, empty), snapshot("BBB", 1e7)], settings(), btc=BTC, timeframe="5m")
    values = decisions(result, "AAA")
    assert values["history"] == (0.0, False)
    assert values["atr_pct"] == values["volume_surge_1h"] == (None, False)
    assert [c.symbol for c in result.candidates] == ["BBB/USDT:USDT"]


def test_a_universe_of_inactive_symbols_gives_no_candidates() -> None:
    result = scan([snapshot("AAA", 1e8, active=False)], settings(), btc=BTC)
    assert result.candidates == ()
    assert decisions(result, "AAA") == {"universe": (None, False)}
