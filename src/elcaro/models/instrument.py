"""Tradable instruments and their rules (tick, step, minimums, leverage)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from elcaro.models.decimals import Rounding, round_to_step
from elcaro.models.errors import ValidationError


def canonical_symbol(base: str, quote: str = "USDT", settle: str | None = "USDT") -> str:
    """ccxt's unified form: ``BTC/USDT:USDT`` for a linear perpetual, ``BTC/USDT`` for spot."""
    symbol = f"{base.upper()}/{quote.upper()}"
    return f"{symbol}:{settle.upper()}" if settle else symbol


@dataclass(frozen=True, slots=True)
class Instrument:
    """A market on one venue. Quantities are in contracts; ``contract_size`` base units each."""

    symbol: str
    base: str
    quote: str
    settle: str | None
    tick_size: Decimal
    qty_step: Decimal
    min_qty: Decimal
    min_notional: Decimal = Decimal(0)
    max_qty: Decimal | None = None
    contract_size: Decimal = Decimal(1)
    max_leverage: Decimal = Decimal(1)
    active: bool = True

    def __post_init__(self) -> None:
        for name in ("tick_size", "qty_step", "contract_size", "max_leverage"):
            if getattr(self, name) <= 0:
                raise ValidationError(f"must be positive, got {getattr(self, name)}", field=name)
        if self.min_qty < 0 or self.min_notional < 0:
            raise ValidationError("minimums cannot be negative", field="min_qty")

    def round_price(self, price: Decimal, mode: Rounding = "nearest") -> Decimal:
        return round_to_step(price, self.tick_size, mode)

    def round_qty(self, qty: Decimal) -> Decimal:
        """Round down: rounding a size up would risk more than the user allowed."""
        return round_to_step(qty, self.qty_step, "down")

    def notional(self, qty: Decimal, price: Decimal) -> Decimal:
        return qty * self.contract_size * price

    def check_order(self, qty: Decimal, price: Decimal, *, reduce_only: bool = False) -> None:
        """Refuse, with the reason a trader can act on, what the venue would refuse.

        Reduce-only orders skip the minimum-notional rule: venues accept closing a small remainder.
        """
        if qty <= 0:
            raise ValidationError(f"quantity must be positive, got {qty}", field="qty")
        if qty < self.min_qty:
            raise ValidationError(f"quantity {qty} is below the minimum {self.min_qty} for {self.symbol}", field="qty")
        if qty % self.qty_step:
            raise ValidationError(f"quantity {qty} is not a multiple of the step {self.qty_step}", field="qty")
        if self.max_qty is not None and qty > self.max_qty:
            raise ValidationError(f"quantity {qty} is above the maximum {self.max_qty} for {self.symbol}", field="qty")
        if price <= 0:
            raise ValidationError(f"price must be positive, got {price}", field="price")
        if price % self.tick_size:
            raise ValidationError(f"price {price} is not a multiple of the tick {self.tick_size}", field="price")
        if not reduce_only and self.notional(qty, price) < self.min_notional:
            raise ValidationError(
                f"order value {self.notional(qty, price)} {self.quote} is below the minimum "
                f"{self.min_notional} {self.quote} for {self.symbol}",
                field="qty",
            )
