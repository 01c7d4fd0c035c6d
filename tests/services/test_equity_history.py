"""Equity history: recorded from the real venues on a schedule, summed into a curve, thinned with age.

The recording tests run the whole platform (``open_runtime``) with its local exchange: paper accounts on the
paper venue, ``bybit:demo`` over real HTTP to the Bybit-compatible simulator, every other real venue a closed
loopback port. The clock is the test's: the job's times and the snapshots' intervals are known exactly.
"""

from __future__ import annotations

import logging
import secrets
import string
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from elcaro.core.clock import from_datetime
from elcaro.core.config import Settings
from elcaro.core.secrets import generate_key
from elcaro.models import ExchangeKeys, Secret, Target, TelegramProfile, User
from elcaro.models.equity import EquityPeriod, EquitySnapshot
from elcaro.services.desk import TradingDesk
from elcaro.services.equity import CARRY_MIN_MS, EquityRecording, EquityService
from elcaro.services.exchange_access import ExchangeAccess
from elcaro.services.jobs import Scheduler, platform_jobs
from elcaro.services.runtime import Runtime, open_runtime
from elcaro.services.users import UserService
from elcaro.storage import Database

pytestmark = pytest.mark.db

MINUTE = 60_000
HOUR = 60 * MINUTE
DAY = 24 * HOUR
INTERVAL = 15 * MINUTE
NOON = from_datetime(datetime(2024, 3, 1, 12, tzinfo=UTC))
PAPER = Target.parse("bybit:paper")
DEMO = Target.parse("bybit:demo")
TESTNET = Target.parse("binance:testnet")
NOWHERE = "http://127.0.0.1:1"
"""A loopback port nothing listens on: the venue there is unreachable, and the test never leaves the machine."""


@dataclass
class Clock:
    now: int = NOON + 7 * MINUTE

    def __call__(self) -> int:
        return self.now


def _token(length: int) -> str:
    return "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(length))


@dataclass
class Venues:
    runtime: Runtime
    desk: TradingDesk
    """A desk whose real venues are all on loopback (the runtime's own would reach the internet)."""
    demo_key: str
    demo_secret: str


@pytest.fixture
async def venues(database: Database, tmp_path: Path) -> AsyncIterator[Venues]:
    key, secret = _token(18), _token(36)
    simulator = tmp_path / "simulator.toml"
    simulator.write_text(
        f'[[accounts]]\napi_key = "{key}"\napi_secret = "{secret}"\nbalance = 5000\n\n[prices]\nkind = "none"\n'
    )
    settings = Settings(
        data_dir=tmp_path / "data",
        database_url=database.url,
        master_key=generate_key(),
        simulator_port=0,
        simulator_config_file=simulator,
    )
    async with open_runtime(settings) as runtime:
        urls = {TESTNET: NOWHERE, DEMO: runtime.exchange.simulator.url}
        access = ExchangeAccess(runtime.platform.credentials, runtime.exchange.paper, base_urls=urls)
        platform = runtime.platform
        desk = TradingDesk(platform.database, platform.preferences, platform.credentials, access, runtime.positions)
        try:
            yield Venues(runtime, desk, key, secret)
        finally:
            await access.close()


async def _trader(runtime: Runtime, telegram_id: int, *targets: Target, approve: bool = True) -> User:
    users = runtime.platform.users
    user = await users.register(TelegramProfile(telegram_id))
    if approve:
        user = await users.approve(user.id)
    for target in targets:
        await runtime.platform.preferences.set_target(user.id, target, enabled=True)
    return user


async def _keys(runtime: Runtime, user: User, target: Target, key: str, secret: str) -> None:
    keys = ExchangeKeys(api_key=Secret(key), api_secret=Secret(secret))
    await runtime.platform.credentials.save(user.id, target, keys)


