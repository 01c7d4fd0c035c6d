"""One transaction, with every repository working inside it."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from elcaro.storage.repositories import (
    AuditRepository,
    CandlesRepository,
    CredentialsRepository,
    CustomParsersRepository,
    ExecutionsRepository,
    OrdersRepository,
    PaperVenuesRepository,
    PositionsRepository,
    SettingsRepository,
    SignalSourcesRepository,
    SignalsRepository,
    SystemFlagsRepository,
    TradesRepository,
    UsersRepository,
    UserTargetsRepository,
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
