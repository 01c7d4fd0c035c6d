"""``elcaro engine …`` and ``elcaro scan``: the breakout strategy engine from a shell.

::

    elcaro scan --preset liquid --data ../shared/data/ohlcv         # one scanner pass over recorded candles
    elcaro scan                                                     # the running engine's last pass
    elcaro engine run --preset liquid --mode paper --user 1         # the platform with the engine, until Ctrl+C
    elcaro engine run --preset liquid --data ../shared/data/ohlcv   # replay recorded candles on a paper exchange
    elcaro engine status                                            # what the running engine shows
    elcaro engine command kill_switch                               # command the running engine from another shell
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from elcaro.cli.common import fail, load_cli_settings, run_async, serve_until_stopped

if TYPE_CHECKING:
    from rich.console import Console

    from elcaro.engine import Transition
    from elcaro.services.engine.recorded import ScanRow
    from elcaro.services.engine.replay import ReplayResult

app = typer.Typer(help="The breakout strategy engine: run it, see its state, command it.", no_args_is_help=True)

PresetOpt = Annotated[str, typer.Option(help="A shipped preset (elcaro engine presets) or a preset file's path.")]
SetOpt = Annotated[
    list[str] | None, typer.Option("--set", help="Override a preset field, e.g. --set scanner.min_volume_24h=0.")
]
AnyQuoteOpt = Annotated[
    bool, typer.Option("--any-quote", help="Treat every file as a USDT perpetual (e.g. the BTC-quoted pairs).")
]

# Short headers for the filter columns of the scan table, in the scanner's order.
_SHORT = {
    "universe": "univ",
    "history": "hist",
    "gaps": "gaps",
    "duplicates": "dups",
    "order": "order",
    "volume_24h": "vol24h",
    "open_interest": "oi",
    "oi_change": "oiΔ",
    "spread": "sprd",
    "depth_30bps": "d30",
    "depth_50bps": "d50",
    "trades_per_minute": "tpm",
    "atr_pct": "atr%",
    "bb_width_pct": "bbw%",
    "volume_surge_1h": "surge1h",
    "volume_surge_5m": "surge5m",
    "btc_correlation": "btcρ",
}


def _console() -> Console:
    from rich.console import Console

    # Piped output (a script, a test) gets full width rather than rich's 80-column default.
    return Console(width=None if sys.stdout.isatty() else 240, highlight=False)


def _overrides(pairs: Sequence[str] | None) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for pair in pairs or ():
        name, sep, text = pair.partition("=")
        if not sep or not name:
            raise fail(f"--set takes field=value, got {pair!r}")
        try:
            values[name] = json.loads(text)
        except json.JSONDecodeError:
            values[name] = text  # a word, such as a stop mode
    return values


def _instant(text: str | None) -> int | None:
    if text is None:
        return None
    from elcaro.core.clock import from_datetime

    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise fail(f"--at: expected an ISO date such as 2023-01-20 or 2023-01-20T12:00, got {text!r}") from None
    return from_datetime(moment if moment.tzinfo else moment.replace(tzinfo=UTC))


def _when(ms: int | None) -> str:
    if ms is None:
        return "—"
    from elcaro.core.clock import to_datetime

    return to_datetime(ms).strftime("%Y-%m-%d %H:%M:%S")


def _figure(value: float | None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if math.isinf(value):
        return "∞"
    magnitude = abs(value)
    if magnitude >= 1e6:
        return f"{value / 1e6:,.1f}M"
    if magnitude >= 1000:
        return f"{value:,.0f}"
    return f"{value:.4g}"


def _mark(passed: bool | None) -> str:
    return "[green]✓[/]" if passed else "[dim]·[/]" if passed is None else "[red]✗[/]"


# ----------------------------------------------------------------------------------------------- scan


def scan(
    preset: PresetOpt = "liquid",
    data: Annotated[
        Path | None,
        typer.Option(
            help="A directory of candle CSVs (BASE_QUOTE-5m.csv); without it: the running engine's last scan."
        ),
    ] = None,
    values: SetOpt = None,
    any_quote: AnyQuoteOpt = False,
    at: Annotated[
        str | None, typer.Option(help="Scan the files as of this UTC time (ISO); default: their ends.")
    ] = None,
    details: Annotated[
        bool, typer.Option("--details", help="Also list every filter's value and threshold for each symbol.")
    ] = False,
) -> None:
    """One scanner pass: the candidates and every symbol's filter decisions (✓ passed, ✗ failed, · skipped)."""
    from elcaro.models.errors import ElcaroError

    console = _console()
    if data is None:
        rows, when, name = _last_scan()
        console.print(f"Last scan of the running engine ({name}) at {_when(when)} UTC")
        _print_scan(console, rows, details=details)
        return
    from elcaro.services.engine.recorded import preset_with, scan_recorded, scan_rows

    try:
        chosen = preset_with(preset, _overrides(values))
        result = scan_recorded(data, chosen, at=_instant(at), any_quote=any_quote)
    except ElcaroError as exc:
        raise fail(str(exc)) from None
    report = result.report
    console.print(
        f"Scanner pass of preset {report.preset} on {report.timeframe} candles from {data} "
        f"(latest candle {_when(report.at)} UTC): {len(report.candidates)} candidates of {len(report.decisions)}"
    )
    if result.relabelled:
        console.print(f"[yellow]Treated as USDT perpetuals (--any-quote):[/] {', '.join(result.relabelled)}")
    _print_scan(console, scan_rows(report), details=details)
    console.print("Recorded candles have no order book, open interest or trade stream: those filters are skipped (·).")


