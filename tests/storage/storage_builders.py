"""Valid domain objects for the storage tests to store (a module, not fixtures: tests vary them per call)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from elcaro.models import (
    ApprovalState,
    Entry,
    EntryKind,
    Environment,
    Exchange,
    ExitReason,
    Order,
    OrderType,
    Position,
    PositionSide,
    Role,
    Side,
    Signal,
    SignalSource,
    SourceKind,
    Target,
    TelegramProfile,
    Trade,
)
from elcaro.storage import UnitOfWork

BYBIT_DEMO = Target(Exchange.BYBIT, Environment.DEMO)
BINANCE_LIVE = Target(Exchange.BINANCE, Environment.LIVE)
T0 = 1_700_000_000_000


async def add_user(tx: UnitOfWork, telegram_id: int, *, referred_by: int | None = None) -> int:
    user = await tx.users.add(
        TelegramProfile(telegram_id, username=f"user{telegram_id}", first_name="Ann", language_code="en"),
        language="en",
        role=Role.USER,
        approval=ApprovalState.PENDING,
        referral_code=f"REF{telegram_id}",
        referred_by=referred_by,
        now=T0,
    )
    return user.id


def make_signal(**changes: object) -> Signal:
    fields: dict[str, object] = {
        "source": SignalSource(SourceKind.CHANNEL, "-1001234567890"),
        "strategy": "cornix",
        "symbol": "BTC/USDT:USDT",
        "side": PositionSide.LONG,
        "entry": Entry(EntryKind.LIMIT, (Decimal("60000.50"),)),
        "stop_loss": Decimal("58000"),
        "raw_text": "BTCUSDT long 60000.50 sl 58000",
        "received_at": T0,
    }
    fields.update(changes)
    return Signal(**fields)  # type: ignore[arg-type]


def make_order(client_order_id: str = "0xabc", **changes: object) -> Order:
    fields: dict[str, object] = {
        "client_order_id": client_order_id,
        "symbol": "BTC/USDT:USDT",
        "side": Side.BUY,
        "type": OrderType.LIMIT,
        "qty": Decimal("0.010"),
        "price": Decimal("60000.5"),
        "created_at": T0,
        "updated_at": T0,
    }
    fields.update(changes)
    return Order(**fields)  # type: ignore[arg-type]


def make_position(user_id: int, **changes: object) -> Position:
    fields: dict[str, object] = {
        "symbol": "BTC/USDT:USDT",
        "side": PositionSide.LONG,
        "qty": Decimal("0.01"),
        "entry_price": Decimal("60000.5"),
        "leverage": Decimal(5),
        "stop_loss": Decimal(58000),
        "opened_at": T0,
        "updated_at": T0,
        "target": BYBIT_DEMO,
        "user_id": user_id,
        "strategy": "cornix",
    }
    fields.update(changes)
    return Position(**fields)  # type: ignore[arg-type]


def make_trade(user_id: int, closed_at: int = T0 + 60_000, **changes: object) -> Trade:
    fields: dict[str, object] = {
        "target": BYBIT_DEMO,
        "symbol": "BTC/USDT:USDT",
        "side": PositionSide.SHORT,
        "qty": Decimal("0.5"),
        "entry_price": Decimal("60000"),
        "exit_price": Decimal("59000.25"),
        "opened_at": T0,
        "closed_at": closed_at,
        "exit_reason": ExitReason.TAKE_PROFIT,
        "strategy": "elcaro",
        "fees": Decimal("1.234567"),
        "funding": Decimal("-0.5"),
        "user_id": user_id,
    }
    fields.update(changes)
    return Trade(**fields)  # type: ignore[arg-type]


async def run_sql(url: str, statement: str, **values: object) -> list[Any]:
    """One statement in a transaction of its own, on an engine of its own: for migration tests, which work on a
    schema the ORM does not describe."""
    engine = create_async_engine(url)
    try:
        async with engine.begin() as connection:
            result = await connection.execute(text(statement), values)
            return list(result) if result.returns_rows else []
    finally:
        await engine.dispose()


def _schema_of(connection: Connection) -> dict[str, Any]:
    """Everything the inspector reads about every table, in an order that does not depend on how it was built."""
    inspector = inspect(connection)
    schema: dict[str, Any] = {}
    for table in inspector.get_table_names():
        if table.startswith("sqlite_"):
            continue
        schema[table] = {
            "columns": [
                (c["name"], str(c["type"]), c["nullable"], c.get("default")) for c in inspector.get_columns(table)
            ],
            "primary_key": inspector.get_pk_constraint(table),
            "foreign_keys": sorted(map(repr, inspector.get_foreign_keys(table))),
            "unique": sorted(map(repr, inspector.get_unique_constraints(table))),
            "indexes": sorted(map(repr, inspector.get_indexes(table))),
        }
    return schema


async def read_schema(url: str) -> dict[str, Any]:
    """Every table as the inspector reads it (columns, keys, constraints, indexes): compare before and after a
    migration."""
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(_schema_of)
    finally:
        await engine.dispose()
