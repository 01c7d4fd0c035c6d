"""The ELC ledger's use cases: purchases, transfers, licence payments, staking, rewards, adjustments.

Every operation is one balanced double-entry transaction, appended to the hash chain in one database
transaction together with the cached balances, and idempotent by the caller's key:

- the same key with the same request returns the transaction stored the first time, writing nothing;
- the same key with a different request is refused with ConflictError;
- a zero or negative amount, an unknown user, a transfer to oneself or a balance that would go below
  zero is refused (ValidationError, NotFoundError, :class:`~elcaro.models.ledger.InsufficientBalanceError`)
  and nothing is written.

Amounts are integer minor units (see :func:`elcaro.models.ledger.parse_elc` for text).

Other services that must move ELC inside their own database transaction (a licence paid for and
granted together) call the module-level functions :func:`post_payment` and :func:`post_reward` with
their ``UnitOfWork``; anything they raise rolls back the caller's whole transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from functools import partial
from typing import Any

from elcaro.core.clock import now_ms, to_datetime
from elcaro.core.config import Settings
from elcaro.models import AuditEntry
from elcaro.models.errors import ConflictError, ValidationError
from elcaro.models.ledger import (
    MAX_AMOUNT,
    AccountKind,
    AccountRef,
    Balances,
    LedgerDraft,
    LedgerEntry,
    LedgerKind,
    LedgerReport,
    LedgerTransaction,
    format_elc,
    parse_elc,
    request_fingerprint,
)
from elcaro.models.timeframe import DAY_MS
from elcaro.services.ledger_verification import verify_chain
from elcaro.services.users import require_admin, require_user
from elcaro.storage import Database, UnitOfWork
from elcaro.storage.repositories.ledger import AppendResult
from elcaro.storage.retrying import run_in_transaction

log = logging.getLogger(__name__)

DAYS_PER_YEAR = 365
MAX_HISTORY = 500

TREASURY = AccountRef(AccountKind.TREASURY)
FEES = AccountRef(AccountKind.FEES)
REWARDS = AccountRef(AccountKind.REWARDS)
EXTERNAL = AccountRef(AccountKind.EXTERNAL)
ADJUSTMENTS = AccountRef(AccountKind.ADJUSTMENTS)


@dataclass(frozen=True, slots=True)
class LedgerPolicy:
    """The ledger's configurable rates. Fees are rounded up to the minor unit, interest down."""

    transfer_fee_percent: Decimal = Decimal(0)
    transfer_fee_fixed: int = 0
    """Minor units added to every transfer's fee."""
    staking_yearly_percent: Decimal = Decimal(0)

    def __post_init__(self) -> None:
        if not Decimal(0) <= self.transfer_fee_percent <= Decimal(50):
            raise ValidationError("0 to 50 (%)", field="transfer_fee_percent")
        if not 0 <= self.transfer_fee_fixed <= MAX_AMOUNT:
            raise ValidationError(f"0 to {format_elc(MAX_AMOUNT)} ELC", field="transfer_fee_fixed")
        if not Decimal(0) <= self.staking_yearly_percent <= Decimal(100):
            raise ValidationError("0 to 100 (%)", field="staking_yearly_percent")

    @classmethod
    def from_settings(cls, settings: Settings) -> LedgerPolicy:
        return cls(
            transfer_fee_percent=settings.ledger_transfer_fee_percent,
            transfer_fee_fixed=parse_elc(settings.ledger_transfer_fee_fixed, field="ledger_transfer_fee_fixed"),
            staking_yearly_percent=settings.ledger_staking_yearly_percent,
        )

    def transfer_fee(self, amount: int) -> int:
        share = (Decimal(amount) * self.transfer_fee_percent / 100).to_integral_value(rounding=ROUND_CEILING)
        return int(share) + self.transfer_fee_fixed

    def daily_interest(self, locked: int) -> int:
        interest = Decimal(locked) * self.staking_yearly_percent / 100 / DAYS_PER_YEAR
        return int(interest.to_integral_value(rounding=ROUND_FLOOR))


@dataclass(frozen=True, slots=True)
class StakingAccrual:
    """What one run of :meth:`LedgerService.accrue_staking` did."""

    period: str
    """The UTC day paid for, ``YYYY-MM-DD``."""
    holders: int
    """Users with a locked balance when the run started."""
    paid: int
    """Interest transactions written by this run (a second run of the same day writes none)."""
    amount: int
    """Minor units paid by this run."""


# --- In-transaction API: for services that move ELC inside their own database transaction ---------


