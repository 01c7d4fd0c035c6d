"""Web app logins: a Telegram-vouched person gets a short-lived access token and a rotating refresh token.

There is no way in but a payload Telegram signed (Mini App ``initData`` or the Login Widget, checked by
:mod:`elcaro.services.telegram_login`): no method here opens a session from a user id alone.

- **Access token**: a JWT (HS256) naming the user and the session, valid ``access_ttl_s``. Requests still
  read the user and the session (two primary-key reads), so a ban, a lost approval or a logout takes
  effect when it happens, not when the token expires. A session's reading is reused for at most
  ``caller_cache_ms`` (1 s) by the requests that follow it; whatever ends a session or changes a user's
  standing *through this service* (logout, revoke, :meth:`WebSessionService.forget_user` after an admin's
  ban or demotion) drops it at once, and a change made elsewhere (the bot) is seen within that second.
- **Refresh token**: ``<session id>.<secret>``; only the SHA-256 of the secret is stored. Each refresh
  replaces it (compare-and-set, so of two refreshes with one token only one wins) and extends the
  session by ``refresh_ttl_s``. Presenting the token a refresh already replaced means two parties hold
  it: the session is revoked, and both must log in again. A client refreshes one request at a time.
- **Logout** revokes the session; its access tokens stop working with it.

Who may log in follows the bot's approval flow: registration happens in the bot (``/start``), so an
unknown Telegram user is refused with a pointer to it; pending, rejected and banned users are refused
with their own reason (:class:`LoginRefusedError` ``code``).

The signing key is ``web_jwt_secret`` when configured, otherwise a random key made on first use and
stored encrypted (master keyring) among the platform's secrets, so every process on the database shares
it and a restart logs nobody out. Master-key rotation re-encrypts it with the other platform secrets.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import hmac
import json
import logging
import secrets
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from elcaro.core.clock import now_ms
from elcaro.core.secrets import Keyring
from elcaro.models import ApprovalState, AuditEntry, Secret, User
from elcaro.models.errors import ConfigError, NotFoundError, PermissionDeniedError
from elcaro.services.telegram_login import (
    LoginMethod,
    TelegramLogin,
    bot_id,
    verify_login_widget,
    verify_mini_app,
)
from elcaro.services.wallets import platform_secret_context
from elcaro.storage import Database, UnitOfWork
from elcaro.storage.repositories import WebSessionRecord

log = logging.getLogger(__name__)

SIGNING_KEY_NAME = "web_token_key"
_HEADER = {"alg": "HS256", "typ": "JWT"}
_SESSION_ID_BYTES = 16
_SECRET_BYTES = 32
_MAX_TOKEN_CHARS = 1024
_CLIENT_CHARS = 120
_CACHED_CALLERS = 10_000
"""Sessions whose last reading is kept (the most recently used): memory stays flat however many log in."""


class SessionError(PermissionDeniedError):
    """No valid session: the token is missing, malformed, forged, expired or revoked. Log in again."""


class LoginRefusedError(PermissionDeniedError):
    """Telegram vouched for the person, but they may not use the platform (yet). ``code`` says why:
    ``not_registered``, ``pending``, ``rejected`` or ``banned``."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True, slots=True)
class Tokens:
    access_token: Secret
    access_expires_at: int
    """Epoch ms."""
    refresh_token: Secret
    refresh_expires_at: int
    session_id: str
    user: User


@dataclass(frozen=True, slots=True)
class Caller:
    """Who a valid access token belongs to, read fresh from the database for this request."""

    user: User
    session_id: str


@dataclass(frozen=True, slots=True)
class SessionInfo:
    """A session as its owner sees it: never a token or a hash."""

    id: str
    method: str
    client: str | None
    created_at: int
    refreshed_at: int
    expires_at: int
    revoked_at: int | None
    revoked_reason: str | None


@dataclass(frozen=True, slots=True)
class SessionPolicy:
    auth_max_age_s: int = 3600
    access_ttl_s: int = 900
    refresh_ttl_s: int = 30 * 86400
    caller_cache_ms: int = 1000
    """How long the next requests of a session may reuse its last reading (0: read on every request)."""


