"""An in-process publish/subscribe bus: the embedded default behind the platform's event stream.

Publishing never blocks and never fails because of a subscriber: each subscriber has its own
bounded queue, and one that falls behind loses its oldest events (counted in ``dropped``) rather
than slowing the trading path that publishes them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Generic, TypeVar

log = logging.getLogger(__name__)

E = TypeVar("E")


class Subscription(Generic[E]):
    def __init__(self, bus: EventBus[E], size: int) -> None:
        self._bus = bus
        self._queue: asyncio.Queue[E] = asyncio.Queue(size)
        self.dropped = 0

    def _offer(self, event: E) -> None:
        if self._queue.full():
            self._queue.get_nowait()
            self.dropped += 1
        self._queue.put_nowait(event)

    async def get(self) -> E:
        return await self._queue.get()

    def pending(self) -> int:
        return self._queue.qsize()

    def close(self) -> None:
        self._bus._subscriptions.discard(self)

    async def __aiter__(self) -> AsyncIterator[E]:
        try:
            while True:
                yield await self._queue.get()
        finally:
            self.close()


class EventBus(Generic[E]):
    def __init__(self, *, queue_size: int = 10_000) -> None:
        self._subscriptions: set[Subscription[E]] = set()
        self._queue_size = queue_size

    def subscribe(self) -> Subscription[E]:
        """Events published from now on; close the subscription (or stop iterating it) when done."""
        subscription = Subscription(self, self._queue_size)
        self._subscriptions.add(subscription)
        return subscription

    @property
    def subscribers(self) -> int:
        """Open subscriptions: a publisher may hold back what nobody would receive."""
        return len(self._subscriptions)

    def publish(self, event: E) -> None:
        for subscription in list(self._subscriptions):
            subscription._offer(event)
