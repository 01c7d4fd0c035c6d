"""One repository per aggregate. Each takes the unit of work's session and speaks only in domain models."""

from elcaro.storage.repositories.audit import AuditRepository
from elcaro.storage.repositories.candles import CandlesRepository
from elcaro.storage.repositories.credentials import CredentialsRepository, EncryptedCredential
from elcaro.storage.repositories.custom_parsers import CustomParserRecord, CustomParsersRepository
from elcaro.storage.repositories.equity import EquityRepository
from elcaro.storage.repositories.executions import ExecutionRecord, ExecutionsRepository
from elcaro.storage.repositories.ledger import AppendResult, CachedBalance, ChainHead, LedgerRepository
from elcaro.storage.repositories.licences import LicenceHolder, LicencesRepository, PromoCodesRepository
from elcaro.storage.repositories.orders import OrdersRepository
from elcaro.storage.repositories.paper_venues import PaperVenuesRepository
from elcaro.storage.repositories.payments import PaymentsRepository
from elcaro.storage.repositories.positions import PositionsRepository
from elcaro.storage.repositories.referrals import EarningsBySource, RefereeRecord, ReferralsRepository
from elcaro.storage.repositories.settings import SettingsRepository
from elcaro.storage.repositories.signal_sources import SignalSourceRecord, SignalSourcesRepository
from elcaro.storage.repositories.signals import SignalRecord, SignalsRepository
from elcaro.storage.repositories.system_flags import SystemFlagsRepository
from elcaro.storage.repositories.trades import TradesRepository
from elcaro.storage.repositories.user_targets import UserTarget, UserTargetsRepository
from elcaro.storage.repositories.users import UsersRepository
from elcaro.storage.repositories.wallets import (
    PlatformSecretRecord,
    PlatformSecretsRepository,
    WalletRecord,
    WalletsRepository,
)
from elcaro.storage.repositories.web_sessions import WebSessionRecord, WebSessionsRepository

__all__ = [
    "AppendResult",
    "AuditRepository",
    "CachedBalance",
    "CandlesRepository",
    "ChainHead",
    "CredentialsRepository",
    "CustomParserRecord",
    "CustomParsersRepository",
    "EarningsBySource",
    "EncryptedCredential",
    "EquityRepository",
    "ExecutionRecord",
    "ExecutionsRepository",
    "LedgerRepository",
    "LicenceHolder",
    "LicencesRepository",
    "OrdersRepository",
    "PaperVenuesRepository",
    "PaymentsRepository",
    "PlatformSecretRecord",
    "PlatformSecretsRepository",
    "PositionsRepository",
    "PromoCodesRepository",
    "RefereeRecord",
    "ReferralsRepository",
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
    "WalletRecord",
    "WalletsRepository",
    "WebSessionRecord",
    "WebSessionsRepository",
]
