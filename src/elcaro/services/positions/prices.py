"""The ATR the trailing stop needs, measured once per closed candle and shared by every position on a symbol."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from elcaro.exchanges.protocol import MarketData
from elcaro.models import Target
from elcaro.models.errors import ExchangeError
from elcaro.models.timeframe import timeframe_ms
from elcaro.services.positions.atr import average_true_range, closed_candles

log = logging.getLogger(__name__)

#: Candles fetched per ATR, in periods: Wilder's smoothing remembers its start, and three periods
#: of history bring it within a fraction of a tick of the value over the whole series.
HISTORY_PERIODS = 3


@dataclass(frozen=True, slots=True)
class _Measured:
    value: Decimal | None
    valid_until: int


class AtrCache:
    def __init__(self, timeframe: str, clock: Callable[[], int]) -> None:
        self._timeframe = timeframe
        self._length = timeframe_ms(timeframe)
        self._clock = clock
        self._values: dict[tuple[Target, str, int], _Measured] = {}

    async def get(self, source: MarketData, target: Target, symbol: str, period: int) -> Decimal | None:
        """The ATR over the last ``period`` closed candles; None when the venue has too few (trailing waits)."""
        key = (target, symbol, period)
        now = self._clock()
        cached = self._values.get(key)
        if cached is not None and now < cached.valid_until:
            return cached.value
        try:
            candles = await source.fetch_ohlcv(symbol, self._timeframe, limit=HISTORY_PERIODS * period + 2)
        except ExchangeError as error:
            log.warning("no %s candles of %s on %s for the ATR: %s", self._timeframe, symbol, target, error)
            self._values[key] = _Measured(None, now + self._length)  # not again before the next candle
            return None
        closed = closed_candles(candles, self._length, now)
        value = average_true_range(closed, period)
        # Valid until the candle after the last closed one closes too.
        until = closed[-1].timestamp + 2 * self._length if closed else now + self._length
        self._values[key] = _Measured(value, until)
        return value
