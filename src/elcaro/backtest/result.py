"""What a backtest is run with and what it gives back."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from elcaro.backtest.fills import FillModel
from elcaro.backtest.metrics import EquityCurve, Metrics
from elcaro.backtest.trades import BacktestTrade
from elcaro.models.errors import ValidationError

PathChoice = Literal["auto", "fast", "events"]


@dataclass(frozen=True, slots=True)
class BacktestConfig:
    """How to run, whatever the strategy.

    ``path``: ``fast`` (vectorised; the Donchian strategy only), ``events`` (bar by bar; any
    strategy) or ``auto`` (fast where the strategy allows it). ``scan_every``: bars between two
    scanner passes of the breakout strategy (the scanner looks at the candles closed by then).
    """

    capital: float = 10_000.0
    fills: FillModel = field(default_factory=FillModel)
    path: PathChoice = "auto"
    scan_every: int = 12

    def __post_init__(self) -> None:
        if not self.capital > 0:
            raise ValidationError(f"must be positive, got {self.capital}", field="capital")
        if self.path not in ("auto", "fast", "events"):
            raise ValidationError(f"must be auto, fast or events, got {self.path!r}", field="path")
        if not 1 <= self.scan_every <= 100_000:
            raise ValidationError(f"must be from 1 to 100000 bars, got {self.scan_every}", field="scan_every")


@dataclass(frozen=True, slots=True)
class BacktestResult:
    """Trades in canonical order (exit time, symbol, position), the equity curve, the metrics.

    ``skipped_filters`` names the strategy's filters that could not be evaluated on recorded candles
    (order-book filters: there is no book in a candle file); they were neither passed nor failed.
    ``notes`` are other facts a reader of the figures should know.
    """

    strategy: str
    timeframe: str
    path: Literal["fast", "events"]
    symbols: tuple[str, ...]
    trades: tuple[BacktestTrade, ...]
    curve: EquityCurve
    metrics: Metrics
    candles: int
    skipped_filters: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
