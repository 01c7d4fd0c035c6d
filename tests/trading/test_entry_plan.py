"""Entry plans: orders, sizes, rounding, merging, ids and refusals, with hand-computed figures."""

from decimal import Decimal as D
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from trading_builders import AVAX, BTC, DEMO, settings, signal

from elcaro.models import (
    AtrExit,
    Entry,
    EntryKind,
    Instrument,
    OrderType,
    PositionSide,
    Side,
    make_client_order_id,
)
from elcaro.models.errors import ValidationError
from elcaro.risk import SizeLimit, SizingCode
from elcaro.trading.ids import LegKind
from elcaro.trading.plan import EntryPlan, PlanCode, Refusal, build_plan

ETH = Instrument(
    "ETH/USDT:USDT", "ETH", "USDT", "USDT", D("0.01"), D("0.01"), D("0.01"), min_notional=D(5), max_leverage=D(100)
)


def plan(
    sig: Any = None, instrument: Instrument = BTC, price: str = "50100", equity: str = "1000", **values: Any
) -> Any:
    return build_plan(
        sig or signal(),
        settings(**values),
        instrument,
        target=DEMO,
        user_id=1,
        equity=D(equity),
        free_margin=D(equity),
        price=D(price),
    )


def ok(result: EntryPlan | Refusal) -> EntryPlan:
    assert isinstance(result, EntryPlan), result
    return result


def quantities(orders: Any) -> list[D]:
    return [order.qty for order in orders]


def test_market_entry_sized_at_the_current_price() -> None:
    # 1% of 1000 over the 1100 between price and stop: 0.00909 → 0.009.
    p = ok(plan())
    (entry,) = p.entries
    assert (entry.type, entry.side, entry.qty, entry.price, entry.stop_loss) == (
        OrderType.MARKET,
        Side.BUY,
        D("0.009"),
        None,
        D(49000),
    )
    assert p.qty == D("0.009") and p.risk == D("9.9") and p.risk_budget == D(10)
    assert p.notional == D("450.9") and p.margin == D("90.18") and p.leverage == 5
    assert p.limited_by is SizeLimit.RISK
    assert [(o.price, o.qty, o.side, o.reduce_only) for o in p.take_profits] == [
        (D(52000), D("0.004"), Side.SELL, True),
        (D(54000), D("0.005"), Side.SELL, True),
    ]


def test_client_order_ids_name_the_intent() -> None:
    p = ok(plan())
    assert p.entries[0].client_order_id == make_client_order_id(42, 1, "bybit:demo", "entry", 0)
    assert [o.client_order_id for o in p.take_profits] == [
        make_client_order_id(42, 1, "bybit:demo", "tp", 0),
        make_client_order_id(42, 1, "bybit:demo", "tp", 1),
    ]
    assert p.stop_client_order_id == make_client_order_id(42, 1, "bybit:demo", "stop", 0)
    assert p.key.client_order_id(LegKind.TP, 1, revision=2) == make_client_order_id(42, 1, "bybit:demo", "tp", 1, 2)


def test_a_rebuilt_plan_has_the_same_ids_even_at_another_price() -> None:
    first, again, later = ok(plan()), ok(plan()), ok(plan(price="50300"))
    assert first == again
    ids = [o.client_order_id for o in (*first.entries, *first.take_profits)]
    assert ids == [o.client_order_id for o in (*later.entries, *later.take_profits)]
    assert ok(plan(sig=signal(id=43))).entries[0].client_order_id != ids[0]


def test_limit_entry_at_the_signal_price_with_offset() -> None:
    # A long waits 0.2% lower: 49900; 10 ÷ 900 = 0.0111 → 0.011.
    p = ok(plan(order_type="limit", limit_offset_pct="0.2"))
    (entry,) = p.entries
    assert (entry.type, entry.price, entry.qty) == (OrderType.LIMIT, D("49900.0"), D("0.011"))


def test_offsets_round_toward_the_stop_side() -> None:
    # 50000 × 0.9987 = 49935 exactly; 50001 × 0.9987 = 49936.0… → 49935.9 for a long.
    sig = signal(entry=Entry(EntryKind.LIMIT, (D(50001),)))
    assert ok(plan(sig=sig, order_type="limit", limit_offset_pct="0.13")).entries[0].price == D("49935.9")
    short = signal(side=PositionSide.SHORT, entry=Entry(EntryKind.LIMIT, (D(50001),)), stop="51000", targets=("48000",))
    # 50001 × 1.0013 = 50066.0013 → 50066.1 for a short (never a worse price than asked).
    p = ok(plan(sig=short, price="49900", order_type="limit", limit_offset_pct="0.13"))
    assert (p.entries[0].price, p.entries[0].side) == (D("50066.1"), Side.SELL)


