"""The monitor's reads and writes, each one transaction.

A step's trades, its new state and the actions it decided are written together, before any action
is sent: after a crash the stored state holds the fills already counted (so no trade is written
twice) and the actions still to confirm. The row is closed only once nothing is left to do on the
venue, so a restart still finds a position whose last cancels did not go out.

The execution record that opened a position (``executions.position_id``) follows it in the same
transactions: ``filled`` at its first fill, ``closed`` when it closes — or ``skipped`` when it ends
without anything having filled (its entries withdrawn), since the entry then never happened.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal

from elcaro.models import ExitReason, Position, Target, Trade, UserSettings
from elcaro.models.errors import ValidationError
from elcaro.services.positions.notices import SIGNAL_CANCELLED, figure
from elcaro.services.positions.record import Stored
from elcaro.storage import Database, ExecutionStatus, UnitOfWork

log = logging.getLogger(__name__)


@dataclass
class Tracked:
    """One tracked position as the monitor holds it between events."""

    row: Position
    stored: Stored

    @property
    def id(self) -> int:
        return _id(self.row)


class PositionStore:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def open_rows(self) -> list[Position]:
        async with self._db.transaction() as tx:
            return await tx.positions.list_open()

    async def get(self, position_id: int) -> Tracked | None:
        """The open position with its managed state; None when closed or not managed (no state)."""
        async with self._db.transaction() as tx:
            row = await tx.positions.get(position_id)
            if row is None or row.closed_at is not None:
                return None
            state = await tx.positions.get_state(position_id)
        if not state:
            return None
        try:
            return Tracked(row, Stored.from_json(state))
        except ValidationError as error:  # one unreadable row must not stop the others being managed
            log.error("position %s has a state the monitor cannot read, left unmanaged: %s", position_id, error)
            return None

    async def add(self, row: Position, stored_for: Callable[[int], Stored]) -> Tracked:
        """Store a new tracked position whose state depends on its id (an adopted one's order names do)."""
        async with self._db.transaction() as tx:
            added = await tx.positions.add(row)
            stored = stored_for(_id(added))
            await tx.positions.set_state(_id(added), stored.to_json())
        return Tracked(added, stored)

    async def tracked_symbols(self, user_id: int, target: Target) -> set[str]:
        async with self._db.transaction() as tx:
            return await tx.positions.open_symbols(user_id, target)

    async def settings(self, user_id: int) -> list[UserSettings]:
        async with self._db.transaction() as tx:
            return await tx.settings.list_for_user(user_id)

    async def save(
        self,
        tracked: Tracked,
        trades: Sequence[Trade] = (),
        *,
        liquidation_price: Decimal | None = None,
        at: int,
        first_fill: bool = False,
    ) -> None:
        """Store the state, the trades of the parts it closed, and the row's figures while it holds a position.

        ``first_fill``: this step's fill is the position's first, so its execution moves from placed to filled.
        """
        state, ledger = tracked.stored.state, tracked.stored.ledger
        async with self._db.transaction() as tx:
            await tx.positions.set_state(tracked.id, tracked.stored.to_json())
            for trade in trades:
                await tx.trades.add(trade, position_id=tracked.id)
            if first_fill:
                for record in await tx.executions.for_position(tracked.id):
                    if record.status is ExecutionStatus.PLACED:  # the reason (a cancel noted on it) stays
                        code, reason = record.reason_code, record.reason
                        await tx.executions.set_status(
                            record.id, ExecutionStatus.FILLED, reason_code=code, reason=reason, now=at
                        )
            if state.qty > 0:
                row = replace(
                    tracked.row,
                    qty=state.qty,
                    entry_price=state.entry_price,
                    stop_loss=state.stop,
                    take_profit=next((t.price for t in state.targets if not t.hit), None),
                    liquidation_price=liquidation_price or tracked.row.liquidation_price,
                    realized_pnl=ledger.realized_pnl,
                    updated_at=at,
                )
                tracked.row = await tx.positions.update(row)

    async def close(self, tracked: Tracked, *, at: int, funding: Decimal | None) -> None:
        """Close the row, booking ``funding`` (None: the venue does not report it) on the last part's trade."""
        stored = tracked.stored
        if funding is not None:
            ledger = replace(
                stored.ledger, funding=funding, funding_reported=True, realized_pnl=stored.ledger.realized_pnl + funding
            )
            stored = replace(stored, ledger=ledger)
        state, ledger = stored.state, stored.ledger
        async with self._db.transaction() as tx:
            if funding:
                await tx.trades.add_funding(tracked.id, funding)
            await tx.positions.set_state(tracked.id, stored.to_json())
            await tx.positions.close(tracked.id, closed_at=state.closed_at or at, realized_pnl=ledger.realized_pnl)
            await _end_executions(tx, tracked.id, stored, at)
        tracked.stored = stored


async def _end_executions(tx: UnitOfWork, position_id: int, stored: Stored, at: int) -> None:
    state, ledger = stored.state, stored.ledger
    reason = state.exit_reason or ExitReason.EXTERNAL
    if state.peak_qty > 0:
        status, text = ExecutionStatus.CLOSED, f"the position closed ({reason}), net PnL {figure(ledger.realized_pnl)}"
        code = ledger.closing_code or reason.value
    else:
        status, text = ExecutionStatus.SKIPPED, f"the entry never filled: its orders were withdrawn ({reason})"
        code = ledger.closing_code or (SIGNAL_CANCELLED if reason is ExitReason.SIGNAL_CANCEL else reason.value)
    for record in await tx.executions.for_position(position_id):
        if record.status in (ExecutionStatus.PLACED, ExecutionStatus.FILLED):
            await tx.executions.set_status(record.id, status, reason_code=code, reason=text, now=at)


def _id(row: Position) -> int:
    if row.id is None:
        raise ValueError("a tracked position is a stored one, with an id")
    return row.id
