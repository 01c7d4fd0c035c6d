"""The backtester: the strategy's own rules replayed over recorded candles with a documented fill model.

Fill model (:mod:`elcaro.backtest.fills`; both paths below price every fill with it):

- a decision taken at a bar's close enters at the **next bar's open** (a market order: slippage
  against the taker, if configured, and the taker fee);
- a **stop** fills at its price when the bar touches it, or at the bar's open when the bar opens
  beyond it (a gap); slippage and the taker fee;
- a **target** (a resting limit) fills at its price when touched, or at the open when the bar opens
  beyond it; the maker fee, no slippage;
- when one bar touches both the stop and the target, the **stop is assumed hit first**;
- exits are checked from the entry bar on (the position exists from that bar's open);
- fees are charged on **both sides**; the default rates are the paper exchange's (taker 0.055 %,
  maker 0.02 %); one position per symbol, no pyramiding.

Two paths:

- :mod:`~elcaro.backtest.fast` — vectorised signals, then a loop over *trades* (not candles) that
  finds each exit with a numpy scan; for strategies whose exits are fixed at entry (the Donchian
  breakout of :mod:`elcaro.strategies.donchian`, the speed reference);
- :mod:`~elcaro.backtest.events` — bar by bar over a multi-symbol universe with one account; runs
  the breakout strategy (scanner at a cadence, signals, risk book, exits) and any other
  :class:`~elcaro.backtest.events.EventStrategy`. On the Donchian strategy both paths give the same
  trades, float for float (the tests check it).

Results (:class:`BacktestResult`): trades (one row per close, partial closes included), the equity
curve marked to every bar's close, and :class:`Metrics` (return, win rate, profit factor, Sharpe
annualised over 365-day years, max drawdown, average R, exposure, trade count); :func:`write_chart`
draws them. The same inputs give byte-identical trade lists (:func:`trades_csv`).
:func:`grid_search` varies a strategy's settings on all cores. :func:`load_dataset` reads candle
files, cuts the window, resamples, and reports the gaps it does not fill.
"""

from elcaro.backtest.chart import write_chart
from elcaro.backtest.data import Dataset, SymbolData, load_dataset
from elcaro.backtest.fills import DEFAULT_MAKER_FEE, DEFAULT_TAKER_FEE, FillModel
from elcaro.backtest.grid import GridAxis, GridRun, combinations, grid_search, parse_axis, with_values
from elcaro.backtest.metrics import METRIC_NAMES, EquityCurve, Metrics, compute_metrics
from elcaro.backtest.result import BacktestConfig, BacktestResult
from elcaro.backtest.runner import StrategySettings, run_backtest
from elcaro.backtest.trades import BacktestTrade, trades_csv, write_trades

__all__ = [
    "DEFAULT_MAKER_FEE",
    "DEFAULT_TAKER_FEE",
    "METRIC_NAMES",
    "BacktestConfig",
    "BacktestResult",
    "BacktestTrade",
    "Dataset",
    "EquityCurve",
    "FillModel",
    "GridAxis",
    "GridRun",
    "Metrics",
    "StrategySettings",
    "SymbolData",
    "combinations",
    "compute_metrics",
    "grid_search",
    "load_dataset",
    "parse_axis",
    "run_backtest",
    "trades_csv",
    "with_values",
    "write_chart",
    "write_trades",
]
