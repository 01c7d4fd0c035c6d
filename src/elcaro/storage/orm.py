"""The tables. Rows stay inside ``elcaro.storage``: repositories turn them into domain models."""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, LargeBinary, MetaData, String, Text, false
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.schema import UniqueConstraint

from elcaro.models.enums import (
    ApprovalState,
    Environment,
    Exchange,
    ExitReason,
    MarginMode,
    OrderStatus,
    OrderType,
    PositionSide,
    Role,
    Side,
    TimeInForce,
)
from elcaro.models.signal import SourceKind
from elcaro.models.user import SettingsScope
from elcaro.storage.types import ExactDecimal, JSONType, StrEnumType

# Fixed names let the migrations address constraints, and let SQLite's unique-violation message
# (which names columns, not constraints) be mapped back to the constraint it broke.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
}

#: 64-bit ids; on SQLite plain INTEGER, the only type that makes a column the auto-incrementing rowid.
Id = BigInteger().with_variant(Integer(), "sqlite")
#: SQLite otherwise hands a deleted row's id to the next insert; PostgreSQL's sequences never do.
NO_ID_REUSE = {"sqlite_autoincrement": True}


class SignalStatus(StrEnum):
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    """The post could not be parsed into a valid signal; the raw text and the reason are kept."""
    CANCELLED = "cancelled"
    DUPLICATE = "duplicate"


class PositionStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class ExecutionStatus(StrEnum):
    """Where one (signal, user, target) of a fan-out stands."""

    PLANNED = "planned"
    """Claimed with its order plan; nothing sent to the venue yet."""
    PLACING = "placing"
    """Orders are being sent: after a crash, look each up by its client order id before sending it again."""
    PLACED = "placed"
    """The venue acknowledged the entry; it has not filled yet."""
    FILLED = "filled"
    """The entry filled and a position is open."""
    SKIPPED = "skipped"
    """A gate refused the user; ``reason_code`` says which."""
    FAILED = "failed"
    """The venue refused or an error stopped it; ``reason`` says what."""
    CLOSED = "closed"
    """The position it opened has closed."""

    @property
    def is_unfinished(self) -> bool:
        """Interrupted work that a restart must resume."""
        return self in (ExecutionStatus.PLANNED, ExecutionStatus.PLACING)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UserRow(Base):
    __tablename__ = "users"
    __table_args__ = (NO_ID_REUSE,)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    telegram_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    username: Mapped[str | None] = mapped_column(String(64))
    first_name: Mapped[str | None] = mapped_column(Text)
    last_name: Mapped[str | None] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(16))
    role: Mapped[Role] = mapped_column(StrEnumType(Role, 16))
    approval: Mapped[ApprovalState] = mapped_column(StrEnumType(ApprovalState, 16), index=True)
    banned: Mapped[bool] = mapped_column(Boolean)
    terms_accepted_at: Mapped[int | None] = mapped_column(BigInteger)
    referral_code: Mapped[str] = mapped_column(String(32), unique=True)
    referred_by: Mapped[int | None] = mapped_column(Id, ForeignKey("users.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[int] = mapped_column(BigInteger)
    last_seen_at: Mapped[int | None] = mapped_column(BigInteger)
    # The user's own pause: no new entries, open positions still managed. Not part of the ``User`` model yet.
    trading_paused: Mapped[bool] = mapped_column(Boolean, server_default=false())


class CredentialRow(Base):
    """Exchange keys, encrypted before they get here: storage never holds a plaintext secret."""

    __tablename__ = "exchange_credentials"
    __table_args__ = (
        UniqueConstraint("user_id", "exchange", "environment", "label", name="uq_exchange_credentials_label"),
        NO_ID_REUSE,
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    user_id: Mapped[int] = mapped_column(Id, ForeignKey("users.id", ondelete="CASCADE"))
    exchange: Mapped[Exchange] = mapped_column(StrEnumType(Exchange, 32))
    environment: Mapped[Environment] = mapped_column(StrEnumType(Environment, 16))
    label: Mapped[str] = mapped_column(String(64))
    api_key_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    api_secret_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    private_key_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    wallet_address: Mapped[str | None] = mapped_column(String(128))
    key_hint: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[int] = mapped_column(BigInteger)
    last_verified_at: Mapped[int | None] = mapped_column(BigInteger)


class SettingsRow(Base):
    """One block of settings per user and level.

    ``scope_key`` folds scope, exchange, strategy and side into one non-null string: a unique
    constraint over the nullable columns would let duplicates through, since NULL never equals NULL.
    """

    __tablename__ = "user_settings"
    __table_args__ = (UniqueConstraint("user_id", "scope_key"), NO_ID_REUSE)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    user_id: Mapped[int] = mapped_column(Id, ForeignKey("users.id", ondelete="CASCADE"))
    scope: Mapped[SettingsScope] = mapped_column(StrEnumType(SettingsScope, 16))
    exchange: Mapped[Exchange | None] = mapped_column(StrEnumType(Exchange, 32))
    strategy: Mapped[str | None] = mapped_column(String(64))
    side: Mapped[PositionSide | None] = mapped_column(StrEnumType(PositionSide, 8))
    scope_key: Mapped[str] = mapped_column(String(160))
    values: Mapped[dict[str, Any]] = mapped_column(JSONType)
    updated_at: Mapped[int] = mapped_column(BigInteger)


class AuditRow(Base):
    """Append-only history. No foreign key on the actor: the trail outlives whoever it names."""

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_subject_at", "subject", "at"),
        Index("ix_audit_log_actor_user_id_at", "actor_user_id", "at"),
        NO_ID_REUSE,
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    actor_user_id: Mapped[int | None] = mapped_column(BigInteger)
    action: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(200))
    details: Mapped[dict[str, Any]] = mapped_column(JSONType)
    at: Mapped[int] = mapped_column(BigInteger, index=True)


class SignalRow(Base):
    """Every post a source delivered. A rejected one has no valid signal: only its text and the reason."""

    __tablename__ = "signals"
    __table_args__ = (Index("ix_signals_content_hash_received_at", "content_hash", "received_at"), NO_ID_REUSE)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    source_kind: Mapped[SourceKind] = mapped_column(StrEnumType(SourceKind, 16))
    source_ref: Mapped[str] = mapped_column(String(128))
    strategy: Mapped[str | None] = mapped_column(String(64))
    symbol: Mapped[str | None] = mapped_column(String(64))
    side: Mapped[PositionSide | None] = mapped_column(StrEnumType(PositionSide, 8))
    entry: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    take_profits: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONType)
    stop_loss: Mapped[Decimal | None] = mapped_column(ExactDecimal)
    leverage: Mapped[Decimal | None] = mapped_column(ExactDecimal)
    timeframe: Mapped[str | None] = mapped_column(String(16))
    extras: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    raw_text: Mapped[str] = mapped_column(Text)
    content_hash: Mapped[str | None] = mapped_column(String(64))
    received_at: Mapped[int] = mapped_column(BigInteger, index=True)
    status: Mapped[SignalStatus] = mapped_column(StrEnumType(SignalStatus, 16))
    reject_reason: Mapped[str | None] = mapped_column(Text)


class PositionRow(Base):
    __tablename__ = "positions"
    __table_args__ = (Index("ix_positions_status_user_id", "status", "user_id"), NO_ID_REUSE)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    user_id: Mapped[int] = mapped_column(Id, ForeignKey("users.id"))
    exchange: Mapped[Exchange] = mapped_column(StrEnumType(Exchange, 32))
    environment: Mapped[Environment] = mapped_column(StrEnumType(Environment, 16))
    symbol: Mapped[str] = mapped_column(String(64))
    side: Mapped[PositionSide] = mapped_column(StrEnumType(PositionSide, 8))
    qty: Mapped[Decimal] = mapped_column(ExactDecimal)
    entry_price: Mapped[Decimal] = mapped_column(ExactDecimal)
    leverage: Mapped[Decimal] = mapped_column(ExactDecimal)
    margin_mode: Mapped[MarginMode] = mapped_column(StrEnumType(MarginMode, 16))
    contract_size: Mapped[Decimal] = mapped_column(ExactDecimal)
    take_profit: Mapped[Decimal | None] = mapped_column(ExactDecimal)
    stop_loss: Mapped[Decimal | None] = mapped_column(ExactDecimal)
    liquidation_price: Mapped[Decimal | None] = mapped_column(ExactDecimal)
    realized_pnl: Mapped[Decimal] = mapped_column(ExactDecimal)
    strategy: Mapped[str | None] = mapped_column(String(64))
    signal_id: Mapped[int | None] = mapped_column(Id, ForeignKey("signals.id", ondelete="SET NULL"), index=True)
    status: Mapped[PositionStatus] = mapped_column(StrEnumType(PositionStatus, 16))
    state: Mapped[dict[str, Any]] = mapped_column(JSONType)
    opened_at: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[int] = mapped_column(BigInteger)
    closed_at: Mapped[int | None] = mapped_column(BigInteger)


class OrderRow(Base):
    __tablename__ = "orders"
    __table_args__ = (
        UniqueConstraint("user_id", "exchange", "environment", "client_order_id", name="uq_orders_client_order_id"),
        Index("ix_orders_user_id_status", "user_id", "status"),
        NO_ID_REUSE,
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    user_id: Mapped[int] = mapped_column(Id, ForeignKey("users.id"))
    exchange: Mapped[Exchange] = mapped_column(StrEnumType(Exchange, 32))
    environment: Mapped[Environment] = mapped_column(StrEnumType(Environment, 16))
    client_order_id: Mapped[str] = mapped_column(String(64))
    exchange_order_id: Mapped[str | None] = mapped_column(String(128))
    symbol: Mapped[str] = mapped_column(String(64))
    side: Mapped[Side] = mapped_column(StrEnumType(Side, 8))
    type: Mapped[OrderType] = mapped_column(StrEnumType(OrderType, 16))
    qty: Mapped[Decimal] = mapped_column(ExactDecimal)
    price: Mapped[Decimal | None] = mapped_column(ExactDecimal)
    trigger_price: Mapped[Decimal | None] = mapped_column(ExactDecimal)
    time_in_force: Mapped[TimeInForce] = mapped_column(StrEnumType(TimeInForce, 16))
    reduce_only: Mapped[bool] = mapped_column(Boolean)
    take_profit: Mapped[Decimal | None] = mapped_column(ExactDecimal)
    stop_loss: Mapped[Decimal | None] = mapped_column(ExactDecimal)
    status: Mapped[OrderStatus] = mapped_column(StrEnumType(OrderStatus, 24))
    filled_qty: Mapped[Decimal] = mapped_column(ExactDecimal)
    avg_fill_price: Mapped[Decimal | None] = mapped_column(ExactDecimal)
    fee: Mapped[Decimal] = mapped_column(ExactDecimal)
    reject_reason: Mapped[str | None] = mapped_column(Text)
    signal_id: Mapped[int | None] = mapped_column(Id, ForeignKey("signals.id", ondelete="SET NULL"), index=True)
    position_id: Mapped[int | None] = mapped_column(Id, ForeignKey("positions.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[int] = mapped_column(BigInteger)


class TradeRow(Base):
    __tablename__ = "trades"
    __table_args__ = (
        Index("ix_trades_user_id_closed_at", "user_id", "closed_at"),
        Index("ix_trades_strategy_closed_at", "strategy", "closed_at"),
        NO_ID_REUSE,
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    user_id: Mapped[int] = mapped_column(Id, ForeignKey("users.id"))
    exchange: Mapped[Exchange] = mapped_column(StrEnumType(Exchange, 32))
    environment: Mapped[Environment] = mapped_column(StrEnumType(Environment, 16))
    symbol: Mapped[str] = mapped_column(String(64))
    side: Mapped[PositionSide] = mapped_column(StrEnumType(PositionSide, 8))
    qty: Mapped[Decimal] = mapped_column(ExactDecimal)
    entry_price: Mapped[Decimal] = mapped_column(ExactDecimal)
    exit_price: Mapped[Decimal] = mapped_column(ExactDecimal)
    fees: Mapped[Decimal] = mapped_column(ExactDecimal)
    funding: Mapped[Decimal] = mapped_column(ExactDecimal)
    contract_size: Mapped[Decimal] = mapped_column(ExactDecimal)
    exit_reason: Mapped[ExitReason] = mapped_column(StrEnumType(ExitReason, 32))
    strategy: Mapped[str | None] = mapped_column(String(64))
    signal_id: Mapped[int | None] = mapped_column(Id, ForeignKey("signals.id", ondelete="SET NULL"), index=True)
    position_id: Mapped[int | None] = mapped_column(Id, ForeignKey("positions.id", ondelete="SET NULL"), index=True)
    opened_at: Mapped[int] = mapped_column(BigInteger)
    closed_at: Mapped[int] = mapped_column(BigInteger)


class CandleRow(Base):
    """Recorded candles, one row per (venue, symbol, timeframe, open time)."""

    __tablename__ = "candles"

    exchange: Mapped[str] = mapped_column(String(32), primary_key=True)
    symbol: Mapped[str] = mapped_column(String(64), primary_key=True)
    timeframe: Mapped[str] = mapped_column(String(8), primary_key=True)
    ts: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    open: Mapped[Decimal] = mapped_column(ExactDecimal())
    high: Mapped[Decimal] = mapped_column(ExactDecimal())
    low: Mapped[Decimal] = mapped_column(ExactDecimal())
    close: Mapped[Decimal] = mapped_column(ExactDecimal())
    volume: Mapped[Decimal] = mapped_column(ExactDecimal())


class PaperVenueRow(Base):
    """The whole state of one paper exchange, so paper accounts survive a restart."""

    __tablename__ = "paper_venues"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSONType)
    updated_at: Mapped[int] = mapped_column(BigInteger)


class UserTargetRow(Base):
    """The targets a user trades on; a signal is sized and placed separately on each enabled one."""

    __tablename__ = "user_targets"

    user_id: Mapped[int] = mapped_column(Id, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    exchange: Mapped[Exchange] = mapped_column(StrEnumType(Exchange, 32), primary_key=True)
    environment: Mapped[Environment] = mapped_column(StrEnumType(Environment, 16), primary_key=True)
    enabled: Mapped[bool] = mapped_column(Boolean)
    live_opt_in_at: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[int] = mapped_column(BigInteger)


class ExecutionRow(Base):
    """One (signal, user, target) of a fan-out. The unique key is what makes a resumed fan-out find its work."""

    __tablename__ = "executions"
    __table_args__ = (
        UniqueConstraint("signal_id", "user_id", "exchange", "environment", name="uq_executions_key"),
        Index("ix_executions_user_id_created_at", "user_id", "created_at"),
        NO_ID_REUSE,
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    signal_id: Mapped[int] = mapped_column(Id, ForeignKey("signals.id"))
    user_id: Mapped[int] = mapped_column(Id, ForeignKey("users.id"))
    exchange: Mapped[Exchange] = mapped_column(StrEnumType(Exchange, 32))
    environment: Mapped[Environment] = mapped_column(StrEnumType(Environment, 16))
    status: Mapped[ExecutionStatus] = mapped_column(StrEnumType(ExecutionStatus, 16), index=True)
    reason_code: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str | None] = mapped_column(Text)
    plan: Mapped[dict[str, Any]] = mapped_column(JSONType)
    position_id: Mapped[int | None] = mapped_column(Id, ForeignKey("positions.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[int] = mapped_column(BigInteger)


class SystemFlagRow(Base):
    """Platform-wide switches such as the global trading pause."""

    __tablename__ = "system_flags"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[Any] = mapped_column(JSONType)
    updated_at: Mapped[int] = mapped_column(BigInteger)


class SignalSourceRow(Base):
    """A configured source of signals. The webhook secret arrives already encrypted."""

    __tablename__ = "signal_sources"
    __table_args__ = (UniqueConstraint("kind", "ref"), NO_ID_REUSE)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    kind: Mapped[SourceKind] = mapped_column(StrEnumType(SourceKind, 16))
    ref: Mapped[str] = mapped_column(String(128))
    strategy: Mapped[str | None] = mapped_column(String(64))
    secret_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    max_lag_s: Mapped[int | None] = mapped_column(Integer)
    enabled: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[int] = mapped_column(BigInteger)


class CustomParserRow(Base):
    """An admin-defined parser: ``spec`` is ``CustomParserSpec.to_dict()``, kept as given."""

    __tablename__ = "custom_parsers"
    __table_args__ = (NO_ID_REUSE,)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    spec: Mapped[dict[str, Any]] = mapped_column(JSONType)
    enabled: Mapped[bool] = mapped_column(Boolean)
    # SET NULL: an admin's account may go, the parser they wrote stays.
    created_by: Mapped[int | None] = mapped_column(Id, ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[int] = mapped_column(BigInteger)
