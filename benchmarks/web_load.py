"""Load on the web app: requests/s, p50/p99 latency and server CPU per request of the positions and statistics
routes, under concurrent keep-alive connections on loopback.

A real uvicorn server runs the app in a child process on a seeded SQLite database: ``--users`` users, each
with ``--trades`` closed trades and open managed positions on the paper venue (manual orders placed through
the trading desk, so the positions route reads live marks). Each connection sends one request after
another on one keep-alive HTTP/1.1 connection, through a minimal client on asyncio streams: an HTTP client
library costs more CPU per request than the server does, and on a small machine it would be what is
measured. Server CPU per request is read from ``/proc`` (Linux), so it holds even when other processes share
the cores.

The baseline is measured in the same run: ``/health`` (no login, one database ping) and ``/api/v1/me`` (the
login check and one read: what every user route pays before its own work), and each route with a single
connection. Figures are medians of ``--rounds`` rounds.

    .venv/bin/python benchmarks/web_load.py --connections 16 --seconds 5 --rounds 3
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import statistics
import tempfile
import time
import uuid
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx

from elcaro.core.config import Settings
from elcaro.core.secrets import generate_key
from elcaro.models import ExitReason, PositionSide, TelegramProfile, Trade
from elcaro.models.target import Target
from elcaro.services.runtime import open_runtime
from elcaro.services.telegram_login import mini_app_secret, sign
from elcaro.web.app import create_app, serving
from elcaro.web.ratelimit import RateLimitPolicy, Rule

BOT_TOKEN = "123456:BENCH-made-up-token"  # noqa: S105 - a made-up token for a local fake
FIRST_TELEGRAM_ID = 900_000
POSITIONS = ("BTCUSDT long 0.01", "ETHUSDT short 0.1")
"""Each user's open positions: manual market orders on the paper venue."""
ROUTES = ("/health", "/api/v1/me", "/api/v1/trading/positions", "/api/v1/statistics?period=all")


def _settings(data_dir: Path, port: int) -> Settings:
    key_file = data_dir / "bench.key"
    if not key_file.exists():
        key_file.write_text(generate_key())
    return Settings(
        data_dir=data_dir,
        master_key=key_file.read_text(),
        simulator_port=0,
        telegram_bot_token=BOT_TOKEN,
        web_port=port,
        log_level="WARNING",
    )


async def _seed(data_dir: Path, users: int, trades: int) -> None:
    async with open_runtime(_settings(data_dir, 0)) as runtime:
        target = Target.parse("bybit:paper")
        platform = runtime.platform
        for n in range(users):
            user = await platform.users.register(TelegramProfile(FIRST_TELEGRAM_ID + n))
            await platform.users.approve(user.id)
            await platform.users.accept_terms(user.id)
            await platform.preferences.set_target(user.id, target)
            async with platform.database.transaction() as tx:  # seeding only: a benchmark's own fixture
                for i in range(trades):
                    opened = 1_700_000_000_000 + i * 3_600_000
                    await tx.trades.add(
                        Trade(
                            target=target,
                            symbol="BTC/USDT:USDT",
                            side=PositionSide.LONG if i % 2 else PositionSide.SHORT,
                            qty=Decimal("0.01"),
                            entry_price=Decimal(60_000 + i),
                            exit_price=Decimal(60_000 + i + (50 if i % 3 else -40)),
                            opened_at=opened,
                            closed_at=opened + 1_800_000,
                            exit_reason=ExitReason.TAKE_PROFIT,
                            strategy="elcaro" if i % 2 else "scalper",
                            user_id=user.id,
                        )
                    )
            for order in POSITIONS:
                preview = await runtime.desk.prepare_manual(user.id, order)
                placed = await runtime.desk.place_manual(
                    user.id, preview.request, preview.options[0], intent=uuid.uuid4().hex
                )
                if placed.position_id is None:
                    raise SystemExit(f"seeding: {order} was not adopted: {placed.adoption_error}")


def _serve(data_dir: str, port: int, ready: Any) -> None:
    async def main() -> None:
        settings = _settings(Path(data_dir), port)
        async with open_runtime(settings) as runtime:
            open_limits = Rule(10**9, 10**9)
            policy = RateLimitPolicy(open_limits, open_limits, open_limits, open_limits, open_limits)
            app = create_app(runtime, settings, limits=policy)
            async with serving(app, "127.0.0.1", port):
                ready.set()
                await asyncio.Event().wait()

    asyncio.run(main())


def _init_data(telegram_id: int) -> str:
    fields = {"user": json.dumps({"id": telegram_id}), "auth_date": str(int(time.time()))}
    fields["hash"] = sign(fields, mini_app_secret(BOT_TOKEN))
    return urlencode(fields)