def _last_scan() -> tuple[list[ScanRow], int, str]:
    from elcaro.services.engine.recorded import scan_rows_from_status
    from elcaro.services.engine.status import read_status
    from elcaro.services.engine.wiring import status_path

    settings = load_cli_settings()
    data = read_status(status_path(settings.data_dir))
    found = scan_rows_from_status(data) if data is not None else None
    if found is None:
        raise fail(f"no engine has scanned in {settings.data_dir} yet; give --data DIR to scan recorded candles")
    return found


def _print_scan(console: Console, rows: Sequence[ScanRow], *, details: bool) -> None:
    from rich.table import Table

    names = [cell.name for cell in max(rows, key=lambda row: len(row.cells)).cells] if rows else []
    table = Table("#", "symbol", "score", "verdict", *(_SHORT.get(name, name) for name in names), title="Scan")
    for row in rows:
        cells = {cell.name: cell.passed for cell in row.cells}
        if row.rank is not None:
            verdict = "candidate"
        else:
            verdict = "failed: " + ", ".join(row.failed) if row.failed else "eligible, not in the top"
        table.add_row(
            str(row.rank) if row.rank is not None else "",
            row.symbol,
            _figure(row.score),
            verdict,
            *(_mark(cells[name]) if name in cells else "" for name in names),
        )
    console.print(table)
    if not details:
        return
    for row in rows:
        detail = Table("filter", "value", "threshold", "result", title=row.symbol)
        for cell in row.cells:
            detail.add_row(cell.name, _figure(cell.value), cell.threshold, _mark(cell.passed))
        console.print(detail)


# ------------------------------------------------------------------------------------------------ run


