"""``elcaro backtest``: the real executable on a small real file, as a trader runs it."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

from backtest_builders import OHLCV

ELCARO = str(Path(sys.executable).parent / "elcaro")
DATA = str(OHLCV / "BTC_USDT-5m.csv")


def elcaro(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ELCARO_")}
    env["ELCARO_DATA_DIR"] = str(tmp_path / "data")
    return subprocess.run(
        [ELCARO, "backtest", *args], env=env, capture_output=True, text=True, timeout=300, check=False
    )


def test_a_breakout_backtest_writes_trades_equity_and_chart(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = elcaro(
        tmp_path,
        "--preset",
        "liquid",
        "--data",
        DATA,
        "--from",
        "2023-01-05",
        "--to",
        "2023-01-12",
        "--set",
        "scanner.max_btc_correlation=1.0",
        "--out",
        str(out),
    )
    assert result.returncode == 0, result.stderr
    for text in ("BTC/USDT", "total return", "Sharpe (annualised)", "trade rows", "skipped", "scanner.spread"):
        assert text in result.stdout
    assert (out / "chart.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with (out / "equity.csv").open() as stream:
        rows = list(csv.DictReader(stream))
    assert len(rows) == 7 * 288 and float(rows[0]["equity"]) > 0
    with (out / "trades.csv").open() as stream:
        header = next(csv.reader(stream))
    assert header[:3] == ["position", "symbol", "side"] and "r_multiple" in header


def test_the_donchian_strategy_and_its_trades_table(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = elcaro(
        tmp_path,
        "--strategy",
        "donchian",
        "--data",
        DATA,
        "--from",
        "2023-01-10T12:00",
        "--to",
        "2023-01-10T15:00",
        "--set",
        "period=10",
        "--set",
        "stop_pct=0.002",
        "--set",
        "target_pct=0.003",
        "--capital",
        "1000",
        "--out",
        str(out),
    )
    assert result.returncode == 0, result.stderr
    assert "fast path" in result.stdout and "last 2 of 2 trade rows" in result.stdout
    with (out / "trades.csv").open() as stream:
        trades = list(csv.DictReader(stream))
    assert [(t["entry_index"], t["exit_index"], t["exit_reason"]) for t in trades] == [
        ("24", "25", "target"),
        ("26", "29", "stop"),
    ]
    assert (out / "chart.png").stat().st_size > 10_000


def test_a_grid_is_ranked_and_written(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = elcaro(
        tmp_path,
        "--strategy",
        "donchian",
        "--data",
        DATA,
        "--to",
        "2023-01-20",
        "--grid",
        "period=20,40",
        "--grid",
        "stop_pct=0.01,0.02",
        "--rank-by",
        "total_return",
        "--workers",
        "2",
        "--out",
        str(out),
    )
    assert result.returncode == 0, result.stderr
    assert "ranked by total_return" in result.stdout
    with (out / "grid.csv").open() as stream:
        rows = list(csv.DictReader(stream))
    assert [row["rank"] for row in rows] == ["1", "2", "3", "4"]
    assert sorted((row["period"], row["stop_pct"]) for row in rows) == [
        ("20", "0.01"),
        ("20", "0.02"),
        ("40", "0.01"),
        ("40", "0.02"),
    ]
    returns = [float(row["total_return"]) for row in rows]
    assert returns == sorted(returns, reverse=True)


def test_mistakes_are_one_clear_line(tmp_path: Path) -> None:
    bad_field = elcaro(tmp_path, "--data", DATA, "--grid", "signals.volume_surge_min=1.5,2.0")
    assert bad_field.returncode == 1
    assert "signals.volume_surge_min" in bad_field.stderr and "Traceback" not in bad_field.stderr
    bad_value = elcaro(tmp_path, "--data", DATA, "--set", "risk.risk_per_trade_pct=50")
    assert bad_value.returncode == 1 and "risk.risk_per_trade_pct" in bad_value.stderr
    bad_date = elcaro(tmp_path, "--data", DATA, "--from", "yesterday")
    assert bad_date.returncode == 1 and "--from" in bad_date.stderr
    no_data = elcaro(tmp_path, "--data", str(tmp_path / "nothing"))
    assert no_data.returncode == 1 and "no such file or folder" in no_data.stderr