async def post_payment(
    tx: UnitOfWork,
    user_id: int,
    amount: int,
    *,
    key: str,
    memo: str,
    reference: str | None = None,
    now: int | None = None,
) -> LedgerTransaction:
    """Move ``amount`` from the user's available balance to the treasury, inside ``tx``.

    Idempotent by ``key``: a repeated call with the same user, amount, memo and reference returns the
    original transaction and writes nothing. Raises (leaving the caller to roll back) on a bad amount,
    an unknown user, insufficient balance, or ``key`` reused for a different request.
    """
    _positive(amount)
    memo = _memo(memo)
    draft = LedgerDraft(
        kind=LedgerKind.PAYMENT,
        key=key,
        request_hash=request_fingerprint(
            "payment", {"user": user_id, "amount": amount, "memo": memo, "reference": reference}
        ),
        entries=(LedgerEntry(AccountRef.available(user_id), -amount), LedgerEntry(TREASURY, amount)),
        memo=memo,
        reference=reference,
    )
    return (await _post(tx, draft, now)).transaction


async def post_reward(
    tx: UnitOfWork,
    user_id: int,
    amount: int,
    *,
    key: str,
    memo: str,
    kind: LedgerKind = LedgerKind.REWARD,
    reference: str | None = None,
    now: int | None = None,
) -> LedgerTransaction:
    """Pay ``amount`` from the platform's rewards account to the user's available balance, inside ``tx``.

    ``kind`` tells rewards apart in the journal (``REWARD``, ``REFERRAL``, ``STAKING_INTEREST``).
    Idempotent by ``key`` like :func:`post_payment`.
    """
    draft = reward_draft(user_id, amount, key=key, memo=memo, kind=kind, reference=reference)
    return (await _post(tx, draft, now)).transaction


def reward_draft(
    user_id: int,
    amount: int,
    *,
    key: str,
    memo: str,
    kind: LedgerKind = LedgerKind.REWARD,
    reference: str | None = None,
) -> LedgerDraft:
    """The transaction :func:`post_reward` posts, checked; for :func:`post_draft` when the caller needs ``created``."""
    if kind not in (LedgerKind.REWARD, LedgerKind.REFERRAL, LedgerKind.STAKING_INTEREST):
        raise ValidationError("a reward is a reward, referral or staking_interest transaction", field="kind")
    _positive(amount)
    memo = _memo(memo)
    return LedgerDraft(
        kind=kind,
        key=key,
        request_hash=request_fingerprint(
            str(kind), {"user": user_id, "amount": amount, "memo": memo, "reference": reference}
        ),
        entries=(LedgerEntry(REWARDS, -amount), LedgerEntry(AccountRef.available(user_id), amount)),
        memo=memo,
        reference=reference,
    )


async def post_draft(tx: UnitOfWork, draft: LedgerDraft, *, now: int | None = None) -> AppendResult:
    """Append ``draft``, or return what its key stored before; ConflictError when that was another request.

    ``AppendResult.created`` says whether this call wrote the transaction.
    """
    return await _post(tx, draft, now)


