"""One transaction, with every repository working inside it."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from elcaro.storage.repositories import (
    AuditRepository,
    CandlesRepository,
    CredentialsRepository,
    OrdersRepository,
    PaperVenuesRepository,
    PositionsRepository,
    SettingsRepository,
    SignalsRepository,
    TradesRepository,
    UsersRepository,
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
