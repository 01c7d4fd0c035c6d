"""Licences: the trial, purchases with ELC, promo codes, admin grants, expiry warnings, and the licence check.

Each use case is one database transaction with its audit entry. A licence bought with ELC is paid through
the ledger's in-transaction :func:`~elcaro.services.ledger.post_payment` and granted in the same
transaction, so money never moves without the licence, nor the licence without the money. What a grant
does to the licences a user holds (extend, upgrade, a lower tier alongside) is decided by
:func:`elcaro.trading.licence.plan_grant`; its module docstring states the rules.

Every licence change of one user starts by locking that user's row (``SELECT … FOR UPDATE`` on
PostgreSQL; SQLite's ``BEGIN IMMEDIATE`` serialises all writers), so two concurrent purchases or a
purchase and a promo code never both extend from the same expiry.

``admin_id`` None means the operator at the machine (the CLI), who is trusted; a user id must be an admin.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from elcaro.core.clock import now_ms
from elcaro.core.config import Settings
from elcaro.core.events import EventBus
from elcaro.models import AuditEntry, Target
from elcaro.models.errors import ConflictError, NotFoundError, ValidationError
from elcaro.models.ledger import check_idempotency_key, elc_decimal, parse_elc
from elcaro.models.licence import (
    ExpiryWarning,
    Licence,
    LicenceSource,
    LicenceTier,
    Price,
    PromoCode,
    check_promo_code,
    normalise_promo_code,
    paid_tier,
)
from elcaro.models.payment import ELC_CURRENCY, Payment, PaymentMethod, PaymentStatus
from elcaro.models.timeframe import DAY_MS
from elcaro.services.ledger import post_payment
from elcaro.services.referrals import ReferralService
from elcaro.services.users import require_admin, require_user
from elcaro.storage import Database, UnitOfWork
from elcaro.storage.retrying import run_in_transaction
from elcaro.trading.licence import (
    Decision,
    GrantPlan,
    LicenceBook,
    LicencePolicy,
    LicenceRules,
    PriceList,
    Standing,
    plan_grant,
)

log = logging.getLogger(__name__)

MAX_REASON = 500
MAX_PROMO_DAYS = 3650
MAX_PROMO_USES = 1_000_000


@dataclass(frozen=True, slots=True)
class LicenceConfig:
    rules: LicenceRules
    prices: PriceList
    trial_days: int = 7
    warn_days: tuple[int, ...] = (3, 1)

    @classmethod
    def from_settings(cls, settings: Settings) -> LicenceConfig:
        monthly = {
            LicenceTier.BASIC: parse_elc(settings.licence_price_basic, field="licence_price_basic"),
            LicenceTier.PREMIUM: parse_elc(settings.licence_price_premium, field="licence_price_premium"),
            LicenceTier.ENTERPRISE: parse_elc(settings.licence_price_enterprise, field="licence_price_enterprise"),
        }
        discounts = {
            1: Decimal(0),
            3: settings.licence_discount_3m_pct,
            6: settings.licence_discount_6m_pct,
            12: settings.licence_discount_12m_pct,
        }
        rules = LicenceRules(
            basic_strategies=frozenset(settings.licence_basic_strategies),
            enterprise_strategies=frozenset(settings.licence_enterprise_strategies),
            enterprise_features=frozenset(settings.licence_enterprise_features),
            paper_free=settings.licence_paper_free,
        )
        return cls(rules, PriceList(monthly, discounts), settings.licence_trial_days, tuple(settings.licence_warn_days))


@dataclass(frozen=True, slots=True)
class LicenceStatus:
    """What a user holds now: for the bot's and web app's licence screen."""

    user_id: int
    active: tuple[Licence, ...]
    """Highest tier first."""
    trial_available: bool
    admin: bool
    features: frozenset[str]

    @property
    def tier(self) -> LicenceTier | None:
        return self.active[0].tier if self.active else None

    @property
    def expires_at(self) -> int | None:
        """When the highest tier held ends."""
        return self.active[0].expires_at if self.active else None


@dataclass(frozen=True, slots=True)
class Quote:
    """What buying ``months`` of a tier would cost and do, before the user pays."""

    price: Price
    plan: GrantPlan


@dataclass(frozen=True, slots=True)
class Purchase:
    """A paid licence: the payment and the licence it granted. ``replayed``: an earlier request's result."""

    payment: Payment
    licence: Licence
    replayed: bool = False


