"""One signal fanned out to 1,000 paper users through the real ccxt path, beside a sequential per-user loop.

Every user has their own Bybit demo key, stored encrypted, and an account on the Bybit-compatible simulator, which
runs in a child process on 127.0.0.1 with a fixed 50 ms of latency on every request. The fan-out is the platform's
own: ``CopyTradingService`` over ``ExchangeAccess``, the unified client, our Bybit adapter and ccxt, with SQLite in a
temporary directory. Timed from the call until every user's market entry — sent with its stop attached — is
acknowledged and recorded (the ``ENTRY_PLACED`` event): p50 and p99 per user, and the total.

The sequential loop is the same service with one pair at a time, on fewer users, extrapolated to the full count
(said so in the output). A third run, of fewer users again, is profiled to show where the CPU time goes.

Two things differ from production on purpose, and the output says so: the simulator's and the client's per-IP
budget (Bybit: 600 requests per 5 s from one address) is lifted, since every user's request leaves this one
loopback address and a deployment at this size spreads them over several; and clients are opened before the timed
run, as the exchange pool keeps them open between signals (the cost of opening them is printed apart).

    .venv/bin/python benchmarks/fan_out.py [--users 1000] [--sequential 50] [--profiled 200] [--latency-ms 50]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import pstats
import secrets
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path
from typing import Any

from elcaro.core.config import Settings
from elcaro.core.events import EventBus
from elcaro.core.secrets import Keyring, generate_key
from elcaro.exchanges.client import PLATFORM_REGISTRY, ExchangeClientPool
from elcaro.exchanges.client.limits import BYBIT
from elcaro.exchanges.paper import PaperEngine
from elcaro.exchanges.simulator import (
    AccountConfig,
    FaultConfig,
    FaultRule,
    Latency,
    RateLimitConfig,
    RateRule,
    SimulatorConfig,
    start_simulator,
)
from elcaro.models import (
    ApprovalState,
    Entry,
    EntryKind,
    Exchange,
    ExchangeKeys,
    PositionSide,
    Role,
    Secret,
    SettingsKey,
    SettingsScope,
    Signal,
    SignalSource,
    SourceKind,
    Target,
    TelegramProfile,
    UserSettings,
)
from elcaro.models.events import EventKind, TradingEvent
from elcaro.services.copy_trading import DEFAULT_CONCURRENCY, CopyTradingService
from elcaro.services.credentials import CredentialService
from elcaro.services.exchange_access import ExchangeAccess
from elcaro.services.licences import LicenceConfig, LicenceService
from elcaro.services.paper_venue import PaperVenue
from elcaro.services.referrals import ReferralService
from elcaro.storage import Database, ExecutionStatus, UnitOfWork, upgrade_async
from elcaro.trading import LegKind, OrderKey

DEMO = Target.parse("bybit:demo")
SYMBOL = "BTC/USDT:USDT"
GOAL_S = 1.0
BYBIT_IP_LIMIT = (600, 5.0)
WARM_UP_BATCH = 50
"""Clients warmed up at once: a ccxt session costs ~30 ms of CPU to make (its SSL context), and a thousand made
together would hold the event loop past the requests' timeout."""


# ------------------------------------------------------------------------------------------------ the venue


async def serve(config_file: str) -> None:
    """Child process: run the simulator, print its URL, stop when the parent closes stdin."""
    config = SimulatorConfig.model_validate_json(await asyncio.to_thread(Path(config_file).read_text))
    simulator = await start_simulator(config)
    print(simulator.url, flush=True)
    await asyncio.to_thread(sys.stdin.read)
    await simulator.stop()


def simulator_config(accounts: list[AccountConfig], latency_ms: float) -> SimulatorConfig:
    return SimulatorConfig(
        accounts=tuple(accounts),
        rate_limits=RateLimitConfig(per_ip=RateRule(paths=("*",), requests=10**9, per_seconds=1)),
        faults=FaultConfig(rules=(FaultRule(path="*", latency=Latency(kind="fixed", ms=latency_ms)),)),
    )


def config_json(config: SimulatorConfig) -> str:
    """pydantic masks secrets when dumping: put them back for the child."""
    data = json.loads(config.model_dump_json())
    for dumped, account in zip(data["accounts"], config.accounts, strict=True):
        dumped["api_secret"] = account.api_secret.get_secret_value()
    return json.dumps(data)


# ------------------------------------------------------------------------------------------------ the platform


