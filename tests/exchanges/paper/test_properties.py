"""Properties over random order flows: money is conserved, reduce-only never flips, snapshots are exact."""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass
from decimal import Decimal as D

from hypothesis import given, settings
from hypothesis import strategies as st

from elcaro.exchanges.paper import ManualClock, PaperEngine
from elcaro.exchanges.paper.pricing import walk_book
from elcaro.models import Order, OrderType, Side
from elcaro.models.decimals import ZERO
from elcaro.models.errors import InsufficientFundsError, InvalidOrderError
from elcaro.models.market import BookLevel, Candle
from paper.builders import ALICE, BTC, make_engine

DEPOSIT = D("50000")
TICK = BTC.tick_size

offsets = st.integers(-6_000, 6_000)
"""Ticks from the current mark: ±600 USDT, 2 % of BTC at 30 000."""
quantities = st.integers(1, 400).map(lambda steps: steps * BTC.qty_step)
sides = st.sampled_from(Side)


@dataclass(frozen=True)
class Move:
    offset: int


@dataclass(frozen=True)
class Bar:
    offsets: tuple[int, int, int, int]
    """Open and close, and two more points the high and low are taken from, all from the current mark."""


@dataclass(frozen=True)
class Place:
    side: Side
    qty: D
    kind: OrderType
    offset: int
    """The limit price, or the trigger, from the current mark."""
    reduce_only: bool


@dataclass(frozen=True)
class Protect:
    take_profit_ticks: int
    stop_loss_ticks: int


@dataclass(frozen=True)
class Leverage:
    value: int


@dataclass(frozen=True)
class Funding:
    rate: D


places = st.builds(
    Place, sides, quantities, st.sampled_from(OrderType), offsets, st.sampled_from([False, False, False, True])
)
actions = st.one_of(
    places,
    places,
    places,
    offsets.map(Move),
    st.tuples(offsets, offsets, offsets, offsets).map(Bar),
    st.builds(Protect, st.integers(1, 6_000), st.integers(1, 6_000)),
    st.integers(1, 60).map(Leverage),
)
with_funding = st.one_of(actions, st.integers(-30, 30).map(lambda bp: Funding(D(bp) / 10_000)))
flows = st.lists(actions, min_size=10, max_size=50)


class Flow:
    """Applies random actions to alice's BTC account, treating the venue's refusals as outcomes."""

    def __init__(self, engine: PaperEngine, clock: ManualClock, count: int = 0) -> None:
        self.engine, self.clock, self.count = engine, clock, count

    @classmethod
    def fresh(cls) -> Flow:
        engine, clock = make_engine(deposit=str(DEPOSIT))
        engine.update_mark(BTC.symbol, D("30000"))
        return cls(engine, clock)

    @classmethod
    def restored_from(cls, other: Flow) -> Flow:
        """A twin restored from ``other``'s snapshot (through JSON), with a clock of its own at the same time."""
        clock = ManualClock(other.clock())
        engine = PaperEngine.restore(json.loads(json.dumps(other.engine.snapshot())), clock=clock)
        return cls(engine, clock, other.count)

    def price(self, offset: int = 0) -> D:
        mark = self.engine.mark_price(BTC.symbol)
        assert mark is not None
        return max(mark + offset * TICK, TICK)

    def apply(self, action: object) -> None:
        self.clock.advance(1_000)
        self.count += 1
        with contextlib.suppress(InvalidOrderError, InsufficientFundsError):
            self._apply(action)

    def _apply(self, action: object) -> None:
        engine = self.engine
        match action:
            case Move(offset):
                engine.update_mark(BTC.symbol, self.price(offset))
            case Bar(offsets):
                points = [self.price(offset) for offset in offsets]
                candle = Candle(self.clock(), points[0], max(points), min(points), points[3], D(1))
                engine.apply_candle(BTC.symbol, candle)
            case Place(side, qty, kind, offset, reduce_only):
                engine.place_order(ALICE, self._order(side, qty, kind, offset, reduce_only))
            case Protect(take_profit_ticks, stop_loss_ticks):
                position = engine.position(ALICE, BTC.symbol)
                if position is not None:
                    sign = position.side.sign
                    engine.set_position_protection(
                        ALICE,
                        BTC.symbol,
                        take_profit=self.price(sign * take_profit_ticks),
                        stop_loss=self.price(-sign * stop_loss_ticks),
                    )
            case Leverage(value):
                engine.set_leverage(ALICE, BTC.symbol, D(value))
            case Funding(rate):
                engine.apply_funding(BTC.symbol, rate)

    def _order(self, side: Side, qty: D, kind: OrderType, offset: int, reduce_only: bool) -> Order:
        cid = f"o{self.count}"
        if kind is OrderType.MARKET:
            return Order(cid, BTC.symbol, side, kind, qty, reduce_only=reduce_only)
        level = self.price(offset)
        if kind is OrderType.LIMIT:
            return Order(cid, BTC.symbol, side, kind, qty, price=level, reduce_only=reduce_only)
        price = level if kind is OrderType.STOP_LIMIT else None
        return Order(cid, BTC.symbol, side, kind, qty, price=price, trigger_price=level, reduce_only=reduce_only)

    def flatten(self) -> None:
        self.engine.cancel_all_orders(ALICE)
        position = self.engine.position(ALICE, BTC.symbol)
        if position is not None:
            close = Order(
                "flatten", BTC.symbol, position.side.exit_side, OrderType.MARKET, position.qty, reduce_only=True
            )
            self.engine.place_order(ALICE, close)


