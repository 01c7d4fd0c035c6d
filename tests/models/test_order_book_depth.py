"""Depth of an order book within a band around mid: quantity and notional per side, bounds included."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from hypothesis import given
from hypothesis import strategies as st

from elcaro.models.errors import ValidationError
from elcaro.models.market import BookDepth, BookLevel, OrderBook


def book(bids: list[tuple[str, str]], asks: list[tuple[str, str]]) -> OrderBook:
    return OrderBook(
        "BTC/USDT:USDT",
        tuple(BookLevel(D(p), D(q)) for p, q in bids),
        tuple(BookLevel(D(p), D(q)) for p, q in asks),
        0,
    )


def test_levels_within_the_band_count_and_the_bounds_are_inside() -> None:
    # mid 100; ±1 % is 99 … 101: 99 and 101 are on the bounds, 98.9 and 101.1 beyond.
    depth = book([("99.5", "2"), ("99", "1"), ("98.9", "50")], [("100.5", "3"), ("101", "1"), ("101.1", "50")])
    assert depth.depth_within(D("0.01")) == BookDepth(
        bid_qty=D("3"), ask_qty=D("4"), bid_notional=D("298.0"), ask_notional=D("402.5")
    )
    assert depth.depth_within(D("0.01")).imbalance == (D("298.0") - D("402.5")) / D("700.5")


def test_a_band_of_zero_holds_nothing_and_a_negative_one_is_refused() -> None:
    two_sided = book([("99", "1")], [("101", "1")])
    assert two_sided.depth_within(D(0)) == BookDepth(D(0), D(0), D(0), D(0))
    assert two_sided.depth_within(D(0)).imbalance is None
    with pytest.raises(ValidationError) as caught:
        two_sided.depth_within(D("-0.01"))
    assert caught.value.field == "fraction"


def test_a_one_sided_book_has_no_mid_and_no_depth() -> None:
    for one_sided in (book([("99", "5")], []), book([], [("101", "5")]), book([], [])):
        assert one_sided.depth_within(D("0.5")) == BookDepth(D(0), D(0), D(0), D(0))


_PRICE_STEPS = st.lists(st.integers(min_value=1, max_value=400), min_size=0, max_size=25)
_QTY = st.decimals(min_value=D("0.001"), max_value=D("1000"), places=3)


@given(
    bid_steps=_PRICE_STEPS,
    ask_steps=_PRICE_STEPS,
    quantities=st.lists(_QTY, min_size=50, max_size=50),
    basis_points=st.integers(min_value=0, max_value=300),
)
def test_the_walk_gives_what_filtering_every_level_gives(
    bid_steps: list[int], ask_steps: list[int], quantities: list[D], basis_points: int
) -> None:
    # Levels a cent apart or more, best first, around 1000; the band is 0 … 3 % of mid.
    bids = [D(100_000 - sum(bid_steps[: i + 1])) / 100 for i in range(len(bid_steps))]
    asks = [D(100_000 + sum(ask_steps[: i + 1])) / 100 for i in range(len(ask_steps))]
    sides = book(
        [(str(p), str(q)) for p, q in zip(bids, quantities, strict=False)],
        [(str(p), str(q)) for p, q in zip(asks, quantities[25:], strict=False)],
    )
    fraction = D(basis_points) / 10_000
    depth = sides.depth_within(fraction)
    mid = sides.mid
    if mid is None:
        assert depth == BookDepth(D(0), D(0), D(0), D(0))
        return
    inside_bids = [level for level in sides.bids if level.price >= mid * (1 - fraction)]
    inside_asks = [level for level in sides.asks if level.price <= mid * (1 + fraction)]
    assert depth == BookDepth(
        sum((level.qty for level in inside_bids), D(0)),
        sum((level.qty for level in inside_asks), D(0)),
        sum((level.price * level.qty for level in inside_bids), D(0)),
        sum((level.price * level.qty for level in inside_asks), D(0)),
    )
    wider = sides.depth_within(fraction + D("0.001"))
    assert wider.bid_notional >= depth.bid_notional and wider.ask_notional >= depth.ask_notional
