"""How the simulated venue charges and fills."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from elcaro.models.decimals import ZERO
from elcaro.models.errors import ValidationError


class LimitFill(StrEnum):
    """When a resting limit order fills against the last price.

    TOUCH fills a buy at 100 as soon as the price is 100 (what a paper account on a liquid market
    expects); THROUGH waits for 99.9, which is the conservative choice for a backtest because it
    never assumes the order was first in the queue at its price.
    """

    TOUCH = "touch"
    THROUGH = "through"


@dataclass(frozen=True, slots=True)
class PaperConfig:
    """Venue parameters. Defaults follow Bybit's base tier for USDT perpetuals."""

    maker_fee: Decimal = Decimal("0.0002")
    taker_fee: Decimal = Decimal("0.00055")
    slippage_bps: Decimal = ZERO
    """Added against the taker to the last price when no order book is known (0 = fill at last)."""
    maintenance_margin_rate: Decimal = Decimal("0.005")
    default_leverage: Decimal = Decimal(10)
    """Leverage of a symbol the account has not set (clamped to the instrument's maximum)."""
    settle_asset: str = "USDT"
    limit_fill: LimitFill = LimitFill.TOUCH
    candle_history: int = 5000
    """Candles kept per symbol and timeframe to answer ``fetch_ohlcv``, and one-minute bars per symbol (5000 minutes
    are three and a half days) to make the timeframes no candles were fed at."""

    def __post_init__(self) -> None:
        # Maker rebates (negative fees) are not modelled by the engine yet, so they are refused.
        for name in ("maker_fee", "taker_fee", "slippage_bps"):
            if getattr(self, name) < 0:
                raise ValidationError(f"cannot be negative, got {getattr(self, name)}", field=name)
        if not ZERO < self.maintenance_margin_rate < 1:
            raise ValidationError(
                f"must be between 0 and 1, got {self.maintenance_margin_rate}", field="maintenance_margin_rate"
            )
        if self.default_leverage < 1:
            raise ValidationError(f"must be at least 1, got {self.default_leverage}", field="default_leverage")
        if self.candle_history < 0:
            raise ValidationError(f"cannot be negative, got {self.candle_history}", field="candle_history")
