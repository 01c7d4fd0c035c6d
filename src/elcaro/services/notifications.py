"""What users are told, on top of the event bus: trading events as they happen, errors in digests.

A venue that is down can fail every request of every pass; a trader must hear about it, not be
flooded with it. So per user (and for the admins' events, which carry no user) at most one error
goes out per window: the first error in a quiet spell passes at once and opens a window; errors
inside the window are counted, and when it ends one ``ErrorDigest`` sums them up (how many, of
which codes) and opens the next window. A window that ends with nothing counted closes, and the next
error passes at once again. Everything that is not an error passes through untouched.

``ErrorThrottle`` is the rule, pure, with time passed in; ``Notifications`` runs it over the bus
with a clock and a timer, and hands each subscriber the notices of one user or of everyone.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field

from elcaro.core.clock import now_ms
from elcaro.core.events import EventBus, Subscription
from elcaro.models.errors import ValidationError
from elcaro.models.events import EventKind, TradingEvent

DEFAULT_WINDOW_MS = 10 * 60_000


@dataclass(frozen=True, slots=True)
class ErrorDigest:
    """The errors held back during one window, for one user (None: the admins' errors)."""

    user_id: int | None
    at: int
    count: int
    codes: Mapping[str, int] = field(hash=False)
    """How many of each code (``error`` for an error with none)."""
    first_at: int
    last_at: int
    last_message: str = ""
    """The English fallback of the latest one, for logs and admins."""


Notice = TradingEvent | ErrorDigest


@dataclass
class _Window:
    ends_at: int
    held: list[TradingEvent] = field(default_factory=list)


class ErrorThrottle:
    """Per-user error windows (see the module docstring). Time is the caller's, in epoch ms."""

    def __init__(self, window_ms: int = DEFAULT_WINDOW_MS) -> None:
        if window_ms <= 0:
            raise ValidationError(f"the digest window must be positive, got {window_ms} ms", field="window_ms")
        self._window_ms = window_ms
        self._windows: dict[int | None, _Window] = {}

    def offer(self, event: TradingEvent, now: int) -> list[Notice]:
        """What to deliver now because of ``event``: itself, nothing (held for a digest), and any digest due."""
        due = self.due(now)
        if event.kind is not EventKind.ERROR:
            return [*due, event]
        window = self._windows.get(event.user_id)
        if window is None:
            self._windows[event.user_id] = _Window(now + self._window_ms)
            return [*due, event]
        window.held.append(event)
        return due

    def due(self, now: int) -> list[Notice]:
        """Digests of the windows that have ended by ``now``; each that held errors opens the next window."""
        digests: list[Notice] = []
        for user_id, window in list(self._windows.items()):
            if now < window.ends_at:
                continue
            if not window.held:
                del self._windows[user_id]
                continue
            digests.append(_digest(user_id, window, at=now))
            self._windows[user_id] = _Window(now + self._window_ms)
        return digests

    def next_due(self) -> int | None:
        """When the earliest window ends (None: no window open)."""
        return min((window.ends_at for window in self._windows.values()), default=None)


def _digest(user_id: int | None, window: _Window, *, at: int) -> ErrorDigest:
    held = window.held
    return ErrorDigest(
        user_id=user_id,
        at=at,
        count=len(held),
        codes=dict(Counter(event.code or "error" for event in held)),
        first_at=held[0].at,
        last_at=held[-1].at,
        last_message=held[-1].message,
    )


class Notifications:
    """The subscriber side of the event stream for the Telegram bot and the web app.

    ``running()`` (or ``run``) moves events from the bus through the throttle to the subscribers;
    ``subscribe(user_id)`` gives one user's notices, ``subscribe(None)`` everyone's (the bot's
    sender, an admin's feed). A subscriber that falls behind loses its oldest notices, never
    slowing the others, as on the bus.
    """

    def __init__(
        self,
        bus: EventBus[TradingEvent],
        *,
        window_ms: int = DEFAULT_WINDOW_MS,
        clock: Callable[[], int] = now_ms,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        queue_size: int = 10_000,
    ) -> None:
        self._bus = bus
        self._throttle = ErrorThrottle(window_ms)
        self._clock = clock
        self._sleep = sleep
        self._out: EventBus[Notice] = EventBus(queue_size=queue_size)
        self._wake = asyncio.Event()

    def subscribe(self, user_id: int | None) -> NoticeStream:
        """Notices from now on: those of ``user_id``, or all of them for None."""
        return NoticeStream(self._out.subscribe(), user_id)

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[Notifications]:
        task = asyncio.create_task(self._pump(self._bus.subscribe()), name="notifications")
        try:
            yield self
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def run(self) -> None:
        """Deliver until cancelled."""
        await self._pump(self._bus.subscribe())

    async def _pump(self, events: Subscription[TradingEvent]) -> None:
        timer = asyncio.create_task(self._digests(), name="notification digests")
        try:
            async for event in events:
                self._deliver(self._throttle.offer(event, self._clock()))
                self._wake.set()  # a window may have opened: the timer needs to know when it ends
        finally:
            events.close()
            timer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await timer

    async def _digests(self) -> None:
        """Send each digest when its window ends. Windows all last as long, so one opened later never
        ends sooner: sleeping until the earliest end misses nothing."""
        while True:
            due = self._throttle.next_due()
            if due is None:
                await self._wake.wait()
                self._wake.clear()
                continue
            await self._sleep(max(0, due - self._clock()) / 1000)
            self._deliver(self._throttle.due(self._clock()))

    def _deliver(self, notices: list[Notice]) -> None:
        for notice in notices:
            self._out.publish(notice)


class NoticeStream:
    """One subscriber's notices; ``close`` it when done."""

    def __init__(self, subscription: Subscription[Notice], user_id: int | None) -> None:
        self._subscription = subscription
        self._user_id = user_id

    def __aiter__(self) -> NoticeStream:
        return self

    async def __anext__(self) -> Notice:
        while True:
            notice = await self._subscription.get()
            if self._user_id is None or notice.user_id == self._user_id:
                return notice

    @property
    def dropped(self) -> int:
        """Notices lost because this subscriber fell behind."""
        return self._subscription.dropped

    def close(self) -> None:
        self._subscription.close()
