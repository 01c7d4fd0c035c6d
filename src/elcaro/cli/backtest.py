"""``elcaro backtest``: a strategy over recorded candles, or a grid of its settings, with tables and a chart.

One command (not a group), as traders type it::

    elcaro backtest --preset liquid --data ../shared/data/ohlcv --from 2018-01-10 --to 2018-01-30
    elcaro backtest --strategy donchian --data ../shared/data/ohlcv --set period=55 --set stop_pct=0.01
    elcaro backtest --preset liquid --data … --grid signals.min_volume_surge=1.5,2.0 --grid levels.lookback=144,288

It writes ``trades.csv``, ``equity.csv`` and ``chart.png`` (a grid: ``grid.csv``) to ``--out``.
"""

from __future__ import annotations

import math
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from elcaro.cli.common import fail

if TYPE_CHECKING:
    from rich.console import Console

    from elcaro.backtest import BacktestResult, Dataset, GridRun, StrategySettings


def _console() -> Console:
    from rich.console import Console

    # Piped output (a script, a test) gets full width rather than rich's 80-column default.
    return Console(width=None if sys.stdout.isatty() else 200, highlight=False)


def _instant(text: str | None, option: str) -> int | None:
    """An ISO date or date-time, UTC unless it says otherwise, as epoch milliseconds."""
    if text is None:
        return None
    from elcaro.core.clock import from_datetime

    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise fail(f"{option}: expected an ISO date such as 2018-01-10 or 2018-01-10T12:00, got {text!r}") from None
    return from_datetime(moment if moment.tzinfo else moment.replace(tzinfo=UTC))


def _values(pairs: list[str]) -> dict[str, Any]:
    from elcaro.backtest.grid import parse_axis

    values: dict[str, Any] = {}
    for pair in pairs:
        axis = parse_axis(pair)
        if len(axis.values) != 1:
            raise fail(f"--set takes one value per field (use --grid for several), got {pair!r}")
        values[axis.field] = axis.values[0]
    return values


def _settings(strategy: str, preset: str, overrides: dict[str, Any]) -> StrategySettings:
    from elcaro.backtest import with_values
    from elcaro.strategies.breakout.preset import load_preset
    from elcaro.strategies.donchian import DonchianSettings

    base: StrategySettings = DonchianSettings() if strategy == "donchian" else load_preset(preset)
    return with_values(base, overrides) if overrides else base


def _percent(value: float) -> str:
    return "—" if math.isnan(value) else f"{value:+.2%}"


def _number(value: float, digits: int = 2) -> str:
    if math.isnan(value):
        return "—"
    if math.isinf(value):
        return "∞"
    return f"{value:,.{digits}f}"


def _metric_rows(result: BacktestResult) -> list[tuple[str, str]]:
    m = result.metrics
    return [
        ("total return", _percent(m.total_return)),
        ("final equity", _number(m.final_equity)),
        ("trades (positions)", str(m.trades)),
        ("win rate", "—" if math.isnan(m.win_rate) else f"{m.win_rate:.2%}"),
        ("profit factor", _number(m.profit_factor)),
        ("Sharpe (annualised)", _number(m.sharpe)),
        ("max drawdown", f"{m.max_drawdown:.2%}"),
        ("average R", _number(m.average_r)),
        ("exposure", f"{m.exposure:.2%}"),
    ]


def _print_data(console: Console, dataset: Dataset) -> None:
    from rich.table import Table

    from elcaro.core.clock import to_datetime

    table = Table("symbol", "file", f"{dataset.timeframe} bars", "from (UTC)", "to (UTC)", "missing", "gaps")
    for item in dataset.symbols:
        times = item.candles.timestamp
        table.add_row(
            item.symbol,
            item.path.name,
            str(len(item.candles)),
            f"{to_datetime(int(times[0])):%Y-%m-%d %H:%M}",
            f"{to_datetime(int(times[-1])):%Y-%m-%d %H:%M}",
            str(item.missing),
            str(len(item.health.gaps)),
        )
    console.print(table)
    for line in dataset.gap_lines():
        console.print(f"[yellow]gap[/] {line} (not filled: the next candle is the next bar)")
    for line in dataset.skipped:
        console.print(f"[dim]skipped {line}[/]")


