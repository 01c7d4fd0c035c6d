"""Why a position (or part of it) closed, from what the position manager knew.

Our own orders say it exactly: a target's order is a take-profit, a market close carries the
reason it was issued with. A fill the platform did not name (the venue's stop, a liquidation,
a close by hand on the exchange) is judged by its price: at or through the stop it is whatever
the stop was at the time (stop loss, break-even or trailing); through the liquidation price it
is a liquidation; at a target it is a take-profit; anything else was closed outside the platform.
"""

from __future__ import annotations

from decimal import Decimal

from elcaro.models import ExitReason
from elcaro.trading.ids import LegKind
from elcaro.trading.position import PositionState

#: Slippage allowed between a level and the fill that reached it.
DEFAULT_TOLERANCE_PCT = Decimal("0.5")


def classify_exit(
    state: PositionState,
    price: Decimal,
    *,
    client_order_id: str | None = None,
    liquidation_price: Decimal | None = None,
    tolerance_pct: Decimal = DEFAULT_TOLERANCE_PCT,
) -> ExitReason:
    if client_order_id is not None:
        known = _our_order(state, client_order_id)
        if known is not None:
            return known
    sign = state.side.sign
    slack = tolerance_pct / 100

    def reached(level: Decimal, toward_loss: bool) -> bool:
        """The fill is at ``level`` or beyond it in that direction, give or take the slack."""
        direction = -sign if toward_loss else sign
        return direction * (price - level * (1 - direction * slack)) >= 0

    if liquidation_price is not None and reached(liquidation_price, toward_loss=True):
        return ExitReason.LIQUIDATION
    if reached(state.stop, toward_loss=True):
        return state.stop_kind
    if any(not target.hit and reached(target.price, toward_loss=False) for target in state.targets):
        return ExitReason.TAKE_PROFIT
    return ExitReason.EXTERNAL


def _our_order(state: PositionState, client_order_id: str) -> ExitReason | None:
    key = state.key
    for target in state.targets:
        for revision in range(max(target.revision, 1)):
            if key.client_order_id(LegKind.TP, target.index, revision) == client_order_id:
                return ExitReason.TAKE_PROFIT
    for index, reason in enumerate(state.closes):
        if key.client_order_id(LegKind.CLOSE, index) == client_order_id:
            return reason
    if key.client_order_id(LegKind.STOP, 0) == client_order_id:
        return state.stop_kind
    return None
