"""Referral rewards, paid through the ELC ledger.

The link itself is made once, at registration: :meth:`elcaro.services.users.UserService.register`
stores the referrer of a valid code in ``users.referred_by``, and nothing changes it afterwards (a
new user has no code of their own yet, so referring oneself is impossible). This service pays the
referrer:

- a fixed amount when the referee is approved (key ``referral:<referee id>:signup``): paid by
  :meth:`~elcaro.services.users.UserService.approve` inside the approving transaction, whichever
  interface approves; :meth:`ReferralService.pay_pending_signup_rewards` catches up on any approved
  referee without it (run at start by :mod:`elcaro.services.jobs`), and/or
- a percentage of each licence payment the referee makes (key ``referral:<payment key>``),

each from the platform's rewards account, recorded in ``referral_rewards`` in the same transaction.
Both are idempotent: paying twice for the same event pays once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal

from elcaro.core.clock import now_ms
from elcaro.core.config import Settings
from elcaro.models import ApprovalState
from elcaro.models.errors import ValidationError
from elcaro.models.ledger import MAX_AMOUNT, LedgerKind, LedgerTransaction, format_elc, parse_elc
from elcaro.services.ledger import post_draft, reward_draft
from elcaro.services.users import require_user
from elcaro.storage import Database, UnitOfWork
from elcaro.storage.repositories.referrals import RefereeRecord
from elcaro.storage.retrying import run_in_transaction

log = logging.getLogger(__name__)

SIGNUP = "signup"
PAYMENT = "payment"
MAX_PAGE = 500


@dataclass(frozen=True, slots=True)
class ReferralEarnings:
    """What a referrer earned, in minor units."""

    referees: int
    signup_rewards: int
    signup_amount: int
    payment_rewards: int
    payment_amount: int

    @property
    def total(self) -> int:
        return self.signup_amount + self.payment_amount


class ReferralService:
    """``signup_reward`` is minor units (0: none); ``payment_percent`` is % of each licence payment (0: none)."""

    def __init__(
        self,
        database: Database,
        *,
        signup_reward: int = 0,
        payment_percent: Decimal = Decimal(0),
        clock: Callable[[], int] = now_ms,
    ) -> None:
        if not 0 <= signup_reward <= MAX_AMOUNT:
            raise ValidationError(f"0 to {format_elc(MAX_AMOUNT)} ELC", field="signup_reward")
        if not Decimal(0) <= payment_percent <= Decimal(100):
            raise ValidationError("0 to 100 (%)", field="payment_percent")
        self._db = database
        self._signup_reward = signup_reward
        self._payment_percent = payment_percent
        self._clock = clock

    @classmethod
    def from_settings(cls, database: Database, settings: Settings) -> ReferralService:
        return cls(
            database,
            signup_reward=parse_elc(settings.referral_signup_reward, field="referral_signup_reward"),
            payment_percent=settings.referral_payment_percent,
        )

    def payment_reward(self, amount_paid: int) -> int:
        """The referrer's share of a payment, rounded down to the minor unit."""
        share = Decimal(amount_paid) * self._payment_percent / 100
        return int(share.to_integral_value(rounding=ROUND_FLOOR))

    async def reward_for_payment(
        self, tx: UnitOfWork, referee_id: int, amount_paid: int, *, payment_key: str
    ) -> LedgerTransaction | None:
        """Inside the payer's transaction ``tx``: pay the referee's referrer their share of a payment.

        ``payment_key`` is the idempotency key of the payment; the reward's key is
        ``referral:<payment_key>``, so a replayed payment never pays twice. None when the referee has
        no referrer, the share rounds to nothing, or the percentage is 0.
        """
        if amount_paid <= 0:
            raise ValidationError(f"must be more than 0 ELC, got {format_elc(amount_paid)}", field="amount_paid")
        referee = await require_user(tx, referee_id)
        reward = self.payment_reward(amount_paid)
        if referee.referred_by is None or reward <= 0:
            return None
        return await self._pay(
            tx,
            referrer_id=referee.referred_by,
            referee_id=referee_id,
            source=PAYMENT,
            amount=reward,
            key=f"referral:{payment_key}",
            memo=f"referral reward: {self._payment_percent}% of a payment by user {referee_id}",
        )

    async def reward_signup(self, referee_id: int) -> LedgerTransaction | None:
        """Pay the signup reward for an approved referee, once; None when nothing is due.

        Call it when a referred user is approved; :meth:`pay_pending_signup_rewards` catches up on any missed.
        """

        async def work(tx: UnitOfWork) -> LedgerTransaction | None:
            return await self.reward_signup_in(tx, referee_id)

        return await run_in_transaction(self._db, work, serial=True)

    async def reward_signup_in(self, tx: UnitOfWork, referee_id: int) -> LedgerTransaction | None:
        """:meth:`reward_signup` inside the caller's transaction (for example the one approving the user)."""
        referee = await require_user(tx, referee_id)
        if referee.referred_by is None or self._signup_reward <= 0:
            return None
        if referee.approval is not ApprovalState.APPROVED:
            raise ValidationError(f"user {referee_id} is not approved yet", field="referee_id")
        key = f"referral:{referee_id}:signup"
        paid = await tx.ledger.find_by_key(key)
        if paid is not None:  # approved before (then rejected, and approved again): once per referee, whatever the rate
            return paid
        return await self._pay(
            tx,
            referrer_id=referee.referred_by,
            referee_id=referee_id,
            source=SIGNUP,
            amount=self._signup_reward,
            key=key,
            memo=f"referral reward: user {referee_id} joined",
        )

    async def pay_pending_signup_rewards(self, *, limit: int = 1000) -> int:
        """Pay the signup reward to every approved referee who has none yet; the number paid."""
        if self._signup_reward <= 0:
            return 0
        async with self._db.transaction() as tx:
            pending = await tx.referrals.approved_referees_without(SIGNUP, limit=limit)
        paid = 0
        for referee_id in pending:
            if await self.reward_signup(referee_id) is not None:
                paid += 1
        return paid

    async def referees(self, user_id: int, *, limit: int = 100, offset: int = 0) -> list[RefereeRecord]:
        """The users ``user_id`` referred, oldest first, with what each earned them."""
        if not 1 <= limit <= MAX_PAGE:
            raise ValidationError(f"1 to {MAX_PAGE}", field="limit")
        async with self._db.reading() as tx:
            await require_user(tx, user_id)
            return await tx.referrals.referees(user_id, limit=limit, offset=max(offset, 0))

    async def earnings(self, user_id: int) -> ReferralEarnings:
        async with self._db.reading() as tx:
            await require_user(tx, user_id)
            by_source = {row.source: row for row in await tx.referrals.earnings(user_id)}
            referees = await tx.referrals.count_referees(user_id)
        signup, payment = by_source.get(SIGNUP), by_source.get(PAYMENT)
        return ReferralEarnings(
            referees=referees,
            signup_rewards=signup.rewards if signup else 0,
            signup_amount=signup.amount if signup else 0,
            payment_rewards=payment.rewards if payment else 0,
            payment_amount=payment.amount if payment else 0,
        )

    async def _pay(
        self, tx: UnitOfWork, *, referrer_id: int, referee_id: int, source: str, amount: int, key: str, memo: str
    ) -> LedgerTransaction:
        now = self._clock()
        draft = reward_draft(
            referrer_id, amount, key=key, memo=memo, kind=LedgerKind.REFERRAL, reference=f"user:{referee_id}"
        )
        result = await post_draft(tx, draft, now=now)
        if result.created:
            await tx.referrals.add_reward(
                referrer_id=referrer_id,
                referee_id=referee_id,
                source=source,
                transaction_seq=result.transaction.seq,
                amount=amount,
                now=now,
            )
            log.info("referral %s reward of %s ELC to user %s", source, format_elc(amount), referrer_id)
        return result.transaction
