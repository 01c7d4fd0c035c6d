from decimal import Decimal as D

import pytest
from hypothesis import given
from hypothesis import strategies as st

from elcaro.models import Instrument, canonical_symbol, round_to_step, to_decimal
from elcaro.models.errors import ValidationError

BTC = Instrument(
    symbol="BTC/USDT:USDT",
    base="BTC",
    quote="USDT",
    settle="USDT",
    tick_size=D("0.10"),
    qty_step=D("0.001"),
    min_qty=D("0.001"),
    min_notional=D("5"),
    max_qty=D("100"),
    max_leverage=D("100"),
)


def test_canonical_symbol() -> None:
    assert canonical_symbol("btc") == "BTC/USDT:USDT"
    assert canonical_symbol("eth", "usdt", None) == "ETH/USDT"


@pytest.mark.parametrize(
    ("price", "mode", "expected"),
    [("67250.55", "nearest", "67250.6"), ("67250.55", "down", "67250.5"), ("67250.51", "up", "67250.6")],
)
def test_round_price(price: str, mode: str, expected: str) -> None:
    assert BTC.round_price(D(price), mode) == D(expected)  # type: ignore[arg-type]


def test_round_qty_never_rounds_up() -> None:
    assert BTC.round_qty(D("0.0129999")) == D("0.012")


def test_check_order_reasons() -> None:
    BTC.check_order(D("0.001"), D("67000.0"))
    with pytest.raises(ValidationError, match=r"below the minimum 0\.001"):
        BTC.check_order(D("0.0005"), D("67000"))
    with pytest.raises(ValidationError, match="not a multiple of the step"):
        BTC.check_order(D("0.0015"), D("67000"))
    with pytest.raises(ValidationError, match="not a multiple of the tick"):
        BTC.check_order(D("0.001"), D("67000.05"))
    with pytest.raises(ValidationError, match="above the maximum"):
        BTC.check_order(D("101"), D("67000"))
    cheap = Instrument("X/USDT:USDT", "X", "USDT", "USDT", D("0.0001"), D("1"), D("1"), min_notional=D("5"))
    with pytest.raises(ValidationError, match=r"order value 2\.0000 USDT is below the minimum 5"):
        cheap.check_order(D("1"), D("2.0000"))
    cheap.check_order(D("1"), D("2.0000"), reduce_only=True)


def test_to_decimal_is_exact_and_strict() -> None:
    assert to_decimal(0.1) == D("0.1")
    assert to_decimal("1e-8") == D("0.00000001")
    for bad in ("abc", float("nan"), float("inf"), True):
        with pytest.raises(ValidationError):
            to_decimal(bad)  # type: ignore[arg-type]


steps = st.sampled_from([D("0.1"), D("0.01"), D("0.001"), D("0.5"), D("5"), D("0.0001"), D("0.00000001")])
values = st.decimals(min_value=D("0"), max_value=D("1000000"), places=10, allow_nan=False, allow_infinity=False)


@given(values, steps)
def test_rounding_lands_on_the_grid_and_stays_within_one_step(value: D, step: D) -> None:
    for mode in ("down", "up", "nearest"):
        rounded = round_to_step(value, step, mode)  # type: ignore[arg-type]
        assert rounded % step == 0
        assert abs(rounded - value) <= step
    assert round_to_step(value, step, "down") <= value <= round_to_step(value, step, "up")
