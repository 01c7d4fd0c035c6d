"""Taking a position opened by hand on the exchange under management, as strategy ``manual``.

The adopted state starts at the moment of adoption: the fills that built the position are history
(its size and average entry are the venue's), so only fills from now on are applied to it. Its stop
is the one already on the venue, else ``sl_pct`` from the entry; its target is ``tp_pct`` from the
entry, when set and not yet reached (both rounded toward the stop, as a plan rounds them);
everything else follows the user's settings for ``manual``. Adopted positions have no signal: their
orders are named with the negated position id in the signal's place, which no signal id (always
positive) can collide with.
"""

from __future__ import annotations

from decimal import Decimal

from elcaro.models import ExitReason, Instrument, Position, Target
from elcaro.models.errors import ValidationError
from elcaro.services.positions.record import Stored
from elcaro.trading import LegKind, OrderKey, PositionState, PriceUpdate, SetStop, TradingSettings, step
from elcaro.trading.plan import stop_side
from elcaro.trading.position import TargetLeg

MANUAL = "manual"
HUNDRED = Decimal(100)


def adopted(
    position_id: int,
    venue: Position,
    instrument: Instrument,
    settings: TradingSettings,
    *,
    user_id: int,
    target: Target,
    price: Decimal,
    now: int,
) -> Stored:
    """The managed state of ``venue``, with the actions that put its stop and target on the venue."""
    side, sign = venue.side, venue.side.sign
    stop = venue.stop_loss or instrument.round_price(
        venue.entry_price * (1 - sign * settings.sl_pct / HUNDRED), stop_side(side)
    )
    if sign * (price - stop) <= 0:
        raise ValidationError(
            f"the price {price} is already past the stop {stop}: close the position or set a stop by hand"
        )
    targets: tuple[TargetLeg, ...] = ()
    if settings.tp_pct is not None:
        level = instrument.round_price(venue.entry_price * (1 + sign * settings.tp_pct / HUNDRED), stop_side(side))
        if sign * (level - price) > 0:
            targets = (TargetLeg(0, level, Decimal(1)),)
    key = OrderKey(-position_id, user_id, target)
    state = PositionState(
        key=key,
        strategy=MANUAL,
        instrument=instrument,
        side=side,
        stop=stop,
        targets=targets,
        qty=venue.qty,
        entry_price=venue.entry_price,
        peak_qty=venue.qty,
        highest=price,
        lowest=price,
        last_price=price,
        opened_at=now,
    )
    placed = step(state, PriceUpdate(price, now), settings)  # places the target orders for the size held
    protect = SetStop(stop, ExitReason.STOP_LOSS, key.client_order_id(LegKind.STOP, 0))
    return Stored(placed.state, pending=(protect, *placed.actions))
