"""Builders of the licence and payment tests: the services on one database, a clock the test moves."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from elcaro.models import TelegramProfile
from elcaro.models.licence import LicenceTier
from elcaro.providers.crypto_pay import CryptoPayClient
from elcaro.services.ledger import LedgerService
from elcaro.services.licences import LicenceConfig, LicenceService
from elcaro.services.payments import PaymentConfig, PaymentService
from elcaro.services.referrals import ReferralService
from elcaro.services.users import UserService
from elcaro.storage import Database
from elcaro.trading.licence import LicenceRules, PriceList

ELC = 100_000_000
T0 = 1_750_000_000_000


@dataclass
class Clock:
    now: int = T0

    def __call__(self) -> int:
        return self.now

    def advance(self, ms: int) -> None:
        self.now += ms


@dataclass
class Accounts:
    """The services under test and what they stand on."""

    database: Database
    clock: Clock
    users: UserService
    ledger: LedgerService
    referrals: ReferralService
    licences: LicenceService
    payments: PaymentService
    _telegram: list[int] = field(default_factory=lambda: [5000])

    async def user(self, *, referred_by: int | None = None, admin: bool = False) -> int:
        self._telegram[0] += 1
        code = None
        if referred_by is not None:
            code = (await self.users.get(referred_by)).referral_code
        user = await self.users.register(TelegramProfile(self._telegram[0]), referral_code=code)
        user = await (self.users.promote(user.id) if admin else self.users.approve(user.id))
        return user.id

    async def fund(self, user_id: int, elc: int) -> None:
        await self.ledger.credit_purchase(user_id, elc * ELC, key=f"fund:{user_id}:{elc}", reference="test deposit")

    async def balance(self, user_id: int) -> int:
        return (await self.ledger.balance(user_id)).available


def config(**changes: object) -> LicenceConfig:
    rules = LicenceRules(basic_strategies=frozenset({"elcaro"}), enterprise_features=frozenset({"api"}))
    prices = PriceList(
        {LicenceTier.BASIC: 25 * ELC, LicenceTier.PREMIUM: 50 * ELC, LicenceTier.ENTERPRISE: 250 * ELC},
        {1: Decimal(0), 3: Decimal(5), 6: Decimal(10), 12: Decimal(20)},
    )
    fields: dict[str, object] = {"rules": rules, "prices": prices, "trial_days": 7, "warn_days": (3, 1)}
    fields.update(changes)
    return LicenceConfig(**fields)  # type: ignore[arg-type]


def build_accounts(
    database: Database, *, payment_config: PaymentConfig | None = None, crypto: CryptoPayClient | None = None
) -> Accounts:
    clock = Clock()
    referrals = ReferralService(database, payment_percent=Decimal(10), clock=clock)
    licences = LicenceService(database, config(), referrals, clock=clock)
    payments = PaymentService(
        database,
        licences,
        payment_config or PaymentConfig(stars_per_elc=Decimal(50)),
        crypto,
        clock=clock,
    )
    return Accounts(
        database,
        clock,
        UserService(database),
        LedgerService(database, clock=clock),
        referrals,
        licences,
        payments,
    )