def _print_result(console: Console, result: BacktestResult, shown: int) -> None:
    from rich.table import Table

    from elcaro.core.clock import to_datetime

    metrics = Table("metric", "value", title=f"{result.strategy} · {result.timeframe} · {result.path} path")
    for name, value in _metric_rows(result):
        metrics.add_row(name, value)
    console.print(metrics)
    if result.trades and shown:
        trades = Table(
            "#",
            "symbol",
            "side",
            "entry (UTC)",
            "exit (UTC)",
            "entry",
            "exit",
            "qty",
            "fees",
            "PnL",
            "R",
            "reason",
            title=f"last {min(shown, len(result.trades))} of {len(result.trades)} trade rows",
        )
        for t in result.trades[-shown:]:
            trades.add_row(
                str(t.position),
                t.symbol,
                str(t.side),
                f"{to_datetime(t.entry_time):%Y-%m-%d %H:%M}",
                f"{to_datetime(t.exit_time):%Y-%m-%d %H:%M}",
                f"{t.entry_price:.8g}",
                f"{t.exit_price:.8g}",
                f"{t.quantity:.6g}",
                f"{t.fees:.4g}",
                f"[{'green' if t.pnl > 0 else 'red'}]{t.pnl:,.2f}[/]",
                _number(t.r_multiple),
                t.exit_reason,
            )
        console.print(trades)
    if result.skipped_filters:
        console.print(
            "[yellow]skipped[/] (no such data in candle files; neither passed nor failed): "
            + ", ".join(result.skipped_filters)
        )
    for note in result.notes:
        console.print(f"[dim]{note}[/]")


def _chart_symbol(result: BacktestResult, wanted: str | None) -> str:
    if wanted:
        return wanted.upper()
    counts = {symbol: 0 for symbol in result.symbols}
    for trade in result.trades:
        counts[trade.symbol] += 1
    return min(counts, key=lambda symbol: (-counts[symbol], symbol))


