"""Positions: averaging, partial closes, flips, reduce-only, TP/SL, funding, and the closed trades they leave.

BTC at 30 000, alice with 10 000 USDT at 10x; taker fee 0.055 %, maker 0.02 %.
"""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from elcaro.exchanges.paper import DEFAULT_TARGET, ManualClock, PaperEngine
from elcaro.models import ExitReason, OrderStatus, PositionSide, Side, TimeInForce
from elcaro.models.errors import InvalidOrderError
from paper.builders import ALICE, BTC, START_MS, limit, make_engine, market, stop


def test_a_partial_close_takes_its_share_of_the_entry_fee(engine: PaperEngine, clock: ManualClock) -> None:
    engine.place_order(ALICE, market("open", Side.BUY, "0.3"))  # fee 4.95
    clock.advance(60_000)
    engine.update_mark(BTC.symbol, D("31000"))
    engine.place_order(ALICE, market("part", Side.SELL, "0.1"))  # fee 1.705

    (first,) = engine.closed_pnl(ALICE)
    assert first.target == DEFAULT_TARGET and first.symbol == BTC.symbol
    assert (first.side, first.qty, first.entry_price, first.exit_price) == (
        PositionSide.LONG,
        D("0.1"),
        D("30000"),
        D("31000"),
    )
    assert (first.opened_at, first.closed_at) == (START_MS, START_MS + 60_000)
    assert first.fees == D("3.355")  # a third of 4.95, plus 1.705
    assert (first.gross_pnl, first.net_pnl) == (D("100"), D("96.645"))
    assert first.exit_reason is ExitReason.EXTERNAL
    position = engine.position(ALICE, BTC.symbol)
    assert position is not None and position.qty == D("0.2")
    assert position.realized_pnl == D("93.345")  # −4.95 + 100 − 1.705

    engine.update_mark(BTC.symbol, D("29000"))
    engine.place_order(ALICE, market("rest", Side.SELL, "0.2"))  # fee 3.19
    second = engine.closed_pnl(ALICE)[1]
    assert (second.fees, second.gross_pnl) == (D("6.49"), D("-200"))  # 3.30 + 3.19
    wallet = engine.balance(ALICE).wallet
    assert wallet == D("9890.155")
    assert wallet - D("10000") == first.net_pnl + second.net_pnl


def test_entry_fee_shares_are_rounded_and_the_last_close_takes_the_rest() -> None:
    engine, _ = make_engine()
    engine.update_mark(BTC.symbol, D("30000.1"))
    engine.place_order(ALICE, market("open", Side.BUY, "0.003"))
    # 90.0003 × 0.055 % = 0.049500165, half-even to 0.04950016.
    assert engine.fills(ALICE)[0].fee == D("0.04950016")
    for n in range(3):
        engine.place_order(ALICE, market(f"close-{n}", Side.SELL, "0.001"))
    exit_fee = D("0.01650006")  # 30.0001 × 0.055 % = 0.0165000550, half-even
    shares = [trade.fees - exit_fee for trade in engine.closed_pnl(ALICE)]
    assert shares == [D("0.01650005"), D("0.01650006"), D("0.01650005")]  # 0.04950016 / 3, then / 2, then all
    assert sum(shares) == D("0.04950016")


def test_adding_averages_the_entry(engine: PaperEngine) -> None:
    engine.place_order(ALICE, market("a", Side.BUY, "0.1"))
    engine.update_mark(BTC.symbol, D("30100"))
    engine.place_order(ALICE, market("b", Side.BUY, "0.2"))
    position = engine.position(ALICE, BTC.symbol)
    assert position is not None and position.entry_price == D("30066.6666667")  # 9 020 / 0.3
    engine.place_order(ALICE, market("c", Side.SELL, "0.3"))
    assert engine.closed_pnl(ALICE)[0].gross_pnl == D("9.99999999")  # (30 100 − 30 066.6666667) × 0.3


