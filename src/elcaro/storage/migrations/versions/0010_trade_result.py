"""Trades: ``result``, the sign of the net PnL (1 won, -1 lost, 0 neither), for the trade log's win/loss filter.

Amounts are TEXT on SQLite, so SQL cannot compare a net PnL with zero exactly there; the sign is computed in
Python (``Decimal``) when a trade is stored and kept here. Existing trades are filled in by this migration.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("trades") as batch:
        batch.add_column(sa.Column("result", sa.Integer(), server_default="0", nullable=False))
    trades = sa.table(
        "trades",
        sa.column("id", sa.Integer()),
        sa.column("side", sa.String()),
        *(
            sa.column(name, sa.String())
            for name in ("qty", "entry_price", "exit_price", "contract_size", "fees", "funding")
        ),
        sa.column("result", sa.Integer()),
    )
    connection = op.get_bind()
    # Read as text on both databases: Decimal(text) is exact, and PostgreSQL prints NUMERIC in full.
    rows = connection.execute(
        sa.select(
            trades.c.id,
            trades.c.side,
            *(
                sa.cast(trades.c[name], sa.String())
                for name in ("qty", "entry_price", "exit_price", "contract_size", "fees", "funding")
            ),
        )
    ).all()
    for trade_id, side, qty, entry, exit_, contract_size, fees, funding in rows:
        sign = 1 if side == "long" else -1
        net = sign * (Decimal(exit_) - Decimal(entry)) * Decimal(qty) * Decimal(contract_size)
        net = net - Decimal(fees) + Decimal(funding)
        result = (net > 0) - (net < 0)
        if result:
            connection.execute(sa.update(trades).where(trades.c.id == trade_id).values(result=result))


def downgrade() -> None:
    with op.batch_alter_table("trades") as batch:
        batch.drop_column("result")
