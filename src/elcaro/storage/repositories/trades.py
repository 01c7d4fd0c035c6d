"""Closed trades: the trade log and what statistics count."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from elcaro.models.decimals import ZERO
from elcaro.models.target import Target
from elcaro.models.trade import Trade
from elcaro.storage.errors import translate_integrity_errors
from elcaro.storage.orm import TradeRow


class TradesRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, trade: Trade, *, position_id: int | None = None) -> Trade:
        """Store a closed trade (``user_id`` set); returns it with its id."""
        if trade.user_id is None:
            raise ValueError("a stored trade needs its user_id")
        row = TradeRow(
            user_id=trade.user_id,
            exchange=trade.target.exchange,
            environment=trade.target.environment,
            symbol=trade.symbol,
            side=trade.side,
            qty=trade.qty,
            entry_price=trade.entry_price,
            exit_price=trade.exit_price,
            fees=trade.fees,
            funding=trade.funding,
            contract_size=trade.contract_size,
            exit_reason=trade.exit_reason,
            strategy=trade.strategy,
            signal_id=trade.signal_id,
            position_id=position_id,
            opened_at=trade.opened_at,
            closed_at=trade.closed_at,
        )
        self._session.add(row)
        with translate_integrity_errors(
            missing=f"user {trade.user_id}, signal {trade.signal_id} or position {position_id} does not exist"
        ):
            await self._session.flush()
        return replace(trade, id=row.id)

    async def add_funding(self, position_id: int, funding: Decimal) -> Trade | None:
        """Add ``funding`` (received positive, paid negative) to the last trade of a position: the part that closed
        it carries what the position paid or received over its life. None when the position has no trade."""
        query = (
            select(TradeRow)
            .where(TradeRow.position_id == position_id)
            .order_by(TradeRow.closed_at.desc(), TradeRow.id.desc())
            .limit(1)
            .with_for_update()
        )
        row = await self._session.scalar(query)
        if row is None:
            return None
        row.funding = row.funding + funding
        await self._session.flush()
        return _trade(row)

    async def list_for_position(self, position_id: int) -> list[Trade]:
        """The parts of one position, in the order they closed."""
        query = select(TradeRow).where(TradeRow.position_id == position_id).order_by(TradeRow.closed_at, TradeRow.id)
        return [_trade(row) for row in await self._session.scalars(query)]

    async def list_for_user(
        self,
        user_id: int,
        *,
        since: int | None = None,
        until: int | None = None,
        strategy: str | None = None,
        limit: int = 500,
    ) -> list[Trade]:
        """Trades closed in ``[since, until)``, newest first."""
        query = (
            select(TradeRow)
            .where(TradeRow.user_id == user_id)
            .order_by(TradeRow.closed_at.desc(), TradeRow.id.desc())
            .limit(limit)
        )
        if since is not None:
            query = query.where(TradeRow.closed_at >= since)
        if until is not None:
            query = query.where(TradeRow.closed_at < until)
        if strategy is not None:
            query = query.where(TradeRow.strategy == strategy)
        return [_trade(row) for row in await self._session.scalars(query)]

    async def last_close(self, user_id: int, target: Target, symbol: str) -> int | None:
        """When the user's last trade on ``symbol`` at ``target`` closed (for the cool-down); None if never."""
        query = select(func.max(TradeRow.closed_at)).where(
            TradeRow.user_id == user_id,
            TradeRow.exchange == target.exchange,
            TradeRow.environment == target.environment,
            TradeRow.symbol == symbol,
        )
        return await self._session.scalar(query)

    async def realized_since(self, user_id: int, since: int, *, target: Target | None = None) -> Decimal:
        """Net PnL (after fees and funding) of the trades closed at or after ``since``; negative is a loss.

        Summed in Python with ``Trade.net_pnl``: exact on SQLite, where amounts are text, and the
        same arithmetic the trade log shows.
        """
        query = select(TradeRow).where(TradeRow.user_id == user_id, TradeRow.closed_at >= since)
        if target is not None:
            query = query.where(TradeRow.exchange == target.exchange, TradeRow.environment == target.environment)
        return sum((_trade(row).net_pnl for row in await self._session.scalars(query)), ZERO)


def _trade(row: TradeRow) -> Trade:
    return Trade(
        target=Target(row.exchange, row.environment),
        symbol=row.symbol,
        side=row.side,
        qty=row.qty,
        entry_price=row.entry_price,
        exit_price=row.exit_price,
        opened_at=row.opened_at,
        closed_at=row.closed_at,
        exit_reason=row.exit_reason,
        strategy=row.strategy,
        fees=row.fees,
        funding=row.funding,
        contract_size=row.contract_size,
        user_id=row.user_id,
        signal_id=row.signal_id,
        id=row.id,
    )
