"""Copy trading: execution records, user targets, the user's trading pause, system flags, signal sources,
admin-defined parsers.

Types are spelt out here rather than imported from ``elcaro.storage.orm``, as in 0001.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from alembic import op
from alembic.operations import BatchOperations
from sqlalchemy.dialects import postgresql

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
NO_ID_REUSE = {"sqlite_autoincrement": True}


def _fk(table: str, column: str, target: str, ondelete: str | None = None) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}"), ondelete=ondelete
    )


@contextmanager
def _rebuilt_on_sqlite(table: str) -> Iterator[BatchOperations]:
    """Alter ``table``; SQLite does it by copying the table into a new one.

    The copy reads constraints and indexes back from the old table, but not AUTOINCREMENT, and its
    id counter restarts at the highest id left: both are restored, or SQLite would hand a deleted
    row's id to the next insert.
    """
    bind = op.get_bind()
    counter = None
    if bind.dialect.name == "sqlite":
        counter = bind.scalar(sa.text("SELECT seq FROM sqlite_sequence WHERE name = :name"), {"name": table})
    with op.batch_alter_table(table, table_kwargs=NO_ID_REUSE) as batch:
        yield batch
    if counter is not None:
        values = {"name": table, "seq": counter}
        bind.execute(sa.text("DELETE FROM sqlite_sequence WHERE name = :name"), values)
        bind.execute(sa.text("INSERT INTO sqlite_sequence (name, seq) VALUES (:name, :seq)"), values)


def upgrade() -> None:
    # The server default is what gives every existing user ``false``.
    with _rebuilt_on_sqlite("users") as batch:
        batch.add_column(sa.Column("trading_paused", sa.Boolean(), nullable=False, server_default=sa.false()))

    op.create_table(
        "user_targets",
        sa.Column("user_id", ID, nullable=False),
        sa.Column("exchange", sa.String(32), nullable=False),
        sa.Column("environment", sa.String(16), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("live_opt_in_at", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        _fk("user_targets", "user_id", "users", "CASCADE"),
        sa.PrimaryKeyConstraint("user_id", "exchange", "environment", name=op.f("pk_user_targets")),
    )

    op.create_table(
        "executions",
        sa.Column("id", ID, nullable=False),
        sa.Column("signal_id", ID, nullable=False),
        sa.Column("user_id", ID, nullable=False),
        sa.Column("exchange", sa.String(32), nullable=False),
        sa.Column("environment", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reason_code", sa.String(64), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("plan", JSON, nullable=False),
        sa.Column("position_id", ID, nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_executions")),
        _fk("executions", "signal_id", "signals"),
        _fk("executions", "user_id", "users"),
        _fk("executions", "position_id", "positions", "SET NULL"),
        sa.UniqueConstraint("signal_id", "user_id", "exchange", "environment", name=op.f("uq_executions_key")),
        **NO_ID_REUSE,
    )
    op.create_index(op.f("ix_executions_user_id_created_at"), "executions", ["user_id", "created_at"])
    op.create_index(op.f("ix_executions_status"), "executions", ["status"])
    op.create_index(op.f("ix_executions_position_id"), "executions", ["position_id"])

    op.create_table(
        "system_flags",
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("value", JSON, nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_system_flags")),
    )

    op.create_table(
        "signal_sources",
        sa.Column("id", ID, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("ref", sa.String(128), nullable=False),
        sa.Column("strategy", sa.String(64), nullable=True),
        sa.Column("secret_enc", sa.LargeBinary(), nullable=True),
        sa.Column("max_lag_s", sa.Integer(), nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signal_sources")),
        sa.UniqueConstraint("kind", "ref", name=op.f("uq_signal_sources_kind_ref")),
        **NO_ID_REUSE,
    )

    op.create_table(
        "custom_parsers",
        sa.Column("id", ID, nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("spec", JSON, nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_by", ID, nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_custom_parsers")),
        _fk("custom_parsers", "created_by", "users", "SET NULL"),
        sa.UniqueConstraint("name", name=op.f("uq_custom_parsers_name")),
        **NO_ID_REUSE,
    )


def downgrade() -> None:
    # Dropping a table drops its indexes with it.
    for table in ("custom_parsers", "signal_sources", "system_flags", "executions", "user_targets"):
        op.drop_table(table)
    with _rebuilt_on_sqlite("users") as batch:
        batch.drop_column("trading_paused")
