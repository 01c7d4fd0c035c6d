"""The position monitor: every tracked open position, on every account, followed until it closes.

One ``AccountWatcher`` per (user, target) holding tracked positions. Running, the monitor keeps for
each account its fill and order streams (where enabled) and a reconciliation loop, and for all of
them a price loop (tickers of every symbol held, ATR where a trailing stop needs it), a clock loop
(auto-close at a time of day, maximum holding time) and a rescan of the database for positions it
was not told about. Each loop only calls one of the passes below, which can also be called
directly: by an operator's "sync now", and by tests that drive the monitor step by step.

The price pass also leaves each position's live figures (mark, unrealised PnL) on ``marks``, the
board the web app's sockets read — beside the event bus, since they are no news for a chat.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import asynccontextmanager, suppress
from dataclasses import replace
from decimal import Decimal
from typing import Any

from elcaro.core.clock import now_ms
from elcaro.core.events import EventBus
from elcaro.exchanges.protocol import MarketData
from elcaro.models import ExitReason, Position, Target
from elcaro.models.errors import ConflictError, ElcaroError, NotFoundError, PermissionDeniedError
from elcaro.models.events import TradingEvent
from elcaro.services.positions.account import AccountWatcher, AtrSource, ClientSource
from elcaro.services.positions.adoption import MANUAL, adopted
from elcaro.services.positions.config import MonitorConfig
from elcaro.services.positions.following import follow_fills, follow_orders, reconcile
from elcaro.services.positions.marks import MarkBoard
from elcaro.services.positions.prices import AtrCache
from elcaro.services.positions.record import Stored
from elcaro.services.positions.store import PositionStore
from elcaro.storage import Database
from elcaro.trading import AmendExits, CloseRequest, PositionState, WithdrawEntries, resolve_for

log = logging.getLogger(__name__)

_Key = tuple[int, Target]


class PositionMonitor:
    def __init__(
        self,
        database: Database,
        clients: ClientSource,
        bus: EventBus[TradingEvent],
        *,
        config: MonitorConfig | None = None,
        clock: Callable[[], int] = now_ms,
        marks: MarkBoard | None = None,
    ) -> None:
        self._store = PositionStore(database)
        self.marks = MarkBoard() if marks is None else marks
        self._clients = clients
        self._bus = bus
        self._config = config or MonitorConfig()
        self._clock = clock
        self._atr = AtrCache(self._config.atr_timeframe, clock)
        self._watchers: dict[_Key, AccountWatcher] = {}
        self._account_tasks: dict[_Key, list[asyncio.Task[None]]] = {}
        self._loops: list[asyncio.Task[None]] = []
        self._lock = asyncio.Lock()
        self._running = False

    # ------------------------------------------------------------------------------ life

    @asynccontextmanager
    async def running(self) -> AsyncIterator[PositionMonitor]:
        await self.start()
        try:
            yield self
        finally:
            await self.stop()

    async def start(self) -> None:
        """Load every tracked open position, reconcile each account once (finishing actions a crash
        left pending, applying fills missed while down), then follow them."""
        await self.rescan()
        watchers = list(self._watchers.values())
        await _each(watchers, [watcher.sync() for watcher in watchers])  # a failed one's loop tries again
        self._running = True
        for watcher in self._watchers.values():
            self._follow(watcher)
        config = self._config
        self._loops = [
            asyncio.create_task(self._every(config.price_interval, self.refresh_prices), name="monitor prices"),
            asyncio.create_task(self._every(config.tick_interval, self.tick), name="monitor clock"),
            asyncio.create_task(self._every(config.rescan_interval, self.rescan), name="monitor rescan"),
        ]

    async def stop(self) -> None:
        self._running = False
        tasks = [*self._loops, *(task for tasks in self._account_tasks.values() for task in tasks)]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with suppress(asyncio.CancelledError):
                await task
        self._loops, self._account_tasks = [], {}

    # ------------------------------------------------------------------------------ positions

    async def track(self, position_id: int) -> None:
        """Start managing a position the fan-out has just stored; its first fills are looked up at once."""
        tracked = await self._store.get(position_id)
        if tracked is None:
            raise NotFoundError(f"no open tracked position {position_id}")
        watcher = await self._add(tracked.row)
        watcher.wake.set()

    async def rescan(self) -> None:
        """Pick up open positions the monitor was not told about; let go of accounts with none left."""
        for row in await self._store.open_rows():
            await self._add(row)
        async with self._lock:
            for key, watcher in list(self._watchers.items()):
                if not watcher.position_ids:
                    del self._watchers[key]
                    for task in self._account_tasks.pop(key, []):
                        task.cancel()

    @property
    def position_ids(self) -> set[int]:
        return {pid for watcher in self._watchers.values() for pid in watcher.position_ids}

    # ------------------------------------------------------------------------------ passes

    async def sync(self, user_id: int | None = None) -> None:
        """Reconcile every account (or one user's) with the venue now."""
        for watcher in list(self._watchers.values()):
            if user_id is None or watcher.user_id == user_id:
                await watcher.sync()

    async def refresh_prices(self) -> None:
        """Feed the current price (mark where the venue gives one) of every symbol held to its positions."""
        by_target: dict[Target, list[AccountWatcher]] = {}
        for watcher in self._watchers.values():
            by_target.setdefault(watcher.target, []).append(watcher)
        for target, watchers in by_target.items():
            try:
                await self._refresh_target(target, watchers)
            except ElcaroError as error:  # one venue down leaves the others' prices flowing
                log.warning("no prices from %s: %s", target, error)
        self.marks.keep(self.position_ids)

    async def _refresh_target(self, target: Target, watchers: list[AccountWatcher]) -> None:
        symbols = sorted(set().union(*(watcher.symbols() for watcher in watchers)))
        if not symbols:
            return
        source = await self._clients.client(watchers[0].user_id, target)
        tickers = await source.fetch_tickers(symbols)
        at = self._clock()
        for symbol, ticker in tickers.items():
            price = ticker.mark or ticker.last
            atr = self._atr_source(source, target, symbol)
            holders = [watcher for watcher in watchers if symbol in watcher.symbols()]
            await _each(holders, [watcher.on_price(symbol, price, at, atr) for watcher in holders])
            self.marks.offer(mark for watcher in holders for mark in watcher.marks(symbol, price, at))

    async def tick(self) -> None:
        """Apply the time rules as of now."""
        at = self._clock()
        watchers = list(self._watchers.values())
        await _each(watchers, [watcher.tick(at) for watcher in watchers])

    # ------------------------------------------------------------------------------ requests

    async def close_position(
        self,
        position_id: int,
        *,
        qty: Decimal | None = None,
        reason: ExitReason = ExitReason.MANUAL,
        user_id: int | None = None,
    ) -> None:
        """Close a position (or ``qty`` of it) at market; ``user_id`` limits it to that user's own positions."""
        watcher = self._holder(position_id)
        if user_id is not None and watcher.user_id != user_id:
            raise PermissionDeniedError(f"position {position_id} is not yours")
        await watcher.request(position_id, CloseRequest(self._clock(), reason, qty))

    async def amend_exits(
        self,
        position_id: int,
        *,
        stop: Decimal | None = None,
        target_prices: tuple[Decimal, ...] | None = None,
        user_id: int | None = None,
    ) -> PositionState:
        """Set the stop and/or the prices of the targets not yet hit by hand; ``ValidationError`` (with its field)
        for levels the position cannot take. Returns the state after the venue was told: ``closing`` set there
        means the venue refused the stop and the position is being closed rather than left without one."""
        watcher = self._holder(position_id)
        if user_id is not None and watcher.user_id != user_id:
            raise PermissionDeniedError(f"position {position_id} is not yours")
        return await watcher.request(position_id, AmendExits(self._clock(), stop, target_prices))

    async def cancel_signal(self, signal_id: int) -> int:
        """A signal was cancelled: withdraw its positions' entries that have not filled; returns how many positions
        had any. Asking again changes nothing and tells no one again: what was withdrawn rests no more."""
        watchers = [watcher for watcher in self._watchers.values() if watcher.signal_positions(signal_id)]
        counts = await asyncio.gather(*(self._withdraw(watcher, signal_id) for watcher in watchers))
        return sum(counts)

    async def _withdraw(self, watcher: AccountWatcher, signal_id: int) -> int:
        """One account's part of a cancel; an account the venue cannot serve now keeps its entries resting (its
        state says so) and holds up no other."""
        count = 0
        try:
            # Fills first: withdrawing from a state that has not seen an entry's fill would take the
            # filled position for an empty one.
            await watcher.sync()
            for position_id in watcher.signal_positions(signal_id):
                if watcher.has_resting_entries(position_id):
                    await watcher.request(position_id, WithdrawEntries(self._clock()))
                    count += 1
        except ElcaroError as error:
            log.warning(
                "signal %s: entries of user %s on %s not withdrawn: %s",
                signal_id,
                watcher.user_id,
                watcher.target,
                error,
            )
        return count

    async def reload_settings(self, user_id: int) -> None:
        """The user changed their settings: manage their open positions by the new ones from now on."""
        for watcher in list(self._watchers.values()):
            if watcher.user_id == user_id:
                await watcher.reload_settings()

    async def untracked(self, user_id: int, target: Target) -> list[Position]:
        """Positions on the user's account that the platform does not manage (opened by hand): adoptable."""
        client = await self._clients.client(user_id, target)
        tracked = await self._store.tracked_symbols(user_id, target)
        return [position for position in await client.fetch_positions() if position.symbol not in tracked]

    async def adopt(self, user_id: int, target: Target, symbol: str) -> int:
        """Manage a position opened by hand as strategy ``manual`` with the user's settings; returns its id."""
        if symbol in await self._store.tracked_symbols(user_id, target):
            raise ConflictError(f"{symbol} on {target} is already managed")
        client = await self._clients.client(user_id, target)
        held = [position for position in await client.fetch_positions([symbol]) if position.symbol == symbol]
        if not held:
            raise NotFoundError(f"there is no {symbol} position on {target} to adopt")
        venue = held[0]
        instrument = (await client.load_instruments())[symbol]
        ticker = await client.fetch_ticker(symbol)
        blocks = await self._store.settings(user_id)
        settings = resolve_for(blocks, strategy=MANUAL, side=venue.side, exchange=target.exchange)
        now = self._clock()
        row = replace(
            venue, opened_at=now, updated_at=now, target=target, user_id=user_id, strategy=MANUAL, signal_id=None
        )

        def stored_for(position_id: int) -> Stored:
            price = ticker.mark or ticker.last
            return adopted(
                position_id, venue, instrument, settings, user_id=user_id, target=target, price=price, now=now
            )

        tracked = await self._store.add(row, stored_for)
        watcher = await self._add(tracked.row)
        await watcher.sync()
        return tracked.id

    # ------------------------------------------------------------------------------ plumbing

    async def _add(self, row: Position) -> AccountWatcher:
        if row.id is None or row.user_id is None or row.target is None:
            raise NotFoundError(f"position {row.id} is not a stored position with an owner and a target")
        key = (row.user_id, row.target)
        async with self._lock:
            watcher = self._watchers.get(key)
            if watcher is None:
                watcher = AccountWatcher(
                    row.user_id,
                    row.target,
                    clients=self._clients,
                    store=self._store,
                    publish=self._bus.publish,
                    config=self._config,
                    clock=self._clock,
                )
                self._watchers[key] = watcher
            await watcher.add(row.id)
            if self._running and watcher.position_ids and key not in self._account_tasks:
                self._follow(watcher)
        return watcher

    def _follow(self, watcher: AccountWatcher) -> None:
        config, name = self._config, f"user {watcher.user_id} on {watcher.target}"
        if config.streams:
            tasks = [
                asyncio.create_task(follow_fills(watcher, config.poll_interval), name=f"fills of {name}"),
                asyncio.create_task(follow_orders(watcher, config.poll_interval), name=f"orders of {name}"),
                asyncio.create_task(reconcile(watcher, config.stream_poll_interval), name=f"sync of {name}"),
            ]
        else:
            tasks = [asyncio.create_task(reconcile(watcher, config.poll_interval), name=f"sync of {name}")]
        self._account_tasks[(watcher.user_id, watcher.target)] = tasks

    def _atr_source(self, source: MarketData, target: Target, symbol: str) -> AtrSource:
        def atr(period: int) -> Awaitable[Decimal | None]:
            return self._atr.get(source, target, symbol, period)

        return atr

    def _holder(self, position_id: int) -> AccountWatcher:
        for watcher in self._watchers.values():
            if watcher.holds(position_id):
                return watcher
        raise NotFoundError(f"position {position_id} is not open or not managed")

    async def _every(self, interval: float, run: Callable[[], Awaitable[None]]) -> None:
        while True:
            await asyncio.sleep(interval)
            try:
                await run()
            except ElcaroError as error:
                log.warning("%s failed: %s", getattr(run, "__name__", "a monitor pass"), error)
            except Exception:  # the loop outlives any one pass
                log.exception("%s failed", getattr(run, "__name__", "a monitor pass"))


async def _each(watchers: list[AccountWatcher], calls: list[Coroutine[Any, Any, None]]) -> None:
    """Run one call per watcher at once; one account's failure is logged and does not stop the others."""
    results = await asyncio.gather(*calls, return_exceptions=True)
    for watcher, result in zip(watchers, results, strict=True):
        if isinstance(result, ElcaroError):
            log.warning("user %s on %s: %s", watcher.user_id, watcher.target, result)
        elif isinstance(result, Exception):
            log.error("user %s on %s", watcher.user_id, watcher.target, exc_info=result)
        elif isinstance(result, BaseException):
            raise result
