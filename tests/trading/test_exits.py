from dataclasses import replace
from decimal import Decimal as D

import pytest
from trading_builders import BTC, DEMO, settings, signal

from elcaro.models import ExitReason, PositionSide
from elcaro.trading.exits import classify_exit
from elcaro.trading.ids import LegKind
from elcaro.trading.plan import EntryPlan, build_plan
from elcaro.trading.position import PositionState, open_position


def state(side: PositionSide = PositionSide.LONG) -> PositionState:
    long = side is PositionSide.LONG
    sig = signal(
        side=side, targets=("52000", "54000") if long else ("48000", "46000"), stop="49000" if long else "51000"
    )
    plan = build_plan(
        sig, settings(), BTC, target=DEMO, user_id=1, equity=D(10000), free_margin=D(10000), price=D(50000)
    )
    assert isinstance(plan, EntryPlan)
    return replace(open_position(plan, BTC), qty=D("0.1"), entry_price=D(50000))


def test_our_orders_say_why() -> None:
    s = replace(state(), closes=(ExitReason.MANUAL, ExitReason.AUTO_CLOSE))
    key = s.key
    assert classify_exit(s, D(1), client_order_id=key.client_order_id(LegKind.TP, 1)) is ExitReason.TAKE_PROFIT
    assert classify_exit(s, D(1), client_order_id=key.client_order_id(LegKind.CLOSE, 1)) is ExitReason.AUTO_CLOSE
    trailing = replace(s, stop_kind=ExitReason.TRAILING_STOP)
    assert (
        classify_exit(trailing, D(1), client_order_id=key.client_order_id(LegKind.STOP, 0)) is ExitReason.TRAILING_STOP
    )
    replaced = replace(s, targets=(replace(s.targets[0], revision=3),))
    tp_again = key.client_order_id(LegKind.TP, 0, 2)
    assert classify_exit(replaced, D(1), client_order_id=tp_again) is ExitReason.TAKE_PROFIT


@pytest.mark.parametrize(
    ("side", "price", "kind", "expected"),
    [
        (PositionSide.LONG, "49000", ExitReason.STOP_LOSS, ExitReason.STOP_LOSS),
        (PositionSide.LONG, "48500", ExitReason.STOP_LOSS, ExitReason.STOP_LOSS),  # slipped through
        (PositionSide.LONG, "49240", ExitReason.BREAK_EVEN, ExitReason.BREAK_EVEN),  # within 0.5% above
        (PositionSide.LONG, "49300", ExitReason.STOP_LOSS, ExitReason.EXTERNAL),
        (PositionSide.LONG, "51800", ExitReason.STOP_LOSS, ExitReason.TAKE_PROFIT),
        (PositionSide.SHORT, "51000", ExitReason.TRAILING_STOP, ExitReason.TRAILING_STOP),
        (PositionSide.SHORT, "50700", ExitReason.STOP_LOSS, ExitReason.EXTERNAL),
        (PositionSide.SHORT, "47000", ExitReason.STOP_LOSS, ExitReason.TAKE_PROFIT),
    ],
)
def test_unnamed_fills_are_judged_by_price(
    side: PositionSide, price: str, kind: ExitReason, expected: ExitReason
) -> None:
    s = replace(state(side), stop_kind=kind)
    assert classify_exit(s, D(price), client_order_id="venue-123") is expected


def test_liquidation_by_price_comes_before_the_stop() -> None:
    s = state()
    assert classify_exit(s, D(45000), liquidation_price=D(45100)) is ExitReason.LIQUIDATION
    assert classify_exit(s, D(48900), liquidation_price=D(45100)) is ExitReason.STOP_LOSS


def test_hit_targets_do_not_count_again() -> None:
    s = state()
    s = replace(s, targets=tuple(replace(t, hit=True) for t in s.targets))
    assert classify_exit(s, D(52000)) is ExitReason.EXTERNAL
