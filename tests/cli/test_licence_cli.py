"""``elcaro licence``: the real executable, run as an operator runs it."""

from __future__ import annotations

import subprocess
from decimal import Decimal
from pathlib import Path

import pytest
from cli_process import elcaro, environment

from elcaro.core.config import Settings
from elcaro.services.platform import Platform

pytestmark = pytest.mark.db


def run(env: dict[str, str], *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
    result = elcaro(env, *args, ok=ok)
    if not ok:
        assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    return result


async def declare(tmp_path: Path, url: str, telegram_id: int, reference: str) -> int:
    """What the bot will do for a user: declare a bank transfer, in process against the same database."""
    settings = Settings(_env_file=None, data_dir=tmp_path / "data", database_url=url)  # type: ignore[call-arg]
    async with Platform.open(settings) as platform:
        user = await platform.users.find_by_telegram_id(telegram_id)
        assert user is not None
        payment = await platform.payments.declare(
            user.id, "premium", 1, amount=Decimal(50), currency="USD", reference=reference
        )
        return payment.id


async def test_operator_manages_licences_promo_codes_and_payments(empty_database_url: str, tmp_path: Path) -> None:
    env = environment(tmp_path, empty_database_url)
    run(env, "db", "upgrade")
    run(env, "user", "add", "1001", "--username", "alice", "--approve")

    granted = run(env, "licence", "grant", "tg:1001", "premium", "30", "--reason", "beta tester").stdout
    assert "premium" in granted and "admin" in granted
    run(env, "licence", "extend", "tg:1001", "5", "--reason", "downtime")
    shown = run(env, "licence", "show", "tg:1001").stdout
    assert "premium until" in shown and "trial available" in shown
    assert "71.25" in run(env, "licence", "prices").stdout  # basic, 3 months, 5 % off

    run(env, "licence", "promo-create", "spring", "basic", "14", "--max-uses", "5", "--valid-until", "2099-12-31")
    listed = run(env, "licence", "promo-list").stdout
    assert "SPRING" in listed and "0/5" in listed and "2099-12-31 23:59" in listed

    approve_id = await declare(tmp_path, empty_database_url, 1001, "wire 1")
    reject_id = await declare(tmp_path, empty_database_url, 1001, "wire 2")
    pending = run(env, "licence", "payments", "--pending").stdout
    assert "wire 1" in pending and "wire 2" in pending
    assert "paid" in run(env, "licence", "approve-payment", str(approve_id), "--note", "bank statement").stdout
    assert "rejected" in run(env, "licence", "reject-payment", str(reject_id), "--reason", "not received").stdout
    assert "is paid already" in run(env, "licence", "approve-payment", str(approve_id), ok=False).stderr
    assert "pending" not in run(env, "licence", "payments", "--user", "tg:1001").stdout

    revoked = run(env, "licence", "revoke", "tg:1001", "--reason", "chargeback").stdout
    assert "chargeback" in revoked
    assert "no active licence" in run(env, "licence", "show", "tg:1001").stdout

    assert (
        "unknown licence tier 'gold'"
        in run(env, "licence", "grant", "tg:1001", "gold", "3", "--reason", "x", ok=False).stderr
    )
    assert "no active licence to revoke" in run(env, "licence", "revoke", "tg:1001", "--reason", "x", ok=False).stderr
    assert (
        "expected YYYY-MM-DD"
        in run(env, "licence", "promo-create", "X1Y", "basic", "1", "--valid-until", "soon", ok=False).stderr
    )
