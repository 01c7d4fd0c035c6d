"""Equity history: what a user's account on one target was worth at a moment, and the curve drawn from it."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from elcaro.models.target import Target
from elcaro.models.timeframe import DAY_MS


class EquityPeriod(StrEnum):
    """How far back an equity curve reaches from now: rolling windows, unlike the calendar periods of statistics."""

    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"
    ALL = "all"

    @property
    def span_ms(self) -> int | None:
        """The window's length; None for all of the history."""
        return _SPANS[self]


_SPANS: dict[EquityPeriod, int | None] = {
    EquityPeriod.DAY: DAY_MS,
    EquityPeriod.WEEK: 7 * DAY_MS,
    EquityPeriod.MONTH: 30 * DAY_MS,
    EquityPeriod.QUARTER: 90 * DAY_MS,
    EquityPeriod.YEAR: 365 * DAY_MS,
    EquityPeriod.ALL: None,
}


@dataclass(frozen=True, slots=True)
class EquitySnapshot:
    """One target's account as the venue reported it. ``at`` is the start of the recording interval it
    belongs to (one snapshot per user, target and interval), ``taken_at`` when the balance was read."""

    user_id: int
    target: Target
    at: int
    taken_at: int
    asset: str
    equity: Decimal
    wallet: Decimal
    available: Decimal
    unrealized_pnl: Decimal


@dataclass(frozen=True, slots=True)
class EquityPoint:
    """One point of a curve: the accounts it covers added up, as of ``at``."""

    at: int
    equity: Decimal
    wallet: Decimal
    unrealized_pnl: Decimal
    targets: int
    """How many targets' snapshots make up the point."""
