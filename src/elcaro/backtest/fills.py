"""The fill model: at what price and fee a simulated order executes inside a candle.

Every path of the backtester (the vectorised one and the bar-by-bar one) prices its fills with these
functions and nothing else, so both produce the same floats for the same trade. The rules, in full:

- **Entry**: a decision taken at a bar's close is a market order that fills at the *next* bar's
  open, moved ``slippage_bps`` against the taker, and pays the taker fee.
- **Stop** (a stop-market order): triggers when the bar touches it (``low <= stop`` for a long,
  ``high >= stop`` for a short) and fills at the stop price; when the bar *opens* beyond the stop
  (a gap), it fills at the open instead. Then slippage against the taker, and the taker fee.
- **Target** (a resting limit order): fills when the bar touches it, at its price; when the bar
  opens beyond it, at the open (the better price, as the paper exchange closes an attached
  take-profit at market once the price is past it). The maker fee, no slippage.
- **Both in one bar**: when a bar touches the stop and the target, the stop is assumed to have been
  hit first (a candle does not say which came first; assuming the worse keeps results honest).
- **Market exits** (time stops, end of data, strategy exits at a given price): that price, slippage
  against the taker, the taker fee.
- **Entry bar**: exits are checked from the entry bar on, since the position exists from its open
  onwards (``exits_on_entry_bar=False`` starts them on the bar after, which is what vectorbt's
  ``from_signals`` does; it exists for comparisons only).

The fee rates default to the paper exchange's (``PaperConfig``: Bybit's base tier for USDT
perpetuals), so a backtest and a paper account charge the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from elcaro.exchanges.paper.config import PaperConfig
from elcaro.models.errors import ValidationError

_PAPER: Final = PaperConfig()
DEFAULT_TAKER_FEE: Final = float(_PAPER.taker_fee)
"""The paper exchange's taker rate, 0.055 %."""
DEFAULT_MAKER_FEE: Final = float(_PAPER.maker_fee)
"""The paper exchange's maker rate, 0.02 %."""
BASIS_POINT: Final = 1e-4

LONG: Final = 1
SHORT: Final = -1

STOP: Final = "stop"
TARGET: Final = "target"
END_OF_DATA: Final = "end_of_data"
"""Exit reason of a position still open at the symbol's last candle: closed at market at its close."""


@dataclass(frozen=True, slots=True)
class FillModel:
    """Fee rates, slippage and the entry-bar rule of a backtest; see the module docstring for the rules."""

    taker_fee: float = DEFAULT_TAKER_FEE
    maker_fee: float = DEFAULT_MAKER_FEE
    slippage_bps: float = 0.0
    exits_on_entry_bar: bool = True

    def __post_init__(self) -> None:
        for name in ("taker_fee", "maker_fee"):
            value = getattr(self, name)
            if not 0.0 <= value < 0.1:
                raise ValidationError(f"must be a fraction from 0 to 0.1 (0.00055 is 0.055 %), got {value}", field=name)
        if not 0.0 <= self.slippage_bps <= 1000.0:
            raise ValidationError(f"must be from 0 to 1000 basis points, got {self.slippage_bps}", field="slippage_bps")

    @property
    def slippage(self) -> float:
        """Slippage as a fraction of the price."""
        return self.slippage_bps * BASIS_POINT

    def entry_price(self, side: int, open_: float) -> float:
        """A market entry at ``open_``: the price moved against the taker."""
        return open_ * (1.0 + self.slippage) if side == LONG else open_ * (1.0 - self.slippage)

    def market_exit_price(self, side: int, price: float) -> float:
        """Closing a ``side`` position at market around ``price``: moved against the taker."""
        return price * (1.0 - self.slippage) if side == LONG else price * (1.0 + self.slippage)

    def stop_exit_price(self, side: int, stop: float, open_: float) -> float:
        """A touched stop: its price, or the open when the bar opened beyond it; then slippage."""
        level = min(stop, open_) if side == LONG else max(stop, open_)
        return self.market_exit_price(side, level)

    @staticmethod
    def target_exit_price(side: int, target: float, open_: float) -> float:
        """A touched target: its price, or the open when the bar opened beyond it; no slippage (a maker fill)."""
        return max(target, open_) if side == LONG else min(target, open_)

    def bracket_exit(
        self, side: int, stop: float, target: float | None, open_: float, high: float, low: float
    ) -> ExitFill | None:
        """The exit a bar gives a position with ``stop`` and ``target`` (the stop first); None if neither is touched."""
        if stop_touched(side, stop, high, low):
            return ExitFill(self.stop_exit_price(side, stop, open_), STOP, maker=False)
        if target is not None and target_touched(side, target, high, low):
            return ExitFill(self.target_exit_price(side, target, open_), TARGET, maker=True)
        return None

    def fee(self, quantity: float, price: float, *, maker: bool) -> float:
        return quantity * price * (self.maker_fee if maker else self.taker_fee)


@dataclass(frozen=True, slots=True)
class ExitFill:
    """Where a bar closed a position: the fill price, why, and whether it was a maker fill (a resting limit)."""

    price: float
    reason: str
    maker: bool


def stop_touched(side: int, stop: float, high: float, low: float) -> bool:
    return low <= stop if side == LONG else high >= stop


def target_touched(side: int, target: float, high: float, low: float) -> bool:
    return high >= target if side == LONG else low <= target
