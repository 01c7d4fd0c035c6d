"""A time-to-live cache whose loads are shared: callers asking for a key while it loads wait for that load.

The load runs in a task of its own, so a caller that gives up (cancelled, timed out) does not take
the answer away from the others waiting for it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

from elcaro.exchanges.client.timing import Clock

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class TtlCache(Generic[K, V]):
    """Values kept ``ttl`` seconds from their arrival; ``ttl`` 0 keeps none and only shares loads.

    ``invalidate`` forgets every value and detaches the loads under way: their callers still get
    what they asked for, but it is not kept and nobody new joins them. A balance read that started
    before an order must not be served to someone asking after it.
    """

    def __init__(self, ttl: float, clock: Clock, *, on_lookup: Callable[[bool], None] | None = None) -> None:
        self._ttl = ttl
        self._clock = clock
        self._on_lookup = on_lookup
        self._values: dict[K, tuple[float, V]] = {}
        self._loads: dict[K, asyncio.Future[V]] = {}
        self._generation = 0

    async def get(
        self, key: K, load: Callable[[], Awaitable[V]], *, on_lookup: Callable[[bool], None] | None = None
    ) -> V:
        """The value of ``key``: kept, being loaded by someone else, or loaded now with ``load``.

        ``on_lookup`` counts this lookup (hit or miss) instead of the cache's own counter: for a cache that
        several clients share, each counting under its own labels.
        """
        count = on_lookup or self._count
        kept = self._values.get(key)
        if kept is not None and kept[0] > self._clock():
            count(True)
            return kept[1]
        pending = self._loads.get(key)
        if pending is None:
            count(False)
            pending = asyncio.ensure_future(self._load(key, load, self._generation))
            self._loads[key] = pending
            pending.add_done_callback(lambda done: self._forget_load(key, done))
        else:
            count(True)
        return await asyncio.shield(pending)

    def put(self, key: K, value: V) -> None:
        if self._ttl > 0:
            self._values[key] = (self._clock() + self._ttl, value)

    def invalidate(self) -> None:
        self._generation += 1
        self._values.clear()
        self._loads.clear()

    async def _load(self, key: K, load: Callable[[], Awaitable[V]], generation: int) -> V:
        value = await load()
        if generation == self._generation:
            self.put(key, value)
        return value

    def _forget_load(self, key: K, done: asyncio.Future[V]) -> None:
        if self._loads.get(key) is done:
            del self._loads[key]
        if not done.cancelled():
            done.exception()  # retrieved here so a load whose callers all left does not warn at exit

    def _count(self, hit: bool) -> None:
        if self._on_lookup is not None:
            self._on_lookup(hit)
