"""Candle store and paper-exchange state.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

MONEY = sa.Numeric(38, 18).with_variant(sa.Text(), "sqlite")
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "candles",
        sa.Column("exchange", sa.String(32), nullable=False),
        sa.Column("symbol", sa.String(64), nullable=False),
        sa.Column("timeframe", sa.String(8), nullable=False),
        sa.Column("ts", sa.BigInteger(), nullable=False),
        *(sa.Column(name, MONEY, nullable=False) for name in ("open", "high", "low", "close", "volume")),
        sa.PrimaryKeyConstraint("exchange", "symbol", "timeframe", "ts", name=op.f("pk_candles")),
    )
    op.create_table(
        "paper_venues",
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("snapshot", JSON, nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_paper_venues")),
    )


def downgrade() -> None:
    op.drop_table("paper_venues")
    op.drop_table("candles")
