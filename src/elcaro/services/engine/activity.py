"""Market activity for the engine: an activity meter per followed symbol, fed by the venue's public trade stream.

The engine follows the symbols that matter now — its open trades (whose exit rule reads a sharp drop
of activity) and the scanner's latest candidates (whose trades-per-minute filter reads the rate) —
and stops following the others. A meter's rate is reported only once it has watched a whole long
window (a shorter watch would understate it); until then the scanner's filter is skipped, and said
so. A venue without a trade stream leaves every figure unknown, never made up.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterable

from elcaro.exchanges.protocol import MarketData
from elcaro.models.errors import ElcaroError
from elcaro.strategies.breakout.activity import ActivityMeter, ActivitySettings

log = logging.getLogger(__name__)


class ActivityWatch:
    def __init__(self, source: MarketData, settings: ActivitySettings, clock: Callable[[], int]) -> None:
        self._source = source
        self._settings = settings
        self._clock = clock
        self._meters: dict[str, ActivityMeter] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}

    @property
    def followed(self) -> frozenset[str]:
        return frozenset(self._tasks)

    def follow(self, symbols: Iterable[str]) -> None:
        """Follow exactly ``symbols`` from now on: new ones get a meter and a stream, dropped ones lose both."""
        wanted = set(symbols)
        for symbol in set(self._tasks) - wanted:
            self._tasks.pop(symbol).cancel()
            self._meters.pop(symbol, None)
        for symbol in sorted(wanted - set(self._tasks)):
            meter = ActivityMeter(self._settings, since=self._clock())
            self._meters[symbol] = meter
            self._tasks[symbol] = asyncio.create_task(self._feed(symbol, meter), name=f"activity {symbol}")

    def retune(self, settings: ActivitySettings) -> None:
        """New windows (a preset reload): the meters start again."""
        followed = self.followed
        self.follow(())
        self._settings = settings
        self.follow(followed)

    def trades_per_minute(self, symbol: str) -> float | None:
        """The long window's trade rate, once the meter has watched all of it; ``None`` before (or unfollowed)."""
        meter = self._meters.get(symbol)
        if meter is None:
            return None
        window = meter.snapshot(self._clock()).window(self._settings.index_long_s)
        return window.trades_per_minute if window.complete else None

    def dropped(self, symbol: str) -> bool:
        meter = self._meters.get(symbol)
        return meter is not None and meter.dropped(self._clock())

    async def close(self) -> None:
        tasks = list(self._tasks.values())
        self._tasks.clear()
        self._meters.clear()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _feed(self, symbol: str, meter: ActivityMeter) -> None:
        stream = self._source.watch_trades(symbol)
        try:
            async for trade in stream:
                meter.add(trade)
        except ElcaroError as error:  # no stream on this venue, or it gave up reconnecting: figures stay unknown
            log.info("no public trades for %s: %s", symbol, error)
        finally:
            close = getattr(stream, "aclose", None)
            if close is not None:
                with contextlib.suppress(Exception):
                    await close()
