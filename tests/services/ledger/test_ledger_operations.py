"""Every ledger operation, and every way each one is refused with nothing written."""

from __future__ import annotations

import pytest
from ledger_checks import MakeUser, stored_state

from elcaro.models import AccountKind, AccountRef, Balances, InsufficientBalanceError, LedgerKind, Role, parse_elc
from elcaro.models.errors import ConflictError, NotFoundError, PermissionDeniedError, ValidationError
from elcaro.services.ledger import FEES, TREASURY, LedgerService, post_payment, post_reward
from elcaro.storage import Database

pytestmark = pytest.mark.db

ELC = 10**8


async def test_a_purchase_credits_the_user_from_outside(ledger: LedgerService, make_user: MakeUser) -> None:
    user = await make_user()
    t = await ledger.credit_purchase(user, parse_elc("12.5"), key="buy-1", reference="stars:abc")
    assert t.seq == 1 and t.kind is LedgerKind.PURCHASE and t.reference == "stars:abc"
    assert t.amount_for(AccountRef.available(user)) == 1_250_000_000
    assert t.amount_for(AccountRef(AccountKind.EXTERNAL)) == -1_250_000_000
    assert await ledger.balance(user) == Balances(available=1_250_000_000, locked=0)


async def test_a_transfer_moves_the_amount_and_the_sender_pays_the_fee(
    ledger: LedgerService, make_user: MakeUser
) -> None:
    alice, bob = await make_user(), await make_user()
    await ledger.credit_purchase(alice, 100 * ELC, key="buy", reference="r")
    t = await ledger.transfer(alice, bob, 10 * ELC, key="send", memo="lunch")
    fee = 10 * ELC // 100 + 100_000  # 1 % plus the fixed 0.001 ELC
    assert t.amount_for(AccountRef.available(alice)) == -(10 * ELC + fee)
    assert t.amount_for(AccountRef.available(bob)) == 10 * ELC
    assert t.amount_for(FEES) == fee and t.memo == "lunch"
    assert (await ledger.balance(alice)).available == 90 * ELC - fee
    assert (await ledger.balance(bob)).available == 10 * ELC


async def test_the_percentage_fee_rounds_up_to_the_minor_unit(ledger: LedgerService, make_user: MakeUser) -> None:
    alice, bob = await make_user(), await make_user()
    await ledger.credit_purchase(alice, ELC, key="buy", reference="r")
    t = await ledger.transfer(alice, bob, 150, key="tiny")  # 1 % of 150 is 1.5 minor units
    assert t.amount_for(FEES) == 2 + 100_000


async def test_paying_the_platform_lock_unlock_and_reward(ledger: LedgerService, make_user: MakeUser) -> None:
    user = await make_user()
    await ledger.credit_purchase(user, 50 * ELC, key="buy", reference="r")
    paid = await ledger.pay(user, 20 * ELC, key="licence-1", memo="premium 1 month", reference="licence:7")
    assert paid.kind is LedgerKind.PAYMENT and paid.amount_for(TREASURY) == 20 * ELC
    await ledger.lock(user, 25 * ELC, key="stake")
    assert await ledger.balance(user) == Balances(available=5 * ELC, locked=25 * ELC)
    await ledger.unlock(user, 10 * ELC, key="unstake")
    assert await ledger.balance(user) == Balances(available=15 * ELC, locked=15 * ELC)
    rewarded = await ledger.reward(user, 3 * ELC, key="bonus", memo="contest winner")
    assert rewarded.amount_for(AccountRef(AccountKind.REWARDS)) == -3 * ELC
    assert (await ledger.balance(user)).total == 33 * ELC
    history = await ledger.history(user)
    assert [t.kind for t in history] == ["reward", "unlock", "lock", "payment", "purchase"]
    assert [t.seq for t in await ledger.history(user, limit=2, before=history[1].seq)] == [3, 2]


async def test_an_admin_adjusts_with_a_reason_and_it_is_audited(
    ledger: LedgerService, make_user: MakeUser, database: Database
) -> None:
    admin, user = await make_user(role=Role.ADMIN), await make_user()
    t = await ledger.adjust(admin, user, 7 * ELC, reason="refund of a failed order", key="adj-1")
    assert t.kind is LedgerKind.ADJUSTMENT and t.actor_user_id == admin and t.memo == "refund of a failed order"
    await ledger.adjust(None, user, -2 * ELC, reason="correction", key="adj-2")  # the operator at the CLI
    assert (await ledger.balance(user)).available == 5 * ELC
    async with database.transaction() as tx:
        entries = await tx.audit.list(subject=f"user:{user}")
    assert [(e.action, e.actor_user_id, e.details["amount"]) for e in entries] == [
        ("ledger.adjust", None, "-2"),
        ("ledger.adjust", admin, "7"),
    ]
    await ledger.adjust(admin, user, 7 * ELC, reason="refund of a failed order", key="adj-1")  # replay
    async with database.transaction() as tx:
        assert len(await tx.audit.list(subject=f"user:{user}")) == 2


