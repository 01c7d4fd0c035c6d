"""The engine's mutable records. Plain dataclasses, so a snapshot is a mechanical copy of them."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from elcaro.models import ExitReason, Fill, MarginMode, Order, PositionSide, Trade
from elcaro.models.decimals import ZERO


@dataclass(slots=True)
class PositionState:
    """One-way position of one account on one symbol."""

    symbol: str
    side: PositionSide
    qty: Decimal
    entry_price: Decimal
    opened_at: int
    updated_at: int
    entry_fees: Decimal = ZERO
    """Fees paid to open the quantity still held; a close takes its share into the trade's fees."""
    funding: Decimal = ZERO
    """Funding received (positive) or paid (negative) and not yet attributed to a closed trade."""
    realized_pnl: Decimal = ZERO
    """Since the position opened: gross PnL of partial closes, minus every fee, plus funding."""
    take_profit: Decimal | None = None
    stop_loss: Decimal | None = None


@dataclass(slots=True)
class WorkingOrder:
    """An order as the engine tracks it: the public ``Order`` plus what only the engine needs."""

    account_id: str
    seq: int
    order: Order
    rises: bool | None = None
    """For a stop not yet triggered: fire when the mark rises to the trigger (False: falls). None otherwise."""
    reason: ExitReason | None = None
    """Exit reason of the trades this order closes: set for TP/SL and liquidation orders, None for client orders."""
    notional: Decimal = ZERO
    """Σ price × qty of the fills, for the average fill price."""

    @property
    def waiting_for_trigger(self) -> bool:
        return self.rises is not None


@dataclass(slots=True)
class AccountState:
    id: str
    wallet: Decimal
    leverage: dict[str, Decimal] = field(default_factory=dict)
    margin_mode: dict[str, MarginMode] = field(default_factory=dict)
    positions: dict[str, PositionState] = field(default_factory=dict)
    orders: dict[str, WorkingOrder] = field(default_factory=dict)
    """Every order the account ever placed, by client order id (which is why an id cannot be reused)."""
    fills: list[Fill] = field(default_factory=list)
    trades: list[Trade] = field(default_factory=list)
