"""Trading statistics of one user, as the Telegram bot and the web app show them.

The figures are ``elcaro.trading.stats`` over the stored trade log (a position closed in parts is
one trade); this service picks the trades of a period, a strategy and a target and splits them by
strategy and by target.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from elcaro.core.clock import now_ms
from elcaro.models import Target, Trade
from elcaro.storage import Database
from elcaro.trading import Period, TradeStats, period_start, select_trades, stats_by, trade_stats

#: Trades read per query; a user's whole history is read page by page.
PAGE = 1000


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
        until = self._clock()
        since = period_start(period, until)
        trades = await self._trades(user_id, since=since, until=until, strategy=strategy)
        chosen = select_trades(trades, now_ms=until, period=period, user_id=user_id, strategy=strategy, target=target)
        return StatsReport(
            user_id=user_id,
            period=period,
            since=since,
            until=until,
            strategy=strategy,
            target=target,
            overall=trade_stats(chosen),
            by_strategy=stats_by(chosen, lambda trade: trade.strategy or "manual"),
            by_target=stats_by(chosen, lambda trade: trade.target),
        )

    async def _trades(self, user_id: int, *, since: int | None, until: int, strategy: str | None) -> list[Trade]:
        """Every trade closed in ``[since, until]``, read a page at a time, newest first, in one snapshot.

        A page ends at the oldest close time it holds, and the next starts again at that very
        millisecond (trades closed at one moment may straddle pages), skipping ids already read. Only
        more trades closed in one millisecond than a page holds could be missed: the reading then moves
        past that millisecond rather than loop.
        """
        found: dict[int | None, Trade] = {}
        end = until + 1
        async with self._db.reading() as tx:
            while True:
                page = await tx.trades.list_for_user(user_id, since=since, until=end, strategy=strategy, limit=PAGE)
                fresh = [trade for trade in page if trade.id not in found]
                found.update((trade.id, trade) for trade in fresh)
                if len(page) < PAGE:
                    return list(found.values())
                oldest = page[-1].closed_at
                end = oldest + 1 if fresh else oldest