def test_an_order_larger_than_the_position_flips_it(engine: PaperEngine, clock: ManualClock) -> None:
    engine.place_order(ALICE, market("long", Side.BUY, "0.1"))
    clock.advance(1)
    engine.update_mark(BTC.symbol, D("31000"))
    engine.place_order(ALICE, market("flip", Side.SELL, "0.3"))  # fee 5.115: a third closes, the rest opens

    (trade,) = engine.closed_pnl(ALICE)
    assert (trade.side, trade.qty, trade.gross_pnl, trade.fees) == (PositionSide.LONG, D("0.1"), D("100"), D("3.355"))
    position = engine.position(ALICE, BTC.symbol)
    assert position is not None
    assert (position.side, position.qty, position.entry_price) == (PositionSide.SHORT, D("0.2"), D("31000"))
    assert (position.opened_at, position.realized_pnl) == (START_MS + 1, D("-3.41"))


def test_reduce_only_is_trimmed_to_the_position_and_never_flips(engine: PaperEngine) -> None:
    engine.place_order(ALICE, market("long", Side.BUY, "0.1"))
    resting = engine.place_order(ALICE, limit("tp", Side.SELL, "0.1", "31000", reduce_only=True))
    engine.place_order(ALICE, market("trim", Side.SELL, "0.05"))
    engine.update_mark(BTC.symbol, D("31000"))

    filled = engine.get_order(ALICE, "tp")
    assert (filled.status, filled.qty, filled.filled_qty) == (OrderStatus.FILLED, D("0.05"), D("0.05"))
    assert resting.qty == D("0.1")
    assert engine.positions(ALICE) == []

    engine.place_order(ALICE, market("again", Side.BUY, "0.1"))
    oversized = engine.place_order(ALICE, market("close", Side.SELL, "0.5", reduce_only=True))
    assert (oversized.qty, oversized.status) == (D("0.1"), OrderStatus.FILLED)
    assert engine.positions(ALICE) == []


def test_a_flat_position_cancels_its_reduce_only_orders(engine: PaperEngine) -> None:
    engine.place_order(ALICE, market("long", Side.BUY, "0.1"))
    engine.place_order(ALICE, limit("tp", Side.SELL, "0.1", "32000", reduce_only=True))
    engine.place_order(ALICE, limit("other", Side.BUY, "0.1", "29000"))
    engine.place_order(ALICE, market("close", Side.SELL, "0.1"))

    tp = engine.get_order(ALICE, "tp")
    assert (tp.status, tp.reject_reason) == (OrderStatus.CANCELED, "position closed")
    assert [order.client_order_id for order in engine.open_orders(ALICE)] == ["other"]


def test_attached_tp_and_sl_go_to_the_position_when_the_entry_fills(engine: PaperEngine) -> None:
    engine.place_order(ALICE, limit("entry", Side.BUY, "0.1", "29800", take_profit="30500", stop_loss="29500"))
    assert engine.positions(ALICE) == []

    engine.update_mark(BTC.symbol, D("29800"))
    position = engine.position(ALICE, BTC.symbol)
    assert position is not None and (position.take_profit, position.stop_loss) == (D("30500"), D("29500"))

    engine.update_mark(BTC.symbol, D("29400"))  # a jump through the stop: closed at market
    (trade,) = engine.closed_pnl(ALICE)
    assert (trade.exit_reason, trade.exit_price) == (ExitReason.STOP_LOSS, D("29400"))
    closing = engine.order_history(ALICE)[-1]
    assert closing.client_order_id.startswith("paper-stop_loss-") and closing.reduce_only


def test_attached_protection_is_not_given_to_a_position_the_order_only_reduced(engine: PaperEngine) -> None:
    engine.place_order(ALICE, market("long", Side.BUY, "0.3"))
    engine.place_order(ALICE, market("cut", Side.SELL, "0.1", take_profit="29000"))
    position = engine.position(ALICE, BTC.symbol)
    assert position is not None and position.take_profit is None


