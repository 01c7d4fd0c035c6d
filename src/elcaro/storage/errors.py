"""Turn the database's integrity errors into the platform's own errors, with messages people can act on.

A write refused in a read-only unit of work becomes :class:`ReadOnlyTransactionError`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from sqlalchemy import UniqueConstraint
from sqlalchemy.exc import DBAPIError, IntegrityError

from elcaro.models.errors import ConflictError, NotFoundError
from elcaro.storage.orm import Base

_UNIQUE_VIOLATION = "23505"
_FOREIGN_KEY_VIOLATION = "23503"
_READ_ONLY_TRANSACTION = "25006"

# SQLite names the columns of a broken unique constraint, not the constraint: map them back.
_UNIQUE_BY_COLUMNS: dict[tuple[str, ...], str] = {
    tuple(f"{table.name}.{column.name}" for column in constraint.columns): str(constraint.name)
    for table in Base.metadata.tables.values()
    for constraint in table.constraints
    if isinstance(constraint, UniqueConstraint)
}


@contextmanager
def translate_integrity_errors(
    conflicts: Mapping[str, str] | None = None, missing: str | None = None
) -> Iterator[None]:
    """Raise ConflictError for a unique violation and NotFoundError for a missing referenced row.

    ``conflicts`` maps a unique constraint's name (``uq_users_telegram_id``) to its message;
    ``missing`` is the message for a broken reference (SQLite does not say which one broke).
    After such an error the transaction is unusable: let it roll back.
    """
    try:
        yield
    except IntegrityError as exc:
        kind, constraint = _classify(exc)
        if kind == "unique":
            message = (conflicts or {}).get(constraint or "", f"already exists ({constraint or 'duplicate'})")
            raise ConflictError(message) from None
        if kind == "foreign_key":
            raise NotFoundError(missing or "refers to a row that does not exist") from None
        raise


def _classify(exc: IntegrityError) -> tuple[str | None, str | None]:
    """(``"unique"`` | ``"foreign_key"`` | None, constraint name when the database tells)."""
    original = exc.orig
    sqlite_error = getattr(original, "sqlite_errorname", None)
    if sqlite_error is not None:
        if sqlite_error == "SQLITE_CONSTRAINT_UNIQUE":
            _, _, columns = str(original).partition(": ")
            return "unique", _UNIQUE_BY_COLUMNS.get(tuple(columns.split(", ")))
        if sqlite_error == "SQLITE_CONSTRAINT_FOREIGNKEY":
            return "foreign_key", None  # SQLite does not say which one
        return None, None
    # asyncpg: SQLAlchemy's adapter carries the SQLSTATE; the driver's own exception knows the constraint.
    constraint = getattr(original.__cause__, "constraint_name", None) if original is not None else None
    state = getattr(original, "sqlstate", None)
    if state == _UNIQUE_VIOLATION:
        return "unique", constraint
    if state == _FOREIGN_KEY_VIOLATION:
        return "foreign_key", constraint
    return None, None


class ReadOnlyTransactionError(RuntimeError):
    """A write inside :meth:`Database.reading <elcaro.storage.Database.reading>`: the caller's bug.

    Not an ``ElcaroError``: no person can act on it; the work belongs in ``Database.transaction()``.
    """


def is_read_only_refusal(exc: DBAPIError) -> bool:
    """True when the database refused a write because the connection or transaction is read-only."""
    original = exc.orig
    if getattr(original, "sqlite_errorname", None) == "SQLITE_READONLY":
        return True
    return getattr(original, "sqlstate", None) == _READ_ONLY_TRANSACTION