class WebSessionService:
    def __init__(
        self,
        database: Database,
        keyring: Keyring,
        *,
        bot_token: Secret | None,
        signing_key: Secret | None = None,
        policy: SessionPolicy | None = None,
        clock: Callable[[], int] = now_ms,
    ) -> None:
        self._db = database
        self._keyring = keyring
        self._bot_token = bot_token
        self._key: bytes | None = signing_key.reveal().encode() if signing_key is not None else None
        self._key_lock = asyncio.Lock()
        self.policy = policy or SessionPolicy()
        self._clock = clock
        self._callers: OrderedDict[str, tuple[Caller, int]] = OrderedDict()
        """Session id → (its caller, when read), most recently used last."""

    # ------------------------------------------------------------------------------ logging in

    @property
    def bot_id(self) -> int | None:
        """The bot's id for Telegram's login page (None without a bot token)."""
        return None if self._bot_token is None else bot_id(self._bot_token.reveal())

    async def login_mini_app(
        self, init_data: str, *, client: str | None = None, admit: Callable[[int], None] | None = None
    ) -> Tokens:
        """Open a session for the person a Mini App's ``initData`` names; ``TelegramLoginError`` if it is invalid."""
        login = verify_mini_app(
            init_data, self._token(), max_age_s=self.policy.auth_max_age_s, now_s=self._clock() // 1000
        )
        if admit is not None:  # e.g. a per-person rate limit, applied once Telegram has vouched for the id
            admit(login.profile.telegram_id)
        return await self._open(login, client)

    async def login_widget(
        self, fields: Mapping[str, object], *, client: str | None = None, admit: Callable[[int], None] | None = None
    ) -> Tokens:
        """Open a session for the person the Login Widget's fields name."""
        login = verify_login_widget(
            fields, self._token(), max_age_s=self.policy.auth_max_age_s, now_s=self._clock() // 1000
        )
        if admit is not None:  # e.g. a per-person rate limit, applied once Telegram has vouched for the id
            admit(login.profile.telegram_id)
        return await self._open(login, client)

    async def refresh(self, refresh_token: str) -> Tokens:
        """Rotate the refresh token and issue a new access token; a replaced token revokes the session."""
        session_id, secret = _split_refresh(refresh_token)
        presented = _digest(secret)
        now = self._clock()
        fresh_secret = secrets.token_urlsafe(_SECRET_BYTES)
        expires_at = now + self.policy.refresh_ttl_s * 1000
        async with self._db.transaction() as tx:
            stored = await tx.web_sessions.get(session_id)
            if stored is None or stored.revoked_at is not None or stored.expires_at <= now:
                raise SessionError("the session has ended: log in again")
            if stored.previous_hash is not None and hmac.compare_digest(presented, stored.previous_hash):
                await tx.web_sessions.revoke(session_id, now=now, reason="reuse")
                await _audit(tx, stored.user_id, "web.session_reuse", {"session": session_id}, now)
                self._callers.pop(session_id, None)
                user = None
            elif not hmac.compare_digest(presented, stored.token_hash):
                raise SessionError("the refresh token is not valid: log in again")
            else:
                user = _checked(await tx.users.get(stored.user_id))
                rotated = await tx.web_sessions.rotate(
                    session_id, expected_hash=presented, new_hash=_digest(fresh_secret), now=now, expires_at=expires_at
                )
                if not rotated:  # another refresh with the same token won the race
                    raise SessionError("the refresh token was just used: log in again")
        if user is None:  # raised only now, so that the revocation above is committed
            log.warning("web session %s: a replaced refresh token was presented again; session revoked", session_id)
            raise SessionError("this refresh token was already used, so the session was ended: log in again")
        return await self._tokens(user, session_id, fresh_secret, expires_at, now)

    async def logout(self, refresh_token: str) -> None:
        """End the session of ``refresh_token`` (nothing happens for one already ended)."""
        session_id, secret = _split_refresh(refresh_token)
        now = self._clock()
        async with self._db.transaction() as tx:
            stored = await tx.web_sessions.get(session_id)
            if stored is None or not hmac.compare_digest(_digest(secret), stored.token_hash):
                raise SessionError("the refresh token is not valid")
            if await tx.web_sessions.revoke(session_id, now=now, reason="logout"):
                await _audit(tx, stored.user_id, "web.logout", {"session": session_id}, now)
        self._callers.pop(session_id, None)

    # ------------------------------------------------------------------------------ each request

    async def authenticate(self, access_token: str) -> Caller:
        """The caller of a request: a valid, unexpired access token of a live session of a user in good standing."""
        claims = _decode(access_token, await self._signing_key())
        now = self._clock()
        if claims.get("typ") != "access" or not isinstance(claims.get("exp"), int) or claims["exp"] * 1000 <= now:
            raise SessionError("the access token has expired: refresh it")
        subject, session_id = claims.get("sub"), claims.get("sid")
        if not isinstance(subject, str) or not subject.isdigit() or not isinstance(session_id, str):
            raise SessionError("the access token is not valid")
        cached = self._callers.get(session_id)
        if cached is not None and cached[0].user.id == int(subject) and now - cached[1] < self.policy.caller_cache_ms:
            self._callers.move_to_end(session_id)
            return cached[0]
        return await self._read_caller(int(subject), session_id, now)

    async def recheck(self, caller: Caller) -> Caller:
        """``caller`` read again: ``SessionError`` once the session ended or the user may no longer use the app.

        For a long-lived connection (the websocket), which outlives the access token it opened with: it is
        the session, not the token, that has to stay alive.
        """
        return await self._read_caller(caller.user.id, caller.session_id, self._clock())

    def forget_user(self, user_id: int) -> None:
        """Drop what is remembered of the user's sessions: their next request reads their standing afresh.

        Call it after changing a user's standing (ban, role, approval), so the change applies at once.
        """
        for session_id in [sid for sid, (caller, _) in self._callers.items() if caller.user.id == user_id]:
            del self._callers[session_id]

    async def _read_caller(self, user_id: int, session_id: str, now: int) -> Caller:
        self._callers.pop(session_id, None)
        async with self._db.reading() as tx:  # never waits for a writer, nor holds one up
            stored = await tx.web_sessions.get(session_id)
            user = await tx.users.get(user_id)
        if stored is None or stored.user_id != user_id or stored.revoked_at is not None:
            raise SessionError("the session has ended: log in again")
        if stored.expires_at <= now:
            raise SessionError("the session has expired: log in again")
        try:
            checked = _checked(user)
        except LoginRefusedError as refusal:
            raise SessionError(f"{refusal}") from None
        caller = Caller(checked, session_id)
        if self.policy.caller_cache_ms > 0 and stored.expires_at - now > self.policy.caller_cache_ms:
            self._callers[session_id] = (caller, now)
            while len(self._callers) > _CACHED_CALLERS:
                self._callers.popitem(last=False)
        return caller

    # ------------------------------------------------------------------------------ a user's sessions

    async def sessions(self, user_id: int) -> list[SessionInfo]:
        """The user's live sessions, newest first."""
        async with self._db.reading() as tx:
            stored = await tx.web_sessions.list_for_user(user_id, live_at=self._clock())
        return [_info(record) for record in stored]

    async def revoke(self, user_id: int, session_id: str) -> None:
        """End one of the user's own sessions; ``NotFoundError`` for anyone else's."""
        now = self._clock()
        async with self._db.transaction() as tx:
            stored = await tx.web_sessions.get(session_id)
            if stored is None or stored.user_id != user_id or stored.revoked_at is not None:
                raise NotFoundError(f"no live session {session_id!r}")
            await tx.web_sessions.revoke(session_id, now=now, reason="revoked")
            await _audit(tx, user_id, "web.session_revoke", {"session": session_id}, now)
        self._callers.pop(session_id, None)

    async def revoke_all(self, user_id: int, *, reason: str = "logout_all") -> int:
        now = self._clock()
        async with self._db.transaction() as tx:
            count = await tx.web_sessions.revoke_for_user(user_id, now=now, reason=reason)
            await _audit(tx, user_id, "web.logout_all", {"sessions": count}, now)
        self.forget_user(user_id)
        return count

    async def prune(self, *, keep_ms: int = 7 * 86400 * 1000) -> int:
        """Forget sessions that ended more than ``keep_ms`` ago; how many."""
        async with self._db.transaction() as tx:
            return await tx.web_sessions.delete_ended(self._clock() - keep_ms)

    # ------------------------------------------------------------------------------ inside

    def _token(self) -> str:
        if self._bot_token is None:
            raise ConfigError("Telegram login needs the bot token (ELCARO_TELEGRAM_BOT_TOKEN)")
        return self._bot_token.reveal()

    async def _open(self, login: TelegramLogin, client: str | None) -> Tokens:
        now = self._clock()
        session_id = secrets.token_hex(_SESSION_ID_BYTES)
        secret = secrets.token_urlsafe(_SECRET_BYTES)
        expires_at = now + self.policy.refresh_ttl_s * 1000
        async with self._db.transaction() as tx:
            user = _checked(await tx.users.get_by_telegram_id(login.profile.telegram_id))
            await tx.web_sessions.add(
                session_id,
                user.id,
                method=login.method.value,
                client=(client or None) and client[:_CLIENT_CHARS],
                token_hash=_digest(secret),
                now=now,
                expires_at=expires_at,
            )
            await _audit(tx, user.id, "web.login", {"session": session_id, "method": login.method.value}, now)
        log.info("user %s logged in to the web app (%s)", user.id, login.method.value)
        return await self._tokens(user, session_id, secret, expires_at, now)

    async def _tokens(self, user: User, session_id: str, secret: str, refresh_expires_at: int, now: int) -> Tokens:
        access_expires_at = now + self.policy.access_ttl_s * 1000
        claims = {
            "sub": str(user.id),
            "sid": session_id,
            "typ": "access",
            "iat": now // 1000,
            "exp": access_expires_at // 1000,
        }
        return Tokens(
            access_token=Secret(_encode(claims, await self._signing_key())),
            access_expires_at=access_expires_at // 1000 * 1000,
            refresh_token=Secret(f"{session_id}.{secret}"),
            refresh_expires_at=refresh_expires_at,
            session_id=session_id,
            user=user,
        )

    async def _signing_key(self) -> bytes:
        if self._key is not None:
            return self._key
        async with self._key_lock:
            if self._key is None:
                self._key = await self._stored_key()
        return self._key

    async def _stored_key(self) -> bytes:
        context = platform_secret_context(SIGNING_KEY_NAME)
        async with self._db.transaction() as tx:
            stored = await tx.platform_secrets.get(SIGNING_KEY_NAME)
            if stored is None:
                fresh = self._keyring.encrypt(secrets.token_hex(32), context=context)
                # Two first logins may race: whichever key was stored first is the one both use.
                stored = await tx.platform_secrets.add_if_absent(SIGNING_KEY_NAME, fresh, now=self._clock())
                log.info(
                    "web token signing key created (stored encrypted under master key %s)", self._keyring.primary_id
                )
        return self._keyring.decrypt(stored.value_enc, context=context).encode()


