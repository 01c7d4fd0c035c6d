"""Payments for licences, whichever way they are made, and every change of their status."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from elcaro.models.errors import ElcaroError, ValidationError
from elcaro.models.licence import LicenceTier


class PaymentMethod(StrEnum):
    ELC = "elc"
    """From the user's ELC balance, through the ledger."""
    STARS = "stars"
    """Telegram Stars (currency ``XTR``)."""
    CRYPTO = "crypto"
    """An invoice of the crypto payment provider, confirmed by its signed callback."""
    MANUAL = "manual"
    """Declared by the user (a bank or crypto transfer), approved or rejected by an admin."""


class PaymentStatus(StrEnum):
    PENDING = "pending"
    PAID = "paid"
    FAILED = "failed"
    REJECTED = "rejected"
    REFUNDED = "refunded"

    @property
    def is_final(self) -> bool:
        return self is not PaymentStatus.PENDING and self is not PaymentStatus.PAID

    def can_become(self, status: PaymentStatus) -> bool:
        return status in _TRANSITIONS[self]


_TRANSITIONS: dict[PaymentStatus, frozenset[PaymentStatus]] = {
    PaymentStatus.PENDING: frozenset({PaymentStatus.PAID, PaymentStatus.FAILED, PaymentStatus.REJECTED}),
    PaymentStatus.PAID: frozenset({PaymentStatus.REFUNDED}),
    PaymentStatus.FAILED: frozenset(),
    PaymentStatus.REJECTED: frozenset(),
    PaymentStatus.REFUNDED: frozenset(),
}

STARS_CURRENCY = "XTR"
ELC_CURRENCY = "ELC"


@dataclass(frozen=True, slots=True)
class Payment:
    """One payment for ``months`` of ``tier``. ``amount`` is in ``currency`` (ELC, XTR, USDT, ...), exact."""

    id: int
    user_id: int
    method: PaymentMethod
    status: PaymentStatus
    amount: Decimal
    currency: str
    tier: LicenceTier
    months: int
    created_at: int
    updated_at: int
    external_id: str | None = None
    """The provider's id: Telegram's charge id, the crypto invoice id, the ledger transaction."""
    idempotency_key: str | None = None
    """The caller's key (ELC purchase) or the invoice's nonce (Stars, crypto): unique per method."""
    reference: str | None = None
    """What the user quoted (a transfer reference) or where to pay (the provider's invoice link)."""
    licence_id: int | None = None
    """The licence the payment granted or extended, once paid."""
    reason: str | None = None
    """Why it failed or was rejected."""
    paid_at: int | None = None

    def __post_init__(self) -> None:
        if self.amount <= 0:
            raise ValidationError(f"a payment amount is positive, got {self.amount}", field="amount")


@dataclass(frozen=True, slots=True)
class PaymentEvent:
    """One status change of a payment (the first has ``from_status`` None: the payment was recorded)."""

    payment_id: int
    from_status: PaymentStatus | None
    to_status: PaymentStatus
    at: int
    actor_user_id: int | None = None
    note: str | None = None
    id: int | None = None


@dataclass(frozen=True, slots=True)
class StarsInvoice:
    """What the bot passes to ``send_invoice`` (with ``provider_token`` empty, as Stars require)."""

    payment_id: int
    title: str
    description: str
    payload: str
    """Names the plan, the months and the payment; checked again at pre-checkout and on success."""
    currency: str
    amount: int
    """Whole Stars (``LabeledPrice.amount``)."""
    label: str


@dataclass(frozen=True, slots=True)
class CryptoInvoice:
    """A provider invoice for a pending payment: send the user to ``pay_url``."""

    payment_id: int
    invoice_id: str
    asset: str
    amount: Decimal
    pay_url: str
    expires_at: int | None


class PaymentProviderError(ElcaroError):
    """A payment provider refused a request or could not be reached. ``code`` is the provider's own."""

    def __init__(self, message: str, *, provider: str, code: str | None = None, outcome_unknown: bool = False) -> None:
        super().__init__(message)
        self.provider = provider
        self.code = code
        self.outcome_unknown = outcome_unknown
        """The request may have reached the provider (a timeout): what it did is not known."""