class LedgerService:
    """The ledger's operations, each in its own database transaction (retried on a transient conflict)."""

    def __init__(
        self, database: Database, policy: LedgerPolicy | None = None, *, clock: Callable[[], int] = now_ms
    ) -> None:
        self._db = database
        self._policy = policy or LedgerPolicy()
        self._clock = clock

    @property
    def policy(self) -> LedgerPolicy:
        return self._policy

    async def credit_purchase(self, user_id: int, amount: int, *, key: str, reference: str) -> LedgerTransaction:
        """Credit ELC bought outside the ledger (``reference`` names the purchase, e.g. a payment id)."""
        _positive(amount)
        if not reference or not reference.strip():
            raise ValidationError("name the purchase (a payment id or receipt)", field="reference")
        draft = LedgerDraft(
            kind=LedgerKind.PURCHASE,
            key=key,
            request_hash=request_fingerprint("purchase", {"user": user_id, "amount": amount, "reference": reference}),
            entries=(LedgerEntry(EXTERNAL, -amount), LedgerEntry(AccountRef.available(user_id), amount)),
            reference=reference,
        )
        return await self._run(draft)

    async def transfer(
        self, from_user_id: int, to_user_id: int, amount: int, *, key: str, memo: str | None = None
    ) -> LedgerTransaction:
        """Send ``amount`` to another user; the sender also pays the fee (to the fees account)."""
        _positive(amount)
        if from_user_id == to_user_id:
            raise ValidationError("cannot transfer to yourself", field="to_user_id")
        fee = self._policy.transfer_fee(amount)
        sender = AccountRef.available(from_user_id)
        entries = [LedgerEntry(sender, -(amount + fee)), LedgerEntry(AccountRef.available(to_user_id), amount)]
        if fee:
            entries.append(LedgerEntry(FEES, fee))
        draft = LedgerDraft(
            kind=LedgerKind.TRANSFER,
            key=key,
            request_hash=request_fingerprint(
                "transfer", {"from": from_user_id, "to": to_user_id, "amount": amount, "memo": memo}
            ),
            entries=tuple(entries),
            memo=_memo(memo) if memo is not None else None,
        )
        return await self._run(draft)

    async def pay(
        self, user_id: int, amount: int, *, key: str, memo: str, reference: str | None = None
    ) -> LedgerTransaction:
        """Pay the platform (a licence) from the available balance: :func:`post_payment` in its own transaction."""

        async def work(tx: UnitOfWork) -> LedgerTransaction:
            return await post_payment(tx, user_id, amount, key=key, memo=memo, reference=reference, now=self._clock())

        return await run_in_transaction(self._db, work, serial=True)

    async def lock(self, user_id: int, amount: int, *, key: str) -> LedgerTransaction:
        """Stake: move ``amount`` from available to locked, where it earns the staking rate."""
        return await self._move_between_own(LedgerKind.LOCK, user_id, amount, key)

    async def unlock(self, user_id: int, amount: int, *, key: str) -> LedgerTransaction:
        """Unstake: move ``amount`` from locked back to available."""
        return await self._move_between_own(LedgerKind.UNLOCK, user_id, amount, key)

    async def reward(self, user_id: int, amount: int, *, key: str, memo: str) -> LedgerTransaction:
        """Pay a reward from the platform's rewards account: :func:`post_reward` in its own transaction."""

        async def work(tx: UnitOfWork) -> LedgerTransaction:
            return await post_reward(tx, user_id, amount, key=key, memo=memo, now=self._clock())

        return await run_in_transaction(self._db, work, serial=True)

    async def adjust(
        self, admin_id: int | None, user_id: int, amount_signed: int, *, reason: str, key: str
    ) -> LedgerTransaction:
        """Correct a user's available balance by hand, with a reason, audited.

        ``admin_id`` must be an admin; ``None`` is the operator at the machine (the CLI). A negative
        adjustment cannot take the balance below zero.
        """
        if isinstance(amount_signed, bool) or not isinstance(amount_signed, int) or amount_signed == 0:
            raise ValidationError("an adjustment is a non-zero whole number of minor units", field="amount")
        if abs(amount_signed) > MAX_AMOUNT:
            raise ValidationError(f"at most {format_elc(MAX_AMOUNT)} ELC either way", field="amount")
        reason = (reason or "").strip()
        if not reason:
            raise ValidationError("say why the balance is adjusted", field="reason")
        draft = LedgerDraft(
            kind=LedgerKind.ADJUSTMENT,
            key=key,
            request_hash=request_fingerprint(
                "adjustment", {"admin": admin_id, "user": user_id, "amount": amount_signed, "reason": reason}
            ),
            entries=(
                LedgerEntry(ADJUSTMENTS, -amount_signed),
                LedgerEntry(AccountRef.available(user_id), amount_signed),
            ),
            memo=_memo(reason),
            actor_user_id=admin_id,
        )

        async def work(tx: UnitOfWork) -> LedgerTransaction:
            await require_admin(tx, admin_id)
            await require_user(tx, user_id)
            now = self._clock()
            result = await _post(tx, draft, now)
            if result.created:
                details = {"amount": format_elc(amount_signed), "reason": reason, "seq": result.transaction.seq}
                await tx.audit.add(
                    AuditEntry(
                        action="ledger.adjust",
                        actor_user_id=admin_id,
                        subject=f"user:{user_id}",
                        details={**details, "key": key},
                        at=now,
                    )
                )
                log.info("ledger adjustment #%s: user %s %s ELC", result.transaction.seq, user_id, details["amount"])
            return result.transaction

        return await run_in_transaction(self._db, work, serial=True)

    async def balance(self, user_id: int) -> Balances:
        async with self._db.reading() as tx:
            await require_user(tx, user_id)
            found = await tx.ledger.user_balances(user_id)
        return Balances(available=found.get(AccountKind.AVAILABLE, 0), locked=found.get(AccountKind.LOCKED, 0))

    async def history(self, user_id: int, *, limit: int = 50, before: int | None = None) -> list[LedgerTransaction]:
        """The user's transactions, newest first; pass the last ``seq`` seen as ``before`` for the next page."""
        if not 1 <= limit <= MAX_HISTORY:
            raise ValidationError(f"1 to {MAX_HISTORY}", field="limit")
        async with self._db.reading() as tx:
            await require_user(tx, user_id)
            return await tx.ledger.history(user_id, limit=limit, before_seq=before)

    async def transaction(self, key: str) -> LedgerTransaction | None:
        """The transaction stored under an idempotency key, if any."""
        async with self._db.reading() as tx:
            return await tx.ledger.find_by_key(key)

    async def verify(self) -> LedgerReport:
        """Walk the whole chain in one consistent snapshot (writers carry on meanwhile): see :func:`verify_chain`."""
        async with self._db.reading() as tx:
            return await verify_chain(tx)

    async def accrue_staking(self, now_ms: int | None = None) -> StakingAccrual:
        """Pay one day's interest on every locked balance, from the rewards account.

        The day is the UTC day of ``now_ms`` (default: now); the key ``staking:<user>:<day>`` makes a
        second run of the same day pay nothing. Interest is the locked balance at payment time times
        the yearly rate / 365, rounded down. Schedule it once a day: a day the job does not run is
        not paid later.
        """
        now = self._clock() if now_ms is None else now_ms
        day = to_datetime(now // DAY_MS * DAY_MS).date().isoformat()
        async with self._db.transaction() as tx:
            holders = await tx.ledger.positive_balances(AccountKind.LOCKED)
        paid = total = 0
        for user_id, _ in holders:
            result = await run_in_transaction(
                self._db, partial(self._accrue_one, user_id=user_id, day=day, now=now), serial=True
            )
            if result is not None and result.created:
                paid += 1
                total += result.transaction.amount_for(AccountRef.available(user_id))
        log.info("staking interest for %s: %s of %s holders paid, %s ELC", day, paid, len(holders), format_elc(total))
        return StakingAccrual(period=day, holders=len(holders), paid=paid, amount=total)

    async def _accrue_one(self, tx: UnitOfWork, *, user_id: int, day: str, now: int) -> AppendResult | None:
        key = f"staking:{user_id}:{day}"
        existing = await tx.ledger.find_by_key(key)
        if existing is not None:
            return AppendResult(existing, created=False)
        interest = self._policy.daily_interest(await tx.ledger.balance(AccountRef.locked(user_id)))
        if interest <= 0:
            return None
        draft = LedgerDraft(
            kind=LedgerKind.STAKING_INTEREST,
            key=key,
            request_hash=request_fingerprint("staking_interest", {"user": user_id, "period": day}),
            entries=(LedgerEntry(REWARDS, -interest), LedgerEntry(AccountRef.available(user_id), interest)),
            memo=f"staking interest for {day}",
        )
        return await _post(tx, draft, now)

    async def _move_between_own(self, kind: LedgerKind, user_id: int, amount: int, key: str) -> LedgerTransaction:
        _positive(amount)
        source, target = AccountRef.available(user_id), AccountRef.locked(user_id)
        if kind is LedgerKind.UNLOCK:
            source, target = target, source
        draft = LedgerDraft(
            kind=kind,
            key=key,
            request_hash=request_fingerprint(str(kind), {"user": user_id, "amount": amount}),
            entries=(LedgerEntry(source, -amount), LedgerEntry(target, amount)),
        )
        return await self._run(draft)

    async def _run(self, draft: LedgerDraft) -> LedgerTransaction:
        async def work(tx: UnitOfWork) -> LedgerTransaction:
            return (await _post(tx, draft, self._clock())).transaction

        return await run_in_transaction(self._db, work, serial=True)


async def _post(tx: UnitOfWork, draft: LedgerDraft, now: int | None) -> AppendResult:
    result = await tx.ledger.append(draft, now=now_ms() if now is None else now)
    if not result.created and result.transaction.request_hash != draft.request_hash:
        raise ConflictError(
            f"idempotency key {draft.key!r} was already used for a different request "
            f"(transaction #{result.transaction.seq}, {result.transaction.kind}); use a new key"
        )
    return result


def _positive(amount: Any, field: str = "amount") -> int:
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise ValidationError(f"a whole number of minor units is required, got {type(amount).__name__}", field=field)
    if amount <= 0:
        raise ValidationError(f"must be more than 0 ELC, got {format_elc(amount)}", field=field)
    if amount > MAX_AMOUNT:
        raise ValidationError(f"at most {format_elc(MAX_AMOUNT)} ELC, got {format_elc(amount)}", field=field)
    return amount


def _memo(memo: str | None) -> str:
    text = (memo or "").strip()
    if not text:
        raise ValidationError("say what the movement is for", field="memo")
    return text
