"""The monitor's pure parts: ATR, the stored record, fill routing, reconciliation findings and event figures."""

from __future__ import annotations

import json
from dataclasses import replace
from decimal import Decimal as D
from typing import Any

import pytest
from position_builders import BTC, DEMO, MINUTE, T0, long_signal

from elcaro.core.codec import encode
from elcaro.models import ExitReason, Fill, Order, OrderType, Position, PositionSide, Side
from elcaro.models.errors import ValidationError
from elcaro.models.events import EventKind
from elcaro.models.market import Candle
from elcaro.services.positions.atr import average_true_range, closed_candles, true_ranges
from elcaro.services.positions.notices import Owner, closed_notice, figure, step_notices
from elcaro.services.positions.reconcile import EntriesGone, Missing, Snapshot, Unprotected, check
from elcaro.services.positions.record import Ledger, Stored
from elcaro.services.positions.routing import client_ids, event_for, route
from elcaro.trading import (
    AmendOrder,
    CancelOrder,
    ClosePosition,
    EntryPlan,
    LegKind,
    Liquidation,
    PlaceOrder,
    PositionState,
    SetStop,
    TradingSettings,
    WithdrawEntries,
    build_plan,
    open_position,
    step,
)


def bar(at: int, high: str, low: str, close: str) -> Candle:
    return Candle(at, D(close), D(high), D(low), D(close), D(1))


def test_atr_is_wilders_smoothing_of_true_ranges_gaps_included() -> None:
    candles = [bar(0, "10", "9", "10"), bar(1, "12", "10", "11"), bar(2, "12", "8", "9"), bar(3, "16", "10", "15")]
    # The third bar's range includes the gap from the previous close; the fourth gaps up from 9.
    assert true_ranges(candles) == [D(2), D(4), D(7)]
    assert average_true_range(candles, 2) == (D(3) * 1 + D(7)) / 2  # mean of 2 and 4, then Wilder
    assert average_true_range(candles, 3) == D(13) / 3
    assert average_true_range(candles, 4) is None  # five candles needed
    with pytest.raises(ValidationError, match="ATR period"):
        average_true_range(candles, 0)


def test_only_closed_candles_count() -> None:
    candles = [bar(0, "2", "1", "1"), bar(MINUTE, "2", "1", "1")]
    assert closed_candles(candles, MINUTE, 2 * MINUTE - 1) == candles[:1]
    assert closed_candles(candles, MINUTE, 2 * MINUTE) == candles


def plan(**values: Any) -> tuple[EntryPlan, TradingSettings]:
    settings = TradingSettings.parse({"enabled": True, "order_type": "market", **values})
    result = build_plan(
        replace(long_signal(), id=7),
        settings,
        BTC,
        target=DEMO,
        user_id=3,
        equity=D(10_000),
        free_margin=D(10_000),
        price=D(50_000),
    )
    assert isinstance(result, EntryPlan)
    return result, settings


def fill(order_id: str, side: Side, qty: str, price: str, at: int = T0, fee: str = "0") -> Fill:
    return Fill(f"t-{order_id}-{at}", order_id, BTC.symbol, side, D(qty), D(price), D(fee), "USDT", False, at)


def opened(**values: Any) -> tuple[PositionState, EntryPlan, TradingSettings]:
    entry_plan, settings = plan(**values)
    first = step(
        open_position(entry_plan, BTC), fill(entry_plan.entries[0].client_order_id, Side.BUY, "0.1", "50000"), settings
    )
    return first.state, entry_plan, settings


def test_the_stored_record_round_trips_with_every_kind_of_pending_action() -> None:
    state, entry_plan, _ = opened()
    order = Order("0xabc", BTC.symbol, Side.SELL, OrderType.MARKET, D("0.1"), reduce_only=True)
    pending = (
        SetStop(D(50000), ExitReason.BREAK_EVEN, "0xstop"),
        PlaceOrder(entry_plan.take_profits[0]),
        AmendOrder("0xtp", D("0.05"), D(52000)),
        CancelOrder("0xdca"),
        ClosePosition(order, ExitReason.MANUAL),
    )
    stored = Stored(state, Ledger(("t1", "t2"), T0, D("12.5"), D("1.25")), pending)
    assert Stored.from_json(json.loads(json.dumps(stored.to_json()))) == stored


