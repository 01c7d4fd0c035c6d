from datetime import UTC, datetime
from decimal import Decimal as D

from trading_builders import DEMO, LIVE

from elcaro.models import ExitReason, PositionSide, Target, Trade
from elcaro.trading.stats import (
    Period,
    SideStats,
    TradeStats,
    closed_positions,
    period_start,
    select_trades,
    stats_by,
    trade_stats,
)


def ms(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> int:
    return int(datetime(year, month, day, hour, minute, tzinfo=UTC).timestamp() * 1000)


NOW = ms(2024, 11, 21, 15, 0)  # a Thursday


def trade(
    side: PositionSide,
    qty: str,
    entry: str,
    exit_: str,
    *,
    fees: str = "0",
    funding: str = "0",
    closed_at: int = NOW,
    opened_at: int = ms(2024, 11, 21, 1, 0),
    signal_id: int = 1,
    symbol: str = "BTC/USDT:USDT",
    user_id: int = 1,
    strategy: str = "elcaro",
    target: Target = DEMO,
) -> Trade:
    return Trade(
        target=target,
        symbol=symbol,
        side=side,
        qty=D(qty),
        entry_price=D(entry),
        exit_price=D(exit_),
        opened_at=min(opened_at, closed_at),
        closed_at=closed_at,
        exit_reason=ExitReason.TAKE_PROFIT,
        strategy=strategy,
        fees=D(fees),
        funding=D(funding),
        user_id=user_id,
        signal_id=signal_id,
    )


LONG, SHORT = PositionSide.LONG, PositionSide.SHORT
# A: a long closed in two parts, +9 and −6 → +3, fees 2.  B: a short, +10 − 0.5 fees − 0.5 funding → +9.
# C: a long, −10 − 1 → −11.  D: a short closed flat → 0, neither a win nor a loss.
BOOK = [
    trade(LONG, "1", "100", "110", fees="1", signal_id=1),
    trade(LONG, "1", "100", "95", fees="1", signal_id=1),
    trade(SHORT, "2", "50", "45", fees="0.5", funding="-0.5", signal_id=2, symbol="ETH/USDT:USDT", strategy="oi"),
    trade(LONG, "10", "20", "19", fees="1", signal_id=3, symbol="SOL/USDT:USDT", target=LIVE),
    trade(SHORT, "1", "100", "100", signal_id=4, user_id=2),
]


def test_figures_by_hand() -> None:
    assert trade_stats(BOOK) == TradeStats(
        count=4,
        wins=2,
        losses=1,
        win_rate=D(50),
        total_pnl=D(1),
        avg_pnl=D("0.25"),
        gross_profit=D(12),
        gross_loss=D(11),
        profit_factor=D(12) / D(11),
        best=D(9),
        worst=D(-11),
        fees=D("3.5"),
        long=SideStats(count=2, wins=1, pnl=D(-8)),
        short=SideStats(count=2, wins=1, pnl=D(9)),
    )


def test_parts_of_one_position_count_once() -> None:
    (position,) = closed_positions(BOOK[:2])
    assert (position.qty, position.net_pnl, position.fees) == (D(2), D(3), D(2))


def test_no_trades() -> None:
    empty = trade_stats([])
    assert (empty.count, empty.win_rate, empty.avg_pnl, empty.profit_factor, empty.best) == (0, None, None, None, None)
    assert empty.total_pnl == 0


def test_no_losses_means_no_profit_factor() -> None:
    assert trade_stats(BOOK[2:3]).profit_factor is None


def test_period_boundaries_are_utc() -> None:
    assert period_start(Period.TODAY, NOW) == ms(2024, 11, 21)
    assert period_start(Period.WEEK, NOW) == ms(2024, 11, 18)
    assert period_start(Period.MONTH, NOW) == ms(2024, 11, 1)
    assert period_start(Period.ALL, NOW) is None
    assert period_start(Period.WEEK, ms(2024, 11, 18, 0, 0)) == ms(2024, 11, 18)


def test_selection_by_period_and_owner() -> None:
    book = [
        trade(LONG, "1", "100", "101", closed_at=ms(2024, 11, 21, 0, 0), signal_id=10),
        trade(LONG, "1", "100", "101", closed_at=ms(2024, 11, 20, 23, 59), signal_id=11),
        trade(LONG, "1", "100", "101", closed_at=ms(2024, 11, 17, 23, 59), signal_id=12),
        trade(LONG, "1", "100", "101", closed_at=ms(2024, 10, 31, 23, 59), signal_id=13),
        trade(LONG, "1", "100", "101", closed_at=ms(2024, 11, 21, 9), user_id=2, strategy="oi", target=LIVE),
    ]
    counts = {period: len(select_trades(book, now_ms=NOW, period=period)) for period in Period}
    assert counts == {Period.TODAY: 2, Period.WEEK: 3, Period.MONTH: 4, Period.ALL: 5}
    assert len(select_trades(book, now_ms=NOW, user_id=2)) == 1
    assert len(select_trades(book, now_ms=NOW, strategy="oi")) == 1
    assert len(select_trades(book, now_ms=NOW, target=DEMO, period=Period.TODAY)) == 1


def test_a_period_counts_what_was_realised_in_it() -> None:
    yesterday_part = trade(LONG, "1", "100", "110", closed_at=ms(2024, 11, 20, 12), opened_at=ms(2024, 11, 20, 1))
    today_part = trade(LONG, "1", "100", "90", closed_at=ms(2024, 11, 21, 12), opened_at=ms(2024, 11, 20, 1))
    today = trade_stats(select_trades([yesterday_part, today_part], now_ms=NOW, period=Period.TODAY))
    assert (today.count, today.total_pnl, today.losses) == (1, D(-10), 1)
    week = trade_stats(select_trades([yesterday_part, today_part], now_ms=NOW, period=Period.WEEK))
    assert (week.count, week.total_pnl, week.wins, week.losses) == (1, D(0), 0, 0)


def test_breakdowns() -> None:
    by_strategy = stats_by(BOOK, lambda t: t.strategy)
    assert {name: (s.count, s.total_pnl) for name, s in by_strategy.items()} == {
        "elcaro": (3, D(-8)),
        "oi": (1, D(9)),
    }
    by_target = stats_by(BOOK, lambda t: t.target)
    assert {target: s.count for target, s in by_target.items()} == {DEMO: 3, LIVE: 1}
    by_user = stats_by(BOOK, lambda t: t.user_id)
    assert {user: s.total_pnl for user, s in by_user.items()} == {1: D(1), 2: D(0)}
