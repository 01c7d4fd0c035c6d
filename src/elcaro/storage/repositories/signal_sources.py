"""The configured signal sources: channels, webhooks, the engine, manual posts."""

from __future__ import annotations

import builtins
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from elcaro.models.signal import SignalSource, SourceKind
from elcaro.storage.orm import SignalSourceRow
from elcaro.storage.upsert import upsert


@dataclass(frozen=True, slots=True)
class SignalSourceRecord:
    """``strategy`` is None when the parser decides; ``secret_enc`` is a webhook's secret, still encrypted."""

    id: int
    source: SignalSource
    strategy: str | None
    secret_enc: bytes | None
    max_lag_s: int | None
    enabled: bool
    created_at: int

    def __repr__(self) -> str:
        # Ciphertext is not a secret by itself, but it has no business in logs either.
        return (
            f"SignalSourceRecord(id={self.id}, source={self.source}, strategy={self.strategy!r}, "
            f"enabled={self.enabled})"
        )


class SignalSourcesRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def upsert(
        self,
        kind: SourceKind,
        ref: str,
        *,
        strategy: str | None,
        secret_enc: bytes | None,
        max_lag_s: int | None,
        enabled: bool,
        now: int,
    ) -> SignalSourceRecord:
        """Add the source or replace its settings (every one is given, so a secret is never dropped by omission)."""
        values = {
            "kind": SourceKind(kind),
            "ref": ref,
            "strategy": strategy,
            "secret_enc": secret_enc,
            "max_lag_s": max_lag_s,
            "enabled": enabled,
            "created_at": now,
        }
        statement = upsert(self._session, SignalSourceRow, values, key=("kind", "ref"), keep=("created_at",)).returning(
            SignalSourceRow
        )
        return _record((await self._session.scalars(statement)).one())

    async def get(self, kind: SourceKind, ref: str) -> SignalSourceRecord | None:
        row = await self._session.scalar(
            select(SignalSourceRow).where(SignalSourceRow.kind == SourceKind(kind), SignalSourceRow.ref == ref)
        )
        return None if row is None else _record(row)

    async def list(self) -> builtins.list[SignalSourceRecord]:
        """Enabled or not, oldest first."""
        rows = await self._session.scalars(select(SignalSourceRow).order_by(SignalSourceRow.id))
        return [_record(row) for row in rows]

    async def delete(self, source_id: int) -> bool:
        statement = delete(SignalSourceRow).where(SignalSourceRow.id == source_id).returning(SignalSourceRow.id)
        return (await self._session.execute(statement)).scalar_one_or_none() is not None


def _record(row: SignalSourceRow) -> SignalSourceRecord:
    return SignalSourceRecord(
        id=row.id,
        source=SignalSource(row.kind, row.ref),
        strategy=row.strategy,
        secret_enc=row.secret_enc,
        max_lag_s=row.max_lag_s,
        enabled=row.enabled,
        created_at=row.created_at,
    )