def test_a_state_as_the_fan_out_stores_it_reads_with_nothing_applied_yet() -> None:
    entry_plan, _ = plan()
    stored = Stored.from_json(json.loads(json.dumps(encode(open_position(entry_plan, BTC)))))
    assert stored == Stored(open_position(entry_plan, BTC))


def test_a_fill_of_ours_goes_to_its_position_an_unnamed_one_to_the_open_position_since_it_opened() -> None:
    state, entry_plan, _ = opened()
    other = replace(state, key=replace(state.key, signal_id=8), qty=D(0), opened_at=None)
    tp = entry_plan.key.client_order_id(LegKind.TP, 1)
    assert tp in client_ids(state) and entry_plan.key.client_order_id(LegKind.STOP, 0) in client_ids(state)
    positions = [("waiting", other), ("open", state)]
    assert route(fill(tp, Side.SELL, "0.033", "54000", T0 + MINUTE), positions) == "open"
    assert route(fill("venue-stop", Side.SELL, "0.1", "49000", T0 + MINUTE), positions) == "open"
    assert route(fill("older", Side.SELL, "0.1", "49000", T0 - 1), positions) is None
    entry_of_other = other.adds[0].client_order_id
    assert route(fill(entry_of_other, Side.BUY, "0.1", "50000", T0 + MINUTE), positions) == "waiting"


def test_an_unnamed_fill_of_the_whole_position_at_the_liquidation_price_is_a_liquidation() -> None:
    state, _, _ = opened()
    liquidated = fill("venue-liq", Side.SELL, "0.1", "45010", T0 + MINUTE, fee="2")
    assert event_for(state, liquidated, D(45000)) == Liquidation(D(45010), T0 + MINUTE, D(2))
    assert event_for(state, liquidated, None) == liquidated
    assert event_for(state, fill("venue-stop", Side.SELL, "0.1", "49000"), D(45000)).price == D(49000)  # type: ignore[union-attr]


def venue_position(qty: str, stop: str | None = "49000", side: PositionSide = PositionSide.LONG) -> Position:
    return Position(
        BTC.symbol, side, D(qty), D(50000), stop_loss=None if stop is None else D(stop), mark_price=D(50100)
    )


def test_reconciliation_findings() -> None:
    state, entry_plan, _ = opened()
    assert check(state, Snapshot.of([venue_position("0.1")], [])) is None
    assert check(state, Snapshot.of([], [])) == Missing(D("0.1"), flat=True)
    assert check(state, Snapshot.of([venue_position("0.1", side=PositionSide.SHORT)], [])) == Missing(D("0.1"), True)
    assert check(state, Snapshot.of([venue_position("0.04")], [])) == Missing(D("0.06"), flat=False)
    assert check(state, Snapshot.of([venue_position("0.1", stop=None)], [])) == Unprotected(None)
    assert check(state, Snapshot.of([venue_position("0.1", stop="48000")], [])) == Unprotected(D(48000))
    assert check(state, Snapshot.of([venue_position("0.1", stop="49500")], [])) is None  # tighter by hand: kept

    waiting = open_position(entry_plan, BTC)
    entry = entry_plan.entries[0].client_order_id
    assert check(waiting, Snapshot.of([], [entry])) is None
    assert check(waiting, Snapshot.of([], [])) == EntriesGone()
    assert check(waiting, Snapshot.of([venue_position("0.1")], [])) is None  # filled, the fill not seen yet


def test_snapshots_agree_on_sizes_and_orders_whatever_the_prices() -> None:
    one = Snapshot.of([venue_position("0.1")], ["a"])
    assert one.agrees_with(Snapshot.of([replace(venue_position("0.1"), mark_price=D(1))], ["a"]))
    assert not one.agrees_with(Snapshot.of([venue_position("0.09")], ["a"]))
    assert not one.agrees_with(Snapshot.of([venue_position("0.1")], []))


