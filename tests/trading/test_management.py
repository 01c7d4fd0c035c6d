"""The position manager, rule by rule, on a 0.1 BTC long from 50000 (stop 49000, targets 52/54/56k)."""

from dataclasses import replace
from datetime import UTC, datetime, time
from decimal import Decimal as D
from typing import Any

import pytest
from trading_builders import AVAX, BTC, DEMO, fill, settings, signal

from elcaro.models import AtrExit, Entry, EntryKind, ExitReason, OrderType, PositionSide, Side
from elcaro.models.errors import ValidationError
from elcaro.trading.ids import LegKind
from elcaro.trading.management import next_time_of_day, step
from elcaro.trading.plan import EntryPlan, build_plan
from elcaro.trading.position import (
    AmendOrder,
    CancelOrder,
    ClosePosition,
    CloseRequest,
    ExitPart,
    Liquidation,
    PlaceOrder,
    PositionState,
    PriceUpdate,
    SetStop,
    Step,
    TimeTick,
    WithdrawEntries,
    open_position,
)
from elcaro.trading.settings import TradingSettings
from elcaro.trading.stats import trade_stats

T0 = int(datetime(2024, 11, 21, 20, 0, tzinfo=UTC).timestamp() * 1000)
MIN = 60_000


def btc_plan(**values: Any) -> EntryPlan:
    sig = values.pop("sig", None) or signal(targets=("52000", "54000", "56000"))
    result = build_plan(
        sig, settings(**values), BTC, target=DEMO, user_id=1, equity=D(10000), free_margin=D(10000), price=D(50000)
    )
    assert isinstance(result, EntryPlan)
    return result


def opened(**values: Any) -> tuple[Step, EntryPlan, TradingSettings]:
    """The plan filled in one go at 50000 (entry fee 2.5)."""
    plan = btc_plan(**values)
    rules = settings(**{k: v for k, v in values.items() if k != "sig"})
    first = step(
        open_position(plan, BTC), fill(plan.entries[0].client_order_id, Side.BUY, "0.1", "50000", T0, fee="2.5"), rules
    )
    return first, plan, rules


def tp_id(plan: EntryPlan, index: int, revision: int = 0) -> str:
    return plan.key.client_order_id(LegKind.TP, index, revision)


def stops(result: Step) -> list[tuple[D, ExitReason]]:
    return [(a.price, a.kind) for a in result.actions if isinstance(a, SetStop)]


def closes(result: Step) -> list[tuple[D, ExitReason]]:
    return [(a.order.qty, a.reason) for a in result.actions if isinstance(a, ClosePosition)]


def test_the_first_fill_sets_the_stop_and_places_the_plan_targets() -> None:
    first, plan, _ = opened()
    assert first.actions[0] == SetStop(D(49000), ExitReason.STOP_LOSS, plan.stop_client_order_id)
    placed = [a.order for a in first.actions if isinstance(a, PlaceOrder)]
    assert placed == list(plan.take_profits)  # same ids, sizes and prices as the plan
    state = first.state
    assert (state.qty, state.entry_price, state.opened_at, state.peak_qty) == (D("0.1"), D(50000), T0, D("0.1"))


def test_a_target_fill_is_a_take_profit_part_carrying_its_share_of_entry_fees() -> None:
    first, plan, rules = opened()
    after = step(first.state, fill(tp_id(plan, 0), Side.SELL, "0.033", "52000", T0 + MIN, fee="0.5"), rules)
    # 0.5 exit fee + 2.5 × 0.033 / 0.1 of the entry fee.
    assert after.exits == (ExitPart(D("0.033"), D(50000), D(52000), ExitReason.TAKE_PROFIT, T0, T0 + MIN, D("1.325")),)
    assert after.actions == ()  # the other targets still add up to what is left
    assert after.state.qty == D("0.067") and after.state.targets[0].hit


def test_break_even_after_target_n_with_offset_then_a_stop_fill_is_classified_break_even() -> None:
    first, plan, rules = opened(break_even_after_tp=1, break_even_offset_pct="0.1")
    after_tp = step(first.state, fill(tp_id(plan, 0), Side.SELL, "0.033", "52000", T0 + MIN), rules)
    assert stops(after_tp) == [(D("50050.0"), ExitReason.BREAK_EVEN)]
    stopped = step(after_tp.state, fill(None, Side.SELL, "0.067", "50040", T0 + 2 * MIN), rules)
    assert [(e.qty, e.reason) for e in stopped.exits] == [(D("0.067"), ExitReason.BREAK_EVEN)]
    assert stopped.actions == (CancelOrder(tp_id(plan, 1)), CancelOrder(tp_id(plan, 2)))
    assert stopped.state.is_closed and stopped.state.exit_reason is ExitReason.BREAK_EVEN