class LoopbackAccess(ExchangeAccess):
    """``ExchangeAccess`` with Bybit's per-IP budget lifted (see the module docstring); per-account limits stay."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.pool = ExchangeClientPool(self._open, self._keys, limits={Exchange.BYBIT: replace(BYBIT, ip=())})


class TimedDatabase(Database):
    """Counts transactions and the time spent inside them."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.transactions = 0
        self.seconds = 0.0

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[UnitOfWork]:
        start = time.perf_counter()
        try:
            async with super().transaction() as tx:
                yield tx
        finally:
            self.transactions += 1
            self.seconds += time.perf_counter() - start


class Stopwatch(EventBus[TradingEvent]):
    """When each user's entry was acknowledged and recorded."""

    def __init__(self) -> None:
        super().__init__()
        self.placed_at: dict[int, float] = {}
        self.other: list[TradingEvent] = []

    def publish(self, event: TradingEvent) -> None:
        if event.kind is EventKind.ENTRY_PLACED and event.user_id is not None:
            self.placed_at[event.user_id] = time.perf_counter()
        else:
            self.other.append(event)


async def add_users(
    database: Database,
    credentials: CredentialService,
    licences: LicenceService,
    accounts: list[AccountConfig],
    strategy: str,
    first: int,
) -> list[int]:
    """Approved users with a premium licence copying ``strategy`` at 1 % risk and 5× on bybit:demo, each with one
    account's keys."""
    ids = []
    async with database.transaction() as tx:
        for n in range(len(accounts)):
            user = await tx.users.add(
                TelegramProfile(first + n),
                language="en",
                role=Role.USER,
                approval=ApprovalState.APPROVED,
                referral_code=f"B{first + n:09d}",
                referred_by=None,
                now=1,
            )
            await tx.users.update(user.id, terms_accepted_at=1)
            key = SettingsKey(SettingsScope.STRATEGY, strategy=strategy)
            await tx.settings.put(UserSettings(user.id, key, {"enabled": True, "risk_pct": "1", "leverage": 5}))
            await tx.user_targets.set(user.id, DEMO, enabled=True, now=1)
            ids.append(user.id)
    for user_id, account in zip(ids, accounts, strict=True):
        await licences.grant(None, user_id, "premium", 30, "benchmark")
        secret = Secret(account.api_secret.get_secret_value())
        await credentials.save(user_id, DEMO, ExchangeKeys(api_key=Secret(account.api_key), api_secret=secret))
    return ids


async def store_signal(database: Database, strategy: str) -> Signal:
    signal = Signal(
        source=SignalSource(SourceKind.ENGINE, "benchmark"),
        strategy=strategy,
        symbol=SYMBOL,
        side=PositionSide.LONG,
        entry=Entry(EntryKind.MARKET),
        stop_loss=Decimal(59400),
        raw_text=f"benchmark {strategy}",
    )
    async with database.transaction() as tx:
        return await tx.signals.add(signal)


# ------------------------------------------------------------------------------------------------ the runs


