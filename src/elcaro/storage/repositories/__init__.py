"""One repository per aggregate. Each takes the unit of work's session and speaks only in domain models."""

from elcaro.storage.repositories.audit import AuditRepository
from elcaro.storage.repositories.candles import CandlesRepository
from elcaro.storage.repositories.credentials import CredentialsRepository, EncryptedCredential
from elcaro.storage.repositories.custom_parsers import CustomParserRecord, CustomParsersRepository
from elcaro.storage.repositories.executions import ExecutionRecord, ExecutionsRepository
from elcaro.storage.repositories.orders import OrdersRepository
from elcaro.storage.repositories.paper_venues import PaperVenuesRepository
from elcaro.storage.repositories.positions import PositionsRepository
from elcaro.storage.repositories.settings import SettingsRepository
from elcaro.storage.repositories.signal_sources import SignalSourceRecord, SignalSourcesRepository
from elcaro.storage.repositories.signals import SignalRecord, SignalsRepository
from elcaro.storage.repositories.system_flags import SystemFlagsRepository
from elcaro.storage.repositories.trades import TradesRepository
from elcaro.storage.repositories.user_targets import UserTarget, UserTargetsRepository
from elcaro.storage.repositories.users import UsersRepository

__all__ = [
    "AuditRepository",
    "CandlesRepository",
    "CredentialsRepository",
    "CustomParserRecord",
    "CustomParsersRepository",
    "EncryptedCredential",
    "ExecutionRecord",
    "ExecutionsRepository",
    "OrdersRepository",
    "PaperVenuesRepository",
    "PositionsRepository",
    "SettingsRepository",
    "SignalRecord",
    "SignalSourceRecord",
    "SignalSourcesRepository",
    "SignalsRepository",
    "SystemFlagsRepository",
    "TradesRepository",
    "UserTarget",
    "UserTargetsRepository",
    "UsersRepository",
]