def test_break_even_at_a_profit_percentage() -> None:
    first, _, rules = opened(break_even_at_pct=2)
    assert stops(step(first.state, PriceUpdate(D(50900), T0 + MIN), rules)) == []
    moved = step(first.state, PriceUpdate(D(51000), T0 + MIN), rules)
    assert stops(moved) == [(D(50000), ExitReason.BREAK_EVEN)]
    assert stops(step(moved.state, PriceUpdate(D(51500), T0 + 2 * MIN), rules)) == []  # already there


def test_break_even_rounds_toward_the_price_so_it_never_locks_a_loss() -> None:
    first, _, rules = opened(break_even_at_pct=2, break_even_offset_pct="0.01")
    # 50000 × 1.0001 = 50005 exactly; an average of 50000.04 would give 50005.004… → 50005.1, not 50005.0.
    state = replace(first.state, entry_price=D("50000.04"))
    assert stops(step(state, PriceUpdate(D(51100), T0 + MIN), rules)) == [(D("50005.1"), ExitReason.BREAK_EVEN)]


def test_moving_target_steps_the_stop_up_the_ladder() -> None:
    first, plan, rules = opened(trailing_type="moving_target")
    tp1 = step(first.state, fill(tp_id(plan, 0), Side.SELL, "0.033", "52000", T0 + MIN), rules)
    assert stops(tp1) == [(D(50000), ExitReason.BREAK_EVEN)]
    tp2 = step(tp1.state, fill(tp_id(plan, 1), Side.SELL, "0.033", "54000", T0 + 2 * MIN), rules)
    assert stops(tp2) == [(D("52000.0"), ExitReason.TRAILING_STOP)]
    stopped = step(tp2.state, fill(None, Side.SELL, "0.034", "51990", T0 + 3 * MIN), rules)
    assert stopped.exits[0].reason is ExitReason.TRAILING_STOP


def test_a_partly_filled_target_is_not_hit_yet() -> None:
    first, plan, rules = opened(trailing_type="moving_target")
    partial = step(first.state, fill(tp_id(plan, 0), Side.SELL, "0.010", "52000", T0 + MIN), rules)
    assert stops(partial) == [] and not partial.state.targets[0].hit
    rest = step(partial.state, fill(tp_id(plan, 0), Side.SELL, "0.023", "52000", T0 + MIN), rules)
    assert stops(rest) == [(D(50000), ExitReason.BREAK_EVEN)]


def test_atr_trailing_starts_at_the_trigger_tightens_only_and_closes_when_crossed() -> None:
    first, _, rules = opened(trailing_type="atr", atr_multiplier="1.5", atr_trigger_pct=2)
    s = first.state
    early = step(s, PriceUpdate(D(50500), T0 + MIN, atr=D(500)), rules)
    assert stops(early) == [] and not early.state.trailing_active
    started = step(early.state, PriceUpdate(D(51000), T0 + 2 * MIN, atr=D(400)), rules)
    assert stops(started) == [(D(50400), ExitReason.TRAILING_STOP)]  # 51000 − 1.5 × 400
    wider = step(started.state, PriceUpdate(D(50800), T0 + 3 * MIN, atr=D(800)), rules)
    assert stops(wider) == []  # a larger ATR never loosens the stop
    higher = step(wider.state, PriceUpdate(D(52000), T0 + 4 * MIN, atr=D("300.33")), rules)
    assert stops(higher) == [(D("51549.5"), ExitReason.TRAILING_STOP)]  # 52000 − 450.495, rounded down
    crossed = step(higher.state, PriceUpdate(D(51700), T0 + 5 * MIN, atr=D(100)), rules)
    # 52000 − 150 = 51850 is above the price: the trailing level is already crossed.
    assert stops(crossed) == [] and closes(crossed) == [(D("0.1"), ExitReason.TRAILING_STOP)]


