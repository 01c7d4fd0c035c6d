"""One repository per aggregate. Each takes the unit of work's session and speaks only in domain models."""

from elcaro.storage.repositories.audit import AuditRepository
from elcaro.storage.repositories.candles import CandlesRepository
from elcaro.storage.repositories.credentials import CredentialsRepository, EncryptedCredential
from elcaro.storage.repositories.orders import OrdersRepository
from elcaro.storage.repositories.paper_venues import PaperVenuesRepository
from elcaro.storage.repositories.positions import PositionsRepository
from elcaro.storage.repositories.settings import SettingsRepository
from elcaro.storage.repositories.signals import SignalRecord, SignalsRepository
from elcaro.storage.repositories.trades import TradesRepository
from elcaro.storage.repositories.users import UsersRepository

__all__ = [
    "AuditRepository",
    "CandlesRepository",
    "CredentialsRepository",
    "EncryptedCredential",
    "OrdersRepository",
    "PaperVenuesRepository",
    "PositionsRepository",
    "SettingsRepository",
    "SignalRecord",
    "SignalsRepository",
    "TradesRepository",
    "UsersRepository",
]
