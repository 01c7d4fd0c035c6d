"""Virtual time for an asyncio loop: when nothing is ready to run, time jumps to the next timer.

``asyncio.sleep(60)`` then returns at once, yet ``loop.time()`` reads 60 s later, and concurrent
sleepers wake in the order and at the instants a real clock would give them. Timeouts
(``asyncio.timeout``) run on the same clock. So tests of pacing, back-off and deadlines assert on
exact virtual seconds, run in milliseconds, and cannot flake on a slow machine.
"""

from __future__ import annotations

import asyncio
import selectors
from typing import Any, cast


class _JumpingSelector:
    """Wraps the loop's selector: a wait with a timeout becomes a jump of the clock."""

    def __init__(self, real: selectors.BaseSelector, clock: VirtualClock) -> None:
        self._real = real
        self._clock = clock

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        if timeout is None:
            return self._real.select(None)  # nothing scheduled at all: only I/O can wake the loop
        ready = self._real.select(0)
        if not ready and timeout > 0:
            self._clock.now += timeout
        return ready

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


class VirtualClock:
    """Makes ``loop``'s clock virtual, starting from its current reading, until ``restore``."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = cast(Any, loop)  # reaches into the loop's privates, on purpose
        self.now = loop.time()
        self.start = self.now
        self._real_selector = self._loop._selector
        self._loop._selector = _JumpingSelector(self._real_selector, self)
        self._loop.time = self.time

    def time(self) -> float:
        return self.now

    @property
    def elapsed(self) -> float:
        return self.now - self.start

    def restore(self) -> None:
        self._loop._selector = self._real_selector
        del self._loop.time
