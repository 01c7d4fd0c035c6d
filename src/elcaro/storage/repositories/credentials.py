"""Exchange credentials, stored encrypted. Encryption happens above this layer; only bytes arrive here."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from elcaro.models.errors import NotFoundError
from elcaro.models.target import Target
from elcaro.models.user import CredentialInfo
from elcaro.storage.errors import translate_integrity_errors
from elcaro.storage.orm import CredentialRow
from elcaro.storage.upsert import upsert


@dataclass(frozen=True, slots=True)
class EncryptedCredential:
    """A stored credential with its secrets still encrypted (for the secrets service to decrypt)."""

    id: int
    user_id: int
    target: Target
    label: str
    api_key: bytes | None
    api_secret: bytes | None
    private_key: bytes | None
    wallet_address: str | None
    key_hint: str | None
    created_at: int
    last_verified_at: int | None

    def __repr__(self) -> str:
        # Ciphertext is not a secret by itself, but it has no business in logs either.
        return f"EncryptedCredential(id={self.id}, user_id={self.user_id}, target={self.target}, label={self.label!r})"

    @property
    def info(self) -> CredentialInfo:
        return CredentialInfo(
            id=self.id,
            user_id=self.user_id,
            target=self.target,
            label=self.label,
            key_hint=self.key_hint,
            wallet_address=self.wallet_address,
            created_at=self.created_at,
            last_verified_at=self.last_verified_at,
        )


class CredentialsRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def upsert(
        self,
        user_id: int,
        target: Target,
        label: str,
        *,
        api_key: bytes | None,
        api_secret: bytes | None,
        private_key: bytes | None,
        wallet_address: str | None,
        key_hint: str | None,
        now: int,
    ) -> CredentialInfo:
        """Store new keys under ``label``, replacing the keys stored under it before (which become unverified)."""
        values = {
            "user_id": user_id,
            "exchange": target.exchange,
            "environment": target.environment,
            "label": label,
            "api_key_enc": api_key,
            "api_secret_enc": api_secret,
            "private_key_enc": private_key,
            "wallet_address": wallet_address,
            "key_hint": key_hint,
            "created_at": now,
            "last_verified_at": None,
        }
        statement = upsert(
            self._session,
            CredentialRow,
            values,
            key=("user_id", "exchange", "environment", "label"),
            keep=("created_at",),
        ).returning(CredentialRow)
        with translate_integrity_errors(missing=f"no user with id {user_id}"):
            row = (await self._session.scalars(statement)).one()
        return _credential(row).info

    async def get(self, credential_id: int) -> EncryptedCredential | None:
        row = await self._session.scalar(select(CredentialRow).where(CredentialRow.id == credential_id))
        return None if row is None else _credential(row)

    async def find(self, user_id: int, target: Target, label: str | None = None) -> EncryptedCredential | None:
        """The credential with ``label``; without one, the user's first credential for the target."""
        query = (
            select(CredentialRow)
            .where(
                CredentialRow.user_id == user_id,
                CredentialRow.exchange == target.exchange,
                CredentialRow.environment == target.environment,
            )
            .order_by(CredentialRow.id)
            .limit(1)
        )
        if label is not None:
            query = query.where(CredentialRow.label == label)
        row = await self._session.scalar(query)
        return None if row is None else _credential(row)

    async def list_for_user(self, user_id: int) -> list[CredentialInfo]:
        query = select(CredentialRow).where(CredentialRow.user_id == user_id).order_by(CredentialRow.id)
        return [_credential(row).info for row in await self._session.scalars(query)]

    async def all_encrypted(self) -> list[EncryptedCredential]:
        """Every credential of every user: what a master-key rotation re-encrypts."""
        rows = await self._session.scalars(select(CredentialRow).order_by(CredentialRow.id))
        return [_credential(row) for row in rows]

    async def set_encrypted(
        self, credential_id: int, *, api_key: bytes | None, api_secret: bytes | None, private_key: bytes | None
    ) -> None:
        """Replace the ciphertexts of the same secrets (re-encrypted under another key): still verified."""
        await self._update(credential_id, api_key_enc=api_key, api_secret_enc=api_secret, private_key_enc=private_key)

    async def mark_verified(self, credential_id: int, now: int) -> None:
        await self._update(credential_id, last_verified_at=now)

    async def delete(self, credential_id: int) -> bool:
        result = await self._session.execute(
            delete(CredentialRow).where(CredentialRow.id == credential_id).returning(CredentialRow.id)
        )
        return result.scalar_one_or_none() is not None

    async def _update(self, credential_id: int, **values: object) -> None:
        statement = (
            update(CredentialRow).where(CredentialRow.id == credential_id).values(**values).returning(CredentialRow.id)
        )
        if (await self._session.execute(statement)).scalar_one_or_none() is None:
            raise NotFoundError(f"no stored credentials with id {credential_id}")


def _credential(row: CredentialRow) -> EncryptedCredential:
    return EncryptedCredential(
        id=row.id,
        user_id=row.user_id,
        target=Target(row.exchange, row.environment),
        label=row.label,
        api_key=row.api_key_enc,
        api_secret=row.api_secret_enc,
        private_key=row.private_key_enc,
        wallet_address=row.wallet_address,
        key_hint=row.key_hint,
        created_at=row.created_at,
        last_verified_at=row.last_verified_at,
    )
