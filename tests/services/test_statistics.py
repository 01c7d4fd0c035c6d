"""Statistics of one user's stored trades by period, strategy and target (a position closed in parts counts once)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal as D

import pytest

from elcaro.models import Environment, Exchange, ExitReason, PositionSide, Target, TelegramProfile, Trade
from elcaro.services import statistics
from elcaro.services.statistics import StatisticsService
from elcaro.services.users import UserService
from elcaro.storage import Database
from elcaro.trading import Period

pytestmark = pytest.mark.db

PAPER = Target(Exchange.BYBIT, Environment.PAPER)
DEMO = Target(Exchange.BYBIT, Environment.DEMO)


def ms(day: str, time: str = "12:00") -> int:
    return int(datetime.fromisoformat(f"{day}T{time}:00+00:00").astimezone(UTC).timestamp() * 1000)


NOW = ms("2024-11-21")  # a Thursday: the week began on Monday the 18th


def trade(
    user_id: int,
    closed: int,
    pnl: str,
    *,
    strategy: str | None = "elcaro",
    target: Target = PAPER,
    side: PositionSide = PositionSide.LONG,
    opened: int | None = None,
    qty: str = "1",
    fees: str = "0",
) -> Trade:
    """A trade with a gross PnL of ``pnl`` on ``qty`` (exit − entry moves by pnl ÷ qty in the position's favour)."""
    entry = D(1000)
    exit_price = entry + side.sign * D(pnl) / D(qty)
    return Trade(
        target=target,
        symbol="BTC/USDT:USDT",
        side=side,
        qty=D(qty),
        entry_price=entry,
        exit_price=exit_price,
        opened_at=opened if opened is not None else closed - 60_000,
        closed_at=closed,
        exit_reason=ExitReason.TAKE_PROFIT if D(pnl) > 0 else ExitReason.STOP_LOSS,
        strategy=strategy,
        fees=D(fees),
        user_id=user_id,
    )


@pytest.fixture
async def user(database: Database) -> int:
    users = UserService(database)
    me = await users.register(TelegramProfile(501))
    other = await users.register(TelegramProfile(502))
    opened = ms("2024-11-21", "08:00")
    trades = [
        # One long closed today in two parts: +101 − 1 fee, then −20 = +80 net, one win.
        trade(me.id, ms("2024-11-21", "09:00"), "101", opened=opened, qty="0.5", fees="1"),
        trade(me.id, ms("2024-11-21", "10:00"), "-20", opened=opened, qty="0.5"),
        trade(me.id, ms("2024-11-21", "11:00"), "-50", target=DEMO, side=PositionSide.SHORT),
        trade(me.id, ms("2024-11-19"), "40", strategy=None),  # this week, adopted by hand
        trade(me.id, ms("2024-10-15"), "30", strategy="scalper"),  # last month
        trade(other.id, ms("2024-11-21", "09:30"), "999"),
    ]
    async with database.transaction() as tx:
        for item in trades:
            await tx.trades.add(item)
    return me.id


async def test_today(database: Database, user: int) -> None:
    report = await StatisticsService(database, clock=lambda: NOW).report(user, period=Period.TODAY)
    stats = report.overall
    assert (report.since, report.until) == (ms("2024-11-21", "00:00"), NOW)
    assert (stats.count, stats.wins, stats.losses, stats.win_rate) == (2, 1, 1, D(50))
    assert (stats.total_pnl, stats.best, stats.worst, stats.fees) == (D(30), D(80), D(-50), D(1))
    assert stats.profit_factor == D("1.6")
    assert (stats.long.count, stats.long.pnl, stats.short.count, stats.short.pnl) == (1, D(80), 1, D(-50))
    assert set(report.by_strategy) == {"elcaro"}
    assert {target: s.total_pnl for target, s in report.by_target.items()} == {PAPER: D(80), DEMO: D(-50)}


async def test_week_month_and_all_time_with_a_strategy_or_target_chosen(database: Database, user: int) -> None:
    service = StatisticsService(database, clock=lambda: NOW)
    week = await service.report(user, period=Period.WEEK)
    assert week.overall.count == 3 and week.by_strategy["manual"].total_pnl == D(40)
    assert (await service.report(user, period=Period.MONTH)).overall.count == 3
    everything = await service.report(user)
    assert everything.overall.count == 4 and everything.overall.total_pnl == D(100)
    scalper = await service.report(user, strategy="scalper")
    assert (scalper.overall.count, scalper.overall.total_pnl) == (1, D(30))
    demo = await service.report(user, period=Period.TODAY, target=DEMO)
    assert (demo.overall.count, demo.overall.total_pnl, list(demo.by_target)) == (1, D(-50), [DEMO])


async def test_a_user_with_no_trades_has_empty_figures(database: Database) -> None:
    newcomer = await UserService(database).register(TelegramProfile(503))
    report = await StatisticsService(database, clock=lambda: NOW).report(newcomer.id)
    assert (report.overall.count, report.overall.win_rate, report.overall.profit_factor) == (0, None, None)
    assert report.by_strategy == {} and report.by_target == {}


async def test_a_long_history_is_read_page_by_page_even_where_trades_closed_together(
    database: Database, user: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    same_moment = ms("2024-11-20")
    async with database.transaction() as tx:
        for pnl in ("1", "2"):
            await tx.trades.add(trade(user, same_moment, pnl, opened=same_moment - int(pnl)))
    monkeypatch.setattr(statistics, "PAGE", 2)
    report = await StatisticsService(database, clock=lambda: NOW).report(user)
    assert report.overall.count == 6 and report.overall.total_pnl == D(103)
