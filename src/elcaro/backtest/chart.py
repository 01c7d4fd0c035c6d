"""A PNG of a backtest: equity, drawdown, and one symbol's price with its entries and exits.

matplotlib draws off-screen (the Agg backend), so it works on a server without a display; it is
imported only when a chart is drawn.
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

import numpy as np

from elcaro.backtest.result import BacktestResult
from elcaro.core.clock import to_datetime
from elcaro.marketdata import CandleArrays
from elcaro.models.enums import PositionSide
from elcaro.models.errors import ValidationError


def _times(timestamps: np.ndarray) -> list[datetime]:
    return [to_datetime(int(t)) for t in timestamps]


def write_chart(
    path: str | os.PathLike[str], result: BacktestResult, candles: CandleArrays, symbol: str, *, dpi: int = 110
) -> Path:
    """Draw ``result`` to ``path``; the price panel shows ``symbol`` (whose ``candles`` were backtested)."""
    if symbol not in result.symbols:
        raise ValidationError(f"{symbol} was not in the backtest ({', '.join(result.symbols)})", field="chart_symbol")
    # Imported here: matplotlib takes a noticeable time to load, and only a chart needs it.
    import matplotlib  # noqa: PLC0415

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    curve = result.curve
    figure, (equity_axis, drawdown_axis, price_axis) = plt.subplots(
        3, 1, figsize=(12, 9), height_ratios=(3, 1.2, 3), constrained_layout=True
    )
    try:
        figure.suptitle(
            f"{result.strategy} · {result.timeframe} · {len(result.symbols)} symbols · "
            f"return {result.metrics.total_return:+.2%} · max drawdown {result.metrics.max_drawdown:.2%}"
        )
        when = _times(curve.timestamps)
        equity_axis.plot(when, curve.equity, color="#1f77b4", linewidth=1.0)
        equity_axis.axhline(curve.initial, color="#999999", linewidth=0.8, linestyle="--")
        equity_axis.set_ylabel("equity")
        equity_axis.grid(alpha=0.3)

        drawdown = -curve.drawdown * 100 if len(curve) else np.empty(0)
        drawdown_axis.fill_between(when, drawdown, 0, color="#d62728", alpha=0.4, linewidth=0)
        drawdown_axis.set_ylabel("drawdown %")
        drawdown_axis.grid(alpha=0.3)
        drawdown_axis.sharex(equity_axis)

        price_axis.plot(_times(candles.timestamp), candles.close, color="#444444", linewidth=0.7, label=symbol)
        trades = [t for t in result.trades if t.symbol == symbol]
        for side, marker, color in ((PositionSide.LONG, "^", "#2ca02c"), (PositionSide.SHORT, "v", "#d62728")):
            chosen = [t for t in trades if t.side is side]
            if chosen:
                price_axis.scatter(
                    [to_datetime(t.entry_time) for t in chosen],
                    [t.entry_price for t in chosen],
                    marker=marker,
                    color=color,
                    s=28,
                    zorder=3,
                    label=f"{side} entry",
                )
        if trades:
            price_axis.scatter(
                [to_datetime(t.exit_time) for t in trades],
                [t.exit_price for t in trades],
                marker="x",
                color="#000000",
                s=22,
                zorder=3,
                label="exit",
            )
        price_axis.set_ylabel(f"{symbol} close")
        price_axis.legend(loc="upper left", fontsize="small")
        price_axis.grid(alpha=0.3)

        target = Path(path)
        figure.savefig(target, dpi=dpi)
    finally:
        plt.close(figure)
    return target
