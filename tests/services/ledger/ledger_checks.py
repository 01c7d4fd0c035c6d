"""What the ledger tests compare: the whole stored state, so that "nothing was written" is checked, not assumed."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import text

from elcaro.storage import Database

MakeUser = Callable[..., Awaitable[int]]
"""The ``make_user`` fixture: ``await make_user(role=..., referred_by=..., approved=...)`` gives a user id."""

_TABLES = (
    "ledger_accounts",
    "ledger_transactions",
    "ledger_entries",
    "ledger_balances",
    "ledger_chain_head",
    "referral_rewards",
    "audit_log",
)


async def stored_state(database: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the ledger's tables (and the audit log), in a stable order."""
    state = {}
    async with database.engine.connect() as connection:
        for table in _TABLES:
            rows = await connection.execute(text(f"SELECT * FROM {table} ORDER BY 1"))  # noqa: S608 - fixed names
            state[table] = [tuple(row) for row in rows]
    return state