def _write_outputs(out: Path, result: BacktestResult, dataset: Dataset, chart_symbol: str | None) -> list[Path]:
    import csv

    from elcaro.backtest import write_chart, write_trades
    from elcaro.models.errors import ValidationError

    out.mkdir(parents=True, exist_ok=True)
    written = [write_trades(out / "trades.csv", result.trades)]
    curve = result.curve
    with (out / "equity.csv").open("w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream, lineterminator="\n")
        writer.writerow(("timestamp", "equity", "drawdown", "in_market"))
        columns = (curve.timestamps.tolist(), curve.equity.tolist(), curve.drawdown.tolist(), curve.in_market.tolist())
        for timestamp, equity, drawdown, in_market in zip(*columns, strict=True):
            writer.writerow((timestamp, repr(equity), repr(drawdown), int(in_market)))
    written.append(out / "equity.csv")
    symbol = _chart_symbol(result, chart_symbol)
    if symbol not in dataset.universe:
        raise ValidationError(f"{symbol} is not among the backtested symbols", field="chart_symbol")
    written.append(write_chart(out / "chart.png", result, dataset.universe[symbol], symbol))
    return written


def _print_grid(console: Console, runs: list[GridRun], metric: str, shown: int) -> None:
    from rich.table import Table

    names = list(runs[0].params) if runs else []
    table = Table("rank", *names, "return", "Sharpe", "max DD", "win rate", "PF", "trades", title=f"ranked by {metric}")
    for run in runs[:shown]:
        m = run.metrics
        table.add_row(
            str(run.rank),
            *(str(run.params[name]) for name in names),
            _percent(m.total_return),
            _number(m.sharpe),
            f"{m.max_drawdown:.2%}",
            "—" if math.isnan(m.win_rate) else f"{m.win_rate:.1%}",
            _number(m.profit_factor),
            str(m.trades),
        )
    console.print(table)


def _write_grid(path: Path, runs: list[GridRun]) -> Path:
    import csv

    from elcaro.backtest import METRIC_NAMES

    path.parent.mkdir(parents=True, exist_ok=True)
    names = list(runs[0].params) if runs else []
    with path.open("w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream, lineterminator="\n")
        writer.writerow(("rank", *names, *METRIC_NAMES))
        for run in runs:
            params = (run.params[name] for name in names)
            writer.writerow((run.rank, *params, *(repr(run.metrics.value(m)) for m in METRIC_NAMES)))
    return path


def backtest(
    data: Annotated[
        list[Path], typer.Option(help="Candle CSV files or folders (names like ETH_BTC-5m.csv); repeatable.")
    ],
    preset: Annotated[str, typer.Option(help="Breakout preset: a shipped name or a .toml path.")] = "liquid",
    strategy: Annotated[str, typer.Option(help="breakout (a preset) or donchian (the simple reference).")] = "breakout",
    date_from: Annotated[str | None, typer.Option("--from", help="First bar time, ISO date (UTC), included.")] = None,
    date_to: Annotated[str | None, typer.Option("--to", help="End time, ISO date (UTC), excluded.")] = None,
    symbols: Annotated[str | None, typer.Option(help="Comma-separated symbols (default: every file).")] = None,
    set_: Annotated[
        list[str] | None, typer.Option("--set", help="field=value override, dotted (signals.tp1_r=1.2); repeatable.")
    ] = None,
    grid: Annotated[list[str] | None, typer.Option(help="field=v1,v2,… axis of a grid search; repeatable.")] = None,
    rank_by: Annotated[str, typer.Option(help="Metric ranking the grid (max_drawdown: lowest first).")] = "sharpe",
    workers: Annotated[int | None, typer.Option(min=1, help="Grid processes (default: one per core).")] = None,
    capital: Annotated[float, typer.Option(help="Starting equity, in the candles' quote currency.")] = 10_000.0,
    taker_fee: Annotated[float | None, typer.Option(help="Taker fee, a fraction (default: paper's).")] = None,
    maker_fee: Annotated[float | None, typer.Option(help="Maker fee, a fraction (default: paper's).")] = None,
    slippage_bps: Annotated[float, typer.Option(help="Slippage of taker fills, basis points.")] = 0.0,
    path: Annotated[str, typer.Option(help="auto, fast (Donchian only) or events.")] = "auto",
    scan_every: Annotated[int, typer.Option(min=1, help="Bars between scanner passes (breakout).")] = 12,
    out: Annotated[Path, typer.Option(help="Folder for trades.csv, equity.csv, chart.png, grid.csv.")] = Path(
        "backtest-output"
    ),
    chart_symbol: Annotated[str | None, typer.Option(help="Symbol of the price panel (default: most trades).")] = None,
    show: Annotated[int, typer.Option(min=0, help="Trade rows (or grid rows) to print.")] = 20,
) -> None:
    """Backtest a strategy over recorded candles: metrics, trades, equity curve and a chart."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from elcaro.backtest import BacktestConfig, FillModel, grid_search, load_dataset, parse_axis, run_backtest
    from elcaro.backtest.fills import DEFAULT_MAKER_FEE, DEFAULT_TAKER_FEE
    from elcaro.backtest.trades import held_across_gaps
    from elcaro.marketdata import Timeframe
    from elcaro.models.errors import ElcaroError

    if strategy not in ("breakout", "donchian"):
        raise fail(f"--strategy must be breakout or donchian, got {strategy!r}")
    console = _console()
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    try:
        settings = _settings(strategy, preset, _values(set_ or []))
        axes = [parse_axis(spec) for spec in grid or []]
        config = BacktestConfig(
            capital=capital,
            fills=FillModel(
                taker_fee=DEFAULT_TAKER_FEE if taker_fee is None else taker_fee,
                maker_fee=DEFAULT_MAKER_FEE if maker_fee is None else maker_fee,
                slippage_bps=slippage_bps,
            ),
            path=path,  # type: ignore[arg-type]  # checked by BacktestConfig
            scan_every=scan_every,
        )
        wanted = [s.strip() for s in symbols.split(",") if s.strip()] if symbols else None
        with Progress(*columns, console=console, transient=True) as progress:
            task = progress.add_task("reading candles", total=None)

            def on_file(name: str, done: int, total: int) -> None:
                progress.update(task, description=f"reading {name}", completed=done, total=total)

            dataset = load_dataset(
                data,
                settings.timeframe,
                start=_instant(date_from, "--from"),
                end=_instant(date_to, "--to"),
                symbols=wanted,
                on_file=on_file,
            )
        _print_data(console, dataset)
        if axes:
            from elcaro.backtest import combinations

            total = len(combinations(settings, axes))
            with Progress(*columns, console=console) as progress:
                task = progress.add_task(f"grid of {total} backtests", total=total)
                runs = grid_search(
                    dataset.universe,
                    settings,
                    axes,
                    config,
                    metric=rank_by,
                    workers=workers,
                    progress=lambda done, _: progress.update(task, completed=done),
                )
            _print_grid(console, runs, rank_by, show)
            console.print(f"written: {_write_grid(out / 'grid.csv', runs)}")
            return
        with Progress(*columns, console=console, transient=True) as progress:
            task = progress.add_task(f"backtesting {dataset.candles:,} candles", total=None)
            result = run_backtest(
                dataset.universe,
                settings,
                config,
                progress=lambda done, total: progress.update(task, completed=done, total=total),
            )
        _print_result(console, result, show)
        if dataset.gap_lines():
            across = held_across_gaps(result.trades, Timeframe.parse(dataset.timeframe).ms)
            console.print(f"[yellow]gap[/] {across} trade rows were held across missing candles")
        written = _write_outputs(out, result, dataset, chart_symbol)
    except ElcaroError as exc:
        raise fail(str(exc)) from None
    console.print("written: " + ", ".join(str(p) for p in written))
