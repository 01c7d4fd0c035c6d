"""Licences: which tier a user holds and until when; promo codes; licence prices.

Times are UTC epoch milliseconds. A licence is the user's continuous holding of one tier: buying the
same tier again moves its ``expires_at``; changing tier ends it (``expires_at`` becomes the moment of the
change) and starts a new one. So at any moment a user holds at most one active licence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from elcaro.models.errors import ValidationError

#: Months a licence is sold for, and the days each stands for.
PERIOD_DAYS: dict[int, int] = {1: 30, 3: 90, 6: 180, 12: 365}

PROMO_CODE_PATTERN = re.compile(r"^[A-Z0-9][A-Z0-9_-]{2,31}$")


class LicenceTier(StrEnum):
    """In ascending order: ``rank`` compares them."""

    TRIAL = "trial"
    BASIC = "basic"
    PREMIUM = "premium"
    ENTERPRISE = "enterprise"

    @property
    def rank(self) -> int:
        return _TIER_ORDER.index(self)

    @property
    def is_paid(self) -> bool:
        return self is not LicenceTier.TRIAL


_TIER_ORDER = tuple(LicenceTier)


class LicenceSource(StrEnum):
    """How a licence began (later extensions are recorded with their payments and in the audit log)."""

    TRIAL = "trial"
    PURCHASE = "purchase"
    PROMO = "promo"
    ADMIN = "admin"


def period_days(months: int) -> int:
    """Days of a period of ``months``; a validation error names the periods on sale."""
    try:
        return PERIOD_DAYS[months]
    except KeyError:
        allowed = ", ".join(str(m) for m in PERIOD_DAYS)
        raise ValidationError(f"a licence is sold for {allowed} months, got {months}", field="months") from None


def paid_tier(value: str | LicenceTier) -> LicenceTier:
    """The tier named by ``value``, which must be one that is sold (not the trial)."""
    try:
        tier = LicenceTier(str(value).lower())
    except ValueError:
        tier = None
    if tier is None or not tier.is_paid:
        allowed = ", ".join(t.value for t in LicenceTier if t.is_paid)
        raise ValidationError(f"unknown licence tier {value!r} (allowed: {allowed})", field="tier")
    return tier


@dataclass(frozen=True, slots=True)
class Licence:
    id: int
    user_id: int
    tier: LicenceTier
    source: LicenceSource
    starts_at: int
    expires_at: int
    """Exclusive: the licence no longer counts at this moment. Earlier than planned when it was superseded."""
    created_at: int
    updated_at: int
    revoked_at: int | None = None
    revoke_reason: str | None = None

    def __post_init__(self) -> None:
        if self.expires_at < self.starts_at:
            raise ValidationError(
                f"a licence cannot expire ({self.expires_at}) before it starts ({self.starts_at})", field="expires_at"
            )

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None

    def is_active(self, now: int) -> bool:
        return not self.revoked and self.starts_at <= now < self.expires_at

    def remaining_ms(self, now: int) -> int:
        """Time left from ``now`` (all of it when it has not started yet; 0 when over or revoked)."""
        if self.revoked:
            return 0
        return max(0, self.expires_at - max(now, self.starts_at))


@dataclass(frozen=True, slots=True)
class PromoCode:
    """A code that grants ``days`` of ``tier``, at most ``max_uses`` times, each user once."""

    id: int
    code: str
    tier: LicenceTier
    days: int
    max_uses: int
    uses: int
    valid_until: int | None
    """Last moment the code can be redeemed (exclusive); None: no end."""
    created_by: int | None
    created_at: int

    def __post_init__(self) -> None:
        check_promo_code(self.code)
        if self.days < 1:
            raise ValidationError(f"a promo code grants at least 1 day, got {self.days}", field="days")
        if self.max_uses < 1:
            raise ValidationError(f"a promo code allows at least 1 use, got {self.max_uses}", field="max_uses")

    def refusal(self, now: int) -> str | None:
        """Why the code cannot be redeemed now, or None."""
        if self.valid_until is not None and now >= self.valid_until:
            return f"the promo code {self.code} has expired"
        if self.uses >= self.max_uses:
            return f"the promo code {self.code} has been used up"
        return None


def normalise_promo_code(code: str) -> str:
    """Codes are typed by people: compared without case and surrounding blanks."""
    return code.strip().upper()


def check_promo_code(code: str) -> str:
    if not PROMO_CODE_PATTERN.fullmatch(code):
        raise ValidationError(
            f"a promo code is 3 to 32 letters, digits, '-' or '_', starting with a letter or digit; got {code!r}",
            field="code",
        )
    return code


@dataclass(frozen=True, slots=True)
class Price:
    """What ``months`` of ``tier`` cost in ELC (integer minor units), after the period's discount."""

    tier: LicenceTier
    months: int
    days: int
    list_minor: int
    """Monthly price × months, before the discount."""
    discount_pct: Decimal
    amount_minor: int


@dataclass(frozen=True, slots=True)
class ExpiryWarning:
    """A licence ``threshold_days`` or less from its end; sent to its holder once per threshold and expiry."""

    licence_id: int
    user_id: int
    tier: LicenceTier
    expires_at: int
    threshold_days: int
