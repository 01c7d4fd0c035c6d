"""The risk gate: sizing and its caps (with hypothesis for the arithmetic), and every account limit's refusal."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest
from breakout_fixtures import T0, risk_settings
from hypothesis import given
from hypothesis import strategies as st

from elcaro.models.enums import Side
from elcaro.models.errors import ValidationError
from elcaro.models.market import BookLevel, OrderBook
from elcaro.models.timeframe import DAY_MS, HOUR_MS
from elcaro.strategies.breakout.levels import Level
from elcaro.strategies.breakout.risk import RiskBook, RiskCode, SizeCap
from elcaro.strategies.breakout.signals import BreakoutSignal

LEVEL = Level(99.0, "resistance", 3, T0, T0, 1.0, 0, 0.6)
DAY = T0 - T0 % DAY_MS  # midnight UTC of T0's day


def signal(
    entry: float = 100.0, stop: float = 98.0, *, symbol: str = "BTC/USDT:USDT", ts: int = T0, **kw: Any
) -> BreakoutSignal:
    side = Side.BUY if stop < entry else Side.SELL
    risk = abs(entry - stop)
    sign = 1 if side is Side.BUY else -1
    values: dict[str, Any] = {
        "symbol": symbol,
        "side": side,
        "kind": "momentum",
        "level": LEVEL,
        "entry": entry,
        "stop": stop,
        "tp1": entry + sign * risk,
        "tp2": entry + sign * 2 * risk,
        "confidence": 0.7,
        "bar_ts": ts,
        "expires_at": ts + 900_000,
    }
    return BreakoutSignal(**(values | kw))


def risk_book(**changes: Any) -> RiskBook:
    # liquid: 0.5 % a trade, ≤ 200 % of equity a position, 5 positions, 3 % a day, 10 % drawdown, 4 losses.
    return RiskBook(risk_settings(**changes))


def order_book(bids: list[tuple[str, str]], asks: list[tuple[str, str]]) -> OrderBook:
    return OrderBook(
        "BTC/USDT:USDT",
        tuple(BookLevel(Decimal(p), Decimal(q)) for p, q in bids),
        tuple(BookLevel(Decimal(p), Decimal(q)) for p, q in asks),
        T0,
    )


# -- sizing ----------------------------------------------------------------------------------------


def test_size_is_equity_times_risk_over_the_stop_distance() -> None:
    decision = risk_book().check(signal(100.0, 98.0), 10_000.0)
    assert decision.allowed and decision.reason is None
    assert decision.quantity == pytest.approx(25.0)  # 10 000 × 0.5 % = 50 at risk ÷ 2 a unit
    assert (decision.notional, decision.risk_amount) == (pytest.approx(2_500.0), pytest.approx(50.0))
    assert decision.limited_by is SizeCap.RISK
    assert decision.skipped == ("book_depth",)  # no book: the depth cap was not applied, and that is said


def test_a_short_is_sized_the_same_way() -> None:
    decision = risk_book().check(signal(100.0, 104.0), 10_000.0)
    assert decision.allowed and decision.quantity == pytest.approx(12.5)


def test_a_tight_stop_is_capped_by_the_largest_position() -> None:
    decision = risk_book().check(signal(100.0, 99.9), 10_000.0)  # 500 units by risk = 50 000 notional
    assert decision.quantity == pytest.approx(200.0)  # 200 % of 10 000 at 100
    assert decision.limited_by is SizeCap.MAX_POSITION
    assert decision.risk_amount == pytest.approx(20.0)  # a cap only ever lowers the risk
    capped = risk_book(max_position_notional=1_000.0).check(signal(100.0, 99.9), 10_000.0)
    assert (capped.quantity, capped.limited_by) == (pytest.approx(10.0), SizeCap.MAX_POSITION)


def test_book_depth_caps_the_size_on_the_side_the_entry_takes() -> None:
    # Mid 100, band 0.5 %: asks at 100.1 and 100.4 count (30 + 20), the one at 101 does not.
    book = order_book([("99.9", "1000")], [("100.1", "30"), ("100.4", "20"), ("101", "1000")])
    buy = risk_book().check(signal(100.0, 98.0), 10_000.0, book=book)
    assert (buy.quantity, buy.limited_by, buy.skipped) == (pytest.approx(5.0), SizeCap.BOOK_DEPTH, ())  # 10 % of 50
    sell = risk_book().check(signal(100.0, 102.0), 10_000.0, book=book)
    assert (sell.quantity, sell.limited_by) == (pytest.approx(25.0), SizeCap.RISK)  # 10 % of 1000 bids is 100


def test_correlated_positions_share_one_exposure_cap() -> None:
    book = risk_book()  # group cap 300 % of equity = 30 000
    book.record_open("ETH/USDT:USDT", 25_000.0)
    book.record_open("DOGE/USDT:USDT", 4_000.0)
    correlation = {"ETH/USDT:USDT": -0.9, "DOGE/USDT:USDT": 0.2}  # |−0.9| counts, 0.2 does not
    decision = book.check(signal(100.0, 99.5), 10_000.0, correlation=correlation)  # 100 units by risk
    assert (decision.quantity, decision.limited_by) == (pytest.approx(50.0), SizeCap.CORRELATED_EXPOSURE)
    book.record_open("SOL/USDT:USDT", 5_000.0)
    full = book.check(signal(100.0, 99.0), 10_000.0, correlation=correlation | {"SOL/USDT:USDT": 0.85})
    assert (full.allowed, full.reason) == (False, RiskCode.CORRELATED_EXPOSURE)
    blind = book.check(signal(100.0, 99.0), 10_000.0)
    assert blind.allowed and "correlation" in blind.skipped


def test_a_size_below_the_minimum_is_refused() -> None:
    # 0.5 % of 100 is 0.5 at risk; ÷ 50 a unit = 0.01 units, 1 of notional.
    decision = risk_book(min_position_notional=10.0).check(signal(100.0, 50.0), 100.0)
    assert (decision.allowed, decision.reason, decision.quantity) == (False, RiskCode.BELOW_MIN_SIZE, 0.0)


def test_no_equity_or_no_stop_distance_is_refused() -> None:
    assert risk_book().check(signal(), 0.0).reason is RiskCode.NO_EQUITY
    flat = replace(signal(), stop=100.0)
    assert risk_book().check(flat, 10_000.0).reason is RiskCode.INVALID_STOP


@given(
    equity=st.floats(min_value=10.0, max_value=1e9),
    risk_pct=st.floats(min_value=0.01, max_value=10.0),
    entry=st.floats(min_value=1e-6, max_value=1e6),
    distance_share=st.floats(min_value=1e-5, max_value=0.9),
    max_position_pct=st.floats(min_value=1.0, max_value=10_000.0),
    max_notional=st.sampled_from([0.0, 100.0, 1e5, 1e8]),
    depth=st.sampled_from([None, "0.001", "5", "1000000"]),
    book_fraction=st.floats(min_value=0.01, max_value=1.0),
)
def test_sizing_never_exceeds_a_cap_and_loses_at_most_the_risk_at_the_stop(
    equity: float,
    risk_pct: float,
    entry: float,
    distance_share: float,
    max_position_pct: float,
    max_notional: float,
    depth: str | None,
    book_fraction: float,
) -> None:
    settings = {
        "risk_per_trade_pct": risk_pct,
        "max_position_pct": max_position_pct,
        "max_position_notional": max_notional,
        "min_position_notional": 0.0,
        "max_book_fraction": book_fraction,
        "max_correlated_exposure_pct": 10_000.0,
    }
    stop = entry * (1 - distance_share)
    book = None
    if depth is not None:
        price = Decimal(repr(entry))
        book = order_book([(str(price * Decimal("0.9999")), depth)], [(str(price * Decimal("1.0001")), depth)])
    decision = risk_book(**settings).check(signal(entry, stop), equity, book=book)
    assert decision.allowed
    budget = equity * risk_pct / 100
    loss_at_stop = decision.quantity * (entry - stop)
    assert loss_at_stop <= budget * (1 + 1e-9)
    assert decision.quantity * entry <= equity * max_position_pct / 100 * (1 + 1e-9)
    if max_notional > 0:
        assert decision.quantity * entry <= max_notional * (1 + 1e-9)
    if book is not None:
        assert decision.quantity <= book_fraction * float(depth or 0) * (1 + 1e-9)
    if decision.limited_by is SizeCap.RISK:
        assert loss_at_stop == pytest.approx(budget, rel=1e-9)
    assert decision.risk_amount == pytest.approx(loss_at_stop, rel=1e-9)


# -- account limits --------------------------------------------------------------------------------


def test_max_concurrent_positions_and_one_position_a_symbol() -> None:
    book = risk_book(max_concurrent_positions=2)
    book.record_open("BTC/USDT:USDT", 1_000.0)
    assert book.check(signal(), 10_000.0).reason is RiskCode.POSITION_OPEN
    book.record_open("ETH/USDT:USDT", 1_000.0)
    refused = book.check(signal(symbol="SOL/USDT:USDT"), 10_000.0)
    assert (refused.reason, refused.message) == (RiskCode.MAX_POSITIONS, "2 positions open (limit 2)")
    book.record_close(-10.0, T0, symbol="ETH/USDT:USDT")
    assert book.check(signal(symbol="SOL/USDT:USDT"), 9_990.0).allowed


def test_the_daily_loss_limit_holds_until_the_next_utc_day() -> None:
    book = risk_book()  # 3 % of the day's first equity
    book.observe_equity(10_000.0, DAY + HOUR_MS)
    book.record_open("ETH/USDT:USDT", 5_000.0)
    book.record_close(-299.0, DAY + 2 * HOUR_MS, symbol="ETH/USDT:USDT")
    assert book.check(signal(ts=DAY + 3 * HOUR_MS), 9_701.0).allowed
    book.record_close(-1.0, DAY + 4 * HOUR_MS)  # funding: 300 lost today
    refused = book.check(signal(ts=DAY + 5 * HOUR_MS), 9_700.0)
    assert refused.reason is RiskCode.DAILY_LOSS
    assert book.check(signal(ts=DAY + DAY_MS - 1), 9_700.0).reason is RiskCode.DAILY_LOSS
    assert book.check(signal(ts=DAY + DAY_MS), 9_700.0).allowed  # a new UTC day


def test_an_unrealised_fall_counts_toward_the_daily_loss() -> None:
    book = risk_book()
    book.observe_equity(10_000.0, DAY)
    book.observe_equity(9_650.0, DAY + HOUR_MS)  # an open position marked 350 down
    assert book.check(signal(ts=DAY + 2 * HOUR_MS), 9_650.0).reason is RiskCode.DAILY_LOSS


def test_the_kill_switch_trips_on_drawdown_from_the_peak_and_latches() -> None:
    book = risk_book()  # 10 % below the peak
    book.observe_equity(10_000.0, DAY)
    book.observe_equity(12_000.0, DAY + DAY_MS)  # the peak
    book.observe_equity(10_900.0, DAY + 2 * DAY_MS)
    assert not book.kill_switch_tripped()
    book.observe_equity(10_800.0, DAY + 2 * DAY_MS + HOUR_MS)  # exactly 10 % down
    assert book.kill_switch_tripped()
    refused = book.check(signal(ts=DAY + 3 * DAY_MS), 11_500.0)  # recovered, still off
    assert refused.reason is RiskCode.KILL_SWITCH_DRAWDOWN
    assert "below its peak 12000" in refused.message
    book.reset_kill_switch()
    assert book.check(signal(ts=DAY + 3 * DAY_MS), 11_500.0).allowed


def test_realised_losses_alone_can_trip_the_kill_switch() -> None:
    book = risk_book(daily_loss_limit_pct=50.0)
    book.observe_equity(10_000.0, DAY)
    book.record_open("ETH/USDT:USDT", 5_000.0)
    book.record_close(-1_000.0, DAY + HOUR_MS, symbol="ETH/USDT:USDT")
    assert book.kill_switch_tripped()


def test_consecutive_losses_stop_entries_for_the_rest_of_the_day() -> None:
    book = risk_book(max_consecutive_losses=3, daily_loss_limit_pct=100.0)
    book.observe_equity(10_000.0, DAY)
    for n in range(3):
        book.record_open("ETH/USDT:USDT", 1_000.0)
        book.record_close(-5.0, DAY + n * HOUR_MS, symbol="ETH/USDT:USDT")
    assert book.consecutive_losses == 3
    refused = book.check(signal(ts=DAY + 5 * HOUR_MS), 9_985.0)
    assert refused.reason is RiskCode.CONSECUTIVE_LOSSES
    tomorrow = book.check(signal(ts=DAY + DAY_MS), 9_985.0)
    assert tomorrow.allowed and book.consecutive_losses == 0


def test_a_trade_counts_for_the_streak_by_its_total_pnl() -> None:
    book = risk_book(max_consecutive_losses=2)
    book.observe_equity(10_000.0, DAY)
    book.record_open("ETH/USDT:USDT", 1_000.0)
    book.record_close(-5.0, DAY + 1, symbol="ETH/USDT:USDT")
    book.record_open("ETH/USDT:USDT", 1_000.0)
    book.record_close(8.0, DAY + 2, symbol="ETH/USDT:USDT", remaining_notional=500.0)  # TP1
    assert book.open_positions == {"ETH/USDT:USDT": 500.0}
    book.record_close(-5.0, DAY + 3, symbol="ETH/USDT:USDT")  # break-even stop less fees: +3 in all
    assert book.consecutive_losses == 0
    assert book.check(signal(ts=DAY + 4), 10_000.0).allowed


def test_closing_an_unknown_position_is_an_error() -> None:
    with pytest.raises(ValidationError) as caught:
        risk_book().record_close(1.0, T0, symbol="NOPE/USDT:USDT")
    assert caught.value.field == "symbol"


def test_a_snapshot_restores_the_same_book() -> None:
    book = risk_book()
    book.observe_equity(10_000.0, DAY)
    book.record_open("ETH/USDT:USDT", 2_000.0)
    book.record_close(-40.0, DAY + 1, symbol="ETH/USDT:USDT", remaining_notional=1_000.0)
    restored = RiskBook.restore(book.settings, book.snapshot())
    assert restored.snapshot() == book.snapshot()
    assert restored.check(signal(ts=DAY + 2), 9_960.0) == book.check(signal(ts=DAY + 2), 9_960.0)
