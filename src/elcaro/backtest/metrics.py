"""The equity curve of a backtest and the figures computed from it and from the trades.

Definitions (all fractions, not percent):

- **total return**: final equity / initial capital − 1.
- **win rate**: positions with a positive net PnL / positions (a position's partial closes add up to
  one outcome); NaN without positions.
- **profit factor**: the sum of winning positions' net PnL / the absolute sum of losing ones'; +inf
  when nothing lost, NaN without positions.
- **Sharpe**: mean / sample standard deviation of the per-bar returns of the equity curve (the
  initial capital counts as the equity before the first bar), times √(bars per year), where a year
  is 365 days of 24 h — crypto trades every day — so 105,120 bars of 5 minutes; risk-free rate 0.
  NaN when the returns do not vary (no trade).
- **max drawdown**: the largest fall from a running peak (the initial capital included), as a
  fraction of that peak.
- **average R**: mean of positions' net PnL / their initial risk (quantity × distance to the
  initial stop); NaN without positions.
- **exposure**: share of bar times during which at least one position was held (its entry bar to its
  exit bar, both included).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from elcaro.backtest.trades import BacktestTrade
from elcaro.models.timeframe import DAY_MS, Timeframe

YEAR_MS = 365 * DAY_MS


@dataclass(frozen=True, slots=True)
class EquityCurve:
    """Portfolio equity at the close of every bar time of the universe, open positions marked to the close."""

    timestamps: NDArray[np.int64]
    equity: NDArray[np.float64]
    in_market: NDArray[np.bool_]
    initial: float

    def __len__(self) -> int:
        return len(self.timestamps)

    @property
    def drawdown(self) -> NDArray[np.float64]:
        """Fall from the running peak (the initial capital included) at each bar, as a fraction of the peak."""
        peak = np.maximum.accumulate(np.concatenate(([self.initial], self.equity)))[1:]
        return 1.0 - self.equity / peak


@dataclass(frozen=True, slots=True)
class Metrics:
    """See the module docstring for each definition."""

    total_return: float
    win_rate: float
    profit_factor: float
    sharpe: float
    max_drawdown: float
    average_r: float
    exposure: float
    trades: int
    """Positions closed (a partial close is part of its position, not a trade of its own)."""
    final_equity: float

    def value(self, name: str) -> float:
        """A figure by name, for ranking a grid search."""
        if name not in METRIC_NAMES:
            raise KeyError(name)
        return float(getattr(self, name))


METRIC_NAMES = (
    "total_return",
    "win_rate",
    "profit_factor",
    "sharpe",
    "max_drawdown",
    "average_r",
    "exposure",
    "trades",
    "final_equity",
)
LOWER_IS_BETTER = frozenset({"max_drawdown"})


def bars_per_year(timeframe: str | Timeframe) -> float:
    return YEAR_MS / Timeframe.parse(timeframe).ms


def sharpe_ratio(equity: NDArray[np.float64], initial: float, periods_per_year: float) -> float:
    if len(equity) < 2:
        return math.nan
    values = np.concatenate(([initial], equity))
    returns = np.diff(values) / values[:-1]
    deviation = float(np.std(returns, ddof=1))
    if not deviation > 0:
        return math.nan
    return float(np.mean(returns)) / deviation * math.sqrt(periods_per_year)


def position_outcomes(trades: Sequence[BacktestTrade]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Net PnL and initial risk of each position (its rows added up), in position order."""
    if not trades:
        return np.empty(0), np.empty(0)
    count = len(trades)
    positions = np.fromiter((t.position for t in trades), np.int64, count)
    _, group = np.unique(positions, return_inverse=True)
    pnl = np.bincount(group, weights=np.fromiter((t.pnl for t in trades), np.float64, count))
    risk = np.bincount(group, weights=np.fromiter((t.risk for t in trades), np.float64, count))
    return pnl.astype(np.float64), risk.astype(np.float64)


def compute_metrics(curve: EquityCurve, trades: Sequence[BacktestTrade], timeframe: str | Timeframe) -> Metrics:
    pnl, risk = position_outcomes(trades)
    gains = float(pnl[pnl > 0].sum())
    losses = -float(pnl[pnl < 0].sum())
    if not len(pnl):
        profit_factor = math.nan
    elif losses > 0:
        profit_factor = gains / losses
    else:
        profit_factor = math.inf
    with np.errstate(divide="ignore", invalid="ignore"):
        r_values = np.where(risk > 0, pnl / risk, np.nan)
    r_values = r_values[~np.isnan(r_values)]
    final = float(curve.equity[-1]) if len(curve) else curve.initial
    return Metrics(
        total_return=final / curve.initial - 1.0,
        win_rate=float((pnl > 0).mean()) if len(pnl) else math.nan,
        profit_factor=profit_factor,
        sharpe=sharpe_ratio(curve.equity, curve.initial, bars_per_year(timeframe)),
        max_drawdown=float(curve.drawdown.max()) if len(curve) else 0.0,
        average_r=float(r_values.mean()) if len(r_values) else math.nan,
        exposure=float(curve.in_market.mean()) if len(curve) else 0.0,
        trades=len(pnl),
        final_equity=final,
    )
