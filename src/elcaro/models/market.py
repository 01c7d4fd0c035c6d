"""Public market data: tickers, books, candles, trades, funding, open interest."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from elcaro.models.enums import Side
from elcaro.models.errors import ValidationError


@dataclass(frozen=True, slots=True)
class Ticker:
    symbol: str
    last: Decimal
    bid: Decimal | None
    ask: Decimal | None
    mark: Decimal | None
    index: Decimal | None
    volume_24h: Decimal
    """Base-currency volume over 24 hours."""
    turnover_24h: Decimal
    """Quote-currency volume over 24 hours (what scanners rank by)."""
    timestamp: int

    @property
    def spread(self) -> Decimal | None:
        return self.ask - self.bid if self.bid is not None and self.ask is not None else None


@dataclass(frozen=True, slots=True)
class BookLevel:
    price: Decimal
    qty: Decimal


@dataclass(frozen=True, slots=True)
class BookDepth:
    """What rests within a band around mid, per side: base quantity and quote notional (price × quantity)."""

    bid_qty: Decimal
    ask_qty: Decimal
    bid_notional: Decimal
    ask_notional: Decimal

    @property
    def imbalance(self) -> Decimal | None:
        """``(bids − asks) ÷ (bids + asks)`` in notional, −1…1; ``None`` when nothing rests in the band."""
        total = self.bid_notional + self.ask_notional
        return (self.bid_notional - self.ask_notional) / total if total > 0 else None


_NO_DEPTH = BookDepth(Decimal(0), Decimal(0), Decimal(0), Decimal(0))


@dataclass(frozen=True, slots=True)
class OrderBook:
    """Bids best (highest) first, asks best (lowest) first."""

    symbol: str
    bids: tuple[BookLevel, ...]
    asks: tuple[BookLevel, ...]
    timestamp: int

    def __post_init__(self) -> None:
        if self.bids and self.asks and self.bids[0].price >= self.asks[0].price:
            raise ValidationError(f"crossed book for {self.symbol}: {self.bids[0].price} ≥ {self.asks[0].price}")

    @property
    def mid(self) -> Decimal | None:
        if not self.bids or not self.asks:
            return None
        return (self.bids[0].price + self.asks[0].price) / 2

    def depth_within(self, fraction: Decimal) -> BookDepth:
        """What rests within ``fraction`` of mid on each side (``Decimal("0.005")`` is ±0.5 %), bounds included.

        A book without both sides has no mid, so nothing is within a band of it: all zero. Each side
        is walked best first and the walk stops at the first level beyond the band, which is what
        keeps a deep book cheap (the scanner asks this of every symbol on every pass).
        """
        if fraction < 0:
            raise ValidationError(f"must be at least 0, got {fraction}", field="fraction")
        mid = self.mid
        if mid is None or mid <= 0:
            return _NO_DEPTH
        floor, ceiling = mid * (1 - fraction), mid * (1 + fraction)
        bid_qty = bid_notional = ask_qty = ask_notional = Decimal(0)
        for level in self.bids:
            if level.price < floor:
                break
            bid_qty += level.qty
            bid_notional += level.price * level.qty
        for level in self.asks:
            if level.price > ceiling:
                break
            ask_qty += level.qty
            ask_notional += level.price * level.qty
        return BookDepth(bid_qty, ask_qty, bid_notional, ask_notional)


@dataclass(frozen=True, slots=True)
class Candle:
    """One OHLCV bar; ``timestamp`` is its open time."""

    timestamp: int
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal

    def __post_init__(self) -> None:
        if not (self.low <= min(self.open, self.close) and self.high >= max(self.open, self.close)):
            raise ValidationError(f"candle at {self.timestamp}: high/low do not contain open/close")


@dataclass(frozen=True, slots=True)
class PublicTrade:
    symbol: str
    trade_id: str
    side: Side
    """The taker's side."""
    price: Decimal
    qty: Decimal
    timestamp: int


@dataclass(frozen=True, slots=True)
class FundingRate:
    symbol: str
    rate: Decimal
    next_funding_at: int | None
    timestamp: int


@dataclass(frozen=True, slots=True)
class OpenInterest:
    symbol: str
    contracts: Decimal
    value: Decimal | None
    timestamp: int