@app.command("run")
def run(
    preset: Annotated[
        str | None, typer.Option(help="A shipped preset or a preset file (default: the setting).")
    ] = None,
    mode: Annotated[str | None, typer.Option(help="paper or live (default: ELCARO_ENGINE_MODE).")] = None,
    target: Annotated[str | None, typer.Option(help="exchange:environment, e.g. bybit:paper.")] = None,
    user: Annotated[int | None, typer.Option(help="The operator user's id whose account the engine trades.")] = None,
    allow_live: Annotated[bool, typer.Option("--allow-live", help="Required for live mode: real money.")] = False,
    publish: Annotated[
        bool | None, typer.Option("--publish/--no-publish", help="Publish entries as strategy elcaro signals.")
    ] = None,
    data: Annotated[
        Path | None, typer.Option(help="Replay these recorded candles on a paper exchange of its own instead.")
    ] = None,
    speed: Annotated[float, typer.Option(help="Replay: bars per second (0: as fast as it trades).", min=0)] = 0.0,
    values: SetOpt = None,
    any_quote: AnyQuoteOpt = False,
) -> None:
    """Run the engine until Ctrl+C, printing every state change (with --data: until the recording ends)."""
    console = _console()

    def show(transition: Transition) -> None:
        console.print(
            f"{_when(transition.at)}  [bold]{transition.source}[/] → [bold]{transition.target}[/]  {transition.cause}"
        )

    if data is not None:
        _replay(console, data, preset or "liquid", _overrides(values), any_quote, speed, show)
        return
    if values:
        raise fail("--set applies to a replay (--data); the running engine takes a preset name or file")
    from elcaro.models.errors import ConfigError, ElcaroError
    from elcaro.services.engine.wiring import engine_config, run_engine

    settings = load_cli_settings()
    try:
        config = engine_config(
            settings,
            preset=preset,
            mode=mode,
            target=target,
            user_id=user,
            allow_live=allow_live or None,
            publish_signals=publish,
        )
    except ConfigError as exc:
        raise fail(str(exc), 2) from None
    except ElcaroError as exc:
        raise fail(str(exc)) from None
    console.print(
        f"Engine: preset {config.preset}, {config.mode} on {config.target} as user {config.user_id}. Ctrl+C to stop."
    )

    async def job(settings: Any, stop: Any) -> None:
        status = await run_engine(settings, stop, config, on_transition=show)
        console.print(
            f"Engine stopped in state {status.state}; {len(status.positions)} positions left behind their stops."
        )

    serve_until_stopped(job)


def _replay(
    console: Console, data: Path, preset: str, overrides: Mapping[str, Any], any_quote: bool, speed: float, show: Any
) -> None:
    from elcaro.services.engine.recorded import preset_with
    from elcaro.services.engine.replay import replay

    async def go() -> ReplayResult:
        chosen = preset_with(preset, overrides)
        return await replay(data, chosen, any_quote=any_quote, bars_per_second=speed, on_transition=show)

    _print_replay(console, run_async(go()))


def _print_replay(console: Console, result: ReplayResult) -> None:
    from rich.table import Table

    trades = result.trades
    net = sum((trade.net_pnl for trade in trades), Decimal(0))
    wins = sum(1 for trade in trades if trade.is_win)
    console.print(
        f"Replayed {result.bars} bars of {', '.join(result.symbols)}: {len(trades)} closed parts, "
        f"net PnL {net:+.2f}, equity {result.deposit:.2f} → {result.equity:.2f}"
        + (f", {wins / len(trades):.0%} of parts won" if trades else "")
    )
    by_reason: dict[str, list[Decimal]] = {}
    for trade in trades:
        by_reason.setdefault(trade.exit_reason.value, []).append(trade.net_pnl)
    table = Table("exit reason", "parts", "net PnL", title="Closed parts by exit reason")
    for reason, pnls in sorted(by_reason.items()):
        table.add_row(reason, str(len(pnls)), f"{sum(pnls, Decimal(0)):+.2f}")
    console.print(table)
    faults = result.status.faults
    if faults:
        console.print(f"[yellow]{len(faults)} faults; the last: {faults[-1].operation}: {faults[-1].message}[/]")


# --------------------------------------------------------------------------------------------- status


@app.command("status")
def status(
    as_json: Annotated[bool, typer.Option("--json", help="Print the status file as it is.")] = False,
) -> None:
    """What the engine running on this data directory last reported."""
    from elcaro.services.engine.status import read_status
    from elcaro.services.engine.wiring import status_path

    settings = load_cli_settings()
    path = status_path(settings.data_dir)
    data = read_status(path)
    if data is None:
        raise fail(f"no engine has run on {settings.data_dir} (no {path})")
    if as_json:
        typer.echo(json.dumps(data, indent=1, sort_keys=True))
        return
    _print_status(_console(), data, written=int(path.stat().st_mtime * 1000))


