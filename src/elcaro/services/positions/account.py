"""One user's account on one target: every tracked position there, followed and managed.

Everything that changes a position — a fill, a price, the clock, a person's request, a
reconciliation — passes through one lock per account, so the manager's steps for an account never
interleave and the actions of one step go out, in order, before the next step is taken. Each step
is stored (state, trades, pending actions) before its actions are sent; see ``store``.

Never a naked position: when the venue will not take a stop, the position is closed at market and
the owner told — unless the venue already holds nothing (its own stop, or a close, got there
first), which the fills will show.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import replace
from decimal import Decimal
from typing import Protocol

from elcaro.exchanges.client.retry import TRANSIENT
from elcaro.exchanges.protocol import ExchangeAdapter
from elcaro.models import ExitReason, Fill, Order, OrderStatus, Target, Trade, UserSettings
from elcaro.models.errors import ExchangeError, NotFoundError, OrderNotFoundError
from elcaro.models.events import EventKind, TradingEvent
from elcaro.services.positions.config import MonitorConfig
from elcaro.services.positions.executor import Outcome, action_id, execute
from elcaro.services.positions.funding import funding_over_life, reports_funding
from elcaro.services.positions.marks import PositionMark
from elcaro.services.positions.notices import SIGNAL_CANCELLED, Owner, closed_notice, figure, step_notices
from elcaro.services.positions.reconcile import EntriesGone, Finding, Missing, Snapshot, Unprotected, check
from elcaro.services.positions.record import Stored
from elcaro.services.positions.routing import client_ids, event_for, route
from elcaro.services.positions.store import PositionStore, Tracked
from elcaro.trading import (
    DEFAULTS,
    Action,
    AmendExits,
    ClosePosition,
    CloseRequest,
    Event,
    LegKind,
    PlaceOrder,
    PositionState,
    PriceUpdate,
    SetStop,
    SettingsError,
    TimeTick,
    TradingSettings,
    TrailingType,
    WithdrawEntries,
    resolve_for,
    step,
)

log = logging.getLogger(__name__)

AtrSource = Callable[[int], Awaitable[Decimal | None]]
"""The current ATR of a symbol over a number of candles (None when it cannot be had)."""

_UNFILLED_END = (OrderStatus.CANCELED, OrderStatus.REJECTED, OrderStatus.EXPIRED)


class ClientSource(Protocol):
    """Where a user's exchange client comes from (``ExchangeAccess`` in the platform)."""

    async def client(self, user_id: int, target: Target) -> ExchangeAdapter: ...


