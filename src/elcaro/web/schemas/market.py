"""Bodies of ``/api/v1/market``: a venue's candles, and the caller's entries, exits and position levels on them."""

from __future__ import annotations

from decimal import Decimal

from pydantic import Field

from elcaro.models.market import Candle
from elcaro.services.desk.chart import ChartCandles, ChartMark, ChartMarks, PriceLevel
from elcaro.web.schemas.common import Model


class CandleOut(Model):
    time: int = Field(description="Open time, epoch ms UTC.")
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal

    @classmethod
    def of(cls, candle: Candle) -> CandleOut:
        return cls(
            time=candle.timestamp,
            open=candle.open,
            high=candle.high,
            low=candle.low,
            close=candle.close,
            volume=candle.volume,
        )


class CandlesOut(Model):
    target: str
    symbol: str = Field(description="Canonical (`BTC/USDT:USDT`), however it was asked for.")
    timeframe: str
    candles: list[CandleOut] = Field(
        description="Oldest first; the last one may still be forming. Empty while a paper market has none yet."
    )

    @classmethod
    def of(cls, found: ChartCandles) -> CandlesOut:
        return cls(
            target=str(found.target),
            symbol=found.symbol,
            timeframe=found.timeframe,
            candles=[CandleOut.of(candle) for candle in found.candles],
        )


class MarkOut(Model):
    kind: str = Field(description="`entry` or `exit`.")
    time: int = Field(description="Epoch ms UTC.")
    side: str = Field(description="The position's side: `long` or `short`.")
    price: Decimal
    trade_id: int | None = Field(None, description="The trade an exit closed.")
    position_id: int | None = Field(None, description="The open position an entry opened.")
    exit_reason: str | None = None
    net_pnl: Decimal | None = Field(None, description="An exit's PnL after fees and funding.")

    @classmethod
    def of(cls, mark: ChartMark) -> MarkOut:
        return cls(
            kind=mark.kind.value,
            time=mark.time,
            side=mark.side.value,
            price=mark.price,
            trade_id=mark.trade_id,
            position_id=mark.position_id,
            exit_reason=None if mark.exit_reason is None else mark.exit_reason.value,
            net_pnl=mark.net_pnl,
        )


class LevelOut(Model):
    kind: str = Field(description="`entry`, `stop` or `take_profit`.")
    price: Decimal
    position_id: int
    index: int | None = Field(None, description="A take-profit target's number, 0 first.")
    hit: bool = Field(False, description="A take-profit target already reached.")

    @classmethod
    def of(cls, level: PriceLevel) -> LevelOut:
        return cls(
            kind=level.kind.value, price=level.price, position_id=level.position_id, index=level.index, hit=level.hit
        )


class MarksOut(Model):
    target: str
    symbol: str
    marks: list[MarkOut] = Field(description="Entries and exits, oldest first.")
    levels: list[LevelOut] = Field(description="The open managed position's entry, stop and take-profit prices.")
    position_id: int | None = Field(None, description="The open managed position on the symbol, when there is one.")

    @classmethod
    def of(cls, found: ChartMarks) -> MarksOut:
        return cls(
            target=str(found.target),
            symbol=found.symbol,
            marks=[MarkOut.of(mark) for mark in found.marks],
            levels=[LevelOut.of(level) for level in found.levels],
            position_id=None if found.position is None else found.position.id,
        )
