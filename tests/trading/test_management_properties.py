"""Random price paths and fills through the position manager: the invariants hold at every step."""

from decimal import Decimal as D
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from trading_builders import BTC, DEMO, fill, signal
from trading_builders import settings as trading_settings

from elcaro.models import PositionSide
from elcaro.trading.management import step
from elcaro.trading.plan import EntryPlan, build_plan
from elcaro.trading.position import (
    AmendOrder,
    CancelOrder,
    ClosePosition,
    CloseRequest,
    Event,
    PlaceOrder,
    PositionState,
    PriceUpdate,
    SetStop,
    Step,
    TimeTick,
    open_position,
)
from elcaro.trading.settings import TradingSettings

T0 = 1_732_219_200_000
MIN = 60_000

rule_values = st.fixed_dictionaries(
    {
        "break_even_after_tp": st.none() | st.integers(1, 3),
        "break_even_at_pct": st.none() | st.sampled_from(["0.5", "1", "2.5"]),
        "break_even_offset_pct": st.sampled_from(["0", "0.1", "0.3"]),
        "trailing_type": st.sampled_from(["none", "moving_target", "atr"]),
        "atr_multiplier": st.sampled_from(["0.5", "1", "2.5"]),
        "atr_trigger_pct": st.sampled_from(["0", "1", "3"]),
        "partial_tp_steps": st.sampled_from(
            [
                [],
                [{"profit_pct": 1, "close_pct": 30}],
                [{"profit_pct": "0.5", "close_pct": 25}, {"profit_pct": 2, "close_pct": 75}],
            ]
        ),
        "max_hold_minutes": st.none() | st.integers(30, 600),
    }
)
# Moves in percent in the position's favour (negative: against it), drifting its way so rules get to fire.
moves = st.tuples(
    st.just("move"),
    st.decimals(min_value=D("-1.5"), max_value=D("2.5"), places=2),
    st.none() | st.decimals(min_value=D(5), max_value=D(600), places=2),
)
partial_fills = st.tuples(
    st.just("partial"), st.integers(0, 5), st.decimals(min_value=D("0.1"), max_value=D(1), places=1)
)
ticks = st.tuples(st.just("tick"), st.integers(1, 120))
close_requests = st.tuples(st.just("close"), st.decimals(min_value=D("0.001"), max_value=D("0.05"), places=3))
events = st.sampled_from([moves] * 6 + [partial_fills, ticks, close_requests]).flatmap(lambda kind: kind)


class Venue:
    """Just enough of an exchange: working reduce-only orders and the position's stop."""

    def __init__(self, state: PositionState) -> None:
        self.working: dict[str, tuple[D, D]] = {}  # id → (price, remaining)
        self.markets: dict[str, D] = {}
        self.stop = state.stop
        self.stops_seen: list[D] = []

    def apply(self, result: Step) -> None:
        for action in result.actions:
            if isinstance(action, PlaceOrder):
                assert action.order.reduce_only
                self.working[action.order.client_order_id] = (action.order.price or D(0), action.order.qty)
            elif isinstance(action, AmendOrder):
                filled = next(t.filled for t in result.state.targets if t.client_order_id == action.client_order_id)
                self.working[action.client_order_id] = (action.price, action.qty - filled)
            elif isinstance(action, CancelOrder):
                self.working.pop(action.client_order_id, None)
            elif isinstance(action, ClosePosition):
                self.markets[action.order.client_order_id] = action.order.qty
            elif isinstance(action, SetStop):
                self.stops_seen.append(action.price)
                self.stop = action.price