def _print_status(console: Console, data: Mapping[str, Any], *, written: int) -> None:
    from rich.table import Table

    console.print(
        f"[bold]{data['state']}[/] since {_when(data['since'])} UTC — preset {data['preset']} ({data['timeframe']}), "
        f"{data['mode']} on {data['target']}, user {data['user_id']}; {data['cycles']} cycles, "
        f"status written {_when(written)} UTC"
    )
    if data.get("killed"):
        killed = data["killed"]
        console.print(f"[red]Kill switch tripped[/] at {_when(killed['at'])} by {killed['actor']}: {killed['cause']}")
    if data.get("flatten"):
        console.print(f"[yellow]Closing everything:[/] {data['flatten']['cause']}")
    if data.get("retry_at"):
        console.print(f"Retry {data['attempts']} due at {_when(data['retry_at'])} UTC")
    positions = Table(
        "symbol", "side", "remaining", "entry", "stop", "stop is", "tp1", "tp2", "bars", title="Positions"
    )
    for p in data["positions"]:
        positions.add_row(
            p["symbol"],
            p["side"],
            p["remaining"],
            p["entry_price"],
            p["stop"],
            p["stop_reason"],
            _figure(p["tp1"]) + (" ✓" if p["tp1_done"] else ""),
            _figure(p["tp2"]) + (" ✓" if p["tp2_done"] else ""),
            str(p["bars_held"]),
        )
    console.print(positions)
    for other in data.get("unmanaged", []):
        console.print(f"[yellow]Not the engine's:[/] {other['side']} {other['qty']} {other['symbol']}")
    decisions = Table("time (UTC)", "stage", "symbol", "code", "message", title="Recent decisions")
    for d in data["decisions"][-12:]:
        decisions.add_row(_when(d["at"]), d["stage"], d["symbol"] or "", d["code"], d["message"])
    console.print(decisions)
    changes = Table("time (UTC)", "from", "to", "cause", title="Recent state changes")
    for t in data["history"][-8:]:
        changes.add_row(_when(t["at"]), t["source"], t["target"], t["cause"])
    console.print(changes)
    for breaker in data["breakers"]:
        if breaker["state"] != "closed":
            console.print(
                f"[yellow]Breaker {breaker['operation']} {breaker['state']}[/], retry {_when(breaker['retry_at'])}"
            )
    for fault in data["faults"][-3:]:
        console.print(f"[red]{fault['operation']}[/] {fault['error']} ({fault['disposition']}): {fault['message']}")


# -------------------------------------------------------------------------------------------- command


@app.command("command")
def command(
    name: Annotated[
        str,
        typer.Argument(
            help="start, stop, pause, resume, reload_preset, time_stop, panic_exit, kill_switch, retry, reset."
        ),
    ],
    preset: Annotated[str | None, typer.Option(help="reload_preset: the preset to load.")] = None,
    wait: Annotated[
        float, typer.Option(help="Seconds to wait for the running engine's answer (0: do not).", min=0)
    ] = 10.0,
) -> None:
    """Command the engine running on this data directory (it takes commands within a second)."""
    import time

    from elcaro.models.errors import ElcaroError
    from elcaro.services.engine.inbox import commands_directory, drop_command

    settings = load_cli_settings()
    directory = commands_directory(settings.data_dir)
    try:
        path = drop_command(directory, name, "operator", preset=preset)
    except ElcaroError as exc:
        raise fail(str(exc)) from None
    answer = directory / "done" / path.name
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline and not answer.exists():
        time.sleep(0.2)
    if not answer.exists():
        typer.echo(f"queued {path.name}; a running engine takes it within a second (see elcaro engine status)")
        return
    outcome = json.loads(answer.read_text(encoding="utf-8"))
    if not outcome.get("accepted"):
        raise fail(f"{name} refused: {outcome.get('reason')}")
    typer.echo(f"{name} accepted (the engine was {outcome.get('state')})")


@app.command("presets")
def presets() -> None:
    """The shipped presets."""
    from elcaro.services.engine.recorded import preset_names

    for name in preset_names():
        typer.echo(name)
