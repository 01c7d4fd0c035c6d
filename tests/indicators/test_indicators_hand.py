"""Indicators on arrays small enough to compute by hand, their warm-up NaNs, and their input checks."""

from __future__ import annotations

import math

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
from elcaro.models.errors import ValidationError

nan = math.nan


def same(actual: np.ndarray, expected: list[float]) -> None:
    np.testing.assert_allclose(actual, np.array(expected, dtype=np.float64), rtol=1e-14, atol=0, equal_nan=True)


def test_sma_is_the_mean_of_the_last_period_values() -> None:
    same(sma([1.0, 2.0, 3.0, 4.0, 9.0], 3), [nan, nan, 2.0, 3.0, 16 / 3])


def test_ema_is_seeded_with_the_sma_and_then_recurses_with_two_over_period_plus_one() -> None:
    # alpha = 2/(3+1) = 0.5; seed (2+4+6)/3 = 4; then 4 + 0.5·(8−4) = 6; 6 + 0.5·(4−6) = 5
    same(ema([2.0, 4.0, 6.0, 8.0, 4.0], 3), [nan, nan, 4.0, 6.0, 5.0])


def test_wilder_average_uses_one_over_period() -> None:
    # seed 4; (4·2 + 8)/3 = 16/3; (16/3·2 + 4)/3 = 44/9
    same(wilder([2.0, 4.0, 6.0, 8.0, 4.0], 3), [nan, nan, 4.0, 16 / 3, 44 / 9])


def test_true_range_takes_the_gap_from_the_previous_close_and_has_none_on_the_first_bar() -> None:
    high, low, close = [10.0, 11.0, 12.0, 11.0], [9.0, 10.0, 10.0, 8.0], [9.5, 10.5, 11.0, 9.0]
    # bar 1: max(1, |11−9.5|, |10−9.5|) = 1.5; bar 2: max(2, 1.5, 0.5) = 2; bar 3: max(3, 0, |8−11|) = 3
    same(true_range(high, low, close), [nan, 1.5, 2.0, 3.0])


def test_atr_starts_at_bar_period_with_the_mean_true_range_then_wilder_smooths() -> None:
    high, low, close = [10.0, 11.0, 12.0, 11.0], [9.0, 10.0, 10.0, 8.0], [9.5, 10.5, 11.0, 9.0]
    # first value at bar 2: (1.5 + 2)/2 = 1.75; bar 3: (1.75·1 + 3)/2 = 2.375
    same(atr(high, low, close, 2), [nan, nan, 1.75, 2.375])


def test_rolling_extremes_with_shift_exclude_the_current_bar() -> None:
    values = [1.0, 3.0, 2.0, 5.0, 4.0]
    same(rolling_max(values, 3), [nan, nan, 3.0, 5.0, 5.0])
    same(rolling_max(values, 3, shift=1), [nan, nan, nan, 3.0, 5.0])
    same(rolling_min(values, 3), [nan, nan, 1.0, 2.0, 2.0])
    same(rolling_min(values, 3, shift=1), [nan, nan, nan, 1.0, 2.0])


def test_bollinger_uses_the_population_deviation() -> None:
    middle, upper, lower = bollinger([1.0, 2.0, 3.0, 4.0], 4, 2.0)
    # mean 2.5; variance (2.25 + 0.25 + 0.25 + 2.25)/4 = 1.25; 2·√1.25 = √5
    same(middle, [nan, nan, nan, 2.5])
    same(upper, [nan, nan, nan, 2.5 + math.sqrt(5)])
    same(lower, [nan, nan, nan, 2.5 - math.sqrt(5)])
    same(bollinger_width([1.0, 2.0, 3.0, 4.0], 4, 2.0), [nan, nan, nan, 2 * math.sqrt(5) / 2.5])


def test_volume_surge_compares_with_the_bars_before() -> None:
    same(volume_surge([1.0, 2.0, 3.0, 6.0, 1.0], 3), [nan, nan, nan, 3.0, 1 / (11 / 3)])
    same(volume_surge([0.0, 0.0, 5.0, 0.0], 2), [nan, nan, math.inf, 0.0])
    same(volume_surge([0.0, 0.0, 0.0], 2), [nan, nan, nan])


def test_log_returns() -> None:
    same(log_returns([1.0, math.e, math.e, 1.0]), [nan, 1.0, 0.0, -1.0])