async def test_adjustments_need_an_admin_a_reason_and_cannot_overdraw(
    ledger: LedgerService, make_user: MakeUser, database: Database
) -> None:
    user, other = await make_user(), await make_user()
    before = await stored_state(database)
    with pytest.raises(PermissionDeniedError):
        await ledger.adjust(other, user, ELC, reason="gift to myself", key="a1")
    with pytest.raises(ValidationError, match="reason"):
        await ledger.adjust(None, user, ELC, reason="  ", key="a2")
    with pytest.raises(ValidationError, match="amount"):
        await ledger.adjust(None, user, 0, reason="nothing", key="a3")
    with pytest.raises(InsufficientBalanceError):
        await ledger.adjust(None, user, -ELC, reason="take what is not there", key="a4")
    assert await stored_state(database) == before


async def test_replaying_a_key_returns_the_original_and_writes_nothing(
    ledger: LedgerService, make_user: MakeUser, database: Database
) -> None:
    alice, bob = await make_user(), await make_user()
    first = await ledger.credit_purchase(alice, 10 * ELC, key="buy", reference="r")
    sent = await ledger.transfer(alice, bob, ELC, key="send")
    before = await stored_state(database)
    assert await ledger.credit_purchase(alice, 10 * ELC, key="buy", reference="r") == first
    assert await ledger.transfer(alice, bob, ELC, key="send") == sent
    assert await stored_state(database) == before


async def test_a_replay_wins_even_when_the_operation_could_not_run_again(
    ledger: LedgerService, make_user: MakeUser
) -> None:
    alice, bob = await make_user(), await make_user()
    await ledger.credit_purchase(alice, 2 * ELC, key="buy", reference="r")
    sent = await ledger.transfer(alice, bob, ELC, key="send")
    # Alice could not afford the transfer again, but it is the same request: the original answers.
    assert await ledger.transfer(alice, bob, ELC, key="send") == sent


async def test_a_key_reused_for_another_request_is_a_conflict(
    ledger: LedgerService, make_user: MakeUser, database: Database
) -> None:
    alice, bob = await make_user(), await make_user()
    await ledger.credit_purchase(alice, 10 * ELC, key="k", reference="r")
    before = await stored_state(database)
    for attempt in (
        ledger.credit_purchase(alice, 11 * ELC, key="k", reference="r"),
        ledger.credit_purchase(bob, 10 * ELC, key="k", reference="r"),
        ledger.transfer(alice, bob, ELC, key="k"),
        ledger.reward(alice, ELC, key="k", memo="x"),
    ):
        with pytest.raises(ConflictError, match="'k' was already used for a different request"):
            await attempt
    assert await stored_state(database) == before


@pytest.mark.parametrize("amount", [0, -1, -ELC, True, 10**18])
async def test_bad_amounts_are_refused_and_nothing_is_written(
    ledger: LedgerService, make_user: MakeUser, database: Database, amount: int
) -> None:
    alice, bob = await make_user(), await make_user()
    await ledger.credit_purchase(alice, 10 * ELC, key="buy", reference="r")
    before = await stored_state(database)
    for attempt in (
        ledger.credit_purchase(alice, amount, key="p", reference="r"),
        ledger.transfer(alice, bob, amount, key="t"),
        ledger.pay(alice, amount, key="y", memo="licence"),
        ledger.lock(alice, amount, key="l"),
        ledger.unlock(alice, amount, key="u"),
        ledger.reward(alice, amount, key="w", memo="bonus"),
    ):
        with pytest.raises(ValidationError) as refused:
            await attempt
        assert refused.value.field == "amount"
    assert await stored_state(database) == before


async def test_unknown_users_are_refused_and_nothing_is_written(
    ledger: LedgerService, make_user: MakeUser, database: Database
) -> None:
    alice = await make_user()
    await ledger.credit_purchase(alice, 10 * ELC, key="buy", reference="r")
    before = await stored_state(database)
    for attempt in (
        ledger.credit_purchase(999, ELC, key="p", reference="r"),
        ledger.transfer(alice, 999, ELC, key="t1"),
        ledger.transfer(999, alice, ELC, key="t2"),
        ledger.pay(999, ELC, key="y", memo="licence"),
        ledger.reward(999, ELC, key="w", memo="bonus"),
        ledger.lock(999, ELC, key="l"),
        ledger.adjust(None, 999, ELC, reason="r", key="a"),
        ledger.balance(999),
        ledger.history(999),
    ):
        with pytest.raises(NotFoundError, match="no user with id 999"):
            await attempt
    assert await stored_state(database) == before


