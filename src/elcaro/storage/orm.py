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
from elcaro.models.licence import LicenceSource, LicenceTier
from elcaro.models.payment import PaymentMethod, PaymentStatus
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
    EXPIRED = "expired"
    """Accepted, but the platform stopped before fanning it out and it was too old to trade at the next start."""


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
    # When Telegram answered that the user blocked the bot (None: reachable); cleared when they write again.
    bot_blocked_at: Mapped[int | None] = mapped_column(BigInteger)


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
    result: Mapped[int] = mapped_column(Integer, server_default="0")
    """The sign of the net PnL (1 won, -1 lost, 0 neither), kept by the repository: the trade log filters on it
    in SQL, where the TEXT amounts of SQLite cannot be compared exactly."""


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


# --- ELC ledger (amounts are integer minor units) ------------------------------------------------


class LedgerAccountRow(Base):
    """An account of the journal: a user's available or locked ELC, or one of the platform's own."""

    __tablename__ = "ledger_accounts"
    __table_args__ = (NO_ID_REUSE,)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    # No ON DELETE: the journal outlives nothing it refers to.
    user_id: Mapped[int | None] = mapped_column(Id, ForeignKey("users.id"), index=True)
    created_at: Mapped[int] = mapped_column(BigInteger)


class LedgerTransactionRow(Base):
    """One balanced movement, chained by hash to the one before. ``seq`` is assigned under the chain head's lock."""

    __tablename__ = "ledger_transactions"
    __table_args__ = (Index("ix_ledger_transactions_kind_created_at", "kind", "created_at"),)

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    kind: Mapped[str] = mapped_column(String(32))
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    memo: Mapped[str | None] = mapped_column(Text)
    reference: Mapped[str | None] = mapped_column(String(200), index=True)
    actor_user_id: Mapped[int | None] = mapped_column(Id)
    created_at: Mapped[int] = mapped_column(BigInteger)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class LedgerEntryRow(Base):
    """One leg of a transaction: a signed amount on one account; a transaction's legs sum to zero."""

    __tablename__ = "ledger_entries"
    __table_args__ = (
        Index("ix_ledger_entries_account_id_transaction_seq", "account_id", "transaction_seq"),
        NO_ID_REUSE,
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    transaction_seq: Mapped[int] = mapped_column(BigInteger, ForeignKey("ledger_transactions.seq"), index=True)
    account_id: Mapped[int] = mapped_column(Id, ForeignKey("ledger_accounts.id"))
    amount: Mapped[int] = mapped_column(BigInteger)


class LedgerBalanceRow(Base):
    """The cached sum of an account's entries, written in the same transaction as the entries."""

    __tablename__ = "ledger_balances"

    account_id: Mapped[int] = mapped_column(Id, ForeignKey("ledger_accounts.id"), primary_key=True)
    balance: Mapped[int] = mapped_column(BigInteger)
    last_seq: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[int] = mapped_column(BigInteger)


class LedgerChainHeadRow(Base):
    """The one row (id 1) naming the newest transaction; every append locks it first."""

    __tablename__ = "ledger_chain_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[int] = mapped_column(BigInteger)


class WalletRow(Base):
    """A user's deposit address, derived from the platform's seed; no key material is stored."""

    __tablename__ = "wallets"

    user_id: Mapped[int] = mapped_column(Id, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    address: Mapped[str] = mapped_column(String(42), unique=True)
    derivation_index: Mapped[int] = mapped_column(BigInteger, unique=True)
    created_at: Mapped[int] = mapped_column(BigInteger)


class PlatformSecretRow(Base):
    """A secret of the platform itself (such as the wallet seed), encrypted before it gets here."""

    __tablename__ = "platform_secrets"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value_enc: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[int] = mapped_column(BigInteger)


class ReferralRewardRow(Base):
    """A referral reward the ledger paid: which referee earned it for which referrer."""

    __tablename__ = "referral_rewards"
    __table_args__ = (Index("ix_referral_rewards_referrer_id_created_at", "referrer_id", "created_at"), NO_ID_REUSE)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    referrer_id: Mapped[int] = mapped_column(Id, ForeignKey("users.id"))
    referee_id: Mapped[int] = mapped_column(Id, ForeignKey("users.id"))
    source: Mapped[str] = mapped_column(String(16))
    transaction_seq: Mapped[int] = mapped_column(BigInteger, ForeignKey("ledger_transactions.seq"), unique=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[int] = mapped_column(BigInteger)


# --- Licences and payments -----------------------------------------------------------------------


class LicenceRow(Base):
    """A user's continuous holding of one tier. No ON DELETE: licences are paid for and outlive nothing."""

    __tablename__ = "licences"
    __table_args__ = (
        Index("ix_licences_user_id_expires_at", "user_id", "expires_at"),
        Index("ix_licences_expires_at", "expires_at"),
        NO_ID_REUSE,
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    user_id: Mapped[int] = mapped_column(Id, ForeignKey("users.id"))
    tier: Mapped[LicenceTier] = mapped_column(StrEnumType(LicenceTier, 16))
    source: Mapped[LicenceSource] = mapped_column(StrEnumType(LicenceSource, 16))
    starts_at: Mapped[int] = mapped_column(BigInteger)
    expires_at: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[int] = mapped_column(BigInteger)
    revoked_at: Mapped[int | None] = mapped_column(BigInteger)
    revoke_reason: Mapped[str | None] = mapped_column(Text)


class LicenceTrialRow(Base):
    """Who has had the trial: the primary key is what makes it once per user, even under concurrent requests."""

    __tablename__ = "licence_trials"

    user_id: Mapped[int] = mapped_column(Id, ForeignKey("users.id"), primary_key=True)
    licence_id: Mapped[int] = mapped_column(Id, ForeignKey("licences.id"))
    started_at: Mapped[int] = mapped_column(BigInteger)


class LicenceWarningRow(Base):
    """An expiry warning sent: once per licence, threshold and expiry (an extension moves the expiry)."""

    __tablename__ = "licence_warnings"

    licence_id: Mapped[int] = mapped_column(Id, ForeignKey("licences.id"), primary_key=True)
    threshold_days: Mapped[int] = mapped_column(Integer, primary_key=True)
    expires_at: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    sent_at: Mapped[int] = mapped_column(BigInteger)


class PromoCodeRow(Base):
    __tablename__ = "promo_codes"
    __table_args__ = (NO_ID_REUSE,)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    tier: Mapped[LicenceTier] = mapped_column(StrEnumType(LicenceTier, 16))
    days: Mapped[int] = mapped_column(Integer)
    max_uses: Mapped[int] = mapped_column(Integer)
    uses: Mapped[int] = mapped_column(Integer)
    valid_until: Mapped[int | None] = mapped_column(BigInteger)
    created_by: Mapped[int | None] = mapped_column(Id, ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[int] = mapped_column(BigInteger)


class PromoRedemptionRow(Base):
    """One use of a promo code; the unique pair is what limits it to one use per user."""

    __tablename__ = "promo_redemptions"
    __table_args__ = (UniqueConstraint("promo_id", "user_id"), NO_ID_REUSE)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    promo_id: Mapped[int] = mapped_column(Id, ForeignKey("promo_codes.id"))
    user_id: Mapped[int] = mapped_column(Id, ForeignKey("users.id"), index=True)
    licence_id: Mapped[int] = mapped_column(Id, ForeignKey("licences.id"))
    redeemed_at: Mapped[int] = mapped_column(BigInteger)


class PaymentRow(Base):
    """A payment for a licence. A provider's id and a caller's key are each unique per method: a replay finds it."""

    __tablename__ = "payments"
    __table_args__ = (
        UniqueConstraint("method", "external_id"),
        UniqueConstraint("method", "idempotency_key"),
        Index("ix_payments_user_id_created_at", "user_id", "created_at"),
        NO_ID_REUSE,
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    user_id: Mapped[int] = mapped_column(Id, ForeignKey("users.id"))
    method: Mapped[PaymentMethod] = mapped_column(StrEnumType(PaymentMethod, 16))
    status: Mapped[PaymentStatus] = mapped_column(StrEnumType(PaymentStatus, 16), index=True)
    amount: Mapped[Decimal] = mapped_column(ExactDecimal)
    currency: Mapped[str] = mapped_column(String(16))
    tier: Mapped[LicenceTier] = mapped_column(StrEnumType(LicenceTier, 16))
    months: Mapped[int] = mapped_column(Integer)
    external_id: Mapped[str | None] = mapped_column(String(200))
    idempotency_key: Mapped[str | None] = mapped_column(String(200))
    reference: Mapped[str | None] = mapped_column(Text)
    licence_id: Mapped[int | None] = mapped_column(Id, ForeignKey("licences.id"))
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[int] = mapped_column(BigInteger)
    paid_at: Mapped[int | None] = mapped_column(BigInteger)


class PaymentEventRow(Base):
    """Append-only: every status a payment took, who moved it and why."""

    __tablename__ = "payment_events"
    __table_args__ = (NO_ID_REUSE,)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    payment_id: Mapped[int] = mapped_column(Id, ForeignKey("payments.id"), index=True)
    from_status: Mapped[PaymentStatus | None] = mapped_column(StrEnumType(PaymentStatus, 16))
    to_status: Mapped[PaymentStatus] = mapped_column(StrEnumType(PaymentStatus, 16))
    actor_user_id: Mapped[int | None] = mapped_column(BigInteger)
    note: Mapped[str | None] = mapped_column(Text)
    at: Mapped[int] = mapped_column(BigInteger)


class WebSessionRow(Base):
    """A login to the web app: the refresh token's hash (rotated on every use), never the token itself."""

    __tablename__ = "web_sessions"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[int] = mapped_column(Id, ForeignKey("users.id", ondelete="CASCADE"), index=True)
    method: Mapped[str] = mapped_column(String(16))
    client: Mapped[str | None] = mapped_column(String(120))
    token_hash: Mapped[str] = mapped_column(String(64))
    previous_hash: Mapped[str | None] = mapped_column(String(64))
    generation: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[int] = mapped_column(BigInteger)
    refreshed_at: Mapped[int] = mapped_column(BigInteger)
    expires_at: Mapped[int] = mapped_column(BigInteger)
    revoked_at: Mapped[int | None] = mapped_column(BigInteger)
    revoked_reason: Mapped[str | None] = mapped_column(String(32))


class EquitySnapshotRow(Base):
    """A user's account on one target as the venue reported it, once per recording interval (``at``).

    The primary key is what makes recording idempotent: a restart, or a second process, inside the same
    interval adds nothing. Old rows are thinned (see ``EquityRepository.thin``), never rewritten.
    """

    __tablename__ = "equity_snapshots"
    # The primary key serves one target's curve; this one every target's, and thinning by age.
    __table_args__ = (Index("ix_equity_snapshots_user_id_at", "user_id", "at"),)

    user_id: Mapped[int] = mapped_column(Id, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    exchange: Mapped[Exchange] = mapped_column(StrEnumType(Exchange, 32), primary_key=True)
    environment: Mapped[Environment] = mapped_column(StrEnumType(Environment, 16), primary_key=True)
    at: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    taken_at: Mapped[int] = mapped_column(BigInteger)
    asset: Mapped[str] = mapped_column(String(16))
    equity: Mapped[Decimal] = mapped_column(ExactDecimal)
    wallet: Mapped[Decimal] = mapped_column(ExactDecimal)
    available: Mapped[Decimal] = mapped_column(ExactDecimal)
    unrealized_pnl: Mapped[Decimal] = mapped_column(ExactDecimal)
