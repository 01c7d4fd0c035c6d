"""Orders and fills."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from decimal import Decimal

from elcaro.models.decimals import ZERO
from elcaro.models.enums import OrderStatus, OrderType, Side, TimeInForce
from elcaro.models.errors import ValidationError


def make_client_order_id(*parts: object) -> str:
    """A deterministic client order id: the same intent always gets the same id.

    The form ``0x`` + 32 hex digits (128 bits) is accepted by every venue we trade on — Bybit's
    ``orderLinkId`` and Binance's ``newClientOrderId`` (≤ 36 characters) and HyperLiquid's ``cloid``
    (exactly a 128-bit hex string) — so one id follows an order everywhere and a retry is recognised.
    """
    if not parts:
        raise ValueError("a client order id needs at least one part")
    digest = hashlib.sha256("\x1f".join(str(part) for part in parts).encode()).hexdigest()
    return "0x" + digest[:32]


@dataclass(frozen=True, slots=True)
class Order:
    """An order as we asked for it and as the venue last reported it.

    Built with status PENDING by the caller; adapters return updated copies (``with_update``).
    ``take_profit`` / ``stop_loss`` are protective prices attached to an entry order.
    """

    client_order_id: str
    symbol: str
    side: Side
    type: OrderType
    qty: Decimal
    price: Decimal | None = None
    trigger_price: Decimal | None = None
    time_in_force: TimeInForce = TimeInForce.GTC
    reduce_only: bool = False
    take_profit: Decimal | None = None
    stop_loss: Decimal | None = None
    status: OrderStatus = OrderStatus.PENDING
    exchange_order_id: str | None = None
    filled_qty: Decimal = ZERO
    avg_fill_price: Decimal | None = None
    fee: Decimal = ZERO
    created_at: int = 0
    updated_at: int = 0
    reject_reason: str | None = None

    def __post_init__(self) -> None:
        if not self.client_order_id:
            raise ValidationError("every order needs a client order id", field="client_order_id")
        if self.qty <= 0:
            raise ValidationError(f"quantity must be positive, got {self.qty}", field="qty")
        if self.type.has_limit_price and (self.price is None or self.price <= 0):
            raise ValidationError(f"a {self.type} order needs a positive price", field="price")
        if self.type is OrderType.MARKET and self.price is not None:
            raise ValidationError("a market order takes no price", field="price")
        if self.type.has_trigger and (self.trigger_price is None or self.trigger_price <= 0):
            raise ValidationError(f"a {self.type} order needs a positive trigger price", field="trigger_price")
        if self.time_in_force is TimeInForce.POST_ONLY and self.type is not OrderType.LIMIT:
            raise ValidationError("post-only applies to limit orders only", field="time_in_force")
        if not ZERO <= self.filled_qty <= self.qty:
            raise ValidationError(f"filled {self.filled_qty} is outside 0..{self.qty}", field="filled_qty")

    @property
    def remaining_qty(self) -> Decimal:
        return self.qty - self.filled_qty

    @property
    def is_open(self) -> bool:
        return not self.status.is_terminal

    def with_update(self, **changes: object) -> Order:
        return replace(self, **changes)  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class Fill:
    """One execution of an order (an order may fill in several)."""

    trade_id: str
    client_order_id: str
    symbol: str
    side: Side
    qty: Decimal
    price: Decimal
    fee: Decimal
    fee_asset: str
    is_maker: bool
    timestamp: int
    exchange_order_id: str | None = None

    def __post_init__(self) -> None:
        if self.qty <= 0 or self.price <= 0:
            raise ValidationError("a fill has a positive quantity and price", field="qty")

    @property
    def notional(self) -> Decimal:
        return self.qty * self.price
