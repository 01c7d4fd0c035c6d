"""Backtests from the web form: real candles in the candle store, run in the worker processes, followed to the end.

The candles are the real BTC/USDT 5-minute file of ``shared/data`` imported the way ``elcaro data import``
stores them. The result the API hands back must be the backtester's own on the same window (run here
in-process as the reference), and its chart must describe that same run.
"""

from __future__ import annotations

import asyncio
import itertools
import multiprocessing
import os
import signal
from pathlib import Path
from typing import Any

import pytest
from web_world import World

from elcaro.backtest import BacktestConfig, run_backtest, with_values
from elcaro.marketdata import CandleArrays, read_candles
from elcaro.services.backtests import MAX_BARS_PER_SYMBOL, BacktestRequest, BacktestService, RunStatus
from elcaro.strategies.breakout.preset import load_preset

pytestmark = pytest.mark.db

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "ohlcv" / "BTC_USDT-5m.csv"
EXCHANGE = "binance"
SYMBOL = "BTC/USDT"
FIVE_MINUTES = 300_000
BARS = 6000
OVERRIDES = {"scanner.max_btc_correlation": 1.0}
"""One symbol only, and it is BTC itself: its correlation with BTC is 1, which the preset's filter refuses."""


@pytest.fixture
async def window(world: World) -> tuple[int, int]:
    """The candle file stored; the window of its first ``BARS`` bars (epoch ms, end exclusive)."""
    await world.runtime.platform.market_data.import_csv(DATA, exchange=EXCHANGE, symbol=SYMBOL, timeframe="5m")
    first = next(iter(read_candles(DATA))).timestamp
    return first, first + BARS * FIVE_MINUTES


def _request(start: int, end: int, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "strategy": "breakout",
        "preset": "liquid",
        "overrides": OVERRIDES,
        "exchange": EXCHANGE,
        "symbols": [SYMBOL],
        "start": start,
        "end": end,
        "capital": 10_000,
    }
    body.update(changes)
    return body


async def _run_to_the_end(world: World, headers: dict[str, str], body: dict[str, Any]) -> list[dict[str, Any]]:
    """Start a backtest and poll it until it ends; every state seen on the way, in order."""
    started = await world.client.post("/api/v1/backtests", json=body, headers=headers)
    assert started.status_code == 202, started.text
    seen = [started.json()]
    async with asyncio.timeout(180):
        while seen[-1]["status"] not in ("done", "failed"):
            await asyncio.sleep(0.05)
            answer = await world.client.get(f"/api/v1/backtests/{seen[-1]['id']}", headers=headers)
            assert answer.status_code == 200, answer.text
            seen.append(answer.json())
    return seen


async def test_a_backtest_runs_to_the_backtesters_own_result_with_its_chart(
    world: World, window: tuple[int, int]
) -> None:
    await world.user(8001)
    headers = await world.headers(8001)
    start, end = window
    seen = await _run_to_the_end(world, headers, _request(start, end))

    first, last = seen[0], seen[-1]
    assert first["status"] == "queued" and first["progress"] == 0 and first["metrics"] is None
    assert last["status"] == "done", last
    progress = [state["progress"] for state in seen]
    assert progress == sorted(progress) and last["progress"] == 1
    assert last["total"] == BARS and last["done"] == BARS
    assert (last["timeframe"], last["strategy"], last["symbols"]) == ("5m", "liquid", [SYMBOL])

    candles = [c for c in read_candles(DATA) if start <= c.timestamp < end]
    reference = run_backtest(
        {SYMBOL: CandleArrays.from_candles(candles)}, with_values(load_preset("liquid"), OVERRIDES), BacktestConfig()
    )
    assert reference.metrics.trades > 0  # the window trades: the comparison below compares something
    trades = (await world.client.get(f"/api/v1/backtests/{last['id']}/trades", headers=headers)).json()
    assert [(t["entry_time"], t["exit_time"], t["pnl"], t["exit_reason"]) for t in trades] == [
        (t.entry_time, t.exit_time, t.pnl, t.exit_reason) for t in reference.trades
    ]
    assert last["metrics"]["trades"] == reference.metrics.trades
    assert last["metrics"]["final_equity"] == pytest.approx(reference.metrics.final_equity, rel=1e-12)

    chart = await world.client.get(f"/api/v1/backtests/{last['id']}/chart", params={"points": 100}, headers=headers)
    assert chart.status_code == 200, chart.text
    drawn = chart.json()
    assert drawn["symbol"] == SYMBOL and drawn["trades"] == trades
    assert drawn["candle_time"] == [c.timestamp for c in candles]
    assert drawn["close"] == [float(c.close) for c in candles]
    assert len(drawn["equity_time"]) == len(drawn["equity"]) == len(drawn["drawdown"]) <= 100
    curve = reference.curve
    assert drawn["equity_time"][0] == curve.timestamps[0] and drawn["equity_time"][-1] == curve.timestamps[-1]
    assert drawn["equity"][-1] == pytest.approx(reference.metrics.final_equity, rel=1e-12)
    assert all(d <= 0 for d in drawn["drawdown"]) or all(d >= 0 for d in drawn["drawdown"])

    listed = (await world.client.get("/api/v1/backtests", headers=headers)).json()
    assert [run["id"] for run in listed] == [last["id"]]


