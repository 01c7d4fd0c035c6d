"""Tracked positions opened the way the fan-out opens them, and the pieces a monitor test needs.

``open_tracked`` stores the signal and the user's settings, builds the plan at the venue's price
with the account's balance, places the entries with the stop attached through the user's client,
and stores the position row with ``encode(open_position(plan, instrument))`` as its state.
``tracked_position`` adds the user's settings and client to that; ``watched_position`` adds a monitor
that has taken the position up and made its first pass.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal as D
from typing import Any

from elcaro.core.codec import encode
from elcaro.core.events import EventBus, Subscription
from elcaro.exchanges.protocol import ExchangeAdapter
from elcaro.exchanges.simulator import RunningSimulator
from elcaro.models import (
    Entry,
    EntryKind,
    Environment,
    Exchange,
    Instrument,
    Position,
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
from elcaro.services.exchange_access import ExchangeAccess
from elcaro.services.positions import ClientSource, MonitorConfig, PositionMonitor
from elcaro.services.users import UserService
from elcaro.storage import Database
from elcaro.trading import EntryPlan, TradingSettings, build_plan, open_position

PAPER = Target(Exchange.BYBIT, Environment.PAPER)
DEMO = Target(Exchange.BYBIT, Environment.DEMO)
T0 = int(datetime(2024, 11, 21, 9, 0, tzinfo=UTC).timestamp() * 1000)
MINUTE = 60_000

BTC = Instrument(
    symbol="BTC/USDT:USDT",
    base="BTC",
    quote="USDT",
    settle="USDT",
    tick_size=D("0.1"),
    qty_step=D("0.001"),
    min_qty=D("0.001"),
    min_notional=D(5),
    max_leverage=D(100),
)


def long_signal(
    *, targets: tuple[str, ...] = ("52000", "54000", "56000"), stop: str = "49000", entry: str = "50000", **extra: Any
) -> Signal:
    return Signal(
        source=SignalSource(SourceKind.CHANNEL, "-100123"),
        strategy=extra.pop("strategy", "elcaro"),
        symbol=BTC.symbol,
        side=PositionSide.LONG,
        entry=Entry(EntryKind.LIMIT, (D(entry),)),
        take_profits=tuple(TakeProfit(D(price)) for price in targets),
        stop_loss=D(stop),
        raw_text=extra.pop("raw_text", f"LONG BTC {entry} {targets} {stop}"),
        **extra,
    )


async def new_user(database: Database, telegram_id: int) -> int:
    return (await UserService(database).register(TelegramProfile(telegram_id))).id


async def store_settings(database: Database, user_id: int, **values: Any) -> TradingSettings:
    """The user's global settings block (enabled, plus ``values``), as the bot would store it."""
    block = {"enabled": True, "order_type": "market", **values}
    settings = TradingSettings.parse(block)
    async with database.transaction() as tx:
        await tx.settings.put(UserSettings(user_id, SettingsKey(SettingsScope.GLOBAL), settings.to_values()))
    return settings


async def open_tracked(
    database: Database,
    client: ExchangeAdapter,
    user_id: int,
    target: Target,
    *,
    signal: Signal | None = None,
    settings: TradingSettings,
    now: int,
) -> tuple[int, EntryPlan]:
    """Plan, place the entries with the stop attached, and store the tracked position: returns (position id, plan)."""
    async with database.transaction() as tx:
        stored = await tx.signals.add(signal or long_signal())
    instrument = (await client.load_instruments())[stored.symbol]
    price = (await client.fetch_ticker(stored.symbol)).last
    balance = await client.fetch_balance()
    plan = build_plan(
        stored,
        settings,
        instrument,
        target=target,
        user_id=user_id,
        equity=balance.equity,
        free_margin=balance.available,
        price=price,
    )
    assert isinstance(plan, EntryPlan), plan
    await client.set_leverage(stored.symbol, D(plan.leverage))
    for order in plan.entries:
        await client.place_order(order)
    row = Position(
        symbol=plan.symbol,
        side=plan.side,
        qty=plan.qty,
        entry_price=plan.price,
        leverage=D(plan.leverage),
        stop_loss=plan.stop_loss,
        contract_size=instrument.contract_size,
        opened_at=now,
        updated_at=now,
        target=target,
        user_id=user_id,
        strategy=plan.strategy,
        signal_id=stored.id,
    )
    async with database.transaction() as tx:
        position = await tx.positions.add(row)
        assert position.id is not None
        await tx.positions.set_state(position.id, encode(open_position(plan, instrument)))
    return position.id, plan


