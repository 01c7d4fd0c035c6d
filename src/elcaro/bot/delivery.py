"""Outgoing messages within Telegram's limits: one queue for notifications and broadcasts.

Telegram allows a bot about 30 messages a second in all, one a second in a private chat and 20 a minute
in a group, and answers anything faster with 429 and ``retry_after``. So:

- every chat has its own FIFO, with at most one message of it in flight, so a chat reads its messages
  in the order they were submitted, retries included;
- chats take turns (round robin), so one chat with a long backlog never holds up the others;
- a token bucket keeps the whole bot under ``global_per_second`` with a small ``burst`` (25 a second and
  bursts of 5 by default: never more than 30 in any second, with room left for the replies the bot sends
  to people using it at that moment, which do not queue);
- a 429 holds that chat for the ``retry_after`` Telegram advised, then the same message is sent again;
- a 403 (the user blocked the bot, left or was deactivated) fails that chat's queue at once and reports
  the chat through ``on_blocked`` (the bot marks the user unreachable);
- a refusal (400: a bad message) is not retried; a network error is, with backoff, a few times.

Time comes from ``clock`` and waiting from ``sleep``, both injectable, so tests run the limits on a
virtual clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import warnings
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum

from telegram import InlineKeyboardMarkup, ReplyKeyboardMarkup
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError

log = logging.getLogger(__name__)

_ONE = 1 - 1e-9
"""A whole token, allowing for the float error that refills accumulate."""
_TICK = 1e-3
"""The shortest wait for a token: a clock that cannot tell tiny steps apart must still move on."""


class Outcome(StrEnum):
    SENT = "sent"
    BLOCKED = "blocked"
    """The chat refuses the bot (403): not retried, and the chat's queue is dropped."""
    FAILED = "failed"
    """Refused (400), or still failing after every attempt."""


@dataclass(frozen=True, slots=True)
class Outgoing:
    chat_id: int
    text: str
    markup: InlineKeyboardMarkup | ReplyKeyboardMarkup | None = None
    user_id: int | None = None
    """The platform user this goes to, when it goes to one (marked unreachable on 403)."""


@dataclass(frozen=True, slots=True)
class Limits:
    global_per_second: float = 25.0
    burst: float = 5.0
    """Messages that may go at once after a quiet spell: in any one second at most ``burst`` + ``global_per_second``
    leave (30 with the defaults, Telegram's limit)."""
    private_interval: float = 1.0
    """Seconds between two messages to one private chat."""
    group_per_minute: int = 20
    max_attempts: int = 5
    """Sends of one message before it is given up (429s and network errors both count)."""
    network_backoff: float = 1.0
    """First wait after a network error, doubled on each further one (at most 30 s)."""


@dataclass
class _Item:
    message: Outgoing
    done: asyncio.Future[Outcome]
    attempts: int = 0


@dataclass
class _Chat:
    chat_id: int
    items: deque[_Item] = field(default_factory=deque)
    ready_at: float = 0.0
    busy: bool = False
    recent: deque[float] = field(default_factory=deque)
    """When the last messages went to a group (for its per-minute limit)."""


Send = Callable[[Outgoing], Awaitable[object]]
OnBlocked = Callable[[Outgoing], Awaitable[None]]


