"""Who referred whom (``users.referred_by``) and the referral rewards the ledger paid."""

from __future__ import annotations

import builtins
from dataclasses import dataclass

from sqlalchemy import and_, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from elcaro.models.enums import ApprovalState
from elcaro.storage.orm import ReferralRewardRow, UserRow


@dataclass(frozen=True, slots=True)
class RefereeRecord:
    """A user someone referred, as the referrer may see them: no Telegram id."""

    user_id: int
    username: str | None
    first_name: str | None
    approval: ApprovalState
    joined_at: int
    earned: int
    """Minor units of ELC the referrer earned through this referee."""


@dataclass(frozen=True, slots=True)
class EarningsBySource:
    source: str
    rewards: int
    amount: int


class ReferralsRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add_reward(
        self, *, referrer_id: int, referee_id: int, source: str, transaction_seq: int, amount: int, now: int
    ) -> None:
        await self._session.execute(
            insert(ReferralRewardRow).values(
                referrer_id=referrer_id,
                referee_id=referee_id,
                source=source,
                transaction_seq=transaction_seq,
                amount=amount,
                created_at=now,
            )
        )

    async def referees(self, referrer_id: int, *, limit: int, offset: int = 0) -> builtins.list[RefereeRecord]:
        earned = (
            select(ReferralRewardRow.referee_id, func.sum(ReferralRewardRow.amount).label("earned"))
            .where(ReferralRewardRow.referrer_id == referrer_id)
            .group_by(ReferralRewardRow.referee_id)
            .subquery()
        )
        query = (
            select(UserRow, earned.c.earned)
            .outerjoin(earned, earned.c.referee_id == UserRow.id)
            .where(UserRow.referred_by == referrer_id)
            .order_by(UserRow.id)
            .limit(limit)
            .offset(offset)
        )
        return [
            RefereeRecord(
                user_id=user.id,
                username=user.username,
                first_name=user.first_name,
                approval=user.approval,
                joined_at=user.created_at,
                earned=int(amount or 0),
            )
            for user, amount in await self._session.execute(query)
        ]

    async def count_referees(self, referrer_id: int) -> int:
        query = select(func.count()).select_from(UserRow).where(UserRow.referred_by == referrer_id)
        return int(await self._session.scalar(query) or 0)

    async def earnings(self, referrer_id: int) -> builtins.list[EarningsBySource]:
        query = (
            select(ReferralRewardRow.source, func.count(), func.sum(ReferralRewardRow.amount))
            .where(ReferralRewardRow.referrer_id == referrer_id)
            .group_by(ReferralRewardRow.source)
            .order_by(ReferralRewardRow.source)
        )
        return [
            EarningsBySource(source, int(count), int(amount or 0))
            for source, count, amount in await self._session.execute(query)
        ]

    async def approved_referees_without(self, source: str, *, limit: int) -> builtins.list[int]:
        """Approved, referred users who have no reward of ``source`` yet, oldest first."""
        rewarded = and_(ReferralRewardRow.referee_id == UserRow.id, ReferralRewardRow.source == source)
        query = (
            select(UserRow.id)
            .outerjoin(ReferralRewardRow, rewarded)
            .where(
                UserRow.referred_by.is_not(None),
                UserRow.approval == ApprovalState.APPROVED,
                ReferralRewardRow.id.is_(None),
            )
            .order_by(UserRow.id)
            .limit(limit)
        )
        return list(await self._session.scalars(query))
