"""Closed trades: what the trade log and statistics count."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from elcaro.models.decimals import ZERO
from elcaro.models.enums import ExitReason, PositionSide
from elcaro.models.errors import ValidationError
from elcaro.models.position import pnl
from elcaro.models.target import Target


@dataclass(frozen=True, slots=True)
class Trade:
    """A closed position, or a closed part of one (a partial take-profit is a trade of its own).

    ``fees`` are all fees paid on entry and exit of this quantity (negative: a net maker rebate);
    ``funding`` is the funding paid (negative) or received while it was open. PnL figures are in
    the settle currency.
    """

    target: Target
    symbol: str
    side: PositionSide
    qty: Decimal
    entry_price: Decimal
    exit_price: Decimal
    opened_at: int
    closed_at: int
    exit_reason: ExitReason
    strategy: str | None = None
    fees: Decimal = ZERO
    funding: Decimal = ZERO
    contract_size: Decimal = Decimal(1)
    user_id: int | None = None
    signal_id: int | None = None
    id: int | None = None

    def __post_init__(self) -> None:
        if self.qty <= 0 or self.entry_price <= 0 or self.exit_price <= 0:
            raise ValidationError("a trade has a positive quantity, entry and exit price", field="qty")
        if self.closed_at < self.opened_at:
            raise ValidationError("a trade cannot close before it opens", field="closed_at")

    @property
    def gross_pnl(self) -> Decimal:
        return pnl(self.side, self.qty, self.entry_price, self.exit_price, self.contract_size)

    @property
    def net_pnl(self) -> Decimal:
        return self.gross_pnl - self.fees + self.funding

    @property
    def is_win(self) -> bool:
        return self.net_pnl > 0
