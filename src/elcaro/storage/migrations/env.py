"""Alembic environment for ElCaro.

Migrations run only through :mod:`elcaro.storage.migrate`, which opens the connection (async
engine, ``run_sync``) and hands it over in ``config.attributes``; so there is no alembic.ini and
no second place that knows how to connect.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from elcaro.storage.orm import Base

connection = context.config.attributes.get("connection")
if not isinstance(connection, Connection):
    raise RuntimeError("run migrations through elcaro.storage.migrate, which supplies the database connection")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    # SQLite cannot ALTER most things; batch mode rebuilds the table instead.
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