@dataclass(frozen=True)
class Run:
    users: int
    wall: float
    cpu: float
    latencies: list[float]
    requests: dict[str, float]
    transactions: int
    transaction_seconds: float
    profile: pstats.Stats | None = None

    def quantile(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def request_counts() -> dict[str, float]:
    counts: dict[str, float] = defaultdict(float)
    for metric in PLATFORM_REGISTRY.collect():
        if metric.name == "elcaro_exchange_request_seconds":
            for sample in metric.samples:
                if sample.name.endswith("_count"):
                    counts[sample.labels["method"]] += sample.value
    return counts


async def warm_up(access: ExchangeAccess, users: list[int]) -> None:
    """Open each user's client and make its first request, as a pool that served an earlier signal holds them.

    The first opening loads the markets for the others. A client's first request builds its ccxt session.
    """
    await access.client(users[0], DEMO)
    for start in range(0, len(users), WARM_UP_BATCH):
        batch = users[start : start + WARM_UP_BATCH]
        clients = await asyncio.gather(*(access.client(user_id, DEMO) for user_id in batch))
        await asyncio.gather(*(client.fetch_positions([SYMBOL]) for client in clients))


async def fan_out(
    database: TimedDatabase,
    access: ExchangeAccess,
    licences: LicenceService,
    users: list[int],
    strategy: str,
    *,
    concurrency: int,
    profile: bool = False,
) -> Run:
    await warm_up(access, users)
    stopwatch = Stopwatch()
    service = CopyTradingService(database, access, stopwatch, licences, max_concurrent=concurrency)
    signal = await store_signal(database, strategy)
    before, transactions, seconds = request_counts(), database.transactions, database.seconds
    profiler = cProfile.Profile(time.process_time) if profile else None
    if profiler:
        profiler.enable()
    start, cpu = time.perf_counter(), time.process_time()
    report = await service.fan_out(signal)
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    if profiler:
        profiler.disable()
    filled = report.count(ExecutionStatus.FILLED)
    if filled != len(users) or len(stopwatch.placed_at) != len(users):
        problems = {(o.status, o.code, o.reason) for o in report.outcomes if o.status is not ExecutionStatus.FILLED}
        raise SystemExit(f"only {filled} of {len(users)} entries filled: {sorted(map(str, problems))[:5]}")
    assert signal.id is not None
    async with database.transaction() as tx:
        for user_id in users:
            entry_id = OrderKey(signal.id, user_id, DEMO).client_order_id(LegKind.ENTRY, 0)
            entry = await tx.orders.get(user_id, DEMO, entry_id)
            if entry is None or entry.stop_loss != signal.stop_loss:
                raise SystemExit(f"user {user_id}'s entry was not stored with its stop attached")
    after = request_counts()
    return Run(
        users=len(users),
        wall=wall,
        cpu=cpu,
        latencies=[stopwatch.placed_at[user_id] - start for user_id in users],
        requests={
            method: after[method] - before.get(method, 0) for method in after if after[method] > before.get(method, 0)
        },
        transactions=database.transactions - transactions,
        transaction_seconds=database.seconds - seconds,
        profile=pstats.Stats(profiler) if profiler else None,
    )


async def benchmark(url: str, accounts: list[AccountConfig], args: argparse.Namespace, workdir: Path) -> list[Run]:
    url_db = f"sqlite+aiosqlite:///{workdir / 'elcaro.db'}"
    await upgrade_async(url_db)
    database = TimedDatabase(url_db)
    credentials = CredentialService(database, Keyring([generate_key()]))
    venue = PaperVenue(database, PaperEngine(), "unused")  # ExchangeAccess's paper side; every user here is on demo
    access = LoopbackAccess(credentials, venue, base_urls={DEMO: url})
    settings = Settings(_env_file=None)  # the defaults: prices, tiers
    licences = LicenceService(
        database, LicenceConfig.from_settings(settings), ReferralService.from_settings(database, settings)
    )
    sizes = {"concurrent": args.users, "sequential": args.sequential, "profiled": args.profiled}
    groups: dict[str, list[int]] = {}
    offset, setup = 0, time.perf_counter()
    for name, size in sizes.items():
        groups[name] = await add_users(
            database, credentials, licences, accounts[offset : offset + size], name, 10_000 + offset
        )
        offset += size
    print(f"{offset} users with encrypted keys stored in {time.perf_counter() - setup:.1f} s")
    try:
        opening, cpu = time.perf_counter(), time.process_time()
        await warm_up(access, groups["concurrent"])
        print(
            f"opening {args.users} clients and their first request (keys decrypted, ccxt instances and sessions made): "
            f"{time.perf_counter() - opening:.2f} s, {time.process_time() - cpu:.2f} s CPU"
        )
        runs = [
            await fan_out(database, access, licences, groups["concurrent"], "concurrent", concurrency=args.concurrency),
            await fan_out(database, access, licences, groups["sequential"], "sequential", concurrency=1),
            await fan_out(
                database, access, licences, groups["profiled"], "profiled", concurrency=args.concurrency, profile=True
            ),
        ]
    finally:
        await access.close()
        venue.close()
        await database.close()
    return runs


# ------------------------------------------------------------------------------------------------ the report


GROUPS = (
    ("database (SQLAlchemy, aiosqlite, elcaro.storage)", ("/sqlalchemy/", "/aiosqlite/", "/elcaro/storage/")),
    (
        "exchange requests (ccxt, aiohttp, elcaro.exchanges)",
        ("/ccxt/", "/aiohttp/", "/yarl/", "/multidict/", "/elcaro/exchanges/"),
    ),
    ("event loop (asyncio, selectors)", ("/asyncio/", "/selectors.py")),
    ("copy trading and the domain (elcaro)", ("/elcaro/",)),
    ("built-ins (C code: JSON, HMAC, sockets, Decimal, copying)", ("~",)),
)


def by_group(stats: pstats.Stats) -> list[tuple[str, float]]:
    """Own CPU time by where the code lives, as shares of the run's CPU."""
    totals: dict[str, float] = defaultdict(float)
    raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    for (filename, _, _), (_, _, tottime, _, _) in raw.items():
        group = next((name for name, parts in GROUPS if any(part in filename for part in parts)), "other")
        totals[group] += tottime
    whole = sum(totals.values())
    return sorted(((name, seconds / whole) for name, seconds in totals.items()), key=lambda item: -item[1])


def report(runs: list[Run], args: argparse.Namespace) -> None:
    concurrent, sequential, profiled = runs
    users, ms = concurrent.users, 1000.0
    print(f"\none market-entry signal, bybit:demo via ccxt to the simulator, {args.latency_ms:g} ms a request")
    print(f"{'run':<34}{'users':>7}{'total s':>10}{'p50 ms':>10}{'p99 ms':>10}{'CPU s':>9}")
    for name, run in ((f"concurrent (up to {args.concurrency} at once)", concurrent), ("sequential", sequential)):
        print(
            f"{name:<34}{run.users:>7}{run.wall:>10.2f}{run.quantile(0.5) * ms:>10.0f}"
            f"{run.quantile(0.99) * ms:>10.0f}{run.cpu:>9.2f}"
        )
    per_user = sequential.wall / sequential.users
    extrapolated = per_user * users
    print(
        f"sequential extrapolated to {users} users: {extrapolated:.1f} s ({per_user * ms:.0f} ms a user, measured on "
        f"{sequential.users} users); the concurrent run is {extrapolated / concurrent.wall:.0f}× faster"
    )
    calls = sum(concurrent.requests.values())
    detail = ", ".join(f"{method} {count / users:g}" for method, count in sorted(concurrent.requests.items()))
    print(f"client calls per user: {calls / users:g} ({detail})")
    met = concurrent.wall <= GOAL_S
    verdict = "met" if met else "NOT met"
    print(f"goal: {users} users in ≤ {GOAL_S:.1f} s on this machine: {verdict} ({concurrent.wall:.2f} s)")
    if met:
        return
    cpu_per_user = concurrent.cpu / users
    waiting = per_user - sequential.cpu / sequential.users
    print("where the time goes:")
    print(
        f"  the process is CPU-bound: {concurrent.cpu:.1f} s of CPU in {concurrent.wall:.1f} s, "
        f"{cpu_per_user * ms:.1f} ms a user; {users} users in {GOAL_S:g} s on one core leave "
        f"{GOAL_S / users * ms:g} ms a user"
    )
    print(
        f"  a user alone waits {waiting * ms:.0f} ms on the venue (about {waiting * ms / args.latency_ms:.0f} round "
        f"trips of {args.latency_ms:g} ms in series): concurrency hides that, not the CPU"
    )
    print(
        f"  database: {concurrent.transactions / users:.1f} transactions a user, queued one at a time on SQLite "
        f"({concurrent.transaction_seconds / concurrent.transactions * ms:.1f} ms each on average, waiting included)"
    )
    if profiled.profile is not None:
        print(f"  CPU by where the code runs (profiled run of {profiled.users} users), scaled to the concurrent run:")
        for name, share in by_group(profiled.profile):
            print(f"    {share:>4.0%}  {share * cpu_per_user * ms:>5.1f} ms a user  {name}")
    limit, period = BYBIT_IP_LIMIT
    print(
        f"  and on Bybit itself one address may send {limit} requests per {period:g} s: these {calls:.0f} client "
        f"calls alone need {calls / (limit / period):.0f} s from one IP"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--sequential", type=int, default=50)
    parser.add_argument("--profiled", type=int, default=100)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--concurrency", type=int, default=DEFAULT_CONCURRENCY)
    parser.add_argument("--serve", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        asyncio.run(serve(args.serve))
        return
    total = args.users + args.sequential + args.profiled
    accounts = [
        AccountConfig(api_key=secrets.token_hex(9), api_secret=secrets.token_hex(18), balance=Decimal(10_000))
        for _ in range(total)
    ]
    with tempfile.TemporaryDirectory() as workdir:
        config_file = Path(workdir) / "simulator.json"
        config_file.write_text(config_json(simulator_config(accounts, args.latency_ms)))
        child = subprocess.Popen(  # noqa: S603 - this very script, with the interpreter running it
            [sys.executable, __file__, "--serve", str(config_file)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert child.stdout is not None
            url = child.stdout.readline().strip()
            runs = asyncio.run(benchmark(url, accounts, args, Path(workdir)))
        finally:
            assert child.stdin is not None
            child.stdin.close()
            child.wait(timeout=60)
    report(runs, args)


if __name__ == "__main__":
    main()