async def test_insufficient_balance_is_refused_and_nothing_is_written(
    ledger: LedgerService, make_user: MakeUser, database: Database
) -> None:
    alice, bob = await make_user(), await make_user()
    await ledger.credit_purchase(alice, 10 * ELC, key="buy", reference="r")
    await ledger.lock(alice, 4 * ELC, key="stake")
    before = await stored_state(database)
    with pytest.raises(InsufficientBalanceError, match=r"user:\d+:available: 6 ELC, needs 6.061 ELC"):
        await ledger.transfer(alice, bob, 6 * ELC, key="t")  # the fee tips it over
    with pytest.raises(InsufficientBalanceError):
        await ledger.pay(alice, 6 * ELC + 1, key="p", memo="licence")
    with pytest.raises(InsufficientBalanceError):
        await ledger.lock(alice, 7 * ELC, key="l")
    with pytest.raises(InsufficientBalanceError, match="locked: 4 ELC, needs 5 ELC"):
        await ledger.unlock(alice, 5 * ELC, key="u")
    with pytest.raises(InsufficientBalanceError):
        await ledger.transfer(bob, alice, 1, key="empty")  # bob has no account at all yet
    assert await stored_state(database) == before


async def test_a_transfer_to_oneself_is_refused(ledger: LedgerService, make_user: MakeUser, database: Database) -> None:
    alice = await make_user()
    await ledger.credit_purchase(alice, 10 * ELC, key="buy", reference="r")
    before = await stored_state(database)
    with pytest.raises(ValidationError, match="cannot transfer to yourself") as refused:
        await ledger.transfer(alice, alice, ELC, key="t")
    assert refused.value.field == "to_user_id"
    assert await stored_state(database) == before


async def test_bad_keys_memos_and_references_are_refused(ledger: LedgerService, make_user: MakeUser) -> None:
    user = await make_user()
    for key in ("", "  ", " padded", "x" * 201):
        with pytest.raises(ValidationError, match="idempotency key"):
            await ledger.credit_purchase(user, ELC, key=key, reference="r")
    with pytest.raises(ValidationError, match="reference"):
        await ledger.credit_purchase(user, ELC, key="k", reference=" ")
    with pytest.raises(ValidationError, match="memo"):
        await ledger.reward(user, ELC, key="k", memo="")
    with pytest.raises(ValidationError, match="memo"):
        await ledger.reward(user, ELC, key="k", memo="m" * 501)


async def test_in_transaction_payment_commits_or_rolls_back_with_the_callers_work(
    ledger: LedgerService, make_user: MakeUser, database: Database
) -> None:
    user = await make_user()
    await ledger.credit_purchase(user, 10 * ELC, key="buy", reference="r")
    async with database.transaction() as tx:
        paid = await post_payment(tx, user, 4 * ELC, key="licence:1", memo="basic 1 month")
        again = await post_payment(tx, user, 4 * ELC, key="licence:1", memo="basic 1 month")
        assert again == paid
        await post_reward(tx, user, ELC, key="promo:1", memo="welcome")
    assert (await ledger.balance(user)).available == 7 * ELC

    class CallerFailed(Exception):
        pass

    async def pay_then_fail() -> None:
        async with database.transaction() as tx:
            await post_payment(tx, user, 4 * ELC, key="licence:2", memo="basic 1 month")
            raise CallerFailed  # e.g. granting the licence failed: the payment goes with it

    before = await stored_state(database)
    with pytest.raises(CallerFailed):
        await pay_then_fail()
    assert await stored_state(database) == before
    assert await ledger.transaction("licence:2") is None
    assert (await ledger.transaction("licence:1")) == paid


async def test_history_pages_and_its_limit_is_checked(ledger: LedgerService, make_user: MakeUser) -> None:
    user = await make_user()
    for n in range(5):
        await ledger.credit_purchase(user, ELC, key=f"buy-{n}", reference="r")
    assert [t.seq for t in await ledger.history(user, limit=2)] == [5, 4]
    assert [t.seq for t in await ledger.history(user, limit=10, before=4)] == [3, 2, 1]
    with pytest.raises(ValidationError, match="limit"):
        await ledger.history(user, limit=0)