def check(before: PositionState, result: Step, venue: Venue) -> None:
    state, sign = result.state, before.side.sign
    previous = before.stop
    for action in result.actions:
        if isinstance(action, SetStop):
            assert action.price % BTC.tick_size == 0
            if before.is_open:
                assert sign * (action.price - previous) > 0  # only ever tightens
            else:
                assert action.price == previous  # the first fill puts the planned stop on the venue
            previous = action.price
    added = state.qty - before.qty + sum(e.qty for e in result.exits)
    closing = sum(a.order.qty for a in result.actions if isinstance(a, ClosePosition))
    assert closing <= before.free_qty + added
    assert D(0) <= state.pending_close <= state.qty
    working = sum(t.qty - t.filled for t in state.targets if t.client_order_id is not None)
    assert working <= state.free_qty
    assert sum(remaining for _, remaining in venue.working.values()) == working
    assert all(e.qty > 0 for e in result.exits)


class Harness:
    """Drives the manager with events and plays the venue's part: fills at targets, at the stop, at market."""

    def __init__(self, plan: EntryPlan, rules: TradingSettings) -> None:
        self.state = open_position(plan, BTC)
        self.rules = rules
        self.venue = Venue(self.state)
        self.side = plan.side
        self.price, self.at = D(50000), T0
        self.run(fill(plan.entries[0].client_order_id, self.side.entry_side, str(plan.qty), "50000", self.at))

    def run(self, event: Event) -> None:
        result = step(self.state, event, self.rules)
        self.venue.apply(result)
        check(self.state, result, self.venue)
        self.state = result.state

    def exit_fill(self, order_id: str | None, qty: D, price: D) -> None:
        self.run(fill(order_id, self.side.exit_side, str(qty), str(price), self.at))

    def move(self, pct: D, atr: D | None) -> None:
        sign = self.side.sign
        self.price = BTC.round_price(self.price * (1 + sign * pct / 100))
        self.run(PriceUpdate(self.price, self.at, atr=atr))
        if self.state.is_open and sign * (self.price - self.venue.stop) <= 0:
            self.venue.working.clear()
            self.exit_fill(None, self.state.qty, self.venue.stop)
            return
        for order_id, (target, remaining) in list(self.venue.working.items()):
            if self.state.is_open and sign * (self.price - target) >= 0 and order_id in self.venue.working:
                self.venue.working.pop(order_id)
                self.exit_fill(order_id, min(remaining, self.state.qty), target)

    def partial(self, pick: int, share: D) -> None:
        if not self.venue.working:
            return
        order_id = sorted(self.venue.working)[pick % len(self.venue.working)]
        target, remaining = self.venue.working[order_id]
        qty = BTC.round_qty(remaining * share)
        if qty > 0:
            self.venue.working[order_id] = (target, remaining - qty)
            if qty == remaining:
                self.venue.working.pop(order_id)
            self.exit_fill(order_id, qty, target)

    def settle_markets(self) -> None:
        for order_id, qty in list(self.venue.markets.items()):
            self.venue.markets.pop(order_id)
            if self.state.is_open:
                self.exit_fill(order_id, min(qty, self.state.qty), self.price)


@settings(max_examples=150)
@given(
    side=st.sampled_from(PositionSide),
    values=rule_values,
    script=st.lists(events, min_size=8, max_size=40),
)
def test_invariants_along_random_paths(side: PositionSide, values: dict[str, Any], script: list[Any]) -> None:
    long = side is PositionSide.LONG
    targets = ("52000", "54000", "56000") if long else ("48000", "46000", "44000")
    sig = signal(side=side, targets=targets, stop="49000" if long else "51000")
    plan = build_plan(
        sig, trading_settings(), BTC, target=DEMO, user_id=1, equity=D(10000), free_margin=D(10000), price=D(50000)
    )
    assert isinstance(plan, EntryPlan)
    harness = Harness(plan, trading_settings(**values))
    for kind, *args in script:
        if harness.state.is_closed:
            break
        harness.at += MIN
        if kind == "move":
            harness.move(*args)
        elif kind == "tick":
            harness.at += args[0] * MIN
            harness.run(TimeTick(harness.at))
        elif kind == "close":
            harness.run(CloseRequest(harness.at, qty=args[0]))
        else:
            harness.partial(*args)
        harness.settle_markets()
