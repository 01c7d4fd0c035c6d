"""One client per (user, target), kept while it is used and closed when it is not.

Reuse is the point: an adapter holds an HTTP session and loaded markets, and making one per call
would cost a handshake and a market load every time. All clients of a pool share one rate limiter,
because a venue counts every account of this process against the same IP budget.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
from collections.abc import Awaitable, Callable, Mapping
from types import TracebackType

from prometheus_client import CollectorRegistry

from elcaro.exchanges.client.client import ClientSettings, ExchangeClient, SharedTickers
from elcaro.exchanges.client.limits import DEFAULT_LIMITS, VenueLimits
from elcaro.exchanges.client.metrics import PLATFORM_REGISTRY, metrics_for
from elcaro.exchanges.client.ratelimit import RateLimiter
from elcaro.exchanges.client.timing import Timing
from elcaro.exchanges.protocol import ExchangeAdapter
from elcaro.models import Exchange, ExchangeKeys, Target
from elcaro.models.errors import ExchangeError, ValidationError

log = logging.getLogger(__name__)

AdapterFactory = Callable[[int, Target, ExchangeKeys | None], ExchangeAdapter | Awaitable[ExchangeAdapter]]
"""Makes the adapter of one user's account (sync or async): the venue-specific part of opening a client.

The user id is passed because a paper account is named by its owner rather than by keys."""

KeyLoader = Callable[[int, Target], Awaitable[ExchangeKeys | None]]
"""The user's decrypted keys for a target (``None`` where none are needed, as for paper)."""

_Key = tuple[int, Target]


class ExchangeClientPool:
    """Hands out one ``ExchangeClient`` per (user id, target), opening it on first use.

    A client neither called nor handed out for ``idle_timeout`` seconds is closed (checked every
    half of it); the next ``get`` opens a new one. A client with a call or stream under way is never
    idle. Callers should ``get`` a client when they need it rather than keep one for long.
    """

    def __init__(
        self,
        factory: AdapterFactory,
        keys: KeyLoader,
        *,
        idle_timeout: float = 900.0,
        limits: Mapping[Exchange, VenueLimits] = DEFAULT_LIMITS,
        settings: ClientSettings | None = None,
        registry: CollectorRegistry = PLATFORM_REGISTRY,
        timing: Timing | None = None,
    ) -> None:
        if idle_timeout <= 0:
            raise ValidationError(f"idle_timeout is positive, got {idle_timeout}", field="idle_timeout")
        self._factory = factory
        self._keys = keys
        self._idle_timeout = idle_timeout
        self._timing = timing or Timing()
        self._limiter = RateLimiter(limits, timing=self._timing)
        self._settings = settings or ClientSettings()
        self._metrics = metrics_for(registry)
        self._clients: dict[_Key, ExchangeClient] = {}
        self._tickers: dict[Target, SharedTickers] = {}
        self._handed_out: dict[_Key, float] = {}
        self._opening: dict[_Key, asyncio.Future[ExchangeClient]] = {}
        self._reaper: asyncio.Task[None] | None = None
        self._closed = False

    def __len__(self) -> int:
        return len(self._clients)

    async def get(self, user_id: int, target: Target) -> ExchangeClient:
        """The client of ``user_id`` on ``target``; callers asking at once share one opening."""
        if self._closed:
            raise ExchangeError("the exchange client pool is closed")
        key = (user_id, target)
        client = self._clients.get(key)
        if client is None or client.closed:
            opening = self._opening.get(key)
            if opening is None:
                opening = self._opening[key] = asyncio.ensure_future(self._open(key))
                opening.add_done_callback(lambda done: self._opened(key, done))
            client = await asyncio.shield(opening)
        self._handed_out[key] = self._timing.clock()
        if self._reaper is None:
            self._reaper = asyncio.create_task(self._reap_forever())
        return client

    async def discard(self, user_id: int, target: Target) -> None:
        """Close the client of ``user_id`` on ``target`` now (the user's keys changed)."""
        key = (user_id, target)
        client = self._clients.pop(key, None)
        self._handed_out.pop(key, None)
        if client is not None:
            await self._close_all([client])

    async def close_idle(self) -> int:
        """Close every client idle for ``idle_timeout``; returns how many."""
        now = self._timing.clock()
        idle = [
            key for key, client in self._clients.items() if self._idle_seconds(key, client, now) >= self._idle_timeout
        ]
        closing = [self._clients.pop(key) for key in idle]
        for key in idle:
            self._handed_out.pop(key, None)
        await self._close_all(closing)
        return len(closing)

    async def close(self) -> None:
        """Close every client, waiting for those being opened; ``get`` refuses from now on."""
        self._closed = True
        if self._reaper is not None:
            self._reaper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reaper
        await asyncio.gather(*self._opening.values(), return_exceptions=True)
        closing = list(self._clients.values())
        self._clients.clear()
        self._handed_out.clear()
        await self._close_all(closing)

    async def __aenter__(self) -> ExchangeClientPool:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        await self.close()

    async def _open(self, key: _Key) -> ExchangeClient:
        user_id, target = key
        made = self._factory(user_id, target, await self._keys(user_id, target))
        adapter = await made if inspect.isawaitable(made) else made
        client = ExchangeClient(
            adapter,
            limiter=self._limiter.for_account(target, user_id),
            settings=self._settings,
            metrics=self._metrics,
            timing=self._timing,
            tickers=self._tickers.setdefault(target, SharedTickers(self._settings.cache, self._timing.clock)),
        )
        self._clients[key] = client
        return client

    def _opened(self, key: _Key, done: asyncio.Future[ExchangeClient]) -> None:
        if self._opening.get(key) is done:
            del self._opening[key]
        if not done.cancelled():
            done.exception()  # retrieved here: a failed opening whose callers all left must not warn

    def _idle_seconds(self, key: _Key, client: ExchangeClient, now: float) -> float:
        idle = client.idle_seconds()
        if idle is None:
            return 0.0
        return min(idle, now - self._handed_out.get(key, now - idle))

    async def _reap_forever(self) -> None:
        while True:
            await self._timing.sleep(self._idle_timeout / 2)
            await self.close_idle()

    @staticmethod
    async def _close_all(clients: list[ExchangeClient]) -> None:
        results = await asyncio.gather(*(client.close() for client in clients), return_exceptions=True)
        for client, result in zip(clients, results, strict=True):
            if isinstance(result, BaseException):
                log.warning("closing the client for %s failed: %r", client.target, result)