async def test_every_readable_account_is_recorded_once_per_interval(
    venues: Venues, caplog: pytest.LogCaptureFixture
) -> None:
    runtime = venues.runtime
    paper = await _trader(runtime, 1, PAPER)
    both = await _trader(runtime, 2, DEMO, TESTNET)
    await _keys(runtime, both, DEMO, venues.demo_key, venues.demo_secret)
    await _keys(runtime, both, TESTNET, _token(64), _token(64))
    refused = await _trader(runtime, 3, DEMO)
    await _keys(runtime, refused, DEMO, venues.demo_key, _token(36))
    await _trader(runtime, 4, PAPER, approve=False)
    banned = await _trader(runtime, 5, PAPER)
    await runtime.platform.users.ban(banned.id)

    clock = Clock()
    equity = EquityService(runtime.platform.database, interval_ms=INTERVAL, clock=clock)
    with caplog.at_level(logging.INFO, logger="elcaro.services.equity"):
        first = await equity.record(venues.desk.balances)
    # The unreachable venue and the refused key are skipped, each with a line saying whose and why.
    assert (first.at, first.users, first.recorded, first.skipped) == (NOON, 3, 2, 2)
    assert f"equity of user {both.id} on binance:testnet not recorded" in caplog.text
    assert f"equity of user {refused.id} on bybit:demo not recorded: AuthenticationError" in caplog.text

    on_paper = await equity.curve(paper.id, EquityPeriod.DAY)
    assert [(p.at, p.equity, p.wallet, p.targets) for p in on_paper.points] == [(NOON, Decimal(10_000), 10_000, 1)]
    assert on_paper.asset == "USDT"
    on_demo = await equity.curve(both.id, EquityPeriod.DAY)
    assert [(p.at, p.equity) for p in on_demo.points] == [(NOON, Decimal(5000))]

    clock.now += 5 * MINUTE  # a restart within the same interval adds nothing
    again = await equity.record(venues.desk.balances)
    assert (again.at, again.recorded) == (NOON, 0)

    clock.now = NOON + INTERVAL + MINUTE
    later = await equity.record(venues.desk.balances)
    assert (later.at, later.recorded) == (NOON + INTERVAL, 2)
    curve = await equity.curve(paper.id, EquityPeriod.DAY)
    assert [point.at for point in curve.points] == [NOON, NOON + INTERVAL]
    assert (await equity.curve(refused.id, EquityPeriod.ALL)).points == ()


async def test_the_job_records_at_each_interval_and_a_restart_adds_nothing(venues: Venues) -> None:
    runtime = venues.runtime
    platform = runtime.platform
    trader = await _trader(runtime, 10, PAPER)
    clock = Clock()
    equity = EquityService(platform.database, interval_ms=INTERVAL, clock=clock)

    def jobs() -> Scheduler:
        return platform_jobs(
            platform.ledger,
            platform.referrals,
            platform.licences,
            equity=equity,
            read_balances=venues.desk.balances,
            clock=clock,
        )

    scheduler = jobs()
    assert await _ran(scheduler) is None  # a minute after start, not at once
    assert scheduler.due()["equity snapshots"] == NOON + 8 * MINUTE
    clock.now = NOON + 8 * MINUTE
    assert await _ran(scheduler) == 1
    assert scheduler.due()["equity snapshots"] == NOON + INTERVAL  # the next interval's start, not 15 minutes on

    restarted = jobs()  # the platform restarts within the interval: its first run records nothing new
    await restarted.run_due()
    clock.now = NOON + 9 * MINUTE
    assert await _ran(restarted) == 0

    clock.now = NOON + INTERVAL + 3  # a little late: still this interval's own snapshot
    assert await _ran(scheduler) == 1
    assert scheduler.due()["equity snapshots"] == NOON + 2 * INTERVAL
    curve = await equity.curve(trader.id, EquityPeriod.WEEK)
    assert [point.at for point in curve.points] == [NOON, NOON + INTERVAL]


async def _ran(scheduler: Scheduler) -> int | None:
    """Run what is due; how many snapshots the equity job recorded, None when it did not run."""
    for run in await scheduler.run_due():
        if run.name == "equity snapshots":
            assert run.ok and isinstance(run.result, EquityRecording), run.result
            return run.result.recorded
    return None


# --- the curve, from stored snapshots ------------------------------------------------------------


def _snap(user_id: int, target: Target, at: int, equity: int, unrealized: int = 0) -> EquitySnapshot:
    wallet = Decimal(equity - unrealized)
    return EquitySnapshot(user_id, target, at, at + 900, "USDT", Decimal(equity), wallet, wallet, Decimal(unrealized))


async def _stored(database: Database, *snapshots: EquitySnapshot) -> None:
    async with database.transaction() as tx:
        for snapshot in snapshots:
            assert await tx.equity.add(snapshot)


async def _user(database: Database, telegram_id: int) -> int:
    return (await UserService(database).register(TelegramProfile(telegram_id))).id


