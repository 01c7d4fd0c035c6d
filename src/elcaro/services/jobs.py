"""Scheduled jobs of the running platform: the few that keep the accounts true between requests.

``open_runtime`` starts :func:`platform_jobs`:

- **referral catch-up** (:meth:`ReferralService.pay_pending_signup_rewards`): once at start. Approval
  pays the referrer itself; this pays any approved referee still without the reward.
- **staking interest** (:meth:`LedgerService.accrue_staking`): at start and every day a few minutes
  after UTC midnight, so a day the platform was down at midnight is still paid when it comes back.
- **licence expiry warnings** (:meth:`LicenceService.send_expiry_warnings`): every hour, the first a
  minute after start, once the interfaces that deliver them (the Telegram bot) have subscribed.
- **equity snapshots** (:meth:`EquityService.record`): a minute after start, then at the start of every
  snapshot interval (``equity_snapshot_interval_s``, aligned to the clock, so each run lands in an
  interval of its own); **equity thinning** (:meth:`EquityService.thin`): at start and daily after midnight.

Every job is idempotent by itself (ledger keys, warning claims, equity snapshots keyed by their
interval), so a restart, a second process running the same jobs, or a retry never pays or warns
twice. A job that fails is logged and tried again after :data:`RETRY_MS` (or at its next time, if
that is sooner).

Times are UTC epoch milliseconds from an injected clock, and the waiting is injected too: tests
drive :meth:`Scheduler.run_due` and :meth:`Scheduler.run` without sleeping.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Protocol

from elcaro.core.clock import now_ms
from elcaro.models.timeframe import DAY_MS, HOUR_MS, MINUTE_MS
from elcaro.services.equity import BalanceReader, EquityService
from elcaro.services.ledger import LedgerService
from elcaro.services.licences import LicenceService
from elcaro.services.referrals import ReferralService

log = logging.getLogger(__name__)

RETRY_MS = 5 * MINUTE_MS
"""How soon a job that failed is tried again."""
STAKING_AFTER_MIDNIGHT_MS = 5 * MINUTE_MS
WARNINGS_FIRST_AFTER_MS = MINUTE_MS
EQUITY_FIRST_AFTER_MS = MINUTE_MS
THINNING_AFTER_MIDNIGHT_MS = 20 * MINUTE_MS
MAX_WAIT_S = 60.0
"""The longest single wait: the wall clock is read again at least this often (it may jump, the machine may sleep)."""

Wait = Callable[[asyncio.Event, float], Awaitable[None]]
"""Wait up to the seconds given or until the event is set."""


class Schedule(Protocol):
    def first(self, start: int) -> int:
        """When the job first runs, given the moment the scheduler started."""
        ...

    def following(self, ran_at: int) -> int | None:
        """When it runs next after a run that started at ``ran_at``; None: never again."""
        ...


@dataclass(frozen=True, slots=True)
class AtStart:
    """Once, when the scheduler starts."""

    def first(self, start: int) -> int:
        return start

    def following(self, ran_at: int) -> int | None:
        return None


@dataclass(frozen=True, slots=True)
class Every:
    """Every ``interval_ms``, the first ``first_after_ms`` after start."""

    interval_ms: int
    first_after_ms: int = 0

    def first(self, start: int) -> int:
        return start + self.first_after_ms

    def following(self, ran_at: int) -> int | None:
        return ran_at + self.interval_ms


@dataclass(frozen=True, slots=True)
class DailyUtc:
    """At start, then every UTC day ``after_midnight_ms`` past midnight."""

    after_midnight_ms: int = 0

    def first(self, start: int) -> int:
        return start

    def following(self, ran_at: int) -> int | None:
        return (ran_at // DAY_MS + 1) * DAY_MS + self.after_midnight_ms


@dataclass(frozen=True, slots=True)
class Aligned:
    """``first_after_ms`` after start, then at every multiple of ``interval_ms`` since the epoch.

    A run that starts late still falls in its own interval, where ``Every`` would drift and could skip one.
    """

    interval_ms: int
    first_after_ms: int = 0

    def first(self, start: int) -> int:
        return start + self.first_after_ms

    def following(self, ran_at: int) -> int | None:
        return (ran_at // self.interval_ms + 1) * self.interval_ms


@dataclass(frozen=True, slots=True)
class Job:
    name: str
    run: Callable[[], Awaitable[object]]
    schedule: Schedule


@dataclass(frozen=True, slots=True)
class JobRun:
    """One run of a job: when it started, whether it worked, and what it returned (or the error)."""

    name: str
    started_at: int
    ok: bool
    result: object


async def _wait(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)


class Scheduler:
    """Runs each job at its times, one job at a time, until stopped."""

    def __init__(
        self,
        jobs: Sequence[Job],
        *,
        clock: Callable[[], int] = now_ms,
        wait: Wait = _wait,
        retry_ms: int = RETRY_MS,
    ) -> None:
        if len({job.name for job in jobs}) != len(jobs):
            raise ValueError("every job needs a name of its own")
        self._jobs = tuple(jobs)
        self._clock = clock
        self._wait = wait
        self._retry_ms = retry_ms
        self._due: dict[str, int | None] = {}
        self.last: dict[str, JobRun] = {}
        """The latest run of each job, for status screens."""

    def due(self) -> dict[str, int | None]:
        """When each job runs next (None: not again); empty until the scheduler has started."""
        return dict(self._due)

    async def run_due(self) -> list[JobRun]:
        """Run every job whose time has come, in order, and plan its next time; the runs made."""
        if not self._due:
            start = self._clock()
            self._due = {job.name: job.schedule.first(start) for job in self._jobs}
        runs = []
        for job in self._jobs:
            at = self._due[job.name]
            if at is None or at > self._clock():
                continue
            runs.append(await self._run(job))
        return runs

    async def run(self, stop: asyncio.Event) -> None:
        """Run the jobs at their times until ``stop`` is set or no job is left to run."""
        while not stop.is_set():
            await self.run_due()
            planned = [at for at in self._due.values() if at is not None]
            if not planned:
                return
            delay_s = max(0, min(planned) - self._clock()) / 1000
            await self._wait(stop, min(delay_s, MAX_WAIT_S))

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[Scheduler]:
        """The jobs in a background task; cancelled on the way out (each job is safe to cut short and redo)."""
        stop = asyncio.Event()
        task = asyncio.create_task(self.run(stop), name="scheduled jobs")
        try:
            yield self
        finally:
            stop.set()
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self, job: Job) -> JobRun:
        started = self._clock()
        following = job.schedule.following(started)
        try:
            result = await job.run()
        except Exception as error:  # a job that fails must not stop the others
            log.exception("scheduled job %s failed; trying again in %s s", job.name, self._retry_ms // 1000)
            retry = started + self._retry_ms
            self._due[job.name] = retry if following is None else min(following, retry)
            run = JobRun(job.name, started, ok=False, result=error)
        else:
            self._due[job.name] = following
            run = JobRun(job.name, started, ok=True, result=result)
            log.debug("scheduled job %s done: %s", job.name, result)
        self.last[job.name] = run
        return run


def platform_jobs(
    ledger: LedgerService,
    referrals: ReferralService,
    licences: LicenceService,
    *,
    equity: EquityService | None = None,
    read_balances: BalanceReader | None = None,
    clock: Callable[[], int] = now_ms,
    wait: Wait = _wait,
) -> Scheduler:
    """The platform's scheduled jobs (see the module docstring for what runs when).

    The equity jobs run when ``equity`` is given, with ``read_balances`` (``TradingDesk.balances``) reading
    each user's accounts.
    """
    jobs = [
        Job("referral signup catch-up", referrals.pay_pending_signup_rewards, AtStart()),
        Job("staking interest", ledger.accrue_staking, DailyUtc(STAKING_AFTER_MIDNIGHT_MS)),
        Job("licence expiry warnings", licences.send_expiry_warnings, Every(HOUR_MS, WARNINGS_FIRST_AFTER_MS)),
    ]
    if equity is not None:
        if read_balances is None:
            raise ValueError("recording equity needs read_balances")
        jobs += [
            Job(
                "equity snapshots",
                partial(equity.record, read_balances),
                Aligned(equity.interval_ms, EQUITY_FIRST_AFTER_MS),
            ),
            Job("equity thinning", equity.thin, DailyUtc(THINNING_AFTER_MIDNIGHT_MS)),
        ]
    return Scheduler(jobs, clock=clock, wait=wait)
