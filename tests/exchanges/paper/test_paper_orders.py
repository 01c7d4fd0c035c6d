"""Order types, time in force, triggers, amend, cancel and the rules an order must keep.

Unless a test says otherwise: BTC is marked at 30 000, alice has 10 000 USDT at leverage 10, the
taker fee is 0.055 %, the maker fee 0.02 %, and there is no order book and no slippage.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal as D

import pytest

from elcaro.exchanges.paper import DuplicateClientOrderIdError, LimitFill, ManualClock, PaperConfig, PaperEngine
from elcaro.models import Order, OrderStatus, OrderType, PositionSide, Side, TimeInForce
from elcaro.models.errors import InsufficientFundsError, InvalidOrderError, NotFoundError, OrderNotFoundError
from paper.builders import ALICE, BTC, START_MS, limit, make_engine, market, stop


def test_a_market_order_fills_at_the_last_price_as_taker(engine: PaperEngine, clock: ManualClock) -> None:
    clock.advance(5)
    order = engine.place_order(ALICE, market("m1", Side.BUY, "0.1"))

    assert order.status is OrderStatus.FILLED
    assert (order.filled_qty, order.avg_fill_price, order.exchange_order_id) == (D("0.1"), D("30000"), "1")
    assert order.fee == D("1.65")  # 0.1 × 30 000 × 0.055 %
    assert order.created_at == order.updated_at == START_MS + 5
    (fill,) = engine.fills(ALICE)
    assert (fill.qty, fill.price, fill.fee, fill.fee_asset, fill.is_maker) == (
        D("0.1"),
        D("30000"),
        D("1.65"),
        "USDT",
        False,
    )
    assert fill.client_order_id == "m1" and fill.exchange_order_id == "1"
    balance = engine.balance(ALICE)
    assert balance.wallet == D("9998.35")
    assert balance.available == D("9698.35")  # less 300 of margin: 3000 of value at 10x


def test_slippage_moves_the_price_against_the_taker_onto_the_tick() -> None:
    engine, _ = make_engine(config=PaperConfig(slippage_bps=D("3")))
    engine.update_mark(BTC.symbol, D("30001"))

    bought = engine.place_order(ALICE, market("buy", Side.BUY, "0.1"))
    sold = engine.place_order(ALICE, market("sell", Side.SELL, "0.2"))

    assert bought.avg_fill_price == D("30010.1")  # 30 001 × 1.0003 = 30 010.0003, up to the tick
    assert sold.avg_fill_price == D("29991.9")  # 30 001 × 0.9997 = 29 991.9997, down to the tick


def test_a_resting_limit_holds_margin_and_fills_as_maker_when_the_price_touches_it(engine: PaperEngine) -> None:
    order = engine.place_order(ALICE, limit("l1", Side.BUY, "0.1", "29500"))
    assert order.status is OrderStatus.OPEN and engine.open_orders(ALICE) == [order]
    # 2 950 of value: 295 of margin and 1.6225 of taker fee held.
    assert engine.balance(ALICE).available == D("9703.3775")

    engine.update_mark(BTC.symbol, D("29500.1"))
    assert engine.get_order(ALICE, "l1").status is OrderStatus.OPEN
    engine.update_mark(BTC.symbol, D("29500"))

    filled = engine.get_order(ALICE, "l1")
    assert (filled.status, filled.avg_fill_price, filled.fee) == (OrderStatus.FILLED, D("29500"), D("0.59"))
    assert engine.fills(ALICE)[0].is_maker
    assert engine.balance(ALICE).wallet == D("9999.41")
    assert engine.open_orders(ALICE) == []


def test_a_limit_fills_at_its_own_price_when_the_market_jumps_past_it(engine: PaperEngine) -> None:
    engine.place_order(ALICE, limit("l1", Side.BUY, "0.1", "29500"))
    engine.update_mark(BTC.symbol, D("29000"))
    assert engine.get_order(ALICE, "l1").avg_fill_price == D("29500")


def test_limits_can_be_made_to_wait_for_the_price_to_trade_through() -> None:
    engine, _ = make_engine(config=PaperConfig(limit_fill=LimitFill.THROUGH))
    engine.update_mark(BTC.symbol, D("30000"))
    engine.place_order(ALICE, limit("l1", Side.SELL, "0.1", "30500"))

    engine.update_mark(BTC.symbol, D("30500"))
    assert engine.get_order(ALICE, "l1").status is OrderStatus.OPEN
    engine.update_mark(BTC.symbol, D("30500.1"))
    assert engine.get_order(ALICE, "l1").avg_fill_price == D("30500")


def test_a_marketable_limit_takes_at_the_market_but_never_beyond_its_price(engine: PaperEngine) -> None:
    assert engine.place_order(ALICE, limit("l1", Side.BUY, "0.1", "30100")).avg_fill_price == D("30000")

    slippery, _ = make_engine(config=PaperConfig(slippage_bps=D("50")))
    slippery.update_mark(BTC.symbol, D("30000"))
    capped = slippery.place_order(ALICE, limit("l2", Side.BUY, "0.1", "30100"))
    assert capped.avg_fill_price == D("30100")  # 30 150 with slippage, capped at the limit
    assert not slippery.fills(ALICE)[0].is_maker


def test_post_only_is_rejected_when_it_would_take(engine: PaperEngine) -> None:
    taking = engine.place_order(ALICE, limit("p1", Side.BUY, "0.1", "30000", TimeInForce.POST_ONLY))
    assert taking.status is OrderStatus.REJECTED and taking.reject_reason == "post-only order would take liquidity"
    assert engine.fills(ALICE) == [] and engine.order_history(ALICE) == [taking]

    resting = engine.place_order(ALICE, limit("p2", Side.BUY, "0.1", "29999.9", TimeInForce.POST_ONLY))
    assert resting.status is OrderStatus.OPEN


def test_ioc_and_fok_never_rest(engine: PaperEngine) -> None:
    for tif in (TimeInForce.IOC, TimeInForce.FOK):
        missed = engine.place_order(ALICE, limit(f"miss-{tif}", Side.BUY, "0.1", "29900", tif))
        assert (missed.status, missed.filled_qty) == (OrderStatus.EXPIRED, D(0))
        done = engine.place_order(ALICE, limit(f"hit-{tif}", Side.BUY, "0.1", "30000", tif))
        assert (done.status, done.filled_qty) == (OrderStatus.FILLED, D("0.1"))
    assert engine.open_orders(ALICE) == []


def test_stop_market_fires_on_the_mark_in_the_direction_set_at_placement(engine: PaperEngine) -> None:
    buy_above = engine.place_order(ALICE, stop("up", Side.BUY, "0.1", "30500"))
    sell_below = engine.place_order(ALICE, stop("down", Side.SELL, "0.05", "29500"))
    assert buy_above.status is sell_below.status is OrderStatus.OPEN

    engine.update_mark(BTC.symbol, D("30499.9"))
    assert len(engine.open_orders(ALICE)) == 2
    engine.update_mark(BTC.symbol, D("30600"))  # a jump: it fills where the market is, not at the trigger

    fired = engine.get_order(ALICE, "up")
    assert (fired.status, fired.avg_fill_price) == (OrderStatus.FILLED, D("30600"))
    assert engine.open_orders(ALICE) == [sell_below]

    engine.update_mark(BTC.symbol, D("29500"))
    assert engine.get_order(ALICE, "down").avg_fill_price == D("29500")
    position = engine.position(ALICE, BTC.symbol)
    assert position is not None and (position.side, position.qty) == (PositionSide.LONG, D("0.05"))


def test_a_stop_limit_becomes_a_limit_when_it_fires(engine: PaperEngine) -> None:
    engine.place_order(ALICE, stop("sl", Side.BUY, "0.1", "30500", price="30400"))

    engine.update_mark(BTC.symbol, D("30600"))  # fired, but 30 600 is above its limit: it rests
    resting = engine.get_order(ALICE, "sl")
    assert (resting.status, resting.filled_qty, resting.type) == (OrderStatus.OPEN, D(0), OrderType.STOP_LIMIT)
    engine.update_mark(BTC.symbol, D("30450"))
    assert engine.get_order(ALICE, "sl").status is OrderStatus.OPEN
    engine.update_mark(BTC.symbol, D("30400"))

    filled = engine.get_order(ALICE, "sl")
    assert (filled.status, filled.avg_fill_price, filled.fee) == (OrderStatus.FILLED, D("30400"), D("0.608"))


def test_a_stop_limit_that_fires_across_its_limit_takes(engine: PaperEngine) -> None:
    engine.place_order(ALICE, market("entry", Side.BUY, "0.1"))
    engine.place_order(ALICE, stop("sl", Side.SELL, "0.1", "29500", price="29400", reduce_only=True))
    engine.update_mark(BTC.symbol, D("29450"))
    assert engine.get_order(ALICE, "sl").avg_fill_price == D("29450")
    assert engine.positions(ALICE) == []


def test_a_stop_needs_a_direction(engine: PaperEngine) -> None:
    with pytest.raises(InvalidOrderError, match="equals the mark price"):
        engine.place_order(ALICE, stop("s", Side.BUY, "0.1", "30000"))
    fresh, _ = make_engine()
    with pytest.raises(InvalidOrderError, match="no mark price"):
        fresh.place_order(ALICE, stop("s", Side.BUY, "0.1", "30000", price="30000"))


def test_a_stop_that_fires_without_funds_is_rejected(engine: PaperEngine) -> None:
    engine.place_order(ALICE, stop("s", Side.BUY, "3", "30500"))  # 9 150 of margin at the trigger: fine now
    engine.withdraw(ALICE, D("5000"))
    engine.update_mark(BTC.symbol, D("30500"))

    rejected = engine.get_order(ALICE, "s")
    assert rejected.status is OrderStatus.REJECTED
    assert rejected.reject_reason is not None and "without funds" in rejected.reject_reason
    assert engine.positions(ALICE) == []


def test_amend_changes_quantity_and_price_and_takes_when_moved_across(engine: PaperEngine, clock: ManualClock) -> None:
    engine.place_order(ALICE, limit("l1", Side.BUY, "0.1", "29500"))
    clock.advance(7)

    amended = engine.amend_order(ALICE, "l1", qty=D("0.2"), price=D("29600"))
    assert (amended.qty, amended.price, amended.status) == (D("0.2"), D("29600"), OrderStatus.OPEN)
    assert amended.updated_at == START_MS + 7 and amended.exchange_order_id == "1"

    crossed = engine.amend_order(ALICE, "l1", price=D("30100"))
    assert (crossed.status, crossed.avg_fill_price) == (OrderStatus.FILLED, D("30000"))


def test_amend_refusals(engine: PaperEngine) -> None:
    engine.place_order(ALICE, limit("po", Side.BUY, "0.1", "29500", TimeInForce.POST_ONLY))
    with pytest.raises(InvalidOrderError, match="would take"):
        engine.amend_order(ALICE, "po", price=D("30000"))
    assert engine.get_order(ALICE, "po").price == D("29500")
    with pytest.raises(InvalidOrderError, match="nothing to amend"):
        engine.amend_order(ALICE, "po")
    with pytest.raises(InvalidOrderError, match="not a multiple of the step"):
        engine.amend_order(ALICE, "po", qty=D("0.1005"))
    with pytest.raises(InsufficientFundsError):
        engine.amend_order(ALICE, "po", qty=D("5"))
    assert engine.get_order(ALICE, "po").qty == D("0.1")

    engine.place_order(ALICE, stop("st", Side.SELL, "0.1", "29000"))
    with pytest.raises(InvalidOrderError, match="no limit price"):
        engine.amend_order(ALICE, "st", price=D("28900"))
    with pytest.raises(InvalidOrderError, match="only a stop"):
        engine.amend_order(ALICE, "po", trigger_price=D("29000"))


def test_amending_a_trigger_infers_its_direction_again(engine: PaperEngine) -> None:
    engine.place_order(ALICE, stop("st", Side.BUY, "0.1", "30500"))
    engine.amend_order(ALICE, "st", trigger_price=D("29500"))  # now below the mark: fires on a fall
    engine.update_mark(BTC.symbol, D("30600"))
    assert engine.get_order(ALICE, "st").status is OrderStatus.OPEN
    engine.update_mark(BTC.symbol, D("29400"))
    assert engine.get_order(ALICE, "st").status is OrderStatus.FILLED


def test_a_filled_order_can_no_longer_be_amended(engine: PaperEngine) -> None:
    engine.place_order(ALICE, limit("l", Side.BUY, "0.2", "29500"))
    engine.update_mark(BTC.symbol, D("29500"))
    with pytest.raises(OrderNotFoundError, match="filled"):
        engine.amend_order(ALICE, "l", qty=D("0.1"))


def test_cancel_and_cancel_all(engine: PaperEngine) -> None:
    engine.place_order(ALICE, limit("a", Side.BUY, "0.1", "29000"))
    engine.place_order(ALICE, limit("b", Side.BUY, "0.1", "28000"))
    engine.place_order(ALICE, limit("c", Side.BUY, "1", "2000", symbol="ETH/USDT:USDT"))

    canceled = engine.cancel_order(ALICE, "a")
    assert canceled.status is OrderStatus.CANCELED and canceled.reject_reason is None
    with pytest.raises(OrderNotFoundError, match="no open"):
        engine.cancel_order(ALICE, "a")
    with pytest.raises(OrderNotFoundError, match="no order"):
        engine.cancel_order(ALICE, "zzz")

    assert [order.client_order_id for order in engine.cancel_all_orders(ALICE, BTC.symbol)] == ["b"]
    assert [order.client_order_id for order in engine.cancel_all_orders(ALICE)] == ["c"]
    assert [order.client_order_id for order in engine.order_history(ALICE)] == ["a", "b", "c"]
    assert engine.balance(ALICE).available == D("10000")


def test_a_client_order_id_is_used_once_per_account(engine: PaperEngine) -> None:
    first = engine.place_order(ALICE, market("same", Side.BUY, "0.1"))
    with pytest.raises(DuplicateClientOrderIdError) as raised:
        engine.place_order(ALICE, limit("same", Side.BUY, "0.5", "29000"))
    assert raised.value.existing == first
    assert isinstance(raised.value, InvalidOrderError) and raised.value.code == "duplicate_client_order_id"
    assert len(engine.order_history(ALICE)) == 1 and engine.open_orders(ALICE) == []
    position = engine.position(ALICE, BTC.symbol)
    assert position is not None and position.qty == D("0.1")

    engine.open_account("bob", D("1000"))
    assert engine.place_order("bob", market("same", Side.BUY, "0.01")).status is OrderStatus.FILLED


@pytest.mark.parametrize(
    ("order", "message"),
    [
        (market("x", Side.BUY, "0.1", symbol="DOGE/USDT:USDT"), "unknown symbol DOGE/USDT:USDT"),
        (market("x", Side.BUY, "0.0005"), "below the minimum 0.001"),
        (market("x", Side.BUY, "0.0015"), "not a multiple of the step 0.001"),
        (market("x", Side.BUY, "101"), "above the maximum 100"),
        (limit("x", Side.BUY, "0.1", "29500.05"), "not a multiple of the tick 0.1"),
        (limit("x", Side.BUY, "0.001", "4000"), "order value 4.000 USDT is below the minimum 5"),
        (stop("x", Side.BUY, "0.1", "30500.01"), "trigger price 30500.01 is not a multiple of the tick"),
        (market("x", Side.SELL, "0.1", reduce_only=True), "no long position on BTC/USDT:USDT to reduce"),
        (market("x", Side.BUY, "0.1", take_profit="29000"), "take-profit 29000 of a long must be above"),
        (market("x", Side.SELL, "0.1", stop_loss="29000"), "stop-loss 29000 of a short must be above"),
        (limit("x", Side.BUY, "0.1", "29000", stop_loss="29000"), "stop-loss 29000 of a long must be below"),
    ],
)
def test_orders_that_break_a_rule_are_refused_with_the_reason(engine: PaperEngine, order: Order, message: str) -> None:
    with pytest.raises(InvalidOrderError, match=message):
        engine.place_order(ALICE, order)
    assert engine.find_order(ALICE, "x") is None


def test_more_refusals(engine: PaperEngine) -> None:
    engine.place_order(ALICE, market("long", Side.BUY, "0.1"))
    with pytest.raises(InvalidOrderError, match="no short position"):
        engine.place_order(ALICE, market("x", Side.BUY, "0.1", reduce_only=True))
    with pytest.raises(InvalidOrderError, match="not reduce-only orders"):
        engine.place_order(ALICE, market("x", Side.SELL, "0.1", reduce_only=True, stop_loss="31000"))
    with pytest.raises(InvalidOrderError, match="no price for ETH"):
        engine.place_order(ALICE, market("x", Side.BUY, "1", symbol="ETH/USDT:USDT"))
    with pytest.raises(NotFoundError, match="no paper account 'carol'"):
        engine.place_order("carol", market("x", Side.BUY, "0.1"))


def test_an_entry_the_balance_cannot_cover_is_refused_and_leaves_no_order(engine: PaperEngine) -> None:
    # 3.3 BTC at 30 000 and 10x: 9 900 of margin plus 54.45 of fee, within 10 000.
    engine.place_order(ALICE, market("ok", Side.BUY, "3.3"))
    with pytest.raises(
        InsufficientFundsError, match=r"needs 603\.30000000 USDT of margin and fees at 10x; 45\.55000000 av"
    ):
        engine.place_order(ALICE, limit("big", Side.BUY, "0.2", "30000"))
    assert engine.find_order(ALICE, "big") is None
    # Reducing needs no margin, and an order that flips is charged only for its new side.
    assert engine.place_order(ALICE, market("half", Side.SELL, "1.65")).status is OrderStatus.FILLED


def test_orders_before_any_price_rest_until_one_comes() -> None:
    engine, _ = make_engine()
    resting = engine.place_order(ALICE, limit("early", Side.SELL, "0.1", "31000"))
    assert resting.status is OrderStatus.OPEN
    engine.update_mark(BTC.symbol, D("31000"))
    assert engine.get_order(ALICE, "early").status is OrderStatus.FILLED


def test_market_orders_on_an_instrument_that_is_not_trading_are_refused(engine: PaperEngine) -> None:
    engine.add_instrument(replace(BTC, active=False))
    with pytest.raises(InvalidOrderError, match="not trading"):
        engine.place_order(ALICE, market("x", Side.BUY, "0.1"))


def test_the_incoming_order_state_is_ignored(engine: PaperEngine) -> None:
    claimed = Order(
        "c",
        BTC.symbol,
        Side.BUY,
        OrderType.LIMIT,
        D("0.1"),
        price=D("29000"),
        status=OrderStatus.FILLED,
        filled_qty=D("0.1"),
        exchange_order_id="mine",
        fee=D(5),
        created_at=1,
    )
    placed = engine.place_order(ALICE, claimed)
    assert (placed.status, placed.filled_qty, placed.exchange_order_id, placed.fee) == (OrderStatus.OPEN, 0, "1", 0)
    assert placed.created_at == START_MS