class AccountWatcher:
    def __init__(
        self,
        user_id: int,
        target: Target,
        *,
        clients: ClientSource,
        store: PositionStore,
        publish: Callable[[TradingEvent], None],
        config: MonitorConfig,
        clock: Callable[[], int],
    ) -> None:
        self.user_id = user_id
        self.target = target
        self._clients = clients
        self._store = store
        self._publish = publish
        self._config = config
        self._clock = clock
        self._positions: dict[int, Tracked] = {}
        self._settings: dict[int, TradingSettings] = {}
        self._blocks: list[UserSettings] | None = None
        self._lock = asyncio.Lock()
        self._attempted: set[str] = set()
        """Client ids of actions sent in this process (or pending from before it): replays look first."""
        self._delayed: set[str] = set()
        self._suspects: dict[int, Finding] = {}
        self._liquidation: dict[str, Decimal] = {}
        self._placed_at: dict[int, int] = {}
        """Venue time the entries of a position with no fill yet were placed (see ``_find_placement``)."""
        self.wake = asyncio.Event()
        """Set when something suggests the venue changed behind the streams: the poll loop syncs at once."""

    # ------------------------------------------------------------------------------ what it holds

    @property
    def position_ids(self) -> set[int]:
        return set(self._positions)

    def symbols(self) -> set[str]:
        """Symbols of positions still to manage (closed ones waiting for their last cancels excluded)."""
        return {t.stored.state.instrument.symbol for t in self._positions.values() if not t.stored.state.is_closed}

    def marks(self, symbol: str, price: Decimal, at: int) -> list[PositionMark]:
        """The live figures of the positions on ``symbol`` still managed here, at ``price``."""
        return [PositionMark.of(tracked.row, price, at) for tracked in self._managed(symbol)]

    def holds(self, position_id: int) -> bool:
        return position_id in self._positions

    def signal_positions(self, signal_id: int) -> list[int]:
        return [pid for pid, t in self._positions.items() if t.stored.state.key.signal_id == signal_id]

    def has_resting_entries(self, position_id: int) -> bool:
        tracked = self._positions.get(position_id)
        return tracked is not None and any(leg.resting for leg in tracked.stored.state.adds)

    async def add(self, position_id: int) -> None:
        """Manage this stored position from now on (read afresh under the lock: a position read before
        it closed here must not come back)."""
        if position_id in self._positions:  # the rescan's common case: no need to wait for the lock
            return
        async with self._lock:
            if position_id in self._positions:
                return
            tracked = await self._store.get(position_id)
            if tracked is None:
                return
            if self._blocks is None:
                self._blocks = await self._store.settings(self.user_id)
            self._positions[tracked.id] = tracked
            self._settings[tracked.id] = self._resolve(tracked.stored.state)
            # Actions stored as pending may have reached the venue before the process stopped.
            self._attempted.update(action_id(action) for action in tracked.stored.pending)

    async def reload_settings(self) -> None:
        async with self._lock:
            await self._reload_settings()

    # ------------------------------------------------------------------------------ inputs

    async def on_fill(self, fill: Fill) -> None:
        async with self._lock:
            tracked = self._apply_fill_target(fill)
            if tracked is not None:
                await self._apply_fill(tracked, fill)
                await self._settle(tracked)

    def on_order(self, order: Order) -> None:
        """An entry or DCA order of ours ended without filling, and not by our hand: look at the venue."""
        if order.status not in _UNFILLED_END:
            return
        for tracked in self._positions.values():
            if any(leg.resting and leg.client_order_id == order.client_order_id for leg in tracked.stored.state.adds):
                self.wake.set()

    async def on_price(self, symbol: str, price: Decimal, at: int, atr: AtrSource) -> None:
        async with self._lock:
            for tracked in self._managed(symbol):
                settings = self._settings[tracked.id]
                value = None
                if settings.trailing_type is TrailingType.ATR:
                    params = tracked.stored.state.atr
                    value = await atr(params.period if params is not None else settings.atr_period)
                await self._apply(tracked, PriceUpdate(price, at, value))
                await self._settle(tracked)

    async def tick(self, at: int) -> None:
        async with self._lock:
            for tracked in self._managed():
                settings = self._settings[tracked.id]
                if settings.auto_close_at is not None or settings.max_hold_minutes is not None:
                    await self._apply(tracked, TimeTick(at))
                    await self._settle(tracked)

    async def request(self, position_id: int, event: CloseRequest | WithdrawEntries | AmendExits) -> PositionState:
        """A person (or the signal's cancel) acts on one position; returns its state once the venue was told."""
        async with self._lock:
            tracked = self._positions.get(position_id)
            if tracked is None:
                raise NotFoundError(f"position {position_id} is no longer open")
            await self._apply(tracked, event)
            await self._settle(tracked)
            return tracked.stored.state

    async def sync(self) -> None:
        """Reconcile with the venue: finish pending actions, apply missed fills, correct what differs."""
        async with self._lock:
            await self._reload_settings()
            for tracked in list(self._positions.values()):
                await self._settle(tracked)
            symbols = sorted(self.symbols())
            if not symbols:
                return
            client = await self.client()
            for tracked in list(self._positions.values()):
                await self._find_placement(client, tracked)
            before = await self._snapshot(client, symbols)
            await self._pull_fills(client, symbols)
            after = await self._snapshot(client, symbols)
            self._liquidation.update(
                {s: p.liquidation_price for s, p in after.positions.items() if p.liquidation_price is not None}
            )
            if before.agrees_with(after):
                await self._correct(client, after)
            for tracked in list(self._positions.values()):
                await self._settle(tracked)

    # ------------------------------------------------------------------------------ steps

    async def _apply(
        self, tracked: Tracked, event: Event, *, fill: Fill | None = None, closing_code: str | None = None
    ) -> None:
        """One event through the manager: store the step, then tell the owner. Its actions wait in ``pending``."""
        stored, at = tracked.stored, self._clock()
        if fill is not None and fill.trade_id in stored.ledger.fills:
            return
        result = step(stored.state, event, self._settings[tracked.id])
        # The row names the signal (none for an adopted position, whose key carries a stand-in).
        trades = [replace(result.state.trade(part), signal_id=tracked.row.signal_id) for part in result.exits]
        ledger = stored.ledger.after(fill, trades)
        if closing_code is not None and result.state.is_closed and not stored.state.is_closed:
            ledger = replace(ledger, closing_code=closing_code)  # told when the row closes (``_settle``)
        tracked.stored = Stored(result.state, ledger, (*stored.pending, *result.actions))
        first_fill = stored.state.peak_qty == 0 and result.state.peak_qty > 0
        if fill is not None or trades or result.actions or _material(stored.state, result.state):
            await self._save(tracked, trades, first_fill=first_fill)
        owner = self._owner(tracked)
        withdrawal = closing_code or SIGNAL_CANCELLED
        for notice in step_notices(owner, stored.state, event, result, trades, at, withdrawal_code=withdrawal):
            self._publish(notice)

    async def _apply_fill(self, tracked: Tracked, fill: Fill) -> None:
        event = event_for(tracked.stored.state, fill, self._liquidation.get(fill.symbol))
        await self._apply(tracked, event, fill=fill)
        await self._drain(tracked)

    def _apply_fill_target(self, fill: Fill) -> Tracked | None:
        key = route(fill, ((pid, t.stored.state) for pid, t in self._positions.items()))
        return None if key is None else self._positions[key]

    async def _settle(self, tracked: Tracked) -> None:
        """Send what is pending; once the position is flat with nothing left to do, close its row —
        after one last look for an entry that filled while it was being cancelled — and tell the owner."""
        while True:
            await self._drain(tracked)
            if tracked.stored.pending or not tracked.stored.state.is_closed:
                return
            late = await self._late_fills(tracked)
            if late is None:
                return  # the venue could not be asked: the next sync tries again
            if not late:
                break
        funding = await self._funding(tracked)
        if isinstance(funding, _Unanswered):
            return
        await self._store.close(tracked, at=self._clock(), funding=funding)
        stored = tracked.stored
        notice = closed_notice(self._owner(tracked), stored.state, stored.ledger, self._clock())
        if notice is not None:
            self._publish(notice)
        del self._positions[tracked.id]
        self._settings.pop(tracked.id, None)
        self._suspects.pop(tracked.id, None)
        self._placed_at.pop(tracked.id, None)
        done = client_ids(tracked.stored.state)
        self._attempted -= done
        self._delayed -= done

    async def _funding(self, tracked: Tracked) -> Decimal | _Unanswered | None:
        """The funding of a position that is over, where the venue reports it (None where it does not); the
        venue not answering now leaves the row open for the next sync to try again."""
        stored = tracked.stored
        if stored.state.peak_qty <= 0 or not reports_funding(self.target):
            return None
        try:
            return await funding_over_life(await self.client(), stored.state, stored.ledger.fills_since)
        except TRANSIENT:
            return _UNANSWERED
        except ExchangeError as error:
            log.warning("funding of position %s on %s left out of its PnL: %s", tracked.id, self.target, error)
            return None

    async def _late_fills(self, tracked: Tracked) -> bool | None:
        state = tracked.stored.state
        try:
            fills = await (await self.client()).fetch_fills(state.instrument.symbol, since=self._since(tracked))
        except TRANSIENT:
            return None
        ids = client_ids(state)
        late = [f for f in fills if f.client_order_id in ids and f.trade_id not in tracked.stored.ledger.fills]
        for fill in sorted(late, key=lambda f: f.timestamp):
            await self._apply(tracked, fill, fill=fill)
        return bool(late)

    # ------------------------------------------------------------------------------ actions

    async def _drain(self, tracked: Tracked) -> None:
        """Send the pending actions in order; stop at one that must wait for the venue to answer again."""
        if not tracked.stored.pending:
            return
        client = await self.client()
        symbol = tracked.stored.state.instrument.symbol
        while tracked.stored.pending:
            action = tracked.stored.pending[0]
            key = action_id(action)
            replay = key in self._attempted
            self._attempted.add(key)
            executed = await execute(client, symbol, action, replay=replay)
            if executed.outcome is Outcome.RETRY:
                if key not in self._delayed:
                    self._delayed.add(key)
                    self.report("action_delayed", f"{_describe(action)} on {symbol} waits: {executed.error}", tracked)
                break
            self._delayed.discard(key)
            tracked.stored = replace(tracked.stored, pending=tracked.stored.pending[1:])
            if executed.outcome is Outcome.FAILED:
                if isinstance(action, SetStop):
                    await self._stop_failed(tracked, action, executed.error, client)
                elif isinstance(action, ClosePosition | PlaceOrder):
                    self.report("order_refused", f"{_describe(action)} on {symbol} refused: {executed.error}", tracked)
                    self.wake.set()
                else:
                    log.info("%s on %s not carried out: %s", _describe(action), symbol, executed.error)
        await self._save(tracked)

    async def _stop_failed(
        self, tracked: Tracked, action: SetStop, error: ExchangeError | None, client: ExchangeAdapter
    ) -> None:
        state = tracked.stored.state
        symbol = state.instrument.symbol
        if not await self._venue_holds(client, state):
            log.info("stop on %s refused with no position left on the venue (%s): syncing", symbol, error)
            self.wake.set()
            return
        result = step(state, CloseRequest(self._clock(), state.stop_kind), self._settings[tracked.id])
        # The rest of the batch is superseded: closing cancels the orders it would have placed.
        tracked.stored = Stored(result.state, tracked.stored.ledger, result.actions)
        await self._save(tracked)
        self.report("stop_failed", f"the stop {action.price} on {symbol} could not be set ({error}): closing", tracked)

    async def _venue_holds(self, client: ExchangeAdapter, state: PositionState) -> bool:
        """Whether the venue still has the position; when it cannot say, assume it does (closing is the safe side)."""
        try:
            positions = await client.fetch_positions([state.instrument.symbol])
        except ExchangeError:
            return True
        return any(p.symbol == state.instrument.symbol and p.side is state.side for p in positions)

    # ------------------------------------------------------------------------------ reconciliation

    async def _snapshot(self, client: ExchangeAdapter, symbols: list[str]) -> Snapshot:
        positions = await client.fetch_positions(symbols)
        orders = await client.fetch_open_orders()
        return Snapshot.of(positions, (order.client_order_id for order in orders))

    async def _pull_fills(self, client: ExchangeAdapter, symbols: Iterable[str], *, since: int | None = None) -> None:
        for symbol in symbols:
            holders = [t for t in self._positions.values() if t.stored.state.instrument.symbol == symbol]
            if not holders:
                continue
            start = since if since is not None else min(self._since(t) for t in holders)
            fills = await client.fetch_fills(symbol, since=start)
            for fill in sorted(fills, key=lambda f: f.timestamp):
                tracked = self._apply_fill_target(fill)
                if tracked is not None:
                    await self._apply_fill(tracked, fill)

    async def _correct(self, client: ExchangeAdapter, snapshot: Snapshot) -> None:
        for tracked in list(self._positions.values()):
            finding = check(tracked.stored.state, snapshot)
            if isinstance(finding, Missing) and tracked.id not in self._suspects:
                # First sight: look for closing fills over the position's whole life before suspecting anyone.
                opened = tracked.stored.state.opened_at
                await self._pull_fills(client, [tracked.stored.state.instrument.symbol], since=opened)
                finding = check(tracked.stored.state, snapshot)
            if finding is None:
                self._suspects.pop(tracked.id, None)
            elif isinstance(finding, Unprotected):
                await self._restore_stop(tracked, finding)
            elif self._suspects.get(tracked.id) != finding:
                self._suspects[tracked.id] = finding  # acted on if the next pass finds the same
            else:
                del self._suspects[tracked.id]
                if isinstance(finding, EntriesGone):
                    await self._apply(tracked, WithdrawEntries(self._clock()), closing_code="entries_gone")
                else:
                    await self._close_outside(tracked, finding, client)

    async def _restore_stop(self, tracked: Tracked, finding: Unprotected) -> None:
        state = tracked.stored.state
        log.warning(
            "user %s: the %s stop on %s is %s on %s; setting %s again",
            self.user_id,
            state.stop_kind,
            state.instrument.symbol,
            finding.venue_stop or "missing",
            self.target,
            state.stop,
        )
        stop = SetStop(state.stop, state.stop_kind, state.key.client_order_id(LegKind.STOP, 0))
        tracked.stored = replace(tracked.stored, pending=(*tracked.stored.pending, stop))
        await self._drain(tracked)

    async def _close_outside(self, tracked: Tracked, missing: Missing, client: ExchangeAdapter) -> None:
        """Record what the venue no longer holds as closed outside the platform, at the last price."""
        stored = tracked.stored
        state = stored.state
        symbol = state.instrument.symbol
        price = await self._last_price(client, state)
        request = CloseRequest(self._clock(), ExitReason.EXTERNAL, None if missing.flat else missing.qty)
        result = step(state, request, self._settings[tracked.id])
        closes = [a for a in result.actions if isinstance(a, ClosePosition)]
        others = tuple(a for a in result.actions if not isinstance(a, ClosePosition))
        # Nothing is left on the venue for a close in flight to take.
        kept = tuple(a for a in stored.pending if not (missing.flat and isinstance(a, ClosePosition)))
        tracked.stored = Stored(result.state, stored.ledger, (*kept, *others))
        await self._save(tracked)
        # Venue time and ours differ: a close recorded now must not precede what the venue already reported.
        at = max(self._clock(), state.opened_at or 0, stored.ledger.fills_since or 0)
        for close in closes:
            note = Fill(
                trade_id=f"outside:{tracked.id}:{close.order.client_order_id}",
                client_order_id=close.order.client_order_id,
                symbol=symbol,
                side=close.order.side,
                qty=close.order.qty,
                price=price,
                fee=Decimal(0),
                fee_asset="",
                is_maker=False,
                timestamp=at,
            )
            await self._apply(tracked, note, fill=note, closing_code="no_closing_fill")
        if not missing.flat:
            self.report(
                "reduced_outside",
                f"{figure(missing.qty)} of {symbol} left the position outside the platform with no fill found; "
                f"recorded at the last price {figure(price)}",
                tracked,
            )
        await self._drain(tracked)

    async def _last_price(self, client: ExchangeAdapter, state: PositionState) -> Decimal:
        try:
            ticker = await client.fetch_ticker(state.instrument.symbol)
        except ExchangeError:
            return state.last_price or state.entry_price
        return ticker.mark or ticker.last

    # ------------------------------------------------------------------------------ plumbing

    def _managed(self, symbol: str | None = None) -> list[Tracked]:
        return [
            t
            for t in self._positions.values()
            if not t.stored.state.is_closed and (symbol is None or t.stored.state.instrument.symbol == symbol)
        ]

    def _since(self, tracked: Tracked) -> int:
        newest = tracked.stored.ledger.fills_since
        if newest is None:
            newest = min(tracked.row.opened_at, self._placed_at.get(tracked.id, tracked.row.opened_at))
        return newest - self._config.fill_lookback_ms

    async def _find_placement(self, client: ExchangeAdapter, tracked: Tracked) -> None:
        """When the entries of a position with no fill yet went to the venue, by the venue's own clock.

        The row's opening time is when the fan-out stored it, which after an interrupted fan-out can be
        long after its entries were sent and filled: fills are looked for from the entries' placement.
        """
        state = tracked.stored.state
        if tracked.stored.ledger.fills_since is not None or tracked.id in self._placed_at:
            return
        times = []
        for leg in state.adds:
            try:
                order = await client.fetch_order(state.instrument.symbol, leg.client_order_id)
            except OrderNotFoundError:
                continue
            times.append(order.created_at)
        self._placed_at[tracked.id] = min(times, default=tracked.row.opened_at)

    async def client(self) -> ExchangeAdapter:
        return await self._clients.client(self.user_id, self.target)

    async def _save(self, tracked: Tracked, trades: Sequence[Trade] = (), *, first_fill: bool = False) -> None:
        symbol = tracked.stored.state.instrument.symbol
        liquidation = self._liquidation.get(symbol)
        await self._store.save(tracked, trades, liquidation_price=liquidation, at=self._clock(), first_fill=first_fill)

    async def _reload_settings(self) -> None:
        self._blocks = await self._store.settings(self.user_id)
        for pid, tracked in self._positions.items():
            self._settings[pid] = self._resolve(tracked.stored.state)

    def _resolve(self, state: PositionState) -> TradingSettings:
        try:
            return resolve_for(
                self._blocks or (), strategy=state.strategy, side=state.side, exchange=self.target.exchange
            )
        except SettingsError as error:
            log.warning(
                "user %s has settings that do not resolve (%s): managing with the defaults", self.user_id, error
            )
            return DEFAULTS

    def _owner(self, tracked: Tracked) -> Owner:
        return Owner(tracked.id, self.user_id, self.target, tracked.row.signal_id)

    def report(self, code: str, message: str, tracked: Tracked | None = None) -> None:
        """Tell the owner something went wrong (an ERROR event, throttled into digests by notifications)."""
        self._publish(
            TradingEvent(
                kind=EventKind.ERROR,
                at=self._clock(),
                user_id=self.user_id,
                target=self.target,
                symbol=None if tracked is None else tracked.stored.state.instrument.symbol,
                signal_id=None if tracked is None else tracked.row.signal_id,
                position_id=None if tracked is None else tracked.id,
                code=code,
                message=message,
            )
        )


class _Unanswered:
    """The venue could not be asked now."""


_UNANSWERED = _Unanswered()


def _material(before: PositionState, after: PositionState) -> bool:
    """Whether a step changed more than the prices it remembers (those alone are not worth a write)."""
    return replace(after, last_price=before.last_price, highest=before.highest, lowest=before.lowest) != before


def _describe(action: Action) -> str:
    if isinstance(action, PlaceOrder | ClosePosition):
        order = action.order
        return f"{order.type} {order.side} {figure(order.qty)}" + (f" at {figure(order.price)}" if order.price else "")
    return type(action).__name__
