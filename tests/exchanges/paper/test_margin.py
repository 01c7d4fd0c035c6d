"""Leverage, margin, available balance, liquidation prices and liquidations.

BTC at 30 000, alice with 10 000 USDT, maintenance margin rate 0.5 %, taker fee 0.055 %.
"""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from elcaro.exchanges.paper import PaperEngine
from elcaro.exchanges.paper.pricing import liquidation_price
from elcaro.models import ExitReason, MarginMode, OrderStatus, PositionSide, Side
from elcaro.models.errors import InsufficientFundsError, InvalidOrderError
from elcaro.models.market import Candle
from paper.builders import ALICE, BTC, ETH, PEPE, limit, make_engine, market


def test_leverage_is_clamped_to_the_instrument_and_defaults_to_ten(engine: PaperEngine) -> None:
    assert engine.leverage(ALICE, BTC.symbol) == D(10)
    assert engine.leverage(ALICE, ETH.symbol) == D(5)  # ETH allows 5x at most
    assert engine.set_leverage(ALICE, BTC.symbol, D(200)) == D(100)
    assert engine.leverage(ALICE, BTC.symbol) == D(100)
    with pytest.raises(InvalidOrderError, match="at least 1"):
        engine.set_leverage(ALICE, BTC.symbol, D("0.5"))


def test_initial_margin_is_value_over_leverage(engine: PaperEngine) -> None:
    engine.set_leverage(ALICE, BTC.symbol, D(3))
    engine.place_order(ALICE, market("m", Side.BUY, "0.1"))
    # 3 000 of value at 3x is 1 000 of margin; the fee was 1.65.
    assert engine.balance(ALICE).available == D("8998.35")

    engine.set_leverage(ALICE, BTC.symbol, D(7))  # 3 000 / 7 = 428.571428571..., held rounded up
    assert engine.balance(ALICE).available == D("9569.77857142")


def test_an_entry_needs_margin_and_fee_within_the_available_balance(engine: PaperEngine) -> None:
    engine.set_leverage(ALICE, BTC.symbol, D(1))
    with pytest.raises(InsufficientFundsError):
        engine.place_order(ALICE, market("big", Side.BUY, "0.34"))  # 10 200 of value at 1x
    engine.set_leverage(ALICE, BTC.symbol, D(2))
    assert engine.place_order(ALICE, market("big", Side.BUY, "0.34")).status is OrderStatus.FILLED


def test_lowering_leverage_is_refused_when_the_margin_is_not_there(engine: PaperEngine) -> None:
    engine.place_order(ALICE, market("m", Side.BUY, "3"))  # 9 000 of margin at 10x, 49.50 of fee
    with pytest.raises(InsufficientFundsError, match="more margin"):
        engine.set_leverage(ALICE, BTC.symbol, D(5))
    assert engine.leverage(ALICE, BTC.symbol) == D(10)
    assert engine.balance(ALICE).available == D("950.5")


def test_unrealised_pnl_is_marked_and_does_not_change_what_is_available(engine: PaperEngine) -> None:
    engine.place_order(ALICE, market("m", Side.SELL, "0.2"))
    engine.update_mark(BTC.symbol, D("29500"))
    balance = engine.balance(ALICE)
    assert (balance.wallet, balance.unrealized_pnl, balance.equity) == (D("9996.7"), D("100"), D("10096.7"))
    assert balance.available == D("9396.7")  # 600 held by the position
    position = engine.position(ALICE, BTC.symbol)
    assert position is not None and (position.unrealized_pnl, position.mark_price) == (D("100"), D("29500"))


def test_contract_size_multiplies_value_margin_and_fees() -> None:
    engine, _ = make_engine()
    engine.update_mark(PEPE.symbol, D("0.0123456"))
    order = engine.place_order(ALICE, market("pepe", Side.BUY, "1000", symbol=PEPE.symbol))
    # 1 000 contracts × 10 × 0.0123456 = 123.456 of value.
    assert order.fee == D("0.06790080")
    assert engine.balance(ALICE).available == D("10000") - D("0.0679008") - D("12.3456")
    engine.update_mark(PEPE.symbol, D("0.0133456"))
    assert engine.balance(ALICE).unrealized_pnl == D("10.000")


@pytest.mark.parametrize(
    ("side", "entry", "leverage", "expected"),
    [
        (PositionSide.LONG, "30000", "10", "27150"),  # 30 000 × (1 − 1/10 + 0.005)
        (PositionSide.SHORT, "30000", "10", "32850"),  # 30 000 × (1 + 1/10 − 0.005)
        (PositionSide.LONG, "30000", "3", "20150"),  # 30 000 − 10 000 + 150
        (PositionSide.LONG, "30000.1", "3", "20150.1"),  # 20 150.0671666… rounded up, towards the entry
        (PositionSide.SHORT, "30000.1", "3", "39850.1"),  # 39 850.1328333… rounded down, towards the entry
        (PositionSide.LONG, "30000", "1", "150"),  # 1x long: liquidated only near zero
    ],
)
def test_isolated_liquidation_price(side: PositionSide, entry: str, leverage: str, expected: str) -> None:
    price = liquidation_price(side, D(entry), D("0.1"), D(leverage), D("0.005"), D(0), D("0.1"))
    assert price == D(expected)


