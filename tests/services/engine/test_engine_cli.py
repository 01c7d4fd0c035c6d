"""``elcaro scan`` and ``elcaro engine …`` through typer's runner, on the real candles of shared/data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from engine_world import DATA, REPLAY_OVERRIDES, make_world
from typer.testing import CliRunner

from elcaro.cli.main import app
from elcaro.engine import EngineState
from elcaro.services.engine.inbox import commands_directory, take_commands
from elcaro.storage import Database

runner = CliRunner()
OPEN_UP = [arg for field, value in REPLAY_OVERRIDES.items() for arg in ("--set", f"{field}={json.dumps(value)}")]


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in list(__import__("os").environ):
        if name.startswith("ELCARO_"):
            monkeypatch.delenv(name)
    data_dir = tmp_path / "data"
    monkeypatch.setenv("ELCARO_DATA_DIR", str(data_dir))
    return data_dir


def test_scan_shows_every_symbol_and_filter_of_the_recorded_candles(env: Path) -> None:
    result = runner.invoke(app, ["scan", "--preset", "liquid", "--data", str(DATA)])
    assert result.exit_code == 0, result.output
    assert "0 candidates of 13" in result.output  # the liquid thresholds against real 2018–2023 candles
    lines = {line.split("│")[2].strip(): line for line in result.output.splitlines() if line.count("│") > 5}
    assert "failed: universe" in lines["ADA/BTC"]  # BTC-quoted: not a USDT perpetual
    assert "failed: volume_surge_1h, volume_surge_5m" in lines["XRP/USDT:USDT"]
    assert "skipped" in result.output

    opened = runner.invoke(app, ["scan", "--data", str(DATA), "--any-quote", *OPEN_UP, "--details"])
    assert opened.exit_code == 0, opened.output
    assert "10 candidates of 13" in opened.output  # top_n of the liquid preset
    assert "Treated as USDT perpetuals (--any-quote): ADA/BTC" in opened.output
    assert ">= 0" in opened.output or "≥ 0" in opened.output  # --details lists each threshold


def test_scan_names_a_bad_preset_field(env: Path) -> None:
    result = runner.invoke(app, ["scan", "--data", str(DATA), "--set", "scanner.top_n=0"])
    assert result.exit_code == 1
    assert "scanner.top_n" in result.output


def test_engine_run_replays_recorded_candles_and_prints_its_state_changes(env: Path, tmp_path: Path) -> None:
    data = tmp_path / "candles"
    data.mkdir()
    rows = (DATA / "XRP_USDT_USDT-5m.csv").read_text().splitlines()
    (data / "XRP_USDT_USDT-5m.csv").write_text("\n".join(rows[:900]) + "\n")  # the first 899 real candles
    result = runner.invoke(app, ["engine", "run", "--data", str(data), *OPEN_UP])
    assert result.exit_code == 0, result.output
    assert "idle → initializing" in result.output
    assert "initializing → scanning" in result.output
    assert "→ stopped  time_stop" in result.output  # the end of the data time-stops: every trade is closed
    assert "Replayed 899 bars of XRP/USDT:USDT" in result.output
    assert "Closed parts by exit reason" in result.output


def test_engine_run_needs_an_operator_user(env: Path) -> None:
    result = runner.invoke(app, ["engine", "run", "--preset", "liquid"])
    assert result.exit_code == 2
    assert "ELCARO_ENGINE_USER_ID" in result.output
    live = runner.invoke(app, ["engine", "run", "--user", "1", "--mode", "live", "--target", "bybit:live"])
    assert live.exit_code == 2 and "explicit live" in live.output


def test_engine_status_without_an_engine_says_so(env: Path) -> None:
    result = runner.invoke(app, ["engine", "status"])
    assert result.exit_code == 1 and "no engine has run" in result.output
    assert runner.invoke(app, ["scan"]).exit_code == 1


def test_engine_presets_lists_the_shipped_ones(env: Path) -> None:
    result = runner.invoke(app, ["engine", "presets"])
    assert result.exit_code == 0
    assert result.output.split() == ["conservative", "liquid", "retest", "scalping", "swing"]


@pytest.mark.db
async def test_status_scan_and_commands_of_a_running_engine(database: Database, env: Path) -> None:
    world = await make_world(database)
    engine = world.engine(status_file=env / "engine" / "status.json")
    try:
        engine.command("start", "operator")
        await engine.settle()
        for _ in range(300):
            if engine.status().positions:
                break
            assert await engine.next_bar()

        shown = runner.invoke(app, ["engine", "status"])
        assert shown.exit_code == 0, shown.output
        assert "managing since" in shown.output and "preset liquid (5m)" in shown.output
        assert "BTC/USDT:USDT" in shown.output and "stop_loss" in shown.output  # the position and its stop
        as_json = json.loads(runner.invoke(app, ["engine", "status", "--json"]).output)
        assert as_json["state"] == "managing" and as_json["positions"][0]["symbol"] == "BTC/USDT:USDT"

        scanned = runner.invoke(app, ["scan"])
        assert scanned.exit_code == 0, scanned.output
        assert "Last scan of the running engine (liquid)" in scanned.output and "BTC/USDT:USDT" in scanned.output

        queued = runner.invoke(app, ["engine", "command", "pause", "--wait", "0"])
        assert queued.exit_code == 0 and "queued" in queued.output
        refused = runner.invoke(app, ["engine", "command", "retry", "--wait", "0"])
        assert refused.exit_code == 0
        assert take_commands(engine, commands_directory(env)) == 2
        assert engine.state is EngineState.PAUSED
        answers = sorted((commands_directory(env) / "done").iterdir())
        outcomes = [json.loads(path.read_text()) for path in answers]
        assert outcomes[0] == {"accepted": True, "state": "managing"}
        assert outcomes[1]["accepted"] is False and "no error to retry" in outcomes[1]["reason"]
    finally:
        await world.close()
