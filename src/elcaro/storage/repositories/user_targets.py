"""The targets (exchange × environment) each user trades on."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from elcaro.models.target import Target
from elcaro.storage.batches import id_batches
from elcaro.storage.errors import translate_integrity_errors
from elcaro.storage.orm import UserTargetRow
from elcaro.storage.upsert import upsert


@dataclass(frozen=True, slots=True)
class UserTarget:
    """``live_opt_in_at``: when the user explicitly allowed real-money trading here (live targets trade only then)."""

    user_id: int
    target: Target
    enabled: bool
    live_opt_in_at: int | None
    created_at: int


class UserTargetsRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def set(
        self, user_id: int, target: Target, *, enabled: bool, live_opt_in_at: int | None = None, now: int
    ) -> UserTarget:
        """Add the target or replace its settings. An opt-in not given again is withdrawn: the safe direction."""
        values = {
            "user_id": user_id,
            "exchange": target.exchange,
            "environment": target.environment,
            "enabled": enabled,
            "live_opt_in_at": live_opt_in_at,
            "created_at": now,
        }
        statement = upsert(
            self._session, UserTargetRow, values, key=("user_id", "exchange", "environment"), keep=("created_at",)
        ).returning(UserTargetRow)
        with translate_integrity_errors(missing=f"no user with id {user_id}"):
            row = (await self._session.scalars(statement)).one()
        return _target(row)

    async def list_for_user(self, user_id: int) -> list[UserTarget]:
        """Enabled or not, in a stable order."""
        query = (
            select(UserTargetRow)
            .where(UserTargetRow.user_id == user_id)
            .order_by(UserTargetRow.exchange, UserTargetRow.environment)
        )
        return [_target(row) for row in await self._session.scalars(query)]

    async def active_for_users(self, user_ids: Iterable[int]) -> dict[int, list[UserTarget]]:
        """The enabled targets of each user (an empty list for a user with none), for a whole fan-out at once.

        Live targets without an opt-in are included: the gates refuse them with a reason the user sees.
        """
        active: dict[int, list[UserTarget]] = {}
        for batch in id_batches(user_ids):
            active.update((user_id, []) for user_id in batch)
            query = (
                select(UserTargetRow)
                .where(UserTargetRow.user_id.in_(batch), UserTargetRow.enabled.is_(True))
                .order_by(UserTargetRow.user_id, UserTargetRow.exchange, UserTargetRow.environment)
            )
            for row in await self._session.scalars(query):
                active[row.user_id].append(_target(row))
        return active

    async def remove(self, user_id: int, target: Target) -> bool:
        statement = (
            delete(UserTargetRow)
            .where(
                UserTargetRow.user_id == user_id,
                UserTargetRow.exchange == target.exchange,
                UserTargetRow.environment == target.environment,
            )
            .returning(UserTargetRow.user_id)
        )
        return (await self._session.execute(statement)).scalar_one_or_none() is not None


def _target(row: UserTargetRow) -> UserTarget:
    return UserTarget(
        user_id=row.user_id,
        target=Target(row.exchange, row.environment),
        enabled=row.enabled,
        live_opt_in_at=row.live_opt_in_at,
        created_at=row.created_at,
    )
