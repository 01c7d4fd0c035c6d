"""Initial schema: users, credentials, settings, audit log, signals, positions, orders, trades.

Types are spelt out here rather than imported from ``elcaro.storage.orm`` so that this revision
keeps creating the same schema however the ORM changes later.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
MONEY = sa.Numeric(38, 18).with_variant(sa.Text(), "sqlite")
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
NO_ID_REUSE = {"sqlite_autoincrement": True}


def _id(table: str) -> tuple[sa.Column[int], sa.PrimaryKeyConstraint]:
    return sa.Column("id", ID, nullable=False), sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}"))


def _fk(table: str, column: str, target: str, ondelete: str | None = None) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}"), ondelete=ondelete
    )


def _target() -> list[sa.Column[str]]:
    return [
        sa.Column("exchange", sa.String(32), nullable=False),
        sa.Column("environment", sa.String(16), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "users",
        *_id("users"),
        sa.Column("telegram_id", sa.BigInteger(), nullable=False),
        sa.Column("username", sa.String(64), nullable=True),
        sa.Column("first_name", sa.Text(), nullable=True),
        sa.Column("last_name", sa.Text(), nullable=True),
        sa.Column("language", sa.String(16), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("approval", sa.String(16), nullable=False),
        sa.Column("banned", sa.Boolean(), nullable=False),
        sa.Column("terms_accepted_at", sa.BigInteger(), nullable=True),
        sa.Column("referral_code", sa.String(32), nullable=False),
        sa.Column("referred_by", ID, nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("last_seen_at", sa.BigInteger(), nullable=True),
        _fk("users", "referred_by", "users", "SET NULL"),
        sa.UniqueConstraint("telegram_id", name=op.f("uq_users_telegram_id")),
        sa.UniqueConstraint("referral_code", name=op.f("uq_users_referral_code")),
        **NO_ID_REUSE,
    )
    op.create_index(op.f("ix_users_approval"), "users", ["approval"])
    op.create_index(op.f("ix_users_referred_by"), "users", ["referred_by"])

    op.create_table(
        "exchange_credentials",
        *_id("exchange_credentials"),
        sa.Column("user_id", ID, nullable=False),
        *_target(),
        sa.Column("label", sa.String(64), nullable=False),
        sa.Column("api_key_enc", sa.LargeBinary(), nullable=True),
        sa.Column("api_secret_enc", sa.LargeBinary(), nullable=True),
        sa.Column("private_key_enc", sa.LargeBinary(), nullable=True),
        sa.Column("wallet_address", sa.String(128), nullable=True),
        sa.Column("key_hint", sa.String(16), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("last_verified_at", sa.BigInteger(), nullable=True),
        _fk("exchange_credentials", "user_id", "users", "CASCADE"),
        sa.UniqueConstraint("user_id", "exchange", "environment", "label", name=op.f("uq_exchange_credentials_label")),
        **NO_ID_REUSE,
    )

    op.create_table(
        "user_settings",
        *_id("user_settings"),
        sa.Column("user_id", ID, nullable=False),
        sa.Column("scope", sa.String(16), nullable=False),
        sa.Column("exchange", sa.String(32), nullable=True),
        sa.Column("strategy", sa.String(64), nullable=True),
        sa.Column("side", sa.String(8), nullable=True),
        sa.Column("scope_key", sa.String(160), nullable=False),
        sa.Column("values", JSON, nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        _fk("user_settings", "user_id", "users", "CASCADE"),
        sa.UniqueConstraint("user_id", "scope_key", name=op.f("uq_user_settings_user_id_scope_key")),
        **NO_ID_REUSE,
    )

    op.create_table(
        "audit_log",
        *_id("audit_log"),
        sa.Column("actor_user_id", sa.BigInteger(), nullable=True),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("details", JSON, nullable=False),
        sa.Column("at", sa.BigInteger(), nullable=False),
        **NO_ID_REUSE,
    )
    op.create_index(op.f("ix_audit_log_at"), "audit_log", ["at"])
    op.create_index(op.f("ix_audit_log_subject_at"), "audit_log", ["subject", "at"])
    op.create_index(op.f("ix_audit_log_actor_user_id_at"), "audit_log", ["actor_user_id", "at"])

    op.create_table(
        "signals",
        *_id("signals"),
        sa.Column("source_kind", sa.String(16), nullable=False),
        sa.Column("source_ref", sa.String(128), nullable=False),
        sa.Column("strategy", sa.String(64), nullable=True),
        sa.Column("symbol", sa.String(64), nullable=True),
        sa.Column("side", sa.String(8), nullable=True),
        sa.Column("entry", JSON, nullable=True),
        sa.Column("take_profits", JSON, nullable=True),
        sa.Column("stop_loss", MONEY, nullable=True),
        sa.Column("leverage", MONEY, nullable=True),
        sa.Column("timeframe", sa.String(16), nullable=True),
        sa.Column("extras", JSON, nullable=True),
        sa.Column("raw_text", sa.Text(), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=True),
        sa.Column("received_at", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reject_reason", sa.Text(), nullable=True),
        **NO_ID_REUSE,
    )
    op.create_index(op.f("ix_signals_received_at"), "signals", ["received_at"])
    op.create_index(op.f("ix_signals_content_hash_received_at"), "signals", ["content_hash", "received_at"])

    op.create_table(
        "positions",
        *_id("positions"),
        sa.Column("user_id", ID, nullable=False),
        *_target(),
        sa.Column("symbol", sa.String(64), nullable=False),
        sa.Column("side", sa.String(8), nullable=False),
        sa.Column("qty", MONEY, nullable=False),
        sa.Column("entry_price", MONEY, nullable=False),
        sa.Column("leverage", MONEY, nullable=False),
        sa.Column("margin_mode", sa.String(16), nullable=False),
        sa.Column("contract_size", MONEY, nullable=False),
        sa.Column("take_profit", MONEY, nullable=True),
        sa.Column("stop_loss", MONEY, nullable=True),
        sa.Column("liquidation_price", MONEY, nullable=True),
        sa.Column("realized_pnl", MONEY, nullable=False),
        sa.Column("strategy", sa.String(64), nullable=True),
        sa.Column("signal_id", ID, nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("state", JSON, nullable=False),
        sa.Column("opened_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.Column("closed_at", sa.BigInteger(), nullable=True),
        _fk("positions", "user_id", "users"),
        _fk("positions", "signal_id", "signals", "SET NULL"),
        **NO_ID_REUSE,
    )
    op.create_index(op.f("ix_positions_status_user_id"), "positions", ["status", "user_id"])
    op.create_index(op.f("ix_positions_signal_id"), "positions", ["signal_id"])

    op.create_table(
        "orders",
        *_id("orders"),
        sa.Column("user_id", ID, nullable=False),
        *_target(),
        sa.Column("client_order_id", sa.String(64), nullable=False),
        sa.Column("exchange_order_id", sa.String(128), nullable=True),
        sa.Column("symbol", sa.String(64), nullable=False),
        sa.Column("side", sa.String(8), nullable=False),
        sa.Column("type", sa.String(16), nullable=False),
        sa.Column("qty", MONEY, nullable=False),
        sa.Column("price", MONEY, nullable=True),
        sa.Column("trigger_price", MONEY, nullable=True),
        sa.Column("time_in_force", sa.String(16), nullable=False),
        sa.Column("reduce_only", sa.Boolean(), nullable=False),
        sa.Column("take_profit", MONEY, nullable=True),
        sa.Column("stop_loss", MONEY, nullable=True),
        sa.Column("status", sa.String(24), nullable=False),
        sa.Column("filled_qty", MONEY, nullable=False),
        sa.Column("avg_fill_price", MONEY, nullable=True),
        sa.Column("fee", MONEY, nullable=False),
        sa.Column("reject_reason", sa.Text(), nullable=True),
        sa.Column("signal_id", ID, nullable=True),
        sa.Column("position_id", ID, nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        _fk("orders", "user_id", "users"),
        _fk("orders", "signal_id", "signals", "SET NULL"),
        _fk("orders", "position_id", "positions", "SET NULL"),
        sa.UniqueConstraint(
            "user_id", "exchange", "environment", "client_order_id", name=op.f("uq_orders_client_order_id")
        ),
        **NO_ID_REUSE,
    )
    op.create_index(op.f("ix_orders_user_id_status"), "orders", ["user_id", "status"])
    op.create_index(op.f("ix_orders_signal_id"), "orders", ["signal_id"])
    op.create_index(op.f("ix_orders_position_id"), "orders", ["position_id"])

    op.create_table(
        "trades",
        *_id("trades"),
        sa.Column("user_id", ID, nullable=False),
        *_target(),
        sa.Column("symbol", sa.String(64), nullable=False),
        sa.Column("side", sa.String(8), nullable=False),
        sa.Column("qty", MONEY, nullable=False),
        sa.Column("entry_price", MONEY, nullable=False),
        sa.Column("exit_price", MONEY, nullable=False),
        sa.Column("fees", MONEY, nullable=False),
        sa.Column("funding", MONEY, nullable=False),
        sa.Column("contract_size", MONEY, nullable=False),
        sa.Column("exit_reason", sa.String(32), nullable=False),
        sa.Column("strategy", sa.String(64), nullable=True),
        sa.Column("signal_id", ID, nullable=True),
        sa.Column("position_id", ID, nullable=True),
        sa.Column("opened_at", sa.BigInteger(), nullable=False),
        sa.Column("closed_at", sa.BigInteger(), nullable=False),
        _fk("trades", "user_id", "users"),
        _fk("trades", "signal_id", "signals", "SET NULL"),
        _fk("trades", "position_id", "positions", "SET NULL"),
        **NO_ID_REUSE,
    )
    op.create_index(op.f("ix_trades_user_id_closed_at"), "trades", ["user_id", "closed_at"])
    op.create_index(op.f("ix_trades_strategy_closed_at"), "trades", ["strategy", "closed_at"])
    op.create_index(op.f("ix_trades_signal_id"), "trades", ["signal_id"])
    op.create_index(op.f("ix_trades_position_id"), "trades", ["position_id"])


def downgrade() -> None:
    # Dependents first; dropping a table drops its indexes with it.
    for table in (
        "trades",
        "orders",
        "positions",
        "signals",
        "audit_log",
        "user_settings",
        "exchange_credentials",
        "users",
    ):
        op.drop_table(table)
