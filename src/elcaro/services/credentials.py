"""Exchange credentials: validated, encrypted before they reach storage, never shown back."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from elcaro.core.clock import now_ms
from elcaro.core.secrets import Keyring
from elcaro.models import AuditEntry, CredentialInfo, Exchange, ExchangeKeys, Secret, Target
from elcaro.models.errors import NotFoundError, ValidationError
from elcaro.services.users import require_user
from elcaro.storage import Database, UnitOfWork

log = logging.getLogger(__name__)

_ALNUM = re.compile(r"[A-Za-z0-9]+")
_HEX64 = re.compile(r"(?:0x)?[0-9a-fA-F]{64}")
_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")
_SECP256K1_ORDER = int("FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141", 16)
_LABEL = re.compile(r"[\w .-]{1,32}")

SECRET_FIELDS = ("api_key", "api_secret", "private_key")


def secret_context(field: str) -> str:
    """Associated data for a credential column: a blob copied into another column will not decrypt."""
    return f"credential:{field}"


@dataclass(frozen=True, slots=True)
class _Shape:
    """What a venue's credentials look like: an HMAC key pair (length ranges), or a wallet key."""

    help: str
    key_lengths: tuple[int, int] = (0, 0)
    secret_lengths: tuple[int, int] = (0, 0)
    wallet: bool = False


_SHAPES = {
    # Bybit system-generated HMAC keys: an 18-character key and a 36-character secret.
    Exchange.BYBIT: _Shape("Bybit: API key (18 letters/digits) and secret (36)", (16, 24), (30, 48)),
    # Binance HMAC keys: 64 letters/digits each.
    Exchange.BINANCE: _Shape("Binance: API key and secret, 64 letters/digits each", (64, 64), (64, 64)),
    # HyperLiquid: an agent (API wallet) private key signs for the main wallet address.
    Exchange.HYPERLIQUID: _Shape(
        "HyperLiquid: API wallet private key (64 hex digits) and main wallet address (0x + 40 hex)", wallet=True
    ),
}


def validate_keys(target: Target, keys: ExchangeKeys) -> ExchangeKeys:
    """Check the shape of keys for ``target`` and return them trimmed; explain what was expected."""
    if not target.needs_credentials:
        raise ValidationError("paper trading runs on the local simulator and needs no keys", field="target")
    shape = _SHAPES[target.exchange]

    def text(secret: Secret | None) -> str:
        return secret.reveal().strip() if secret is not None else ""

    api_key, api_secret, private_key = text(keys.api_key), text(keys.api_secret), text(keys.private_key)
    wallet = (keys.wallet_address or "").strip()
    if shape.wallet:
        if api_key or api_secret:
            raise ValidationError(f"{shape.help}; no API key or secret", field="api_key")
        if not _HEX64.fullmatch(private_key) or not 0 < int(private_key.removeprefix("0x"), 16) < _SECP256K1_ORDER:
            raise ValidationError(f"not a valid private key. {shape.help}", field="private_key")
        if not _ADDRESS.fullmatch(wallet):
            raise ValidationError(f"not a wallet address. {shape.help}", field="wallet_address")
        return ExchangeKeys(private_key=Secret(private_key.removeprefix("0x").lower()), wallet_address=wallet)
    if private_key or wallet:
        raise ValidationError(f"{shape.help}; no private key or wallet address", field="private_key")
    for name, value, lengths in (
        ("api_key", api_key, shape.key_lengths),
        ("api_secret", api_secret, shape.secret_lengths),
    ):
        if not (_ALNUM.fullmatch(value) and lengths[0] <= len(value) <= lengths[1]):
            raise ValidationError(f"does not look like a key ({len(value)} characters). {shape.help}", field=name)
    return ExchangeKeys(api_key=Secret(api_key), api_secret=Secret(api_secret))


def _check_label(label: str) -> str:
    label = label.strip()
    if not _LABEL.fullmatch(label):
        raise ValidationError("1–32 letters, digits, spaces, dots, dashes or underscores", field="label")
    return label


class CredentialService:
    def __init__(self, database: Database, keyring: Keyring) -> None:
        self._db = database
        self._keyring = keyring

    async def save(self, user_id: int, target: Target, keys: ExchangeKeys, *, label: str = "main") -> CredentialInfo:
        """Add credentials for ``target``, or replace those under the same label."""
        keys = validate_keys(target, keys)
        label = _check_label(label)
        shown = keys.wallet_address or (keys.api_key.reveal() if keys.api_key else "")
        async with self._db.transaction() as tx:
            await require_user(tx, user_id)
            info = await tx.credentials.upsert(
                user_id,
                target,
                label,
                api_key=self._seal(keys.api_key, "api_key"),
                api_secret=self._seal(keys.api_secret, "api_secret"),
                private_key=self._seal(keys.private_key, "private_key"),
                wallet_address=keys.wallet_address,
                key_hint=shown[-4:] or None,
                now=now_ms(),
            )
            await self._audit(tx, "credentials.save", user_id, {"target": str(target), "label": label, "id": info.id})
        log.info("user %s saved credentials %s for %s", user_id, info.id, target)
        return info

    async def list_for_user(self, user_id: int) -> list[CredentialInfo]:
        async with self._db.transaction() as tx:
            return await tx.credentials.list_for_user(user_id)

    async def delete(self, user_id: int, credential_id: int) -> None:
        async with self._db.transaction() as tx:
            stored = await tx.credentials.get(credential_id)
            if stored is None or stored.user_id != user_id:
                raise NotFoundError(f"user {user_id} has no credentials with id {credential_id}")
            await tx.credentials.delete(credential_id)
            await self._audit(tx, "credentials.delete", user_id, {"id": credential_id, "target": str(stored.target)})

    async def keys_for(self, user_id: int, target: Target, *, label: str | None = None) -> ExchangeKeys:
        """Decrypt the keys the exchange layer needs to act for ``user_id`` on ``target``."""
        async with self._db.transaction() as tx:
            stored = await tx.credentials.find(user_id, target, label)
        if stored is None:
            raise NotFoundError(f"user {user_id} has no API keys for {target}")
        return ExchangeKeys(
            api_key=self._open(stored.api_key, "api_key"),
            api_secret=self._open(stored.api_secret, "api_secret"),
            private_key=self._open(stored.private_key, "private_key"),
            wallet_address=stored.wallet_address,
        )

    async def mark_verified(self, credential_id: int) -> None:
        async with self._db.transaction() as tx:
            await tx.credentials.mark_verified(credential_id, now_ms())

    def _seal(self, secret: Secret | None, name: str) -> bytes | None:
        return self._keyring.encrypt(secret.reveal(), context=secret_context(name)) if secret else None

    def _open(self, blob: bytes | None, name: str) -> Secret | None:
        return Secret(self._keyring.decrypt(blob, context=secret_context(name))) if blob is not None else None

    @staticmethod
    async def _audit(tx: UnitOfWork, action: str, user_id: int, details: dict[str, object]) -> None:
        await tx.audit.add(
            AuditEntry(action=action, actor_user_id=user_id, subject=f"user:{user_id}", details=details, at=now_ms())
        )
