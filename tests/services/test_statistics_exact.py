"""The statistics service's figures are ``elcaro.trading.stats``'s over the same stored trades, to the last digit, on
both databases; the PnL history adds up the same trades per UTC day, week and month."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import UTC, datetime
from decimal import Decimal as D

import pytest

from elcaro.models import Environment, Exchange, ExitReason, PositionSide, Target, TelegramProfile, Trade
from elcaro.services import statistics
from elcaro.services.statistics import Bucket, StatisticsService
from elcaro.services.users import UserService
from elcaro.storage import Database
from elcaro.trading import Period, period_start, select_trades, stats_by, trade_stats

pytestmark = pytest.mark.db

TARGETS = (Target(Exchange.BYBIT, Environment.PAPER), Target(Exchange.BINANCE, Environment.TESTNET))
STRATEGIES = ("elcaro", "scalper", "manual", None)
NOW = int(datetime(2024, 11, 21, 12, tzinfo=UTC).timestamp() * 1000)
HOUR = 3_600_000


def history(user_id: int, positions: int, seed: int) -> list[Trade]:
    """Positions closed in one to three parts, with prices, fees and funding of many decimal places, some netting
    exactly zero, over the two months before ``NOW``."""
    rng = random.Random(seed)  # noqa: S311 - reproducible test data
    trades: list[Trade] = []
    for n in range(positions):
        opened = NOW - rng.randrange(1, 60 * 24) * HOUR
        side = rng.choice(list(PositionSide))
        target, strategy = rng.choice(TARGETS), rng.choice(STRATEGIES)
        entry = D(rng.randrange(1, 10**9)) / D(10**4)
        for part in range(rng.randint(1, 3)):
            qty = D(rng.randrange(1, 10**6)) / D(10**5)
            exit_price = entry if n % 7 == 0 else entry + D(rng.randrange(-(10**6), 10**6)) / D(10**6)
            trades.append(
                Trade(
                    target=target,
                    symbol=rng.choice(("BTC/USDT:USDT", "ETH/USDT:USDT")),
                    side=side,
                    qty=qty,
                    entry_price=entry,
                    exit_price=max(exit_price, D("0.0001")),
                    opened_at=opened,
                    closed_at=min(NOW, opened + (part + 1) * rng.randrange(1, 5 * HOUR)),
                    exit_reason=rng.choice(list(ExitReason)),
                    strategy=strategy,
                    fees=D(0) if n % 7 == 0 else D(rng.randrange(0, 10**8)) / D(10**12),
                    funding=D(0) if n % 7 == 0 else D(rng.randrange(-(10**6), 10**6)) / D(10**15),
                    contract_size=rng.choice((D(1), D("0.001"), D(10))),
                    user_id=user_id,
                )
            )
    return trades


@pytest.fixture
async def stored(database: Database) -> tuple[int, list[Trade]]:
    users = UserService(database)
    me, other = await users.register(TelegramProfile(601)), await users.register(TelegramProfile(602))
    mine, theirs = history(me.id, 120, seed=1), history(other.id, 10, seed=2)
    async with database.transaction() as tx:
        saved = [await tx.trades.add(trade) for trade in mine]
        for trade in theirs:
            await tx.trades.add(trade)
    return me.id, saved


@pytest.mark.parametrize("period", list(Period))
async def test_every_figure_is_trade_stats_over_the_same_trades(
    database: Database, stored: tuple[int, list[Trade]], period: Period, monkeypatch: pytest.MonkeyPatch
) -> None:
    user_id, trades = stored
    monkeypatch.setattr(statistics, "PAGE", 37)  # several keyset pages, some ending inside a millisecond's trades
    service = StatisticsService(database, clock=lambda: NOW)
    for strategy, target in ((None, None), ("scalper", None), (None, TARGETS[1])):
        report = await service.report(user_id, period=period, strategy=strategy, target=target)
        chosen = select_trades(trades, now_ms=NOW, period=period, user_id=user_id, strategy=strategy, target=target)
        assert chosen or period is Period.TODAY  # the figures compared are not all empty ones
        # repr: the same digits (Decimal('1.50') is not Decimal('1.5') there), not only the same values
        assert repr(report.overall) == repr(trade_stats(chosen))
        by_strategy = stats_by(chosen, lambda trade: trade.strategy or "manual")
        assert {k: repr(v) for k, v in report.by_strategy.items()} == {k: repr(v) for k, v in by_strategy.items()}
        by_target = stats_by(chosen, lambda trade: trade.target)
        assert {k: repr(v) for k, v in report.by_target.items()} == {k: repr(v) for k, v in by_target.items()}


async def test_manual_takes_in_the_trades_of_no_strategy(database: Database, stored: tuple[int, list[Trade]]) -> None:
    user_id, trades = stored
    report = await StatisticsService(database, clock=lambda: NOW).report(user_id, strategy="manual")
    manual = [trade for trade in trades if (trade.strategy or "manual") == "manual"]
    assert report.overall == trade_stats(manual) and report.overall.count > 0
    assert list(report.by_strategy) == ["manual"]


@pytest.mark.parametrize("bucket", list(Bucket))
async def test_the_pnl_history_adds_up_each_day_week_and_month(
    database: Database, stored: tuple[int, list[Trade]], bucket: Bucket
) -> None:
    user_id, trades = stored
    service = StatisticsService(database, clock=lambda: NOW)
    found = await service.pnl_history(user_id, period=Period.ALL, bucket=bucket)
    unit = {Bucket.DAY: Period.TODAY, Bucket.WEEK: Period.WEEK, Bucket.MONTH: Period.MONTH}[bucket]
    expected: dict[int, list[Trade]] = defaultdict(list)
    for trade in trades:
        expected[period_start(unit, trade.closed_at) or 0].append(trade)
    assert [point.start for point in found.points] == sorted(expected)
    assert [point.trades for point in found.points] == [len(expected[start]) for start in sorted(expected)]
    assert [point.pnl for point in found.points] == [
        sum((trade.net_pnl for trade in expected[start]), D(0)) for start in sorted(expected)
    ]
    assert found.points[-1].cumulative == sum((trade.net_pnl for trade in trades), D(0))
    assert found.points[-1].cumulative == (await service.report(user_id)).overall.total_pnl

    month = await service.pnl_history(user_id, period=Period.MONTH, bucket=bucket, strategy="elcaro")
    since = period_start(Period.MONTH, NOW) or 0
    elcaro = [trade for trade in trades if trade.strategy == "elcaro" and trade.closed_at >= since]
    assert month.since == since and sum(point.trades for point in month.points) == len(elcaro)
    assert month.points[-1].cumulative == sum((trade.net_pnl for trade in elcaro), D(0))