class Intercepted:
    """The real clients with some methods replaced: a venue (or a process) misbehaving as a test needs.

    Each override is called with the real client first, then the method's own arguments.
    """

    def __init__(self, clients: ClientSource, **overrides: Callable[..., Awaitable[Any]]) -> None:
        self._clients = clients
        self._overrides = overrides

    async def client(self, user_id: int, target: Target) -> ExchangeAdapter:
        return _Proxy(await self._clients.client(user_id, target), self._overrides)  # type: ignore[return-value]


class _Proxy:
    def __init__(self, real: ExchangeAdapter, overrides: dict[str, Callable[..., Awaitable[Any]]]) -> None:
        self._real = real
        self._overrides = overrides

    def __getattr__(self, name: str) -> Any:
        if name in self._overrides:
            return functools.partial(self._overrides[name], self._real)
        return getattr(self._real, name)


@dataclass(frozen=True)
class OnSimulator:
    """The Bybit simulator over HTTP, and a user whose demo keys for it are stored."""

    simulator: RunningSimulator
    access: ExchangeAccess
    user: int


@dataclass
class Events:
    """What the monitor published, read without waiting (everything published so far)."""

    subscription: Subscription[TradingEvent]
    seen: list[TradingEvent] = field(default_factory=list)

    async def drain(self) -> list[TradingEvent]:
        while self.subscription.pending():
            self.seen.append(await self.subscription.get())
        return self.seen

    async def kinds(self) -> list[EventKind]:
        return [event.kind for event in await self.drain()]

    async def of(self, kind: EventKind) -> list[TradingEvent]:
        return [event for event in await self.drain() if event.kind is kind]


def monitor(
    database: Database, clients: ClientSource, bus: EventBus[TradingEvent], clock: Any, **config: Any
) -> PositionMonitor:
    """A monitor the test drives pass by pass (``rescan``, ``sync``, ``refresh_prices``, ``tick``)."""
    return PositionMonitor(database, clients, bus, config=MonitorConfig(**{"streams": False, **config}), clock=clock)


@dataclass(frozen=True)
class Tracked:
    """A user's position opened and stored, and the client it was opened through."""

    user: int
    position_id: int
    plan: EntryPlan
    client: ExchangeAdapter


@dataclass(frozen=True)
class Watched(Tracked):
    """A tracked position and the monitor that follows it."""

    watcher: PositionMonitor


async def tracked_position(
    database: Database,
    clients: ClientSource,
    user: int,
    *,
    now: int,
    target: Target = PAPER,
    signal: Signal | None = None,
    **settings: Any,
) -> Tracked:
    """The user's settings stored (``settings`` over the defaults), and a position opened through their client."""
    stored = await store_settings(database, user, **settings)
    client = await clients.client(user, target)
    position_id, plan = await open_tracked(database, client, user, target, signal=signal, settings=stored, now=now)
    return Tracked(user, position_id, plan, client)


async def watched_position(
    database: Database,
    clients: ClientSource,
    bus: EventBus[TradingEvent],
    clock: Callable[[], int],
    user: int,
    *,
    opened_at: int | None = None,
    watched_through: ClientSource | None = None,
    target: Target = PAPER,
    signal: Signal | None = None,
    **settings: Any,
) -> Watched:
    """A tracked position (opened at ``clock()`` unless ``opened_at`` says otherwise) and a monitor that has taken it
    up and made its first pass over it (a market entry has filled by then, its stop and targets are on the venue).

    ``watched_through`` gives the monitor other clients than the ones the position was opened through (a venue that
    misbehaves only once the position is managed).
    """
    tracked = await tracked_position(
        database,
        clients,
        user,
        now=clock() if opened_at is None else opened_at,
        target=target,
        signal=signal,
        **settings,
    )
    watcher = monitor(database, watched_through or clients, bus, clock)
    await watcher.rescan()
    await watcher.sync()
    return Watched(tracked.user, tracked.position_id, tracked.plan, tracked.client, watcher)