def booked_money(engine: PaperEngine) -> D:
    """What the wallet must hold: the deposit, plus realised gross PnL, less every fee charged."""
    gross = sum((trade.gross_pnl for trade in engine.closed_pnl(ALICE)), ZERO)
    fees = sum((fill.fee for fill in engine.fills(ALICE)), ZERO)
    return DEPOSIT + gross - fees


@settings(max_examples=150, deadline=None)
@given(flows)
def test_the_wallet_is_the_deposit_plus_realised_pnl_less_fees(flow_actions: list[object]) -> None:
    flow = Flow.fresh()
    for action in flow_actions:
        flow.apply(action)
        assert flow.engine.balance(ALICE).wallet == booked_money(flow.engine)
    flow.flatten()
    net = sum((trade.net_pnl for trade in flow.engine.closed_pnl(ALICE)), ZERO)
    assert flow.engine.balance(ALICE).wallet == DEPOSIT + net


@settings(max_examples=75, deadline=None)
@given(st.lists(with_funding, min_size=10, max_size=40))
def test_once_flat_the_trades_account_for_every_cent_funding_included(flow_actions: list[object]) -> None:
    flow = Flow.fresh()
    for action in flow_actions:
        flow.apply(action)
    flow.flatten()
    assert flow.engine.positions(ALICE) == []
    net = sum((trade.net_pnl for trade in flow.engine.closed_pnl(ALICE)), ZERO)
    assert flow.engine.balance(ALICE).wallet == DEPOSIT + net


@settings(max_examples=150, deadline=None)
@given(flows, sides, quantities)
def test_a_reduce_only_order_never_opens_or_flips(flow_actions: list[object], side: Side, qty: D) -> None:
    flow = Flow.fresh()
    for action in flow_actions:
        flow.apply(action)
    before = flow.engine.position(ALICE, BTC.symbol)
    flow.apply(Place(side, qty, OrderType.MARKET, 0, reduce_only=True))
    after = flow.engine.position(ALICE, BTC.symbol)
    if before is None:
        assert after is None
    elif after is not None:
        assert after.side is before.side and after.qty <= before.qty


@settings(max_examples=75, deadline=None)
@given(st.lists(with_funding, min_size=10, max_size=40), st.lists(with_funding, max_size=10))
def test_a_snapshot_restores_exactly_and_carries_on_the_same(history: list[object], future: list[object]) -> None:
    flow = Flow.fresh()
    for action in history:
        flow.apply(action)
    twin = Flow.restored_from(flow)
    assert twin.engine.snapshot() == flow.engine.snapshot()

    for action in future:
        flow.apply(action)
        twin.apply(action)
    assert twin.engine.snapshot() == flow.engine.snapshot()


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(st.integers(1, 50), st.integers(1, 5_000)), min_size=0, max_size=8),
    st.integers(1, 20_000),
    st.one_of(st.none(), st.integers(0, 400)),
)
def test_a_book_walk_takes_what_is_within_the_limit_best_first(
    raw_levels: list[tuple[int, int]], qty_steps: int, limit_ticks: int | None
) -> None:
    asks, price = [], D("30000")
    for gap, size in raw_levels:
        price += gap * TICK
        asks.append(BookLevel(price, size * BTC.qty_step))
    qty = qty_steps * BTC.qty_step
    limit = None if limit_ticks is None else D("30000") + limit_ticks * TICK

    legs = walk_book(asks, Side.BUY, qty, limit)

    reachable = sum((level.qty for level in asks if limit is None or level.price <= limit), ZERO)
    assert sum((leg.qty for leg in legs), ZERO) == min(qty, reachable)
    assert [leg.price for leg in legs] == sorted(leg.price for leg in legs)
    assert all(limit is None or leg.price <= limit for leg in legs)
    assert all(leg.qty == level.qty for leg, level in zip(legs[:-1], asks, strict=False))
