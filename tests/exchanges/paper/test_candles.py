"""Candles are walked along a conventional intra-bar path, stopping at every level inside the bar.

Up (or flat) bars go open → low → high → close, down bars open → high → low → close.
"""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from elcaro.exchanges.paper import PaperEngine
from elcaro.exchanges.paper.pricing import bar_path
from elcaro.models import ExitReason, OrderStatus, Side
from elcaro.models.market import Candle
from paper.builders import ALICE, BTC, limit, market, stop


def bar(open_: str, high: str, low: str, close: str, at: int = 0) -> Candle:
    return Candle(at, D(open_), D(high), D(low), D(close), D("10"))


@pytest.mark.parametrize(
    ("candle", "path"),
    [
        (bar("100", "110", "90", "105"), ("100", "90", "110", "105")),
        (bar("100", "110", "90", "100"), ("100", "90", "110", "100")),
        (bar("100", "110", "90", "95"), ("100", "110", "90", "95")),
    ],
)
def test_the_path_takes_the_wick_against_the_bar_first(candle: Candle, path: tuple[str, ...]) -> None:
    assert bar_path(candle) == tuple(D(price) for price in path)


def open_protected_long(engine: PaperEngine) -> None:
    engine.place_order(ALICE, market("long", Side.BUY, "0.1", take_profit="30500", stop_loss="29500"))


def test_an_up_bar_that_spans_both_stops_a_long_out_first(engine: PaperEngine) -> None:
    open_protected_long(engine)
    engine.apply_candle(BTC.symbol, bar("30000", "30600", "29400", "30100"))
    (trade,) = engine.closed_pnl(ALICE)
    assert (trade.exit_reason, trade.exit_price) == (ExitReason.STOP_LOSS, D("29500"))


def test_a_down_bar_that_spans_both_takes_the_profit_first(engine: PaperEngine) -> None:
    open_protected_long(engine)
    engine.apply_candle(BTC.symbol, bar("30000", "30600", "29400", "29900"))
    (trade,) = engine.closed_pnl(ALICE)
    assert (trade.exit_reason, trade.exit_price) == (ExitReason.TAKE_PROFIT, D("30500"))


def test_a_stop_inside_a_bar_fills_at_its_trigger(engine: PaperEngine) -> None:
    engine.place_order(ALICE, stop("breakout", Side.BUY, "0.1", "30200"))
    engine.apply_candle(BTC.symbol, bar("30000", "30600", "29900", "30500"))
    assert engine.get_order(ALICE, "breakout").avg_fill_price == D("30200")


def test_a_bar_can_fill_an_entry_and_then_stop_it_out(engine: PaperEngine) -> None:
    engine.place_order(ALICE, limit("dip", Side.BUY, "0.1", "29800", take_profit="30500", stop_loss="29600"))
    engine.apply_candle(BTC.symbol, bar("30000", "30100", "29500", "29700"))  # down: 30 100, then 29 500

    assert engine.get_order(ALICE, "dip").status is OrderStatus.FILLED
    (trade,) = engine.closed_pnl(ALICE)
    assert (trade.entry_price, trade.exit_price, trade.exit_reason) == (D("29800"), D("29600"), ExitReason.STOP_LOSS)


def test_a_gap_at_the_open_fills_at_the_open(engine: PaperEngine) -> None:
    open_protected_long(engine)
    engine.apply_candle(BTC.symbol, bar("29000", "29200", "28900", "29100"))
    assert engine.closed_pnl(ALICE)[0].exit_price == D("29000")


def test_a_quiet_bar_leaves_everything_as_it_was_and_the_close_is_the_price(engine: PaperEngine) -> None:
    open_protected_long(engine)
    engine.apply_candle(BTC.symbol, bar("30000", "30400", "29600", "30300"))
    assert engine.closed_pnl(ALICE) == [] and len(engine.positions(ALICE)) == 1
    assert engine.mark_price(BTC.symbol) == engine.last_price(BTC.symbol) == D("30300")


def test_candles_given_a_timeframe_are_kept_for_fetching(engine: PaperEngine) -> None:
    first, second = bar("30000", "30100", "29900", "30050", at=0), bar("30050", "30200", "30000", "30100", at=300_000)
    engine.apply_candle(BTC.symbol, first, timeframe="5m")
    engine.apply_candle(BTC.symbol, second, timeframe="5m")
    revised = bar("30050", "30300", "30000", "30250", at=300_000)
    engine.apply_candle(BTC.symbol, revised, timeframe="5m")  # the same bar again, grown
    engine.apply_candle(BTC.symbol, first)  # no timeframe: walked, not kept
    assert engine.candles(BTC.symbol, "5m") == [first, revised]
    assert engine.candles(BTC.symbol, "1h") == []
