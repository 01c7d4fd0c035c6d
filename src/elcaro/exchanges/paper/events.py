"""What the engine tells its subscribers. Account events name their account; market events do not."""

from __future__ import annotations

from dataclasses import dataclass

from elcaro.models import Fill, Order, Position, Trade
from elcaro.models.market import Candle, OrderBook, PublicTrade


@dataclass(frozen=True, slots=True)
class OrderEvent:
    """An order was placed, filled (in part), triggered, amended, canceled, rejected or expired."""

    account_id: str
    order: Order


@dataclass(frozen=True, slots=True)
class FillEvent:
    account_id: str
    fill: Fill


@dataclass(frozen=True, slots=True)
class PositionEvent:
    """A position changed; ``position`` is None when the symbol is now flat.

    Sent when size, entry, TP/SL, leverage or margin mode change, not on every mark update.
    """

    account_id: str
    symbol: str
    position: Position | None


@dataclass(frozen=True, slots=True)
class ClosedPnlEvent:
    account_id: str
    trade: Trade


@dataclass(frozen=True, slots=True)
class CandleEvent:
    symbol: str
    timeframe: str | None
    candle: Candle


@dataclass(frozen=True, slots=True)
class BookEvent:
    book: OrderBook


@dataclass(frozen=True, slots=True)
class PublicTradeEvent:
    """An execution on the paper venue, as its public tape shows it (the taker's side)."""

    trade: PublicTrade


AccountEvent = OrderEvent | FillEvent | PositionEvent | ClosedPnlEvent
MarketEvent = CandleEvent | BookEvent | PublicTradeEvent
EngineEvent = AccountEvent | MarketEvent
