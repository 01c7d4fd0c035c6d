"""Staking interest: paid once per user per UTC day, from the rewards account, rounded down."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from ledger_checks import MakeUser, stored_state

from elcaro.core.clock import from_datetime
from elcaro.models import AccountKind, AccountRef, LedgerKind
from elcaro.models.errors import ValidationError
from elcaro.services.ledger import LedgerPolicy, LedgerService
from elcaro.storage import Database

pytestmark = pytest.mark.db

ELC = 10**8
NOON = from_datetime(datetime(2024, 3, 1, 12, tzinfo=UTC))
DAY = 86_400_000


async def test_interest_is_paid_once_a_day(ledger: LedgerService, make_user: MakeUser, database: Database) -> None:
    staker, idle = await make_user(), await make_user()
    await ledger.credit_purchase(staker, 1500 * ELC, key="buy", reference="r")
    await ledger.credit_purchase(idle, 10 * ELC, key="buy-idle", reference="r")
    await ledger.lock(staker, 1000 * ELC, key="stake")

    run = await ledger.accrue_staking(NOON)
    assert (run.period, run.holders, run.paid, run.amount) == ("2024-03-01", 1, 1, ELC)  # 36.5 % / 365 of 1000
    paid = await ledger.transaction(f"staking:{staker}:2024-03-01")
    assert paid is not None and paid.kind is LedgerKind.STAKING_INTEREST
    assert paid.amount_for(AccountRef(AccountKind.REWARDS)) == -ELC
    assert (await ledger.balance(staker)).available == 501 * ELC

    before = await stored_state(database)
    again = await ledger.accrue_staking(NOON + 3_600_000)  # later the same UTC day
    assert (again.paid, again.amount) == (0, 0)
    assert await stored_state(database) == before

    next_day = await ledger.accrue_staking(NOON + DAY)
    assert (next_day.period, next_day.paid, next_day.amount) == ("2024-03-02", 1, ELC)
    assert (await ledger.verify()).ok


async def test_interest_follows_the_locked_balance_and_rounds_down(ledger: LedgerService, make_user: MakeUser) -> None:
    small, unlocked = await make_user(), await make_user()
    await ledger.credit_purchase(small, ELC, key="buy", reference="r")
    await ledger.lock(small, 999, key="stake")  # 0.1 % of 999 minor units is 0.999: nothing
    await ledger.credit_purchase(unlocked, 10 * ELC, key="buy-2", reference="r")
    await ledger.lock(unlocked, 10 * ELC, key="stake-2")
    await ledger.unlock(unlocked, 10 * ELC, key="unstake-2")
    run = await ledger.accrue_staking(NOON)
    assert (run.holders, run.paid, run.amount) == (1, 0, 0)
    assert await ledger.transaction(f"staking:{small}:2024-03-01") is None


async def test_a_zero_rate_pays_nothing_and_rates_are_checked(database: Database, make_user: MakeUser) -> None:
    ledger = LedgerService(database, LedgerPolicy())
    user = await make_user()
    await ledger.credit_purchase(user, 10 * ELC, key="buy", reference="r")
    await ledger.lock(user, 10 * ELC, key="stake")
    assert (await ledger.accrue_staking(NOON)).paid == 0
    with pytest.raises(ValidationError, match="staking_yearly_percent"):
        LedgerPolicy(staking_yearly_percent=Decimal(101))
    with pytest.raises(ValidationError, match="transfer_fee_percent"):
        LedgerPolicy(transfer_fee_percent=Decimal(-1))
