"""Users' deposit addresses and the platform's own encrypted secrets (the wallet seed)."""

from __future__ import annotations

import builtins
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from elcaro.storage.errors import translate_integrity_errors
from elcaro.storage.orm import PlatformSecretRow, WalletRow
from elcaro.storage.upsert import insert_if_absent


@dataclass(frozen=True, slots=True)
class WalletRecord:
    user_id: int
    address: str
    derivation_index: int
    created_at: int


@dataclass(frozen=True, slots=True)
class PlatformSecretRecord:
    """``value_enc`` is still encrypted; the name is the context it is bound to."""

    name: str
    value_enc: bytes
    created_at: int
    updated_at: int

    def __repr__(self) -> str:
        return f"PlatformSecretRecord(name={self.name!r})"


class WalletsRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, user_id: int) -> WalletRecord | None:
        row = await self._session.get(WalletRow, user_id)
        return None if row is None else _wallet(row)

    async def get_by_address(self, address: str) -> WalletRecord | None:
        row = await self._session.scalar(select(WalletRow).where(WalletRow.address == address))
        return None if row is None else _wallet(row)

    async def add(self, user_id: int, *, address: str, derivation_index: int, now: int) -> WalletRecord:
        """Store the user's address, or return the one already stored (two first requests may race)."""
        values = {"user_id": user_id, "address": address, "derivation_index": derivation_index, "created_at": now}
        with translate_integrity_errors(
            {
                "uq_wallets_address": f"address {address} already belongs to another user",
                "uq_wallets_derivation_index": f"derivation index {derivation_index} is already used",
            },
            missing=f"no user with id {user_id}",
        ):
            await self._session.execute(insert_if_absent(self._session, WalletRow, values, key=("user_id",)))
        stored = await self.get(user_id)
        assert stored is not None
        return stored


class PlatformSecretsRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, name: str) -> PlatformSecretRecord | None:
        row = await self._session.get(PlatformSecretRow, name)
        return None if row is None else _secret(row)

    async def add_if_absent(self, name: str, value_enc: bytes, *, now: int) -> PlatformSecretRecord:
        """Store the secret unless one of that name exists; either way return the stored one."""
        values = {"name": name, "value_enc": value_enc, "created_at": now, "updated_at": now}
        await self._session.execute(insert_if_absent(self._session, PlatformSecretRow, values, key=("name",)))
        row = await self._session.scalar(
            select(PlatformSecretRow).where(PlatformSecretRow.name == name).execution_options(populate_existing=True)
        )
        assert row is not None
        return _secret(row)

    async def replace(self, name: str, value_enc: bytes, *, now: int) -> None:
        """Re-encrypted value of an existing secret (master-key rotation)."""
        await self._session.execute(
            update(PlatformSecretRow).where(PlatformSecretRow.name == name).values(value_enc=value_enc, updated_at=now)
        )

    async def list(self) -> builtins.list[PlatformSecretRecord]:
        return [
            _secret(row)
            for row in await self._session.scalars(select(PlatformSecretRow).order_by(PlatformSecretRow.name))
        ]


def _wallet(row: WalletRow) -> WalletRecord:
    return WalletRecord(row.user_id, row.address, row.derivation_index, row.created_at)


def _secret(row: PlatformSecretRow) -> PlatformSecretRecord:
    return PlatformSecretRecord(row.name, row.value_enc, row.created_at, row.updated_at)