def _checked(user: User | None) -> User:
    """The user, if they may use the web app; otherwise why not, as the bot would tell them."""
    if user is None:
        raise LoginRefusedError(
            "not_registered", "you are not registered yet: open the bot in Telegram and send /start first"
        )
    if user.banned:
        raise LoginRefusedError("banned", "this account is banned")
    if user.approval is ApprovalState.PENDING:
        raise LoginRefusedError("pending", "your registration is waiting for an admin's approval")
    if user.approval is not ApprovalState.APPROVED:
        raise LoginRefusedError("rejected", "your registration was not approved")
    return user


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _split_refresh(token: str) -> tuple[str, str]:
    session_id, dot, secret = token.strip().partition(".")
    if not dot or len(session_id) != 2 * _SESSION_ID_BYTES or not secret or len(token) > _MAX_TOKEN_CHARS:
        raise SessionError("the refresh token is not valid")
    return session_id, secret


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


_HEADER_PART = _b64(json.dumps(_HEADER, separators=(",", ":")).encode())


def _encode(claims: Mapping[str, Any], key: bytes) -> str:
    body = f"{_HEADER_PART}.{_b64(json.dumps(claims, separators=(',', ':'), sort_keys=True).encode())}"
    signature = hmac.new(key, body.encode(), hashlib.sha256).digest()
    return f"{body}.{_b64(signature)}"