class Delivery:
    def __init__(
        self,
        send: Send,
        *,
        on_blocked: OnBlocked | None = None,
        limits: Limits | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._send = send
        self._on_blocked = on_blocked
        self._limits = limits or Limits()
        self._clock = clock
        self._sleep = sleep
        self._chats: dict[int, _Chat] = {}
        self._turns: deque[int] = deque()
        """Chat ids with messages waiting, in the order they get their turn."""
        self._in_turns: set[int] = set()
        self._submitted = 0
        self._tokens = self._limits.burst
        self._refilled_at = clock()
        self._wake = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()
        self.sent = 0
        self.blocked = 0
        self.failed = 0

    # ------------------------------------------------------------------------------ submitting

    def submit(self, message: Outgoing) -> asyncio.Future[Outcome]:
        """Queue ``message``; the future tells how it ended (it never raises)."""
        done: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
        chat = self._chats.get(message.chat_id)
        if chat is None:
            chat = self._chats[message.chat_id] = _Chat(message.chat_id)
        chat.items.append(_Item(message, done))
        self._take_turns(chat)
        self._submitted += 1
        if self._submitted % 1000 == 0:
            self._forget_idle()
        self._wake.set()
        return done

    def _take_turns(self, chat: _Chat) -> None:
        if chat.items and chat.chat_id not in self._in_turns:
            self._turns.append(chat.chat_id)
            self._in_turns.add(chat.chat_id)

    def _forget_idle(self) -> None:
        """Drop chats with nothing queued whose limits no longer hold anything back."""
        now = self._clock()
        for chat_id, chat in list(self._chats.items()):
            if (
                not chat.items
                and not chat.busy
                and chat.ready_at <= now
                and (not chat.recent or chat.recent[-1] <= now - 60)
            ):
                del self._chats[chat_id]

    @property
    def pending(self) -> int:
        """Messages waiting or in flight."""
        return sum(len(chat.items) for chat in self._chats.values())

    @property
    def waiting_chats(self) -> int:
        return sum(1 for chat in self._chats.values() if chat.items)

    # ------------------------------------------------------------------------------ running

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[Delivery]:
        task = asyncio.create_task(self.run(), name="telegram delivery")
        try:
            yield self
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            for sending in list(self._tasks):
                sending.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def run(self) -> None:
        """Send until cancelled."""
        while True:
            self._wake.clear()
            now = self._clock()
            self._refill(now)
            chat = self._next_ready(now)
            if chat is not None and self._tokens >= _ONE:
                self._tokens -= 1
                self._start(chat)
                continue
            await self._wait(self._next_event(now))

    def _next_ready(self, now: float) -> _Chat | None:
        """The first chat in turn that may be sent to now (it goes to the back of the turns); chats left
        with nothing to send drop out of the turns here."""
        for _ in range(len(self._turns)):
            chat_id = self._turns.popleft()
            chat = self._chats.get(chat_id)
            if chat is None or not chat.items:
                self._in_turns.discard(chat_id)
                continue
            self._turns.append(chat_id)
            if not chat.busy and chat.ready_at <= now:
                return chat
        return None

    def _next_event(self, now: float) -> float | None:
        """Seconds until something could be sent (None: nothing waits, sleep until a submit)."""
        waiting = [chat.ready_at for chat in self._chats.values() if chat.items and not chat.busy]
        if not waiting:
            return None
        ready = max(0.0, min(waiting) - now)
        if self._tokens < _ONE:
            ready = max(ready, (1 - self._tokens) / self._limits.global_per_second, _TICK)
        return ready

    async def _wait(self, seconds: float | None) -> None:
        waking = asyncio.ensure_future(self._wake.wait())
        timers = [] if seconds is None else [asyncio.ensure_future(self._sleep(seconds))]
        try:
            await asyncio.wait([waking, *timers], return_when=asyncio.FIRST_COMPLETED)
        finally:
            for pending in (waking, *timers):
                pending.cancel()

    def _refill(self, now: float) -> None:
        rate = self._limits.global_per_second
        self._tokens = min(self._limits.burst, self._tokens + (now - self._refilled_at) * rate)
        self._refilled_at = now

    def _start(self, chat: _Chat) -> None:
        chat.busy = True
        task = asyncio.create_task(self._deliver(chat), name=f"send to {chat.chat_id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # ------------------------------------------------------------------------------ one send

    async def _deliver(self, chat: _Chat) -> None:
        item = chat.items[0]
        item.attempts += 1
        try:
            await self._send(item.message)
        except RetryAfter as error:
            chat.ready_at = self._clock() + _seconds(error)
            log.info("Telegram asks to wait %.0f s before writing to %s again", _seconds(error), chat.chat_id)
            self._after_failure(chat, item, "flood control")
        except Forbidden as error:
            log.info("chat %s refuses the bot (%s): its queue is dropped", chat.chat_id, error.message)
            await self._blocked(chat, item)
        except BadRequest as error:
            log.warning("Telegram refused a message to %s: %s", chat.chat_id, error.message)
            self._finish(chat, Outcome.FAILED)
        except NetworkError as error:  # includes TimedOut: the message may or may not have gone
            backoff = min(30.0, self._limits.network_backoff * 2 ** (item.attempts - 1))
            chat.ready_at = self._clock() + backoff
            self._after_failure(chat, item, f"network error ({error.message})")
        except TelegramError as error:
            log.warning("message to %s failed: %s", chat.chat_id, error.message)
            self._finish(chat, Outcome.FAILED)
        except Exception:
            log.exception("message to %s failed", chat.chat_id)
            self._finish(chat, Outcome.FAILED)
        else:
            self._sent(chat)
        finally:
            chat.busy = False
            self._take_turns(chat)
            self._wake.set()

    def _sent(self, chat: _Chat) -> None:
        now = self._clock()
        if chat.chat_id < 0:  # groups, supergroups and channels have negative ids
            chat.recent.append(now)
            while chat.recent and chat.recent[0] <= now - 60:
                chat.recent.popleft()
            if len(chat.recent) >= self._limits.group_per_minute:
                chat.ready_at = chat.recent[0] + 60
            else:
                chat.ready_at = now + 60 / self._limits.group_per_minute / 2
        else:
            chat.ready_at = now + self._limits.private_interval
        self.sent += 1
        self._finish(chat, Outcome.SENT)

    def _after_failure(self, chat: _Chat, item: _Item, why: str) -> None:
        if item.attempts >= self._limits.max_attempts:
            log.warning("giving up a message to %s after %s attempts (%s)", chat.chat_id, item.attempts, why)
            self._finish(chat, Outcome.FAILED)

    async def _blocked(self, chat: _Chat, item: _Item) -> None:
        """Record the chat as blocked first, then end its messages: an outcome of BLOCKED means it is recorded."""
        if self._on_blocked is not None:
            try:
                await self._on_blocked(item.message)
            except Exception:
                log.exception("recording that chat %s blocked the bot failed", chat.chat_id)
        self.blocked += len(chat.items)
        while chat.items:
            dropped = chat.items.popleft()
            if not dropped.done.done():
                dropped.done.set_result(Outcome.BLOCKED)

    def _finish(self, chat: _Chat, outcome: Outcome) -> None:
        item = chat.items.popleft()
        if outcome is Outcome.FAILED:
            self.failed += 1
        if not item.done.done():
            item.done.set_result(outcome)


def _seconds(error: RetryAfter) -> float:
    with warnings.catch_warnings():  # PTB 22 warns that retry_after becomes a timedelta; both are read
        warnings.simplefilter("ignore")
        value = error.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)
