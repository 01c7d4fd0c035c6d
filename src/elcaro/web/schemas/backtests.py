"""Backtest requests, progress, results and chart data."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from elcaro.backtest import BacktestTrade, Metrics
from elcaro.services.backtests import BacktestRun, ChartData
from elcaro.web.schemas.common import MAX_EPOCH_MS, Body, Model, finite


class BacktestIn(Body):
    strategy: Literal["breakout", "donchian"] = "breakout"
    preset: str | None = Field(None, max_length=64, description="A shipped breakout preset (`GET /backtests/presets`).")
    overrides: dict[str, Any] = Field(default_factory=dict, max_length=64, description="`dotted.field` → value.")
    exchange: str = Field(max_length=32, description="Where the stored candles came from (`elcaro data import`).")
    symbols: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(min_length=1, max_length=20)
    start: int = Field(ge=0, le=MAX_EPOCH_MS, description="Epoch ms, inclusive.")
    end: int = Field(gt=0, le=MAX_EPOCH_MS, description="Epoch ms, exclusive.")
    capital: float = Field(10_000.0, gt=0, le=1e12)
    scan_every: int = Field(12, ge=1, le=100_000)


class MetricsOut(Model):
    total_return: float | None
    win_rate: float | None
    profit_factor: float | None
    sharpe: float | None
    max_drawdown: float | None
    average_r: float | None
    exposure: float | None
    trades: int
    final_equity: float | None

    @classmethod
    def of(cls, m: Metrics) -> MetricsOut:
        return cls(
            total_return=finite(m.total_return),
            win_rate=finite(m.win_rate),
            profit_factor=finite(m.profit_factor),
            sharpe=finite(m.sharpe),
            max_drawdown=finite(m.max_drawdown),
            average_r=finite(m.average_r),
            exposure=finite(m.exposure),
            trades=m.trades,
            final_equity=finite(m.final_equity),
        )


class BacktestOut(Model):
    id: str
    status: str
    progress: float
    done: int
    total: int
    strategy: str
    timeframe: str
    symbols: list[str]
    start: int
    end: int
    created_at: int
    finished_at: int | None
    error: str | None
    metrics: MetricsOut | None
    notes: list[str]
    skipped_filters: list[str]

    @classmethod
    def of(cls, run: BacktestRun) -> BacktestOut:
        result = run.result
        return cls(
            id=run.id,
            status=run.status.value,
            progress=run.progress,
            done=run.done,
            total=run.total,
            strategy=run.request.preset or run.request.strategy,
            timeframe=run.timeframe,
            symbols=list(run.request.symbols),
            start=run.request.start,
            end=run.request.end,
            created_at=run.created_at,
            finished_at=run.finished_at,
            error=run.error,
            metrics=None if result is None else MetricsOut.of(result.metrics),
            notes=[] if result is None else list(result.notes),
            skipped_filters=[] if result is None else list(result.skipped_filters),
        )


class BacktestTradeOut(Model):
    position: int
    symbol: str
    side: str
    entry_time: int
    exit_time: int
    entry_price: float
    exit_price: float
    quantity: float
    fees: float
    pnl: float
    r_multiple: float | None
    exit_reason: str

    @classmethod
    def of(cls, t: BacktestTrade) -> BacktestTradeOut:
        return cls(
            position=t.position,
            symbol=t.symbol,
            side=t.side.value,
            entry_time=t.entry_time,
            exit_time=t.exit_time,
            entry_price=t.entry_price,
            exit_price=t.exit_price,
            quantity=t.quantity,
            fees=t.fees,
            pnl=t.pnl,
            r_multiple=finite(t.r_multiple),
            exit_reason=t.exit_reason,
        )


class ChartOut(Model):
    """Columns, not rows: ready for a charting library's series (times in epoch ms)."""

    symbol: str
    equity_time: list[int]
    equity: list[float]
    drawdown: list[float]
    candle_time: list[int]
    open: list[float]
    high: list[float]
    low: list[float]
    close: list[float]
    trades: list[BacktestTradeOut]

    @classmethod
    def of(cls, chart: ChartData, trades: list[BacktestTrade]) -> ChartOut:
        c = chart.candles
        return cls(
            symbol=chart.symbol,
            equity_time=list(chart.equity_timestamps),
            equity=list(chart.equity),
            drawdown=list(chart.drawdown),
            candle_time=[int(t) for t in c.timestamp],
            open=[float(v) for v in c.open],
            high=[float(v) for v in c.high],
            low=[float(v) for v in c.low],
            close=[float(v) for v in c.close],
            trades=[BacktestTradeOut.of(t) for t in trades if t.symbol == chart.symbol],
        )
