"""Engine events as async iterators, for the adapter's ``watch_*`` methods."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Generic, TypeVar

from elcaro.exchanges.paper.engine import PaperEngine
from elcaro.exchanges.paper.events import EngineEvent

T = TypeVar("T")


class EventStream(Generic[T]):
    """The items ``select`` picks out of the engine's events, in order, until ``aclose``.

    Subscribed when created rather than on the first ``__anext__`` (as an async generator would be),
    so an event published between asking for a stream and first awaiting it is not lost.
    """

    def __init__(self, engine: PaperEngine, select: Callable[[EngineEvent], T | None]) -> None:
        self._select = select
        self._queue: asyncio.Queue[T | None] = asyncio.Queue()
        self._closed = False
        self._unsubscribe = engine.subscribe(self._on_event)

    def _on_event(self, event: EngineEvent) -> None:
        item = self._select(event)
        if item is not None:
            self._queue.put_nowait(item)

    def __aiter__(self) -> EventStream[T]:
        return self

    async def __anext__(self) -> T:
        if self._closed and self._queue.empty():
            raise StopAsyncIteration
        item = await self._queue.get()
        if item is None:  # the end marker aclose() puts after the last item
            raise StopAsyncIteration
        return item

    async def aclose(self) -> None:
        if not self._closed:
            self._closed = True
            self._unsubscribe()
            self._queue.put_nowait(None)
