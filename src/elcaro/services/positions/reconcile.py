"""Comparing what the position manager believes with what the venue holds, after the fills are in.

A reconciliation pass reads the venue twice — positions and open orders — with the fill history
applied in between, and acts only when both reads agree: a fill landing during the pass would
otherwise look like a position changed by hand. What it may find, per tracked position:

- ``Missing``: the venue holds less than the manager thinks (none at all, or the other side) and no
  fill explains it — closed or reduced outside the platform while nobody watched;
- ``EntriesGone``: nothing filled yet and none of the resting entries is on the venue any more
  (cancelled by hand, expired, rejected);
- ``Unprotected``: the venue's stop is missing or looser than the manager's — set it again.

Missing and EntriesGone are acted on only when the same finding repeats on the next pass, because
some venues publish a fill a moment after the position it changed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from elcaro.models import ZERO, Position, PositionSide
from elcaro.trading import PositionState


@dataclass(frozen=True, slots=True)
class Snapshot:
    positions: Mapping[str, Position]
    """Open venue positions by symbol."""
    open_orders: frozenset[str]
    """Client ids of the account's open orders."""

    @classmethod
    def of(cls, positions: Iterable[Position], open_order_ids: Iterable[str]) -> Snapshot:
        return cls({position.symbol: position for position in positions}, frozenset(open_order_ids))

    def agrees_with(self, other: Snapshot) -> bool:
        """Same sizes and sides and the same open orders (prices and PnL move all the time and do not count)."""
        return self._sizes() == other._sizes() and self.open_orders == other.open_orders

    def held(self, symbol: str, side: PositionSide) -> Decimal:
        position = self.positions.get(symbol)
        return position.qty if position is not None and position.side is side else ZERO

    def _sizes(self) -> dict[str, tuple[PositionSide, Decimal]]:
        return {symbol: (position.side, position.qty) for symbol, position in self.positions.items()}


@dataclass(frozen=True, slots=True)
class Missing:
    qty: Decimal
    flat: bool
    """The venue holds nothing of this position: close it whole."""


@dataclass(frozen=True, slots=True)
class EntriesGone:
    pass


@dataclass(frozen=True, slots=True)
class Unprotected:
    venue_stop: Decimal | None


Finding = Missing | EntriesGone | Unprotected


def check(state: PositionState, snapshot: Snapshot) -> Finding | None:
    if state.is_closed:
        return None
    symbol = state.instrument.symbol
    held = snapshot.held(symbol, state.side)
    if state.qty > held:
        return Missing(state.qty - held, flat=held == 0)
    if state.qty == 0:
        resting = [leg.client_order_id for leg in state.adds if leg.resting]
        if resting and not snapshot.open_orders.intersection(resting) and held == 0:
            return EntriesGone()
        return None
    venue_stop = snapshot.positions[symbol].stop_loss
    if venue_stop is None or state.side.sign * (venue_stop - state.stop) < 0:
        return Unprotected(venue_stop)
    return None
