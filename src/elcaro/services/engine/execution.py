"""The engine's orders on its account: entries with a checked stop, exits, stop moves, and closing everything.

Every order goes through the unified client's ``place_order`` under a deterministic client id made
from what the order is for — the account, the symbol, the signal bar, the side, the leg and its
number (``make_client_order_id``) — so a retry after a lost answer, or the same signal seen again
after a restart, finds the order already on the venue instead of placing a second.

Rules kept here, whatever the strategy decides:

- **Never naked.** After an entry fills, the stop is placed as a reduce-only stop-market order and
  read back from the venue (status open, trigger where it was asked). If it cannot be placed, or
  the market is already through it, the position is closed at market at once; if even that fails,
  ``UnprotectedPositionError`` is raised, which the engine's error policy treats as an emergency.
- **Real exits.** Take-profits rest on the venue as reduce-only limit orders from the entry on, so
  they fill at their own price inside the bar (a target the venue cannot take is closed at market
  when the exit rules reach it); every other exit is a reduce-only market order. A stop only ever
  moves toward profit (amended in place), and a stop the market has already crossed closes at
  market. The stop's size follows the position as parts close.
- **Closing everything** (kill switch, panic exit, time stop) cancels the account's entry orders,
  closes every position with reduce-only market orders, cancels what is left (the stops), and then
  reads the account back: it is done only when the venue reports no position and no open order.

The engine's account is the engine's: closing everything closes every position and order on it,
including ones the engine does not know of (a restart forgets the engine's book; the kill switch
must not leave anything behind). Give the engine a user and target of its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal

from elcaro.engine import UnprotectedPositionError
from elcaro.exchanges.client import ExchangeClient
from elcaro.models import (
    ZERO,
    ExitReason,
    Instrument,
    Order,
    OrderStatus,
    OrderType,
    Position,
    PositionSide,
    make_client_order_id,
)
from elcaro.models.errors import ElcaroError, ExchangeError, NetworkError, OrderNotFoundError

log = logging.getLogger(__name__)

ID_PREFIX = "elcaro-engine"
SETTLE_POLLS = 20
"""Look-ups of a market order the venue has not finished filling before it is cancelled."""


@dataclass(frozen=True, slots=True)
class EntryRequest:
    """An entry the risk gate allowed, in the venue's units."""

    symbol: str
    side: PositionSide
    qty: Decimal
    """Contracts, rounded down to the step."""
    stop: Decimal
    """On the tick, rounded away from the entry (a stop is never tighter than the strategy asked)."""
    reference_price: Decimal
    bar_ts: int
    """The signal bar: with the symbol and side it names the trade, so its ids repeat for the same signal."""
    leverage: Decimal
    targets: tuple[TargetRequest, ...] = ()


@dataclass(frozen=True, slots=True)
class TargetRequest:
    """A take-profit to rest on the venue once the entry fills: ``fraction`` of the filled quantity at ``price``."""

    name: str
    """``tp1``, ``tp2``: the exit rule it stands for."""
    price: Decimal
    """On the tick, rounded away from the entry: the venue fills it only where the rule counts it reached."""
    fraction: Decimal


@dataclass(slots=True)
class TargetOrder:
    name: str
    client_order_id: str
    qty: Decimal
    price: Decimal
    filled: Decimal = ZERO
    """What of it the engine has accounted for (a closed part each time it grew)."""
    done: bool = False
    """Filled in full, cancelled, or handed over to a market close: nothing more to look at."""


@dataclass(slots=True)
class Held:
    """A position the engine opened, as the venue holds it."""

    symbol: str
    side: PositionSide
    instrument: Instrument
    bar_ts: int
    qty: Decimal
    remaining: Decimal
    entry_price: Decimal
    entry_fee: Decimal
    opened_at: int
    stop_price: Decimal
    stop_reason: ExitReason = ExitReason.STOP_LOSS
    """What a fill of the stop means now: the first stop, break-even or a trailing stop."""
    stop_revision: int = 0
    closes: int = 0
    """Exit orders sent so far: the number of the next one's client id."""
    targets: list[TargetOrder] = field(default_factory=list)
    """Take-profits resting on the venue as reduce-only limit orders."""

    def target(self, name: str) -> TargetOrder | None:
        return next((target for target in self.targets if target.name == name), None)

    def entry_fee_for(self, qty: Decimal) -> Decimal:
        return self.entry_fee * qty / self.qty if self.qty else ZERO