def test_position_protection_is_set_changed_and_removed(engine: PaperEngine) -> None:
    with pytest.raises(InvalidOrderError, match="no position"):
        engine.set_position_protection(ALICE, BTC.symbol, take_profit=D("31000"))
    engine.place_order(ALICE, market("short", Side.SELL, "0.1"))

    with pytest.raises(InvalidOrderError, match="take-profit 31000 of a short must be below the mark price 30000"):
        engine.set_position_protection(ALICE, BTC.symbol, take_profit=D("31000"))
    with pytest.raises(InvalidOrderError, match="tick"):
        engine.set_position_protection(ALICE, BTC.symbol, stop_loss=D("31000.05"))

    engine.set_position_protection(ALICE, BTC.symbol, take_profit=D("29000"), stop_loss=D("31000"))
    changed = engine.set_position_protection(ALICE, BTC.symbol, stop_loss=D("30500"))
    assert (changed.take_profit, changed.stop_loss) == (D("29000"), D("30500"))
    removed = engine.set_position_protection(ALICE, BTC.symbol, take_profit=D(0))
    assert (removed.take_profit, removed.stop_loss) == (None, D("30500"))


def test_protection_triggers_on_the_mark_and_closes_at_the_last_price(engine: PaperEngine) -> None:
    engine.place_order(ALICE, market("long", Side.BUY, "0.2"))
    engine.set_position_protection(ALICE, BTC.symbol, take_profit=D("31000"))

    engine.update_mark(BTC.symbol, D("30950"), last=D("31050"))  # last beyond the TP, mark not yet
    assert engine.positions(ALICE) != []
    engine.update_mark(BTC.symbol, D("31000"), last=D("30900"))

    (trade,) = engine.closed_pnl(ALICE)
    assert (trade.exit_reason, trade.qty, trade.exit_price) == (ExitReason.TAKE_PROFIT, D("0.2"), D("30900"))


def test_resting_limits_fill_on_the_last_price_not_the_mark(engine: PaperEngine) -> None:
    engine.place_order(ALICE, limit("l", Side.BUY, "0.1", "29500"))
    engine.update_mark(BTC.symbol, D("29400"), last=D("29600"))
    assert engine.get_order(ALICE, "l").status is OrderStatus.OPEN
    engine.update_mark(BTC.symbol, D("29600"), last=D("29500"))
    assert engine.get_order(ALICE, "l").status is OrderStatus.FILLED


def test_funding_moves_the_wallet_and_is_carried_into_the_trade(engine: PaperEngine) -> None:
    engine.open_account("bob", D("10000"))
    engine.place_order(ALICE, market("long", Side.BUY, "0.1"))
    engine.place_order("bob", market("short", Side.SELL, "0.1"))
    engine.update_mark(BTC.symbol, D("30100"))

    engine.apply_funding(BTC.symbol, D("0.0001"))  # 3 010 of value: longs pay 0.301

    assert engine.balance(ALICE).wallet == D("9998.35") - D("0.301")
    assert engine.balance("bob").wallet == D("9998.35") + D("0.301")
    rate = engine.funding_rate(BTC.symbol)
    assert rate is not None and rate.rate == D("0.0001")
    engine.place_order(ALICE, market("close", Side.SELL, "0.1"))
    (trade,) = engine.closed_pnl(ALICE)
    assert trade.funding == D("-0.301")
    assert trade.net_pnl == engine.balance(ALICE).wallet - D("10000")


def test_a_reduce_only_fill_or_kill_trimmed_to_the_position_when_it_fires_still_fills(engine: PaperEngine) -> None:
    engine.place_order(ALICE, market("long", Side.BUY, "0.1"))
    engine.place_order(
        ALICE, stop("sl", Side.SELL, "0.1", "29500", price="29400", time_in_force=TimeInForce.FOK, reduce_only=True)
    )
    engine.place_order(ALICE, market("trim", Side.SELL, "0.04"))
    engine.update_mark(BTC.symbol, D("29450"))
    close = engine.get_order(ALICE, "sl")
    assert (close.status, close.qty, close.filled_qty) == (OrderStatus.FILLED, D("0.06"), D("0.06"))
    assert engine.positions(ALICE) == []
