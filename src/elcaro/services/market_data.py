"""The candle store as the rest of the platform uses it: import, read at any timeframe, check health."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from elcaro.exchanges.protocol import MarketData
from elcaro.marketdata import SeriesHealth, Timeframe, check_health, read_candles, resample
from elcaro.models.errors import NotFoundError
from elcaro.models.market import Candle
from elcaro.storage import Database

log = logging.getLogger(__name__)

_IMPORT_BATCH = 20_000


@dataclass(frozen=True, slots=True)
class ImportReport:
    stored: int
    health: SeriesHealth


class MarketDataService:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def import_csv(self, path: Path, *, exchange: str, symbol: str, timeframe: str) -> ImportReport:
        """Store a candle file; a malformed, duplicate or unsorted row stops the import with nothing stored."""
        tf = Timeframe.parse(timeframe)
        candles = list(read_candles(path))  # validated whole before the first write
        async with self._db.transaction() as tx:
            for start in range(0, len(candles), _IMPORT_BATCH):
                await tx.candles.put(exchange, symbol, tf.name, candles[start : start + _IMPORT_BATCH])
        report = ImportReport(len(candles), check_health(candles, tf))
        log.info(
            "imported %s %s %s candles of %s from %s: %s",
            report.stored,
            tf,
            symbol,
            exchange,
            path,
            report.health.summary(),
        )
        return report

    async def import_from(
        self,
        source: MarketData,
        *,
        exchange: str,
        symbol: str,
        timeframe: str,
        since: int,
        until: int,
        page: int = 1000,
    ) -> ImportReport:
        """Page through a venue's candles from ``since`` to ``until`` and store them.

        Each page is stored as it arrives, so an interrupted import keeps what it fetched and a
        second run continues where the store ends.
        """
        tf = Timeframe.parse(timeframe)
        fetched: list[Candle] = []
        cursor = since
        while cursor < until:
            batch = [
                c for c in await source.fetch_ohlcv(symbol, tf.name, since=cursor, limit=page) if c.timestamp < until
            ]
            batch = [c for c in batch if c.timestamp >= cursor]
            if not batch:
                break
            async with self._db.transaction() as tx:
                await tx.candles.put(exchange, symbol, tf.name, batch)
            fetched.extend(batch)
            cursor = batch[-1].timestamp + tf.ms
        return ImportReport(len(fetched), check_health(fetched, tf, start=since, end=until - tf.ms))

    async def candles(
        self,
        exchange: str,
        symbol: str,
        timeframe: str,
        *,
        since: int | None = None,
        until: int | None = None,
        include_partial: bool = False,
    ) -> list[Candle]:
        """Candles at ``timeframe``: stored ones, or resampled from the longest stored timeframe that divides it."""
        tf = Timeframe.parse(timeframe)
        async with self._db.transaction() as tx:
            stored = {Timeframe.parse(name) for name in await tx.candles.timeframes(exchange, symbol)}
            if tf in stored:
                return await tx.candles.get(exchange, symbol, tf.name, since=since, until=until)
            bases = sorted((base for base in stored if tf.contains(base)), key=lambda base: base.ms)
            if not bases:
                held = ", ".join(sorted(b.name for b in stored)) or "none"
                raise NotFoundError(
                    f"no {tf} candles for {symbol} on {exchange}, nor shorter ones to build them from (stored: {held})"
                )
            base = bases[-1]
            start = tf.floor(since) if since is not None else None
            rows = await tx.candles.get(exchange, symbol, base.name, since=start, until=until)
        bars = resample(rows, base, tf, include_partial=include_partial).candles
        return [bar for bar in bars if since is None or bar.timestamp >= since]

    async def health(self, exchange: str, symbol: str, timeframe: str) -> SeriesHealth:
        tf = Timeframe.parse(timeframe)
        async with self._db.transaction() as tx:
            return check_health(await tx.candles.get(exchange, symbol, tf.name), tf)
