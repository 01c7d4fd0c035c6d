"""The block-recursive EMA/Wilder recursion against the bar-by-bar one: long series, every period, NaN and infinity.

``smooth`` solves the recursion a block of bars at a time (see ``indicators/moving.py``); these tests
run it over series long enough for many blocks and a partial last one, and over inputs the
recursion must carry (NaN, ±infinity) exactly as the bar-by-bar loop below does.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from elcaro.indicators import smooth


def bar_by_bar(values: list[float], alpha: float, period: int, start: int = 0) -> list[float]:
    out = [math.nan] * len(values)
    seed_at = start + period - 1
    if len(values) <= seed_at:
        return out
    previous = sum(values[start : seed_at + 1]) / period
    out[seed_at] = previous
    for i in range(seed_at + 1, len(values)):
        previous = previous * (1 - alpha) + alpha * values[i]
        out[i] = previous
    return out


def same_kind(actual: np.ndarray, expected: list[float]) -> None:
    """NaN where NaN, the same infinities, finite values equal to rounding."""
    wanted = np.array(expected)
    np.testing.assert_array_equal(np.isnan(actual), np.isnan(wanted))
    np.testing.assert_array_equal(actual[np.isinf(wanted)], wanted[np.isinf(wanted)])
    finite = np.isfinite(wanted)
    np.testing.assert_allclose(actual[finite], wanted[finite], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("period", [1, 2, 3, 14, 50, 200, 1000])
@pytest.mark.parametrize("kind", ["wilder", "ema"])
def test_many_blocks_agree_with_the_loop(period: int, kind: str) -> None:
    # 40 000 bars: at least ten blocks for every period here, with a partial one at the end.
    rng = np.random.default_rng(period)
    prices = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, 40_000)))
    alpha = 1 / period if kind == "wilder" else 2 / (period + 1)
    same_kind(smooth(prices, alpha, period, start=1), bar_by_bar(prices.tolist(), alpha, period, start=1))


def test_a_series_of_both_signs_agrees_in_absolute_terms() -> None:
    returns = np.random.default_rng(5).normal(0, 1e-3, 30_000)
    actual = smooth(returns, 1 / 14, 14)
    expected = np.array(bar_by_bar(returns.tolist(), 1 / 14, 14))
    assert np.nanmax(np.abs(actual - expected)) < 1e-17


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
@pytest.mark.parametrize("at", [0, 5, 13, 14, 1_868, 1_869, 4_000, 9_999])
@pytest.mark.parametrize("period", [1, 2, 14])
def test_a_non_finite_input_spoils_what_follows_as_the_loop_does(bad: float, at: int, period: int) -> None:
    values = np.random.default_rng(at).normal(50, 5, 10_000)
    values[at] = bad
    if at + 700 < len(values):
        values[at + 700] = -bad  # +∞ then −∞ is NaN from there on
    same_kind(smooth(values, 1 / period, period), bar_by_bar(values.tolist(), 1 / period, period))


def test_a_block_of_rows_gives_each_row_exactly_what_the_row_alone_gives() -> None:
    rows = 100 * np.exp(np.cumsum(np.random.default_rng(9).normal(0, 0.01, (6, 9_000)), axis=1))
    rows[2, 4_500] = math.nan
    block = smooth(rows, 1 / 14, 14, start=1)
    for row in range(len(rows)):
        np.testing.assert_array_equal(block[row], smooth(rows[row], 1 / 14, 14, start=1))
        same_kind(block[row], bar_by_bar(rows[row].tolist(), 1 / 14, 14, start=1))


@settings(max_examples=200)
@given(
    values=st.lists(
        st.floats(min_value=-1e9, max_value=1e9, allow_nan=False) | st.sampled_from([math.nan, math.inf, -math.inf]),
        max_size=400,
    ),
    period=st.integers(min_value=1, max_value=30),
    ema=st.booleans(),
)
def test_any_series_agrees_with_the_loop(values: list[float], period: int, ema: bool) -> None:
    alpha = 2 / (period + 1) if ema else 1 / period
    actual = smooth(np.array(values, dtype=np.float64), alpha, period)
    expected = np.array(bar_by_bar(values, alpha, period))
    np.testing.assert_array_equal(np.isnan(actual), np.isnan(expected))
    np.testing.assert_array_equal(actual[np.isinf(expected)], expected[np.isinf(expected)])
    finite = np.isfinite(expected)
    scale = max((abs(v) for v in values if math.isfinite(v)), default=1.0)
    np.testing.assert_allclose(actual[finite], expected[finite], rtol=1e-12, atol=1e-12 * scale)
