"""Momentum and retest signals on constructed bars: each rule, each check, the prices, and the de-duplication."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any

import numpy as np
import pytest
from breakout_fixtures import FIVE_MINUTES, T0, bars

from elcaro.indicators import atr, volume_surge
from elcaro.marketdata import CandleArrays
from elcaro.models.enums import Side
from elcaro.models.errors import ValidationError
from elcaro.models.market import BookLevel, OrderBook
from elcaro.strategies.breakout.levels import Level
from elcaro.strategies.breakout.signals import BreakoutSignal, SignalDeduper, SignalSettings, assess, detect

RESISTANCE = Level(105.0, "resistance", 3, T0, T0 + 20 * FIVE_MINUTES, 100.0, 0, 0.8)
SUPPORT = Level(100.0, "support", 3, T0, T0 + 20 * FIVE_MINUTES, 100.0, 0, 0.7)


def settings(**changes: Any) -> SignalSettings:
    values: dict[str, Any] = {
        "momentum": True,
        "retest": True,
        "atr_period": 2,
        "min_level_strength": 0.3,
        "breakout_buffer_mode": "atr",
        "breakout_buffer": 0.1,
        "max_extension_atr": 2.0,
        "volume_period": 5,
        "min_volume_surge": 1.5,
        "min_body_ratio": 0.5,
        "book_band_pct": 0.5,
        "min_book_imbalance": 0.1,
        "retest_tolerance_atr": 0.3,
        "retest_max_pierce_atr": 0.3,
        "retest_min_bars": 2,
        "retest_max_bars": 10,
        "retest_min_volume_ratio": 0.5,
        "stop_mode": "structure",
        "stop_atr": 1.5,
        "stop_buffer_atr": 0.3,
        "min_stop_atr": 0.5,
        "max_stop_atr": 3.0,
        "tp1_r": 1.0,
        "tp2_r": 2.0,
        "min_confidence": 0.3,
        "expiry_bars": 2,
        "dedupe_tolerance_pct": 0.2,
    }
    return SignalSettings.model_validate(values | changes)


def zigzag(n: int, lows: tuple[float, ...]) -> list[tuple[float, float, float, float, float]]:
    """``n`` bars 2 tall cycling through ``lows``, opening and closing mid-range, volume 10 (ATR settles at 2)."""
    return [(low + 1, low + 2, low, low + 1, 10.0) for low in (lows[i % len(lows)] for i in range(n))]


UP_CYCLE = (100.0, 101.0, 102.0, 103.0, 102.0, 101.0)  # bar 27 is at the top: low 103, close 104
DOWN_CYCLE = (103.0, 102.0, 101.0, 100.0, 101.0, 102.0)  # bar 27 is at the bottom: low 100, close 101
BREAKOUT = (104.0, 107.5, 103.8, 107.2, 40.0)  # bar 28: closes 2.2 above 105 on 4× volume, body 3.2 of 3.7


def breakout(*rows: tuple[float, ...]) -> CandleArrays:
    return bars([*zigzag(28, UP_CYCLE), BREAKOUT, *rows])  # type: ignore[list-item]


def atr_at(candles: CandleArrays, index: int, period: int = 2) -> float:
    return float(atr(candles.high, candles.low, candles.close, period)[index])


def test_a_momentum_breakout_and_its_prices() -> None:
    candles = breakout()
    signal = detect("BTC/USDT:USDT", candles, [RESISTANCE], settings(), index=28)
    assert signal is not None
    a = atr_at(candles, 28)
    assert a == pytest.approx((2.0 + 3.7) / 2)  # Wilder(2): previous ATR 2, this bar's true range 3.7
    stop = 105.0 - 0.3 * a  # structure: beyond the level by the buffer
    risk = 107.2 - stop
    assert (signal.side, signal.kind, signal.level) == (Side.BUY, "momentum", RESISTANCE)
    assert (signal.entry, signal.atr) == (107.2, a)
    assert signal.stop == pytest.approx(stop)
    assert (signal.tp1, signal.tp2) == (pytest.approx(107.2 + risk), pytest.approx(107.2 + 2 * risk))
    assert signal.risk_per_unit == pytest.approx(risk)
    assert signal.bar_ts == T0 + 28 * FIVE_MINUTES
    assert signal.expires_at == signal.bar_ts + 3 * FIVE_MINUTES  # closes, then two more bars to enter
    # strength, volume 4 ÷ (1 + 4), body 3.2 ÷ 3.7, closeness 1 − 2.2 ÷ (2 × ATR)
    assert signal.confidence == pytest.approx(np.mean([0.8, 4 / 5, 3.2 / 3.7, 1 - 2.2 / (2 * a)]))
    checks = {check.name: check for check in signal.checks}
    assert list(checks) == ["volume_surge", "body_ratio", "book_imbalance", "stop_distance", "confidence"]
    assert checks["volume_surge"].value == pytest.approx(4.0)
    assert checks["book_imbalance"].passed is None  # no book: skipped, and said so
    assert all(check.passed for name, check in checks.items() if name != "book_imbalance")


def test_a_breakdown_mirrors_it() -> None:
    candles = bars([*zigzag(28, DOWN_CYCLE), (101.0, 101.2, 97.5, 97.8, 40.0)])
    signal = detect("X", candles, [SUPPORT], settings(), index=28)
    assert signal is not None
    a = atr_at(candles, 28)
    assert (signal.side, signal.kind) == (Side.SELL, "momentum")
    assert signal.stop == pytest.approx(100.0 + 0.3 * a)
    risk = signal.stop - 97.8
    assert (signal.tp1, signal.tp2) == (pytest.approx(97.8 - risk), pytest.approx(97.8 - 2 * risk))
    assert signal.accepts_entry(97.0) and not signal.accepts_entry(signal.stop + 0.01)


def test_only_the_bar_that_breaks_is_a_momentum_signal() -> None:
    candles = breakout((107.2, 108.0, 106.9, 107.8, 40.0))
    assert detect("X", candles, [RESISTANCE], settings(retest=False), index=29) is None
    assert detect("X", candles, [RESISTANCE], settings(), index=28) is not None


def test_the_close_must_clear_the_buffer() -> None:
    candles = breakout()
    a = atr_at(candles, 28)
    assert 0.7 * a < 2.2 < 0.8 * a  # the close is 2.2 above the level
    assert detect("X", candles, [RESISTANCE], settings(breakout_buffer=0.7), index=28) is not None
    assert detect("X", candles, [RESISTANCE], settings(breakout_buffer=0.8), index=28) is None


def test_a_buffer_in_percent_of_the_level() -> None:
    candles = breakout()
    assert detect("X", candles, [RESISTANCE], settings(breakout_buffer_mode="pct", breakout_buffer=2.0), index=28)
    # 3 % of 105 is 3.15: a close 2.2 above does not clear it.
    assert (
        detect("X", candles, [RESISTANCE], settings(breakout_buffer_mode="pct", breakout_buffer=3.0), index=28) is None
    )


def test_a_chase_is_not_a_breakout() -> None:
    # 2.2 above the level is more than 0.5 × ATR (1.43) away.
    assert detect("X", breakout(), [RESISTANCE], settings(max_extension_atr=0.5), index=28) is None


def test_a_weak_level_is_ignored() -> None:
    assert detect("X", breakout(), [replace(RESISTANCE, strength=0.2)], settings(), index=28) is None


def test_of_several_levels_broken_the_nearest_to_the_close_is_used() -> None:
    lower = replace(RESISTANCE, price=104.5, strength=0.9)
    signal = detect("X", breakout(), [lower, RESISTANCE], settings(), index=28)
    assert signal is not None and signal.level == RESISTANCE


def test_low_volume_fails_and_assess_says_which_check() -> None:
    rows = [*zigzag(28, UP_CYCLE), (104.0, 107.5, 103.8, 107.2, 12.0)]  # 1.2× the mean
    candles = bars(rows)
    assert detect("X", candles, [RESISTANCE], settings(), index=28) is None
    found = assess("X", candles, [RESISTANCE], settings(), index=28)
    assert found.signal is None and found.kind == "momentum"
    failed = [check for check in found.checks if check.passed is False]
    assert [(check.name, check.value, check.threshold) for check in failed] == [("volume_surge", 1.2, "≥ 1.5")]


def test_the_candle_must_close_toward_the_break_with_a_real_body() -> None:
    # Closes above the level but below its open: a bearish candle is no momentum.
    bearish = bars([*zigzag(28, UP_CYCLE), (107.4, 107.6, 103.8, 107.2, 40.0)])
    assert detect("X", bearish, [RESISTANCE], settings(), index=28) is None
    # A long-wicked doji: body 0.4 of a 3.9 range.
    doji = bars([*zigzag(28, UP_CYCLE), (106.8, 109.0, 105.1, 107.2, 40.0)])
    found = assess("X", doji, [RESISTANCE], settings(), index=28)
    assert found.signal is None
    assert next(check for check in found.checks if check.name == "body_ratio").passed is False


def book(bids: list[tuple[str, str]], asks: list[tuple[str, str]]) -> OrderBook:
    return OrderBook(
        "X",
        tuple(BookLevel(Decimal(p), Decimal(q)) for p, q in bids),
        tuple(BookLevel(Decimal(p), Decimal(q)) for p, q in asks),
        T0,
    )


def test_the_order_book_must_lean_toward_the_break_when_there_is_one() -> None:
    candles = breakout()
    # Mid 107.2, band 0.5 % = 0.536: the ask at 108.5 is outside it.
    bid_heavy = book([("107.1", "30"), ("106.9", "20")], [("107.3", "10"), ("108.5", "100")])
    signal = detect("X", candles, [RESISTANCE], settings(), index=28, book=bid_heavy)
    assert signal is not None
    bids, asks = 107.1 * 30 + 106.9 * 20, 107.3 * 10
    imbalance = next(check for check in signal.checks if check.name == "book_imbalance")
    assert (imbalance.value, imbalance.passed) == (pytest.approx((bids - asks) / (bids + asks)), True)
    assert signal.confidence == pytest.approx(
        np.mean([0.8, 4 / 5, 3.2 / 3.7, 1 - 2.2 / (2 * signal.atr), (1 + (bids - asks) / (bids + asks)) / 2])
    )
    ask_heavy = book([("107.1", "10")], [("107.3", "30"), ("107.5", "20")])
    assert detect("X", candles, [RESISTANCE], settings(), index=28, book=ask_heavy) is None
    empty_band = book([("100.0", "10")], [("114.0", "10")])  # a book, but nothing near the price
    found = assess("X", candles, [RESISTANCE], settings(), index=28, book=empty_band)
    assert found.signal is None
    assert next(check for check in found.checks if check.name == "book_imbalance").passed is False


def test_a_close_stop_is_widened_and_a_wide_one_refused() -> None:
    candles = breakout()
    a = atr_at(candles, 28)
    widened = detect("X", candles, [RESISTANCE], settings(min_stop_atr=1.5), index=28)
    assert widened is not None and widened.stop == pytest.approx(107.2 - 1.5 * a)
    found = assess("X", candles, [RESISTANCE], settings(max_stop_atr=0.9), index=28)  # the stop is 1.07 ATR away
    assert found.signal is None
    stop_check = next(check for check in found.checks if check.name == "stop_distance")
    assert stop_check.passed is False and stop_check.value == pytest.approx((107.2 - (105 - 0.3 * a)) / a)


def test_an_atr_stop() -> None:
    candles = breakout()
    signal = detect("X", candles, [RESISTANCE], settings(stop_mode="atr", stop_atr=2.0), index=28)
    assert signal is not None and signal.stop == pytest.approx(107.2 - 2.0 * atr_at(candles, 28))


def test_low_confidence_is_dropped() -> None:
    assert detect("X", breakout(), [RESISTANCE], settings(min_confidence=0.9), index=28) is None


# -- retests ---------------------------------------------------------------------------------------

AWAY = (107.2, 108.5, 106.8, 108.0, 20.0)  # bar 29: price leaves the level
BACK = (108.0, 108.2, 106.0, 106.5, 15.0)  # bar 30: comes back toward it
RETEST = (106.5, 106.9, 105.2, 106.2, 12.0)  # bar 31: low 0.2 above 105, closes above it


def test_a_retest_of_the_broken_level() -> None:
    candles = breakout(AWAY, BACK, RETEST)
    signal = detect("X", candles, [RESISTANCE], settings(), index=31)
    assert signal is not None
    a = atr_at(candles, 31)
    assert (signal.side, signal.kind, signal.entry) == (Side.BUY, "retest", 106.2)
    assert signal.stop == pytest.approx(105.0 - 0.3 * a)  # below the lower of the level and the bar's low
    surge = float(volume_surge(candles.volume, 5)[31])
    assert surge == pytest.approx(12 / np.mean([10, 10, 40, 20, 15]))
    wick = (106.2 - 105.2) / (106.9 - 105.2)
    assert signal.confidence == pytest.approx(np.mean([0.8, surge / (1 + surge), wick, 1 - 1.2 / (2 * a)]))
    assert [check.name for check in signal.checks] == ["retest_volume", "stop_distance", "confidence"]


def test_a_retest_below_the_level_puts_the_stop_under_the_low() -> None:
    dip = (106.5, 106.9, 104.8, 106.2, 12.0)  # 0.2 through the level: within 0.3 × ATR
    candles = breakout(AWAY, BACK, dip)
    signal = detect("X", candles, [RESISTANCE], settings(), index=31)
    assert signal is not None and signal.stop == pytest.approx(104.8 - 0.3 * atr_at(candles, 31))


def test_a_retest_too_soon_too_late_too_deep_or_too_quiet_is_not_one() -> None:
    candles = breakout(AWAY, BACK, RETEST)
    assert detect("X", candles, [RESISTANCE], settings(retest_min_bars=4), index=31) is None
    assert detect("X", candles, [RESISTANCE], settings(retest_min_bars=1, retest_max_bars=2), index=31) is None
    deep = breakout(AWAY, BACK, (106.5, 106.9, 104.0, 106.2, 12.0))  # 1.0 through: more than 0.3 × ATR
    assert detect("X", deep, [RESISTANCE], settings(), index=31) is None
    far = breakout(AWAY, BACK, (106.5, 106.9, 105.9, 106.2, 12.0))  # low 0.9 above: not back at the level
    assert detect("X", far, [RESISTANCE], settings(), index=31) is None
    quiet = assess("X", candles, [RESISTANCE], settings(retest_min_volume_ratio=1.0), index=31)
    assert quiet.signal is None and quiet.kind == "retest"
    assert [check.name for check in quiet.checks if check.passed is False] == ["retest_volume"]


def test_a_break_that_failed_is_not_retested() -> None:
    failed = (108.0, 108.2, 103.9, 104.0, 15.0)  # bar 30 closes a full point back under the level
    candles = breakout(AWAY, failed, RETEST)
    assert detect("X", candles, [RESISTANCE], settings(momentum=False), index=31) is None


def test_a_retest_needs_price_to_have_left_the_level() -> None:
    hugging = bars(
        [
            *zigzag(28, UP_CYCLE),
            (104.0, 105.6, 103.8, 105.4, 40.0),  # breaks by 0.4
            (105.4, 105.7, 105.1, 105.3, 20.0),
            (105.3, 105.6, 105.1, 105.4, 15.0),
            (105.4, 105.6, 105.1, 105.3, 12.0),  # low 0.1 above the level
        ]
    )
    a = atr_at(hugging, 31)
    assert 0.3 * a < 0.4 < 1.0 * a  # closes reached 0.4 above: beyond 0.3 ATR, within 1 ATR
    left = detect("X", hugging, [RESISTANCE], settings(momentum=False, retest_tolerance_atr=0.3), index=31)
    assert left is not None and left.kind == "retest"
    assert detect("X", hugging, [RESISTANCE], settings(momentum=False, retest_tolerance_atr=1.0), index=31) is None


def test_signals_read_no_bar_after_index() -> None:
    candles = breakout(AWAY, BACK, RETEST)
    cut = CandleArrays(
        candles.timestamp[:29],
        candles.open[:29],
        candles.high[:29],
        candles.low[:29],
        candles.close[:29],
        candles.volume[:29],
    )
    assert detect("X", candles, [RESISTANCE], settings(), index=28) == detect(
        "X", cut, [RESISTANCE], settings(), index=28, bar_ms=FIVE_MINUTES
    )


def test_nothing_before_the_atr_exists() -> None:
    candles = breakout()
    assert assess("X", candles, [RESISTANCE], settings(), index=1).kind is None
    with pytest.raises(ValidationError, match="between 0 and 28"):
        detect("X", candles, [RESISTANCE], settings(), index=29)


# -- duplicates ------------------------------------------------------------------------------------


def a_signal(**changes: Any) -> BreakoutSignal:
    signal = detect("X", breakout(), [RESISTANCE], settings(), index=28)
    assert signal is not None
    return replace(signal, **changes)


def test_a_repeat_within_the_expiry_is_dropped() -> None:
    deduper = SignalDeduper(0.2)
    first = a_signal()
    assert deduper.accept(first)
    assert deduper.accept(first)  # the same signal again (a retried bar) is still itself
    one_bar_later = replace(first, bar_ts=first.bar_ts + FIVE_MINUTES, kind="retest")
    assert not deduper.accept(one_bar_later)
    nearby_level = replace(first, bar_ts=first.bar_ts + FIVE_MINUTES, level=replace(RESISTANCE, price=105.2))
    assert not deduper.accept(nearby_level)  # 0.19 % away: the same level


def test_another_side_level_symbol_or_a_later_time_is_new() -> None:
    deduper = SignalDeduper(0.2)
    first = a_signal()
    assert deduper.accept(first)
    later = first.bar_ts + FIVE_MINUTES
    assert deduper.accept(replace(first, bar_ts=later, side=Side.SELL))
    assert deduper.accept(replace(first, bar_ts=later, level=replace(RESISTANCE, price=105.3)))
    assert deduper.accept(replace(first, bar_ts=later, symbol="Y"))
    assert deduper.accept(replace(first, bar_ts=first.expires_at))  # the first one has expired
    deduper.clear()
    assert deduper.accept(replace(first, bar_ts=later))
