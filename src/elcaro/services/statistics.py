"""Trading statistics of one user, as the Telegram bot and the web app show them.

The figures are ``elcaro.trading.stats`` over the stored trade log (a position closed in parts is
one trade); this service picks the trades of a period, a strategy and a target and splits them by
strategy and by target, and sums the net PnL per day, week or month for the PnL history.

Speed: a report reads the whole history of the period, so it reads narrow rows (the repository builds
plain ``Trade`` values, no ORM objects) by keyset pages, and adds every part up once: the parts are grouped
into positions per strategy in one pass, and the overall and per-target figures merge those groups instead
of grouping and netting every trade again. Summing in SQL was not chosen: SQLite stores amounts as TEXT and
its SUM goes through float, and a PostgreSQL-only aggregate would be a second implementation of the figures
(with NUMERIC's rounding instead of ``Decimal``'s). A per-user cache was not chosen either: the bot, the web
app and the engine store trades from more than one process, so invalidating it would need a broker.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from elcaro.core.clock import now_ms
from elcaro.models import ZERO, PositionSide, Target, Trade
from elcaro.models.trade_query import MANUAL_STRATEGY, TradeCursor, TradeFilter
from elcaro.storage import Database
from elcaro.trading.stats import ClosedPosition, Period, TradeStats, period_start, position_key, position_stats

#: Trades read per query; a user's whole history is read page by page.
PAGE = 1000


class Bucket(StrEnum):
    """The span one point of the PnL history adds up (UTC; a week starts on Monday)."""

    DAY = "day"
    WEEK = "week"
    MONTH = "month"


_BUCKET_START = {Bucket.DAY: Period.TODAY, Bucket.WEEK: Period.WEEK, Bucket.MONTH: Period.MONTH}


@dataclass(frozen=True, slots=True)
class StatsReport:
    user_id: int
    period: Period
    since: int | None
    """Where the period began (epoch ms, UTC); None for all time."""
    until: int
    strategy: str | None
    """The strategy asked for; None: every strategy."""
    target: Target | None
    overall: TradeStats
    by_strategy: Mapping[str, TradeStats]
    """Trades of no strategy (a position adopted by hand) under ``manual``."""
    by_target: Mapping[Target, TradeStats]


@dataclass(frozen=True, slots=True)
class PnlPoint:
    start: int
    """Where the bucket begins (epoch ms, UTC)."""
    pnl: Decimal
    """Net PnL (after fees and funding) of the trades (parts) that closed in the bucket."""
    cumulative: Decimal
    """Net PnL of the period up to the end of this bucket."""
    trades: int
    """Parts closed in the bucket (a partial take-profit counts on its own)."""


@dataclass(frozen=True, slots=True)
class PnlHistory:
    period: Period
    bucket: Bucket
    since: int | None
    until: int
    strategy: str | None
    points: tuple[PnlPoint, ...]
    """Oldest first; a bucket with no closed trade is left out."""


class StatisticsService:
    def __init__(self, database: Database, *, clock: Callable[[], int] = now_ms) -> None:
        self._db = database
        self._clock = clock

    async def report(
        self,
        user_id: int,
        *,
        period: Period = Period.ALL,
        strategy: str | None = None,
        target: Target | None = None,
    ) -> StatsReport:
        """``strategy`` ``manual`` takes in the trades of no strategy too, as ``by_strategy`` files them."""
        until = self._clock()
        since = period_start(period, until)
        trades = await self._trades(user_id, _period_filter(since, until, strategy, target))
        overall, by_strategy, by_target = _figures(trades)
        return StatsReport(
            user_id=user_id,
            period=period,
            since=since,
            until=until,
            strategy=strategy,
            target=target,
            overall=overall,
            by_strategy=by_strategy,
            by_target=by_target,
        )

    async def pnl_history(
        self, user_id: int, *, period: Period = Period.ALL, bucket: Bucket = Bucket.DAY, strategy: str | None = None
    ) -> PnlHistory:
        until = self._clock()
        since = period_start(period, until)
        trades = await self._trades(user_id, _period_filter(since, until, strategy, None))
        sums: dict[int, tuple[Decimal, int]] = {}
        unit = _BUCKET_START[bucket]
        for trade in reversed(trades):  # oldest first: each bucket adds its parts in the order they closed
            start = period_start(unit, trade.closed_at)
            assert start is not None  # a day, week or month always starts somewhere
            total, count = sums.get(start, (ZERO, 0))
            sums[start] = (total + trade.net_pnl, count + 1)
        points: list[PnlPoint] = []
        running = ZERO
        for start in sorted(sums):
            total, count = sums[start]
            running += total
            points.append(PnlPoint(start, total, running, count))
        return PnlHistory(period, bucket, since, until, strategy, tuple(points))

    async def _trades(self, user_id: int, where: TradeFilter) -> list[Trade]:
        """Every trade matching ``where``, newest first, read a page at a time (keyset: each page is one index
        range) in one snapshot."""
        found: list[Trade] = []
        after: TradeCursor | None = None
        async with self._db.reading() as tx:
            while True:
                page = await tx.trades.list_for_user(user_id, where, after=after, limit=PAGE)
                found.extend(page)
                if len(page) < PAGE or page[-1].id is None:
                    return found
                after = TradeCursor(page[-1].closed_at, page[-1].id)


def _period_filter(since: int | None, until: int, strategy: str | None, target: Target | None) -> TradeFilter:
    # The period runs to ``until`` inclusive (a trade closed this very millisecond counts).
    return TradeFilter(strategy=strategy, target=target, closed_since=since, closed_until=until + 1)


@dataclass(slots=True)
class _Sum:
    """The parts of one position under one strategy, added up as they come."""

    target: Target
    side: PositionSide
    qty: Decimal
    net_pnl: Decimal
    fees: Decimal


def _figures(trades: Iterable[Trade]) -> tuple[TradeStats, dict[str, TradeStats], dict[Target, TradeStats]]:
    """``trade_stats`` overall, per strategy and per target, netting each part once.

    Parts are added up per (position, strategy) in the order given, from ``ZERO``, as ``closed_positions``
    adds them; a position is then its one strategy's sum (parts of one position with different strategies,
    which the platform does not make, would be summed exactly, in another order).
    """
    cells: dict[tuple[tuple[object, ...], str], _Sum] = {}
    for trade in trades:
        at = (position_key(trade), trade.strategy or MANUAL_STRATEGY)
        net = trade.net_pnl
        cell = cells.get(at)
        if cell is None:
            cells[at] = _Sum(trade.target, trade.side, ZERO + trade.qty, ZERO + net, ZERO + trade.fees)
        else:
            cell.qty += trade.qty
            cell.net_pnl += net
            cell.fees += trade.fees
    per_strategy: dict[str, list[ClosedPosition]] = {}
    per_position: dict[tuple[object, ...], tuple[Target, list[ClosedPosition]]] = {}
    for (key, strategy), cell in cells.items():
        closed = ClosedPosition(cell.side, cell.qty, cell.net_pnl, cell.fees)
        per_strategy.setdefault(strategy, []).append(closed)
        per_position.setdefault(key, (cell.target, []))[1].append(closed)
    overall: list[ClosedPosition] = []
    per_target: dict[Target, list[ClosedPosition]] = {}
    for target, parts in per_position.values():
        whole = parts[0] if len(parts) == 1 else _merged(parts)
        overall.append(whole)
        per_target.setdefault(target, []).append(whole)
    return (
        position_stats(overall),
        {name: position_stats(found) for name, found in per_strategy.items()},
        {target: position_stats(found) for target, found in per_target.items()},
    )


def _merged(parts: list[ClosedPosition]) -> ClosedPosition:
    return ClosedPosition(
        parts[0].side,
        sum((part.qty for part in parts), ZERO),
        sum((part.net_pnl for part in parts), ZERO),
        sum((part.fees for part in parts), ZERO),
    )
