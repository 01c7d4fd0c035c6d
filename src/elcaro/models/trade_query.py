"""Which closed trades to read: the trade log's filters and where a page of it ends."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from elcaro.models.enums import ExitReason, PositionSide
from elcaro.models.errors import ValidationError
from elcaro.models.target import Target

MANUAL_STRATEGY = "manual"
"""What a trade of no strategy (a position adopted by hand) is filed under, as statistics file it."""


class TradeResult(StrEnum):
    """A trade's net PnL after fees and funding: above zero wins, below loses; exactly zero is neither."""

    WIN = "win"
    LOSS = "loss"


@dataclass(frozen=True, slots=True)
class TradeFilter:
    """Trades matching every field given; None: any. ``strategy`` ``manual`` includes trades of no strategy."""

    strategy: str | None = None
    target: Target | None = None
    symbol: str | None = None
    side: PositionSide | None = None
    exit_reason: ExitReason | None = None
    result: TradeResult | None = None
    closed_since: int | None = None
    """Epoch ms, inclusive."""
    closed_until: int | None = None
    """Epoch ms, exclusive."""

    def __post_init__(self) -> None:
        if self.closed_since is not None and self.closed_until is not None and self.closed_until <= self.closed_since:
            raise ValidationError("must be after closed_since", field="closed_until")


ANY_TRADE = TradeFilter()


@dataclass(frozen=True, slots=True)
class TradeChoices:
    """The values a user's trades hold, sorted: what filtering on them can find."""

    symbols: tuple[str, ...]
    strategies: tuple[str, ...]
    """Trades of no strategy under ``manual``."""
    targets: tuple[Target, ...]
    exit_reasons: tuple[ExitReason, ...]


@dataclass(frozen=True, slots=True)
class TradeCursor:
    """Where a page of the trade log (newest first) ended: the next page holds the trades older than this one.

    Keyset paging: a page costs the same however deep it is, and a trade closed meanwhile neither shifts
    nor repeats the pages after it. Written ``<closed_at>.<id>`` in a URL.
    """

    closed_at: int
    id: int

    @classmethod
    def parse(cls, text: str) -> TradeCursor:
        closed_at, sep, trade_id = text.partition(".")
        # Digits only, and few enough for a BIGINT column: anything else is a cursor no page ever gave.
        if not (sep and _digits(closed_at, 15) and _digits(trade_id, 18)):
            raise ValidationError(f"not a cursor this server gave: {text[:40]!r}", field="cursor")
        return cls(int(closed_at), int(trade_id))

    def __str__(self) -> str:
        return f"{self.closed_at}.{self.id}"


def _digits(text: str, most: int) -> bool:
    return 0 < len(text) <= most and text.isascii() and text.isdigit()
