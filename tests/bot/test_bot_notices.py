"""Notifications through the whole bot: the event stream → the user's language → the delivery queue → the fake
Bot API. A 429 is retried after the advised delay (on a virtual clock); a user who blocked the bot is marked
unreachable and skipped, and reachable again as soon as they write."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from bot_world import PAPER, bot_world

from elcaro.core.clock import now_ms
from elcaro.models.events import EventKind, TradingEvent

pytestmark = pytest.mark.db

ERIN = 6006


async def eventually(check: Callable[[], Awaitable[bool]], within: float = 30.0) -> None:
    """Wait for a condition the bot reaches in the background: a database write has no event to wait on."""
    async with asyncio.timeout(within):
        while not await check():  # noqa: ASYNC110 - polling the database, which announces nothing
            await asyncio.sleep(0.02)


class VirtualTime:
    def __init__(self) -> None:
        self.now = 0.0

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds
        await asyncio.sleep(0)


def _error(user_id: int, code: str = "sync_failed") -> TradingEvent:
    return TradingEvent(EventKind.ERROR, at=now_ms(), user_id=user_id, target=PAPER, symbol="BTC/USDT:USDT", code=code)


def _skipped(user_id: int, code: str) -> TradingEvent:
    """Not an error: passes the digest throttle every time."""
    kind = EventKind.ENTRY_SKIPPED
    return TradingEvent(kind, at=now_ms(), user_id=user_id, target=PAPER, symbol="BTC/USDT:USDT", code=code)


async def test_a_flood_answer_is_waited_out_as_telegram_advised(tmp_path: Path, empty_database_url: str) -> None:
    time = VirtualTime()
    async with bot_world(tmp_path, empty_database_url, clock=time.clock, sleep=time.sleep) as world:
        erin = await world.trader(ERIN, "Erin", language="ru")
        user = await world.user(ERIN)
        world.api.fail("sendMessage", chat_id=ERIN, code=429, retry_after=30)
        started = time.now
        world.runtime.bus.publish(_error(user.id))
        card = await erin.next("не удалось сверить счёт с биржей")
        assert card.plain.startswith("⚠️ BTCUSDT (Bybit · Бумажная)")
        attempts = [call for call in world.api.calls_of("sendMessage") if int(call.params["chat_id"]) == ERIN][-2:]
        assert [(call.ok, call.error) for call in attempts] == [
            (False, "Too Many Requests: retry after 30"),
            (True, None),
        ]
        assert time.now - started >= 30


async def test_a_user_who_blocked_the_bot_is_skipped_until_they_write_again(
    tmp_path: Path, empty_database_url: str
) -> None:
    async with bot_world(tmp_path, empty_database_url) as world:
        erin = await world.trader(ERIN, "Erin")
        user = await world.user(ERIN)
        world.api.block(ERIN)
        world.runtime.bus.publish(_error(user.id))

        async def marked() -> bool:
            return (await world.user(ERIN)).bot_blocked_at is not None

        await eventually(marked)
        refused = [call for call in world.api.calls_of("sendMessage") if int(call.params["chat_id"]) == ERIN]
        assert [call.error for call in refused if not call.ok] == ["Forbidden: bot was blocked by the user"]

        # Skipped while blocked: nothing more is even tried. (The feed takes notices in order: once Fred's card
        # is out, Erin's notice before it has been dealt with.)
        fred = await world.trader(6007, "Fred")
        world.runtime.bus.publish(_skipped(user.id, "cooldown"))
        world.runtime.bus.publish(_skipped((await world.user(6007)).id, "cooldown"))
        await fred.next("the cool-down after your last trade on this coin")
        assert [c for c in world.api.calls_of("sendMessage") if int(c.params["chat_id"]) == ERIN] == refused

        # Writing again makes them reachable.
        world.api.blocked.discard(ERIN)
        await erin.send("/menu")
        await erin.next("Choose what to do")
        assert (await world.user(ERIN)).bot_blocked_at is None
        world.runtime.bus.publish(_skipped(user.id, "max_positions"))
        await erin.next("Signal not copied: BTCUSDT (Bybit · Paper): you hold the most positions your settings allow.")
