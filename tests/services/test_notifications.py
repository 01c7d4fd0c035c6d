"""Notifications: everything passes through except errors, which are throttled per user into digests."""

from __future__ import annotations

import asyncio

import pytest

from elcaro.core.events import EventBus
from elcaro.exchanges.paper import ManualClock
from elcaro.models.errors import ValidationError
from elcaro.models.events import EventKind, TradingEvent
from elcaro.services.notifications import ErrorDigest, ErrorThrottle, Notifications

MINUTE = 60_000
WINDOW = 10 * MINUTE


def error(user_id: int | None, at: int, code: str = "sync_failed", message: str = "") -> TradingEvent:
    return TradingEvent(EventKind.ERROR, at, user_id=user_id, code=code, message=message)


def closed(user_id: int, at: int) -> TradingEvent:
    return TradingEvent(EventKind.POSITION_CLOSED, at, user_id=user_id, data={"realized_pnl": "12.5"})


def test_everything_but_errors_passes_at_once() -> None:
    throttle = ErrorThrottle(WINDOW)
    assert throttle.offer(closed(1, 0), 0) == [closed(1, 0)]
    assert throttle.offer(closed(1, 1), 1) == [closed(1, 1)]
    assert throttle.next_due() is None


def test_one_error_per_window_the_rest_summed_up_when_it_ends() -> None:
    throttle = ErrorThrottle(WINDOW)
    first = error(1, 0, message="down")
    assert throttle.offer(first, 0) == [first]
    assert throttle.offer(error(1, MINUTE, "order_refused"), MINUTE) == []
    assert throttle.offer(error(1, 2 * MINUTE, message="still down"), 2 * MINUTE) == []
    assert throttle.offer(closed(1, 3 * MINUTE), 3 * MINUTE) == [closed(1, 3 * MINUTE)]  # not held back
    assert throttle.due(WINDOW - 1) == []
    assert throttle.due(WINDOW) == [
        ErrorDigest(
            user_id=1,
            at=WINDOW,
            count=2,
            codes={"order_refused": 1, "sync_failed": 1},
            first_at=MINUTE,
            last_at=2 * MINUTE,
            last_message="still down",
        )
    ]
    # The digest opened the next window: an error in it waits too.
    assert throttle.offer(error(1, WINDOW + 1), WINDOW + 1) == []
    (digest,) = throttle.due(2 * WINDOW)
    assert isinstance(digest, ErrorDigest) and digest.count == 1
    # A window that ends with nothing held closes; the next error passes at once again.
    assert throttle.due(3 * WINDOW) == []
    assert throttle.next_due() is None
    late = error(1, 3 * WINDOW + 5)
    assert throttle.offer(late, 3 * WINDOW + 5) == [late]


def test_each_user_and_the_admins_have_their_own_window() -> None:
    throttle = ErrorThrottle(WINDOW)
    one, two, admins = error(1, 0), error(2, MINUTE), error(None, MINUTE, "signal_source_down")
    assert throttle.offer(one, 0) == [one]
    assert throttle.offer(two, MINUTE) == [two]
    assert throttle.offer(admins, MINUTE) == [admins]
    assert throttle.offer(error(1, 2 * MINUTE), 2 * MINUTE) == []
    assert throttle.next_due() == WINDOW
    # A digest that falls due is delivered with the next event offered, whoever it is for.
    delivered = throttle.offer(closed(2, WINDOW), WINDOW)
    assert [type(n) for n in delivered] == [ErrorDigest, TradingEvent] and delivered[0].user_id == 1


def test_a_window_must_have_a_length() -> None:
    with pytest.raises(ValidationError, match="window must be positive"):
        ErrorThrottle(0)


class Timer:
    """The digest timer's sleep, released by the test; the clock moves by what was slept."""

    def __init__(self, clock: ManualClock) -> None:
        self.clock = clock
        self.slept: list[float] = []
        self._release = asyncio.Event()

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        await self._release.wait()
        self._release.clear()
        self.clock.advance(round(seconds * 1000))

    def release(self) -> None:
        self._release.set()


async def test_subscribers_get_their_notices_and_the_digest_when_the_window_ends() -> None:
    bus: EventBus[TradingEvent] = EventBus()
    clock = ManualClock(1_000_000)
    timer = Timer(clock)
    notifications = Notifications(bus, window_ms=WINDOW, clock=clock, sleep=timer.sleep)
    async with notifications.running():
        mine, theirs, everyone = notifications.subscribe(1), notifications.subscribe(2), notifications.subscribe(None)
        first = error(1, clock(), message="bybit:demo unreachable")
        bus.publish(first)
        assert await anext(mine) == first
        bus.publish(error(1, clock()))
        bus.publish(error(1, clock(), "order_refused"))
        bus.publish(closed(2, clock()))
        assert await anext(theirs) == closed(2, clock())  # the held errors went in before it
        timer.release()
        digest = await anext(mine)
        assert isinstance(digest, ErrorDigest)
        assert (digest.count, dict(digest.codes), digest.at) == (2, {"sync_failed": 1, "order_refused": 1}, 1_600_000)
        assert timer.slept[0] == WINDOW / 1000  # and now sleeps through the window the digest opened
        seen = [await anext(everyone) for _ in range(3)]
        assert [n.user_id for n in seen] == [1, 2, 1]  # the first error, user 2's close, the digest
        assert theirs.dropped == 0
        mine.close()
        theirs.close()
        everyone.close()
