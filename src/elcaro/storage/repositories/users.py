"""Registered users."""

from __future__ import annotations

import builtins
from collections.abc import Iterable
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from elcaro.models.enums import ApprovalState, Role
from elcaro.models.errors import NotFoundError
from elcaro.models.user import TelegramProfile, User
from elcaro.storage.batches import id_batches
from elcaro.storage.errors import translate_integrity_errors
from elcaro.storage.orm import UserRow

_UPDATABLE: dict[str, type | None] = {
    "role": Role,
    "approval": ApprovalState,
    "banned": None,
    "terms_accepted_at": None,
    "language": None,
    "username": None,
    "first_name": None,
    "last_name": None,
    "last_seen_at": None,
    "bot_blocked_at": None,
}


class UsersRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(
        self,
        profile: TelegramProfile,
        *,
        language: str,
        role: Role,
        approval: ApprovalState,
        referral_code: str,
        referred_by: int | None,
        now: int,
    ) -> User:
        row = UserRow(
            telegram_id=profile.telegram_id,
            username=profile.username,
            first_name=profile.first_name,
            last_name=profile.last_name,
            language=language,
            role=role,
            approval=approval,
            banned=False,
            terms_accepted_at=None,
            referral_code=referral_code,
            referred_by=referred_by,
            created_at=now,
            last_seen_at=now,
        )
        self._session.add(row)
        with translate_integrity_errors(
            {
                "uq_users_telegram_id": f"a user with Telegram id {profile.telegram_id} is already registered",
                "uq_users_referral_code": f"the referral code {referral_code!r} is already taken",
            },
            missing=f"the referring user {referred_by} does not exist",
        ):
            await self._session.flush()
        return _user(row)

    async def get(self, user_id: int, *, lock: bool = False) -> User | None:
        """``lock``: hold the user's row until the transaction ends, so changes of one user take turns (PostgreSQL;
        SQLite's ``BEGIN IMMEDIATE`` already serialises every writer), and read it as it is now."""
        row = await self._session.get(UserRow, user_id, with_for_update=lock)
        return None if row is None else _user(row)

    async def get_by_telegram_id(self, telegram_id: int) -> User | None:
        return await self._one(UserRow.telegram_id == telegram_id)

    async def get_by_referral_code(self, code: str) -> User | None:
        return await self._one(UserRow.referral_code == code)

    async def list(
        self,
        *,
        approval: ApprovalState | None = None,
        role: Role | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> builtins.list[User]:
        query = select(UserRow).order_by(UserRow.id).limit(limit).offset(offset)
        if approval is not None:
            query = query.where(UserRow.approval == approval)
        if role is not None:
            query = query.where(UserRow.role == role)
        return [_user(row) for row in await self._session.scalars(query)]

    async def search(self, name: str, *, limit: int = 10) -> builtins.list[User]:
        """Users whose username starts with ``name`` or whose full name contains it, ignoring case, by id.

        Case is folded by the database: PostgreSQL folds every alphabet, SQLite only ASCII (Telegram
        usernames are ASCII; a non-Latin first name is matched there as typed)."""
        pattern = _like_escape(name.lower())
        full_name = func.coalesce(UserRow.first_name, "") + " " + func.coalesce(UserRow.last_name, "")
        query = (
            select(UserRow)
            .where(
                or_(
                    func.lower(UserRow.username).like(f"{pattern}%", escape="\\"),
                    func.lower(full_name).like(f"%{pattern}%", escape="\\"),
                    full_name.like(f"%{_like_escape(name)}%", escape="\\"),
                )
            )
            .order_by(UserRow.id)
            .limit(limit)
        )
        return [_user(row) for row in await self._session.scalars(query)]

    async def update(self, user_id: int, **changes: Any) -> User:
        """Change the named fields; ``ValueError`` for a field that cannot be changed this way."""
        values = {}
        for name, value in changes.items():
            if name not in _UPDATABLE:
                raise ValueError(f"cannot update user field {name!r} (updatable: {', '.join(_UPDATABLE)})")
            convert = _UPDATABLE[name]
            values[name] = convert(value) if convert is not None else value
        if not values:
            user = await self.get(user_id)
            if user is None:
                raise NotFoundError(f"no user with id {user_id}")
            return user
        statement = update(UserRow).where(UserRow.id == user_id).values(**values).returning(UserRow)
        row = (await self._session.scalars(statement)).one_or_none()
        if row is None:
            raise NotFoundError(f"no user with id {user_id}")
        return _user(row)

    async def set_trading_paused(self, user_id: int, paused: bool) -> None:
        """The user's own pause: no new entries while it is on; open positions are still managed."""
        statement = update(UserRow).where(UserRow.id == user_id).values(trading_paused=paused).returning(UserRow.id)
        if (await self._session.execute(statement)).scalar_one_or_none() is None:
            raise NotFoundError(f"no user with id {user_id}")

    async def is_trading_paused(self, user_id: int) -> bool:
        paused = await self._session.scalar(select(UserRow.trading_paused).where(UserRow.id == user_id))
        if paused is None:
            raise NotFoundError(f"no user with id {user_id}")
        return paused

    async def paused_user_ids(self, user_ids: Iterable[int]) -> set[int]:
        """Those of ``user_ids`` who paused their trading: one query for a whole fan-out."""
        paused: set[int] = set()
        for batch in id_batches(user_ids):
            query = select(UserRow.id).where(UserRow.id.in_(batch), UserRow.trading_paused.is_(True))
            paused.update(await self._session.scalars(query))
        return paused

    async def _one(self, condition: Any) -> User | None:
        row = await self._session.scalar(select(UserRow).where(condition))
        return None if row is None else _user(row)


def _like_escape(text: str) -> str:
    """``text`` matched literally by LIKE (with ``ESCAPE '\\'``): its own ``%`` and ``_`` are not wildcards."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _user(row: UserRow) -> User:
    return User(
        id=row.id,
        telegram_id=row.telegram_id,
        username=row.username,
        first_name=row.first_name,
        last_name=row.last_name,
        language=row.language,
        role=row.role,
        approval=row.approval,
        banned=row.banned,
        terms_accepted_at=row.terms_accepted_at,
        referral_code=row.referral_code,
        referred_by=row.referred_by,
        created_at=row.created_at,
        last_seen_at=row.last_seen_at,
        trading_paused=row.trading_paused,
        bot_blocked_at=row.bot_blocked_at,
    )