def test_zone_spread_equally() -> None:
    # Legs 27.85, 27.475 → 27.47, 27.10; average 27.4733…, 1.5733 to the stop: 10 ÷ 1.5733 → 6.3, 2.1 each.
    zone = signal(
        symbol=AVAX.symbol,
        entry=Entry(EntryKind.ZONE, (D("27.10"), D("27.85"))),
        targets=("29.40", "31.05"),
        stop="25.90",
    )
    p = ok(plan(sig=zone, instrument=AVAX, price="28.5", entry_distribution="equal"))
    assert [(o.price, o.qty, o.type) for o in p.entries] == [
        (D("27.85"), D("2.1"), OrderType.LIMIT),
        (D("27.47"), D("2.1"), OrderType.LIMIT),
        (D("27.10"), D("2.1"), OrderType.LIMIT),
    ]
    assert p.risk == D("9.912") and p.qty == D("6.3")
    assert quantities(p.take_profits) == [D("3.1"), D("3.2")]


def test_zone_front_loaded_gives_the_remainder_to_the_leg_nearest_the_stop() -> None:
    # Weights 3:2:1, average 27.5983…: 10 ÷ 1.6983 → 5.8 = 2.9 + 1.9 + 0.9, remainder 0.1 → the 27.10 leg.
    zone = signal(
        symbol=AVAX.symbol, entry=Entry(EntryKind.ZONE, (D("27.10"), D("27.85"))), targets=("29.40",), stop="25.90"
    )
    p = ok(plan(sig=zone, instrument=AVAX, price="28.5", entry_distribution="front_loaded"))
    assert quantities(p.entries) == [D("2.9"), D("1.9"), D("1.0")]
    assert p.risk == D("9.838")
    back = ok(plan(sig=zone, instrument=AVAX, price="28.5", entry_distribution="back_loaded"))
    assert quantities(back.entries)[0] < quantities(back.entries)[2]


def test_explicit_weights_set_the_number_of_zone_legs() -> None:
    zone = signal(
        symbol=AVAX.symbol, entry=Entry(EntryKind.ZONE, (D("27.10"), D("27.85"))), targets=("29.40",), stop="25.90"
    )
    p = ok(plan(sig=zone, instrument=AVAX, price="28.5", entry_distribution=[75, 25]))
    assert [o.price for o in p.entries] == [D("27.85"), D("27.10")]
    assert quantities(p.entries)[0] > 2 * quantities(p.entries)[1]


def test_legs_below_the_minimum_are_merged_not_dropped() -> None:
    # 1 USDT of risk: 0.5 in all; 3:2:1 gives 0.2, 0.1, 0.2 (remainder to the deepest leg), and 0.1 at 27.47 is
    # worth less than 5 USDT: it joins the 27.10 leg.
    zone = signal(
        symbol=AVAX.symbol, entry=Entry(EntryKind.ZONE, (D("27.10"), D("27.85"))), targets=("29.40",), stop="25.90"
    )
    p = ok(plan(sig=zone, instrument=AVAX, price="28.5", equity="100", entry_distribution="front_loaded"))
    assert [(o.price, o.qty) for o in p.entries] == [(D("27.85"), D("0.2")), (D("27.10"), D("0.3"))]
    assert p.qty == D("0.5")
    assert "entry legs below the minimum order folded together: 27.47 into 27.10" in p.notes
    assert [o.client_order_id for o in p.entries] == [
        p.key.client_order_id(LegKind.ENTRY, 0),
        p.key.client_order_id(LegKind.ENTRY, 2),
    ]


