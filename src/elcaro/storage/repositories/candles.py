"""The candle store: recorded OHLCV per venue, symbol and timeframe."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from elcaro.models.market import Candle
from elcaro.storage.orm import CandleRow
from elcaro.storage.upsert import upsert

# SQLite allows 32,766 bound parameters per statement; 9 columns a row leaves room for 3,000 rows.
_BATCH = 3000


class CandlesRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def put(self, exchange: str, symbol: str, timeframe: str, candles: Iterable[Candle]) -> int:
        """Insert or overwrite candles (a re-import corrects a bar rather than duplicating it)."""
        written = 0
        batch: list[dict[str, object]] = []
        for candle in candles:
            batch.append(
                {
                    "exchange": exchange,
                    "symbol": symbol,
                    "timeframe": timeframe,
                    "ts": candle.timestamp,
                    "open": candle.open,
                    "high": candle.high,
                    "low": candle.low,
                    "close": candle.close,
                    "volume": candle.volume,
                }
            )
            if len(batch) == _BATCH:
                written += await self._write(batch)
                batch = []
        if batch:
            written += await self._write(batch)
        return written

    async def _write(self, rows: list[dict[str, object]]) -> int:
        await self._session.execute(
            upsert(self._session, CandleRow, rows, key=("exchange", "symbol", "timeframe", "ts"))
        )
        return len(rows)

    async def get(
        self,
        exchange: str,
        symbol: str,
        timeframe: str,
        *,
        since: int | None = None,
        until: int | None = None,
        limit: int | None = None,
    ) -> list[Candle]:
        """Oldest first, ``since`` ≤ open time < ``until``."""
        query = (
            select(CandleRow)
            .where(CandleRow.exchange == exchange, CandleRow.symbol == symbol, CandleRow.timeframe == timeframe)
            .order_by(CandleRow.ts)
        )
        if since is not None:
            query = query.where(CandleRow.ts >= since)
        if until is not None:
            query = query.where(CandleRow.ts < until)
        if limit is not None:
            query = query.limit(limit)
        return [
            Candle(row.ts, row.open, row.high, row.low, row.close, row.volume)
            for row in await self._session.scalars(query)
        ]

    async def timeframes(self, exchange: str, symbol: str) -> list[str]:
        """The timeframes stored for a symbol."""
        query = (
            select(CandleRow.timeframe)
            .where(CandleRow.exchange == exchange, CandleRow.symbol == symbol)
            .distinct()
            .order_by(CandleRow.timeframe)
        )
        return list(await self._session.scalars(query))

    async def span(self, exchange: str, symbol: str, timeframe: str) -> tuple[int, int, int] | None:
        """(first open time, last open time, count), or None when nothing is stored."""
        row = (
            await self._session.execute(
                select(func.min(CandleRow.ts), func.max(CandleRow.ts), func.count()).where(
                    CandleRow.exchange == exchange, CandleRow.symbol == symbol, CandleRow.timeframe == timeframe
                )
            )
        ).one()
        return None if row[2] == 0 else (row[0], row[1], row[2])
