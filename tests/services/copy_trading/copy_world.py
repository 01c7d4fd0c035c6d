"""A small platform for copy-trading tests: users with settings and targets, a venue, signals, the event stream."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from elcaro.core.codec import decode
from elcaro.core.events import EventBus
from elcaro.exchanges.client import CachePolicy, ClientSettings, ExchangeClientPool, RetryPolicy
from elcaro.exchanges.paper import PaperExchangeAdapter
from elcaro.models import (
    ZERO,
    Entry,
    EntryKind,
    Instrument,
    PositionSide,
    SettingsKey,
    SettingsScope,
    Signal,
    SignalSource,
    SourceKind,
    TakeProfit,
    Target,
    TelegramProfile,
    UserSettings,
)
from elcaro.models.events import EventKind, TradingEvent
from elcaro.services.copy_trading import CopyTradingService
from elcaro.services.credentials import CredentialService
from elcaro.services.exchange_access import ExchangeAccess, paper_account_id
from elcaro.services.paper_venue import PaperVenue
from elcaro.services.positions import MonitorConfig, PositionMonitor
from elcaro.services.users import UserService
from elcaro.storage import Database, ExecutionRecord
from elcaro.trading import ALLOW_ALL, EntryPlan, LicencePolicy

D = Decimal
T0 = 1_700_006_400_000 + 12 * 3_600_000
"""Noon UTC: "today" started twelve hours ago."""
DEPOSIT = D(10_000)
PAPER = Target.parse("bybit:paper")
DEMO = Target.parse("bybit:demo")
LIVE = Target.parse("bybit:live")
STRATEGY = "elcaro"

BTC = Instrument(
    "BTC/USDT:USDT", "BTC", "USDT", "USDT", D("0.1"), D("0.001"), D("0.001"), min_notional=D(5), max_leverage=D(100)
)
ETH = Instrument(
    "ETH/USDT:USDT", "ETH", "USDT", "USDT", D("0.01"), D("0.01"), D("0.01"), min_notional=D(5), max_leverage=D(100)
)


class Clock:
    def __init__(self, now: int = T0) -> None:
        self.now = now

    def __call__(self) -> int:
        return self.now


def make_signal(**changes: Any) -> Signal:
    """BTC long at market from 60 000, stop 58 800 (2 %), two targets."""
    fields: dict[str, Any] = {
        "source": SignalSource(SourceKind.CHANNEL, "-100777"),
        "strategy": STRATEGY,
        "symbol": BTC.symbol,
        "side": PositionSide.LONG,
        "entry": Entry(EntryKind.MARKET),
        "take_profits": (TakeProfit(D(61200)), TakeProfit(D(62400))),
        "stop_loss": D(58800),
        "raw_text": "BTC long now, sl 58800, tp 61200 62400",
        "received_at": T0,
    }
    fields.update(changes)
    return Signal(**fields)


class ScriptedVenue(PaperVenue):
    """The platform's paper venue, where a test may give one account an adapter that misbehaves."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.scripted: dict[str, type[PaperExchangeAdapter]] = {}

    def adapter(self, account_id: str, *, deposit: Decimal = ZERO) -> PaperExchangeAdapter:
        opened = super().adapter(account_id, deposit=deposit)
        script = self.scripted.get(account_id)
        return opened if script is None else script(self.engine, account_id)


class FreshQuotesAccess(ExchangeAccess):
    """Exchange access whose clients keep no ticker: a test moves prices faster than the second a client keeps
    one. Retries back off for milliseconds, as against a venue without lag."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        settings = ClientSettings(
            retry=RetryPolicy(backoff_initial=0.001, backoff_max=0.01), cache=CachePolicy(ticker_ttl=0)
        )
        self.pool = ExchangeClientPool(self._open, self._keys, settings=settings)


class RecordingBus(EventBus[TradingEvent]):
    """The platform's bus, keeping a list of everything published for the test to read."""

    def __init__(self) -> None:
        super().__init__()
        self.published: list[TradingEvent] = []
        self._news = asyncio.Event()

    def publish(self, event: TradingEvent) -> None:
        self.published.append(event)
        self._news.set()
        super().publish(event)

    async def until(self, kind: EventKind, count: int) -> None:
        """Wait until ``count`` events of ``kind`` have been published."""
        while sum(1 for event in self.published if event.kind is kind) < count:
            self._news.clear()
            await self._news.wait()