async def test_targets_are_added_up_step_by_step_even_when_one_misses_a_run(database: Database) -> None:
    user_id = await _user(database, 20)
    runs = [NOON + n * INTERVAL for n in range(8)]
    await _stored(
        database,
        *(_snap(user_id, PAPER, at, 1000 + n) for n, at in enumerate(runs)),
        # Demo was down for runs 2 and 3 and held 0.5 more each time it was read: its last value stands in.
        *(_snap(user_id, DEMO, at, 500, unrealized=-20) for n, at in enumerate(runs) if n not in (2, 3)),
        # Testnet was added at run 6.
        *(_snap(user_id, TESTNET, at, 100) for at in runs[6:]),
    )
    clock = Clock(now=runs[-1] + MINUTE)
    equity = EquityService(database, interval_ms=INTERVAL, clock=clock)
    curve = await equity.curve(user_id, EquityPeriod.DAY)
    assert curve.step_ms < INTERVAL  # two hours of history in 500 points: every run a step of its own
    assert curve.since == NOON
    assert [(p.at, p.equity, p.wallet, p.unrealized_pnl, p.targets) for p in curve.points] == [
        (runs[0], 1500, 1520, -20, 2),
        (runs[1], 1501, 1521, -20, 2),
        (runs[2], 1502, 1522, -20, 2),  # demo at its value of run 1
        (runs[3], 1503, 1523, -20, 2),
        (runs[4], 1504, 1524, -20, 2),
        (runs[5], 1505, 1525, -20, 2),
        (runs[6], 1606, 1626, -20, 3),
        (runs[7], 1607, 1627, -20, 3),
    ]
    demo = await equity.curve(user_id, EquityPeriod.DAY, target=DEMO)
    assert [p.at for p in demo.points] == [at for n, at in enumerate(runs) if n not in (2, 3)]
    assert {p.equity for p in demo.points} == {500}

    # Four points at most: several runs to a step, each target at its last snapshot of the step.
    coarse = await EquityService(database, interval_ms=INTERVAL, clock=clock, max_points=4).curve(
        user_id, EquityPeriod.DAY
    )
    assert len(coarse.points) <= 4
    assert coarse.points[-1].equity == 1607 and coarse.points[-1].at == runs[7]
    assert all(point.targets >= 2 for point in coarse.points)


async def test_a_target_no_longer_recorded_drops_out_of_the_sum_once_stale(database: Database) -> None:
    user_id = await _user(database, 21)
    hours = [NOON + n * HOUR for n in range(12)]
    await _stored(
        database,
        *(_snap(user_id, PAPER, at, 1000) for at in hours),
        _snap(user_id, DEMO, hours[0], 500),  # disabled after the first hour
    )
    clock = Clock(now=hours[-1])
    curve = await EquityService(database, interval_ms=HOUR, clock=clock).curve(user_id, EquityPeriod.DAY)
    stale_after = next(n for n, at in enumerate(hours) if at - hours[0] > CARRY_MIN_MS)
    assert [p.equity for p in curve.points] == [1500] * stale_after + [1000] * (len(hours) - stale_after)


async def test_the_curve_keeps_to_its_period_and_to_its_owner(database: Database) -> None:
    user_id = await _user(database, 22)
    other = await _user(database, 23)
    days = [NOON - n * DAY for n in range(40)]
    await _stored(database, *(_snap(user_id, PAPER, at, 2000 + n) for n, at in enumerate(days)))
    await _stored(database, _snap(other, PAPER, NOON, 1))
    equity = EquityService(database, interval_ms=INTERVAL, clock=Clock(now=NOON))
    week = await equity.curve(user_id, EquityPeriod.WEEK)
    assert week.since == NOON - 7 * DAY
    assert [p.equity for p in week.points] == [2000 + n for n in range(7, -1, -1)]
    assert len((await equity.curve(user_id, EquityPeriod.ALL)).points) == 40
    assert [p.equity for p in (await equity.curve(other, EquityPeriod.ALL)).points] == [1]
    nothing = await equity.curve(await _user(database, 24), EquityPeriod.ALL)
    assert (nothing.points, nothing.since, nothing.interval_ms) == ((), None, INTERVAL)


async def test_thinning_keeps_a_week_whole_then_hours_then_days(database: Database) -> None:
    user_id = await _user(database, 30)
    now = NOON
    old = [now - 100 * DAY + n * 6 * HOUR for n in range(32)]  # eight days, four snapshots a day
    middle = [now - 30 * DAY + n * 30 * MINUTE for n in range(3 * 48)]  # three days, two an hour
    recent = [now - DAY + n * 30 * MINUTE for n in range(48)]
    await _stored(database, *(_snap(user_id, PAPER, at, 1) for at in old + middle + recent))
    equity = EquityService(database, interval_ms=INTERVAL, clock=Clock(now=now))
    deleted = await equity.thin()
    async with database.reading() as tx:
        kept = [s.at for s in await tx.equity.sampled(user_id, origin=0, until=now, step=1)]
    assert deleted == len(old) + len(middle) + len(recent) - len(kept)
    assert [at for at in kept if at < now - 90 * DAY] == [
        max(at for at in old if at // DAY == day) for day in sorted({at // DAY for at in old})
    ]  # the last of each day
    assert [at for at in kept if now - 90 * DAY <= at < now - 7 * DAY] == middle[1::2]  # the last of each hour
    assert [at for at in kept if at >= now - 7 * DAY] == recent  # the last week whole
    assert await equity.thin() == 0
