"""Which tracked position a venue fill belongs to, and what event it is for the position manager.

Our own orders carry deterministic client ids, so most fills name their position exactly. A fill
the platform did not name — the venue's stop, a liquidation, a trade by hand on the exchange —
belongs to the open position on its symbol (one-way mode: a symbol holds one position per account),
but only from the moment that position opened, so an older trade on the symbol is never taken in.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import TypeVar

from elcaro.models import ExitReason, Fill
from elcaro.trading import Event, LegKind, Liquidation, PositionState, classify_exit

K = TypeVar("K")


def client_ids(state: PositionState) -> frozenset[str]:
    """Every client id the manager has used (or will use next) for this position's orders."""
    key = state.key
    ids = {leg.client_order_id for leg in state.adds}
    ids |= {
        key.client_order_id(LegKind.TP, t.index, revision) for t in state.targets for revision in range(t.revision + 1)
    }
    ids |= {key.client_order_id(LegKind.CLOSE, n) for n in range(len(state.closes))}
    ids.add(key.client_order_id(LegKind.STOP, 0))
    return frozenset(ids)


def target_number(state: PositionState, client_order_id: str) -> int | None:
    """1-based number of the target whose order this is (as a trader counts them), if it is one."""
    key = state.key
    for position, target in enumerate(state.targets):
        for revision in range(target.revision + 1):
            if key.client_order_id(LegKind.TP, target.index, revision) == client_order_id:
                return position + 1
    return None


def add_kind(state: PositionState, client_order_id: str) -> LegKind | None:
    return next((leg.kind for leg in state.adds if leg.client_order_id == client_order_id), None)


def route(fill: Fill, positions: Iterable[tuple[K, PositionState]]) -> K | None:
    same_symbol = [(key, state) for key, state in positions if state.instrument.symbol == fill.symbol]
    for key, state in same_symbol:
        if fill.client_order_id in client_ids(state):
            return key
    for key, state in same_symbol:
        if state.is_open and state.opened_at is not None and state.opened_at <= fill.timestamp:
            return key
    return None


def event_for(state: PositionState, fill: Fill, liquidation_price: Decimal | None) -> Event:
    """The fill itself, or a ``Liquidation`` when an unnamed fill took the whole position at the
    liquidation price the venue last reported (the manager would otherwise call it a stop)."""
    ours = fill.client_order_id in client_ids(state)
    whole = fill.side is state.side.exit_side and fill.qty >= state.qty
    if ours or not whole or liquidation_price is None:
        return fill
    reason = classify_exit(state, fill.price, liquidation_price=liquidation_price)
    if reason is ExitReason.LIQUIDATION:
        return Liquidation(fill.price, fill.timestamp, fill.fee)
    return fill