def test_cornix_ladder_short_with_signal_shares_and_leverage() -> None:
    ladder = signal(
        symbol=ETH.symbol,
        side=PositionSide.SHORT,
        entry=Entry(EntryKind.LADDER, (D(3385), D(3410)), (D("0.5"), D("0.5"))),
        targets=("3320", "3275", "3190"),
        shares=("0.40", "0.35", "0.25"),
        stop="3468",
        leverage=D(20),
    )
    # 100 at risk over 70.5 (average 3397.5 to 3468): 1.41 = 0.70 + 0.71 (remainder to 3410, nearest the stop).
    p = ok(plan(sig=ladder, instrument=ETH, price="3380", equity="10000"))
    assert [(o.price, o.qty, o.side) for o in p.entries] == [
        (D(3385), D("0.70"), Side.SELL),
        (D(3410), D("0.71"), Side.SELL),
    ]
    assert p.risk == D("99.28") and p.leverage == 20 and p.stop_loss == D(3468)
    # Targets 40/35/25% of 1.41: 0.56, 0.49, 0.35 + the 0.01 remainder on the last.
    assert [(o.price, o.qty, o.side) for o in p.take_profits] == [
        (D(3320), D("0.56"), Side.BUY),
        (D(3275), D("0.49"), Side.BUY),
        (D(3190), D("0.36"), Side.BUY),
    ]
    assert sum(quantities(p.take_profits)) == p.qty


def test_stop_from_sl_pct_rounds_away_from_the_entry() -> None:
    no_stop = signal(symbol=AVAX.symbol, entry=Entry(EntryKind.MARKET), targets=(), stop=None)
    # 27.47 × 0.97 = 26.6459 → 26.64 for a long; 27.47 × 1.03 = 28.2941 → 28.30 for a short.
    assert ok(plan(sig=no_stop, instrument=AVAX, price="27.47")).stop_loss == D("26.64")
    short = signal(symbol=AVAX.symbol, side=PositionSide.SHORT, entry=Entry(EntryKind.MARKET), targets=(), stop=None)
    assert ok(plan(sig=short, instrument=AVAX, price="27.47")).stop_loss == D("28.30")


def test_target_from_tp_pct_when_the_signal_has_none() -> None:
    p = ok(plan(sig=signal(targets=(), stop=None), price="50000", tp_pct="6"))
    assert [(o.price, o.qty) for o in p.take_profits] == [(D(53000), p.qty)]
    assert "the signal has no target: 6% from the entry" in p.notes
    assert ok(plan(sig=signal(targets=(), stop=None), price="50000", tp_pct=None)).take_profits == ()


def test_targets_round_toward_the_entry() -> None:
    sig = signal(symbol=AVAX.symbol, entry=Entry(EntryKind.MARKET), targets=("29.405",), stop="25.90")
    assert ok(plan(sig=sig, instrument=AVAX, price="27.5")).take_profits[0].price == D("29.40")


def test_tp_distribution_weights_choose_the_targets() -> None:
    sig = signal(targets=("52000", "54000", "56000"), shares=("0.2", "0.3", "0.5"))
    follow = ok(plan(sig=sig, equity="10000"))  # 0.090 at 20/30/50%
    assert quantities(follow.take_profits) == [D("0.018"), D("0.027"), D("0.045")]
    mine = ok(plan(sig=sig, equity="10000", tp_distribution=[50, 50]))
    assert [o.price for o in mine.take_profits] == [D(52000), D(54000)]
    assert quantities(mine.take_profits) == [D("0.045"), D("0.045")]
    assert "only the first 2 of 3 targets are used (tp_distribution)" in mine.notes


def test_small_targets_fold_into_the_next() -> None:
    # 0.002 over three targets: 0.000, 0.000, 0.002 — one order at the last target carrying it all.
    sig = signal(targets=("52000", "54000", "56000"))
    p = ok(plan(sig=sig, equity="250"))
    assert [(o.price, o.qty) for o in p.take_profits] == [(D(56000), D("0.002"))]
    assert p.take_profits[0].client_order_id == p.key.client_order_id(LegKind.TP, 2)
    assert "targets too small for the minimum order are folded into the next one" in p.notes


@pytest.mark.parametrize(
    ("signal_leverage", "values", "expected"),
    [
        (D(20), {}, 20),
        (D(20), {"leverage_mode": "fixed", "leverage": 7}, 7),
        (None, {"leverage": 7}, 7),
        (D(75), {}, 50),
        (D("12.5"), {}, 12),
    ],
)
def test_leverage(signal_leverage: D | None, values: dict[str, Any], expected: int) -> None:
    sig = signal(symbol=AVAX.symbol, entry=Entry(EntryKind.MARKET), targets=(), stop="25", leverage=signal_leverage)
    assert ok(plan(sig=sig, instrument=AVAX, price="27.5", **values)).leverage == expected


