"""A simple Donchian channel breakout with a fixed stop and target: the backtester's reference strategy.

Rules, decided at each bar's close:

- **Long** when the close is above the highest high of the ``period`` bars before this one (the
  Donchian upper band, ``rolling_max(high, period, shift=1)``); **short** (when ``allow_short``)
  when the close is below the lowest low of those bars.
- One position at a time per symbol; a signal while a position is open is ignored.
- Entry at the next bar's open; stop ``stop_pct`` and target ``target_pct`` away from the entry fill,
  both fixed for the life of the position (percentages rather than ATR multiples, so other
  backtesters can be configured to the very same prices).
- Size: ``position_fraction`` of the symbol's own equity (its sleeve of the capital), fee included.

It is small on purpose: the speed goal of the backtester and the trade-for-trade comparison with
vectorbt and backtesting.py are measured on it. The arrays are computed once per symbol; both of the
backtester's paths read them.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, Field

from elcaro.indicators import rolling_max, rolling_min
from elcaro.marketdata import CandleArrays

LONG = 1
SHORT = -1


class DonchianSettings(BaseModel):
    """Parameters of the Donchian breakout; every field can be set from a grid (``stop_pct=0.01,0.02``)."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    name: str = "donchian"
    timeframe: str = "5m"
    period: int = Field(20, ge=2, le=10_000, description="bars of the channel, before the signal bar")
    stop_pct: float = Field(0.02, gt=0, lt=1, description="stop distance from the entry fill, a fraction")
    target_pct: float = Field(0.04, gt=0, le=10, description="target distance from the entry fill, a fraction")
    allow_short: bool = False
    position_fraction: float = Field(1.0, gt=0, le=1, description="share of the sleeve's equity put in one position")


def donchian_signals(candles: CandleArrays, settings: DonchianSettings) -> NDArray[np.int8]:
    """Per bar: ``1`` long breakout, ``-1`` short breakout (when allowed), ``0`` nothing; ``0`` during warm-up."""
    upper = rolling_max(candles.high, settings.period, shift=1)
    signals = (candles.close > upper).astype(np.int8)  # NaN compares False: no signal while warming up
    if settings.allow_short:
        lower = rolling_min(candles.low, settings.period, shift=1)
        # A close above the upper band cannot be below the lower one, so the two never collide.
        signals -= (candles.close < lower).astype(np.int8)
    return signals


def bracket(side: int, entry: float, settings: DonchianSettings) -> tuple[float, float]:
    """``(stop, target)`` for a position entered at ``entry``, written as other backtesters compute them."""
    if side == LONG:
        return entry * (1.0 - settings.stop_pct), entry * (1.0 + settings.target_pct)
    return entry * (1.0 + settings.stop_pct), entry * (1.0 - settings.target_pct)
