"""The engine's open trades: what the venue holds, what the exit rules know, and the bars they were managed on.

The exit rules count bars by index into one candle series, and the engine reads a sliding window
each cycle, so each trade keeps a series of its own: the window it was entered on, extended with
every newer closed bar. Indices into it never shift, however long the trade is held.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal

import numpy as np

from elcaro.marketdata import CandleArrays
from elcaro.services.engine.execution import Held
from elcaro.services.engine.status import PositionView
from elcaro.strategies.breakout.exits import OpenTrade
from elcaro.strategies.breakout.signals import BreakoutSignal


def extend(series: CandleArrays, newer: CandleArrays) -> CandleArrays:
    """``series`` followed by the bars of ``newer`` that open after its last one."""
    if not len(series):
        return newer
    fresh = newer.timestamp > series.timestamp[-1]
    if not fresh.any():
        return series
    return CandleArrays(
        np.concatenate([series.timestamp, newer.timestamp[fresh]]),
        np.concatenate([series.open, newer.open[fresh]]),
        np.concatenate([series.high, newer.high[fresh]]),
        np.concatenate([series.low, newer.low[fresh]]),
        np.concatenate([series.close, newer.close[fresh]]),
        np.concatenate([series.volume, newer.volume[fresh]]),
    )


@dataclass(slots=True)
class EngineTrade:
    held: Held
    trade: OpenTrade
    signal: BreakoutSignal
    candles: CandleArrays
    """The trade's own series (see the module docstring)."""
    signal_id: int | None = None

    @property
    def symbol(self) -> str:
        return self.held.symbol

    def base_qty(self, contracts: Decimal) -> float:
        return float(contracts * self.held.instrument.contract_size)

    def contracts(self, base: float) -> Decimal:
        return Decimal(repr(base)) / self.held.instrument.contract_size

    def sync_remaining(self) -> None:
        """The exit rules' remaining quantity set to what the venue holds (rounding makes them differ)."""
        self.trade = replace(self.trade, remaining=min(self.base_qty(self.held.remaining), self.trade.quantity))

    def view(self) -> PositionView:
        held, trade = self.held, self.trade
        return PositionView(
            symbol=held.symbol,
            side=held.side,
            qty=held.qty,
            remaining=held.remaining,
            entry_price=held.entry_price,
            stop=held.stop_price,
            stop_reason=held.stop_reason,
            tp1=trade.tp1,
            tp2=trade.tp2,
            tp1_done=trade.tp1_done,
            tp2_done=trade.tp2_done,
            opened_at=held.opened_at,
            bars_held=max(0, trade.last_index - trade.opened_index + 1),
            kind=self.signal.kind,
            signal_id=self.signal_id,
        )
