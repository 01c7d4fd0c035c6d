"""Trade management: every exit rule on a constructed bar sequence, the intrabar order, and tighten-only stops."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from breakout_fixtures import FIVE_MINUTES, T0, bars

from elcaro.indicators import atr
from elcaro.marketdata import CandleArrays
from elcaro.models.enums import ExitReason, Side
from elcaro.models.errors import ValidationError
from elcaro.strategies.breakout.exits import (
    CloseAll,
    ExitAction,
    ExitRule,
    ManagementSettings,
    MoveStop,
    OpenTrade,
    PartialClose,
    manage,
    step,
)
from elcaro.strategies.breakout.levels import Level
from elcaro.strategies.breakout.signals import BreakoutSignal

WARMUP = 20
"""Bars before the entry: 2 tall around 100, so ATR(2) is exactly 2 when the trade opens."""


def settings(**changes: Any) -> ManagementSettings:
    off: dict[str, Any] = {
        "tp1_fraction": 0.5,
        "tp2_fraction": 0.3,
        "break_even_after_tp1": False,
        "break_even_offset_pct": 0.1,
        "atr_period": 2,
        "chandelier_atr": 0.0,
        "trail_activation_r": 1.0,
        "time_stop_bars": 0,
        "max_hold_bars": 0,
        "no_progress_bars": 0,
        "no_progress_min_r": 0.0,
        "failed_breakout_bars": 0,
        "failed_breakout_buffer_atr": 0.0,
        "weak_impulse_bars": 0,
        "weak_impulse_min_r": 0.0,
        "exit_on_activity_drop": False,
    }
    return ManagementSettings.model_validate(off | changes)


def long_trade(**changes: Any) -> OpenTrade:
    """Long 10 at 100: stop 98 (R = 2), TP1 102, TP2 104, broke the level at 99.5."""
    values: dict[str, Any] = {
        "symbol": "BTC/USDT:USDT",
        "side": Side.BUY,
        "entry": 100.0,
        "stop": 98.0,
        "tp1": 102.0,
        "tp2": 104.0,
        "quantity": 10.0,
        "remaining": 10.0,
        "opened_index": WARMUP,
        "opened_ts": T0 + WARMUP * FIVE_MINUTES,
        "level_price": 99.5,
    }
    return OpenTrade(**(values | changes))


def short_trade() -> OpenTrade:
    return long_trade(side=Side.SELL, stop=102.0, tp1=98.0, tp2=96.0, level_price=100.5)


def series(*rows: tuple[float, float, float, float]) -> CandleArrays:
    return bars([(100.0, 101.0, 99.0, 100.0)] * WARMUP + list(rows))


def walk(
    trade: OpenTrade, candles: CandleArrays, rules: ManagementSettings, **kw: Any
) -> tuple[list[list[ExitAction]], OpenTrade]:
    """Step bar by bar from the entry until the trade closes or the bars run out."""
    history = []
    for index in range(trade.opened_index, len(candles)):
        result = step(trade, candles, index, rules, **kw)
        history.append(list(result.actions))
        trade = result.trade
        if trade.is_closed:
            break
    return history, trade


def test_the_stop_closes_everything_at_its_price() -> None:
    history, trade = walk(long_trade(), series((100.0, 100.5, 97.5, 98.5)), settings())
    assert history == [[CloseAll(ExitRule.STOP, 98.0, 10.0)]]
    assert trade.is_closed and trade.exit_rule is ExitRule.STOP and trade.remaining == 0.0


def test_a_bar_opening_through_the_stop_fills_at_its_open() -> None:
    history, _ = walk(long_trade(), series((100.0, 100.5, 99.0, 100.0), (97.0, 97.5, 96.0, 96.5)), settings())
    assert history[-1] == [CloseAll(ExitRule.STOP, 97.0, 10.0)]


def test_a_bar_touching_stop_and_target_is_a_stop() -> None:
    history, _ = walk(long_trade(), series((100.0, 104.5, 97.9, 103.0)), settings())
    assert history == [[CloseAll(ExitRule.STOP, 98.0, 10.0)]]


def test_tp1_closes_its_share_and_moves_the_stop_to_break_even() -> None:
    rules = settings(break_even_after_tp1=True)
    history, trade = walk(long_trade(), series((100.0, 102.5, 99.5, 102.2)), rules)
    assert history == [[PartialClose(0.5, ExitRule.TP1, 102.0, 5.0), MoveStop(100.1, ExitRule.BREAK_EVEN)]]
    assert (trade.remaining, trade.tp1_done, trade.stop, trade.stop_rule) == (5.0, True, 100.1, ExitRule.BREAK_EVEN)
    assert not trade.is_closed


def test_the_break_even_stop_closes_as_break_even() -> None:
    rules = settings(break_even_after_tp1=True)
    candles = series((100.0, 102.5, 99.5, 102.2), (102.0, 102.3, 100.0, 100.4))
    history, trade = walk(long_trade(), candles, rules)
    assert history[-1] == [CloseAll(ExitRule.BREAK_EVEN, pytest.approx(100.1), 5.0)]
    assert trade.exit_rule.exit_reason is ExitReason.BREAK_EVEN  # type: ignore[union-attr]


def test_a_close_already_through_the_new_stop_closes_at_the_close() -> None:
    rules = settings(break_even_after_tp1=True)
    history, _ = walk(long_trade(), series((100.0, 102.5, 99.5, 99.8)), rules)  # TP1, then closes under 100.1
    assert history == [[PartialClose(0.5, ExitRule.TP1, 102.0, 5.0), CloseAll(ExitRule.BREAK_EVEN, 99.8, 5.0)]]


def test_a_gap_beyond_a_target_fills_at_the_open() -> None:
    history, _ = walk(long_trade(), series((100.0, 100.8, 99.5, 100.5), (102.6, 103.0, 102.4, 102.8)), settings())
    assert history[-1] == [PartialClose(0.5, ExitRule.TP1, 102.6, 5.0)]


def test_both_targets_in_one_bar_and_a_last_target_that_empties_the_trade() -> None:
    history, trade = walk(long_trade(), series((100.0, 104.5, 99.5, 104.2)), settings())
    assert history == [[PartialClose(0.5, ExitRule.TP1, 102.0, 5.0), PartialClose(0.3, ExitRule.TP2, 104.0, 3.0)]]
    assert trade.remaining == pytest.approx(2.0) and trade.tp2_done
    history, trade = walk(long_trade(), series((100.0, 104.5, 99.5, 104.2)), settings(tp2_fraction=0.5))
    assert history == [[PartialClose(0.5, ExitRule.TP1, 102.0, 5.0), CloseAll(ExitRule.TP2, 104.0, 5.0)]]
    assert trade.exit_rule is ExitRule.TP2


def test_the_chandelier_trails_the_highest_high_and_never_loosens() -> None:
    # Lows 100, 101, … 104 then back down: every bar 2 tall around the last close, so ATR stays 2.
    up = [(low + 1, low + 2, low, low + 1) for low in (100.0, 101.0, 102.0, 103.0, 104.0, 103.0, 102.0)]
    far = long_trade(tp1=150.0, tp2=160.0)
    rules = settings(chandelier_atr=1.5, trail_activation_r=1.0)  # stop = highest high − 3 once 2 in favour
    candles = series(*up, (102.0, 102.5, 100.5, 101.0))
    assert atr(candles.high, candles.low, candles.close, 2)[WARMUP:-1].tolist() == [2.0] * len(up)
    history, trade = walk(far, candles, rules)
    moves = [action for actions in history for action in actions if isinstance(action, MoveStop)]
    # Highest highs 102 … 106 (the first already 1 R in favour): chandeliers 99 … 103.
    assert [move.new_stop for move in moves] == [99.0, 100.0, 101.0, 102.0, 103.0]
    assert all(move.reason is ExitRule.TRAILING for move in moves)
    assert len(history) == 6  # the bar after the top (low 103) reaches the stop
    assert history[-1] == [CloseAll(ExitRule.TRAILING, 103.0, 10.0)]
    assert trade.exit_rule.exit_reason is ExitReason.TRAILING_STOP  # type: ignore[union-attr]


def test_a_wider_atr_does_not_loosen_the_trailing_stop() -> None:
    up = [(low + 1, low + 2, low, low + 1) for low in (100.0, 101.0, 102.0, 103.0)]  # stops 99 … 102
    wide = (104.0, 104.9, 102.2, 104.6)  # true range 2.7: ATR 2.35, chandelier 105 − 3.525 = 101.475
    rules = settings(chandelier_atr=1.5, trail_activation_r=1.0)
    history, trade = walk(long_trade(tp1=150.0, tp2=160.0), series(*up, wide), rules)
    assert history[-1] == []
    assert (trade.stop, trade.stop_rule, trade.is_closed) == (102.0, ExitRule.TRAILING, False)


def test_trailing_waits_for_its_activation() -> None:
    rules = settings(chandelier_atr=0.5, trail_activation_r=2.0)  # needs the best price at 104
    history, _ = walk(long_trade(tp1=150.0, tp2=160.0), series((100.0, 103.5, 99.5, 103.0)), rules)
    assert history == [[]]


def test_the_time_stop_closes_a_trade_that_has_not_reached_tp1() -> None:
    hover = (100.0, 100.8, 99.6, 100.2)
    history, trade = walk(long_trade(), series(hover, hover, hover, hover, hover), settings(time_stop_bars=3))
    assert len(history) == 4  # bars held 0, 1, 2, 3
    assert history[-1] == [CloseAll(ExitRule.TIME_STOP, 100.2, 10.0)]
    # After TP1 the time stop no longer applies.
    tp1 = (100.0, 102.5, 99.6, 101.0)
    history, trade = walk(long_trade(), series(tp1, hover, hover, hover, hover), settings(time_stop_bars=3))
    assert not trade.is_closed


def test_max_hold_closes_any_trade() -> None:
    tp1 = (100.0, 102.5, 99.6, 101.0)
    hover = (101.0, 101.5, 100.6, 101.2)
    history, _ = walk(long_trade(), series(tp1, hover, hover, hover), settings(max_hold_bars=2))
    assert history[-1] == [CloseAll(ExitRule.MAX_HOLD, 101.2, 5.0)]
    assert len(history) == 3


def test_no_progress_closes_a_stalled_trade() -> None:
    # Progress = a best price 0.5 R (1.0) beyond the last mark. 101.2 at bar 21 is progress; nothing after.
    rows = [(100.0, 100.6, 99.6, 100.4), (100.4, 101.2, 100.0, 101.0)] + [(101.0, 101.9, 100.6, 101.2)] * 4
    history, trade = walk(long_trade(), series(*rows), settings(no_progress_bars=3, no_progress_min_r=0.5))
    assert trade.exit_rule is ExitRule.NO_PROGRESS
    assert trade.progress_index == WARMUP + 1 and trade.last_index == WARMUP + 4
    assert history[-1] == [CloseAll(ExitRule.NO_PROGRESS, 101.2, 10.0)]


def test_a_close_back_through_the_level_soon_after_entry_is_a_failed_breakout() -> None:
    rows = [(100.0, 100.6, 99.6, 100.4), (100.4, 100.5, 98.9, 99.2)]  # closes 0.3 under the level of 99.5
    rules = settings(failed_breakout_bars=3, failed_breakout_buffer_atr=0.1)  # beyond 0.2
    history, _ = walk(long_trade(), series(*rows), rules)
    assert history[-1] == [CloseAll(ExitRule.FAILED_BREAKOUT, 99.2, 10.0)]
    # Within the buffer it is not; and after the window it is not.
    shallow = [(100.0, 100.6, 99.6, 100.4), (100.4, 100.5, 99.0, 99.4)]
    assert not walk(long_trade(), series(*shallow), rules)[1].is_closed
    late = [(100.0, 100.6, 99.6, 100.4)] * 4 + [(100.4, 100.5, 98.9, 99.2)]
    assert not walk(long_trade(), series(*late), rules)[1].is_closed


def test_a_weak_impulse_is_left_early() -> None:
    rows = [(100.0, 100.6, 99.6, 100.4), (100.4, 100.9, 100.0, 100.5), (100.5, 100.8, 100.2, 100.5)]
    rules = settings(weak_impulse_bars=2, weak_impulse_min_r=0.5)  # 1.0 in favour within 2 bars
    history, _ = walk(long_trade(), series(*rows), rules)
    assert len(history) == 3 and history[-1] == [CloseAll(ExitRule.WEAK_IMPULSE, 100.5, 10.0)]
    strong = [(100.0, 101.2, 99.6, 100.4), *rows[1:]]
    assert not walk(long_trade(), series(*strong), rules)[1].is_closed


def test_an_activity_drop_exits_when_the_preset_says_so() -> None:
    candles = series((100.0, 100.6, 99.6, 100.4))
    assert manage(long_trade(), candles, WARMUP, settings(exit_on_activity_drop=True), activity_dropped=True) == [
        CloseAll(ExitRule.ACTIVITY_DROP, 100.4, 10.0)
    ]
    assert manage(long_trade(), candles, WARMUP, settings(exit_on_activity_drop=True)) == []
    assert manage(long_trade(), candles, WARMUP, settings(exit_on_activity_drop=False), activity_dropped=True) == []


def test_a_short_mirrors_stops_and_targets() -> None:
    history, trade = walk(short_trade(), series((100.0, 100.5, 97.5, 97.8)), settings(break_even_after_tp1=True))
    assert history == [[PartialClose(0.5, ExitRule.TP1, 98.0, 5.0), MoveStop(pytest.approx(99.9), ExitRule.BREAK_EVEN)]]
    assert trade.best_price == 97.5
    history, _ = walk(short_trade(), series((100.0, 102.5, 99.0, 101.0)), settings())
    assert history == [[CloseAll(ExitRule.STOP, 102.0, 10.0)]]
    rules = settings(failed_breakout_bars=2)
    assert walk(short_trade(), series((100.0, 101.0, 99.6, 100.7)), rules)[0] == [
        [CloseAll(ExitRule.FAILED_BREAKOUT, 100.7, 10.0)]
    ]


def test_bars_are_managed_once_and_in_order() -> None:
    candles = series((100.0, 100.6, 99.6, 100.4), (100.4, 100.9, 100.0, 100.5))
    trade = step(long_trade(), candles, WARMUP, settings()).trade
    with pytest.raises(ValidationError):
        step(trade, candles, WARMUP, settings())
    with pytest.raises(ValidationError):
        step(long_trade(), candles, WARMUP - 1, settings())
    closed = step(long_trade(), series((100.0, 100.5, 97.5, 98.5)), WARMUP, settings()).trade
    with pytest.raises(ValidationError, match="already closed"):
        step(closed, candles, WARMUP + 1, settings())


def test_an_open_trade_is_consistent() -> None:
    with pytest.raises(ValidationError):
        long_trade(stop=101.0)
    with pytest.raises(ValidationError):
        long_trade(tp1=99.0)
    with pytest.raises(ValidationError):
        long_trade(remaining=11.0)
    trade = long_trade()
    assert (trade.risk, trade.initial_stop, trade.best_price, trade.last_index) == (2.0, 98.0, 100.0, WARMUP - 1)


def test_a_trade_opens_from_a_signal_only_between_its_stop_and_tp1() -> None:
    level = Level(99.5, "resistance", 3, T0, T0, 1.0, 0, 0.7)
    signal = BreakoutSignal("X", Side.BUY, "retest", level, 100.0, 98.0, 102.0, 104.0, 0.6, T0, T0 + 3 * FIVE_MINUTES)
    trade = OpenTrade.from_signal(signal, quantity=3.0, entry_price=100.3, index=7, ts=T0 + FIVE_MINUTES)
    assert (trade.entry, trade.stop, trade.level_price, trade.tags, trade.risk) == (
        100.3,
        98.0,
        99.5,
        ("retest",),
        pytest.approx(2.3),
    )
    with pytest.raises(ValidationError):
        OpenTrade.from_signal(signal, quantity=3.0, entry_price=102.1, index=7, ts=T0)


def test_exit_rules_map_to_the_recorded_exit_reasons() -> None:
    assert {rule: rule.exit_reason for rule in ExitRule} == {
        ExitRule.TP1: ExitReason.TAKE_PROFIT,
        ExitRule.TP2: ExitReason.TAKE_PROFIT,
        ExitRule.STOP: ExitReason.STOP_LOSS,
        ExitRule.BREAK_EVEN: ExitReason.BREAK_EVEN,
        ExitRule.TRAILING: ExitReason.TRAILING_STOP,
        ExitRule.TIME_STOP: ExitReason.TIME_STOP,
        ExitRule.MAX_HOLD: ExitReason.MAX_HOLD,
        ExitRule.NO_PROGRESS: ExitReason.NO_PROGRESS,
        ExitRule.FAILED_BREAKOUT: ExitReason.FAILED_BREAKOUT,
        ExitRule.WEAK_IMPULSE: ExitReason.WEAK_IMPULSE,
        ExitRule.ACTIVITY_DROP: ExitReason.ACTIVITY_DROP,
    }


def test_target_shares_must_fit_in_the_position() -> None:
    with pytest.raises(ValueError, match="tp2_fraction plus tp1_fraction must be at most 1"):
        settings(tp1_fraction=0.7, tp2_fraction=0.4)
    assert replace(long_trade(), remaining=0.0).remaining == 0.0
