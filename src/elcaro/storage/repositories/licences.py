"""Licences, the trial register, expiry warnings, promo codes and their redemptions."""

from __future__ import annotations

import builtins
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from elcaro.models.enums import Role
from elcaro.models.errors import NotFoundError
from elcaro.models.licence import Licence, LicenceSource, LicenceTier, PromoCode
from elcaro.storage.batches import id_batches
from elcaro.storage.errors import translate_integrity_errors
from elcaro.storage.orm import (
    LicenceRow,
    LicenceTrialRow,
    LicenceWarningRow,
    PromoCodeRow,
    PromoRedemptionRow,
    UserRow,
)
from elcaro.storage.upsert import insert_if_absent


@dataclass(frozen=True, slots=True)
class LicenceHolder:
    """A user with every licence they ever held, oldest first, and whether they are an admin."""

    user_id: int
    admin: bool
    licences: list[Licence] = field(default_factory=list)


class LicencesRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def lock_holder(self, user_id: int) -> None:
        """Take the user's row lock for the rest of the transaction: licence changes of one user then run one
        after another on PostgreSQL (SQLite's ``BEGIN IMMEDIATE`` already serialises every writer).

        NotFoundError when there is no such user.
        """
        query = select(UserRow.id).where(UserRow.id == user_id).with_for_update()
        if await self._session.scalar(query) is None:
            raise NotFoundError(f"no user with id {user_id}")

    async def add(
        self, user_id: int, tier: LicenceTier, source: LicenceSource, *, starts_at: int, expires_at: int, now: int
    ) -> Licence:
        row = LicenceRow(
            user_id=user_id,
            tier=tier,
            source=source,
            starts_at=starts_at,
            expires_at=expires_at,
            created_at=now,
            updated_at=now,
        )
        self._session.add(row)
        with translate_integrity_errors(missing=f"no user with id {user_id}"):
            await self._session.flush()
        return _licence(row)

    async def get(self, licence_id: int) -> Licence | None:
        row = await self._session.get(LicenceRow, licence_id)
        return None if row is None else _licence(row)

    async def set_expiry(self, licence_id: int, expires_at: int, *, now: int) -> Licence:
        """Move the end (an extension; or ``now`` for a licence that a higher tier supersedes)."""
        return await self._update(licence_id, expires_at=expires_at, updated_at=now)

    async def revoke(self, licence_id: int, reason: str, *, now: int) -> Licence:
        return await self._update(licence_id, revoked_at=now, revoke_reason=reason, updated_at=now)

    async def for_user(self, user_id: int) -> builtins.list[Licence]:
        """Every licence the user held, oldest first."""
        query = select(LicenceRow).where(LicenceRow.user_id == user_id).order_by(LicenceRow.id)
        return [_licence(row) for row in await self._session.scalars(query)]

    async def holders(self, user_ids: Iterable[int]) -> dict[int, LicenceHolder]:
        """The users among ``user_ids`` that exist, each with their licences: one query per 10,000 users."""
        holders: dict[int, LicenceHolder] = {}
        for batch in id_batches(user_ids):
            query = (
                select(UserRow.id, UserRow.role, LicenceRow)
                .outerjoin(LicenceRow, LicenceRow.user_id == UserRow.id)
                .where(UserRow.id.in_(batch))
                .order_by(UserRow.id, LicenceRow.id)
            )
            for user_id, role, row in await self._session.execute(query):
                holder = holders.setdefault(user_id, LicenceHolder(user_id, role is Role.ADMIN))
                if row is not None:
                    holder.licences.append(_licence(row))
        return holders

    async def expiring(self, now: int, within_ms: int) -> builtins.list[Licence]:
        """Licences active at ``now`` that end within ``within_ms``, soonest first."""
        query = (
            select(LicenceRow)
            .where(
                LicenceRow.revoked_at.is_(None),
                LicenceRow.starts_at <= now,
                LicenceRow.expires_at > now,
                LicenceRow.expires_at <= now + within_ms,
            )
            .order_by(LicenceRow.expires_at, LicenceRow.id)
        )
        return [_licence(row) for row in await self._session.scalars(query)]

    async def record_trial(self, user_id: int, licence_id: int, *, now: int) -> bool:
        """Register the user's trial; False when they had it already (the licence must then not stand)."""
        values = {"user_id": user_id, "licence_id": licence_id, "started_at": now}
        statement = insert_if_absent(self._session, LicenceTrialRow, values, key=("user_id",))
        result = await self._session.execute(statement.returning(LicenceTrialRow.user_id))
        return result.scalar_one_or_none() is not None

    async def had_trial(self, user_id: int) -> bool:
        return await self._session.get(LicenceTrialRow, user_id) is not None

    async def claim_warning(self, licence_id: int, threshold_days: int, expires_at: int, *, now: int) -> bool:
        """Record that this warning goes out; False when it went out before (or a concurrent job has it)."""
        values = {"licence_id": licence_id, "threshold_days": threshold_days, "expires_at": expires_at, "sent_at": now}
        key = ("licence_id", "threshold_days", "expires_at")
        statement = insert_if_absent(self._session, LicenceWarningRow, values, key=key)
        result = await self._session.execute(statement.returning(LicenceWarningRow.licence_id))
        return result.scalar_one_or_none() is not None

    async def _update(self, licence_id: int, **values: object) -> Licence:
        statement = update(LicenceRow).where(LicenceRow.id == licence_id).values(**values).returning(LicenceRow)
        row = (await self._session.scalars(statement)).one_or_none()
        if row is None:
            raise NotFoundError(f"no licence with id {licence_id}")
        return _licence(row)


class PromoCodesRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(
        self,
        code: str,
        tier: LicenceTier,
        *,
        days: int,
        max_uses: int,
        valid_until: int | None,
        created_by: int | None,
        now: int,
    ) -> PromoCode:
        row = PromoCodeRow(
            code=code,
            tier=tier,
            days=days,
            max_uses=max_uses,
            uses=0,
            valid_until=valid_until,
            created_by=created_by,
            created_at=now,
        )
        self._session.add(row)
        with translate_integrity_errors(
            {"uq_promo_codes_code": f"the promo code {code} exists already"}, missing=f"no user with id {created_by}"
        ):
            await self._session.flush()
        return _promo(row)

    async def get_by_code(self, code: str) -> PromoCode | None:
        row = await self._session.scalar(select(PromoCodeRow).where(PromoCodeRow.code == code))
        return None if row is None else _promo(row)

    async def list(self, *, limit: int = 100) -> builtins.list[PromoCode]:
        """Newest first."""
        query = select(PromoCodeRow).order_by(PromoCodeRow.id.desc()).limit(limit)
        return [_promo(row) for row in await self._session.scalars(query)]

    async def take_use(self, promo_id: int, *, now: int) -> bool:
        """Count one use if the code is still valid and not used up: one statement decides.

        On PostgreSQL a concurrent redemption waits on the row and re-checks the condition once the
        other commits, so the uses never pass ``max_uses``; on SQLite writers take turns.
        """
        statement = (
            update(PromoCodeRow)
            .where(
                PromoCodeRow.id == promo_id,
                PromoCodeRow.uses < PromoCodeRow.max_uses,
                (PromoCodeRow.valid_until.is_(None)) | (PromoCodeRow.valid_until > now),
            )
            .values(uses=PromoCodeRow.uses + 1)
            .returning(PromoCodeRow.id)
        )
        return (await self._session.execute(statement)).scalar_one_or_none() is not None

    async def record_redemption(self, promo: PromoCode, user_id: int, licence_id: int, *, now: int) -> None:
        """ConflictError when the user redeemed this code before."""
        self._session.add(
            PromoRedemptionRow(promo_id=promo.id, user_id=user_id, licence_id=licence_id, redeemed_at=now)
        )
        with translate_integrity_errors(
            {"uq_promo_redemptions_promo_id_user_id": f"you have already redeemed the promo code {promo.code}"}
        ):
            await self._session.flush()

    async def redeemed_by(self, promo_id: int, user_id: int) -> bool:
        query = select(PromoRedemptionRow.id).where(
            PromoRedemptionRow.promo_id == promo_id, PromoRedemptionRow.user_id == user_id
        )
        return await self._session.scalar(query) is not None


def _licence(row: LicenceRow) -> Licence:
    return Licence(
        id=row.id,
        user_id=row.user_id,
        tier=row.tier,
        source=row.source,
        starts_at=row.starts_at,
        expires_at=row.expires_at,
        created_at=row.created_at,
        updated_at=row.updated_at,
        revoked_at=row.revoked_at,
        revoke_reason=row.revoke_reason,
    )


def _promo(row: PromoCodeRow) -> PromoCode:
    return PromoCode(
        id=row.id,
        code=row.code,
        tier=row.tier,
        days=row.days,
        max_uses=row.max_uses,
        uses=row.uses,
        valid_until=row.valid_until,
        created_by=row.created_by,
        created_at=row.created_at,
    )
