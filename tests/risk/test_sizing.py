from decimal import Decimal as D

import pytest
from hypothesis import given
from hypothesis import strategies as st

from elcaro.models import Instrument
from elcaro.models.errors import ValidationError
from elcaro.risk import Sized, SizeLimit, SizeRefused, SizingCode, size_position, smallest_order

BTC = Instrument(
    symbol="BTC/USDT:USDT",
    base="BTC",
    quote="USDT",
    settle="USDT",
    tick_size=D("0.1"),
    qty_step=D("0.001"),
    min_qty=D("0.001"),
    min_notional=D("5"),
    max_qty=D("100"),
    max_leverage=D("100"),
)


def size(**overrides: object) -> Sized | SizeRefused:
    args: dict[str, object] = {
        "equity": D(1000),
        "free_margin": D(1000),
        "risk_pct": D(1),
        "entry_price": D(50000),
        "stop_price": D(49000),
        "leverage": D(10),
        "instrument": BTC,
    }
    args.update(overrides)
    return size_position(**args)  # type: ignore[arg-type]


def test_risk_sets_the_size() -> None:
    # 1% of 1000 = 10 USDT at risk; the stop is 1000 away, so 0.01 BTC.
    result = size()
    assert result == Sized(
        qty=D("0.010"),
        risk=D("10"),
        risk_budget=D("10"),
        notional=D("500"),
        notional_cap=D("10000"),
        margin=D("50"),
        limited_by=SizeLimit.RISK,
    )


def test_a_short_sizes_the_same_way() -> None:
    result = size(stop_price=D(51000))
    assert isinstance(result, Sized)
    assert result.qty == D("0.010")


def test_rounds_down_to_the_step() -> None:
    # 10 / 700 = 0.01428… → 0.014, never 0.015 (that would risk 10.50).
    result = size(stop_price=D(49300))
    assert isinstance(result, Sized)
    assert result.qty == D("0.014")
    assert result.risk == D("9.8")


def test_free_margin_times_leverage_caps_the_size() -> None:
    # Risk allows 0.01 BTC (500 USDT), but 20 USDT × 5 = 100 USDT of notional only: 0.002 BTC.
    result = size(free_margin=D(20), leverage=D(5))
    assert isinstance(result, Sized)
    assert (result.qty, result.limited_by, result.notional_cap) == (D("0.002"), SizeLimit.MARGIN, D(100))
    assert result.margin == D(20)


def test_a_maximum_notional_caps_the_size() -> None:
    result = size(max_notional=D(260))
    assert isinstance(result, Sized)
    assert (result.qty, result.limited_by) == (D("0.005"), SizeLimit.MAX_NOTIONAL)


def test_the_venue_maximum_quantity_caps_the_size() -> None:
    result = size(equity=D(100_000_000), free_margin=D(100_000_000))
    assert isinstance(result, Sized)
    assert (result.qty, result.limited_by) == (D(100), SizeLimit.MAX_QTY)


def test_contract_size_counts() -> None:
    # One contract is 0.01 BTC: 10 USDT ÷ (1000 × 0.01) = 1 contract.
    contracts = Instrument("BTC/USD:BTC", "BTC", "USD", "BTC", D("0.5"), D(1), D(1), contract_size=D("0.01"))
    result = size(instrument=contracts)
    assert isinstance(result, Sized)
    assert result.qty == D(1)
    assert result.notional == D(500)


def test_below_the_minimum_quantity_is_refused_with_what_it_would_take() -> None:
    result = size(equity=D(40))
    assert isinstance(result, SizeRefused)
    assert result.code is SizingCode.BELOW_MIN_QTY
    assert result.limited_by is SizeLimit.RISK
    assert result.reason == (
        "BTC/USDT:USDT takes at least 0.001 per order: risking 0.40 USDT (1% of equity) with the stop 2.00% away "
        "allows 0.0004; the smallest order would risk 2.50% of equity"
    )


def test_below_the_minimum_order_value_is_refused() -> None:
    # 0.001 BTC at 3000 is 3 USDT: the 5 USDT minimum needs 0.002.
    cheap = size(entry_price=D(3000), stop_price=D(2000), equity=D(150))
    assert isinstance(cheap, SizeRefused)
    assert cheap.code is SizingCode.BELOW_MIN_NOTIONAL
    assert cheap.reason.startswith("BTC/USDT:USDT takes orders worth at least 5 USDT: risking 1.50 USDT")


