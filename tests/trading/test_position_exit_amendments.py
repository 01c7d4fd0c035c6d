"""Exits set by hand (``AmendExits``) on a 0.1 BTC long from 50000: stop 49000, targets 52/54/56k."""

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal as D
from typing import Any

import pytest
from trading_builders import BTC, DEMO, fill, settings, signal

from elcaro.models import ExitReason, PositionSide, Side
from elcaro.models.errors import ValidationError
from elcaro.trading import classify_exit
from elcaro.trading.ids import LegKind
from elcaro.trading.management import step
from elcaro.trading.plan import EntryPlan, build_plan
from elcaro.trading.position import (
    AmendExits,
    AmendOrder,
    CloseRequest,
    PlaceOrder,
    PositionState,
    PriceUpdate,
    SetStop,
    Step,
    open_position,
)
from elcaro.trading.settings import TradingSettings

T0 = int(datetime(2024, 11, 21, 20, 0, tzinfo=UTC).timestamp() * 1000)


def opened(**values: Any) -> tuple[Step, EntryPlan, TradingSettings]:
    sig = values.pop("sig", None) or signal(targets=("52000", "54000", "56000"))
    rules = settings(**values)
    plan = build_plan(sig, rules, BTC, target=DEMO, user_id=1, equity=D(10000), free_margin=D(10000), price=D(50000))
    assert isinstance(plan, EntryPlan)
    price = str(plan.entries[0].price or 50000)
    entry = fill(plan.entries[0].client_order_id, plan.side.entry_side, str(plan.qty), price, T0)
    return step(open_position(plan, BTC), entry, rules), plan, rules


def amend(state: PositionState, rules: TradingSettings, stop: str | None = None, *prices: str) -> Step:
    return step(state, AmendExits(T0 + 1, D(stop) if stop else None, tuple(map(D, prices)) or None), rules)


def refusal(state: PositionState, rules: TradingSettings, stop: str | None = None, *prices: str) -> ValidationError:
    with pytest.raises(ValidationError) as refused:
        amend(state, rules, stop, *prices)
    return refused.value


def test_a_person_may_loosen_or_tighten_the_stop_which_lands_on_the_tick_toward_the_price() -> None:
    first, plan, rules = opened()
    looser = amend(first.state, rules, "48000")
    assert looser.actions == (SetStop(D(48000), ExitReason.STOP_LOSS, plan.stop_client_order_id),)
    assert looser.state.stop == D(48000)
    tighter = amend(looser.state, rules, "49500.04")
    assert tighter.actions == (SetStop(D("49500.1"), ExitReason.STOP_LOSS, plan.stop_client_order_id),)
    assert amend(tighter.state, rules, "49500.1").actions == ()  # where it already is: nothing to send


def test_a_stop_at_or_past_the_price_or_below_zero_is_refused_with_the_field() -> None:
    first, _, rules = opened()
    for stop in ("50000", "50500", "-1"):
        error = refusal(first.state, rules, stop)
        assert error.field == "stop"
    assert "below the last price 50000" in refusal(first.state, rules, "50000").reason


def test_a_short_stop_must_sit_above_the_price_and_rounds_down_toward_it() -> None:
    sig = signal(side=PositionSide.SHORT, targets=("48000",), stop="51000")
    first, plan, rules = opened(sig=sig)
    assert first.state.side is PositionSide.SHORT
    assert refusal(first.state, rules, "49000").field == "stop"
    moved = amend(first.state, rules, "50800.19")
    assert moved.actions == (SetStop(D("50800.1"), ExitReason.STOP_LOSS, plan.stop_client_order_id),)


def test_the_stop_kind_follows_where_it_sits_so_its_fill_is_recorded_for_what_it_was() -> None:
    first, _, rules = opened()
    up = step(first.state, PriceUpdate(D(51500), T0 + 1), rules).state
    at_entry = amend(up, rules, "50000").state
    assert at_entry.stop_kind is ExitReason.BREAK_EVEN
    above = amend(at_entry, rules, "51000").state
    assert above.stop_kind is ExitReason.TRAILING_STOP
    assert classify_exit(above, D(51000)) is ExitReason.TRAILING_STOP
    assert amend(above, rules, "49800").state.stop_kind is ExitReason.STOP_LOSS


