"""Support and resistance levels: a series computed by hand, the rules one by one, and real BTC candles."""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import pytest
from breakout_fixtures import FIVE_MINUTES, T0, from_lows, level_settings, real

from elcaro.indicators import atr
from elcaro.marketdata import CandleArrays
from elcaro.models.errors import ValidationError
from elcaro.strategies.breakout.levels import LevelSettings, find_levels, level_inputs

# A zig-zag between 100 and 105, bars 2 tall closing mid-range. Every previous close lies inside
# the next bar, so each true range is 2 and ATR(2) is exactly 2 from bar 2 on.
LOWS = [100, 101, 102, 103, 102, 101, 100, 101, 102, 103, 102, 101, 100, 101, 102, 103, 102, 102, 102, 102]
VOLUME = [10.0] * 20
VOLUME[9] = 50.0  # 50 ÷ mean of the 5 bars before (10) = 5 ≥ 3: a high-volume candle (high 105, low 103)
ZIGZAG = from_lows(LOWS, volume=VOLUME)


def hand_settings(**changes: object) -> LevelSettings:
    values: dict[str, object] = {
        "lookback": 20,
        "atr_period": 2,
        "donchian_period": 20,
        "swing_left": 2,
        "swing_right": 2,
        "volume_period": 5,
        "high_volume_ratio": 3.0,
        "merge_atr": 0.5,  # candidates within 1.0 merge
        "touch_atr": 0.25,  # a high or low within 0.5 touches
        "min_touches": 2,
        "full_touches": 4,
        "touch_weight": 1.0,
        "volume_weight": 1.0,
        "age_weight": 1.0,
        "pierce_penalty": 0.2,
        "max_levels": 4,
        "refresh_bars": 1,
    }
    return LevelSettings.model_validate(values | changes)


def test_the_zigzag_by_hand() -> None:
    """Candidates: Donchian 105 (bar 3) and 100 (bar 0); swing highs 105 (bars 3, 9, 15); swing lows
    100 (bars 6, 12); the high-volume bar 9 gives 105 and 103. Grouped within 1.0: {100}, {103}, {105}.

    Window mean volume = (19 × 10 + 50) ÷ 20 = 12. Strength = mean of touch, volume and age scores × pierce factor.
    """
    assert atr(ZIGZAG.high, ZIGZAG.low, ZIGZAG.close, 2)[19] == 2.0
    levels = find_levels(ZIGZAG, hand_settings())
    assert [level.price for level in levels] == [100.0, 103.0, 105.0]
    support, middle, resistance = levels

    # 105: highs at bars 3, 9, 15 touch; closes (101…104) all below 104.5: never crossed.
    assert (resistance.side, resistance.touches, resistance.pierces) == ("resistance", 3, 0)
    assert resistance.volume == 70.0  # 10 + 50 + 10
    assert (resistance.first_ts, resistance.last_ts) == (T0 + 3 * FIVE_MINUTES, T0 + 15 * FIVE_MINUTES)
    assert resistance.sources == ("donchian", "swing", "volume")
    assert resistance.strength == pytest.approx((3 / 4 + (70 / 3 / 12) / 2 + 12 / 19) / 3)

    # 100: lows at bars 0, 6, 12.
    assert (support.side, support.touches, support.pierces, support.volume) == ("support", 3, 0, 30.0)
    assert support.sources == ("donchian", "swing")
    assert support.strength == pytest.approx((3 / 4 + (10 / 12) / 2 + 12 / 19) / 3)

    # 103: highs 103 at bars 1, 5, 7, 11, 13 and lows 103 at bars 3, 9, 15 — eight separate touches.
    # Closes against 103 ± 0.5: -,-,0,+,0,-,-,-,0,+,0,-,-,-,0,+ → five crossings, the last one holds: 4 pierces.
    # The last close is 103, not above it: a support.
    assert (middle.side, middle.touches, middle.pierces, middle.volume) == ("support", 8, 4, 120.0)
    assert middle.sources == ("volume",)
    assert middle.strength == pytest.approx((1 + (120 / 8 / 12) / 2 + 14 / 19) / 3 * (1 - 0.2 * 4))


def test_a_group_takes_candidates_within_tolerance_of_its_first_and_sits_at_their_mean() -> None:
    # Tolerance 2.0: 103 is 3 above 100 (new group); 105 is 2 above 103 (same group) → (103 + 5 × 105) ÷ 6.
    levels = find_levels(ZIGZAG, hand_settings(merge_atr=1.0))
    assert [level.price for level in levels] == pytest.approx([100.0, (103 + 5 * 105) / 6])
    merged = levels[1]
    assert merged.sources == ("donchian", "swing", "volume")
    assert merged.touches == 3  # only the highs of 105 lie within 0.5 of 104.67