def _decode(token: str, key: bytes) -> dict[str, Any]:
    """The claims of a token this service signed. The header must be exactly ours: no algorithm is
    taken from the token (the ``alg: none`` and key-confusion attacks have nothing to work with)."""
    if not token or len(token) > _MAX_TOKEN_CHARS or token.count(".") != 2:
        raise SessionError("the access token is not valid")
    header, body, signature = token.split(".")
    expected = hmac.new(key, f"{header}.{body}".encode(), hashlib.sha256).digest()
    try:
        given = _unb64(signature)
        if header != _HEADER_PART or not hmac.compare_digest(expected, given):
            raise SessionError("the access token is not valid")
        claims = json.loads(_unb64(body))
    except (binascii.Error, ValueError):
        raise SessionError("the access token is not valid") from None
    if not isinstance(claims, dict):
        raise SessionError("the access token is not valid")
    return claims


def _info(record: WebSessionRecord) -> SessionInfo:
    return SessionInfo(
        id=record.id,
        method=record.method,
        client=record.client,
        created_at=record.created_at,
        refreshed_at=record.refreshed_at,
        expires_at=record.expires_at,
        revoked_at=record.revoked_at,
        revoked_reason=record.revoked_reason,
    )


async def _audit(tx: UnitOfWork, user_id: int, action: str, details: dict[str, Any], at: int) -> None:
    await tx.audit.add(AuditEntry(action, user_id, f"user:{user_id}", details, at))


__all__ = [
    "Caller",
    "LoginMethod",
    "LoginRefusedError",
    "SessionError",
    "SessionInfo",
    "SessionPolicy",
    "Tokens",
    "WebSessionService",
]