def test_a_stop_looser_than_a_rule_demands_now_is_refused_naming_the_rule_and_level() -> None:
    first, plan, rules = opened(break_even_after_tp=1)
    tp1 = plan.key.client_order_id(LegKind.TP, 0, 0)
    hit = step(first.state, fill(tp1, Side.SELL, "0.033", "52000", T0 + 5), rules)
    assert hit.state.stop == D(50000)
    error = refusal(hit.state, rules, "49500")
    assert error.field == "stop" and "break even" in error.reason and "50000" in error.reason
    assert amend(hit.state, rules, "51000").state.stop == D(51000)  # tighter than the rule is always welcome


def test_while_an_atr_trail_follows_the_price_the_stop_may_only_be_tightened_by_hand() -> None:
    first, _, rules = opened(trailing_type="atr", atr_multiplier="2", atr_trigger_pct="1")
    trailing = step(first.state, PriceUpdate(D(51000), T0 + 1, atr=D(300)), rules).state
    assert trailing.trailing_active and trailing.stop == D(50400)
    error = refusal(trailing, rules, "50000")
    assert error.field == "stop" and "trailing stop rule" in error.reason and "50400" in error.reason
    assert amend(trailing, rules, "50600").state.stop == D(50600)


def test_target_prices_reprice_the_working_orders_and_keep_their_sizes() -> None:
    first, plan, rules = opened()
    working = {a.order.client_order_id: a.order.qty for a in first.actions if isinstance(a, PlaceOrder)}
    result = amend(first.state, rules, None, "52500.07", "54500", "57000")
    assert [t.price for t in result.state.targets] == [D("52500"), D(54500), D(57000)]  # toward the stop
    assert sorted((a.client_order_id, a.qty, a.price) for a in result.actions if isinstance(a, AmendOrder)) == sorted(
        (tid, working[tid], price)
        for tid, price in zip(
            (plan.key.client_order_id(LegKind.TP, i, 0) for i in range(3)), (D(52500), D(54500), D(57000)), strict=True
        )
    )
    assert result.state.stop == first.state.stop and not any(isinstance(a, SetStop) for a in result.actions)


def test_only_the_targets_not_hit_take_new_prices_and_the_count_must_match() -> None:
    first, plan, rules = opened()
    tp1 = plan.key.client_order_id(LegKind.TP, 0, 0)
    hit = step(first.state, fill(tp1, Side.SELL, "0.033", "52000", T0 + 5), rules).state
    mismatch = refusal(hit, rules, None, "53000", "55000", "57000")
    assert mismatch.field == "target_prices" and "2 target(s)" in mismatch.reason
    result = amend(hit, rules, None, "55000", "57000")
    assert [(t.price, t.hit) for t in result.state.targets] == [(D(52000), True), (D(55000), False), (D(57000), False)]
    amended = [(a.client_order_id, a.price) for a in result.actions if isinstance(a, AmendOrder)]
    assert amended == [
        (plan.key.client_order_id(LegKind.TP, 1, 0), D(55000)),
        (plan.key.client_order_id(LegKind.TP, 2, 0), D(57000)),
    ]


def test_a_target_on_the_loss_side_or_out_of_order_is_refused_at_its_field() -> None:
    first, _, rules = opened()
    assert refusal(first.state, rules, None, "49000", "54000", "56000").field == "target_prices.0"
    assert refusal(first.state, rules, None, "52000", "56000", "54000").field == "target_prices.2"
    # Nothing half-applied: the stop in the same request did not move either.
    assert refusal(first.state, rules, "48000", "52000", "50000", "56000").field == "target_prices.1"


def test_a_target_without_an_order_gets_its_price_for_when_it_is_placed() -> None:
    first, plan, rules = opened()
    assert refusal(open_position(plan, BTC), rules, "48000").field == "position"  # the stop rides on the entries
    unplaced = replace(first.state.targets[2], client_order_id=None, qty=D(0))
    state = replace(first.state, targets=(*first.state.targets[:2], unplaced))
    result = amend(state, rules, None, "52000", "54000", "58000")
    assert result.state.targets[2].price == D(58000)
    placed = [a.order for a in result.actions if isinstance(a, PlaceOrder)]
    assert [(o.price, o.qty) for o in placed] == [(D(58000), D("0.034"))]


def test_a_closed_or_closing_position_refuses_new_exits() -> None:
    first, _, rules = opened()
    closing = step(first.state, CloseRequest(T0 + 1), rules).state
    assert closing.closing is ExitReason.MANUAL
    assert refusal(closing, rules, "48000").field == "position"