class World:
    def __init__(
        self,
        database: Database,
        venue: ScriptedVenue,
        credentials: CredentialService,
        access: ExchangeAccess,
        clock: Callable[[], int] | None = None,
    ) -> None:
        """``clock``: the services' clock, a hand-set one at ``T0`` unless given (a venue on the wall clock)."""
        self.database = database
        self.venue = venue
        self.credentials = credentials
        self.access = access
        self.clock: Callable[[], int] = clock or Clock()
        self.bus = RecordingBus()
        self._users = UserService(database)
        self._telegram_ids = iter(range(1001, 100_000))

    def service(self, licence: LicencePolicy = ALLOW_ALL, **options: Any) -> CopyTradingService:
        """Copy trading as the platform runs it: with a position monitor (``monitor()`` unless one is given)."""
        options.setdefault("positions", self.monitor())
        return CopyTradingService(self.database, self.access, self.bus, licence, clock=self.clock, **options)

    def monitor(self) -> PositionMonitor:
        """A position monitor on this world's venue, not started: a test drives it pass by pass."""
        return PositionMonitor(
            self.database, self.access, self.bus, config=MonitorConfig(streams=False), clock=self.clock
        )

    async def user(
        self,
        settings: Mapping[str, Any] | None = None,
        *,
        targets: tuple[Target, ...] = (PAPER,),
        deposit: Decimal | None = DEPOSIT,
        live_opt_in: bool = False,
        levels: Mapping[SettingsKey, Mapping[str, Any]] | None = None,
        approved: bool = True,
    ) -> int:
        """An approved user with terms accepted, ``settings`` at the global level (copying enabled unless said
        otherwise), the ``targets`` enabled, and a paper account opened with ``deposit``."""
        user = await self._users.register(TelegramProfile(next(self._telegram_ids)))
        if approved:
            await self._users.approve(user.id)
        await self._users.accept_terms(user.id)
        stored = {SettingsKey(SettingsScope.GLOBAL): {"enabled": True, **(settings or {})}, **(levels or {})}
        async with self.database.transaction() as tx:
            for key, values in stored.items():
                await tx.settings.put(UserSettings(user.id, key, values, updated_at=T0))
            for target in targets:
                opt_in = T0 if live_opt_in else None
                await tx.user_targets.set(user.id, target, enabled=True, live_opt_in_at=opt_in, now=T0)
        if deposit is not None:
            self.venue.adapter(paper_account_id(user.id), deposit=deposit)
        return user.id

    async def signal(self, **changes: Any) -> Signal:
        async with self.database.transaction() as tx:
            return await tx.signals.add(make_signal(**changes))

    async def executions(self, signal_id: int, target: Target = PAPER) -> dict[int, ExecutionRecord]:
        async with self.database.transaction() as tx:
            return {r.user_id: r for r in await tx.executions.for_signal(signal_id) if r.target == target}

    def events(self, kind: EventKind | None = None) -> list[TradingEvent]:
        """Events published so far, of ``kind`` when given."""
        return [event for event in self.bus.published if kind is None or event.kind is kind]

    def account(self, user_id: int) -> str:
        return paper_account_id(user_id)

    def script(self, user_id: int, adapter: type[PaperExchangeAdapter]) -> None:
        """From now on the user's paper account is reached through ``adapter`` (a ``PaperExchangeAdapter`` subclass)."""
        self.venue.scripted[paper_account_id(user_id)] = adapter


def plan_of(record: ExecutionRecord) -> EntryPlan:
    plan: EntryPlan = decode(EntryPlan, record.plan)
    return plan
