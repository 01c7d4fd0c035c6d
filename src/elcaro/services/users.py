"""Registration, approval, bans, roles, terms and language of users."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterable
from typing import Any, Protocol

from elcaro.core.clock import now_ms
from elcaro.models import ApprovalState, AuditEntry, Role, TelegramProfile, User
from elcaro.models.errors import ConflictError, NotFoundError, PermissionDeniedError, ValidationError
from elcaro.storage import Database, UnitOfWork
from elcaro.storage.retrying import run_in_transaction

log = logging.getLogger(__name__)

SUPPORTED_LANGUAGES = ("en", "ru")
DEFAULT_LANGUAGE = "en"
_REFERRAL_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: codes are read aloud and retyped
_REFERRAL_LENGTH = 8


def normalise_language(code: str | None) -> str:
    """Telegram sends IETF tags such as ``ru-RU`` or ``en``; map them to a shipped language."""
    base = (code or "").split("-")[0].lower()
    return base if base in SUPPORTED_LANGUAGES else DEFAULT_LANGUAGE


async def require_user(tx: UnitOfWork, user_id: int, *, lock: bool = False) -> User:
    """The user, read in ``tx`` (``lock``: their row held until it ends); NotFoundError naming the id if none."""
    user = await tx.users.get(user_id, lock=lock)
    if user is None:
        raise NotFoundError(f"no user with id {user_id}")
    return user


async def require_admin(tx: UnitOfWork, actor_id: int | None) -> None:
    """``None`` is the operator at the machine (the CLI), who is trusted; a user must be an admin."""
    if actor_id is None:
        return
    actor = await tx.users.get(actor_id)
    if actor is None or not actor.is_admin or actor.banned:
        raise PermissionDeniedError("only an admin can do this")


def _new_referral_code() -> str:
    return "".join(secrets.choice(_REFERRAL_ALPHABET) for _ in range(_REFERRAL_LENGTH))


class SignupRewards(Protocol):
    """What approval needs of :class:`~elcaro.services.referrals.ReferralService` (which sits above this module)."""

    async def reward_signup_in(self, tx: UnitOfWork, referee_id: int) -> object:
        """Pay the referrer of a user just approved, inside ``tx``, once."""
        ...


class UserService:
    """Every change here is one transaction with its audit entry: it happens whole or not at all.

    ``actor_id`` is the user acting (an admin from the bot or web app); ``None`` means the operator
    at the machine (the CLI), who is trusted.
    """

    def __init__(
        self,
        database: Database,
        admin_telegram_ids: Iterable[int] = (),
        *,
        signup_rewards: SignupRewards | None = None,
    ) -> None:
        """``signup_rewards`` pays a referrer when their referee is approved, in the approving transaction."""
        self._db = database
        self._admin_ids = frozenset(admin_telegram_ids)
        self._signup_rewards = signup_rewards

    async def register(self, profile: TelegramProfile, *, referral_code: str | None = None) -> User:
        """Create the user: pending approval, or an approved admin when config names them.

        An unknown referral code does not block registration (a mistyped deep link must not lock
        a person out); it is recorded in the audit log instead.
        """
        is_admin = profile.telegram_id in self._admin_ids
        async with self._db.transaction() as tx:
            if await tx.users.get_by_telegram_id(profile.telegram_id) is not None:
                raise ConflictError(f"a user with Telegram id {profile.telegram_id} is already registered")
            referrer = await tx.users.get_by_referral_code(referral_code.strip().upper()) if referral_code else None
            user = await tx.users.add(
                profile,
                language=normalise_language(profile.language_code),
                role=Role.ADMIN if is_admin else Role.USER,
                approval=ApprovalState.APPROVED if is_admin else ApprovalState.PENDING,
                referral_code=await self._unique_referral_code(tx),
                referred_by=referrer.id if referrer else None,
                now=now_ms(),
            )
            details: dict[str, Any] = {"telegram_id": profile.telegram_id, "admin_from_config": is_admin}
            if referral_code:
                details["referral_code"] = referral_code
                details["referrer_id"] = referrer.id if referrer else None
            await self._audit(tx, "user.register", user.id, None, details)
            await self._reward_if_approved(tx, None, user)
        log.info("registered user %s (telegram %s)", user.id, profile.telegram_id)
        return user

    async def get(self, user_id: int) -> User:
        async with self._db.reading() as tx:
            return await require_user(tx, user_id)

    async def find_by_telegram_id(self, telegram_id: int) -> User | None:
        async with self._db.reading() as tx:
            return await tx.users.get_by_telegram_id(telegram_id)

    async def list_users(
        self, *, approval: ApprovalState | None = None, role: Role | None = None, limit: int = 100, offset: int = 0
    ) -> list[User]:
        async with self._db.reading() as tx:
            return await tx.users.list(approval=approval, role=role, limit=limit, offset=offset)

    async def approve(self, user_id: int, *, actor_id: int | None = None) -> User:
        """Let the user in; their referrer's signup reward (if any) is paid in the same transaction, once."""
        return await self._change(user_id, actor_id, "user.approve", approval=ApprovalState.APPROVED)

    async def reject(self, user_id: int, *, actor_id: int | None = None) -> User:
        return await self._change(user_id, actor_id, "user.reject", approval=ApprovalState.REJECTED)

    async def ban(self, user_id: int, *, actor_id: int | None = None, reason: str = "") -> User:
        return await self._change(user_id, actor_id, "user.ban", {"reason": reason}, banned=True)

    async def unban(self, user_id: int, *, actor_id: int | None = None) -> User:
        return await self._change(user_id, actor_id, "user.unban", banned=False)

    async def promote(self, user_id: int, *, actor_id: int | None = None) -> User:
        """Make an admin. An admin is approved by definition."""
        return await self._change(user_id, actor_id, "user.promote", role=Role.ADMIN, approval=ApprovalState.APPROVED)

    async def demote(self, user_id: int, *, actor_id: int | None = None) -> User:
        async with self._db.reading() as tx:
            target = await require_user(tx, user_id)
            if target.telegram_id in self._admin_ids:
                raise ConflictError(f"user {user_id} is an admin by configuration (ELCARO_ADMIN_TELEGRAM_IDS)")
        return await self._change(user_id, actor_id, "user.demote", role=Role.USER)

    async def accept_terms(self, user_id: int) -> User:
        return await self._change(user_id, user_id, "user.accept_terms", self_service=True, terms_accepted_at=now_ms())

    async def set_language(self, user_id: int, language: str) -> User:
        if language not in SUPPORTED_LANGUAGES:
            raise ValidationError(
                f"unsupported language {language!r} (supported: {', '.join(SUPPORTED_LANGUAGES)})", field="language"
            )
        return await self._change(user_id, user_id, "user.set_language", self_service=True, language=language)

    async def touch(self, user_id: int) -> None:
        """Record activity; not audited (it would drown the log)."""
        async with self._db.transaction() as tx:
            await tx.users.update(user_id, last_seen_at=now_ms())

    async def ensure_config_admins(self) -> list[User]:
        """Give configured admins their role (for those already registered); run at start-up."""
        changed: list[User] = []
        async with self._db.transaction() as tx:
            for telegram_id in sorted(self._admin_ids):
                user = await tx.users.get_by_telegram_id(telegram_id)
                if user is not None and (user.role is not Role.ADMIN or user.approval is not ApprovalState.APPROVED):
                    promoted = await tx.users.update(user.id, role=Role.ADMIN, approval=ApprovalState.APPROVED)
                    await self._audit(tx, "user.promote", user.id, None, {"from": "config"})
                    await self._reward_if_approved(tx, user, promoted)
                    changed.append(promoted)
        return changed

    async def _change(
        self,
        user_id: int,
        actor_id: int | None,
        action: str,
        details: dict[str, Any] | None = None,
        *,
        self_service: bool = False,
        **changes: Any,
    ) -> User:

        async def work(tx: UnitOfWork) -> User:
            # Locked: two changes of one user (an admin's approval, the user's own acceptance of the terms)
            # take turns, and each sees the other's result.
            before = await require_user(tx, user_id, lock=True)
            if not self_service:
                await require_admin(tx, actor_id)
            user = await tx.users.update(user_id, **changes)
            await self._audit(tx, action, user_id, actor_id, {**(details or {}), **_plain(changes)})
            await self._reward_if_approved(tx, before, user)
            return user

        return await run_in_transaction(self._db, work)

    async def _reward_if_approved(self, tx: UnitOfWork, before: User | None, after: User) -> None:
        """Pay the referrer's signup reward when this change is what approved ``after`` (``before``: None when new)."""
        if self._signup_rewards is None or after.approval is not ApprovalState.APPROVED:
            return
        if before is None or before.approval is not ApprovalState.APPROVED:
            await self._signup_rewards.reward_signup_in(tx, after.id)

    @staticmethod
    async def _unique_referral_code(tx: UnitOfWork) -> str:
        # 32^8 codes: a clash is rare, but checking costs one indexed read.
        while True:
            code = _new_referral_code()
            if await tx.users.get_by_referral_code(code) is None:
                return code

    @staticmethod
    async def _audit(tx: UnitOfWork, action: str, user_id: int, actor_id: int | None, details: dict[str, Any]) -> None:
        await tx.audit.add(
            AuditEntry(action=action, actor_user_id=actor_id, subject=f"user:{user_id}", details=details, at=now_ms())
        )


def _plain(changes: dict[str, Any]) -> dict[str, Any]:
    """Audit details as JSON-ready values (enums by value)."""
    return {k: getattr(v, "value", v) for k, v in changes.items()}