def test_breakout_trigger_becomes_a_stop_entry() -> None:
    sig = signal(symbol=AVAX.symbol, entry=Entry(EntryKind.TRIGGER, (D("27.905"),)), targets=("29.40",), stop="25.90")
    (entry,) = ok(plan(sig=sig, instrument=AVAX, price="27.5")).entries
    assert (entry.type, entry.trigger_price, entry.price) == (OrderType.STOP_MARKET, D("27.91"), None)
    late = ok(plan(sig=sig, instrument=AVAX, price="28.0"))
    assert late.entries[0].type is OrderType.MARKET
    assert "the price 28.0 is already past the trigger 27.91: entering at market" in late.notes


def test_dca_legs_are_sized_inside_the_risk_budget() -> None:
    # DCA at 49000 and 48000 (×1, ×2); stop 3% under the deepest: 46560. Weighted average 48750, 2190 to the
    # stop: 100 ÷ 2190 → 0.045 = 0.011 + 0.011 + 0.022, remainder 0.001 → the 48000 leg, nearest the stop.
    sig = signal(entry=Entry(EntryKind.MARKET), stop=None)
    dca = [{"offset_pct": 2, "size_multiplier": 1}, {"offset_pct": 4, "size_multiplier": 2}]
    p = ok(plan(sig=sig, price="50000", equity="10000", dca_legs=dca))
    assert p.stop_loss == D(46560)
    assert quantities(p.entries) == [D("0.011")]
    assert [(o.price, o.qty, o.type) for o in p.dca] == [
        (D(49000), D("0.011"), OrderType.LIMIT),
        (D(48000), D("0.023"), OrderType.LIMIT),
    ]
    assert (p.qty, p.dca_qty, p.risk) == (D("0.011"), D("0.034"), D("97.80"))
    assert [o.client_order_id for o in p.dca] == [
        p.key.client_order_id(LegKind.DCA, 0),
        p.key.client_order_id(LegKind.DCA, 1),
    ]
    assert all(o.stop_loss is None for o in p.dca)
    assert quantities(p.take_profits) == [D("0.005"), D("0.006")]


def test_dca_legs_beyond_the_signal_stop_are_left_out_with_a_note() -> None:
    dca = [{"offset_pct": 1, "size_multiplier": 1}, {"offset_pct": 3, "size_multiplier": 1}]
    p = ok(plan(sig=signal(entry=Entry(EntryKind.MARKET)), price="50000", equity="10000", dca_legs=dca))
    assert [o.price for o in p.dca] == [D(49500)]
    assert "DCA legs 2 lie beyond the stop and are left out" in p.notes


def test_dca_legs_too_small_are_left_out_and_the_entry_keeps_the_budget() -> None:
    dca = [{"offset_pct": 1, "size_multiplier": 1}]
    p = ok(plan(sig=signal(entry=Entry(EntryKind.MARKET)), price="50000", equity="120", dca_legs=dca))
    assert p.dca == () and quantities(p.entries) == [D("0.001")]
    assert any(note.startswith("DCA legs left out: ") for note in p.notes)


@pytest.mark.parametrize(
    ("kwargs", "code", "reason"),
    [
        ({"price": "48900"}, PlanCode.PRICE_PAST_STOP, "the price 48900 is already at or past the stop 49000.0"),
        ({"price": "52000"}, PlanCode.PRICE_PAST_TARGET, "the price 52000 has already reached the target 52000"),
        (
            {"order_type": "limit", "limit_offset_pct": 5},
            PlanCode.ENTRY_PAST_STOP,
            "the entry 47500.0 is at or past the stop 49000.0",
        ),
        ({"equity": "5"}, SizingCode.BELOW_MIN_QTY, None),
    ],
)
def test_refusals_are_typed(kwargs: dict[str, Any], code: Any, reason: str | None) -> None:
    result = plan(**kwargs)
    assert isinstance(result, Refusal)
    assert result.code == code
    if reason:
        assert result.reason == reason


def test_an_inactive_instrument_is_refused() -> None:
    halted = Instrument("BTC/USDT:USDT", "BTC", "USDT", "USDT", D("0.1"), D("0.001"), D("0.001"), active=False)
    assert plan(instrument=halted) == Refusal(PlanCode.INSTRUMENT_INACTIVE, "BTC/USDT:USDT is not trading")


def test_programming_errors_raise() -> None:
    with pytest.raises(ValidationError, match="stored signals"):
        plan(sig=signal(id=None))
    with pytest.raises(ValidationError, match="is not the signal's"):
        plan(instrument=AVAX)