def test_events_tell_target_hits_partial_steps_dca_fills_and_stop_moves_in_figures() -> None:
    state, entry_plan, settings = opened(
        dca_legs=[{"offset_pct": 1, "size_multiplier": 1}], break_even_after_tp=1, sl_pct=5
    )
    owner = Owner(9, 3, DEMO, 7)
    dca = entry_plan.dca[0]
    added = step(state, fill(dca.client_order_id, Side.BUY, str(dca.qty), str(dca.price), T0 + MINUTE), settings)
    (notice,) = step_notices(
        owner, state, fill(dca.client_order_id, Side.BUY, str(dca.qty), str(dca.price)), added, [], T0
    )
    assert notice.kind is EventKind.DCA_FILLED and notice.position_id == 9 and notice.signal_id == 7
    assert notice.data["entry_price"] == figure(added.state.entry_price)

    tp = added.state.targets[0]
    assert tp.client_order_id is not None
    hit = fill(tp.client_order_id, Side.SELL, str(tp.qty), str(tp.price), T0 + 2 * MINUTE)
    result = step(added.state, hit, settings)
    trades = [result.state.trade(part) for part in result.exits]
    kinds = [n.kind for n in step_notices(owner, added.state, hit, result, trades, T0)]
    assert kinds == [EventKind.TAKE_PROFIT, EventKind.BREAK_EVEN]


def test_a_withdrawal_tells_what_it_took_off_the_venue_and_a_close_tells_the_final_figures() -> None:
    state, entry_plan, settings = opened(dca_legs=[{"offset_pct": 1, "size_multiplier": 1}], sl_pct=5)
    owner = Owner(9, 3, DEMO, 7)
    withdrawn = step(state, WithdrawEntries(T0 + MINUTE), settings)
    (notice,) = step_notices(owner, state, WithdrawEntries(T0 + MINUTE), withdrawn, [], T0, withdrawal_code="gone")
    dca = entry_plan.dca[0]
    assert (notice.kind, notice.code) == (EventKind.ENTRY_CANCELLED, "gone")
    assert notice.data == {
        "withdrawn": "1",
        "withdrawn_qty": figure(dca.qty),
        "position_qty": figure(state.qty),
        "position_open": "true",
    }
    assert (
        step_notices(
            owner, withdrawn.state, WithdrawEntries(T0), step(withdrawn.state, WithdrawEntries(T0), settings), [], T0
        )
        == []
    )

    never = open_position(entry_plan, BTC)
    assert closed_notice(owner, step(never, WithdrawEntries(T0), settings).state, Ledger(), T0) is None
    stopped = step(state, fill("venue-stop", Side.SELL, str(state.qty), "47500", T0 + MINUTE), settings).state
    ledger = Ledger(realized_pnl=D("-250.5"), fees=D("5"), funding=D("-0.5"), funding_reported=True)
    closed = closed_notice(owner, stopped, ledger, T0 + MINUTE)
    assert closed is not None and closed.kind is EventKind.POSITION_CLOSED and closed.code is None
    assert {
        k: closed.data[k] for k in ("exit_reason", "realized_pnl", "funding", "funding_included", "exit_price")
    } == {
        "exit_reason": "stop_loss",
        "realized_pnl": "-250.5",
        "funding": "-0.5",
        "funding_included": "true",
        "exit_price": "47500",
    }


def test_a_ledger_stored_before_funding_was_recorded_still_reads() -> None:
    state, _, _ = opened()
    stored = Stored(state, Ledger(fills=("t1",), fills_since=T0, realized_pnl=D(3), fees=D(1)))
    old = stored.to_json()
    for key in ("funding", "funding_reported", "closing_code"):
        del old["monitor"][key]
    assert Stored.from_json(old) == stored


def test_figures_are_plain_exact_decimals() -> None:
    assert [figure(D(v)) for v in ("258.17987000", "1E+2", "0E-8", "-0.50")] == ["258.17987", "100", "0", "-0.5"]