def test_rolling_correlation_of_exact_relations_and_flat_series() -> None:
    a = [1.0, 2.0, 3.0, 4.0]
    same(rolling_correlation(a, [2.0, 4.0, 6.0, 8.0], 4), [nan, nan, nan, 1.0])
    same(rolling_correlation(a, [8.0, 6.0, 4.0, 2.0], 4), [nan, nan, nan, -1.0])
    # windows of 3: (1,2,3)~(1,0,1) → 0; (2,3,4)~(0,1,5): deviations (−1,0,1)·(−2,−1,3) = 5 over √2·√14
    same(rolling_correlation(a, [1.0, 0.0, 1.0, 5.0], 3), [nan, nan, 0.0, 5 / math.sqrt(2 * 14)])
    same(rolling_correlation(a, [3.0, 3.0, 3.0, 3.0], 3), [nan, nan, nan, nan])


def test_body_ratio() -> None:
    same(body_ratio([1.0, 2.0, 5.0], [3.0, 2.0, 6.0], [0.0, 2.0, 1.0], [2.0, 2.0, 1.0]), [1 / 3, nan, 4 / 5])


def test_a_series_shorter_than_the_period_is_all_warm_up() -> None:
    for values in (sma([1.0, 2.0], 3), ema([1.0, 2.0], 3), rolling_max([1.0, 2.0], 3), volume_surge([1.0, 2.0], 2)):
        assert np.isnan(values).all() and values.shape == (2,)
    assert np.isnan(atr([2.0, 2.0], [1.0, 1.0], [1.5, 1.5], 2)).all()


def test_a_block_gives_each_row_what_the_row_alone_gives() -> None:
    rng = np.random.default_rng(7)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, size=(4, 60)), axis=1))
    high, low, opens = close * 1.01, close * 0.98, close * 0.995
    volume = rng.lognormal(3, 1, size=(4, 60))
    block = {
        "sma": sma(close, 5),
        "ema": ema(close, 5),
        "wilder": wilder(close, 5),
        "atr": atr(high, low, close, 7),
        "max": rolling_max(high, 10, shift=1),
        "min": rolling_min(low, 10, shift=2),
        "width": bollinger_width(close, 20, 2.0),
        "surge": volume_surge(volume, 12),
        "returns": log_returns(close),
        "correlation": rolling_correlation(close, close[0], 15),
        "body": body_ratio(opens, high, low, close),
    }
    for row in range(4):
        alone = {
            "sma": sma(close[row], 5),
            "ema": ema(close[row], 5),
            "wilder": wilder(close[row], 5),
            "atr": atr(high[row], low[row], close[row], 7),
            "max": rolling_max(high[row], 10, shift=1),
            "min": rolling_min(low[row], 10, shift=2),
            "width": bollinger_width(close[row], 20, 2.0),
            "surge": volume_surge(volume[row], 12),
            "returns": log_returns(close[row]),
            "correlation": rolling_correlation(close[row], close[0], 15),
            "body": body_ratio(opens[row], high[row], low[row], close[row]),
        }
        for name, values in alone.items():
            np.testing.assert_allclose(block[name][row], values, rtol=1e-12, equal_nan=True, err_msg=name)


@pytest.mark.parametrize("period", [0, -1, 2.5, True])
def test_a_period_that_is_not_a_positive_integer_is_refused(period: object) -> None:
    with pytest.raises(ValidationError) as caught:
        sma([1.0, 2.0, 3.0], period)  # type: ignore[arg-type]
    assert caught.value.field == "period"


def test_shapes_are_checked() -> None:
    with pytest.raises(ValidationError, match="same shape"):
        true_range([1.0, 2.0], [1.0], [1.0, 2.0])
    with pytest.raises(ValidationError, match="1-D or 2-D"):
        sma(np.ones((2, 2, 2)), 2)
    with pytest.raises(ValidationError) as caught:
        rolling_max([1.0, 2.0], 2, shift=-1)
    assert caught.value.field == "shift"
    with pytest.raises(ValidationError):
        rolling_correlation([1.0, 2.0], [1.0, 2.0], 1)


def test_reductions_in_blocks_give_what_one_block_gives(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(3)
    a, b = rng.normal(size=(3, 200)), rng.normal(size=200)
    whole = [bollinger_width(a + 10, 20, 2.0), rolling_correlation(a, b, 30), rolling_max(a, 9), sma(a, 12)]
    monkeypatch.setattr("elcaro.indicators._series._BLOCK_VALUES", 50)  # a few windows per block
    pieces = [bollinger_width(a + 10, 20, 2.0), rolling_correlation(a, b, 30), rolling_max(a, 9), sma(a, 12)]
    for expected, actual in zip(whole, pieces, strict=True):
        np.testing.assert_array_equal(actual, expected)