def test_atr_parameters_come_from_the_signal_when_it_has_them() -> None:
    from_signal = AtrExit(14, D("1.5"), D(6))
    assert ok(plan(sig=signal(atr_exit=from_signal), trailing_type="atr")).atr == from_signal
    assert ok(plan(trailing_type="atr", atr_multiplier=2)).atr == AtrExit(14, D(2), D(0))
    assert ok(plan(sig=signal(atr_exit=from_signal))).atr is None


def test_summary() -> None:
    assert ok(plan()).summary == (
        "LONG BTC/USDT:USDT on bybit:demo at 5×: market ×0.009; stop 49000.0; "
        "targets 52000.0 ×0.004, 54000.0 ×0.005; risk 9.90 of 10.00 allowed."
    )


@st.composite
def plans(draw: st.DrawFn) -> tuple[EntryPlan | Refusal, D, D]:
    side = draw(st.sampled_from(PositionSide))
    sign = side.sign
    base = draw(st.decimals(min_value=D(10), max_value=D(100), places=2))
    width = draw(st.decimals(min_value=D(0), max_value=D("0.05"), places=3))
    far = base * (1 - sign * width)
    kind = draw(st.sampled_from([EntryKind.MARKET, EntryKind.LIMIT, EntryKind.ZONE, EntryKind.LADDER]))
    prices: tuple[D, ...] = ()
    if kind is EntryKind.LIMIT:
        prices = (base,)
    elif kind in (EntryKind.ZONE, EntryKind.LADDER) and width > 0:
        prices = tuple(sorted((base, far)))
    else:
        kind = EntryKind.MARKET
    deepest = min(base, far) if sign > 0 else max(base, far)
    stop = deepest * (1 - sign * draw(st.decimals(min_value=D("0.005"), max_value=D("0.2"), places=3)))
    top = max(base, far) if sign > 0 else min(base, far)
    targets = [top * (1 + sign * D(k) / 100) for k in range(1, draw(st.integers(0, 4)) + 1)]
    sig = signal(
        symbol=AVAX.symbol,
        side=side,
        entry=Entry(kind, prices),
        targets=tuple(str(t) for t in targets),
        stop=str(stop),
        leverage=draw(st.none() | st.integers(1, 100).map(D)),
    )
    values: dict[str, Any] = {
        "order_type": draw(st.sampled_from(["market", "limit"])),
        "limit_offset_pct": str(draw(st.decimals(min_value=D(-1), max_value=D("0.3"), places=2))),
        "entry_distribution": draw(st.sampled_from(["equal", "front_loaded", "back_loaded", [1, 2, 3, 4]])),
        "zone_legs": draw(st.integers(1, 6)),
        "dca_legs": draw(
            st.sampled_from(
                [[], [{"offset_pct": "0.3", "size_multiplier": 1}], [{"offset_pct": 1, "size_multiplier": 2}]]
            )
        ),
        "risk_pct": str(draw(st.decimals(min_value=D("0.1"), max_value=D(5), places=1))),
    }
    scale = st.sampled_from([D(10), D(100), D(1000), D(100000)])
    factor = st.decimals(min_value=D("0.5"), max_value=D(5), places=2)
    equity, free = draw(scale) * draw(factor), draw(scale) * draw(factor)
    price = AVAX.round_price(base * (1 + sign * D("0.001")))
    result = build_plan(
        sig, settings(**values), AVAX, target=DEMO, user_id=3, equity=equity, free_margin=free, price=price
    )
    return result, equity * D(values["risk_pct"]) / 100, free


@given(plans())
def test_plan_properties(case: tuple[EntryPlan | Refusal, D, D]) -> None:
    result, budget, free_margin = case
    if isinstance(result, Refusal):
        return
    orders = (*result.entries, *result.dca, *result.take_profits)
    assert result.risk <= budget
    assert result.margin <= free_margin
    for order in orders:
        AVAX.check_order(order.qty, order.price or order.trigger_price or result.price, reduce_only=order.reduce_only)
    assert len({o.client_order_id for o in orders}) == len(orders)
    assert sum(quantities(result.entries)) == result.qty
    if result.take_profits:
        assert sum(quantities(result.take_profits)) == result.qty
    sign = result.side.sign
    assert all(sign * ((o.price or o.trigger_price or D(0)) - result.stop_loss) > 0 for o in result.entries if o.price)
    assert all(o.price % AVAX.tick_size == 0 for o in orders if o.price is not None)
