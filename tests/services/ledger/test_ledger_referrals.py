"""Referrals: linked once at registration; rewards paid through the ledger, once per event."""

from __future__ import annotations

from decimal import Decimal

import pytest
from ledger_checks import stored_state

from elcaro.models import AccountRef, ApprovalState, LedgerKind, LedgerTransaction, TelegramProfile
from elcaro.models.errors import ConflictError, NotFoundError, ValidationError
from elcaro.services.ledger import LedgerService, post_payment
from elcaro.services.referrals import ReferralService
from elcaro.services.users import UserService
from elcaro.storage import Database, UnitOfWork

pytestmark = pytest.mark.db

ELC = 10**8


@pytest.fixture
def referrals(database: Database) -> ReferralService:
    return ReferralService(database, signup_reward=5 * ELC, payment_percent=Decimal("12.5"))


@pytest.fixture
def users(database: Database) -> UserService:
    return UserService(database)


async def test_a_new_user_is_linked_once_by_a_code(users: UserService) -> None:
    referrer = await users.register(TelegramProfile(1))
    referee = await users.register(TelegramProfile(2), referral_code=f" {referrer.referral_code.lower()} ")
    assert referee.referred_by == referrer.id
    assert referrer.referred_by is None  # nobody can refer themselves: a new user has no code of their own yet
    with pytest.raises(ConflictError):  # registering again (with another code) cannot re-link
        await users.register(TelegramProfile(2), referral_code=(await users.register(TelegramProfile(3))).referral_code)
    assert (await users.get(referee.id)).referred_by == referrer.id


async def test_the_signup_reward_is_paid_once_when_the_referee_is_approved(
    users: UserService, referrals: ReferralService, database: Database
) -> None:
    referrer = await users.register(TelegramProfile(1))
    referee = await users.register(TelegramProfile(2), referral_code=referrer.referral_code)
    with pytest.raises(ValidationError, match="not approved yet"):
        await referrals.reward_signup(referee.id)

    await users.approve(referee.id)
    paid = await referrals.reward_signup(referee.id)
    assert paid is not None and paid.kind is LedgerKind.REFERRAL and paid.key == f"referral:{referee.id}:signup"
    assert paid.amount_for(AccountRef.available(referrer.id)) == 5 * ELC
    before = await stored_state(database)
    assert await referrals.reward_signup(referee.id) == paid
    assert await referrals.pay_pending_signup_rewards() == 0
    assert await stored_state(database) == before

    loner = await users.register(TelegramProfile(3))
    await users.approve(loner.id)
    assert await referrals.reward_signup(loner.id) is None
    with pytest.raises(NotFoundError):
        await referrals.reward_signup(999)


async def test_missed_signup_rewards_are_caught_up(users: UserService, referrals: ReferralService) -> None:
    referrer = await users.register(TelegramProfile(1))
    for telegram_id in (2, 3, 4):
        referee = await users.register(TelegramProfile(telegram_id), referral_code=referrer.referral_code)
        if telegram_id != 4:
            await users.approve(referee.id)  # 4 stays pending: nothing due yet
    assert await referrals.pay_pending_signup_rewards() == 2
    assert await referrals.pay_pending_signup_rewards() == 0
    assert (await referrals.earnings(referrer.id)).signup_amount == 10 * ELC


async def test_a_share_of_each_licence_payment_goes_to_the_referrer_once(
    users: UserService, referrals: ReferralService, database: Database
) -> None:
    ledger = LedgerService(database)
    referrer = await users.register(TelegramProfile(1))
    referee = await users.register(TelegramProfile(2), referral_code=referrer.referral_code)
    await ledger.credit_purchase(referee.id, 100 * ELC, key="buy", reference="r")

    async def pay_licence(key: str, amount: int) -> LedgerTransaction | None:
        async with database.transaction() as tx:
            await post_payment(tx, referee.id, amount, key=key, memo="premium 1 month")
            return await referrals.reward_for_payment(tx, referee.id, amount, payment_key=key)

    reward = await pay_licence("licence:1", 50 * ELC + 3)
    assert reward is not None and reward.key == "referral:licence:1"
    assert (await ledger.balance(referrer.id)).available == 625_000_000  # 12.5 % of 50.00000003, rounded down
    assert await pay_licence("licence:1", 50 * ELC + 3) == reward  # a replayed payment pays nothing more
    await pay_licence("licence:2", 7)  # 12.5 % of 7 minor units rounds to nothing
    assert await ledger.transaction("referral:licence:2") is None

    earnings = await referrals.earnings(referrer.id)
    assert (earnings.referees, earnings.payment_rewards, earnings.payment_amount) == (1, 1, 625_000_000)
    assert earnings.total == 625_000_000
    [listed] = await referrals.referees(referrer.id)
    assert (listed.user_id, listed.earned, listed.approval) == (referee.id, 625_000_000, ApprovalState.PENDING)
    assert (await ledger.verify()).ok


async def test_no_referrer_no_reward_and_bad_input_is_refused(
    users: UserService, referrals: ReferralService, database: Database
) -> None:
    loner = await users.register(TelegramProfile(1))
    async with database.transaction() as tx:
        assert await referrals.reward_for_payment(tx, loner.id, 10 * ELC, payment_key="p") is None
        with pytest.raises(ValidationError, match="amount_paid"):
            await referrals.reward_for_payment(tx, loner.id, 0, payment_key="p")
        with pytest.raises(NotFoundError):
            await referrals.reward_for_payment(tx, 999, ELC, payment_key="p")
    with pytest.raises(ValidationError, match="payment_percent"):
        ReferralService(database, payment_percent=Decimal(101))
    with pytest.raises(NotFoundError):
        await referrals.earnings(999)
    assert await referrals.referees(loner.id) == []


async def test_approval_pays_the_signup_reward_once_whichever_way_a_user_is_approved(
    referrals: ReferralService, database: Database
) -> None:
    users = UserService(database, signup_rewards=referrals)
    referrer = await users.register(TelegramProfile(1))
    referee = await users.register(TelegramProfile(2), referral_code=referrer.referral_code)
    await users.approve(referee.id)
    assert (await referrals.earnings(referrer.id)).signup_amount == 5 * ELC

    await users.approve(referee.id)  # approved already: nothing changes
    await users.reject(referee.id)
    # Approved again, now with another rate configured: the referee's reward was paid, once is all.
    await UserService(database, signup_rewards=ReferralService(database, signup_reward=7 * ELC)).approve(referee.id)
    assert await referrals.pay_pending_signup_rewards() == 0
    promoted = await users.register(TelegramProfile(3), referral_code=referrer.referral_code)
    await users.promote(promoted.id)  # an admin is approved by definition: that approval pays too
    earnings = await referrals.earnings(referrer.id)
    assert (earnings.signup_rewards, earnings.signup_amount) == (2, 10 * ELC)


class _RewardsAway:
    async def reward_signup_in(self, tx: UnitOfWork, referee_id: int) -> object:
        raise ConflictError("the rewards ledger refused")


async def test_an_approval_whose_reward_cannot_be_paid_is_not_made(database: Database) -> None:
    plain = UserService(database)
    referrer = await plain.register(TelegramProfile(1))
    referee = await plain.register(TelegramProfile(2), referral_code=referrer.referral_code)
    with pytest.raises(ConflictError, match="rewards ledger refused"):
        await UserService(database, signup_rewards=_RewardsAway()).approve(referee.id)
    assert (await plain.get(referee.id)).approval is ApprovalState.PENDING  # one transaction: both or neither
    async with database.reading() as tx:
        assert [entry.action for entry in await tx.audit.list()] == ["user.register", "user.register"]