class LicenceService:
    def __init__(
        self,
        database: Database,
        config: LicenceConfig,
        referrals: ReferralService | None = None,
        *,
        clock: Callable[[], int] = now_ms,
    ) -> None:
        """``referrals`` pays referrers their share of every licence payment (None: no referral rewards)."""
        self._db = database
        self._config = config
        self._referrals = referrals
        self._clock = clock
        self.events: EventBus[ExpiryWarning] = EventBus()
        """Expiry warnings, published by :meth:`send_expiry_warnings` for the bot to deliver."""

    @property
    def rules(self) -> LicenceRules:
        return self._config.rules

    def prices(self) -> list[Price]:
        """Every tier × period on sale, with its discount."""
        return self._config.prices.all()

    def price(self, tier: LicenceTier | str, months: int) -> Price:
        return self._config.prices.price(paid_tier(tier), months)

    # --- reading ---------------------------------------------------------------------------------

    async def current(self, user_id: int) -> LicenceStatus:
        now = self._clock()
        async with self._db.reading() as tx:
            standing = await self._standing(tx, user_id, now)
            had_trial = await tx.licences.had_trial(user_id)
        features = frozenset().union(*(self.rules.features(licence.tier) for licence in standing.active))
        return LicenceStatus(user_id, standing.active, not had_trial, standing.admin, features)

    async def history(self, user_id: int) -> list[Licence]:
        """Every licence the user held, oldest first."""
        async with self._db.reading() as tx:
            await require_user(tx, user_id)
            return await tx.licences.for_user(user_id)

    async def quote(self, user_id: int, tier: LicenceTier | str, months: int) -> Quote:
        price = self.price(tier, months)
        now = self._clock()
        async with self._db.reading() as tx:
            standing = await self._standing(tx, user_id, now)
        return Quote(price, plan_grant(standing.active, price.tier, price.days, now, self._config.prices))

    async def allows(self, user_id: int, strategy: str, target: Target) -> Decision:
        """The licence check for the interfaces and the engine: may the user trade ``strategy`` on ``target`` now?"""
        now = self._clock()
        async with self._db.reading() as tx:
            standing = await self._standing(tx, user_id, now)
        return standing.decide(self.rules, strategy, target)

    async def has_feature(self, user_id: int, feature: str) -> bool:
        """An enterprise extra the operator configured (``ELCARO_LICENCE_ENTERPRISE_FEATURES``); admins have all."""
        status = await self.current(user_id)
        return status.admin or feature in status.features

    async def book(self, tx: UnitOfWork, user_ids: Collection[int], now: int) -> LicencePolicy:
        """The licence policy for ``user_ids`` as they stand at ``now``, read in the caller's transaction.

        Copy trading's gates ask it synchronously; one query however many users.
        """
        holders = await tx.licences.holders(user_ids)
        standings = [
            Standing.of(holder.user_id, holder.licences, now, admin=holder.admin) for holder in holders.values()
        ]
        return LicenceBook(self.rules, standings)

    async def licences_expiring(self, within_ms: int) -> list[Licence]:
        """Active licences that end within ``within_ms`` from now, soonest first."""
        if within_ms <= 0:
            raise ValidationError(f"a positive time span, got {within_ms} ms", field="within_ms")
        async with self._db.reading() as tx:
            return await tx.licences.expiring(self._clock(), within_ms)

    async def promos(self, *, limit: int = 100) -> list[PromoCode]:
        async with self._db.reading() as tx:
            return await tx.promo_codes.list(limit=limit)

    # --- a user's own requests ---------------------------------------------------------------------

    async def start_trial(self, user_id: int) -> Licence:
        """The trial, once per user (refused with ConflictError the second time, whoever asks and however fast)."""
        now = self._clock()

        async def work(tx: UnitOfWork) -> Licence:
            await tx.licences.lock_holder(user_id)
            if await tx.licences.had_trial(user_id):
                raise ConflictError("the trial is once per user, and this user has had it")
            licence = await self.grant_in(
                tx, user_id, LicenceTier.TRIAL, self._config.trial_days, source=LicenceSource.TRIAL, now=now
            )
            if not await tx.licences.record_trial(user_id, licence.id, now=now):
                raise ConflictError("the trial is once per user, and this user has had it")
            await _audit(
                tx, "licence.trial", user_id, user_id, {"licence_id": licence.id, "days": self._config.trial_days}, now
            )
            return licence

        licence = await run_in_transaction(self._db, work)
        log.info("user %s started the trial (licence %s)", user_id, licence.id)
        return licence

    async def buy_with_elc(self, user_id: int, tier: LicenceTier | str, months: int, *, key: str) -> Purchase:
        """Pay ``months`` of ``tier`` from the user's ELC balance and grant it, in one database transaction.

        ``key`` is the caller's idempotency key (e.g. the bot's callback query id): the same key again returns
        the first purchase and changes nothing; with another tier or period it is refused. Insufficient
        balance is refused with nothing written. The referrer's share, if any, is paid in the same transaction.
        """
        price = self.price(tier, months)
        check_idempotency_key(key)
        payment_key = f"{user_id}:{key}"
        ledger_key = f"licence:{payment_key}"
        now = self._clock()

        async def work(tx: UnitOfWork) -> Purchase:
            await tx.licences.lock_holder(user_id)
            earlier = await tx.payments.by_key(PaymentMethod.ELC, payment_key)
            if earlier is not None:
                return await self._replayed(tx, earlier, price)
            ledger = await post_payment(
                tx,
                user_id,
                price.amount_minor,
                key=ledger_key,
                memo=f"{price.tier} licence, {months} months",
                now=now,
            )
            licence = await self.grant_in(tx, user_id, price.tier, price.days, source=LicenceSource.PURCHASE, now=now)
            payment = await tx.payments.add(
                user_id,
                PaymentMethod.ELC,
                PaymentStatus.PAID,
                amount=price_elc(price),
                currency=ELC_CURRENCY,
                tier=price.tier,
                months=months,
                now=now,
                external_id=f"ledger:{ledger.seq}",
                idempotency_key=payment_key,
                licence_id=licence.id,
                actor_user_id=user_id,
            )
            await self.reward_in(tx, user_id, price.amount_minor, payment_key=ledger_key)
            await _audit(
                tx,
                "licence.purchase",
                user_id,
                user_id,
                {"payment_id": payment.id, "tier": price.tier.value, "months": months, "ledger_seq": ledger.seq},
                now,
            )
            return Purchase(payment, licence)

        purchase = await run_in_transaction(self._db, work)
        if not purchase.replayed:
            log.info("user %s bought %s months of %s with ELC", user_id, months, price.tier)
        return purchase

    async def redeem_promo(self, user_id: int, code: str) -> Licence:
        """Grant the code's tier and days: once per user, within the code's uses and validity."""
        code = normalise_promo_code(code)
        now = self._clock()

        async def work(tx: UnitOfWork) -> Licence:
            await tx.licences.lock_holder(user_id)
            promo = await tx.promo_codes.get_by_code(code)
            if promo is None:
                raise NotFoundError(f"no promo code {code}")
            if await tx.promo_codes.redeemed_by(promo.id, user_id):
                raise ConflictError(f"you have already redeemed the promo code {code}")
            refusal = promo.refusal(now)
            if refusal is not None or not await tx.promo_codes.take_use(promo.id, now=now):
                # Read before the use was taken: a concurrent redemption may have used up the last one since.
                raise ConflictError(refusal or f"the promo code {code} has been used up")
            licence = await self.grant_in(tx, user_id, promo.tier, promo.days, source=LicenceSource.PROMO, now=now)
            await tx.promo_codes.record_redemption(promo, user_id, licence.id, now=now)
            await _audit(tx, "licence.promo", user_id, user_id, {"code": code, "licence_id": licence.id}, now)
            return licence

        return await run_in_transaction(self._db, work)

    # --- admin -------------------------------------------------------------------------------------

    async def grant(
        self, admin_id: int | None, user_id: int, tier: LicenceTier | str, days: int, reason: str
    ) -> Licence:
        """Give ``days`` of ``tier`` (any tier, the trial included) by the usual extension rules; audited."""
        tier = _tier(tier)
        reason = _reason(reason)
        _days(days)
        now = self._clock()

        async def work(tx: UnitOfWork) -> Licence:
            await require_admin(tx, admin_id)
            await tx.licences.lock_holder(user_id)
            licence = await self.grant_in(tx, user_id, tier, days, source=LicenceSource.ADMIN, now=now)
            details = {"tier": tier.value, "days": days, "reason": reason, "licence_id": licence.id}
            await _audit(tx, "licence.grant", user_id, admin_id, details, now)
            return licence

        return await run_in_transaction(self._db, work)

    async def extend(self, admin_id: int | None, user_id: int, days: int, reason: str) -> Licence:
        """Add ``days`` to the user's highest active licence; NotFoundError when none is active."""
        reason = _reason(reason)
        _days(days)
        now = self._clock()

        async def work(tx: UnitOfWork) -> Licence:
            await require_admin(tx, admin_id)
            await tx.licences.lock_holder(user_id)
            standing = await self._standing(tx, user_id, now)
            if not standing.active:
                raise NotFoundError(f"user {user_id} has no active licence to extend: grant one instead")
            current = standing.active[0]
            licence = await tx.licences.set_expiry(current.id, current.expires_at + days * DAY_MS, now=now)
            details = {"licence_id": licence.id, "days": days, "reason": reason, "expires_at": licence.expires_at}
            await _audit(tx, "licence.extend", user_id, admin_id, details, now)
            return licence

        return await run_in_transaction(self._db, work)

    async def revoke(self, admin_id: int | None, user_id: int, reason: str) -> list[Licence]:
        """End every active licence of the user now; NotFoundError when none is active.

        Open positions stay managed; only new entries stop.
        """
        reason = _reason(reason)
        now = self._clock()

        async def work(tx: UnitOfWork) -> list[Licence]:
            await require_admin(tx, admin_id)
            await tx.licences.lock_holder(user_id)
            standing = await self._standing(tx, user_id, now)
            if not standing.active:
                raise NotFoundError(f"user {user_id} has no active licence to revoke")
            revoked = [await tx.licences.revoke(licence.id, reason, now=now) for licence in standing.active]
            details = {"licence_ids": [licence.id for licence in revoked], "reason": reason}
            await _audit(tx, "licence.revoke", user_id, admin_id, details, now)
            return revoked

        return await run_in_transaction(self._db, work)

    async def create_promo(
        self,
        admin_id: int | None,
        code: str,
        tier: LicenceTier | str,
        days: int,
        max_uses: int,
        valid_until: int | None = None,
    ) -> PromoCode:
        """A promo code (letters, digits, ``-``, ``_``; compared without case). ConflictError when it exists."""
        code = check_promo_code(normalise_promo_code(code))
        tier = _tier(tier)
        if not 1 <= days <= MAX_PROMO_DAYS:
            raise ValidationError(f"1 to {MAX_PROMO_DAYS} days, got {days}", field="days")
        if not 1 <= max_uses <= MAX_PROMO_USES:
            raise ValidationError(f"1 to {MAX_PROMO_USES} uses, got {max_uses}", field="max_uses")
        now = self._clock()
        if valid_until is not None and valid_until <= now:
            raise ValidationError("the code would be expired already: give a moment in the future", field="valid_until")

        async def work(tx: UnitOfWork) -> PromoCode:
            await require_admin(tx, admin_id)
            promo = await tx.promo_codes.add(
                code, tier, days=days, max_uses=max_uses, valid_until=valid_until, created_by=admin_id, now=now
            )
            details = {"tier": tier.value, "days": days, "max_uses": max_uses, "valid_until": valid_until}
            await tx.audit.add(
                AuditEntry(
                    action="licence.promo_create",
                    actor_user_id=admin_id,
                    subject=f"promo:{code}",
                    details=details,
                    at=now,
                )
            )
            return promo

        return await run_in_transaction(self._db, work)

    # --- expiry warnings ---------------------------------------------------------------------------

    async def send_expiry_warnings(self) -> list[ExpiryWarning]:
        """Publish a warning for each active licence that crossed a threshold (``licence_warn_days``) since last run.

        Each (licence, threshold, expiry) is claimed in the database first, so a warning goes out once even
        with several jobs running; extending a licence moves its expiry, and the warnings start again. When
        several thresholds were crossed at once (the job was down), only the nearest is sent. Nothing is
        claimed while nobody subscribes to :attr:`events` (a process without the bot): the warnings stay for
        the process that delivers them. Run every hour by :mod:`elcaro.services.jobs`.
        """
        thresholds = sorted(self._config.warn_days)
        if not thresholds or not self.events.subscribers:
            return []
        now = self._clock()
        warnings: list[ExpiryWarning] = []
        async with self._db.transaction() as tx:
            for licence in await tx.licences.expiring(now, thresholds[-1] * DAY_MS):
                remaining = licence.expires_at - now
                due = [days for days in thresholds if remaining <= days * DAY_MS]
                claimed = [
                    days
                    for days in due
                    if await tx.licences.claim_warning(licence.id, days, licence.expires_at, now=now)
                ]
                if claimed:
                    warnings.append(
                        ExpiryWarning(licence.id, licence.user_id, licence.tier, licence.expires_at, min(claimed))
                    )
        for warning in warnings:
            self.events.publish(warning)
        if warnings:
            log.info("sent %s licence expiry warnings", len(warnings))
        return warnings

    # --- in-transaction API for the payment service ------------------------------------------------

    async def grant_in(
        self, tx: UnitOfWork, user_id: int, tier: LicenceTier, days: int, *, source: LicenceSource, now: int
    ) -> Licence:
        """Apply a grant inside ``tx``; the caller holds the user's lock (``tx.licences.lock_holder``)."""
        licences = await tx.licences.for_user(user_id)
        plan = plan_grant(licences, tier, days, now, self._config.prices)
        for ended in plan.ends:
            await tx.licences.set_expiry(ended.id, now, now=now)
        if plan.extend is not None:
            return await tx.licences.set_expiry(plan.extend.id, plan.expires_at, now=now)
        return await tx.licences.add(
            user_id, tier, source, starts_at=plan.starts_at, expires_at=plan.expires_at, now=now
        )

    async def reward_in(self, tx: UnitOfWork, user_id: int, paid_minor: int, *, payment_key: str) -> None:
        """Pay the user's referrer their share of a licence payment worth ``paid_minor`` ELC, inside ``tx``."""
        if self._referrals is not None and paid_minor > 0:
            await self._referrals.reward_for_payment(tx, user_id, paid_minor, payment_key=payment_key)

    async def _standing(self, tx: UnitOfWork, user_id: int, now: int) -> Standing:
        holder = (await tx.licences.holders([user_id])).get(user_id)
        if holder is None:
            raise NotFoundError(f"no user with id {user_id}")
        return Standing.of(user_id, holder.licences, now, admin=holder.admin)

    @staticmethod
    async def _replayed(tx: UnitOfWork, earlier: Payment, price: Price) -> Purchase:
        if earlier.tier is not price.tier or earlier.months != price.months:
            raise ConflictError(
                f"this key was used for {earlier.months} months of {earlier.tier}; use a new key for another purchase"
            )
        licence = await tx.licences.get(earlier.licence_id) if earlier.licence_id is not None else None
        if licence is None:  # pragma: no cover - an ELC payment is stored with its licence
            raise NotFoundError(f"payment {earlier.id} has no licence")
        return Purchase(earlier, licence, replayed=True)


def price_elc(price: Price) -> Decimal:
    """The price in ELC, exact."""
    return elc_decimal(price.amount_minor)


def _tier(value: LicenceTier | str) -> LicenceTier:
    try:
        return LicenceTier(str(value).lower())
    except ValueError:
        allowed = ", ".join(tier.value for tier in LicenceTier)
        raise ValidationError(f"unknown licence tier {value!r} (allowed: {allowed})", field="tier") from None


def _days(days: int) -> int:
    if not 1 <= days <= MAX_PROMO_DAYS:
        raise ValidationError(f"1 to {MAX_PROMO_DAYS} days, got {days}", field="days")
    return days


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason or len(reason) > MAX_REASON:
        raise ValidationError(f"give a reason of 1 to {MAX_REASON} characters", field="reason")
    return reason


async def _audit(
    tx: UnitOfWork, action: str, user_id: int, actor_id: int | None, details: dict[str, Any], now: int
) -> None:
    await tx.audit.add(
        AuditEntry(action=action, actor_user_id=actor_id, subject=f"user:{user_id}", details=details, at=now)
    )