def test_margin_refusal_names_the_margin() -> None:
    result = size(free_margin=D(4), leverage=D(1))
    assert isinstance(result, SizeRefused)
    assert result.limited_by is SizeLimit.MARGIN
    assert "free margin 4.00 USDT × leverage 1 allows 0.00008; the smallest order is worth 50.00 USDT" in result.reason


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"equity": D(0)}, SizingCode.NO_EQUITY),
        ({"free_margin": D(-1)}, SizingCode.NO_FREE_MARGIN),
        ({"stop_price": D(50000)}, SizingCode.NO_STOP_DISTANCE),
    ],
)
def test_unusable_accounts_and_stops_are_refused(overrides: dict[str, object], code: SizingCode) -> None:
    result = size(**overrides)
    assert isinstance(result, SizeRefused)
    assert result.code is code


@pytest.mark.parametrize("overrides", [{"entry_price": D(0)}, {"risk_pct": D(0)}, {"leverage": D("0.5")}])
def test_impossible_inputs_are_programming_errors(overrides: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        size(**overrides)


def test_smallest_order_meets_both_minimums_on_the_grid() -> None:
    assert smallest_order(BTC, D(50000)) == D("0.001")
    assert smallest_order(BTC, D(3000)) == D("0.002")
    odd = Instrument("X/USDT:USDT", "X", "USDT", "USDT", D("0.01"), D("0.5"), D("0.7"))
    assert smallest_order(odd, D(1)) == D("1.0")


@st.composite
def instruments(draw: st.DrawFn) -> Instrument:
    step = draw(st.sampled_from([D("0.001"), D("0.01"), D("0.1"), D(1), D(5), D("0.00001")]))
    min_qty = step * draw(st.integers(0, 50)) + draw(st.sampled_from([D(0), step / 2]))
    return Instrument(
        symbol="X/USDT:USDT",
        base="X",
        quote="USDT",
        settle="USDT",
        tick_size=D("0.0001"),
        qty_step=step,
        min_qty=min_qty,
        min_notional=draw(st.sampled_from([D(0), D(1), D(5), D(100)])),
        max_qty=draw(st.none() | st.decimals(1, 100000, places=0).map(lambda q: q * step)),
        contract_size=draw(st.sampled_from([D(1), D("0.01"), D(10)])),
    )


amounts = st.decimals(min_value=D("0.01"), max_value=D(1_000_000), places=4)
prices = st.decimals(min_value=D("0.0001"), max_value=D(100_000), places=4)


@given(
    instrument=instruments(),
    equity=amounts,
    free_margin=amounts,
    risk_pct=st.decimals(min_value=D("0.01"), max_value=D(10), places=2),
    entry=prices,
    stop_ratio=st.decimals(min_value=D("0.001"), max_value=D("1.9"), places=3).filter(lambda r: r != 1),
    leverage=st.integers(1, 125).map(D),
    max_notional=st.none() | amounts,
)
def test_size_properties(
    instrument: Instrument,
    equity: D,
    free_margin: D,
    risk_pct: D,
    entry: D,
    stop_ratio: D,
    leverage: D,
    max_notional: D | None,
) -> None:
    stop = entry * stop_ratio
    result = size_position(
        equity=equity,
        free_margin=free_margin,
        risk_pct=risk_pct,
        entry_price=entry,
        stop_price=stop,
        leverage=leverage,
        instrument=instrument,
        max_notional=max_notional,
    )
    cs = instrument.contract_size
    budget = equity * risk_pct / 100
    cap = leverage * free_margin if max_notional is None else min(leverage * free_margin, max_notional)

    def fits(qty: D) -> bool:
        in_venue_max = instrument.max_qty is None or qty <= instrument.max_qty
        return qty * abs(entry - stop) * cs <= budget and qty * entry * cs <= cap and in_venue_max

    smallest = smallest_order(instrument, entry)
    if isinstance(result, Sized):
        assert fits(result.qty)
        assert result.qty % instrument.qty_step == 0
        assert result.qty >= instrument.min_qty
        assert result.qty * entry * cs >= instrument.min_notional
        assert not fits(result.qty + instrument.qty_step)  # nothing left on the table
        assert result.risk <= result.risk_budget
    else:
        assert result.code in (SizingCode.BELOW_MIN_QTY, SizingCode.BELOW_MIN_NOTIONAL)
        assert not fits(smallest)  # refused only when the true minimum cannot be met
