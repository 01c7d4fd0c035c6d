"""Reads beside busy writers on SQLite: ``Database.reading()`` against reads through ``transaction()``.

One process, one SQLite file (WAL), as the platform runs by default. ``--writers`` tasks post ELC transfers
through ``LedgerService`` without pause (short ``BEGIN IMMEDIATE`` transactions appending to the hash chain) and
``--batch-writers`` tasks store ``--batch`` audit entries per transaction (a long write, like a fan-out recording
its executions), while users' balances are read — the read a wallet screen makes — at ``--read-rate`` a second
from ``--readers`` tasks, as requests arrive: on a schedule, whether or not the last one has finished. A read's
latency runs from its scheduled moment, so time spent queued counts. The baseline, measured in the same run,
reads through ``transaction()``, which queues behind every writer; the candidate reads through ``reading()``,
which takes no lock (at most ``SQLITE_READERS`` at once). ``--read-rate 0`` reads as fast as the readers go
instead. Figures: reads/s, read latency p50/p99, transfers/s and batches/s; medians of ``--rounds`` rounds, the
two modes alternating.

    .venv/bin/python benchmarks/sqlite_reads.py --read-rate 200 --readers 16 --writers 2 --batch-writers 1
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import statistics
import tempfile
import time
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from pathlib import Path

from elcaro.models import AuditEntry, TelegramProfile
from elcaro.services.ledger import LedgerService
from elcaro.services.users import UserService
from elcaro.storage import Database, UnitOfWork, migrate

ELC = 10**8
Opener = Callable[[], AbstractAsyncContextManager[UnitOfWork]]


@dataclass(frozen=True)
class Sample:
    reads_per_s: float
    p50_ms: float
    p99_ms: float
    writes_per_s: float
    batches_per_s: float


async def _seed(database: Database, users: int) -> list[int]:
    ids = [(await UserService(database).register(TelegramProfile(700_000 + n))).id for n in range(users)]
    ledger = LedgerService(database)
    for user_id in ids:
        await ledger.credit_purchase(user_id, 1_000_000 * ELC, key=f"seed:{user_id}", reference="benchmark")
    return ids


async def _round(database: Database, ids: list[int], opener: Opener, args: argparse.Namespace, tag: str) -> Sample:
    ledger = LedgerService(database)
    latencies: list[float] = []
    writes = batches = 0
    keys = itertools.count()
    deadline = time.perf_counter() + args.seconds

    async def reader(n: int) -> None:
        interval = args.readers / args.read_rate if args.read_rate > 0 else 0.0  # 0: one read after another
        due = time.perf_counter() + n * interval / args.readers
        while due < deadline:
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            due = due if interval else time.perf_counter()
            async with opener() as tx:
                await tx.ledger.user_balances(ids[n % len(ids)])
            latencies.append(time.perf_counter() - due)
            due += interval

    async def writer(n: int) -> None:
        nonlocal writes
        while time.perf_counter() < deadline:
            sender, receiver = ids[n % len(ids)], ids[(n + 1) % len(ids)]
            await ledger.transfer(sender, receiver, ELC, key=f"{tag}:{next(keys)}")
            writes += 1

    async def batch_writer() -> None:
        nonlocal batches
        while time.perf_counter() < deadline:
            async with database.transaction() as tx:
                for n in range(args.batch):
                    await tx.audit.add(AuditEntry("benchmark.batch", None, f"row:{n}", {"tag": tag}, at=0))
            batches += 1

    started = time.perf_counter()
    await asyncio.gather(
        *(reader(n) for n in range(args.readers)),
        *(writer(n) for n in range(args.writers)),
        *(batch_writer() for _ in range(args.batch_writers)),
    )
    elapsed = time.perf_counter() - started
    latencies.sort()

    def percentile(q: float) -> float:
        return latencies[min(len(latencies) - 1, int(len(latencies) * q))] * 1000 if latencies else float("nan")

    return Sample(len(latencies) / elapsed, percentile(0.5), percentile(0.99), writes / elapsed, batches / elapsed)


def _median(samples: list[Sample]) -> Sample:
    return Sample(
        statistics.median(s.reads_per_s for s in samples),
        statistics.median(s.p50_ms for s in samples),
        statistics.median(s.p99_ms for s in samples),
        statistics.median(s.writes_per_s for s in samples),
        statistics.median(s.batches_per_s for s in samples),
    )


async def _bench(folder: Path, args: argparse.Namespace) -> None:
    url = f"sqlite+aiosqlite:///{folder / 'elcaro.db'}"
    await migrate.upgrade_async(url)
    database = Database(url)
    try:
        ids = await _seed(database, args.users)
        print(
            f"{f'{args.read_rate:.0f} reads/s' if args.read_rate > 0 else 'reads as fast as they go'} (a balance each) "
            f"from {args.readers} readers beside {args.writers} "
            f"writers (ELC transfers) and "
            f"{args.batch_writers} batch writers ({args.batch} rows a transaction), {args.users} users; "
            f"{args.seconds:.0f} s × {args.rounds} rounds per row, alternating; medians"
        )
        modes: dict[str, Opener] = {"transaction()": database.transaction, "reading()": database.reading}
        samples: dict[str, list[Sample]] = {name: [] for name in modes}
        for round_no in range(args.rounds):
            for name, opener in modes.items():
                samples[name].append(await _round(database, ids, opener, args, f"{name}:{round_no}"))
        print(f"{'reads through':16} {'reads/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'transfers/s':>12} {'batches/s':>10}")
        figures = {name: _median(found) for name, found in samples.items()}
        for name, figure in figures.items():
            print(
                f"{name:16} {figure.reads_per_s:>9.0f} {figure.p50_ms:>8.2f} {figure.p99_ms:>8.2f} "
                f"{figure.writes_per_s:>12.0f} {figure.batches_per_s:>10.1f}"
            )
        base, new = figures["transaction()"], figures["reading()"]
        print(
            f"\nreading() against transaction(): {new.reads_per_s / base.reads_per_s:.2f}× the reads/s, "
            f"{new.p50_ms / base.p50_ms:.2g}× the p50 and {new.p99_ms / base.p99_ms:.2g}× the p99 read latency, "
            f"{new.writes_per_s / base.writes_per_s:.2f}× the transfers/s"
            + (f", {new.batches_per_s / base.batches_per_s:.2f}× the batches/s" if base.batches_per_s else "")
        )
        assert (await LedgerService(database).verify()).ok  # every transfer of both modes is on the chain
    finally:
        await database.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--readers", type=int, default=16)
    parser.add_argument(
        "--read-rate", type=float, default=200.0, help="reads a second, all readers together (0: as fast as they can)"
    )
    parser.add_argument("--writers", type=int, default=2)
    parser.add_argument("--batch-writers", type=int, default=1)
    parser.add_argument("--batch", type=int, default=500, help="audit rows per batch transaction")
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        asyncio.run(_bench(Path(folder), args))


if __name__ == "__main__":
    main()