def test_channel_edges_survive_min_touches_and_max_levels() -> None:
    # Nine touches needed: 103 (8) goes; 100 and 105 have 3 but are the Donchian edges.
    assert [level.price for level in find_levels(ZIGZAG, hand_settings(min_touches=9))] == [100.0, 105.0]
    # One level a side: the channel edge is taken before the stronger-by-touches 103.
    assert [level.price for level in find_levels(ZIGZAG, hand_settings(max_levels=1))] == [100.0, 105.0]


def test_the_pierce_penalty_can_erase_a_level() -> None:
    levels = find_levels(ZIGZAG, hand_settings(pierce_penalty=0.25))  # 4 pierces × 0.25 = all of it
    assert next(level for level in levels if level.price == 103.0).strength == 0.0


def test_bars_from_end_on_are_never_read() -> None:
    settings = hand_settings()
    changed = CandleArrays(
        ZIGZAG.timestamp,
        ZIGZAG.open.copy(),
        ZIGZAG.high.copy(),
        ZIGZAG.low.copy(),
        ZIGZAG.close.copy(),
        ZIGZAG.volume.copy(),
    )
    for column in (changed.open, changed.high, changed.low, changed.close):
        column[16:] += 50.0  # a wild future
    changed.volume[16:] = 1e6
    assert find_levels(changed, settings, end=16) == find_levels(ZIGZAG, settings, end=16)
    assert find_levels(ZIGZAG, settings, end=16) != find_levels(ZIGZAG, settings)


def test_no_levels_before_the_atr_exists() -> None:
    assert find_levels(ZIGZAG, hand_settings(), end=2) == []  # ATR(2) starts at bar 2: bars < 2 have none
    assert find_levels(ZIGZAG, hand_settings(), end=0) == []
    with pytest.raises(ValidationError) as caught:
        find_levels(ZIGZAG, hand_settings(), end=21)
    assert caught.value.field == "end"


def test_a_flat_market_has_no_levels() -> None:
    flat = from_lows([100.0] * 30, width=0.0)
    assert find_levels(flat, hand_settings()) == []


# -- real candles --------------------------------------------------------------------------------

BTC = "BTC_USDT-5m.csv"


def test_levels_on_real_btc_keep_their_rules() -> None:
    candles = real(BTC)
    settings = level_settings()
    inputs = level_inputs(candles, settings)
    atr_values = atr(candles.high, candles.low, candles.close, settings.atr_period)
    found = 0
    for end in range(settings.warmup_bars, len(candles), 97):
        levels = find_levels(candles, settings, end=end, inputs=inputs)
        assert levels, f"no level at end={end}"
        found += len(levels)
        tolerance = settings.merge_atr * atr_values[end - 1]
        last_close = candles.close[end - 1]
        window_start = candles.timestamp[end - settings.lookback]
        prices = [level.price for level in levels]
        assert prices == sorted(prices)
        assert all(b - a > tolerance for a, b in pairwise(prices))
        assert sum(level.side == "resistance" for level in levels) <= settings.max_levels
        assert sum(level.side == "support" for level in levels) <= settings.max_levels
        for level in levels:
            assert level.side == ("resistance" if level.price > last_close else "support")
            assert 0.0 <= level.strength <= 1.0
            assert window_start <= level.first_ts <= level.last_ts < candles.timestamp[end]
            assert level.touches >= settings.min_touches or "donchian" in level.sources
            assert level.volume > 0
        # The channel's edges are levels (their group's mean lies within the merge tolerance of them).
        channel = slice(end - settings.donchian_period, end)
        for edge in (candles.high[channel].max(), candles.low[channel].min()):
            assert min(abs(price - edge) for price in prices) <= tolerance
    assert found > 500


def test_precomputed_inputs_give_the_levels_of_the_series_cut_at_end() -> None:
    candles = real(BTC)
    settings = level_settings()
    inputs = level_inputs(candles, settings)
    for end in (settings.warmup_bars, 4_000, 7_777, len(candles)):
        assert find_levels(candles, settings, end=end, inputs=inputs) == find_levels(candles, settings, end=end)


def test_real_levels_ignore_the_future() -> None:
    candles = real(BTC)
    settings = level_settings()
    end = 6_000
    rng = np.random.default_rng(7)
    noise = rng.uniform(0.5, 1.5, len(candles) - end)
    scrambled = CandleArrays(
        candles.timestamp,
        np.concatenate((candles.open[:end], candles.open[end:] * noise)),
        np.concatenate((candles.high[:end], candles.high[end:] * noise * 1.01)),
        np.concatenate((candles.low[:end], candles.low[end:] * noise * 0.99)),
        np.concatenate((candles.close[:end], candles.close[end:] * noise)),
        np.concatenate((candles.volume[:end], candles.volume[end:][::-1])),
    )
    assert find_levels(scrambled, settings, end=end, inputs=level_inputs(scrambled, settings)) == find_levels(
        candles, settings, end=end, inputs=level_inputs(candles, settings)
    )


def test_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="donchian_period must be at most lookback"):
        hand_settings(donchian_period=30)
    with pytest.raises(ValueError, match="must not all be 0"):
        hand_settings(touch_weight=0.0, volume_weight=0.0, age_weight=0.0)