async def test_a_longer_timeframe_is_built_from_the_stored_five_minutes(world: World, window: tuple[int, int]) -> None:
    await world.user(8002)
    headers = await world.headers(8002)
    start, end = window
    aligned = start - start % 3_600_000 + 3_600_000
    last = (await _run_to_the_end(world, headers, _request(aligned, end, preset="swing")))[-1]
    assert last["status"] == "done" and last["timeframe"] == "1h", last
    drawn = (await world.client.get(f"/api/v1/backtests/{last['id']}/chart", headers=headers)).json()
    hours = drawn["candle_time"]
    assert hours[0] == aligned and all(b - a == 3_600_000 for a, b in itertools.pairwise(hours))
    fives = [c for c in read_candles(DATA) if hours[0] <= c.timestamp < hours[0] + 3_600_000]
    assert len(fives) == 12
    assert drawn["high"][0] == max(float(c.high) for c in fives) and drawn["close"][0] == float(fives[-1].close)
    assert last["total"] == len(hours)


WRONG: list[tuple[dict[str, Any], str]] = [
    ({"preset": "nope"}, "preset"),
    ({"preset": "../../etc/passwd"}, "preset"),
    ({"overrides": {"scanner.nope": 1}}, "overrides.scanner.nope"),
    ({"overrides": {"scanner.max_btc_correlation": 7}}, "overrides.scanner.max_btc_correlation"),
    ({"overrides": {"risk.risk_per_trade_pct": "lots"}}, "overrides.risk.risk_per_trade_pct"),
    ({"strategy": "martingale"}, "strategy"),
    ({"strategy": "donchian", "preset": "liquid", "overrides": {}}, "preset"),
    ({"symbols": ["ETH/USDT"]}, "symbols"),
    ({"symbols": []}, "symbols"),
    ({"exchange": "bybit"}, "symbols"),
    ({"capital": 0}, "capital"),
    ({"scan_every": 0}, "scan_every"),
    ({"colour": "red"}, "colour"),
]
"""A change to a good request → the field the refusal must name."""


async def test_a_wrong_request_is_refused_naming_the_field(world: World, window: tuple[int, int]) -> None:
    await world.user(8003)
    headers = await world.headers(8003)
    start, end = window
    cases = [(_request(start, end, **changes), field) for changes, field in WRONG]
    cases += [
        (_request(end, start), "start"),
        (_request(start, start + (MAX_BARS_PER_SYMBOL + 1) * FIVE_MINUTES), "end"),
        (_request(start - 10 * 86_400_000, start - 86_400_000), "symbols"),  # nothing stored then
    ]
    for body, field in cases:
        answer = await world.client.post("/api/v1/backtests", json=body, headers=headers)
        assert answer.status_code == 422, f"{body}: {answer.text}"
        assert answer.json()["error"]["field"] == field, f"{body}: {answer.text}"
    assert (await world.client.get("/api/v1/backtests", headers=headers)).json() == []  # nothing was queued


async def test_another_users_backtest_is_not_found(world: World, window: tuple[int, int]) -> None:
    await world.user(8005)
    await world.user(8006)
    alice, bob = await world.headers(8005), await world.headers(8006)
    body = _request(*window, strategy="donchian", preset=None, overrides={})
    run = (await _run_to_the_end(world, alice, body))[-1]
    assert run["status"] == "done", run
    for path in ("", "/trades", "/chart"):
        assert (await world.client.get(f"/api/v1/backtests/{run['id']}{path}", headers=bob)).status_code == 404
        assert (await world.client.get(f"/api/v1/backtests/{run['id']}{path}", headers=alice)).status_code == 200
    assert (await world.client.get("/api/v1/backtests", headers=bob)).json() == []


async def test_the_backtester_stops_when_its_workers_were_sent_sigterm(world: World, window: tuple[int, int]) -> None:
    """A SIGTERM to the process group (``docker stop``, systemd) reaches the idle workers too: no hang at the end."""
    user = await world.user(8009)
    service = BacktestService(world.runtime.platform.market_data)
    start, end = window
    request = BacktestRequest(
        strategy="breakout",
        preset="liquid",
        overrides=OVERRIDES,
        exchange=EXCHANGE,
        symbols=(SYMBOL,),
        start=start,
        end=end,
    )
    async with asyncio.timeout(180):  # a hang guard: without it a regression would stall the whole run
        async with service.running():
            run = await service.start(user.id, request)
            while service.get(user.id, run.id).status not in (RunStatus.DONE, RunStatus.FAILED):  # noqa: ASYNC110
                await asyncio.sleep(0.05)  # the service offers no completion event: polled, as the web app does
            assert service.get(user.id, run.id).status is RunStatus.DONE
            workers = [child for child in multiprocessing.active_children() if "PoolWorker" in child.name]
            assert workers
            for worker in workers:
                assert worker.pid is not None
                os.kill(worker.pid, signal.SIGTERM)
            await asyncio.to_thread(lambda: [worker.join() for worker in workers])
    assert service.queue_sizes().get("running", 0) == 0