def test_atr_trailing_uses_the_signal_parameters() -> None:
    sig = signal(targets=("52000", "54000", "56000"), atr_exit=AtrExit(14, D(2), D(1)))
    first, _, rules = opened(sig=sig, trailing_type="atr", atr_multiplier=5, atr_trigger_pct=50)
    moved = step(first.state, PriceUpdate(D(50500), T0 + MIN, atr=D(100)), rules)
    assert stops(moved) == [(D(50300), ExitReason.TRAILING_STOP)]


def test_partial_take_profit_steps_close_shares_of_the_largest_size_and_resize_the_targets() -> None:
    first, plan, rules = opened(
        partial_tp_steps=[{"profit_pct": 2, "close_pct": 50}, {"profit_pct": 3, "close_pct": 50}]
    )
    half = step(first.state, PriceUpdate(D(51000), T0 + MIN), rules)
    close_id = plan.key.client_order_id(LegKind.CLOSE, 0)
    assert next(a for a in half.actions if isinstance(a, ClosePosition)).order.client_order_id == close_id
    assert closes(half) == [(D("0.050"), ExitReason.TAKE_PROFIT)]
    assert [a for a in half.actions if isinstance(a, AmendOrder)] == [
        AmendOrder(tp_id(plan, 0), D("0.016"), D("52000.0")),
        AmendOrder(tp_id(plan, 1), D("0.016"), D("54000.0")),
        AmendOrder(tp_id(plan, 2), D("0.018"), D("56000.0")),
    ]
    assert half.state.pending_close == D("0.050")
    filled = step(half.state, fill(close_id, Side.SELL, "0.050", "51000", T0 + MIN), rules)
    assert [(e.qty, e.reason) for e in filled.exits] == [(D("0.050"), ExitReason.TAKE_PROFIT)]
    assert filled.state.pending_close == 0 and filled.actions == ()
    rest = step(filled.state, PriceUpdate(D(51600), T0 + 2 * MIN), rules)
    assert closes(rest) == [(D("0.050"), ExitReason.TAKE_PROFIT)]
    assert [a for a in rest.actions if isinstance(a, CancelOrder)] == [
        CancelOrder(tp_id(plan, 0)),
        CancelOrder(tp_id(plan, 1)),
        CancelOrder(tp_id(plan, 2)),
    ]


def test_a_partial_step_never_leaves_dust_the_venue_cannot_close() -> None:
    # With a minimum of 0.005, closing 0.099 of 0.1 would strand 0.001: the step closes everything instead.
    first, _, rules = opened(partial_tp_steps=[{"profit_pct": 2, "close_pct": 99}])
    state = replace(first.state, instrument=replace(BTC, min_qty=D("0.005")))
    assert closes(step(state, PriceUpdate(D(51000), T0 + MIN), rules)) == [(D("0.1"), ExitReason.TAKE_PROFIT)]
    first, _, rules = opened(partial_tp_steps=[{"profit_pct": 2, "close_pct": 95}])
    state = replace(first.state, instrument=replace(BTC, min_qty=D("0.005")))
    assert closes(step(state, PriceUpdate(D(51000), T0 + MIN), rules)) == [(D("0.095"), ExitReason.TAKE_PROFIT)]


def test_a_dca_fill_reaverages_and_resizes_the_targets() -> None:
    sig = signal(entry=Entry(EntryKind.MARKET), targets=("52000", "54000"), stop="47000")
    first, plan, rules = opened(sig=sig, dca_legs=[{"offset_pct": 2, "size_multiplier": 1}])
    dca = plan.dca[0]
    assert dca.price == D(49000)
    entry_qty = first.state.qty
    added = step(first.state, fill(dca.client_order_id, Side.BUY, str(dca.qty), "49000", T0 + MIN), rules)
    state = added.state
    assert state.qty == entry_qty + dca.qty
    assert state.entry_price == (entry_qty * 50000 + dca.qty * 49000) / state.qty
    amends = [a for a in added.actions if isinstance(a, AmendOrder)]
    assert sum(a.qty for a in amends) == state.qty and [a.price for a in amends] == [D("52000.0"), D("54000.0")]
    assert stops(added) == []  # the stop stays where the plan's risk budget put it


def test_dca_repricing_keeps_the_targets_distance_from_the_new_average() -> None:
    sig = signal(entry=Entry(EntryKind.MARKET), targets=("52000", "54000"), stop="47000")
    first, plan, rules = opened(sig=sig, dca_legs=[{"offset_pct": 2, "size_multiplier": 1}], dca_reprice_targets=True)
    dca = plan.dca[0]
    added = step(first.state, fill(dca.client_order_id, Side.BUY, str(dca.qty), "49000", T0 + MIN), rules)
    factor = added.state.entry_price / D(50000)
    amends = [a for a in added.actions if isinstance(a, AmendOrder)]
    assert [a.price for a in amends] == [
        BTC.round_price(D(52000) * factor, "down"),
        BTC.round_price(D(54000) * factor, "down"),
    ]


