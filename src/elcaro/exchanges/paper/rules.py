"""The rules an order must keep to be accepted: instrument limits, TP/SL sides, stop direction, reduce-only.

Each refusal is an ``InvalidOrderError`` with a reason a trader can act on.
"""

from __future__ import annotations

from decimal import Decimal

from elcaro.exchanges.paper.state import PositionState
from elcaro.models import Instrument, Order, PositionSide, Side
from elcaro.models.errors import InvalidOrderError, ValidationError


def check_rules(
    instrument: Instrument, qty: Decimal, price: Decimal, trigger_price: Decimal | None, *, reduce_only: bool
) -> None:
    """The instrument's own rules (``Instrument.check_order``) at ``price``, and a trigger on the tick."""
    if trigger_price is not None and trigger_price % instrument.tick_size:
        raise InvalidOrderError(
            f"trigger price {trigger_price} is not a multiple of the tick {instrument.tick_size}", exchange="paper"
        )
    try:
        instrument.check_order(qty, price, reduce_only=reduce_only)
    except ValidationError as exc:
        raise InvalidOrderError(exc.reason, exchange="paper") from None


def check_protection(
    instrument: Instrument,
    entry_side: Side,
    base: Decimal,
    take_profit: Decimal | None,
    stop_loss: Decimal | None,
    *,
    against: str = "the entry price",
) -> None:
    """A long's TP must be above ``base`` and its SL below it; a short's the other way round.

    A level on the wrong side would fire the moment it is set, which venues refuse.
    """
    long = entry_side is Side.BUY
    for name, level, above in (("take-profit", take_profit, long), ("stop-loss", stop_loss, not long)):
        if level is None:
            continue
        if level <= 0 or level % instrument.tick_size:
            raise InvalidOrderError(f"{name} {level} is not a positive multiple of the tick", exchange="paper")
        if (level <= base) if above else (level >= base):
            side = "long" if long else "short"
            where = "above" if above else "below"
            raise InvalidOrderError(
                f"the {name} {level} of a {side} must be {where} {against} {base}", exchange="paper"
            )


def trigger_direction(order: Order, mark: Decimal | None) -> bool:
    """True when the stop fires on a rise to its trigger: inferred from the mark, like Bybit's triggerDirection."""
    trigger = order.trigger_price
    if mark is None or trigger is None:
        raise InvalidOrderError(f"no mark price for {order.symbol} yet to place a stop against", exchange="paper")
    if trigger == mark:
        raise InvalidOrderError(
            f"trigger price {trigger} equals the mark price: it is not clear which way it should fire", exchange="paper"
        )
    return trigger > mark


def trim_reduce_only(order: Order, position: PositionState | None) -> Order:
    """A reduce-only order needs a position on the other side, and is cut to its size so it can never flip it."""
    if order.take_profit is not None or order.stop_loss is not None:
        raise InvalidOrderError("take-profit and stop-loss attach to entries, not reduce-only orders", exchange="paper")
    if position is None or position.side.exit_side is not order.side:
        wanted = PositionSide.from_side(order.side.opposite)
        raise InvalidOrderError(
            f"reduce-only {order.side} order: there is no {wanted} position on {order.symbol} to reduce",
            exchange="paper",
        )
    return order.with_update(qty=position.qty) if order.qty > position.qty else order
