"""A cancelled signal: its entries and DCA adds still resting are withdrawn; what already filled stays managed.

With the position monitor running, the withdrawal is its to make (``Handover``): it holds each position's state
between events and runs the cancel through its state machine, so no one else may change that state under it.
Copy trading then only notes the cancel on the executions and tells the users.

Without the monitor (an operator's command, a platform run without it), ``Withdrawal`` makes it on storage. The
venue is asked first: a cancel by client id answers with the order as it ended, filled or not, which is
the truth the stored state may not have caught up with yet (the position monitor records fills as it learns of
them). Only a position none of whose orders ever filled is closed; any fill keeps it open and managed.

The state change is made here rather than by ``trading.step(…, WithdrawEntries)``: ``step`` also re-sizes the
take-profit orders, which are the position monitor's to place, and a state saying they were placed when they
were not would leave the position without them.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import replace

from elcaro.core.codec import decode, encode
from elcaro.models import ZERO, ExitReason, Order, OrderStatus
from elcaro.models.errors import ExchangeError, NotFoundError, OrderNotFoundError
from elcaro.services.copy_trading.context import Context, PositionManager
from elcaro.services.copy_trading.outcome import CopyCode, PairOutcome
from elcaro.storage import ExecutionRecord, ExecutionStatus
from elcaro.trading import PositionState

log = logging.getLogger(__name__)


class Handover:
    """The cancel handed to the position monitor; the executions record it and the users hear of it here."""

    def __init__(self, ctx: Context, positions: PositionManager) -> None:
        self._ctx = ctx
        self._positions = positions

    async def withdraw(self, signal_id: int, records: Sequence[ExecutionRecord]) -> int:
        """Returns how many positions the monitor withdraws entries of."""
        ctx = self._ctx
        open_before = await self._open(records)
        count = await self._positions.cancel_signal(signal_id)
        still_open = await self._open(open_before)
        reason = "the signal was cancelled: entries not filled yet are withdrawn, what filled stays managed"
        now = ctx.clock()
        async with ctx.transaction() as tx:
            for record in open_before:
                # A position the withdrawal closed had nothing filled: the entry never happened.
                status = record.status if record in still_open else ExecutionStatus.SKIPPED
                await tx.executions.set_status(
                    record.id, status, reason_code=CopyCode.SIGNAL_CANCELLED, reason=reason, now=now
                )
        for record in open_before:
            symbol = str(record.plan.get("symbol", ""))
            code = CopyCode.SIGNAL_CANCELLED
            ctx.notices.skipped(
                record.user_id, record.target, symbol, signal_id, code, reason, position_id=record.position_id
            )
        return count

    async def _open(self, records: Sequence[ExecutionRecord]) -> list[ExecutionRecord]:
        """Those whose position is open: one over already (stopped out, closed by hand) had nothing to withdraw."""
        async with self._ctx.transaction() as tx:
            positions = [None if r.position_id is None else await tx.positions.get(r.position_id) for r in records]
        return [record for record, position in zip(records, positions, strict=True) if position and position.is_open]


class Withdrawal:
    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx

    async def withdraw(self, record: ExecutionRecord) -> PairOutcome | None:
        """Withdraw the resting entries of ``record``'s position; None when nothing rests any more."""
        ctx, position_id = self._ctx, record.position_id
        if position_id is None:
            return None
        async with ctx.transaction() as tx:
            position = await tx.positions.get(position_id)
            if position is None or not position.is_open:
                return None
            state: PositionState = decode(PositionState, await tx.positions.get_state(position_id))
        resting = [leg.client_order_id for leg in state.adds if leg.resting]
        if not resting:
            return None
        symbol = state.instrument.symbol
        final = await self._cancel_on_venue(record, symbol, resting)
        if not final:
            return None
        filled = any(order.filled_qty for order in final.values())
        cancelled = sum(1 for order in final.values() if order.status is not OrderStatus.FILLED)
        now = ctx.clock()
        reason = f"the signal was cancelled: {cancelled} resting entry orders withdrawn"
        async with ctx.transaction() as tx:
            stored = await tx.positions.get_state(position_id)  # read again: a fill may have been recorded since
            state = withdrawn(decode(PositionState, stored), final, now, filled)
            await tx.positions.set_state(position_id, stored | encode(state))  # keys of the monitor's own stay
            for order in final.values():
                await tx.orders.save(record.user_id, record.target, order)
            if state.is_closed:
                await tx.positions.close(position_id, closed_at=now, realized_pnl=ZERO)
            status = ExecutionStatus.SKIPPED if state.is_closed else ExecutionStatus.FILLED
            record = await tx.executions.set_status(
                record.id, status, reason_code=CopyCode.SIGNAL_CANCELLED, reason=reason, now=now
            )
        ctx.notices.skipped(
            record.user_id,
            record.target,
            symbol,
            record.signal_id,
            CopyCode.SIGNAL_CANCELLED,
            reason,
            data={"withdrawn": str(cancelled), "filled": str(not state.is_closed).lower()},
            position_id=position_id,
        )
        return PairOutcome.of(record)

    async def _cancel_on_venue(
        self, record: ExecutionRecord, symbol: str, client_order_ids: list[str]
    ) -> dict[str, Order]:
        """Each order the venue confirms done after the cancel, by client id (a filled one stays filled)."""
        final: dict[str, Order] = {}
        try:
            client = await self._ctx.access.client(record.user_id, record.target)
            for client_order_id in client_order_ids:
                try:
                    final[client_order_id] = await client.cancel_order(symbol, client_order_id)
                except OrderNotFoundError:
                    continue
        except (ExchangeError, NotFoundError) as error:
            # Unconfirmed orders stay resting in the state: if they fill, the position monitor manages the fill.
            log.warning("withdrawing entries of execution %s on %s failed: %r", record.id, record.target, error)
        return final


def withdrawn(state: PositionState, done: Mapping[str, Order], at: int, filled: bool) -> PositionState:
    """The legs in ``done`` rest no more; a position none of whose legs ever filled is over, closed for the cancel.

    ``filled`` is what the venue reported for the withdrawn legs: the state may not have seen those fills yet.
    """
    adds = tuple(replace(leg, resting=False) if leg.client_order_id in done else leg for leg in state.adds)
    state = replace(state, adds=adds)
    if filled or state.is_open or any(leg.filled or leg.resting for leg in adds):
        return state
    return replace(state, closed_at=at, exit_reason=ExitReason.SIGNAL_CANCEL)
