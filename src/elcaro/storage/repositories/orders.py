"""Orders as placed and as last reported, keyed by the deterministic client order id."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from elcaro.models.enums import OrderStatus
from elcaro.models.orders import Order
from elcaro.models.target import Target
from elcaro.storage.errors import translate_integrity_errors
from elcaro.storage.orm import OrderRow
from elcaro.storage.upsert import upsert

_TERMINAL = [status for status in OrderStatus if status.is_terminal]


class OrdersRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def save(
        self,
        user_id: int,
        target: Target,
        order: Order,
        *,
        signal_id: int | None = None,
        position_id: int | None = None,
    ) -> int:
        """Insert the order, or bring the stored one with the same client order id up to date; returns its id.

        Saving the same order twice is harmless, which is what makes a retried placement safe. A
        signal or position link, once stored, stays when a later save does not name one.
        """
        values = {
            "user_id": user_id,
            "exchange": target.exchange,
            "environment": target.environment,
            "client_order_id": order.client_order_id,
            "exchange_order_id": order.exchange_order_id,
            "symbol": order.symbol,
            "side": order.side,
            "type": order.type,
            "qty": order.qty,
            "price": order.price,
            "trigger_price": order.trigger_price,
            "time_in_force": order.time_in_force,
            "reduce_only": order.reduce_only,
            "take_profit": order.take_profit,
            "stop_loss": order.stop_loss,
            "status": order.status,
            "filled_qty": order.filled_qty,
            "avg_fill_price": order.avg_fill_price,
            "fee": order.fee,
            "reject_reason": order.reject_reason,
            "signal_id": signal_id,
            "position_id": position_id,
            "created_at": order.created_at,
            "updated_at": order.updated_at,
        }
        statement = upsert(
            self._session,
            OrderRow,
            values,
            key=("user_id", "exchange", "environment", "client_order_id"),
            keep_if_null=("signal_id", "position_id"),
        ).returning(OrderRow)
        with translate_integrity_errors(
            missing=f"user {user_id}, signal {signal_id} or position {position_id} does not exist"
        ):
            return (await self._session.scalars(statement)).one().id

    async def get(self, user_id: int, target: Target, client_order_id: str) -> Order | None:
        row = await self._session.scalar(
            select(OrderRow).where(
                OrderRow.user_id == user_id,
                OrderRow.exchange == target.exchange,
                OrderRow.environment == target.environment,
                OrderRow.client_order_id == client_order_id,
            )
        )
        return None if row is None else _order(row)

    async def list_open(self, user_id: int, target: Target | None = None) -> list[Order]:
        """Orders not yet filled, cancelled, rejected or expired, oldest first."""
        query = (
            select(OrderRow)
            .where(OrderRow.user_id == user_id, OrderRow.status.not_in(_TERMINAL))
            .order_by(OrderRow.created_at, OrderRow.id)
        )
        if target is not None:
            query = query.where(OrderRow.exchange == target.exchange, OrderRow.environment == target.environment)
        return [_order(row) for row in await self._session.scalars(query)]

    async def open_symbols(self, user_id: int, target: Target) -> set[str]:
        """Symbols with an order of any kind (entry, stop, target) not yet done on ``target``."""
        query = select(OrderRow.symbol).where(
            OrderRow.user_id == user_id,
            OrderRow.status.not_in(_TERMINAL),
            OrderRow.exchange == target.exchange,
            OrderRow.environment == target.environment,
        )
        return set(await self._session.scalars(query))


def _order(row: OrderRow) -> Order:
    return Order(
        client_order_id=row.client_order_id,
        symbol=row.symbol,
        side=row.side,
        type=row.type,
        qty=row.qty,
        price=row.price,
        trigger_price=row.trigger_price,
        time_in_force=row.time_in_force,
        reduce_only=row.reduce_only,
        take_profit=row.take_profit,
        stop_loss=row.stop_loss,
        status=row.status,
        exchange_order_id=row.exchange_order_id,
        filled_qty=row.filled_qty,
        avg_fill_price=row.avg_fill_price,
        fee=row.fee,
        created_at=row.created_at,
        updated_at=row.updated_at,
        reject_reason=row.reject_reason,
    )
