"""A cancelled signal: its entries and DCA adds still resting are withdrawn; what already filled stays managed.

The withdrawal is the position monitor's to make, always: it holds each position's state between events and runs
the cancel through its state machine (``trading.step(…, WithdrawEntries)``), after applying whatever filled first,
so nothing else ever changes that state under it. The monitor tells each user whose entries it withdrew
(``ENTRY_CANCELLED``) and ends the execution of a position that never filled as ``skipped``.

Copy trading then notes the cancel on the executions still live whose positions rest no entry any more
(``reason_code`` ``signal_cancelled``). That note is what makes a cancel happen once across restarts: a cancel
stored but not carried out before the process stopped — or one an account's venue could not take — leaves live
executions without it, which :meth:`CopyTradingService.resume` finds and finishes; carried out again, a cancel
finds nothing resting and tells no one anything twice.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from elcaro.core.codec import decode
from elcaro.models.errors import NotFoundError, ValidationError
from elcaro.services.copy_trading.context import Context, PositionManager
from elcaro.services.copy_trading.outcome import CopyCode
from elcaro.storage import ExecutionRecord, ExecutionStatus, UnitOfWork
from elcaro.trading import PositionState

log = logging.getLogger(__name__)

CANCEL_NOTE = "the signal was cancelled: entries not filled were withdrawn; what filled stays managed"


class Handover:
    """The cancel handed to the position monitor, and noted on the executions."""

    def __init__(self, ctx: Context, positions: PositionManager) -> None:
        self._ctx = ctx
        self._positions = positions

    async def withdraw(self, signal_id: int, records: Sequence[ExecutionRecord]) -> int:
        """Withdraw the entries of the signal's positions; returns how many positions had any resting."""
        for record in records:
            if record.position_id is not None:
                # Normally tracked already; one the monitor has not picked up yet must not miss the cancel.
                try:
                    await self._positions.track(record.position_id)
                except NotFoundError:
                    continue  # closed already: nothing of it rests
        count = await self._positions.cancel_signal(signal_id)
        now = self._ctx.clock()
        async with self._ctx.transaction() as tx:
            for record in await tx.executions.for_signal(signal_id):
                live = record.status in (ExecutionStatus.PLACED, ExecutionStatus.FILLED)
                if not live or record.reason_code == CopyCode.SIGNAL_CANCELLED:
                    continue
                if await _still_resting(tx, record.position_id):
                    log.warning("signal %s: execution %s keeps its entries until the next start", signal_id, record.id)
                    continue
                await tx.executions.set_status(
                    record.id, record.status, reason_code=CopyCode.SIGNAL_CANCELLED, reason=CANCEL_NOTE, now=now
                )
        return count


async def _still_resting(tx: UnitOfWork, position_id: int | None) -> bool:
    """Whether the position's stored state still has entry orders resting (the withdrawal did not happen)."""
    if position_id is None:
        return False
    position = await tx.positions.get(position_id)
    if position is None or not position.is_open:
        return False
    try:
        state: PositionState = decode(PositionState, await tx.positions.get_state(position_id))
    except ValidationError:
        return False  # a state nobody can read is nobody's to withdraw from
    return any(leg.resting for leg in state.adds)
