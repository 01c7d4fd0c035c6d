"""Equity history: one snapshot of each user's account per target and recording interval.

Types are spelt out here rather than imported from ``elcaro.storage.orm``, as in 0001.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
# ExactDecimal: NUMERIC(38, 18) on PostgreSQL, TEXT on SQLite (whose NUMERIC is a float).
MONEY = sa.Numeric(38, 18).with_variant(sa.Text(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "equity_snapshots",
        sa.Column("user_id", ID, nullable=False),
        sa.Column("exchange", sa.String(32), nullable=False),
        sa.Column("environment", sa.String(16), nullable=False),
        sa.Column("at", sa.BigInteger(), nullable=False),
        sa.Column("taken_at", sa.BigInteger(), nullable=False),
        sa.Column("asset", sa.String(16), nullable=False),
        sa.Column("equity", MONEY, nullable=False),
        sa.Column("wallet", MONEY, nullable=False),
        sa.Column("available", MONEY, nullable=False),
        sa.Column("unrealized_pnl", MONEY, nullable=False),
        sa.PrimaryKeyConstraint("user_id", "exchange", "environment", "at", name=op.f("pk_equity_snapshots")),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_equity_snapshots_user_id_users"), ondelete="CASCADE"
        ),
    )
    op.create_index("ix_equity_snapshots_user_id_at", "equity_snapshots", ["user_id", "at"])


def downgrade() -> None:
    op.drop_index("ix_equity_snapshots_user_id_at", table_name="equity_snapshots")
    op.drop_table("equity_snapshots")
