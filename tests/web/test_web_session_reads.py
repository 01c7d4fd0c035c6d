"""How fresh a request's view of its session is: reused for at most ``caller_cache_ms``, dropped at once by
whatever ends a session or changes a user's standing through the session service."""

from __future__ import annotations

import pytest
from web_world import BOT_TOKEN, init_data

from elcaro.models import Secret, TelegramProfile
from elcaro.services.runtime import Runtime
from elcaro.services.web_sessions import SessionError, SessionPolicy, WebSessionService

pytestmark = pytest.mark.db


class Clock:
    def __init__(self) -> None:
        self.now = 1_900_000_000_000

    def __call__(self) -> int:
        return self.now


async def _logged_in(runtime: Runtime, telegram_id: int, **policy: int) -> tuple[WebSessionService, Clock, str, int]:
    clock = Clock()
    sessions = WebSessionService(
        runtime.platform.database,
        runtime.platform.keyring,
        bot_token=Secret(BOT_TOKEN),
        policy=SessionPolicy(**policy),
        clock=clock,
    )
    users = runtime.platform.users
    user = await users.approve((await users.register(TelegramProfile(telegram_id))).id)
    tokens = await sessions.login_mini_app(init_data(telegram_id, auth_date=clock.now // 1000))
    return sessions, clock, tokens.access_token.reveal(), user.id


async def test_a_change_made_elsewhere_is_seen_within_the_cache_time(runtime: Runtime) -> None:
    sessions, clock, token, user_id = await _logged_in(runtime, 9001, caller_cache_ms=1000)
    assert (await sessions.authenticate(token)).user.id == user_id
    await runtime.platform.users.ban(user_id)  # as the bot would: not through the session service
    clock.now += 999
    assert (await sessions.authenticate(token)).user.id == user_id  # the reading of a moment ago
    clock.now += 1
    with pytest.raises(SessionError):
        await sessions.authenticate(token)


async def test_without_the_cache_every_request_reads(runtime: Runtime) -> None:
    sessions, _, token, user_id = await _logged_in(runtime, 9002, caller_cache_ms=0)
    await sessions.authenticate(token)
    await runtime.platform.users.ban(user_id)
    with pytest.raises(SessionError):
        await sessions.authenticate(token)


async def test_forgetting_a_user_applies_a_change_at_once(runtime: Runtime) -> None:
    sessions, _, token, user_id = await _logged_in(runtime, 9003, caller_cache_ms=60_000)
    assert not (await sessions.authenticate(token)).user.is_admin
    await runtime.platform.users.promote(user_id)
    assert not (await sessions.authenticate(token)).user.is_admin  # the reading from before the promotion
    sessions.forget_user(user_id)
    assert (await sessions.authenticate(token)).user.is_admin
    await runtime.platform.users.demote(user_id)
    sessions.forget_user(user_id)
    assert not (await sessions.authenticate(token)).user.is_admin


async def test_ending_sessions_through_the_service_applies_at_once(runtime: Runtime) -> None:
    sessions, _, token, user_id = await _logged_in(runtime, 9004, caller_cache_ms=60_000)
    caller = await sessions.authenticate(token)
    await sessions.revoke(user_id, caller.session_id)
    with pytest.raises(SessionError):
        await sessions.authenticate(token)

    sessions, _, token, user_id = await _logged_in(runtime, 9005, caller_cache_ms=60_000)
    await sessions.authenticate(token)
    await sessions.revoke_all(user_id, reason="banned")
    with pytest.raises(SessionError):
        await sessions.authenticate(token)


async def test_an_expired_access_token_is_refused_even_when_its_session_was_just_read(runtime: Runtime) -> None:
    sessions, clock, token, _ = await _logged_in(runtime, 9006, caller_cache_ms=60_000, access_ttl_s=10)
    await sessions.authenticate(token)
    clock.now += 10_000
    with pytest.raises(SessionError):
        await sessions.authenticate(token)
