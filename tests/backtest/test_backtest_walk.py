"""The bar-by-bar walk with a strategy of the test's own: partial closes, stop moves, flattening, the money.

``Ladder`` enters long every 20 candles of a symbol (at candle 5, 25, …), closes 40 % at market one
candle later and moves the stop to the entry, and closes the rest with a limit two candles after
that; the bar time ``FLATTEN_AT`` closes whatever is open. The walk must account for every fill.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pytest
from backtest_builders import START, synthetic

from elcaro.backtest import FillModel
from elcaro.backtest.events import (
    Account,
    Action,
    BarWalk,
    Close,
    EntryOrder,
    MoveStop,
    Opening,
    OpenPosition,
)
from elcaro.backtest.trades import BacktestTrade
from elcaro.marketdata import CandleArrays

FIVE_MINUTES = 300_000
FLATTEN_AT = START + 606 * FIVE_MINUTES


class Ladder:
    def __init__(self) -> None:
        self.universe: Mapping[str, CandleArrays] = {}
        self.closes: list[tuple[int, bool]] = []

    def prepare(self, universe: Mapping[str, CandleArrays], account: Account) -> None:
        self.universe = universe

    def on_bar_time(self, timestamp: int, cursor: Mapping[str, int], account: Account) -> Sequence[tuple[str, str]]:
        return [(symbol, "flatten") for symbol in sorted(account.positions)] if timestamp == FLATTEN_AT else ()

    def signal(self, symbol: str, index: int, account: Account) -> EntryOrder | None:
        return EntryOrder(symbol, 1, index) if index % 20 == 4 else None

    def open(self, order: EntryOrder, fill_price: float, index: int, account: Account) -> Opening | None:
        return Opening(quantity=account.equity * 0.5 / fill_price, stop=fill_price * 0.5)

    def manage(self, position: OpenPosition, index: int) -> Sequence[Action]:
        held = index - position.entry_index
        close = float(self.universe[position.symbol].close[index])
        if held == 1:
            return [Close("market", close, "part", position.quantity * 0.4), MoveStop(position.entry_price, "be")]
        if held == 3:
            return [Close("limit", close, "rest")]
        return []

    def closed(self, position: OpenPosition, trade: BacktestTrade, final: bool) -> None:
        self.closes.append((position.id, final))


@pytest.fixture(scope="module")
def walk() -> tuple[Ladder, object]:
    # Two symbols on different clocks: the second starts later and misses a stretch of candles.
    first = synthetic(1, 1000)
    second = synthetic(2, 800, start=START + 50 * FIVE_MINUTES)
    keep = np.ones(800, dtype=bool)
    keep[305:315] = False  # candle 304 signals; the entry waits for the candle after the gap
    gapped = CandleArrays(
        *(getattr(second, name)[keep] for name in ("timestamp", "open", "high", "low", "close", "volume"))
    )
    ladder = Ladder()
    fills = FillModel(slippage_bps=2.0)
    result = BarWalk({"B/USDT": gapped, "A/USDT": first}, ladder, fills, 10_000.0).run()
    return ladder, result


def test_every_fill_adds_up_to_the_final_equity(walk) -> None:
    _, result = walk
    pnl = sum(t.pnl for t in result.trades)
    assert result.curve.equity[-1] == pytest.approx(10_000.0 + pnl, rel=1e-12)
    assert result.curve.timestamps[0] == START and len(np.unique(result.curve.timestamps)) == len(result.curve)


def test_partial_closes_share_the_position_and_its_entry_fee(walk) -> None:
    _, result = walk
    fills = FillModel(slippage_bps=2.0)
    by_position: dict[int, list[BacktestTrade]] = {}
    for trade in result.trades:
        by_position.setdefault(trade.position, []).append(trade)
    assert len(by_position) > 60
    for rows in by_position.values():
        total = sum(row.quantity for row in rows)
        entry_fee = total * rows[0].entry_price * fills.taker_fee
        exit_fees = sum(
            row.quantity * row.exit_price * (fills.maker_fee if row.exit_reason == "rest" else fills.taker_fee)
            for row in rows
        )
        assert sum(row.fees for row in rows) == pytest.approx(entry_fee + exit_fees, rel=1e-9)
        if [row.exit_reason for row in rows] == ["part", "rest"]:
            assert rows[0].quantity == pytest.approx(0.4 * total, rel=1e-12)
            assert rows[1].exit_index == rows[0].exit_index + 2


def test_market_fills_slip_and_limit_fills_do_not(walk) -> None:
    ladder, result = walk
    for trade in result.trades[:40]:
        candles = ladder.universe[trade.symbol]
        close, open_ = float(candles.close[trade.exit_index]), float(candles.open[trade.exit_index])
        # A limit at the close fills there, or at the open when the candle opened beyond it.
        expected = close * (1 - 2e-4) if trade.exit_reason in ("part", "flatten") else max(close, open_)
        assert trade.exit_price == pytest.approx(expected, rel=1e-12)
        assert trade.entry_price == pytest.approx(float(ladder.universe[trade.symbol].open[trade.entry_index]) * 1.0002)


def test_a_flatten_closes_everything_open_at_that_bar_time(walk) -> None:
    _, result = walk
    flattened = [t for t in result.trades if t.exit_reason == "flatten"]
    assert {t.symbol for t in flattened} == {"A/USDT", "B/USDT"}
    assert {t.exit_time for t in flattened} == {FLATTEN_AT}


def test_an_entry_decided_before_a_gap_fills_at_the_first_candle_after_it(walk) -> None:
    ladder, result = walk
    times = ladder.universe["B/USDT"].timestamp
    gap_at = int(np.flatnonzero(np.diff(times) > FIVE_MINUTES)[0])
    after = [t for t in result.trades if t.symbol == "B/USDT" and t.entry_index == gap_at + 1]
    assert after and after[0].entry_time - int(times[gap_at]) == 11 * FIVE_MINUTES


def test_the_strategy_hears_of_every_close_once(walk) -> None:
    ladder, result = walk
    assert len(ladder.closes) == len(result.trades)
    finals = [position for position, final in ladder.closes if final]
    assert sorted(finals) == sorted({t.position for t in result.trades})
