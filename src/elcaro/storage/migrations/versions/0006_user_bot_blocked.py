"""Users who blocked the Telegram bot: ``users.bot_blocked_at``, so deliveries and broadcasts skip them.

Types are spelt out here rather than imported from ``elcaro.storage.orm``, as in 0001.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from alembic import op
from alembic.operations import BatchOperations

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

NO_ID_REUSE = {"sqlite_autoincrement": True}


@contextmanager
def _rebuilt_on_sqlite(table: str) -> Iterator[BatchOperations]:
    """Alter ``table``; SQLite does it by copying the table, which loses AUTOINCREMENT's counter: restored
    (see 0003)."""
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
    # Nullable, no default: every existing user is reachable until Telegram says otherwise.
    with _rebuilt_on_sqlite("users") as batch:
        batch.add_column(sa.Column("bot_blocked_at", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with _rebuilt_on_sqlite("users") as batch:
        batch.drop_column("bot_blocked_at")
