"""The only layer that talks to the database. Everything above it sees domain models and ``Database``."""

from elcaro.storage.backup import BackupError, backup, restore
from elcaro.storage.database import Database
from elcaro.storage.migrate import current, current_async, downgrade, downgrade_async, upgrade, upgrade_async
from elcaro.storage.orm import ExecutionStatus, SignalStatus
from elcaro.storage.repositories import (
    CustomParserRecord,
    CustomParsersRepository,
    EncryptedCredential,
    ExecutionRecord,
    ExecutionsRepository,
    SignalRecord,
    SignalSourceRecord,
    SignalSourcesRepository,
    SystemFlagsRepository,
    UserTarget,
    UserTargetsRepository,
)
from elcaro.storage.unit_of_work import UnitOfWork

__all__ = [
    "BackupError",
    "CustomParserRecord",
    "CustomParsersRepository",
    "Database",
    "EncryptedCredential",
    "ExecutionRecord",
    "ExecutionStatus",
    "ExecutionsRepository",
    "SignalRecord",
    "SignalSourceRecord",
    "SignalSourcesRepository",
    "SignalStatus",
    "SystemFlagsRepository",
    "UnitOfWork",
    "UserTarget",
    "UserTargetsRepository",
    "backup",
    "current",
    "current_async",
    "downgrade",
    "downgrade_async",
    "restore",
    "upgrade",
    "upgrade_async",
]
