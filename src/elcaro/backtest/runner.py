"""One entry point for any strategy the backtester knows: it picks the path and runs it."""

from __future__ import annotations

from collections.abc import Mapping

from elcaro.backtest.breakout_run import run_breakout
from elcaro.backtest.donchian_run import run_donchian
from elcaro.backtest.events import Progress
from elcaro.backtest.result import BacktestConfig, BacktestResult
from elcaro.marketdata import CandleArrays
from elcaro.models.errors import ValidationError
from elcaro.strategies.breakout.preset import BreakoutPreset
from elcaro.strategies.donchian import DonchianSettings

StrategySettings = DonchianSettings | BreakoutPreset


def run_backtest(
    universe: Mapping[str, CandleArrays],
    settings: StrategySettings,
    config: BacktestConfig,
    *,
    progress: Progress | None = None,
) -> BacktestResult:
    """Backtest ``settings`` over ``universe``, candles already at ``settings.timeframe``.

    ``progress(done, total)`` follows the bar times of a bar-by-bar run (the fast path is too quick to need it).
    """
    if not universe:
        raise ValidationError("no symbols to backtest", field="data")
    if isinstance(settings, DonchianSettings):
        return run_donchian(universe, settings, config, progress=progress)
    if isinstance(settings, BreakoutPreset):
        if config.path == "fast":
            raise ValidationError("the breakout strategy runs bar by bar only; use path events or auto", field="path")
        return run_breakout(universe, settings, config, progress=progress)
    raise ValidationError(f"no backtest for {type(settings).__name__}", field="strategy")
