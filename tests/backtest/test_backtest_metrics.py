"""Metrics against figures worked out by hand on a three-bar daily equity curve and three positions."""

from __future__ import annotations

import math
import statistics

import numpy as np
import pytest

from elcaro.backtest import BacktestTrade, EquityCurve, compute_metrics
from elcaro.models.enums import PositionSide

DAY = 86_400_000


def row(position: int, quantity: float, entry: float, stop: float, pnl: float) -> BacktestTrade:
    return BacktestTrade(
        position=position,
        symbol="TEST/USDT",
        side=PositionSide.LONG,
        entry_index=position,
        exit_index=position + 1,
        entry_time=position * DAY,
        exit_time=(position + 1) * DAY,
        entry_price=entry,
        exit_price=entry,
        quantity=quantity,
        initial_stop=stop,
        fees=0.0,
        pnl=pnl,
        exit_reason="test",
    )


CURVE = EquityCurve(
    timestamps=np.array([0, DAY, 2 * DAY], dtype=np.int64),
    equity=np.array([110.0, 99.0, 121.0]),
    in_market=np.array([True, False, True]),
    initial=100.0,
)
TRADES = [
    row(0, 1.0, 20.0, 15.0, 10.0),  # +10 on a risk of 5: +2 R
    row(1, 1.0, 10.0, 8.0, -3.0),  # one position in two closes: −2 on a risk of 2 × 2 = 4: −0.5 R
    row(1, 1.0, 10.0, 8.0, 1.0),
    row(2, 3.0, 30.0, 27.0, -9.0),  # −9 on a risk of 9: −1 R
]


def test_every_metric_of_a_hand_computed_case() -> None:
    metrics = compute_metrics(CURVE, TRADES, "1d")
    assert metrics.total_return == pytest.approx(0.21)
    assert metrics.final_equity == 121.0
    assert metrics.trades == 3  # positions, not rows
    assert metrics.win_rate == pytest.approx(1 / 3)
    assert metrics.profit_factor == pytest.approx(10 / 11)
    assert metrics.average_r == pytest.approx((2.0 - 0.5 - 1.0) / 3)
    assert metrics.max_drawdown == pytest.approx(0.1)  # 110 → 99
    assert metrics.exposure == pytest.approx(2 / 3)
    returns = [0.1, -0.1, 121 / 99 - 1]
    assert metrics.sharpe == pytest.approx(statistics.mean(returns) / statistics.stdev(returns) * math.sqrt(365))


def test_the_sharpe_ratio_scales_with_the_timeframe() -> None:
    daily = compute_metrics(CURVE, TRADES, "1d").sharpe
    five_minutes = compute_metrics(CURVE, TRADES, "5m").sharpe
    assert five_minutes == pytest.approx(daily * math.sqrt(288))


def test_drawdown_counts_from_the_initial_capital() -> None:
    curve = EquityCurve(np.array([0, DAY], dtype=np.int64), np.array([90.0, 95.0]), np.array([True, True]), 100.0)
    np.testing.assert_allclose(curve.drawdown, [0.10, 0.05])
    assert compute_metrics(curve, [], "1d").max_drawdown == pytest.approx(0.10)


def test_no_trades_and_no_losses() -> None:
    flat = EquityCurve(np.array([0, DAY], dtype=np.int64), np.array([100.0, 100.0]), np.array([False, False]), 100.0)
    metrics = compute_metrics(flat, [], "1d")
    assert (metrics.trades, metrics.total_return, metrics.exposure, metrics.max_drawdown) == (0, 0.0, 0.0, 0.0)
    assert math.isnan(metrics.win_rate) and math.isnan(metrics.profit_factor) and math.isnan(metrics.average_r)
    assert math.isnan(metrics.sharpe)  # returns that never vary have no Sharpe ratio
    winners = compute_metrics(CURVE, [row(0, 1.0, 20.0, 15.0, 10.0)], "1d")
    assert winners.profit_factor == math.inf
    assert winners.win_rate == 1.0
