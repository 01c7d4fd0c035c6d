"""Statistics over closed trades: per user, strategy, target and period (UTC boundaries).

A ``Trade`` row may be part of a position (each partial take-profit is a row of its own); the
figures count positions, so a position closed in three parts is one trade with the net PnL of
its parts — a ladder of partial exits does not inflate the win rate. A period counts the parts
that closed inside it: the PnL of "today" is what was realised today.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import TypeVar

from elcaro.models import ZERO, PositionSide, Target, Trade

K = TypeVar("K", bound=Hashable)


class Period(StrEnum):
    TODAY = "today"
    WEEK = "week"
    """Since Monday 00:00 UTC."""
    MONTH = "month"
    ALL = "all"


def period_start(period: Period, now_ms: int) -> int | None:
    """Epoch ms where ``period`` began as of ``now_ms`` (None: the beginning of time)."""
    if period is Period.ALL:
        return None
    now = datetime.fromtimestamp(now_ms / 1000, tz=UTC)
    start = now.replace(hour=0, minute=0, second=0, microsecond=0)
    if period is Period.WEEK:
        start -= timedelta(days=start.weekday())
    elif period is Period.MONTH:
        start = start.replace(day=1)
    return int(start.timestamp()) * 1000


@dataclass(frozen=True, slots=True)
class ClosedPosition:
    """The parts of one position that closed, added up."""

    side: PositionSide
    qty: Decimal
    net_pnl: Decimal
    fees: Decimal


@dataclass(frozen=True, slots=True)
class SideStats:
    count: int
    wins: int
    pnl: Decimal


@dataclass(frozen=True, slots=True)
class TradeStats:
    count: int
    wins: int
    losses: int
    """Positions with a net loss; a net of exactly zero is neither a win nor a loss."""
    win_rate: Decimal | None
    """Percent of positions won; None when there is nothing to count."""
    total_pnl: Decimal
    avg_pnl: Decimal | None
    gross_profit: Decimal
    gross_loss: Decimal
    """The sum of losing positions, as a positive amount."""
    profit_factor: Decimal | None
    """Gross profit ÷ gross loss; None when nothing was lost."""
    best: Decimal | None
    worst: Decimal | None
    fees: Decimal
    long: SideStats
    short: SideStats


def select_trades(
    trades: Iterable[Trade],
    *,
    now_ms: int,
    period: Period = Period.ALL,
    user_id: int | None = None,
    strategy: str | None = None,
    target: Target | None = None,
) -> list[Trade]:
    """The trades (parts) closed in ``period`` that match every filter given."""
    start = period_start(period, now_ms)
    return [
        trade
        for trade in trades
        if (start is None or start <= trade.closed_at <= now_ms)
        and (user_id is None or trade.user_id == user_id)
        and (strategy is None or trade.strategy == strategy)
        and (target is None or trade.target == target)
    ]


def position_key(trade: Trade) -> tuple[object, ...]:
    """What the parts of one position share: user, target, symbol, side, signal and opening."""
    return (trade.user_id, trade.target, trade.symbol, trade.side, trade.signal_id, trade.opened_at)


def closed_positions(trades: Iterable[Trade]) -> list[ClosedPosition]:
    """Parts grouped by the position they belong to (``position_key``)."""
    groups: dict[tuple[object, ...], list[Trade]] = {}
    for trade in trades:
        groups.setdefault(position_key(trade), []).append(trade)
    return [
        ClosedPosition(
            side=parts[0].side,
            qty=sum((part.qty for part in parts), ZERO),
            net_pnl=sum((part.net_pnl for part in parts), ZERO),
            fees=sum((part.fees for part in parts), ZERO),
        )
        for parts in groups.values()
    ]


def trade_stats(trades: Iterable[Trade]) -> TradeStats:
    return position_stats(closed_positions(trades))


def position_stats(positions: Sequence[ClosedPosition]) -> TradeStats:
    """The figures of positions already added up from their parts."""
    results = [position.net_pnl for position in positions]
    count = len(results)
    wins = [pnl for pnl in results if pnl > 0]
    losses = [pnl for pnl in results if pnl < 0]
    total = sum(results, ZERO)
    gross_profit = sum(wins, ZERO)
    gross_loss = -sum(losses, ZERO)
    return TradeStats(
        count=count,
        wins=len(wins),
        losses=len(losses),
        win_rate=Decimal(len(wins)) * 100 / count if count else None,
        total_pnl=total,
        avg_pnl=total / count if count else None,
        gross_profit=gross_profit,
        gross_loss=gross_loss,
        profit_factor=gross_profit / gross_loss if gross_loss else None,
        best=max(results, default=None),
        worst=min(results, default=None),
        fees=sum((position.fees for position in positions), ZERO),
        long=_side(positions, PositionSide.LONG),
        short=_side(positions, PositionSide.SHORT),
    )


def stats_by(trades: Iterable[Trade], key: Callable[[Trade], K]) -> dict[K, TradeStats]:
    """One ``TradeStats`` per value of ``key`` (``lambda t: t.strategy``, ``lambda t: t.target``)."""
    groups: dict[K, list[Trade]] = {}
    for trade in trades:
        groups.setdefault(key(trade), []).append(trade)
    return {value: trade_stats(group) for value, group in groups.items()}


def _side(positions: Sequence[ClosedPosition], side: PositionSide) -> SideStats:
    mine = [position.net_pnl for position in positions if position.side is side]
    return SideStats(count=len(mine), wins=sum(1 for pnl in mine if pnl > 0), pnl=sum(mine, ZERO))
