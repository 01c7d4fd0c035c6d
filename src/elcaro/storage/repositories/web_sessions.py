"""Web app logins: one row per session, holding the hash of its current refresh token.

A refresh is a compare-and-set on that hash, so of two requests presenting the same token only one
can rotate it; the other finds the hash changed, which is how reuse of a stolen token is noticed.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from elcaro.storage.orm import WebSessionRow


@dataclass(frozen=True, slots=True)
class WebSessionRecord:
    id: str
    user_id: int
    method: str
    client: str | None
    token_hash: str
    previous_hash: str | None
    generation: int
    created_at: int
    refreshed_at: int
    expires_at: int
    revoked_at: int | None
    revoked_reason: str | None

    def __repr__(self) -> str:  # the hashes are no secret, but they have no business in a log either
        return f"WebSessionRecord(id={self.id!r}, user_id={self.user_id}, generation={self.generation})"


class WebSessionsRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(
        self,
        session_id: str,
        user_id: int,
        *,
        method: str,
        client: str | None,
        token_hash: str,
        now: int,
        expires_at: int,
    ) -> WebSessionRecord:
        row = WebSessionRow(
            id=session_id,
            user_id=user_id,
            method=method,
            client=client,
            token_hash=token_hash,
            previous_hash=None,
            generation=0,
            created_at=now,
            refreshed_at=now,
            expires_at=expires_at,
            revoked_at=None,
            revoked_reason=None,
        )
        self._session.add(row)
        await self._session.flush()
        return _record(row)

    async def get(self, session_id: str) -> WebSessionRecord | None:
        row = await self._session.scalar(
            select(WebSessionRow).where(WebSessionRow.id == session_id).execution_options(populate_existing=True)
        )
        return None if row is None else _record(row)

    async def rotate(self, session_id: str, *, expected_hash: str, new_hash: str, now: int, expires_at: int) -> bool:
        """Replace the refresh token's hash if it is still ``expected_hash`` and the session is live."""
        result = await self._session.execute(
            update(WebSessionRow)
            .where(
                WebSessionRow.id == session_id,
                WebSessionRow.token_hash == expected_hash,
                WebSessionRow.revoked_at.is_(None),
            )
            .values(
                token_hash=new_hash,
                previous_hash=expected_hash,
                generation=WebSessionRow.generation + 1,
                refreshed_at=now,
                expires_at=expires_at,
            )
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0))

    async def revoke(self, session_id: str, *, now: int, reason: str) -> bool:
        """End a live session; False when it was already ended (or never existed)."""
        result = await self._session.execute(
            update(WebSessionRow)
            .where(WebSessionRow.id == session_id, WebSessionRow.revoked_at.is_(None))
            .values(revoked_at=now, revoked_reason=reason)
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0))

    async def revoke_for_user(self, user_id: int, *, now: int, reason: str) -> int:
        """End every live session of a user; how many were live."""
        result = await self._session.execute(
            update(WebSessionRow)
            .where(WebSessionRow.user_id == user_id, WebSessionRow.revoked_at.is_(None))
            .values(revoked_at=now, revoked_reason=reason)
            .execution_options(synchronize_session=False)
        )
        return int(getattr(result, "rowcount", 0))

    async def list_for_user(self, user_id: int, *, live_at: int | None = None) -> list[WebSessionRecord]:
        """Newest first; with ``live_at``, only sessions neither revoked nor expired at that moment."""
        query = select(WebSessionRow).where(WebSessionRow.user_id == user_id)
        if live_at is not None:
            query = query.where(WebSessionRow.revoked_at.is_(None), WebSessionRow.expires_at > live_at)
        rows = await self._session.scalars(query.order_by(WebSessionRow.created_at.desc(), WebSessionRow.id))
        return [_record(row) for row in rows]

    async def delete_ended(self, before: int) -> int:
        """Forget sessions that expired or were revoked before ``before``; how many."""
        result = await self._session.execute(
            delete(WebSessionRow)
            .where((WebSessionRow.expires_at < before) | (WebSessionRow.revoked_at < before))
            .execution_options(synchronize_session=False)
        )
        return int(getattr(result, "rowcount", 0))


def _record(row: WebSessionRow) -> WebSessionRecord:
    return WebSessionRecord(
        id=row.id,
        user_id=row.user_id,
        method=row.method,
        client=row.client,
        token_hash=row.token_hash,
        previous_hash=row.previous_hash,
        generation=row.generation,
        created_at=row.created_at,
        refreshed_at=row.refreshed_at,
        expires_at=row.expires_at,
        revoked_at=row.revoked_at,
        revoked_reason=row.revoked_reason,
    )