def test_positions_report_their_liquidation_price(engine: PaperEngine) -> None:
    engine.place_order(ALICE, market("m", Side.SELL, "0.1"))
    position = engine.position(ALICE, BTC.symbol)
    assert position is not None and position.liquidation_price == D("32850")


def test_a_position_is_liquidated_at_its_liquidation_price_when_the_mark_crosses_it(engine: PaperEngine) -> None:
    engine.place_order(ALICE, market("m", Side.BUY, "0.1"))
    engine.place_order(ALICE, limit("add", Side.BUY, "0.1", "27000"))
    engine.update_mark(BTC.symbol, D("27150.1"))
    assert engine.positions(ALICE) != []

    engine.update_mark(BTC.symbol, D("27000"))  # jumps past 27 150: closed at 27 150, not at 27 000

    assert engine.positions(ALICE) == []
    (trade,) = engine.closed_pnl(ALICE)
    assert trade.exit_reason is ExitReason.LIQUIDATION
    assert (trade.qty, trade.entry_price, trade.exit_price) == (D("0.1"), D("30000"), D("27150"))
    assert trade.gross_pnl == D("-285")
    assert trade.fees == D("3.14325")  # 1.65 to open, 1.49325 (2 715 × 0.055 %) at liquidation
    assert engine.balance(ALICE).wallet == D("9711.85675")  # 10 000 − 1.65 − 1.49325 − 285
    add = engine.get_order(ALICE, "add")
    assert (add.status, add.reject_reason) == (OrderStatus.CANCELED, "canceled by liquidation")


def test_a_candle_through_the_liquidation_price_liquidates_before_a_lower_stop(engine: PaperEngine) -> None:
    engine.place_order(ALICE, market("m", Side.BUY, "0.1", stop_loss="27000"))
    engine.apply_candle(BTC.symbol, Candle(1, D("30000"), D("30100"), D("26000"), D("26500"), D("1")))
    (trade,) = engine.closed_pnl(ALICE)
    assert (trade.exit_reason, trade.exit_price) == (ExitReason.LIQUIDATION, D("27150"))


def test_cross_margin_lets_a_position_draw_on_the_free_balance(engine: PaperEngine) -> None:
    engine.set_margin_mode(ALICE, BTC.symbol, MarginMode.CROSS)
    engine.place_order(ALICE, market("m", Side.BUY, "3"))
    # Margin 9 000, free 950.50, maintenance 450 (90 000 × 0.5 %): the long can lose 9 500.50,
    # 3 166.8333… a BTC, so 26 833.1666… rounded up to 26 833.2 (isolated: 27 150).
    position = engine.position(ALICE, BTC.symbol)
    assert position is not None and position.margin_mode is MarginMode.CROSS
    assert position.liquidation_price == D("26833.2")

    engine.update_mark(BTC.symbol, D("27000"))
    assert engine.positions(ALICE) != []
    engine.update_mark(BTC.symbol, D("26800"))
    assert engine.closed_pnl(ALICE)[0].exit_price == D("26833.2")


def test_margin_mode_cannot_change_under_a_position_or_orders(engine: PaperEngine) -> None:
    assert engine.margin_mode(ALICE, BTC.symbol) is MarginMode.ISOLATED
    engine.place_order(ALICE, limit("l", Side.BUY, "0.1", "29000"))
    with pytest.raises(InvalidOrderError, match="cannot switch"):
        engine.set_margin_mode(ALICE, BTC.symbol, MarginMode.CROSS)
    engine.set_margin_mode(ALICE, BTC.symbol, MarginMode.ISOLATED)  # no change is always fine
    engine.cancel_all_orders(ALICE)
    engine.set_margin_mode(ALICE, BTC.symbol, MarginMode.CROSS)
    assert engine.margin_mode(ALICE, BTC.symbol) is MarginMode.CROSS


def test_withdrawals_are_limited_to_the_available_balance(engine: PaperEngine) -> None:
    engine.place_order(ALICE, market("m", Side.BUY, "0.1"))
    with pytest.raises(InsufficientFundsError, match=r"9698\.35"):
        engine.withdraw(ALICE, D("9700"))
    assert engine.withdraw(ALICE, D("9698.35")).available == D(0)
    assert engine.deposit(ALICE, D("1.65")).wallet == D("301.65")
