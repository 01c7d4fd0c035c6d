"""Market data for the engine: what the scanner, the levels and the exit rules read at each closed bar.

Everything comes through the adapter protocol's public calls (the unified client in practice), so
the same code reads a real venue, the paper exchange, or the paper exchange being replayed from
recorded candles:

- the market list: the venue's active USDT-settled linear perpetuals, or the configured universe;
- 24h quote volume from the tickers (one request), which ranks the market: candles, books and open
  interest are fetched only for the ``universe_size`` most traded symbols; the others are handed to
  the scanner with no candles so its decisions still list them (failed on ``universe``);
- candles of the preset's time frame, closed ones only (a venue's last candle is usually still
  forming);
- the order book and open interest where the venue has them — where it has none the scanner's
  filters are skipped and reported as skipped, never passed;
- trades per minute from an activity meter when the caller keeps one for the symbol.

A failure of one symbol's candles leaves that symbol out of the pass (reported in ``skipped``); a
failure of the market list or the tickers fails the pass.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

import numpy as np

from elcaro.exchanges.protocol import MarketData
from elcaro.marketdata import CandleArrays, timeframe_ms
from elcaro.models import Instrument
from elcaro.models.errors import ExchangeError, NetworkError, ValidationError
from elcaro.models.market import Candle, OrderBook
from elcaro.strategies.breakout.scanner import MarketSnapshot

log = logging.getLogger(__name__)

T = TypeVar("T")

BTC_SYMBOL = "BTC/USDT:USDT"
EMPTY = CandleArrays(
    np.zeros(0, dtype=np.int64),
    np.zeros(0, dtype=np.float64),
    np.zeros(0, dtype=np.float64),
    np.zeros(0, dtype=np.float64),
    np.zeros(0, dtype=np.float64),
    np.zeros(0, dtype=np.float64),
)


def is_linear_usdt(instrument: Instrument) -> bool:
    return instrument.quote == "USDT" and instrument.settle == "USDT"


@dataclass(frozen=True, slots=True)
class MarketPass:
    """What one pass read: a snapshot per market, BTC's candles for the correlation filter, what failed."""

    snapshots: tuple[MarketSnapshot, ...]
    btc: CandleArrays | None
    skipped: Mapping[str, str] = field(default_factory=dict)
    """Symbols left out of the pass, with the reason."""
    at: int = 0


class MarketFeed:
    """Reads one venue's market for the engine (see the module docstring)."""

    def __init__(
        self,
        source: MarketData,
        timeframe: str,
        *,
        clock: Callable[[], int],
        universe: Sequence[str] = (),
        concurrency: int = 8,
        book_depth: int = 50,
        trades_per_minute: Callable[[str], float | None] | None = None,
    ) -> None:
        self._source = source
        self.timeframe = timeframe
        self._bar_ms = timeframe_ms(timeframe)
        self._clock = clock
        self._universe = tuple(universe)
        self._limit = asyncio.Semaphore(concurrency)
        self._book_depth = book_depth
        self._trades_per_minute = trades_per_minute
        self._open_interest: dict[str, float] = {}

    async def markets(self) -> list[str]:
        """The symbols the engine may trade: the configured universe, or every active USDT linear perpetual."""
        instruments = await self._source.load_instruments()
        if self._universe:
            return [symbol for symbol in self._universe if symbol in instruments and instruments[symbol].active]
        return sorted(symbol for symbol, inst in instruments.items() if inst.active and is_linear_usdt(inst))

    async def read(self, symbols: Sequence[str], *, bars: int, universe_size: int) -> MarketPass:
        """One pass over ``symbols``: the ``universe_size`` most traded get candles, books and open interest."""
        tickers = await self._source.fetch_tickers(list(symbols))
        volume = {symbol: float(tickers[symbol].turnover_24h) if symbol in tickers else 0.0 for symbol in symbols}
        ranked = sorted(symbols, key=lambda symbol: (-volume[symbol], symbol))
        chosen = ranked[:universe_size]
        skipped: dict[str, str] = {}

        async def one(symbol: str) -> MarketSnapshot | None:
            try:
                candles = await self._guarded(self.candles(symbol, bars))
            except ExchangeError as error:
                if isinstance(error, NetworkError):
                    raise
                skipped[symbol] = f"no candles: {error}"
                return None
            book = await self._optional(self.book(symbol))
            interest = await self._optional(self._source.fetch_open_interest(symbol))
            now_oi = None
            if interest is not None:
                last = float(tickers[symbol].last) if symbol in tickers else None
                now_oi = float(interest.value) if interest.value is not None else None
                if now_oi is None and last is not None:
                    now_oi = float(interest.contracts) * last
            previous = self._open_interest.get(symbol)
            if now_oi is not None:
                self._open_interest[symbol] = now_oi
            return MarketSnapshot(
                symbol=symbol,
                candles=candles,
                volume_24h=volume[symbol],
                open_interest=now_oi,
                open_interest_prev=previous,
                book=book,
                trades_per_minute=self._trades_per_minute(symbol) if self._trades_per_minute else None,
            )

        read = await asyncio.gather(*(one(symbol) for symbol in chosen))
        snapshots = [snapshot for snapshot in read if snapshot is not None]
        # Ranked out: no candles fetched, but listed so the scanner's decisions say why they were not scanned.
        snapshots += [
            MarketSnapshot(symbol, EMPTY, volume[symbol], None, None, None, None) for symbol in ranked[universe_size:]
        ]
        btc = next((s.candles for s in snapshots if s.symbol == BTC_SYMBOL and len(s.candles)), None)
        if btc is None and BTC_SYMBOL not in symbols:
            btc = await self._optional(self.candles(BTC_SYMBOL, bars))
        if btc is not None and len(btc) < 2:
            btc = None
        return MarketPass(tuple(snapshots), btc, skipped, self._clock())

    async def candles(self, symbol: str, bars: int) -> CandleArrays:
        """The last ``bars`` closed candles of ``symbol``, oldest first."""
        fetched = await self._source.fetch_ohlcv(symbol, self.timeframe, limit=bars + 1)
        return CandleArrays.from_candles(self._closed(fetched)[-bars:])

    async def book(self, symbol: str) -> OrderBook | None:
        return await self._optional(self._source.fetch_order_book(symbol, self._book_depth))

    def _closed(self, candles: Sequence[Candle]) -> list[Candle]:
        now = self._clock()
        return [candle for candle in candles if candle.timestamp + self._bar_ms <= now]

    async def _guarded(self, call: Awaitable[T]) -> T:
        async with self._limit:
            return await call

    async def _optional(self, call: Awaitable[T]) -> T | None:
        """The venue's answer, or ``None`` when it has no such data or sends data that cannot be (a network
        failure still fails the pass)."""
        try:
            return await self._guarded(call)
        except NetworkError:
            raise
        except ExchangeError as error:
            log.debug("market data not available: %s", error)
            return None
        except ValidationError as error:  # the venue answered with data that cannot be (a crossed book, say)
            log.warning("market data refused as invalid: %s", error)
            return None
