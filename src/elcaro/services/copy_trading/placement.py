"""Sending a plan's orders and recording what became of them: one path for a fresh fan-out, a resumed one and
interrupted work a cancel finds.

Every order goes out under the client id the plan gave it, so sending a plan again places nothing twice: the
venue (or the unified client's look-up by client id) answers with the order it already holds. Entries carry
the stop, so a position is protected from its first fill; an entry the venue reports without its stop is
never left standing. Take-profit orders are not placed here: they are reduce-only, which needs a position,
and the position monitor places them as entries fill.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from decimal import Decimal

from elcaro.core.codec import encode
from elcaro.exchanges.client import ExchangeClient
from elcaro.models import ZERO, Instrument, Order, OrderStatus, OrderType, Position
from elcaro.models.errors import ElcaroError, ExchangeError, NetworkError, OrderNotFoundError
from elcaro.services.copy_trading.context import Context
from elcaro.services.copy_trading.outcome import CopyCode, PairOutcome
from elcaro.storage import ExecutionStatus
from elcaro.trading import EntryPlan, LegKind, open_position

log = logging.getLogger(__name__)


class Placement:
    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx

    async def carry_out(
        self,
        execution_id: int,
        plan: EntryPlan,
        instrument: Instrument,
        client: ExchangeClient,
        on_venue: Mapping[str, Order] | None = None,
        *,
        send_new: bool = True,
    ) -> PairOutcome:
        """Set the leverage, send every entry and DCA order not ``on_venue`` already, and record the result.

        Any exchange error withdraws what was sent (see :meth:`_abandon`): a plan is entered whole or not at all.
        ``send_new`` False (the signal was cancelled, or is too old) records only what is ``on_venue``, sending nothing.
        """
        known = on_venue or {}
        sent: list[Order] = []
        sending: Order | None = None
        try:
            leverage = await client.set_leverage(plan.symbol, Decimal(plan.leverage))
            for order in (*plan.entries, *plan.dca):
                if not send_new and order.client_order_id not in known:
                    continue
                sending = order
                placed = known.get(order.client_order_id) or await client.place_order(order)
                sending = None
                sent.append(placed)
                if order.stop_loss is not None and placed.stop_loss is None:
                    reason = f"{plan.key.target} accepted the entry without its stop at {order.stop_loss}"
                    return await self._abandon(execution_id, plan, client, sent, CopyCode.STOP_NOT_ATTACHED, reason)
        except ExchangeError as error:
            # After a lost answer the order may exist: withdraw it with the others (a refusal left nothing behind).
            maybe = [sending] if isinstance(error, NetworkError) and sending is not None else []
            return await self._abandon(execution_id, plan, client, [*sent, *maybe], type(error).__name__, str(error))
        return await self._record(execution_id, plan, instrument, sent, leverage)

    async def _record(
        self, execution_id: int, plan: EntryPlan, instrument: Instrument, orders: Sequence[Order], leverage: Decimal
    ) -> PairOutcome:
        """Store the orders, the tracked position with the state the position monitor manages from, and the status.

        One transaction: a crash before it leaves the execution unfinished and the orders are found again on
        resume; after it the position monitor owns the position.
        """
        ctx, key = self._ctx, plan.key
        now = ctx.clock()
        entry_ids = {order.client_order_id for order in plan.entries}
        entries = [order for order in orders if order.client_order_id in entry_ids]
        filled = bool(entries) and all(order.status is OrderStatus.FILLED for order in entries)
        status = ExecutionStatus.FILLED if filled else ExecutionStatus.PLACED
        position = Position(
            symbol=plan.symbol,
            side=plan.side,
            qty=plan.qty,
            entry_price=_entry_price(plan, entries),
            leverage=leverage,
            stop_loss=plan.stop_loss,
            contract_size=instrument.contract_size,
            opened_at=now,
            updated_at=now,
            target=key.target,
            user_id=key.user_id,
            strategy=plan.strategy,
            signal_id=key.signal_id,
        )
        async with ctx.transaction() as tx:
            stored = await tx.positions.add(position)
            assert stored.id is not None  # the repository hands the position back with its id
            await tx.positions.set_state(stored.id, encode(open_position(plan, instrument)))
            for order in orders:
                await tx.orders.save(key.user_id, key.target, order, signal_id=key.signal_id, position_id=stored.id)
            record = await tx.executions.set_status(execution_id, status, position_id=stored.id, now=now)
        ctx.notices.placed(plan, orders, leverage, stored.id)
        if ctx.positions is not None:
            try:
                await ctx.positions.track(stored.id)
            except ElcaroError as error:  # stored, so the monitor's own rescan picks it up all the same
                log.warning("the position monitor did not take position %s at once: %r", stored.id, error)
        return PairOutcome.of(record)

    async def _abandon(
        self,
        execution_id: int,
        plan: EntryPlan,
        client: ExchangeClient,
        orders: Sequence[Order],
        code: str,
        reason: str,
    ) -> PairOutcome:
        """Withdraw the plan's orders and close at market whatever of them filled, then record the failure.

        When the venue cannot confirm the withdrawal the execution stays unfinished (``placing``), so the next
        resume looks at the venue again; the user is told either way.
        """
        ctx, key = self._ctx, plan.key
        try:
            final = await _withdraw(client, orders)
            filled = sum((order.filled_qty for order in final), ZERO)
            if filled:
                final.append(await client.place_order(_close(plan, filled)))
                reason += f"; the {filled} already filled was closed at market"
            status = ExecutionStatus.FAILED
        except ExchangeError as error:
            log.warning("withdrawing %s of execution %s failed: %r", key.target, execution_id, error)
            final, status = [], ExecutionStatus.PLACING
            reason += f"; withdrawing its orders failed ({error}), to be retried at the next start"
        async with ctx.transaction() as tx:
            for order in final:
                await tx.orders.save(key.user_id, key.target, order, signal_id=key.signal_id)
            record = await tx.executions.set_status(
                execution_id, status, reason_code=code, reason=reason, now=ctx.clock()
            )
        ctx.notices.failed(key.user_id, key.target, plan.symbol, key.signal_id, code, reason)
        return PairOutcome.of(record)


async def _withdraw(client: ExchangeClient, orders: Sequence[Order]) -> list[Order]:
    """Each order as it ends up: cancelled by client id unless it is done already; one never received is left out."""
    final = []
    for order in orders:
        if order.status.is_terminal:
            final.append(order)
            continue
        try:
            final.append(await client.cancel_order(order.symbol, order.client_order_id))
        except OrderNotFoundError:
            continue
    return final


def _close(plan: EntryPlan, qty: Decimal) -> Order:
    """A reduce-only market close under the plan's first close id: a retry of the same close is recognised."""
    return Order(
        client_order_id=plan.key.client_order_id(LegKind.CLOSE, 0),
        symbol=plan.symbol,
        side=plan.side.exit_side,
        type=OrderType.MARKET,
        qty=qty,
        reduce_only=True,
    )


def _entry_price(plan: EntryPlan, entries: Sequence[Order]) -> Decimal:
    """The average entry expected: fill prices where entries filled, their own prices where they rest."""
    total = sum((order.qty for order in entries), ZERO)
    value = sum((order.qty * (order.avg_fill_price or _planned_price(plan, order)) for order in entries), ZERO)
    return value / total if total else plan.price


def _planned_price(plan: EntryPlan, order: Order) -> Decimal:
    return order.price or order.trigger_price or plan.price
