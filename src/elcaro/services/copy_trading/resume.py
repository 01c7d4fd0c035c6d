"""Carrying on after a crash: unfinished executions are placed from their stored plans, stored orders caught up.

An execution is ``placing`` from the moment its plan is stored until its orders and position are recorded, so
a crash anywhere in between leaves it unfinished with the plan — and the plan's client ids — at hand. Each of
its orders is first looked up on the venue by client id; only those the venue does not have are sent, and
those still go out under their own id, so even an order whose sending crossed the crash is never doubled.
For a signal cancelled meanwhile, or grown too old to trade, nothing new is sent (a ``Halt``): what reached the
venue is recorded and handed to the position monitor (which withdraws what rests when the signal is cancelled),
and an execution none of whose orders got there is skipped with the halt's reason.

Stored positions are not closed here: one the venue no longer holds stays open for the position monitor, whose
close detection finds out how it ended (stop, liquidation, by hand) and records the trade.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from elcaro.core.codec import decode
from elcaro.exchanges.client import ExchangeClient
from elcaro.models import Order, OrderStatus, Target
from elcaro.models.errors import ExchangeError, NotFoundError, OrderNotFoundError, ValidationError
from elcaro.services.copy_trading.context import Context
from elcaro.services.copy_trading.outcome import CopyCode, PairOutcome
from elcaro.services.copy_trading.placement import Placement
from elcaro.storage import ExecutionRecord, ExecutionStatus
from elcaro.trading import EntryPlan, GateCode

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Halt:
    """Why an interrupted execution may send nothing new (the signal was cancelled, or is too old to trade)."""

    code: str
    reason: str


class Resumer:
    def __init__(self, ctx: Context, placement: Placement) -> None:
        self._ctx = ctx
        self._placement = placement

    async def carry_on(self, record: ExecutionRecord, *, halt: Halt | None = None) -> PairOutcome:
        """Finish an execution a crash interrupted, from its stored plan; with a ``halt``, only what is on the venue."""
        try:
            plan: EntryPlan = decode(EntryPlan, record.plan)
        except ValidationError as error:
            return await self._end(record, ExecutionStatus.FAILED, CopyCode.PLAN_UNREADABLE, str(error))
        try:
            client = await self._ctx.access.client(record.user_id, record.target)
        except NotFoundError as missing:  # keys removed while we were down: nothing can be checked or placed
            return await self._end(record, ExecutionStatus.FAILED, GateCode.NO_CREDENTIALS, str(missing))
        try:
            instrument = await client.instrument(plan.symbol)
            on_venue = await _on_venue(client, plan)
        except NotFoundError as delisted:
            return await self._end(record, ExecutionStatus.FAILED, CopyCode.UNKNOWN_SYMBOL, str(delisted))
        except ExchangeError as error:
            # The venue cannot say what it holds: the execution stays unfinished for the next start.
            return await self._end(record, ExecutionStatus.PLACING, type(error).__name__, str(error))
        if halt is not None and not on_venue:
            return await self._end(record, ExecutionStatus.SKIPPED, halt.code, halt.reason)
        return await self._placement.carry_out(record.id, plan, instrument, client, on_venue, send_new=halt is None)

    async def reconcile_orders(self, limit: asyncio.Semaphore) -> int:
        """Bring stored open orders up to date with the venue (filled or cancelled while we were down).

        Covers the accounts of stored open positions, where the platform's working orders are. Returns how
        many orders changed.
        """
        async with self._ctx.transaction() as tx:
            positions = await tx.positions.list_open()
        accounts = {(p.user_id, p.target) for p in positions if p.user_id is not None and p.target is not None}

        async def one(user_id: int, target: Target) -> int:
            async with limit:
                try:
                    return await self._reconcile_account(user_id, target)
                except (ExchangeError, NotFoundError) as error:
                    log.warning("orders of user %s on %s not reconciled: %r", user_id, target, error)
                    return 0

        changed = await asyncio.gather(*(one(user_id, target) for user_id, target in accounts))
        return sum(changed)

    async def _reconcile_account(self, user_id: int, target: Target) -> int:
        async with self._ctx.transaction() as tx:
            stored = await tx.orders.list_open(user_id, target)
        if not stored:
            return 0
        client = await self._ctx.access.client(user_id, target)
        updates = [order for order in [await _as_on_venue(client, order) for order in stored] if order is not None]
        if updates:
            async with self._ctx.transaction() as tx:
                for order in updates:
                    await tx.orders.save(user_id, target, order)
        return len(updates)

    async def _end(self, record: ExecutionRecord, status: ExecutionStatus, code: str, reason: str) -> PairOutcome:
        now = self._ctx.clock()
        async with self._ctx.transaction() as tx:
            ended = await tx.executions.set_status(record.id, status, reason_code=code, reason=reason, now=now)
        symbol = str(record.plan.get("symbol", ""))
        announce = self._ctx.notices.skipped if status is ExecutionStatus.SKIPPED else self._ctx.notices.failed
        announce(record.user_id, record.target, symbol, record.signal_id, code, reason)
        return PairOutcome.of(ended)


async def _on_venue(client: ExchangeClient, plan: EntryPlan) -> dict[str, Order]:
    """The plan's orders the venue already holds, by client id."""
    found: dict[str, Order] = {}
    for order in (*plan.entries, *plan.dca):
        try:
            found[order.client_order_id] = await client.fetch_order(order.symbol, order.client_order_id)
        except OrderNotFoundError:
            continue
    return found


async def _as_on_venue(client: ExchangeClient, stored: Order) -> Order | None:
    """The venue's version of a stored open order when it differs; one the venue does not know is cancelled."""
    try:
        current = await client.fetch_order(stored.symbol, stored.client_order_id)
    except OrderNotFoundError:
        return stored.with_update(status=OrderStatus.CANCELED, reject_reason="the venue does not know this order")
    changed = (current.status, current.filled_qty, current.avg_fill_price) != (
        stored.status,
        stored.filled_qty,
        stored.avg_fill_price,
    )
    return current if changed else None
