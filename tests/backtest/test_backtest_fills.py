"""The fill model, rule by rule, on hand-made candles; every rule on both paths (vectorised and bar by bar).

The Donchian strategy with a 2-bar channel, a 10 % stop and a 20 % target: bar 2 closes at 102 above
the 101 high of bars 0–1, so it signals; bar 3 opens at 104, the entry. Stop 104 × 0.9 = 93.6,
target 104 × 1.2 = 124.8. Bar 4 (and later ones) decide each case.
"""

from __future__ import annotations

import pytest
from backtest_builders import bars

from elcaro.backtest import BacktestConfig, FillModel, run_backtest
from elcaro.backtest.fills import DEFAULT_MAKER_FEE, DEFAULT_TAKER_FEE
from elcaro.models.enums import PositionSide
from elcaro.models.errors import ValidationError
from elcaro.strategies.donchian import DonchianSettings

SETUP = [(100, 101, 99, 100), (100, 101, 99, 100), (100, 103, 99, 102), (104, 105, 103, 104)]
QUIET = [(95, 96, 94, 95), (95, 96, 94, 95)]  # closes below every channel: no new signal
SETTINGS = DonchianSettings(period=2, stop_pct=0.1, target_pct=0.2)
NO_FEES = FillModel(taker_fee=0.0, maker_fee=0.0)
PATHS = pytest.mark.parametrize("path", ["fast", "events"])


def first_trade(rows, *, path: str, fills: FillModel = NO_FEES, settings: DonchianSettings = SETTINGS):
    result = run_backtest({"TEST/USDT": bars(rows)}, settings, BacktestConfig(capital=10_000.0, fills=fills, path=path))
    assert result.trades, "the setup bars must give a trade"
    return result.trades[0]


@PATHS
def test_entry_is_the_next_bars_open_not_the_signal_close(path: str) -> None:
    trade = first_trade([*SETUP, (104, 106, 103, 105), *QUIET], path=path)
    assert (trade.entry_index, trade.entry_price) == (3, 104.0)  # the signal bar 2 closed at 102
    assert trade.side is PositionSide.LONG
    assert trade.initial_stop == pytest.approx(93.6, rel=1e-12)


@PATHS
def test_a_touched_stop_fills_at_its_price(path: str) -> None:
    trade = first_trade([*SETUP, (104, 105, 93, 95), *QUIET], path=path)
    assert (trade.exit_index, trade.exit_reason) == (4, "stop")
    assert trade.exit_price == pytest.approx(93.6, rel=1e-12)


@PATHS
def test_a_bar_opening_through_the_stop_fills_at_the_open(path: str) -> None:
    trade = first_trade([*SETUP, (90, 92, 88, 91), *QUIET], path=path)
    assert (trade.exit_index, trade.exit_reason, trade.exit_price) == (4, "stop", 90.0)


@PATHS
def test_a_bar_touching_stop_and_target_is_a_stop(path: str) -> None:
    trade = first_trade([*SETUP, (104, 130, 90, 110), *QUIET], path=path)
    assert (trade.exit_index, trade.exit_reason) == (4, "stop")
    assert trade.exit_price == pytest.approx(93.6, rel=1e-12)


@PATHS
def test_a_touched_target_fills_at_its_price(path: str) -> None:
    trade = first_trade([*SETUP, (104, 126, 103, 125), *QUIET], path=path)
    assert (trade.exit_index, trade.exit_reason) == (4, "target")
    assert trade.exit_price == pytest.approx(124.8, rel=1e-12)


@PATHS
def test_a_bar_opening_beyond_the_target_fills_at_the_open(path: str) -> None:
    trade = first_trade([*SETUP, (126, 127, 125, 126), *QUIET], path=path)
    assert (trade.exit_index, trade.exit_reason, trade.exit_price) == (4, "target", 126.0)


@PATHS
def test_exits_count_from_the_entry_bar_itself(path: str) -> None:
    rows = [*SETUP[:3], (104, 105, 93, 95), (95, 96, 93, 94), *QUIET]  # bars 3 and 4 both reach the stop
    assert first_trade(rows, path=path).exit_index == 3
    later = first_trade(rows, path=path, fills=FillModel(0.0, 0.0, exits_on_entry_bar=False))
    assert later.exit_index == 4  # vectorbt's rule: the entry bar is not looked at
    assert later.exit_price == pytest.approx(93.6, rel=1e-12)