def test_zone_legs_filling_one_by_one_grow_the_targets() -> None:
    zone = signal(
        symbol=AVAX.symbol,
        entry=Entry(EntryKind.ZONE, (D("27.10"), D("27.85"))),
        targets=("29.40", "31.05"),
        stop="25.90",
    )
    plan = build_plan(
        zone,
        settings(entry_distribution="equal"),
        AVAX,
        target=DEMO,
        user_id=1,
        equity=D(1000),
        free_margin=D(1000),
        price=D("28.5"),
    )
    assert isinstance(plan, EntryPlan)
    rules = settings()
    state = open_position(plan, AVAX)
    one = step(state, fill(plan.entries[0].client_order_id, Side.BUY, "2.1", "27.85", T0, symbol=AVAX.symbol), rules)
    assert [(a.order.qty, a.order.price) for a in one.actions if isinstance(a, PlaceOrder)] == [
        (D("1.0"), D("29.40")),
        (D("1.1"), D("31.05")),
    ]
    two = step(
        one.state, fill(plan.entries[1].client_order_id, Side.BUY, "2.1", "27.47", T0 + MIN, symbol=AVAX.symbol), rules
    )
    assert [a for a in two.actions if isinstance(a, AmendOrder)] == [
        AmendOrder(one.state.targets[0].client_order_id or "", D("2.1"), D("29.40")),
        AmendOrder(one.state.targets[1].client_order_id or "", D("2.1"), D("31.05")),
    ]
    withdrawn = step(two.state, WithdrawEntries(T0 + 2 * MIN), rules)
    assert withdrawn.actions == (CancelOrder(plan.entries[2].client_order_id),)
    assert withdrawn.state.is_open


def test_withdrawing_before_any_fill_ends_the_position_without_a_trade() -> None:
    plan = btc_plan(order_type="limit")
    result = step(open_position(plan, BTC), WithdrawEntries(T0), settings())
    assert result.actions == (CancelOrder(plan.entries[0].client_order_id),)
    assert result.state.exit_reason is ExitReason.SIGNAL_CANCEL and result.exits == ()


def test_closing_before_any_fill_withdraws_the_entries_and_ends_the_position() -> None:
    plan = btc_plan(order_type="limit", dca_legs=[{"offset_pct": "1", "size_multiplier": "0.5"}])
    result = step(open_position(plan, BTC), CloseRequest(T0, ExitReason.KILL_SWITCH), settings())
    assert result.actions == tuple(CancelOrder(order.client_order_id) for order in (*plan.entries, *plan.dca))
    assert (result.state.closed_at, result.state.exit_reason, result.exits) == (T0, ExitReason.KILL_SWITCH, ())
    # The cancel crossed a fill: the late entry is taken in and closed at once for the same reason.
    late = step(result.state, fill(plan.entries[0].client_order_id, Side.BUY, "0.05", "50000", T0 + 1), settings())
    assert [(a.order.qty, a.reason) for a in late.actions if isinstance(a, ClosePosition)] == [
        (D("0.05"), ExitReason.KILL_SWITCH)
    ]


def test_max_hold_time_closes_everything() -> None:
    first, _, rules = opened(max_hold_minutes=60)
    assert step(first.state, TimeTick(T0 + 59 * MIN), rules).actions == ()
    result = step(first.state, TimeTick(T0 + 60 * MIN), rules)
    assert closes(result) == [(D("0.1"), ExitReason.MAX_HOLD)]
    again = step(result.state, TimeTick(T0 + 61 * MIN), rules)
    assert closes(again) == []  # the close is already on its way


def test_auto_close_at_a_time_of_day() -> None:
    first, _, rules = opened(auto_close_at="21:00")  # opened at 20:00 UTC
    assert closes(step(first.state, PriceUpdate(D(50100), T0 + 59 * MIN), rules)) == []
    assert closes(step(first.state, PriceUpdate(D(50100), T0 + 60 * MIN), rules)) == [(D("0.1"), ExitReason.AUTO_CLOSE)]