@dataclass(frozen=True, slots=True)
class Closed:
    """A closed part of a position: what the trade log records."""

    symbol: str
    side: PositionSide
    qty: Decimal
    entry_price: Decimal
    exit_price: Decimal
    fees: Decimal
    """Entry fee of this part plus the exit fee."""
    opened_at: int
    closed_at: int
    reason: ExitReason
    contract_size: Decimal = Decimal(1)
    bar_ts: int | None = None


@dataclass(frozen=True, slots=True)
class FlattenReport:
    flat: bool
    closed: tuple[Order, ...] = ()
    """The market closes sent, as the venue answered them."""
    cancelled: int = 0
    left_positions: tuple[Position, ...] = ()
    left_orders: tuple[Order, ...] = ()
    errors: tuple[str, ...] = field(default_factory=tuple)


class Executor:
    """One engine's orders on one account (see the module docstring)."""

    def __init__(
        self,
        client: ExchangeClient,
        account_ref: str,
        *,
        clock: Callable[[], int],
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        poll_interval: float = 0.25,
    ) -> None:
        self.client = client
        self._ref = account_ref
        self._clock = clock
        self._sleep = sleep
        self._poll_interval = poll_interval

    # --------------------------------------------------------------------------------------- ids

    def _id(self, symbol: str, bar_ts: int, side: PositionSide, leg: str, number: int = 0) -> str:
        return make_client_order_id(ID_PREFIX, self._ref, symbol, bar_ts, side.value, leg, number)

    def entry_id(self, request: EntryRequest) -> str:
        return self._id(request.symbol, request.bar_ts, request.side, "entry")

    def stop_id(self, held: Held) -> str:
        return self._id(held.symbol, held.bar_ts, held.side, "stop", held.stop_revision)

    def _close_id(self, held: Held) -> str:
        return self._id(held.symbol, held.bar_ts, held.side, "close", held.closes)

    # ------------------------------------------------------------------------------------ entries

    async def open(self, request: EntryRequest) -> tuple[Held | None, Closed | None]:
        """Enter at market and protect it; returns what is held, or the immediate close when it could not be protected.

        Raises the venue's error when the entry itself is refused (nothing is then held), and
        ``UnprotectedPositionError`` when the position is held without a stop and could not be closed.
        """
        instrument = await self.client.instrument(request.symbol)
        await self.client.set_leverage(request.symbol, request.leverage)
        order = Order(
            self.entry_id(request),
            request.symbol,
            request.side.entry_side,
            OrderType.MARKET,
            request.qty,
        )
        order = await self.client.conform(order, reference_price=request.reference_price)
        placed = await self._settled(await self.client.place_order(order))
        if placed.filled_qty <= 0:
            log.info("entry %s %s was not filled (%s)", request.side, request.symbol, placed.status)
            return None, None
        # What the venue holds now, not what the order says: an entry id already used (the same signal
        # seen again after a restart) answers with the earlier order, whose position may be long gone.
        positions = await self.client.fetch_positions([request.symbol])
        venue = next((p for p in positions if p.symbol == request.symbol and p.side is request.side), None)
        if venue is None:
            log.warning(
                "entry %s %s: the venue holds no such position (its id was used before)", request.side, request.symbol
            )
            return None, None
        held = Held(
            symbol=request.symbol,
            side=request.side,
            instrument=instrument,
            bar_ts=request.bar_ts,
            qty=min(placed.filled_qty, venue.qty),
            remaining=min(placed.filled_qty, venue.qty),
            entry_price=placed.avg_fill_price or request.reference_price,
            entry_fee=placed.fee,
            opened_at=placed.updated_at or self._clock(),
            stop_price=request.stop,
        )
        problem = await self._protect(held)
        if problem is None:
            await self._rest_targets(held, request.targets)
            return held, None
        log.warning("%s %s opened without a stop (%s): closing it at market", held.side, held.symbol, problem)
        closed = await self._close_or_raise(held, ExitReason.STOP_LOSS, f"its stop could not be set: {problem}")
        return None, closed

    async def _protect(self, held: Held) -> str | None:
        """Place the stop and read it back; returns what went wrong, ``None`` when the position is protected."""
        side = held.side
        if side.sign * (held.entry_price - held.stop_price) <= 0:
            return f"the market ({held.entry_price}) is already through the stop {held.stop_price}"
        stop = Order(
            self.stop_id(held),
            held.symbol,
            side.exit_side,
            OrderType.STOP_MARKET,
            held.remaining,
            trigger_price=held.stop_price,
            reduce_only=True,
        )
        try:
            await self.client.place_order(stop)
            placed = await self.client.fetch_order(held.symbol, stop.client_order_id)
        except ExchangeError as error:
            return f"{type(error).__name__}: {error}"
        if placed.status not in (OrderStatus.OPEN, OrderStatus.PENDING) or placed.trigger_price != held.stop_price:
            return f"the venue holds the stop as {placed.status} at {placed.trigger_price}"
        return None

    async def _rest_targets(self, held: Held, targets: Sequence[TargetRequest]) -> None:
        """Place each take-profit; one the venue will not take is left to a market close when its rule fires."""
        for number, target in enumerate(targets):
            qty = held.instrument.round_qty(held.qty * target.fraction)
            if qty < held.instrument.min_qty or held.side.sign * (target.price - held.entry_price) <= 0:
                continue
            order = Order(
                self._id(held.symbol, held.bar_ts, held.side, target.name, number),
                held.symbol,
                held.side.exit_side,
                OrderType.LIMIT,
                qty,
                price=target.price,
                reduce_only=True,
            )
            try:
                placed = await self.client.place_order(order)
            except ExchangeError as error:
                if isinstance(error, NetworkError):
                    raise
                log.warning(
                    "%s %s: %s not placed (%s); a market close will take it", held.side, held.symbol, target.name, error
                )
                continue
            held.targets.append(TargetOrder(target.name, placed.client_order_id, qty, target.price))

    # -------------------------------------------------------------------------------------- exits

    async def take_target(self, held: Held, name: str, qty: Decimal, reason: ExitReason) -> list[Closed]:
        """The exit rules say target ``name`` was reached: what its resting order has not filled is closed at market."""
        target = held.target(name)
        if target is None or target.done:
            closed = await self.reduce(held, qty, reason) if target is None else None
            return [closed] if closed is not None else []
        parts = await self._target_fills(held, target, cancel=True)
        missing = target.qty - target.filled
        if missing > 0 and held.remaining > 0:
            rest = await self.reduce(held, missing, reason)
            if rest is not None:
                parts.append(rest)
        elif held.remaining > 0:
            await self._resize_stop(held)
        target.done = True
        return parts

    async def reduce(self, held: Held, qty: Decimal, reason: ExitReason) -> Closed | None:
        """Close ``qty`` (rounded down to the step) at market; the whole remainder when too little would be left."""
        qty = min(held.instrument.round_qty(qty), held.remaining)
        if held.remaining - qty < held.instrument.min_qty:
            qty = held.remaining
        if qty < held.instrument.min_qty:
            return None
        closed = await self._market_close(held, qty, reason)
        if held.remaining > 0:
            await self._resize_stop(held)
        return closed

    async def close(self, held: Held, reason: ExitReason) -> Closed | None:
        """Close what remains at market, then withdraw the stop and the take-profits."""
        closed = await self._market_close(held, held.remaining, reason) if held.remaining > 0 else None
        await self._withdraw_stop(held)
        for target in held.targets:
            if not target.done:
                await self._cancel_quietly(held.symbol, target.client_order_id)
                target.done = True
        return closed

    async def move_stop(self, held: Held, price: Decimal, reason: ExitReason, *, market: Decimal) -> Closed | None:
        """Move the stop to ``price`` (rounded toward the position), only ever toward profit.

        A stop the ``market`` price has already crossed would fire at once: the position is closed at
        market instead, with ``reason``.
        """
        sign = held.side.sign
        price = held.instrument.round_price(price, "down" if sign > 0 else "up")
        if sign * (price - held.stop_price) <= 0:
            return None  # not a tightening
        if sign * (market - price) <= 0:
            return await self.close(held, reason)
        amended = await self.client.amend_order(held.symbol, self.stop_id(held), trigger_price=price)
        if amended.trigger_price != price:
            raise UnprotectedPositionError(
                f"{held.symbol}: the venue holds the stop at {amended.trigger_price}, not the {price} asked"
            )
        held.stop_price = price
        held.stop_reason = reason
        return None

    async def sync(self, held: Held) -> list[Closed]:
        """What became of ``held`` on the venue since the last look, as closed parts.

        Take-profits that filled (in full or in part), a fired stop, or a position closed outside the
        engine. A stop the venue dropped while the position is still open is placed again (a new
        revision); when that fails the position is closed.
        """
        parts: list[Closed] = []
        for target in held.targets:
            if not target.done:
                parts += await self._target_fills(held, target, cancel=False)
        try:
            stop: Order | None = await self.client.fetch_order(held.symbol, self.stop_id(held))
        except OrderNotFoundError:
            stop = None
        if stop is not None and stop.filled_qty > 0 and stop.status.is_terminal:
            return parts + await self._stop_fired(held, stop)
        positions = await self.client.fetch_positions([held.symbol])
        if not any(p.symbol == held.symbol and p.side is held.side for p in positions):
            return parts + await self._gone(held)
        if stop is None or stop.status.is_terminal:
            held.stop_revision += 1
            problem = await self._protect(held)
            if problem is not None:
                why = f"its stop could not be set again: {problem}"
                closed = await self._close_or_raise(held, ExitReason.STOP_LOSS, why)
                return [*parts, closed] if closed is not None else parts
        elif parts:
            await self._resize_stop(held)
        return parts

    async def _stop_fired(self, held: Held, stop: Order) -> list[Closed]:
        parts = []
        qty = min(stop.filled_qty, held.remaining)
        if qty > 0:
            price = stop.avg_fill_price or held.stop_price
            parts.append(self._part(held, qty, price, stop.fee, held.stop_reason, at=stop.updated_at))
            held.remaining -= qty
        rest = await self.close(held, held.stop_reason)  # a stop smaller than the position: the rest; and the targets
        return [*parts, rest] if rest is not None else parts

    async def _gone(self, held: Held) -> list[Closed]:
        """The venue holds no such position any more, and nothing the engine sent explains it: closed elsewhere."""
        parts = []
        if held.remaining > 0:
            price = (await self.client.fetch_ticker(held.symbol)).last
            parts.append(self._part(held, held.remaining, price, ZERO, ExitReason.EXTERNAL))
            held.remaining = ZERO
        await self.close(held, ExitReason.EXTERNAL)
        return parts

    async def _target_fills(self, held: Held, target: TargetOrder, *, cancel: bool) -> list[Closed]:
        """The part of ``target`` filled since the last look (cancelling the rest first when asked)."""
        try:
            if cancel:
                order = await self.client.cancel_order(held.symbol, target.client_order_id)
            else:
                order = await self.client.fetch_order(held.symbol, target.client_order_id)
        except OrderNotFoundError:
            target.done = True
            return []
        if order.status.is_terminal:
            target.done = True
        fresh = min(order.filled_qty - target.filled, held.remaining)
        if fresh <= 0:
            return []
        target.filled += fresh
        held.remaining -= fresh
        fee = order.fee * fresh / order.filled_qty if order.filled_qty else ZERO
        price = order.avg_fill_price or target.price
        return [self._part(held, fresh, price, fee, ExitReason.TAKE_PROFIT, at=order.updated_at)]

    # ------------------------------------------------------------------------------ close everything

    async def flatten(self, attempt: str) -> FlattenReport:
        """Cancel entries, close every position at market, cancel the rest, and read the account back.

        ``attempt`` names this pass in the client ids of its closes: unique per pass (the time the close
        began and a count), so a pass never mistakes an earlier pass's filled close for its own.
        """
        errors: list[str] = []
        cancelled = 0
        for order in await self.client.fetch_open_orders():
            if not order.reduce_only:
                cancelled += await self._cancel(order, errors)
        closes: list[Order] = []
        for position in await self.client.fetch_positions():
            close = Order(
                make_client_order_id(ID_PREFIX, self._ref, "flatten", position.symbol, attempt),
                position.symbol,
                position.side.exit_side,
                OrderType.MARKET,
                position.qty,
                reduce_only=True,
            )
            try:
                closes.append(await self._settled(await self.client.place_order(close)))
            except ExchangeError as error:
                errors.append(f"close {position.symbol}: {type(error).__name__}: {error}")
        for order in await self.client.fetch_open_orders():
            cancelled += await self._cancel(order, errors)
        left_positions = tuple(await self.client.fetch_positions())
        left_orders = tuple(await self.client.fetch_open_orders())
        flat = not left_positions and not left_orders
        return FlattenReport(flat, tuple(closes), cancelled, left_positions, left_orders, tuple(errors))

    def closed_by_flatten(self, held: Held, closes: Sequence[Order], reason: ExitReason) -> Closed | None:
        """The part of ``held`` a flatten's market close took, for the trade log."""
        order = next((o for o in closes if o.symbol == held.symbol and o.side is held.side.exit_side), None)
        if order is None or order.filled_qty <= 0:
            return None
        qty = min(order.filled_qty, held.remaining)
        price = order.avg_fill_price or held.entry_price
        fee = order.fee * qty / order.filled_qty
        held.remaining -= qty
        return self._part(held, qty, price, fee, reason)

    # -------------------------------------------------------------------------------- internals

    async def _market_close(self, held: Held, qty: Decimal, reason: ExitReason) -> Closed | None:
        order = Order(self._close_id(held), held.symbol, held.side.exit_side, OrderType.MARKET, qty, reduce_only=True)
        # Numbered only once sent: after a lost answer the next try reuses the id, and the venue recognises it.
        placed = await self._settled(await self.client.place_order(order))
        held.closes += 1
        if placed.filled_qty <= 0:
            return None
        held.remaining -= placed.filled_qty
        price = placed.avg_fill_price or held.entry_price
        return self._part(held, placed.filled_qty, price, placed.fee, reason, at=placed.updated_at)

    async def _close_or_raise(self, held: Held, reason: ExitReason, why: str) -> Closed | None:
        try:
            return await self.close(held, reason)
        except ElcaroError as error:
            raise UnprotectedPositionError(
                f"{held.side} {held.remaining} {held.symbol} is open without a stop ({why}) and closing it failed: "
                f"{type(error).__name__}: {error}"
            ) from error

    async def _resize_stop(self, held: Held) -> None:
        try:
            await self.client.amend_order(held.symbol, self.stop_id(held), qty=held.remaining)
        except OrderNotFoundError:
            held.stop_revision += 1
            problem = await self._protect(held)
            if problem is not None:
                await self._close_or_raise(held, held.stop_reason, f"its stop could not be set again: {problem}")

    async def _withdraw_stop(self, held: Held) -> None:
        await self._cancel_quietly(held.symbol, self.stop_id(held))

    async def _cancel_quietly(self, symbol: str, client_order_id: str) -> None:
        # The venue may have dropped it with the position, as venues do for reduce-only orders.
        with contextlib.suppress(OrderNotFoundError):
            await self.client.cancel_order(symbol, client_order_id)

    async def _cancel(self, order: Order, errors: list[str]) -> int:
        try:
            await self.client.cancel_order(order.symbol, order.client_order_id)
        except OrderNotFoundError:
            return 0
        except ExchangeError as error:
            errors.append(f"cancel {order.symbol} {order.client_order_id}: {type(error).__name__}: {error}")
            return 0
        return 1

    async def _settled(self, order: Order) -> Order:
        """A market order once the venue finished it; cancelled (with what filled kept) if it never does."""
        for _ in range(SETTLE_POLLS):
            if order.status.is_terminal:
                return order
            await self._sleep(self._poll_interval)
            try:
                order = await self.client.fetch_order(order.symbol, order.client_order_id)
            except NetworkError:
                continue
        try:
            return await self.client.cancel_order(order.symbol, order.client_order_id)
        except OrderNotFoundError:
            return await self.client.fetch_order(order.symbol, order.client_order_id)

    def _part(
        self, held: Held, qty: Decimal, price: Decimal, exit_fee: Decimal, reason: ExitReason, *, at: int = 0
    ) -> Closed:
        return Closed(
            symbol=held.symbol,
            side=held.side,
            qty=qty,
            entry_price=held.entry_price,
            exit_price=price,
            fees=held.entry_fee_for(qty) + exit_fee,
            opened_at=held.opened_at,
            closed_at=max(at or self._clock(), held.opened_at),
            reason=reason,
            contract_size=held.instrument.contract_size,
            bar_ts=held.bar_ts,
        )


def _merge(first: Closed, second: Closed) -> Closed:
    qty = first.qty + second.qty
    price = (first.exit_price * first.qty + second.exit_price * second.qty) / qty
    return replace(first, qty=qty, exit_price=price, fees=first.fees + second.fees, closed_at=second.closed_at)
