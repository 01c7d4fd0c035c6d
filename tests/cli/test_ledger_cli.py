"""``elcaro ledger``, run as a subprocess the way an operator runs it."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path

import pytest
from cli_process import elcaro, environment
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

pytestmark = pytest.mark.db


def _elcaro(env: dict[str, str], *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
    result = elcaro(env, *args, ok=ok)
    assert "Traceback" not in result.stderr
    return result


async def _execute(url: str, statement: str) -> None:
    engine = create_async_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.execute(text(statement))
    finally:
        await engine.dispose()


def test_balances_adjustments_history_and_a_failing_verify(empty_database_url: str, tmp_path: Path) -> None:
    env = environment(tmp_path, empty_database_url)
    _elcaro(env, "db", "upgrade")
    _elcaro(env, "user", "add", "222", "--approve")

    first = _elcaro(env, "ledger", "adjust", "tg:222", "12.5", "--reason", "opening balance", "--key", "k1").stdout
    assert "adjustment #1 (+12.5 ELC), key k1" in first and "available now: 12.5 ELC" in first
    again = _elcaro(env, "ledger", "adjust", "tg:222", "12.5", "--reason", "opening balance", "--key", "k1").stdout
    assert "adjustment #1" in again and "available now: 12.5 ELC" in again  # same key: nothing changed
    assert "adjustment #2 (-2.5 ELC)" in _elcaro(env, "ledger", "adjust", "tg:222", "-2.5", "--reason", "fix").stdout

    balance = _elcaro(env, "ledger", "balance", "tg:222").stdout
    assert "available: 10 ELC" in balance and "locked:    0 ELC" in balance
    history = _elcaro(env, "ledger", "history", "tg:222").stdout
    assert history.index("fix") < history.index("opening balance") and "-2.5" in history

    short = _elcaro(env, "ledger", "adjust", "tg:222", "-100", "--reason", "too much", ok=False)
    assert short.returncode == 1 and "insufficient balance" in short.stderr
    precise = _elcaro(env, "ledger", "adjust", "tg:222", "1.000000001", "--reason", "x", ok=False)
    assert precise.returncode == 1 and "at most 8 decimal places" in precise.stderr
    reused = _elcaro(env, "ledger", "adjust", "tg:222", "1", "--reason", "other", "--key", "k1", ok=False)
    assert reused.returncode == 1 and "already used for a different request" in reused.stderr

    assert "staking interest for" in _elcaro(env, "ledger", "accrue-staking").stdout
    assert "ledger verified: 2 transactions" in _elcaro(env, "ledger", "verify").stdout

    asyncio.run(_execute(empty_database_url, "UPDATE ledger_transactions SET memo = 'forged' WHERE seq = 1"))
    broken = _elcaro(env, "ledger", "verify", ok=False)
    assert broken.returncode == 1
    assert "first broken link: transaction #1 was changed after it was written" in broken.stderr