def test_next_time_of_day() -> None:
    at_20 = T0
    assert next_time_of_day(at_20, time(21, 0)) == at_20 + 60 * MIN
    assert next_time_of_day(at_20, time(20, 0)) == at_20 + 24 * 60 * MIN
    assert next_time_of_day(at_20, time(19, 30)) == at_20 + (23 * 60 + 30) * MIN


def test_close_requests() -> None:
    first, plan, rules = opened()
    some = step(first.state, CloseRequest(T0 + MIN, ExitReason.MANUAL, D("0.0305")), rules)
    assert closes(some) == [(D("0.030"), ExitReason.MANUAL)]
    everything = step(some.state, CloseRequest(T0 + MIN, ExitReason.KILL_SWITCH), rules)
    assert closes(everything) == [(D("0.070"), ExitReason.KILL_SWITCH)]
    ids = [a.order.client_order_id for r in (some, everything) for a in r.actions if isinstance(a, ClosePosition)]
    assert ids == [plan.key.client_order_id(LegKind.CLOSE, 0), plan.key.client_order_id(LegKind.CLOSE, 1)]
    done = step(everything.state, fill(ids[1], Side.SELL, "0.070", "50100", T0 + MIN), rules)
    assert done.exits[0].reason is ExitReason.KILL_SWITCH


def test_liquidation() -> None:
    first, plan, rules = opened()
    result = step(first.state, Liquidation(D(40100), T0 + MIN, fee=D(3)), rules)
    assert [(e.qty, e.reason, e.fees) for e in result.exits] == [(D("0.1"), ExitReason.LIQUIDATION, D("5.5"))]
    assert result.actions == tuple(CancelOrder(tp_id(plan, i)) for i in range(3))


def test_a_late_entry_fill_after_the_close_is_closed_again() -> None:
    plan = btc_plan(order_type="limit")
    rules = settings()
    state = open_position(plan, BTC)
    part = step(state, fill(plan.entries[0].client_order_id, Side.BUY, "0.05", "50000", T0), rules)
    closed = step(part.state, fill(None, Side.SELL, "0.05", "48990", T0 + MIN), rules)
    assert closed.state.is_closed and closed.exits[0].reason is ExitReason.STOP_LOSS
    assert CancelOrder(plan.entries[0].client_order_id) in closed.actions
    late = step(closed.state, fill(plan.entries[0].client_order_id, Side.BUY, "0.05", "48980", T0 + MIN), rules)
    assert closes(late) == [(D("0.05"), ExitReason.STOP_LOSS)]
    assert not late.state.is_closed


def test_events_after_the_close_change_nothing() -> None:
    first, _, rules = opened()
    closed = step(first.state, Liquidation(D(40100), T0 + MIN), rules).state
    assert step(closed, PriceUpdate(D(30000), T0 + 2 * MIN), rules) == Step(closed)


def test_a_fill_of_another_symbol_is_a_programming_error() -> None:
    first, _, rules = opened()
    with pytest.raises(ValidationError, match="a fill of AVAX/USDT:USDT"):
        step(first.state, fill(None, Side.SELL, "1", "27", symbol=AVAX.symbol), rules)


def test_targets_too_small_wait_and_unplaced_targets_count_when_price_reaches_them() -> None:
    sig = signal(targets=("52000", "54000", "56000"))
    plan = btc_plan(sig=sig)
    rules = settings(trailing_type="moving_target")
    state = open_position(plan, BTC)
    tiny = step(state, fill(plan.entries[0].client_order_id, Side.BUY, "0.002", "50000", T0), rules)
    placed = [a.order for a in tiny.actions if isinstance(a, PlaceOrder)]
    assert [(o.price, o.qty) for o in placed] == [(D("56000.0"), D("0.002"))]  # folded into the last target
    passed = step(tiny.state, PriceUpdate(D(54100), T0 + MIN), rules)
    assert stops(passed) == [(D("52000.0"), ExitReason.TRAILING_STOP)]


