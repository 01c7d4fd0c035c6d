"""Open positions and account balances."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from elcaro.models.decimals import ZERO
from elcaro.models.enums import MarginMode, PositionSide
from elcaro.models.errors import ValidationError
from elcaro.models.target import Target


def pnl(side: PositionSide, qty: Decimal, entry_price: Decimal, exit_price: Decimal, contract_size: Decimal) -> Decimal:
    """Gross PnL in the quote currency of closing ``qty`` contracts opened at ``entry_price``."""
    return side.sign * (exit_price - entry_price) * qty * contract_size


def move_pct(side: PositionSide, entry_price: Decimal, price: Decimal) -> Decimal:
    """How far ``price`` is from ``entry_price`` in the position's favour (negative: against it), in percent."""
    return side.sign * (price - entry_price) / entry_price * 100


@dataclass(frozen=True, slots=True)
class Position:
    """A one-way position on one symbol. ``qty`` is always positive; ``side`` gives the direction."""

    symbol: str
    side: PositionSide
    qty: Decimal
    entry_price: Decimal
    leverage: Decimal = Decimal(1)
    margin_mode: MarginMode = MarginMode.ISOLATED
    mark_price: Decimal | None = None
    liquidation_price: Decimal | None = None
    unrealized_pnl: Decimal = ZERO
    realized_pnl: Decimal = ZERO
    take_profit: Decimal | None = None
    stop_loss: Decimal | None = None
    contract_size: Decimal = Decimal(1)
    opened_at: int = 0
    updated_at: int = 0
    closed_at: int | None = None
    """Set once the platform has recorded the position closed; a venue only reports open ones."""
    # Who and what the position belongs to: set when the platform tracks it, None as a venue reports it.
    target: Target | None = None
    user_id: int | None = None
    strategy: str | None = None
    signal_id: int | None = None
    id: int | None = None

    def __post_init__(self) -> None:
        if self.qty <= 0:
            raise ValidationError(f"position quantity must be positive, got {self.qty}", field="qty")
        if self.entry_price <= 0:
            raise ValidationError(f"entry price must be positive, got {self.entry_price}", field="entry_price")
        if self.leverage <= 0:
            raise ValidationError(f"leverage must be positive, got {self.leverage}", field="leverage")

    @property
    def is_open(self) -> bool:
        return self.closed_at is None

    @property
    def notional(self) -> Decimal:
        return self.qty * self.contract_size * (self.mark_price or self.entry_price)

    def pnl_at(self, price: Decimal) -> Decimal:
        return pnl(self.side, self.qty, self.entry_price, price, self.contract_size)

    def move_pct_at(self, price: Decimal) -> Decimal:
        return move_pct(self.side, self.entry_price, price)


@dataclass(frozen=True, slots=True)
class Balance:
    """One asset of an account. ``wallet`` excludes unrealised PnL; ``available`` is free margin."""

    asset: str
    wallet: Decimal
    available: Decimal
    unrealized_pnl: Decimal = ZERO

    @property
    def equity(self) -> Decimal:
        return self.wallet + self.unrealized_pnl

    @property
    def used(self) -> Decimal:
        return self.wallet - self.available
