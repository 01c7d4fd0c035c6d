"""A ledger on a migrated database, and a way to make users for it."""

from __future__ import annotations

from decimal import Decimal

import pytest
from ledger_checks import MakeUser

from elcaro.models import ApprovalState, Role, TelegramProfile
from elcaro.services.ledger import LedgerPolicy, LedgerService
from elcaro.storage import Database


@pytest.fixture
def ledger(database: Database) -> LedgerService:
    """Transfers cost 1 % (rounded up) plus 0.001 ELC; staking pays 36.5 % a year, i.e. 0.1 % a day."""
    policy = LedgerPolicy(
        transfer_fee_percent=Decimal(1), transfer_fee_fixed=100_000, staking_yearly_percent=Decimal("36.5")
    )
    return LedgerService(database, policy, clock=lambda: 1_700_000_000_000)


@pytest.fixture
def make_user(database: Database) -> MakeUser:
    counter = iter(range(1, 1_000_000))

    async def make(*, role: Role = Role.USER, referred_by: int | None = None, approved: bool = True) -> int:
        n = next(counter)
        async with database.transaction() as tx:
            user = await tx.users.add(
                TelegramProfile(10_000 + n, username=f"user{n}"),
                language="en",
                role=role,
                approval=ApprovalState.APPROVED if approved else ApprovalState.PENDING,
                referral_code=f"CODE{n}",
                referred_by=referred_by,
                now=1_700_000_000_000,
            )
        return user.id

    return make