def test_a_short_mirrors_everything() -> None:
    sig = signal(side=PositionSide.SHORT, targets=("48000", "46000"), stop="51000")
    plan = build_plan(
        sig, settings(), BTC, target=DEMO, user_id=1, equity=D(10000), free_margin=D(10000), price=D(50000)
    )
    assert isinstance(plan, EntryPlan)
    rules = settings(break_even_after_tp=1, break_even_offset_pct="0.1", trailing_type="atr", atr_multiplier=1)
    state = open_position(plan, BTC)
    first = step(state, fill(plan.entries[0].client_order_id, Side.SELL, str(plan.qty), "50000", T0), rules)
    assert [a.order.side for a in first.actions if isinstance(a, PlaceOrder)] == [Side.BUY, Side.BUY]
    tp = step(first.state, fill(tp_id(plan, 0), Side.BUY, str(plan.take_profits[0].qty), "48000", T0 + MIN), rules)
    assert stops(tp) == [(D("49950.0"), ExitReason.BREAK_EVEN)]  # 50000 × 0.999, rounded down toward the price
    trail = step(tp.state, PriceUpdate(D(47500), T0 + 2 * MIN, atr=D("200.05")), rules)
    assert stops(trail) == [(D("47700.1"), ExitReason.TRAILING_STOP)]  # 47500 + 200.05, rounded up
    assert trail.state.lowest == D(47500)


def test_state_is_a_value() -> None:
    first, _, _ = opened()
    assert isinstance(first.state, PositionState)
    with pytest.raises(AttributeError):
        first.state.qty = D(1)  # type: ignore[misc]
    assert OrderType.MARKET  # the module's types are the shared models'


def test_an_entry_filling_while_the_position_is_being_closed_is_closed_too() -> None:
    zone = signal(entry=Entry(EntryKind.ZONE, (D(49600), D(50000))), targets=("52000",), stop="49000")
    plan = btc_plan(sig=zone)
    rules = settings(max_hold_minutes=10)
    one = step(open_position(plan, BTC), fill(plan.entries[0].client_order_id, Side.BUY, "0.02", "50000", T0), rules)
    timed_out = step(one.state, TimeTick(T0 + 10 * MIN), rules)
    assert closes(timed_out) == [(D("0.02"), ExitReason.MAX_HOLD)]
    assert CancelOrder(plan.entries[1].client_order_id) in timed_out.actions
    raced = step(
        timed_out.state, fill(plan.entries[1].client_order_id, Side.BUY, "0.03", "49800", T0 + 10 * MIN), rules
    )
    assert closes(raced) == [(D("0.03"), ExitReason.MAX_HOLD)]


def test_fills_without_our_id_never_mark_a_target_hit() -> None:
    plan = btc_plan()
    tiny = step(
        open_position(plan, BTC), fill(plan.entries[0].client_order_id, Side.BUY, "0.002", "50000", T0), settings()
    )
    assert [t.client_order_id is None for t in tiny.state.targets] == [True, True, False]
    gone = step(tiny.state, Liquidation(D(45000), T0 + MIN), settings())
    assert not any(t.hit for t in gone.state.targets)


def test_partial_steps_count_what_the_targets_already_closed() -> None:
    first, plan, rules = opened(partial_tp_steps=[{"profit_pct": 5, "close_pct": 50}])
    tp1 = step(first.state, fill(tp_id(plan, 0), Side.SELL, "0.033", "52000", T0 + MIN), rules)
    at_five = step(tp1.state, PriceUpdate(D(52500), T0 + 2 * MIN), rules)
    assert closes(at_five) == [(D("0.017"), ExitReason.TAKE_PROFIT)]  # 50% of 0.1, of which 0.033 is done


def test_closed_parts_become_trades_for_the_statistics() -> None:
    first, plan, rules = opened()
    tp1 = step(first.state, fill(tp_id(plan, 0), Side.SELL, "0.033", "52000", T0 + MIN, fee="0.5"), rules)
    stopped = step(tp1.state, fill(None, Side.SELL, "0.067", "49000", T0 + 2 * MIN, fee="1"), rules)
    trades = [stopped.state.trade(part) for part in (*tp1.exits, *stopped.exits)]
    assert [(t.exit_reason, t.strategy, t.user_id, t.signal_id, t.target) for t in trades] == [
        (ExitReason.TAKE_PROFIT, "elcaro", 1, 42, DEMO),
        (ExitReason.STOP_LOSS, "elcaro", 1, 42, DEMO),
    ]
    # +66 − 1.325 fees on the first part; −67 − 2.675 on the rest (fees 1 + 2.5 × 0.067 / 0.1).
    assert [t.net_pnl for t in trades] == [D("64.675"), D("-69.675")]
    stats = trade_stats(trades)
    assert (stats.count, stats.total_pnl, stats.fees, stats.losses) == (1, D(-5), D(4), 1)
