"""The delivery queue on a virtual clock: Telegram's limits (global, per private chat, per group), a 429 waits
exactly the advised ``retry_after``, a 403 drops the chat's queue and reports it once, order within a chat."""

from __future__ import annotations

import asyncio
import itertools
import warnings
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from telegram.error import BadRequest, Forbidden, RetryAfter, TimedOut

from elcaro.bot.delivery import Delivery, Limits, Outcome, Outgoing


def flood(seconds: int) -> RetryAfter:
    """Telegram's 429 as PTB raises it (built quietly: PTB 22 warns about its own retry_after type)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return RetryAfter(seconds)


class VirtualTime:
    """A clock that moves only when the delivery sleeps: sleeping is instant and exact."""

    def __init__(self) -> None:
        self.now = 1000.0

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds
        await asyncio.sleep(0)


@dataclass
class FakeTelegram:
    """Records each accepted message with the virtual time; fails the sends a test scripts."""

    time: VirtualTime
    sent: list[tuple[float, int, str]] = field(default_factory=list)
    attempts: list[tuple[float, int, str]] = field(default_factory=list)
    script: dict[tuple[int, str], list[Exception]] = field(default_factory=dict)
    blocked: set[int] = field(default_factory=set)

    async def send(self, message: Outgoing) -> None:
        self.attempts.append((self.time.now, message.chat_id, message.text))
        await asyncio.sleep(0)
        if message.chat_id in self.blocked:
            raise Forbidden("Forbidden: bot was blocked by the user")
        failures = self.script.get((message.chat_id, message.text))
        if failures:
            raise failures.pop(0)
        self.sent.append((self.time.now, message.chat_id, message.text))


@asynccontextmanager
async def delivering(limits: Limits | None = None) -> AsyncIterator[tuple[Delivery, FakeTelegram, list[Outgoing]]]:
    time = VirtualTime()
    telegram = FakeTelegram(time)
    reported: list[Outgoing] = []

    async def on_blocked(message: Outgoing) -> None:
        reported.append(message)

    delivery = Delivery(telegram.send, on_blocked=on_blocked, limits=limits, clock=time.clock, sleep=time.sleep)
    async with delivery.running():
        yield delivery, telegram, reported


async def test_a_429_is_retried_after_the_advised_delay() -> None:
    async with delivering() as (delivery, telegram, _):
        telegram.script[(1, "hello")] = [flood(7)]
        outcome = await delivery.submit(Outgoing(1, "hello"))
    assert outcome is Outcome.SENT
    (failed_at, _, _), (sent_at, _, _) = telegram.attempts
    assert sent_at - failed_at >= 7
    assert [text for _, _, text in telegram.sent] == ["hello"]


async def test_a_chat_keeps_its_order_through_retries_and_its_one_message_a_second() -> None:
    async with delivering() as (delivery, telegram, _):
        telegram.script[(1, "second")] = [flood(3), TimedOut()]
        futures = [delivery.submit(Outgoing(1, text)) for text in ("first", "second", "third")]
        futures.append(delivery.submit(Outgoing(2, "other chat")))
        outcomes = await asyncio.gather(*futures)
    assert outcomes == [Outcome.SENT] * 4
    mine = [(at, text) for at, chat, text in telegram.sent if chat == 1]
    assert [text for _, text in mine] == ["first", "second", "third"]
    assert all(later - earlier >= 1.0 for (earlier, _), (later, _) in itertools.pairwise(mine))
    other = next(at for at, chat, _ in telegram.sent if chat == 2)
    assert other < mine[1][0]  # one chat's wait holds up no other chat


async def test_a_blocked_chat_fails_at_once_and_is_reported_once() -> None:
    async with delivering() as (delivery, telegram, reported):
        telegram.blocked.add(5)
        futures = [delivery.submit(Outgoing(5, f"m{i}", user_id=50)) for i in range(3)]
        futures.append(delivery.submit(Outgoing(6, "fine", user_id=60)))
        outcomes = await asyncio.gather(*futures)
    assert outcomes == [Outcome.BLOCKED] * 3 + [Outcome.SENT]
    assert [message.user_id for message in reported] == [50]
    assert sum(1 for _, chat, _ in telegram.attempts if chat == 5) == 1  # nothing more was tried
    assert delivery.blocked == 3


async def test_a_refused_message_is_not_retried_and_a_flood_gives_up_after_the_attempts() -> None:
    async with delivering(Limits(max_attempts=3)) as (delivery, telegram, _):
        telegram.script[(1, "bad")] = [BadRequest("Bad Request: can't parse entities")]
        telegram.script[(2, "flooded")] = [flood(1) for _ in range(5)]
        bad = delivery.submit(Outgoing(1, "bad"))
        flooded = delivery.submit(Outgoing(2, "flooded"))
        after = delivery.submit(Outgoing(1, "after"))
        assert await bad is Outcome.FAILED
        assert await flooded is Outcome.FAILED
        assert await after is Outcome.SENT
    assert sum(1 for _, chat, _ in telegram.attempts if chat == 1) == 2
    assert sum(1 for _, chat, _ in telegram.attempts if chat == 2) == 3


async def test_never_more_than_thirty_messages_in_any_second() -> None:
    async with delivering() as (delivery, telegram, _):
        outcomes = await asyncio.gather(*(delivery.submit(Outgoing(chat, "news")) for chat in range(1, 201)))
    assert set(outcomes) == {Outcome.SENT}
    times = sorted(at for at, _, _ in telegram.sent)
    assert max(sum(1 for t in times if start <= t < start + 1) for start in times) <= 30
    assert times[-1] - times[0] >= (200 - 30) / 25  # the bucket really held them back


async def test_a_group_gets_at_most_twenty_a_minute() -> None:
    async with delivering() as (delivery, telegram, _):
        outcomes = await asyncio.gather(*(delivery.submit(Outgoing(-100123, f"g{i}")) for i in range(45)))
    assert set(outcomes) == {Outcome.SENT}
    times = [at for at, _, _ in telegram.sent]
    assert [text for _, _, text in telegram.sent] == [f"g{i}" for i in range(45)]
    assert max(sum(1 for t in times if start <= t < start + 60) for start in times) <= 20
