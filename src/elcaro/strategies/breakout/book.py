"""Order book depth near the mid price, as the signal (imbalance) and risk (depth cap) rules read it."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from elcaro.models.market import OrderBook


@dataclass(frozen=True, slots=True)
class BandDepth:
    """What rests within a band around mid: base quantity and quote notional per side."""

    bid_qty: float
    ask_qty: float
    bid_notional: float
    ask_notional: float

    @property
    def imbalance(self) -> float | None:
        """``(bids − asks) ÷ (bids + asks)`` in notional, −1…1; ``None`` when nothing rests in the band."""
        total = self.bid_notional + self.ask_notional
        return (self.bid_notional - self.ask_notional) / total if total > 0 else None


def band_depth(book: OrderBook, band_pct: float) -> BandDepth:
    """Depth within ``band_pct`` % of mid (inclusive); all zero for a book without both sides."""
    mid = book.mid
    if mid is None or mid <= 0:
        return BandDepth(0.0, 0.0, 0.0, 0.0)
    band = mid * Decimal(str(band_pct)) / 100
    bids = [level for level in book.bids if level.price >= mid - band]
    asks = [level for level in book.asks if level.price <= mid + band]
    zero = Decimal(0)
    return BandDepth(
        bid_qty=float(sum((level.qty for level in bids), zero)),
        ask_qty=float(sum((level.qty for level in asks), zero)),
        bid_notional=float(sum((level.price * level.qty for level in bids), zero)),
        ask_notional=float(sum((level.price * level.qty for level in asks), zero)),
    )
