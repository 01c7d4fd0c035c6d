from decimal import Decimal as D

from hypothesis import given
from hypothesis import strategies as st

from elcaro.trading.legs import leg_weights, merge_small, split
from elcaro.trading.settings import DistributionKind


def test_weights_per_distribution() -> None:
    assert leg_weights(DistributionKind.EQUAL, 3) == (D(1), D(1), D(1))
    assert leg_weights(DistributionKind.FRONT_LOADED, 3) == (D(3), D(2), D(1))
    assert leg_weights(DistributionKind.BACK_LOADED, 3) == (D(1), D(2), D(3))
    assert leg_weights(DistributionKind.SIGNAL, 2, (D("0.4"), D("0.6"))) == (D("0.4"), D("0.6"))
    assert leg_weights(DistributionKind.SIGNAL, 3) == (D(1), D(1), D(1))
    assert leg_weights((D(50), D(30), D(20)), 2) == (D(50), D(30))
    assert leg_weights((D(50),), 3) == (D(50),)


def test_split_gives_the_remainder_to_the_chosen_leg() -> None:
    assert split(D("1.000"), [D(1)] * 3, D("0.001")) == [D("0.333"), D("0.333"), D("0.334")]
    assert split(D("1.000"), [D(1)] * 3, D("0.001"), remainder_to=0) == [D("0.334"), D("0.333"), D("0.333")]
    assert split(D(0), [D(1), D(2)], D("0.1")) == [D(0), D(0)]


def test_merge_folds_toward_the_given_direction() -> None:
    merged = merge_small([D(1), D(5), D(10)], [D(3)] * 3)
    assert merged.qtys == (D(0), D(6), D(10)) and merged.into == {0: 1}
    chain = merge_small([D(10), D(1), D(1)], [D(3)] * 3)  # the last small leg has nothing later: it goes back
    assert chain.qtys == (D(12), D(0), D(0)) and chain.into == {1: 0, 2: 0}
    alone = merge_small([D(1), D(1)], [D(3), D(3)])
    assert alone.qtys == (D(0), D(2))  # one leg left, still small: the caller decides


steps = st.sampled_from([D("0.001"), D("0.1"), D(1), D(5)])


@given(
    st.integers(0, 100_000),
    st.lists(st.decimals(min_value=D("0.01"), max_value=D(100), places=2), min_size=1, max_size=8),
    steps,
    st.data(),
)
def test_split_and_merge_keep_the_total(units: int, weights: list[D], step: D, data: st.DataObject) -> None:
    total = step * units
    remainder_to = data.draw(st.integers(0, len(weights) - 1))
    parts = split(total, weights, step, remainder_to)
    assert sum(parts) == total
    assert all(part % step == 0 and part >= 0 for part in parts)
    whole = sum(weights)
    for index, (part, weight) in enumerate(zip(parts, weights, strict=True)):
        if index != remainder_to:
            assert abs(part - total * weight / whole) < step
    minimums = data.draw(st.lists(st.integers(0, 50).map(lambda n: step * n), min_size=len(parts), max_size=len(parts)))
    merged = merge_small(parts, minimums)
    assert sum(merged.qtys) == total
    live = [i for i in range(len(parts)) if i not in merged.into]
    assert live
    assert len(live) == 1 or all(merged.qtys[i] >= minimums[i] for i in live)
    assert all(merged.qtys[i] == 0 and merged.into[i] in live for i in merged.into)
