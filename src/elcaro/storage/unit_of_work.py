"""One transaction, with every repository working inside it."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from elcaro.storage.repositories import (
    AuditRepository,
    CandlesRepository,
    CredentialsRepository,
    CustomParsersRepository,
    EquityRepository,
    ExecutionsRepository,
    LedgerRepository,
    LicencesRepository,
    OrdersRepository,
    PaperVenuesRepository,
    PaymentsRepository,
    PlatformSecretsRepository,
    PositionsRepository,
    PromoCodesRepository,
    ReferralsRepository,
    SettingsRepository,
    SignalSourcesRepository,
    SignalsRepository,
    SystemFlagsRepository,
    TradesRepository,
    UsersRepository,
    UserTargetsRepository,
    WalletsRepository,
    WebSessionsRepository,
)


class UnitOfWork:
    """What ``Database.transaction()`` yields: all of it is committed together or not at all."""

    def __init__(self, session: AsyncSession) -> None:
        self.users = UsersRepository(session)
        self.credentials = CredentialsRepository(session)
        self.settings = SettingsRepository(session)
        self.audit = AuditRepository(session)
        self.signals = SignalsRepository(session)
        self.orders = OrdersRepository(session)
        self.positions = PositionsRepository(session)
        self.trades = TradesRepository(session)
        self.candles = CandlesRepository(session)
        self.paper_venues = PaperVenuesRepository(session)
        self.executions = ExecutionsRepository(session)
        self.user_targets = UserTargetsRepository(session)
        self.system_flags = SystemFlagsRepository(session)
        self.signal_sources = SignalSourcesRepository(session)
        self.custom_parsers = CustomParsersRepository(session)
        self.ledger = LedgerRepository(session)
        self.referrals = ReferralsRepository(session)
        self.wallets = WalletsRepository(session)
        self.platform_secrets = PlatformSecretsRepository(session)
        self.licences = LicencesRepository(session)
        self.promo_codes = PromoCodesRepository(session)
        self.payments = PaymentsRepository(session)
        self.web_sessions = WebSessionsRepository(session)
        self.equity = EquityRepository(session)