@PATHS
def test_fees_are_paid_on_both_sides_taker_in_and_maker_at_the_target(path: str) -> None:
    fills = FillModel()  # the paper exchange's rates
    trade = first_trade([*SETUP, (104, 126, 103, 125), *QUIET], path=path, fills=fills)
    quantity = 10_000.0 / (104.0 * (1 + DEFAULT_TAKER_FEE))  # the whole sleeve, the entry fee included
    fees = quantity * 104.0 * DEFAULT_TAKER_FEE + quantity * 124.8 * DEFAULT_MAKER_FEE
    assert trade.quantity == pytest.approx(quantity, rel=1e-12)
    assert trade.fees == pytest.approx(fees, rel=1e-12)
    assert trade.pnl == pytest.approx(quantity * (124.8 - 104.0) - fees, rel=1e-12)
    assert trade.r_multiple == pytest.approx(trade.pnl / (quantity * 10.4), rel=1e-9)


@PATHS
def test_a_stop_pays_the_taker_fee_on_its_exit(path: str) -> None:
    trade = first_trade([*SETUP, (104, 105, 93, 95), *QUIET], path=path, fills=FillModel())
    quantity = 10_000.0 / (104.0 * (1 + DEFAULT_TAKER_FEE))
    assert trade.fees == pytest.approx(quantity * (104.0 + 93.6) * DEFAULT_TAKER_FEE, rel=1e-12)


@PATHS
def test_slippage_moves_taker_fills_against_the_trader_and_not_the_limit(path: str) -> None:
    fills = FillModel(taker_fee=0.0, maker_fee=0.0, slippage_bps=10.0)
    stopped = first_trade([*SETUP, (104, 105, 93, 95), *QUIET], path=path, fills=fills)
    entry = 104.0 * 1.001
    assert stopped.entry_price == pytest.approx(entry, rel=1e-12)
    assert stopped.exit_price == pytest.approx(entry * 0.9 * 0.999, rel=1e-12)
    target = first_trade([*SETUP, (104, 130, 103, 125), *QUIET], path=path, fills=fills)
    assert target.exit_price == pytest.approx(entry * 1.2, rel=1e-12)


@PATHS
def test_a_short_mirrors_every_rule(path: str) -> None:
    settings = DonchianSettings(period=2, stop_pct=0.1, target_pct=0.2, allow_short=True)
    rows = [(100, 101, 99, 100), (100, 101, 99, 100), (100, 101, 97, 98), (96, 97, 95, 96), (96, 107, 95, 100)]
    trade = first_trade([*rows, (101, 102, 100, 101)], path=path, settings=settings)
    assert trade.side is PositionSide.SHORT
    assert (trade.entry_index, trade.entry_price) == (3, 96.0)
    assert (trade.exit_index, trade.exit_reason) == (4, "stop")
    assert trade.exit_price == pytest.approx(105.6, rel=1e-12)
    assert trade.pnl == pytest.approx(trade.quantity * (96.0 - 105.6), rel=1e-12)


@PATHS
def test_one_position_at_a_time_and_no_entry_after_the_last_bar(path: str) -> None:
    # Bar 4 breaks out again while the position is open (ignored); the last bar breaks out with no next open.
    rows = [*SETUP, (104, 110, 103, 109), (109, 111, 108, 110), (110, 112, 109, 111.5), (111, 125, 110, 124)]
    result = run_backtest({"TEST/USDT": bars(rows)}, SETTINGS, BacktestConfig(fills=NO_FEES, path=path))
    assert [(t.entry_index, t.exit_index, t.exit_reason) for t in result.trades] == [(3, 7, "target")]


@PATHS
def test_a_position_open_at_the_end_closes_at_the_last_close(path: str) -> None:
    trade = first_trade([*SETUP, (104, 106, 103, 105), (105, 107, 104, 106.5)], path=path)
    assert (trade.exit_index, trade.exit_reason, trade.exit_price) == (5, "end_of_data", 106.5)


def test_fill_settings_out_of_range_are_refused_with_the_field() -> None:
    with pytest.raises(ValidationError) as caught:
        FillModel(taker_fee=0.5)
    assert caught.value.field == "taker_fee"
    with pytest.raises(ValidationError) as caught:
        FillModel(slippage_bps=-1)
    assert caught.value.field == "slippage_bps"