async def _tokens(url: str, users: int) -> list[str]:
    async with httpx.AsyncClient(base_url=url) as client:
        tokens = []
        for n in range(users):
            answer = await client.post(
                "/api/v1/auth/telegram/mini-app", json={"init_data": _init_data(FIRST_TELEGRAM_ID + n)}
            )
            answer.raise_for_status()
            tokens.append(answer.json()["access_token"])
        return tokens


def _server_cpu_s(pid: int) -> float | None:
    """User + system CPU time of ``pid`` so far, from /proc (None where there is no /proc)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Sample:
    rate: float
    p50_ms: float
    p99_ms: float
    errors: int
    cpu_ms: float | None
    """Server CPU per request."""


async def _get(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes) -> int:
    """One request on a keep-alive connection; its status (the body is read and dropped)."""
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = next(
        (int(line.split(b":", 1)[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")),
        0,
    )
    await reader.readexactly(length)
    return status


async def _load(port: int, path: str, tokens: list[str], connections: int, seconds: float, pid: int) -> Sample:
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds

    async def connection(n: int) -> None:
        nonlocal errors
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        request = (
            f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {tokens[n % len(tokens)]}\r\n\r\n"
        ).encode()
        try:
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                status = await _get(reader, writer, request)
                latencies.append(time.perf_counter() - started)
                errors += status != 200
        finally:
            writer.close()

    cpu_before = _server_cpu_s(pid)
    started = time.perf_counter()
    await asyncio.gather(*(connection(n) for n in range(connections)))
    elapsed = time.perf_counter() - started
    cpu_after = _server_cpu_s(pid)
    latencies.sort()

    def percentile(q: float) -> float:
        return latencies[min(len(latencies) - 1, int(len(latencies) * q))] * 1000 if latencies else float("nan")

    cpu = None if cpu_before is None or cpu_after is None else (cpu_after - cpu_before) * 1000 / max(len(latencies), 1)
    return Sample(len(latencies) / elapsed, percentile(0.5), percentile(0.99), errors, cpu)


async def _bench(port: int, pid: int, args: argparse.Namespace) -> None:
    tokens = await _tokens(f"http://127.0.0.1:{port}", args.users)
    print(
        f"{args.users} users × {args.trades} trades and {len(POSITIONS)} open positions; "
        f"{args.seconds:.0f} s × {args.rounds} rounds per row; medians"
    )
    print(f"{'route':34} {'conns':>5} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'cpu ms/req':>10} {'errors':>6}")
    figures: dict[tuple[str, int], Sample] = {}
    for path in ROUTES:
        for conns in (1, args.connections):
            samples = [await _load(port, path, tokens, conns, args.seconds, pid) for _ in range(args.rounds)]
            cpus = [s.cpu_ms for s in samples if s.cpu_ms is not None]
            figure = Sample(
                statistics.median(s.rate for s in samples),
                statistics.median(s.p50_ms for s in samples),
                statistics.median(s.p99_ms for s in samples),
                sum(s.errors for s in samples),
                statistics.median(cpus) if cpus else None,
            )
            figures[(path, conns)] = figure
            cpu = "n/a" if figure.cpu_ms is None else f"{figure.cpu_ms:.2f}"
            print(
                f"{path:34} {conns:>5} {figure.rate:>8.0f} {figure.p50_ms:>8.1f} {figure.p99_ms:>8.1f} "
                f"{cpu:>10} {figure.errors:>6}"
            )
    health = figures[("/health", args.connections)]
    login = figures[("/api/v1/me", args.connections)]
    print("\nratios (medians):")
    for path in ROUTES[2:]:
        many, single = figures[(path, args.connections)], figures[(path, 1)]
        line = (
            f"  {path}: {many.rate / health.rate:.2f}× the /health rate and {many.rate / login.rate:.2f}× the "
            f"/api/v1/me rate at {args.connections} connections; {many.rate / single.rate:.2f}× its own "
            "1-connection rate"
        )
        if many.cpu_ms is not None and login.cpu_ms is not None:
            line += f"; {many.cpu_ms - login.cpu_ms:.2f} ms of server CPU per request beyond the login check"
        print(line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--trades", type=int, default=200, help="closed trades per user")
    parser.add_argument("--port", type=int, default=8971)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        asyncio.run(_seed(Path(folder), args.users, args.trades))
        context = multiprocessing.get_context("spawn")
        ready = context.Event()
        server = context.Process(target=_serve, args=(folder, args.port, ready), daemon=True)
        server.start()
        try:
            if not ready.wait(120):
                raise SystemExit("the server did not start")
            assert server.pid is not None
            asyncio.run(_bench(args.port, server.pid, args))
        finally:
            server.terminate()
            server.join(10)


if __name__ == "__main__":
    main()
