"""INSERT … ON CONFLICT on both backends: one atomic statement, so concurrent writers of one key cannot collide."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

from sqlalchemy import Table, func
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from elcaro.storage.orm import Base


def upsert(
    session: AsyncSession,
    model: type[Base],
    values: Mapping[str, Any] | Sequence[Mapping[str, Any]],
    *,
    key: Collection[str],
    keep: Collection[str] = (),
    keep_if_null: Collection[str] = (),
) -> postgresql.Insert | sqlite.Insert:
    """Insert ``values`` (one row, or several rows with the same columns), or update the row with
    the same ``key`` columns (a unique constraint).

    On update, ``keep`` columns keep their stored value, and ``keep_if_null`` columns keep it
    unless a new non-null value is given.
    """
    table: Table = model.__table__  # type: ignore[assignment]
    rows = [values] if isinstance(values, Mapping) else values
    statement = _insert(session, model, rows)
    excluded = statement.excluded
    changes = {
        name: func.coalesce(excluded[name], table.c[name]) if name in keep_if_null else excluded[name]
        for name in rows[0]
        if name not in key and name not in keep
    }
    return statement.on_conflict_do_update(index_elements=list(key), set_=changes)


def insert_if_absent(
    session: AsyncSession, model: type[Base], values: Mapping[str, Any], *, key: Collection[str]
) -> postgresql.Insert | sqlite.Insert:
    """Insert ``values`` unless a row with the same ``key`` exists; ``.returning(model)`` then yields nothing.

    On PostgreSQL a concurrent insert of the same key waits for the other transaction: if that one
    commits, this statement inserts nothing, and a following SELECT (READ COMMITTED) sees its row.
    """
    return _insert(session, model, [values]).on_conflict_do_nothing(index_elements=list(key))


def _insert(
    session: AsyncSession, model: type[Base], rows: Sequence[Mapping[str, Any]]
) -> postgresql.Insert | sqlite.Insert:
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    # On the mapped class, so that ``.returning(model)`` yields ORM objects; populate_existing refreshes
    # an object this session loaded before the statement.
    # One row as a dict, not a one-item list: SQLAlchemy caches the compiled form of a single-row VALUES
    # but compiles a multi-row VALUES afresh every time (~4 ms for a wide table, on every order saved).
    values = rows[0] if len(rows) == 1 else list(rows)
    return insert(model).values(values).execution_options(populate_existing=True)
