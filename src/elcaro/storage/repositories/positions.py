"""Positions the platform opened and manages, with the JSON state its management rules keep."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from elcaro.models.errors import ConflictError, NotFoundError
from elcaro.models.position import Position
from elcaro.models.target import Target
from elcaro.storage.errors import translate_integrity_errors
from elcaro.storage.orm import PositionRow, PositionStatus


class PositionsRepository:
    """Mark price and unrealised PnL are live venue figures and are not stored: read back, they are unset."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, position: Position) -> Position:
        """Store a newly opened position (``user_id`` and ``target`` set); returns it with its id."""
        if position.user_id is None or position.target is None:
            raise ValueError("a stored position needs its user_id and target")
        row = PositionRow(
            user_id=position.user_id,
            exchange=position.target.exchange,
            environment=position.target.environment,
            symbol=position.symbol,
            side=position.side,
            status=PositionStatus.OPEN,
            state={},
            opened_at=position.opened_at,
            closed_at=None,
            **_changing(position),
        )
        self._session.add(row)
        with translate_integrity_errors(
            missing=f"user {position.user_id} or signal {position.signal_id} does not exist"
        ):
            await self._session.flush()
        return replace(position, id=row.id)

    async def update(self, position: Position) -> Position:
        """Store what changes over a position's life (size, prices, protection, PnL); owner and market stay."""
        if position.id is None:
            raise ValueError("only a stored position (with an id) can be updated")
        with translate_integrity_errors(missing=f"signal {position.signal_id} does not exist"):
            await self._update(position.id, **_changing(position))
        return position

    async def close(self, position_id: int, *, closed_at: int, realized_pnl: Decimal) -> None:
        """Mark the position closed. ConflictError if it already is: a close must be counted once."""
        statement = (
            update(PositionRow)
            .where(PositionRow.id == position_id, PositionRow.status == PositionStatus.OPEN)
            .values(status=PositionStatus.CLOSED, closed_at=closed_at, updated_at=closed_at, realized_pnl=realized_pnl)
            .returning(PositionRow.id)
        )
        if (await self._session.execute(statement)).scalar_one_or_none() is None:
            if await self.get(position_id) is None:
                raise NotFoundError(f"no position with id {position_id}")
            raise ConflictError(f"position {position_id} is already closed")

    async def get(self, position_id: int) -> Position | None:
        """Open or closed."""
        row = await self._session.scalar(select(PositionRow).where(PositionRow.id == position_id))
        return None if row is None else _position(row)

    async def list_open(self, user_id: int | None = None, target: Target | None = None) -> list[Position]:
        """Open positions, oldest first; all users' when ``user_id`` is None."""
        query = (
            select(PositionRow)
            .where(PositionRow.status == PositionStatus.OPEN)
            .order_by(PositionRow.opened_at, PositionRow.id)
        )
        if user_id is not None:
            query = query.where(PositionRow.user_id == user_id)
        if target is not None:
            query = query.where(PositionRow.exchange == target.exchange, PositionRow.environment == target.environment)
        return [_position(row) for row in await self._session.scalars(query)]

    async def count_open(self, user_id: int, target: Target | None = None) -> int:
        """Open positions of the user, on one target or on all."""
        query = select(func.count()).where(PositionRow.user_id == user_id, PositionRow.status == PositionStatus.OPEN)
        if target is not None:
            query = query.where(PositionRow.exchange == target.exchange, PositionRow.environment == target.environment)
        return await self._session.scalar(query) or 0

    async def open_symbols(self, user_id: int, target: Target) -> set[str]:
        """Symbols the user holds an open position in on ``target``."""
        query = select(PositionRow.symbol).where(
            PositionRow.user_id == user_id,
            PositionRow.status == PositionStatus.OPEN,
            PositionRow.exchange == target.exchange,
            PositionRow.environment == target.environment,
        )
        return set(await self._session.scalars(query))

    async def get_state(self, position_id: int) -> dict[str, Any]:
        state = await self._session.scalar(select(PositionRow.state).where(PositionRow.id == position_id))
        if state is None:
            raise NotFoundError(f"no position with id {position_id}")
        return dict(state)  # a copy: the session keeps the row's dict

    async def set_state(self, position_id: int, state: dict[str, Any]) -> None:
        """Replace the management state (JSON-native values only: store Decimals as strings)."""
        await self._update(position_id, state=state)

    async def _update(self, position_id: int, **values: Any) -> None:
        statement = update(PositionRow).where(PositionRow.id == position_id).values(**values).returning(PositionRow.id)
        if (await self._session.execute(statement)).scalar_one_or_none() is None:
            raise NotFoundError(f"no position with id {position_id}")


def _changing(position: Position) -> dict[str, Any]:
    return {
        "qty": position.qty,
        "entry_price": position.entry_price,
        "leverage": position.leverage,
        "margin_mode": position.margin_mode,
        "contract_size": position.contract_size,
        "take_profit": position.take_profit,
        "stop_loss": position.stop_loss,
        "liquidation_price": position.liquidation_price,
        "realized_pnl": position.realized_pnl,
        "strategy": position.strategy,
        "signal_id": position.signal_id,
        "updated_at": position.updated_at,
    }


def _position(row: PositionRow) -> Position:
    return Position(
        symbol=row.symbol,
        side=row.side,
        qty=row.qty,
        entry_price=row.entry_price,
        leverage=row.leverage,
        margin_mode=row.margin_mode,
        liquidation_price=row.liquidation_price,
        realized_pnl=row.realized_pnl,
        take_profit=row.take_profit,
        stop_loss=row.stop_loss,
        contract_size=row.contract_size,
        opened_at=row.opened_at,
        updated_at=row.updated_at,
        closed_at=row.closed_at,
        target=Target(row.exchange, row.environment),
        user_id=row.user_id,
        strategy=row.strategy,
        signal_id=row.signal_id,
        id=row.id,
    )
