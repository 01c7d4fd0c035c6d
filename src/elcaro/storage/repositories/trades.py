"""Closed trades: the trade log and what statistics count.

Lists are read as plain rows of the columns a ``Trade`` needs, not as ORM objects: statistics read a user's
whole history on every request, and building (and tracking) ORM instances was most of that cost.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from functools import lru_cache
from typing import Any

from sqlalchemy import ColumnElement, Integer, Row, Select, and_, bindparam, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from elcaro.models.decimals import ZERO
from elcaro.models.target import Target
from elcaro.models.trade import Trade
from elcaro.models.trade_query import ANY_TRADE, MANUAL_STRATEGY, TradeChoices, TradeCursor, TradeFilter, TradeResult
from elcaro.storage.errors import translate_integrity_errors
from elcaro.storage.orm import TradeRow

_COLUMNS = (
    TradeRow.id,
    TradeRow.user_id,
    TradeRow.exchange,
    TradeRow.environment,
    TradeRow.symbol,
    TradeRow.side,
    TradeRow.qty,
    TradeRow.entry_price,
    TradeRow.exit_price,
    TradeRow.fees,
    TradeRow.funding,
    TradeRow.contract_size,
    TradeRow.exit_reason,
    TradeRow.strategy,
    TradeRow.signal_id,
    TradeRow.opened_at,
    TradeRow.closed_at,
)


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
            result=_result(trade.net_pnl),
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
        trade = _trade(row)
        row.result = _result(trade.net_pnl)
        await self._session.flush()
        return trade

    async def list_for_position(self, position_id: int) -> list[Trade]:
        """The parts of one position, in the order they closed."""
        query = select(TradeRow).where(TradeRow.position_id == position_id).order_by(TradeRow.closed_at, TradeRow.id)
        return [_trade(row) for row in await self._session.scalars(query)]

    async def list_for_user(
        self,
        user_id: int,
        where: TradeFilter = ANY_TRADE,
        *,
        after: TradeCursor | None = None,
        offset: int = 0,
        limit: int = 500,
    ) -> list[Trade]:
        """The user's trades matching ``where``, newest first (ties by id): ``limit`` of them from ``offset``,
        or those older than ``after`` (keyset paging, see ``TradeCursor``)."""
        shape, values = _bound(user_id, where)
        if after is not None:
            shape |= {"after"}
            values |= {"after_at": after.closed_at, "after_id": after.id}
        values |= {"offset": offset, "limit": limit}
        return await self._read(_statement(frozenset(shape), paged=True), values)

    async def choices(self, user_id: int) -> TradeChoices:
        """The symbols, strategies, targets and exit reasons of the user's trades."""
        mine = TradeRow.user_id == user_id
        symbols = await self._session.scalars(select(TradeRow.symbol).where(mine).distinct())
        strategies = await self._session.scalars(select(TradeRow.strategy).where(mine).distinct())
        targets = await self._session.execute(select(TradeRow.exchange, TradeRow.environment).where(mine).distinct())
        reasons = await self._session.scalars(select(TradeRow.exit_reason).where(mine).distinct())
        return TradeChoices(
            symbols=tuple(sorted(symbols)),
            strategies=tuple(sorted({strategy or MANUAL_STRATEGY for strategy in strategies})),
            targets=tuple(sorted((Target(exchange, environment) for exchange, environment in targets), key=str)),
            exit_reasons=tuple(sorted(reasons)),
        )

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
        shape, values = _bound(user_id, TradeFilter(target=target, closed_since=since))
        trades = await self._read(_statement(frozenset(shape), paged=False), values)
        return sum((trade.net_pnl for trade in trades), ZERO)

    async def _read(self, statement: Select[*tuple[Any, ...]], values: dict[str, Any]) -> list[Trade]:
        # Through the session's connection: a select of columns needs none of the ORM's loading machinery.
        connection = await self._session.connection()
        return [_from_columns(row) for row in await connection.execute(statement, values)]


def _bound(user_id: int, where: TradeFilter) -> tuple[set[str], dict[str, Any]]:
    """Which conditions of ``_statement`` apply, and the values of their parameters."""
    shape: set[str] = set()
    values: dict[str, Any] = {"user_id": user_id}
    filters: dict[str, Any] = {
        "strategy": where.strategy,
        "symbol": where.symbol,
        "side": where.side,
        "exit_reason": where.exit_reason,
        "result": None if where.result is None else (1 if where.result is TradeResult.WIN else -1),
        "closed_since": where.closed_since,
        "closed_until": where.closed_until,
    }
    if where.strategy == MANUAL_STRATEGY:
        shape.add("manual")
        del filters["strategy"]
    if where.target is not None:
        shape.add("target")
        values |= {"exchange": where.target.exchange, "environment": where.target.environment}
    for name, value in filters.items():
        if value is not None:
            shape.add(name)
            values[name] = value
    return shape, values


@lru_cache(maxsize=512)
def _statement(shape: frozenset[str], *, paged: bool) -> Select[*tuple[Any, ...]]:
    """The user's trades under the conditions named in ``shape``, their values bound by name (see ``_bound``).

    Built once per shape: building a select of these columns cost more than running it (about 1 ms against
    a fraction of that), and statistics read a whole history on every request.
    """
    conditions: dict[str, ColumnElement[bool]] = {
        "manual": or_(TradeRow.strategy == MANUAL_STRATEGY, TradeRow.strategy.is_(None)),
        "strategy": TradeRow.strategy == bindparam("strategy"),
        "target": and_(TradeRow.exchange == bindparam("exchange"), TradeRow.environment == bindparam("environment")),
        "symbol": TradeRow.symbol == bindparam("symbol"),
        "side": TradeRow.side == bindparam("side"),
        "exit_reason": TradeRow.exit_reason == bindparam("exit_reason"),
        "result": TradeRow.result == bindparam("result"),
        "closed_since": TradeRow.closed_at >= bindparam("closed_since"),
        "closed_until": TradeRow.closed_at < bindparam("closed_until"),
        "after": or_(
            TradeRow.closed_at < bindparam("after_at"),
            and_(TradeRow.closed_at == bindparam("after_at"), TradeRow.id < bindparam("after_id")),
        ),
    }
    query = select(*_COLUMNS).where(TradeRow.user_id == bindparam("user_id"), *(conditions[name] for name in shape))
    if not paged:
        return query
    newest_first = query.order_by(TradeRow.closed_at.desc(), TradeRow.id.desc())
    return newest_first.offset(bindparam("offset", type_=Integer)).limit(bindparam("limit", type_=Integer))


def _result(net_pnl: Decimal) -> int:
    return (net_pnl > 0) - (net_pnl < 0)


def _from_columns(row: Row[*tuple[Any, ...]]) -> Trade:
    (
        trade_id,
        user_id,
        exchange,
        environment,
        symbol,
        side,
        qty,
        entry_price,
        exit_price,
        fees,
        funding,
        contract_size,
        exit_reason,
        strategy,
        signal_id,
        opened_at,
        closed_at,
    ) = row
    return Trade(
        target=Target(exchange, environment),
        symbol=symbol,
        side=side,
        qty=qty,
        entry_price=entry_price,
        exit_price=exit_price,
        opened_at=opened_at,
        closed_at=closed_at,
        exit_reason=exit_reason,
        strategy=strategy,
        fees=fees,
        funding=funding,
        contract_size=contract_size,
        user_id=user_id,
        signal_id=signal_id,
        id=trade_id,
    )


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
