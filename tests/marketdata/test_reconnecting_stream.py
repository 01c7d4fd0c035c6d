import asyncio
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from elcaro.marketdata import Reconnect, is_transient, reconnecting
from elcaro.models.errors import (
    AuthenticationError,
    ExchangeUnavailableError,
    NetworkError,
    RateLimitedError,
    ValidationError,
)


class FakeWatch:
    """A ``watch_*`` call that plays a script: an exception is raised, anything else returned; then it blocks."""

    def __init__(self, *script: object) -> None:
        self.script = list(script)
        self.calls = 0
        self.blocked = asyncio.Event()

    async def __call__(self) -> object:
        self.calls += 1
        if not self.script:
            self.blocked.set()
            await asyncio.Event().wait()  # like a quiet market: no update comes
        step = self.script.pop(0)
        if isinstance(step, Exception):
            raise step
        return step


class Sleeps:
    """Records each wait instead of waiting."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)


async def take(stream: AsyncIterator[object], count: int) -> list[object]:
    items = []
    async for item in stream:
        items.append(item)
        if len(items) == count:
            break
    return items


def stream(watch: Callable[[], Awaitable[object]], sleep: Sleeps, **options: Any) -> AsyncGenerator[object, None]:
    return reconnecting(watch, sleep=sleep, jitter=0.0, **options)


async def test_it_retries_a_failing_watch_with_doubling_waits_then_yields_its_updates() -> None:
    watch, sleep = (
        FakeWatch(NetworkError("reset"), ExchangeUnavailableError("maintenance"), NetworkError("x"), 1, 2),
        Sleeps(),
    )
    assert await take(stream(watch, sleep, backoff_initial=0.5), 2) == [1, 2]
    assert sleep.delays == [0.5, 1.0, 2.0]
    assert watch.calls == 5


async def test_waits_stop_growing_at_the_maximum() -> None:
    watch, sleep = FakeWatch(*[NetworkError("down")] * 7, "up"), Sleeps()
    assert await take(stream(watch, sleep, backoff_initial=1, backoff_max=10), 1) == ["up"]
    assert sleep.delays == [1, 2, 4, 8, 10, 10, 10]


async def test_a_success_resets_the_wait_to_the_shortest() -> None:
    watch, sleep = FakeWatch(NetworkError("a"), NetworkError("b"), "one", NetworkError("c"), "two"), Sleeps()
    assert await take(stream(watch, sleep), 2) == ["one", "two"]
    assert sleep.delays == [1, 2, 1]


async def test_jitter_shortens_each_wait_by_up_to_its_fraction() -> None:
    draws = iter([0.0, 0.5, 1.0])
    watch, sleep = FakeWatch(NetworkError("a"), NetworkError("b"), NetworkError("c"), "up"), Sleeps()
    updates = reconnecting(watch, sleep=sleep, jitter=0.5, backoff_initial=4, backoff_max=8, rng=lambda: next(draws))
    await take(updates, 1)
    assert sleep.delays == [4.0, 8 * 0.75, 8 * 0.5]


@pytest.mark.parametrize("error", [AuthenticationError("bad key"), ValueError("a bug")])
async def test_an_error_that_is_not_retryable_propagates_at_once(error: Exception) -> None:
    watch, sleep = FakeWatch("first", error, "never"), Sleeps()
    updates = stream(watch, sleep)
    assert await anext(updates) == "first"
    with pytest.raises(type(error)):
        await anext(updates)
    assert sleep.delays == []
    assert watch.calls == 2


async def test_the_retry_rule_can_be_replaced() -> None:
    watch, sleep = FakeWatch(ValueError("flaky parser"), "ok"), Sleeps()
    assert await take(stream(watch, sleep, is_retryable=lambda e: isinstance(e, ValueError)), 1) == ["ok"]
    with pytest.raises(NetworkError):
        await take(stream(FakeWatch(NetworkError("x")), sleep, is_retryable=lambda e: False), 1)
    assert is_transient(NetworkError("x"))
    assert not is_transient(RateLimitedError("slow down"))


async def test_a_retryable_rate_limit_waits_at_least_what_the_venue_asked() -> None:
    watch, sleep = FakeWatch(RateLimitedError("slow down", retry_after=30), RateLimitedError("again"), "ok"), Sleeps()
    await take(stream(watch, sleep, is_retryable=lambda e: isinstance(e, RateLimitedError)), 1)
    assert sleep.delays == [30, 2]


@pytest.mark.parametrize("asynchronous", [False, True])
async def test_on_reconnect_hears_of_each_attempt_before_the_wait(asynchronous: bool) -> None:
    heard: list[tuple[Reconnect, int]] = []
    errors = [NetworkError("one"), NetworkError("two")]
    sleep = Sleeps()

    def record(event: Reconnect) -> None:
        heard.append((event, len(sleep.delays)))

    async def record_later(event: Reconnect) -> None:
        await asyncio.sleep(0)
        record(event)

    callback = record_later if asynchronous else record
    await take(stream(FakeWatch(*errors, "ok"), sleep, on_reconnect=callback), 1)
    assert heard == [(Reconnect(1, 1.0, errors[0]), 0), (Reconnect(2, 2.0, errors[1]), 1)]


async def test_each_failure_is_logged_as_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    await take(stream(FakeWatch(NetworkError("connection reset"), "ok"), Sleeps()), 1)
    assert [r.getMessage() for r in caplog.records if r.name == "elcaro.marketdata.streams"] == [
        "stream failed (1 in a row): connection reset; retrying in 1.0 s"
    ]


async def test_cancelling_the_consumer_while_it_waits_to_reconnect_stops_the_stream() -> None:
    watch, started = FakeWatch(NetworkError("down"), "never"), asyncio.Event()

    async def sleep_forever(delay: float) -> None:
        started.set()
        await asyncio.Event().wait()

    consumer = asyncio.create_task(take(reconnecting(watch, sleep=sleep_forever), 1))
    await started.wait()
    consumer.cancel()
    with pytest.raises(asyncio.CancelledError):
        await consumer
    assert watch.calls == 1


async def test_cancelling_the_consumer_during_a_watch_is_not_taken_for_a_failure() -> None:
    watch, sleep = FakeWatch("first"), Sleeps()
    consumer = asyncio.create_task(take(stream(watch, sleep), 2))
    await watch.blocked.wait()
    consumer.cancel()
    with pytest.raises(asyncio.CancelledError):
        await consumer
    assert sleep.delays == []
    assert watch.calls == 2


async def test_leaving_the_loop_closes_the_stream_without_another_call() -> None:
    watch = FakeWatch(1, 2, 3)
    updates = stream(watch, Sleeps())
    assert await take(updates, 2) == [1, 2]
    await updates.aclose()
    assert watch.calls == 2


@pytest.mark.parametrize(
    ("options", "reason"),
    [
        ({"backoff_initial": 0}, "0 < backoff_initial ≤ backoff_max"),
        ({"backoff_initial": 5, "backoff_max": 1}, "got 5 and 1"),
        ({"jitter": 1.5}, "jitter is a fraction from 0 to 1, got 1.5"),
    ],
)
async def test_nonsense_settings_are_refused(options: dict[str, Any], reason: str) -> None:
    with pytest.raises(ValidationError, match=reason):
        await anext(reconnecting(FakeWatch("x"), **options))
