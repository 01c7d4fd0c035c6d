"""Payments for licences: Telegram Stars, the crypto provider's invoices, and manual payments an admin reviews.

Every payment is a row with its status and the history of every change (``payment_events``). A payment
grants its licence in the same database transaction that marks it paid, and exactly once:

- **Stars**: :meth:`PaymentService.stars_invoice` records a pending payment and returns what the bot
  passes to ``send_invoice``; its payload names the payment, the plan, the months and a nonce.
  :meth:`pre_checkout` checks a ``pre_checkout_query`` against it (nothing written);
  :meth:`successful_stars_payment` marks it paid under Telegram's charge id, which is unique: the same
  update again returns the first result and writes nothing.
- **Crypto** (Crypto Pay): :meth:`crypto_invoice` records a pending payment, then creates the provider's
  invoice; :meth:`crypto_callback` takes the webhook's raw body and signature header, refuses a missing
  or forged signature before reading anything else, and marks the payment paid once (a replayed callback
  finds it paid and changes nothing).
- **Manual**: :meth:`declare` records what a user says they paid (a bank or crypto transfer reference) as
  pending; an admin :meth:`approve`\\ s it (the licence is granted once) or :meth:`reject`\\ s it, audited.

The referrer's share of each paid licence is paid through the ledger in the same transaction, on the
licence's ELC list price for the period (what the user would have paid in ELC).
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal

from elcaro.core.clock import now_ms
from elcaro.core.config import Settings
from elcaro.models import AuditEntry, Secret
from elcaro.models.errors import ConfigError, ConflictError, NotFoundError, ValidationError
from elcaro.models.ledger import elc_decimal
from elcaro.models.licence import Licence, LicenceSource, LicenceTier, Price
from elcaro.models.payment import (
    STARS_CURRENCY,
    CryptoInvoice,
    Payment,
    PaymentEvent,
    PaymentMethod,
    PaymentProviderError,
    PaymentStatus,
    StarsInvoice,
)
from elcaro.providers.crypto_pay import INVOICE_PAID, CryptoPayClient
from elcaro.services.licences import LicenceService
from elcaro.services.users import require_admin, require_user
from elcaro.storage import Database, UnitOfWork
from elcaro.storage.retrying import run_in_transaction

log = logging.getLogger(__name__)

_PAYLOAD_PREFIX = "lic"
_CRYPTO_PLACES = Decimal("0.00000001")
MAX_REFERENCE = 500
MAX_CURRENCY = 16


@dataclass(frozen=True, slots=True)
class PaymentConfig:
    stars_per_elc: Decimal | None = None
    """Stars asked per ELC of the price; None: Stars payments are off."""
    crypto_asset: str = "USDT"
    crypto_asset_per_elc: Decimal | None = None
    """Units of ``crypto_asset`` per ELC; None: crypto payments are off."""
    crypto_invoice_ttl_s: int = 3600

    @classmethod
    def from_settings(cls, settings: Settings) -> PaymentConfig:
        return cls(
            stars_per_elc=settings.stars_per_elc,
            crypto_asset=settings.crypto_pay_asset,
            crypto_asset_per_elc=settings.crypto_pay_asset_per_elc,
            crypto_invoice_ttl_s=settings.crypto_pay_invoice_ttl_s,
        )


@dataclass(frozen=True, slots=True)
class PaymentResult:
    """A payment as it stands and the licence it granted. ``replayed``: this request changed nothing."""

    payment: Payment
    licence: Licence | None
    replayed: bool = False


@dataclass(frozen=True, slots=True)
class _Payload:
    payment_id: int
    tier: LicenceTier
    months: int
    nonce: str

    def __str__(self) -> str:
        return f"{_PAYLOAD_PREFIX}:{self.payment_id}:{self.tier}:{self.months}:{self.nonce}"

    @classmethod
    def parse(cls, text: str) -> _Payload:
        parts = text.split(":")
        try:
            if len(parts) == 5 and parts[0] == _PAYLOAD_PREFIX:
                return cls(int(parts[1]), LicenceTier(parts[2]), int(parts[3]), parts[4])
        except ValueError:
            pass
        raise ValidationError("this invoice was not issued by the platform", field="payload")


def crypto_client_from_settings(settings: Settings) -> CryptoPayClient | None:
    """The Crypto Pay client when a token is configured."""
    if settings.crypto_pay_token is None:
        return None
    return CryptoPayClient(settings.crypto_pay_url, Secret(settings.crypto_pay_token.get_secret_value()))


class PaymentService:
    def __init__(
        self,
        database: Database,
        licences: LicenceService,
        config: PaymentConfig,
        crypto: CryptoPayClient | None = None,
        *,
        clock: Callable[[], int] = now_ms,
    ) -> None:
        self._db = database
        self._licences = licences
        self._config = config
        self._crypto = crypto
        self._clock = clock

    # --- Telegram Stars ----------------------------------------------------------------------------

    def stars_price(self, tier: LicenceTier | str, months: int) -> int:
        """Whole Stars for the plan: its ELC price × ``stars_per_elc``, rounded up."""
        per_elc = self._config.stars_per_elc
        if per_elc is None:
            raise ConfigError("Telegram Stars payments are not set up (ELCARO_STARS_PER_ELC)")
        price = self._licences.price(tier, months)
        return max(1, int((elc_decimal(price.amount_minor) * per_elc).to_integral_value(rounding=ROUND_CEILING)))

    async def stars_invoice(self, user_id: int, tier: LicenceTier | str, months: int) -> StarsInvoice:
        """Record a pending Stars payment and return the invoice for the bot to send."""
        price = self._licences.price(tier, months)
        stars = self.stars_price(price.tier, months)
        payment, payload = await self._invoiced(
            user_id, PaymentMethod.STARS, price, amount=Decimal(stars), currency=STARS_CURRENCY, now=self._clock()
        )
        return StarsInvoice(
            payment_id=payment.id,
            title=f"ElCaro {price.tier} licence",
            description=f"{months} month{'s' if months > 1 else ''} ({price.days} days) of the {price.tier} licence",
            payload=str(payload),
            currency=STARS_CURRENCY,
            amount=stars,
            label=f"{price.tier.capitalize()}, {months} mo",
        )

    async def pre_checkout(self, user_id: int, payload: str, total_amount: int, currency: str = STARS_CURRENCY) -> None:
        """Check a ``pre_checkout_query``: raise with the reason to answer ``ok=False``; return to answer ``ok=True``.

        Nothing is written.
        """
        async with self._db.reading() as tx:
            payment = await self._stars_payment(tx, user_id, payload, total_amount, currency)
        if payment.status is not PaymentStatus.PENDING:
            raise ConflictError(f"this invoice is {payment.status} already: ask for a new one")

    async def successful_stars_payment(
        self,
        user_id: int,
        payload: str,
        telegram_payment_charge_id: str,
        total_amount: int,
        currency: str = STARS_CURRENCY,
    ) -> PaymentResult:
        """Telegram took the Stars: mark the payment paid and grant the licence, once per charge id.

        A repeated update (same charge id) returns the first result and writes nothing. Money that arrives
        for an invoice already paid under another charge id is recorded as a payment of its own and
        grants its period too (the user paid twice).
        """
        charge = (telegram_payment_charge_id or "").strip()
        if not charge:
            raise ValidationError("a successful payment has a charge id", field="telegram_payment_charge_id")
        now = self._clock()

        async def work(tx: UnitOfWork) -> PaymentResult:
            done = await tx.payments.by_external_id(PaymentMethod.STARS, charge)
            if done is not None:
                return await self._replay(tx, done)
            payment = await self._stars_payment(tx, user_id, payload, total_amount, currency, lock=True)
            if payment.status is not PaymentStatus.PENDING:
                payment = await tx.payments.add(
                    user_id,
                    PaymentMethod.STARS,
                    PaymentStatus.PENDING,
                    amount=payment.amount,
                    currency=payment.currency,
                    tier=payment.tier,
                    months=payment.months,
                    now=now,
                    note=f"a second payment of invoice {payment.id}",
                )
            return await self._settle(tx, payment, now, external_id=charge, note="Telegram Stars")

        return await self._run_once(work, PaymentMethod.STARS, charge)

    # --- crypto provider ---------------------------------------------------------------------------

    async def crypto_invoice(self, user_id: int, tier: LicenceTier | str, months: int) -> CryptoInvoice:
        """Record a pending payment and create the provider's invoice for it; send the user to ``pay_url``.

        If the provider refuses, the payment is recorded as failed with its reason. If its answer is lost
        (the invoice may exist), the payment stays pending: a paid webhook for it still completes it.
        """
        crypto, per_elc = self._crypto, self._config.crypto_asset_per_elc
        if crypto is None or per_elc is None:
            raise ConfigError(
                "crypto payments are not set up (ELCARO_CRYPTO_PAY_TOKEN, ELCARO_CRYPTO_PAY_ASSET_PER_ELC)"
            )
        price = self._licences.price(tier, months)
        amount = (
            (elc_decimal(price.amount_minor) * per_elc).quantize(_CRYPTO_PLACES, rounding=ROUND_CEILING).normalize()
        )
        asset = self._config.crypto_asset
        now = self._clock()
        payment, payload = await self._invoiced(
            user_id, PaymentMethod.CRYPTO, price, amount=amount, currency=asset, now=now
        )
        try:
            invoice = await crypto.create_invoice(
                asset=asset,
                amount=amount,
                description=f"ElCaro {price.tier} licence, {months} months",
                payload=str(payload),
                expires_in_s=self._config.crypto_invoice_ttl_s,
            )
        except PaymentProviderError as error:
            if not error.outcome_unknown:
                async with self._db.transaction() as tx:
                    await tx.payments.move(
                        payment.id, PaymentStatus.PENDING, PaymentStatus.FAILED, now=self._clock(), reason=str(error)
                    )
            raise
        async with self._db.transaction() as tx:
            await tx.payments.set_provider_invoice(payment.id, invoice.invoice_id, invoice.pay_url, now=self._clock())
        return CryptoInvoice(
            payment_id=payment.id,
            invoice_id=invoice.invoice_id,
            asset=asset,
            amount=amount,
            pay_url=invoice.pay_url,
            expires_at=now + self._config.crypto_invoice_ttl_s * 1000,
        )

    async def crypto_callback(self, raw_body: bytes, signature: str | None) -> PaymentResult | None:
        """Handle a provider webhook: ``raw_body`` exactly as received, ``signature`` its signature header.

        A missing or forged signature is refused (PermissionDeniedError) before anything is read or written.
        Updates other than a paid invoice are acknowledged and ignored (None). A paid invoice marks its
        payment paid and grants the licence; the same callback again changes nothing (``replayed``).
        """
        crypto = self._crypto
        if crypto is None:
            raise ConfigError("crypto payments are not set up (ELCARO_CRYPTO_PAY_TOKEN)")
        crypto.verify(raw_body, signature)
        update = crypto.parse_update(raw_body)
        if update.update_type != INVOICE_PAID:
            log.info("crypto provider update %s of type %s ignored", update.update_id, update.update_type)
            return None
        invoice = update.invoice
        if invoice.status != "paid":
            raise ValidationError(f"an invoice_paid update for an invoice that is {invoice.status}", field="status")
        payload = _Payload.parse(invoice.payload or "")
        now = self._clock()

        async def work(tx: UnitOfWork) -> PaymentResult:
            payment = await tx.payments.get(payload.payment_id, lock=True)
            if (
                payment is None
                or payment.method is not PaymentMethod.CRYPTO
                or payment.idempotency_key != payload.nonce
            ):
                raise NotFoundError("the paid invoice names no payment of the platform")
            if payment.external_id not in (None, invoice.invoice_id):
                raise ConflictError(
                    f"payment {payment.id} belongs to invoice {payment.external_id}, not {invoice.invoice_id}"
                )
            if (payment.tier, payment.months) != (payload.tier, payload.months):
                raise ValidationError("the invoice's plan does not match the payment's", field="payload")
            if invoice.asset != payment.currency or invoice.amount != payment.amount:
                raise ValidationError(
                    f"the invoice is for {invoice.amount} {invoice.asset}, "
                    f"the payment for {payment.amount} {payment.currency}",
                    field="amount",
                )
            if payment.status is PaymentStatus.PAID:
                return await self._replay(tx, payment)
            return await self._settle(
                tx, payment, now, external_id=invoice.invoice_id, note=f"Crypto Pay update {update.update_id}"
            )

        result = await run_in_transaction(self._db, work)
        if not result.replayed:
            log.info("crypto payment %s paid: licence %s", result.payment.id, result.payment.licence_id)
        return result

    # --- manual payments ---------------------------------------------------------------------------

    async def declare(
        self,
        user_id: int,
        tier: LicenceTier | str,
        months: int,
        *,
        amount: Decimal,
        currency: str,
        reference: str,
    ) -> Payment:
        """A user says they paid (bank or crypto transfer): recorded as pending for an admin to review."""
        price = self._licences.price(tier, months)
        reference = (reference or "").strip()
        if not reference or len(reference) > MAX_REFERENCE:
            raise ValidationError(f"quote the transfer's reference, 1 to {MAX_REFERENCE} characters", field="reference")
        currency = (currency or "").strip().upper()
        if not currency or len(currency) > MAX_CURRENCY or not currency.isalnum():
            raise ValidationError(f"a currency code of 1 to {MAX_CURRENCY} letters or digits", field="currency")
        if not amount.is_finite() or amount <= 0:
            raise ValidationError(f"a positive amount, got {amount}", field="amount")
        now = self._clock()
        payment = await self._pending(
            user_id, PaymentMethod.MANUAL, price, amount=amount, currency=currency, now=now, reference=reference
        )
        log.info("user %s declared a manual payment %s", user_id, payment.id)
        return payment

    async def approve(self, admin_id: int | None, payment_id: int, note: str | None = None) -> PaymentResult:
        """Mark a pending manual payment paid and grant its licence, once: approving it again is refused."""
        now = self._clock()

        async def work(tx: UnitOfWork) -> PaymentResult:
            payment = await self._manual_to_review(tx, admin_id, payment_id)
            result = await self._settle(tx, payment, now, actor_id=admin_id, note=note or "approved")
            await _audit(
                tx, "payment.approve", payment, admin_id, {"note": note, "licence_id": result.payment.licence_id}, now
            )
            return result

        return await run_in_transaction(self._db, work)

    async def reject(self, admin_id: int | None, payment_id: int, reason: str) -> Payment:
        reason = (reason or "").strip()
        if not reason or len(reason) > MAX_REFERENCE:
            raise ValidationError(f"give a reason of 1 to {MAX_REFERENCE} characters", field="reason")
        now = self._clock()

        async def work(tx: UnitOfWork) -> Payment:
            payment = await self._manual_to_review(tx, admin_id, payment_id)
            rejected = await tx.payments.move(
                payment.id,
                PaymentStatus.PENDING,
                PaymentStatus.REJECTED,
                now=now,
                actor_user_id=admin_id,
                note=reason,
                reason=reason,
            )
            await _audit(tx, "payment.reject", payment, admin_id, {"reason": reason}, now)
            return rejected

        return await run_in_transaction(self._db, work)

    # --- reading -----------------------------------------------------------------------------------

    async def get(self, payment_id: int) -> Payment:
        async with self._db.reading() as tx:
            payment = await tx.payments.get(payment_id)
        if payment is None:
            raise NotFoundError(f"no payment with id {payment_id}")
        return payment

    async def payments_for(self, user_id: int, *, limit: int = 100) -> list[Payment]:
        """Newest first."""
        async with self._db.reading() as tx:
            await require_user(tx, user_id)
            return await tx.payments.for_user(user_id, limit=limit)

    async def pending(self, *, method: PaymentMethod | None = PaymentMethod.MANUAL, limit: int = 100) -> list[Payment]:
        """Payments waiting, oldest first: by default the manual ones an admin has to review."""
        async with self._db.reading() as tx:
            return await tx.payments.list(status=PaymentStatus.PENDING, method=method, limit=limit)

    async def recent(self, *, limit: int = 100) -> list[Payment]:
        """Every method and status, newest first."""
        async with self._db.reading() as tx:
            return await tx.payments.list(limit=limit)

    async def history(self, payment_id: int) -> list[PaymentEvent]:
        """Every status the payment took, in order."""
        async with self._db.reading() as tx:
            return await tx.payments.events(payment_id)

    # --- recording -----------------------------------------------------------------------------------

    async def _pending(
        self,
        user_id: int,
        method: PaymentMethod,
        price: Price,
        *,
        amount: Decimal,
        currency: str,
        now: int,
        idempotency_key: str | None = None,
        reference: str | None = None,
    ) -> Payment:
        """Record, in a transaction of its own, a pending payment by the user for ``price``'s plan."""
        async with self._db.transaction() as tx:
            await require_user(tx, user_id)
            return await tx.payments.add(
                user_id,
                method,
                PaymentStatus.PENDING,
                amount=amount,
                currency=currency,
                tier=price.tier,
                months=price.months,
                now=now,
                idempotency_key=idempotency_key,
                reference=reference,
                actor_user_id=user_id,
            )

    async def _invoiced(
        self, user_id: int, method: PaymentMethod, price: Price, *, amount: Decimal, currency: str, now: int
    ) -> tuple[Payment, _Payload]:
        """A pending payment for a provider's invoice, and the payload that names it (with a nonce) in the invoice."""
        nonce = secrets.token_hex(8)
        payment = await self._pending(
            user_id, method, price, amount=amount, currency=currency, now=now, idempotency_key=nonce
        )
        return payment, _Payload(payment.id, price.tier, price.months, nonce)

    # --- inside a transaction ----------------------------------------------------------------------

    async def _stars_payment(
        self, tx: UnitOfWork, user_id: int, payload: str, total_amount: int, currency: str, *, lock: bool = False
    ) -> Payment:
        parsed = _Payload.parse(payload)
        payment = await tx.payments.get(parsed.payment_id, lock=lock)
        if payment is None or payment.method is not PaymentMethod.STARS or payment.idempotency_key != parsed.nonce:
            raise ValidationError("this invoice was not issued by the platform", field="payload")
        if payment.user_id != user_id:
            raise ValidationError("this invoice was issued to another user", field="payload")
        if (payment.tier, payment.months) != (parsed.tier, parsed.months):
            raise ValidationError("the invoice's plan does not match the payment's", field="payload")
        if currency != STARS_CURRENCY or Decimal(total_amount) != payment.amount:
            raise ValidationError(
                f"the invoice is for {payment.amount} {STARS_CURRENCY}, the payment is {total_amount} {currency}",
                field="total_amount",
            )
        return payment

    async def _settle(
        self,
        tx: UnitOfWork,
        payment: Payment,
        now: int,
        *,
        external_id: str | None = None,
        actor_id: int | None = None,
        note: str | None = None,
    ) -> PaymentResult:
        """Pending → paid with the licence granted and the referrer rewarded, all in ``tx``."""
        price: Price = self._licences.price(payment.tier, payment.months)
        await tx.licences.lock_holder(payment.user_id)
        licence = await self._licences.grant_in(
            tx, payment.user_id, payment.tier, price.days, source=LicenceSource.PURCHASE, now=now
        )
        paid = await tx.payments.move(
            payment.id,
            PaymentStatus.PENDING,
            PaymentStatus.PAID,
            now=now,
            actor_user_id=actor_id,
            note=note,
            external_id=external_id,
            licence_id=licence.id,
        )
        await self._licences.reward_in(tx, payment.user_id, price.amount_minor, payment_key=f"payment:{payment.id}")
        return PaymentResult(paid, licence)

    @staticmethod
    async def _replay(tx: UnitOfWork, payment: Payment) -> PaymentResult:
        licence = await tx.licences.get(payment.licence_id) if payment.licence_id is not None else None
        return PaymentResult(payment, licence, replayed=True)

    async def _run_once(
        self, work: Callable[[UnitOfWork], Awaitable[PaymentResult]], method: PaymentMethod, external_id: str
    ) -> PaymentResult:
        """Run ``work``; when a concurrent request stored the same provider id first, return what it stored."""
        try:
            result = await run_in_transaction(self._db, work)
        except ConflictError:
            async with self._db.transaction() as tx:
                done = await tx.payments.by_external_id(method, external_id)
                if done is None:
                    raise
                return await self._replay(tx, done)
        if not result.replayed:
            log.info("%s payment %s paid: licence %s", method, result.payment.id, result.payment.licence_id)
        return result

    @staticmethod
    async def _manual_to_review(tx: UnitOfWork, admin_id: int | None, payment_id: int) -> Payment:
        """The pending manual payment an admin approves or rejects, locked until ``tx`` ends."""
        await require_admin(tx, admin_id)
        payment = await tx.payments.get(payment_id, lock=True)
        if payment is None:
            raise NotFoundError(f"no payment with id {payment_id}")
        if payment.method is not PaymentMethod.MANUAL:
            raise ConflictError(f"payment {payment_id} is a {payment.method} payment: only manual ones are reviewed")
        if payment.status is not PaymentStatus.PENDING:
            raise ConflictError(f"payment {payment_id} is {payment.status} already")
        return payment


async def _audit(
    tx: UnitOfWork, action: str, payment: Payment, actor_id: int | None, details: dict[str, object], now: int
) -> None:
    await tx.audit.add(
        AuditEntry(
            action=action,
            actor_user_id=actor_id,
            subject=f"payment:{payment.id}",
            details={"user_id": payment.user_id, "tier": payment.tier.value, "months": payment.months, **details},
            at=now,
        )
    )
