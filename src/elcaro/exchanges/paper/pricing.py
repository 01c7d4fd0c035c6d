"""The arithmetic of the simulated venue: money rounding, slippage, book walks, liquidation prices, bar paths.

Pure functions on Decimals, so that every figure the engine produces can be worked out by hand.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Final, NamedTuple

from elcaro.models import PositionSide, Side
from elcaro.models.decimals import Rounding, round_to_step
from elcaro.models.market import BookLevel, Candle

MONEY_STEP: Final = Decimal("0.00000001")
"""Fees, margins and funding are kept to 8 decimal places, as Bybit reports them."""

AVERAGE_EXTRA_DIGITS: Final = 6
"""Average prices (entry, fill, exit) carry six digits beyond the tick, as venues show them."""

BASIS_POINT: Final = Decimal("0.0001")


class Leg(NamedTuple):
    """One execution of a planned fill: a price and the quantity done at it."""

    price: Decimal
    qty: Decimal


def money(value: Decimal, mode: Rounding = "nearest") -> Decimal:
    return round_to_step(value, MONEY_STEP, mode)


def average_price(notional: Decimal, qty: Decimal, tick: Decimal) -> Decimal:
    """``notional / qty`` to six digits beyond the tick, written to the tick when on one (100.5, not 100.5000000)."""
    fine = round_to_step(notional / qty, tick.scaleb(-AVERAGE_EXTRA_DIGITS))
    on_tick = round_to_step(fine, tick)
    return on_tick if on_tick == fine else fine


def slipped(price: Decimal, side: Side, bps: Decimal, tick: Decimal) -> Decimal:
    """The price a taker gets ``bps`` away from ``price``, rounded to the tick against the taker."""
    if side is Side.BUY:
        return round_to_step(price * (1 + bps * BASIS_POINT), tick, "up")
    return max(round_to_step(price * (1 - bps * BASIS_POINT), tick, "down"), tick)


def within_limit(side: Side, price: Decimal, limit: Decimal | None) -> bool:
    """Whether a taker on ``side`` with this limit accepts ``price``."""
    if limit is None:
        return True
    return price <= limit if side is Side.BUY else price >= limit


def walk_book(levels: Sequence[BookLevel], side: Side, qty: Decimal, limit: Decimal | None) -> list[Leg]:
    """Take ``qty`` from the opposite side of a book (best level first), stopping at the limit price."""
    legs: list[Leg] = []
    remaining = qty
    for level in levels:
        if remaining <= 0 or not within_limit(side, level.price, limit):
            break
        take = min(level.qty, remaining)
        if take > 0:
            legs.append(Leg(level.price, take))
            remaining -= take
    return legs


def limit_fills(side: Side, limit: Decimal, last: Decimal, *, on_touch: bool) -> bool:
    """Whether a resting limit order fills at the last traded price."""
    if side is Side.BUY:
        return last <= limit if on_touch else last < limit
    return last >= limit if on_touch else last > limit


def reached(price: Decimal, level: Decimal, rises: bool) -> bool:
    """Whether a trigger waiting for the price to rise (or fall) to ``level`` has fired."""
    return price >= level if rises else price <= level


def liquidation_price(
    side: PositionSide,
    entry: Decimal,
    size: Decimal,
    leverage: Decimal,
    maintenance_rate: Decimal,
    extra_margin: Decimal,
    tick: Decimal,
) -> Decimal | None:
    """Where the margin left after losses equals the maintenance margin (both measured at entry).

    ``size`` is quantity × contract size. The margin is initial margin (entry × size / leverage)
    plus ``extra_margin`` (0 for isolated margin). With no extra margin this is the textbook
    ``entry × (1 − 1/leverage + mmr)`` for a long and ``entry × (1 + 1/leverage − mmr)`` for a short.
    Rounded to the tick towards the entry, so a liquidation never comes later than the formula says.
    None when a long cannot be liquidated at any positive price.
    """
    buffer = entry / leverage + extra_margin / size - entry * maintenance_rate
    if side is PositionSide.LONG:
        price = round_to_step(entry - buffer, tick, "up")
        return price if price > 0 else None
    return round_to_step(entry + buffer, tick, "down")


def bar_path(candle: Candle) -> tuple[Decimal, Decimal, Decimal, Decimal]:
    """The order in which a bar is assumed to have visited its prices.

    A candle does not say whether its high or its low came first. The convention: an up (or flat)
    bar went open → low → high → close, a down bar open → high → low → close, i.e. the wick against
    the bar's direction came first. It is the common backtesting assumption and, for a bar that hits
    both a long's stop and its target, the up bar stops out before taking profit.
    """
    if candle.close >= candle.open:
        return candle.open, candle.low, candle.high, candle.close
    return candle.open, candle.high, candle.low, candle.close
