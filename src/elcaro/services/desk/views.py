"""What the desk answers: plain, frozen views an interface renders (the bot in chat, the web app as JSON)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from decimal import Decimal

from elcaro.models import Balance, Order, OrderType, Position, PositionSide, Target, Trade
from elcaro.models.trade_query import TradeCursor
from elcaro.services.desk.manual import ManualOrderRequest


def order_ref(client_order_id: str) -> str:
    """A short, stable name for an order (12 hex digits): fits a button, and any client id has one."""
    return hashlib.sha256(client_order_id.encode()).hexdigest()[:12]


@dataclass(frozen=True, slots=True)
class TargetView:
    target: Target
    enabled: bool
    live_opted_in: bool


@dataclass(frozen=True, slots=True)
class TargetBalance:
    """One target's account: its balance, or why it could not be read (an error code)."""

    target: Target
    balance: Balance | None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class ExitTarget:
    """One take-profit target of a managed position: its price, and whether it was hit (a hit one is done)."""

    number: int
    """1 for the nearest."""
    price: Decimal
    hit: bool


@dataclass(frozen=True, slots=True)
class PositionView:
    """An open position with its live figures; ``id`` is None for one the platform does not manage."""

    position: Position
    mark_price: Decimal | None
    unrealized_pnl: Decimal | None
    change_pct: Decimal | None
    """The price move since the entry, in the position's favour (positive) or against it, in percent."""
    targets: tuple[ExitTarget, ...] = ()
    """The take-profit targets the platform works for a managed position, nearest first (none for an unmanaged one)."""

    @property
    def id(self) -> int | None:
        return self.position.id

    @property
    def target(self) -> Target | None:
        return self.position.target

    @property
    def symbol(self) -> str:
        return self.position.symbol

    @property
    def side(self) -> PositionSide:
        return self.position.side


@dataclass(frozen=True, slots=True)
class PositionsPage:
    items: tuple[PositionView, ...]
    page: int
    """0-based, clamped to the pages there are."""
    pages: int
    total: int


@dataclass(frozen=True, slots=True)
class OrderView:
    target: Target
    order: Order
    managed: bool
    """It belongs to a position the platform manages: cancel that by closing the position instead."""

    @property
    def ref(self) -> str:
        return order_ref(self.order.client_order_id)


@dataclass(frozen=True, slots=True)
class HistoryPage:
    trades: tuple[Trade, ...]
    page: int
    has_more: bool
    next: TradeCursor | None = None
    """Where the next (older) page starts, for keyset paging; None on the last page."""


@dataclass(frozen=True, slots=True)
class StrategyView:
    name: str
    enabled: bool
    direction: str
    """``long``, ``short`` or ``both``."""


@dataclass(frozen=True, slots=True)
class ManualOption:
    """Where a manual order can go, and how it would be sent there."""

    target: Target
    qty: Decimal
    """Rounded down to the venue's step."""
    price: Decimal | None
    reference_price: Decimal
    """The limit price, or the last price for a market order."""
    notional: Decimal
    stop_loss: Decimal
    """Attached to the entry, from the user's ``manual`` settings (``sl_pct``), so no fill is ever naked."""
    leverage: int


@dataclass(frozen=True, slots=True)
class ManualPreview:
    request: ManualOrderRequest
    options: tuple[ManualOption, ...]

    @property
    def order_type(self) -> OrderType:
        return self.request.order_type


@dataclass(frozen=True, slots=True)
class ManualResult:
    order: Order
    position_id: int | None
    """The managed position when the order filled and was adopted; None while a limit order rests."""
    adoption_error: str | None = None
    """Why a filled order could not be taken under management (the position stays on the venue)."""
