"""Licences, payments, the ELC wallet and referrals."""

from __future__ import annotations

from decimal import Decimal

from pydantic import Field

from elcaro.models import User
from elcaro.models.ledger import LedgerTransaction, format_elc
from elcaro.services.licences import MAX_PROMO_DAYS, MAX_PROMO_USES, LicenceStatus
from elcaro.web.schemas.common import Body, EpochMs, Id, Model


class LicenceOut(Model):
    id: int
    tier: str
    source: str
    starts_at: int
    expires_at: int
    revoked_at: int | None


class LicenceStatusOut(Model):
    tier: str | None
    expires_at: int | None
    active: list[LicenceOut]
    trial_available: bool
    admin: bool
    features: list[str]

    @classmethod
    def of(cls, status: LicenceStatus) -> LicenceStatusOut:
        return cls(
            tier=None if status.tier is None else status.tier.value,
            expires_at=status.expires_at,
            active=[LicenceOut.model_validate(licence) for licence in status.active],
            trial_available=status.trial_available,
            admin=status.admin,
            features=sorted(status.features),
        )


class PriceOut(Model):
    tier: str
    months: int
    days: int
    list_elc: str
    discount_pct: Decimal
    amount_elc: str


class BuyIn(Body):
    tier: str = Field(max_length=16)
    months: int = Field(ge=1, le=12)
    key: str = Field(
        min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_-]+$", description="Idempotency key chosen by the client."
    )


class PromoIn(Body):
    code: str = Field(min_length=1, max_length=64)


class PaymentOut(Model):
    id: int
    user_id: int
    method: str
    status: str
    amount: Decimal
    currency: str
    tier: str
    months: int
    created_at: int
    updated_at: int
    reference: str | None
    licence_id: int | None
    reason: str | None


class PaymentEventOut(Model):
    """One status change; the first (``from_status`` null) is when the payment was recorded."""

    from_status: str | None
    to_status: str
    at: int
    actor_user_id: int | None
    note: str | None


class PaymentReviewOut(Model):
    payment: PaymentOut
    licence: LicenceOut | None
    """The licence an approval granted or extended."""
    events: list[PaymentEventOut]


class UserLicencesOut(Model):
    current: LicenceStatusOut
    history: list[LicenceOut]


class PurchaseOut(Model):
    payment: PaymentOut
    licence: LicenceOut | None
    replayed: bool


class InvoiceIn(Body):
    tier: str = Field(max_length=16)
    months: int = Field(ge=1, le=12)


class CryptoInvoiceOut(Model):
    payment_id: int
    invoice_id: str
    asset: str
    amount: Decimal
    pay_url: str
    expires_at: int | None


class DeclareIn(Body):
    tier: str = Field(max_length=16)
    months: int = Field(ge=1, le=12)
    amount: Decimal = Field(gt=0)
    currency: str = Field(min_length=2, max_length=16)
    reference: str = Field(min_length=1, max_length=500)


class ReviewIn(Body):
    note: str | None = Field(None, max_length=500)


class RejectIn(Body):
    reason: str = Field(min_length=1, max_length=500)


class GrantIn(Body):
    tier: str = Field(max_length=16, description="`trial`, `basic`, `premium` or `enterprise`.")
    days: int = Field(ge=1, le=MAX_PROMO_DAYS)
    reason: str = Field(min_length=1, max_length=500, description="Kept in the audit log.")


class ExtendIn(Body):
    days: int = Field(ge=1, le=MAX_PROMO_DAYS)
    reason: str = Field(min_length=1, max_length=500, description="Kept in the audit log.")


class RevokeIn(Body):
    reason: str = Field(min_length=1, max_length=500)


class PromoCreateIn(Body):
    code: str = Field(min_length=3, max_length=32)
    tier: str = Field(max_length=16)
    days: int = Field(ge=1, le=MAX_PROMO_DAYS)
    max_uses: int = Field(ge=1, le=MAX_PROMO_USES)
    valid_until: EpochMs | None = Field(None, description="Last moment it can be redeemed (epoch ms); none: no end.")


class PromoOut(Model):
    id: int
    code: str
    tier: str
    days: int
    max_uses: int
    uses: int
    valid_until: int | None
    created_at: int


class WalletOut(Model):
    available_elc: str
    locked_elc: str
    total_elc: str
    deposit_address: str


class TransferIn(Body):
    to_user_id: Id
    amount: str = Field(min_length=1, max_length=32, description="ELC as a decimal string, e.g. `12.5`.")
    key: str = Field(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_-]+$", description="Idempotency key.")
    memo: str | None = Field(None, max_length=200)


class LedgerTxOut(Model):
    seq: int
    kind: str
    created_at: int
    amount_elc: str
    """This user's change (negative: paid out), both of their accounts together."""
    memo: str | None
    reference: str | None

    @classmethod
    def of(cls, tx: LedgerTransaction, user: User) -> LedgerTxOut:
        change = sum(entry.amount for entry in tx.entries if entry.account.user_id == user.id)
        return cls(
            seq=tx.seq,
            kind=str(getattr(tx.kind, "value", tx.kind)),
            created_at=tx.created_at,
            amount_elc=format_elc(change),
            memo=tx.memo,
            reference=tx.reference,
        )


class RefereeOut(Model):
    user_id: int
    username: str | None
    first_name: str | None
    approval: str
    joined_at: int
    earned_elc: str


class ReferralsOut(Model):
    referral_code: str
    referees: int
    earned_elc: str
    signup_rewards: int
    payment_rewards: int
    people: list[RefereeOut]
