"""Master-key rotation: every encrypted value re-encrypted under a new key, all or nothing."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from elcaro.core.clock import now_ms
from elcaro.core.config import Settings
from elcaro.core.secrets import Keyring, generate_key, key_source
from elcaro.models import AuditEntry
from elcaro.models.errors import ConfigError
from elcaro.services.credentials import SECRET_FIELDS, secret_context
from elcaro.services.platform import open_database
from elcaro.services.signal_sources import reencrypt_webhook_secrets
from elcaro.services.wallets import reencrypt_platform_secrets
from elcaro.storage import Database

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RotationResult:
    primary_key_id: str
    reencrypted: int
    key_file_updated: bool


async def rotate_master_key(settings: Settings) -> RotationResult:
    """Put every secret under a new master key.

    With a key file, a new key is generated and written first *beside* the old ones, then every
    blob is re-encrypted in one transaction, then the old keys are dropped from the file: a crash
    at any step leaves every secret readable. With ``ELCARO_MASTER_KEY`` the operator supplies the
    new key first in the list (``new,old``); everything is re-encrypted under it and the old key
    can then be removed from the environment.
    """
    master_key = settings.master_key.get_secret_value() if settings.master_key else None
    keys, key_file = key_source(master_key, settings.resolved_master_key_file)
    if key_file is None and len(keys) < 2:
        raise ConfigError(
            "ELCARO_MASTER_KEY holds a single key. Put a new key in front of the current one "
            "(ELCARO_MASTER_KEY=<new>,<current>) and run rotate-key again; make a new key with\n"
            '  python -c "import base64, os; print(base64.urlsafe_b64encode(os.urandom(32)).decode())"'
        )
    database = open_database(settings)
    try:
        await database.require_current_schema()
        if key_file is not None:
            keys = [generate_key(), *keys]
            key_file.write(keys)
        keyring = Keyring(keys)
        reencrypted = await _reencrypt_all(database, keyring)
    finally:
        await database.close()
    if key_file is not None:
        key_file.write(keys[:1])
    log.info("master key rotated to %s; %s secrets re-encrypted", keyring.primary_id, reencrypted)
    return RotationResult(keyring.primary_id, reencrypted, key_file is not None)


async def _reencrypt_all(database: Database, keyring: Keyring) -> int:
    changed = 0
    async with database.transaction() as tx:
        for stored in await tx.credentials.all_encrypted():
            old = {name: getattr(stored, name) for name in SECRET_FIELDS}
            new = {
                name: blob
                if blob is None or keyring.is_current(blob)
                else keyring.encrypt(keyring.decrypt(blob, context=secret_context(name)), context=secret_context(name))
                for name, blob in old.items()
            }
            if new != old:
                await tx.credentials.set_encrypted(stored.id, **new)
                changed += 1
        changed += await reencrypt_webhook_secrets(tx, keyring)
        changed += await reencrypt_platform_secrets(tx, keyring)
        await tx.audit.add(
            AuditEntry(
                action="secrets.rotate",
                actor_user_id=None,
                subject="master_key",
                details={"primary_key_id": keyring.primary_id, "secrets": changed},
                at=now_ms(),
            )
        )
    return changed
