"""The platform's scheduled jobs: each at its time, on real services, with a clock the test moves and no sleeping."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from elcaro.core.clock import from_datetime
from elcaro.models import AccountRef, LedgerKind, TelegramProfile
from elcaro.models.licence import LicenceTier
from elcaro.services.jobs import (
    MAX_WAIT_S,
    RETRY_MS,
    AtStart,
    Every,
    Job,
    Scheduler,
    platform_jobs,
)
from elcaro.services.ledger import LedgerPolicy, LedgerService, StakingAccrual
from elcaro.services.licences import LicenceConfig, LicenceService
from elcaro.services.referrals import ReferralService
from elcaro.services.users import UserService
from elcaro.storage import Database
from elcaro.trading.licence import LicenceRules, PriceList

ELC = 10**8
MINUTE = 60_000
HOUR = 60 * MINUTE
NOON = from_datetime(datetime(2024, 3, 1, 12, tzinfo=UTC))
NEXT_MIDNIGHT = from_datetime(datetime(2024, 3, 2, tzinfo=UTC))


@dataclass
class Clock:
    now: int = NOON

    def __call__(self) -> int:
        return self.now


async def _no_wait(stop: asyncio.Event, seconds: float) -> None:
    raise AssertionError("run_due never waits")


@pytest.mark.db
async def test_each_platform_job_runs_at_its_time(database: Database) -> None:
    clock = Clock()
    referrals = ReferralService(database, signup_reward=5 * ELC, clock=clock)
    ledger = LedgerService(database, LedgerPolicy(staking_yearly_percent=Decimal("36.5")), clock=clock)  # 0.1 %/day
    prices = PriceList({LicenceTier.BASIC: ELC, LicenceTier.PREMIUM: 2 * ELC, LicenceTier.ENTERPRISE: 3 * ELC})
    licences = LicenceService(database, LicenceConfig(LicenceRules(frozenset()), prices), clock=clock)
    jobs = platform_jobs(ledger, referrals, licences, clock=clock, wait=_no_wait)

    users = UserService(database)  # approval without the reward: the catch-up has one to pay
    referrer = await users.register(TelegramProfile(1))
    referee = await users.register(TelegramProfile(2), referral_code=referrer.referral_code)
    await users.approve(referee.id)
    await ledger.credit_purchase(referee.id, 1000 * ELC, key="buy", reference="test deposit")
    await ledger.lock(referee.id, 1000 * ELC, key="stake")
    licence = await licences.grant(None, referee.id, "basic", 2, "ends within the first warning")
    warnings = licences.events.subscribe()

    # At start: the catch-up and the day's interest; the warnings wait a minute for the interfaces.
    started = await jobs.run_due()
    assert [(run.name, run.ok) for run in started] == [("referral signup catch-up", True), ("staking interest", True)]
    assert started[0].result == 1
    assert started[1].result == StakingAccrual(period="2024-03-01", holders=1, paid=1, amount=ELC)
    assert jobs.due() == {
        "referral signup catch-up": None,
        "staking interest": NEXT_MIDNIGHT + 5 * MINUTE,
        "licence expiry warnings": NOON + MINUTE,
    }
    assert await jobs.run_due() == []  # nothing is due again at the same moment

    clock.now = NOON + MINUTE
    [warned] = await jobs.run_due()
    assert warned.name == "licence expiry warnings" and len(warned.result) == 1  # type: ignore[arg-type]
    assert (await warnings.get()).licence_id == licence.id
    assert jobs.due()["licence expiry warnings"] == NOON + MINUTE + HOUR

    clock.now = NEXT_MIDNIGHT + 5 * MINUTE  # hours of warnings missed are one run, not one per hour
    after_midnight = await jobs.run_due()
    assert [run.name for run in after_midnight] == ["staking interest", "licence expiry warnings"]
    assert after_midnight[0].result == StakingAccrual(period="2024-03-02", holders=1, paid=1, amount=ELC)
    assert after_midnight[1].result == []  # claimed already: warned once
    assert jobs.due()["staking interest"] == NEXT_MIDNIGHT + 24 * HOUR + 5 * MINUTE

    history = await ledger.history(referee.id)
    staking = [entry.key for entry in history if entry.kind is LedgerKind.STAKING_INTEREST]
    assert staking == [f"staking:{referee.id}:2024-03-02", f"staking:{referee.id}:2024-03-01"]
    [reward] = [entry for entry in await ledger.history(referrer.id) if entry.kind is LedgerKind.REFERRAL]
    assert reward.amount_for(AccountRef.available(referrer.id)) == 5 * ELC


async def test_a_failing_job_is_tried_again_and_the_others_still_run() -> None:
    clock = Clock()
    calls: list[str] = []

    async def flaky() -> str:
        calls.append("flaky")
        if calls.count("flaky") == 1:
            raise RuntimeError("the database is away")
        return "done"

    async def steady() -> str:
        calls.append("steady")
        return "ok"

    jobs = Scheduler([Job("flaky", flaky, AtStart()), Job("steady", steady, Every(HOUR))], clock=clock)
    first = await jobs.run_due()
    assert [(run.name, run.ok) for run in first] == [("flaky", False), ("steady", True)]
    assert isinstance(first[0].result, RuntimeError)
    assert jobs.due() == {"flaky": NOON + RETRY_MS, "steady": NOON + HOUR}

    clock.now = NOON + RETRY_MS
    [retried] = await jobs.run_due()
    assert (retried.name, retried.ok, retried.result) == ("flaky", True, "done")
    assert jobs.due()["flaky"] is None and jobs.last["flaky"] == retried
    assert calls == ["flaky", "steady", "flaky"]


async def test_run_waits_on_the_injected_clock_until_stopped() -> None:
    clock = Clock()
    ran_at: list[int] = []
    waits: list[float] = []
    stop = asyncio.Event()

    async def job() -> None:
        ran_at.append(clock.now)

    async def wait(event: asyncio.Event, seconds: float) -> None:
        assert event is stop
        waits.append(seconds)
        clock.now += round(seconds * 1000)
        if clock.now >= NOON + 150 * MINUTE:
            stop.set()

    await Scheduler([Job("hourly", job, Every(HOUR))], clock=clock, wait=wait).run(stop)
    assert ran_at == [NOON, NOON + HOUR, NOON + 2 * HOUR]
    assert max(waits) == MAX_WAIT_S  # the wall clock is read again at least once a minute


def test_job_names_are_unique() -> None:
    async def job() -> None:
        return None

    with pytest.raises(ValueError, match="name of its own"):
        Scheduler([Job("same", job, AtStart()), Job("same", job, AtStart())])
