"""Run a unit of work again when the database gave it up for another writer's sake.

PostgreSQL may abort a transaction with a serialization failure (SQLSTATE 40001) or pick it as a
deadlock victim (40P01); SQLite gives up with "database is locked" once its busy timeout passes.
None of these means the work was wrong: the whole transaction, reads included, is run again on
fresh data. Work passed here must be safe to repeat, which idempotency keys make it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import weakref
from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy.exc import DBAPIError

from elcaro.storage.database import Database
from elcaro.storage.unit_of_work import UnitOfWork

T = TypeVar("T")

log = logging.getLogger(__name__)

_TRANSIENT_SQLSTATES = frozenset({"40001", "40P01"})
_TRANSIENT_SQLITE = frozenset({"SQLITE_BUSY", "SQLITE_BUSY_SNAPSHOT", "SQLITE_LOCKED"})
DEFAULT_ATTEMPTS = 5


# One lock per database and event loop: a Database may outlive the loop it was first used on (tests, CLI runs).
_QUEUES: weakref.WeakKeyDictionary[Database, tuple[asyncio.AbstractEventLoop, asyncio.Lock]] = (
    weakref.WeakKeyDictionary()
)


def _queue(database: Database, serial: bool) -> contextlib.AbstractAsyncContextManager[object]:
    if not serial or database.dialect != "postgresql":
        return contextlib.nullcontext()
    loop = asyncio.get_running_loop()
    found = _QUEUES.get(database)
    if found is None or found[0] is not loop:
        found = _QUEUES[database] = (loop, asyncio.Lock())
    return found[1]


def is_transient(error: BaseException) -> bool:
    """True for an error that running the same transaction again may not meet."""
    if not isinstance(error, DBAPIError):
        return False
    original = error.orig
    if getattr(original, "sqlite_errorname", None) in _TRANSIENT_SQLITE:
        return True
    return getattr(original, "sqlstate", None) in _TRANSIENT_SQLSTATES


async def run_in_transaction(
    database: Database,
    work: Callable[[UnitOfWork], Awaitable[T]],
    *,
    attempts: int = DEFAULT_ATTEMPTS,
    serial: bool = False,
) -> T:
    """``work`` inside ``database.transaction()``, run again (up to ``attempts`` times) after a transient failure.

    ``serial``: the work starts by locking one hot row (the ledger's chain head). On PostgreSQL this
    process's transactions then queue for it on an asyncio lock instead of in the server: many
    backends waiting on one row lock are all woken at every commit and race for it again, which
    halved the ledger's throughput under 50 concurrent writers. Other processes still wait in the
    server. SQLite is left alone: its writers queue in ``BEGIN IMMEDIATE`` and their reads overlap.
    """
    for attempt in range(1, attempts + 1):
        try:
            async with _queue(database, serial), database.transaction() as tx:
                return await work(tx)
        except DBAPIError as exc:
            if attempt == attempts or not is_transient(exc):
                raise
            delay = random.uniform(0, 0.01 * 2**attempt)  # noqa: S311 - jitter, not a secret
            log.info("transaction gave way to another writer (%s); retry %s in %.3fs", exc.orig, attempt, delay)
            await asyncio.sleep(delay)
    raise AssertionError("unreachable")  # pragma: no cover
