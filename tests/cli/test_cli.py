"""The real ``elcaro`` command, run as a subprocess the way an operator runs it."""

import json
import queue
import re
import signal
import subprocess
import threading
import time
import urllib.request
from pathlib import Path

import pytest
from cli_process import ELCARO, elcaro, environment


def test_help_lists_the_commands(tmp_path: Path) -> None:
    out = elcaro(environment(tmp_path), "--help").stdout
    for command in ("run", "db", "user", "rotate-key", "version"):
        assert command in out
    assert elcaro(environment(tmp_path), "version").stdout.strip()


@pytest.mark.db
def test_operator_flow(empty_database_url: str, tmp_path: Path) -> None:
    env = environment(tmp_path, empty_database_url)
    assert "database at revision" in elcaro(env, "db", "upgrade").stdout

    added = elcaro(env, "user", "add", "123456", "--username", "alice", "--language", "ru").stdout
    assert "@alice" in added and "pending" in added
    assert "@alice" in elcaro(env, "user", "list", "--pending").stdout
    assert "approved" in elcaro(env, "user", "approve", "tg:123456").stdout
    assert "yes" in elcaro(env, "user", "ban", "tg:123456", "--reason", "spam").stdout
    assert "admin" in elcaro(env, "user", "add", "777", "--admin").stdout
    assert elcaro(env, "user", "list", "--pending").stdout.count("@alice") == 0

    duplicate = elcaro(env, "user", "add", "123456", ok=False)
    assert duplicate.returncode == 1 and "already registered" in duplicate.stderr
    unknown = elcaro(env, "user", "approve", "999", ok=False)
    assert unknown.returncode == 1 and "no user with id 999" in unknown.stderr
    assert "Traceback" not in unknown.stderr + duplicate.stderr

    assert "secrets re-encrypted" in elcaro(env, "rotate-key").stdout
    backup = tmp_path / "backup.db"
    assert "backup written" in elcaro(env, "db", "backup", str(backup)).stdout
    elcaro(env, "user", "add", "999999")
    refused = elcaro(env, "db", "restore", str(backup), ok=False)
    assert refused.returncode == 1 and "--yes" in refused.stderr
    elcaro(env, "db", "restore", str(backup), "--yes")
    listed = elcaro(env, "user", "list").stdout
    assert "123456" in listed and "999999" not in listed


@pytest.mark.db
def test_candle_import_and_health(empty_database_url: str, tmp_path: Path) -> None:
    env = environment(tmp_path, empty_database_url)
    elcaro(env, "db", "upgrade")
    data = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "ohlcv" / "ADA_BTC-5m.csv"
    where = ("--exchange", "binance", "--symbol", "ADA/BTC", "--timeframe", "5m")
    assert "stored 5720 candles" in elcaro(env, "data", "import", str(data), *where).stdout
    health = elcaro(env, "data", "health", *where).stdout
    assert "40 missing in 5 gaps" in health and "gap of 33" in health


@pytest.mark.db
def test_trading_preferences_from_the_command_line(empty_database_url: str, tmp_path: Path) -> None:
    env = environment(tmp_path, empty_database_url)
    elcaro(env, "db", "upgrade")
    elcaro(env, "user", "add", "1001", "--approve")
    assert "yes" in elcaro(env, "user", "accept-terms", "tg:1001").stdout
    assert "bybit:paper enabled" in elcaro(env, "user", "target", "tg:1001", "bybit:paper").stdout
    assert "bybit:live enabled\n" in elcaro(env, "user", "target", "tg:1001", "bybit:live").stdout  # no opt-in
    stored = elcaro(env, "user", "set", "tg:1001", "--strategy", "cornix", "enabled=true", "risk_pct=0.1").stdout
    assert json.loads(stored) == {"enabled": True, "risk_pct": "0.1"}
    refused = elcaro(env, "user", "set", "tg:1001", "risk_pct=50", ok=False)
    assert refused.returncode == 1 and "risk_pct must be between 0.01 and 10, got 50" in refused.stderr


def test_invalid_configuration_stops_with_the_setting_named(tmp_path: Path) -> None:
    result = elcaro(environment(tmp_path, ELCARO_LOG_LEVEL="LOUD"), "db", "upgrade", ok=False)
    assert result.returncode == 2
    assert "ELCARO_LOG_LEVEL" in result.stderr and "'INFO'" in result.stderr and "Traceback" not in result.stderr


def test_commands_refuse_an_unmigrated_database(tmp_path: Path) -> None:
    result = elcaro(environment(tmp_path), "user", "list", ok=False)
    assert result.returncode != 0 and "elcaro db upgrade" in result.stderr and "Traceback" not in result.stderr


def test_run_starts_and_stops_cleanly(tmp_path: Path) -> None:
    env = environment(tmp_path, ELCARO_ADMIN_TELEGRAM_IDS="42", ELCARO_SIMULATOR_PORT="0")
    process = subprocess.Popen([ELCARO, "run"], env=env, stderr=subprocess.PIPE, text=True)
    assert process.stderr is not None
    lines = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        lines.append(line)
        if "running" in line or not line:
            break
    started = "".join(lines)
    assert "running" in started, started
    url = re.search(r"simulator at (http://127\.0\.0\.1:\d+)", started)
    assert url, started
    with urllib.request.urlopen(f"{url[1]}/v5/market/time", timeout=10) as answer:  # noqa: S310 - loopback
        assert json.load(answer)["retCode"] == 0
    process.send_signal(signal.SIGINT)
    _, rest = process.communicate(timeout=30)
    assert process.returncode == 0, rest
    assert "stopped" in rest
    assert (tmp_path / "data" / "elcaro.db").exists()
    assert (tmp_path / "data" / "master.key").stat().st_mode & 0o077 == 0


@pytest.mark.slow
def test_the_main_job_copies_a_signal_dropped_into_its_inbox(tmp_path: Path) -> None:
    """The README walkthrough: run the platform, set up a paper trader, send a post, see the entry placed."""
    env = environment(tmp_path, ELCARO_SIMULATOR_PORT="0")
    process = subprocess.Popen([ELCARO, "run"], env=env, stderr=subprocess.PIPE, text=True)
    assert process.stderr is not None
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in process.stderr], daemon=True).start()  # type: ignore[union-attr]

    def wait_for(text: str) -> str:
        seen = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                line = lines.get(timeout=1)
            except queue.Empty:
                continue
            seen.append(line)
            if text in line:
                return line
        raise AssertionError(f"never logged {text!r}:\n" + "".join(seen))

    try:
        wait_for("running")
        elcaro(env, "user", "add", "1001", "--username", "alice", "--approve")
        elcaro(env, "user", "accept-terms", "tg:1001")
        elcaro(env, "user", "target", "tg:1001", "bybit:paper")
        elcaro(env, "user", "set", "tg:1001", "--strategy", "scryptomera", "enabled=true", "risk_pct=1")
        elcaro(env, "signal", "send", "SCRIPTOMER LONG BTCUSDT @ 60000")
        placed = wait_for("entry_placed")
        assert "user 1 bybit:paper BTC/USDT:USDT" in placed
        wait_for("1 filled")
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)
    assert process.returncode == 0
    assert list((tmp_path / "data" / "inbox" / "done").glob("*.txt"))
