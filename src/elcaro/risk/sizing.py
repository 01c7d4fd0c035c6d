"""Position size from risk: equity × risk % ÷ stop distance, within margin and venue limits.

One implementation for every caller (copy trading, the strategy engine, the backtester), so a
size means the same thing everywhere. A size the venue would refuse is a ``SizeRefused`` with a
reason a trader can act on, never an exception: it is an everyday outcome for a small account.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from elcaro.models import Instrument, round_to_step
from elcaro.models.errors import ValidationError

HUNDRED = Decimal(100)


class SizeLimit(StrEnum):
    """What bounded the size: the first of these that is smallest wins."""

    RISK = "risk"
    MARGIN = "margin"
    MAX_NOTIONAL = "max_notional"
    MAX_QTY = "max_qty"


class SizingCode(StrEnum):
    """Stable codes of refusals; interfaces translate them."""

    NO_EQUITY = "no_equity"
    NO_FREE_MARGIN = "no_free_margin"
    NO_STOP_DISTANCE = "no_stop_distance"
    BELOW_MIN_QTY = "below_min_qty"
    BELOW_MIN_NOTIONAL = "below_min_notional"


@dataclass(frozen=True, slots=True)
class Sized:
    qty: Decimal
    """Contracts, a multiple of the instrument's step, at least its minimums."""
    risk: Decimal
    """Loss at the stop (quote currency, before fees): never above ``risk_budget``."""
    risk_budget: Decimal
    notional: Decimal
    notional_cap: Decimal
    """The largest notional allowed: leverage × free margin, or the caller's maximum when lower."""
    margin: Decimal
    limited_by: SizeLimit


@dataclass(frozen=True, slots=True)
class SizeRefused:
    code: SizingCode
    reason: str
    limited_by: SizeLimit | None = None


SizeResult = Sized | SizeRefused


def size_position(
    *,
    equity: Decimal,
    free_margin: Decimal,
    risk_pct: Decimal,
    entry_price: Decimal,
    stop_price: Decimal,
    leverage: Decimal,
    instrument: Instrument,
    max_notional: Decimal | None = None,
) -> SizeResult:
    """Size a position entered at ``entry_price`` and stopped at ``stop_price``.

    ``risk_pct`` is in percent (1 = 1 % of equity). Several entry prices (a ladder, DCA legs) are
    sized at their weighted average: every leg lies on the same side of the stop, so the average
    distance to the stop is the distance of the average price.
    """
    if entry_price <= 0 or stop_price <= 0:
        raise ValidationError("prices must be positive", field="entry_price")
    if risk_pct <= 0 or leverage < 1:
        raise ValidationError("risk % must be positive and leverage at least 1", field="risk_pct")
    quote = instrument.quote
    unusable = _unusable(equity, free_margin, entry_price, stop_price, quote)
    if unusable:
        return unusable
    distance = abs(entry_price - stop_price)

    cs = instrument.contract_size
    budget = equity * risk_pct / HUNDRED
    margin_cap = leverage * free_margin
    caps = {SizeLimit.RISK: budget / (distance * cs), SizeLimit.MARGIN: margin_cap / (entry_price * cs)}
    if max_notional is not None:
        caps[SizeLimit.MAX_NOTIONAL] = max_notional / (entry_price * cs)
    if instrument.max_qty is not None:
        caps[SizeLimit.MAX_QTY] = instrument.max_qty
    limited_by = min(caps, key=lambda limit: caps[limit])
    notional_cap = margin_cap if max_notional is None else min(margin_cap, max_notional)
    qty = instrument.round_qty(caps[limited_by])
    # The divisions above round at the 28th digit, possibly up: step back rather than exceed a cap.
    while qty > 0 and (qty * distance * cs > budget or qty * entry_price * cs > notional_cap):
        qty -= instrument.qty_step

    smallest = smallest_order(instrument, entry_price)
    if qty < smallest:
        if limited_by is SizeLimit.RISK:
            why = (
                f"risking {_fmt(budget)} {quote} ({risk_pct}% of equity) with the stop "
                f"{_fmt(distance / entry_price * HUNDRED)}% away allows {caps[limited_by]:.4g}; the smallest "
                f"order would risk {_fmt(smallest * distance * cs / equity * HUNDRED)}% of equity"
            )
        elif limited_by is SizeLimit.MAX_QTY:
            why = f"its maximum quantity is {instrument.max_qty}"
        else:
            what = f"free margin {_fmt(free_margin)} {quote} × leverage {leverage}"
            if limited_by is SizeLimit.MAX_NOTIONAL:
                what = f"the maximum position value {_fmt(notional_cap)} {quote}"
            why = (
                f"{what} allows {caps[limited_by]:.4g}; the smallest order is worth "
                f"{_fmt(smallest * entry_price * cs)} {quote}"
            )
        return _refused(instrument, qty, smallest, why, limited_by)
    notional = qty * entry_price * cs
    return Sized(
        qty=qty,
        risk=qty * distance * cs,
        risk_budget=budget,
        notional=notional,
        notional_cap=notional_cap,
        margin=notional / leverage,
        limited_by=limited_by,
    )


def _unusable(
    equity: Decimal, free_margin: Decimal, entry_price: Decimal, stop_price: Decimal, quote: str
) -> SizeRefused | None:
    if equity <= 0:
        return SizeRefused(SizingCode.NO_EQUITY, f"the account has no equity ({equity} {quote})")
    if free_margin <= 0:
        return SizeRefused(SizingCode.NO_FREE_MARGIN, f"the account has no free margin ({free_margin} {quote})")
    if entry_price == stop_price:
        return SizeRefused(SizingCode.NO_STOP_DISTANCE, f"the stop {stop_price} is at the entry price")
    return None


def _refused(instrument: Instrument, qty: Decimal, smallest: Decimal, why: str, limited_by: SizeLimit) -> SizeRefused:
    if qty < max(instrument.min_qty, instrument.qty_step):
        head = f"{instrument.symbol} takes at least {smallest} per order"
        return SizeRefused(SizingCode.BELOW_MIN_QTY, f"{head}: {why}", limited_by)
    head = f"{instrument.symbol} takes orders worth at least {instrument.min_notional} {instrument.quote}"
    return SizeRefused(SizingCode.BELOW_MIN_NOTIONAL, f"{head}: {why}", limited_by)


def smallest_order(instrument: Instrument, price: Decimal) -> Decimal:
    """The smallest quantity the venue accepts at ``price``: a step multiple meeting both minimums."""
    by_notional = instrument.min_notional / (price * instrument.contract_size)
    return round_to_step(max(instrument.min_qty, by_notional, instrument.qty_step), instrument.qty_step, "up")


def _fmt(value: Decimal) -> str:
    """Two decimals for amounts and percentages in messages (exact values stay in the result)."""
    return f"{value:.2f}"
