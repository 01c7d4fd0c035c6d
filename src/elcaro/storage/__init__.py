"""The only layer that talks to the database. Everything above it sees domain models and ``Database``."""

from elcaro.storage.backup import BackupError, backup, restore
from elcaro.storage.database import Database
from elcaro.storage.migrate import current, current_async, downgrade, downgrade_async, upgrade, upgrade_async
from elcaro.storage.orm import SignalStatus
from elcaro.storage.repositories import EncryptedCredential, SignalRecord
from elcaro.storage.unit_of_work import UnitOfWork

__all__ = [
    "BackupError",
    "Database",
    "EncryptedCredential",
    "SignalRecord",
    "SignalStatus",
    "UnitOfWork",
    "backup",
    "current",
    "current_async",
    "downgrade",
    "downgrade_async",
    "restore",
    "upgrade",
    "upgrade_async",
]
