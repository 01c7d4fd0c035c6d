from decimal import Decimal
from itertools import groupby

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from marketdata_builders import BTC_PAIRS, FIVE_MINUTES, candle, flat, real, series

from elcaro.marketdata import (
    CandleArrays,
    IncompleteBucket,
    Resampled,
    Timeframe,
    resample,
    resample_arrays,
)
from elcaro.models.errors import ValidationError
from elcaro.models.market import Candle

M5 = FIVE_MINUTES
HOUR = 12 * M5


def test_a_bucket_takes_first_open_highest_high_lowest_low_last_close_and_summed_volume() -> None:
    base = [
        candle(0, "10 12 9 11", "1.5"),
        candle(M5, "11 15 10 14", "2.25"),
        candle(2 * M5, "14 14 8 9", "0"),
        candle(3 * M5, "9 9.5 8.5 9.25", "4"),
        candle(4 * M5, "9.25 9.25 9.25 9.25", "1"),
        candle(5 * M5, "9.25 10 9 9.5", "1"),
    ]
    result = resample(base, "5m", "15m")
    assert result == Resampled(
        Timeframe.parse("15m"),
        (candle(0, "10 15 8 9", "3.75"), candle(3 * M5, "9 10 8.5 9.5", "6")),
        (),
    )


def test_the_unfinished_last_bucket_is_dropped_unless_asked_for() -> None:
    base = [flat(i * M5) for i in range(14)]  # one full hour and two candles of the next
    assert [c.timestamp for c in resample(base, "5m", "1h").candles] == [0]
    kept = resample(base, "5m", "1h", include_partial=True)
    assert [c.timestamp for c in kept.candles] == [0, HOUR]
    assert kept.incomplete == (IncompleteBucket(HOUR, 2, 12),)


def test_buckets_missing_base_candles_are_produced_and_reported() -> None:
    base = [flat(i * M5) for i in range(3, 24) if i not in (15, 16, 17)]  # starts mid-hour; a gap in the second hour
    result = resample(base, "5m", "1h")
    assert [c.timestamp for c in result.candles] == [0, HOUR]
    assert result.incomplete == (IncompleteBucket(0, 9, 12), IncompleteBucket(HOUR, 9, 12))
    assert [bucket.missing for bucket in result.incomplete] == [3, 3]


def test_volume_sums_are_exact_beyond_the_default_decimal_precision() -> None:
    base = [flat(0, volume="1e20"), flat(M5, volume="0.00000001"), flat(2 * M5, volume="0")]
    assert resample(base, "5m", "15m").candles[0].volume == Decimal("100000000000000000000.00000001")


def test_days_resample_into_weeks_that_start_on_monday() -> None:
    monday = 1672617600000  # 2023-01-02 00:00 UTC
    days = [flat(monday + i * 86_400_000) for i in range(-1, 8)]  # Sunday before, a full week, the next Monday
    result = resample(days, "1d", "1w", include_partial=True)
    assert [c.timestamp for c in result.candles] == [monday - 7 * 86_400_000, monday, monday + 7 * 86_400_000]
    assert [(b.timestamp, b.present) for b in result.incomplete] == [
        (monday - 7 * 86_400_000, 1),
        (monday + 7 * 86_400_000, 1),
    ]


def test_nothing_in_nothing_out_and_a_timeframe_into_itself_is_the_same_series() -> None:
    assert resample([], "5m", "1h") == Resampled(Timeframe.parse("1h"), (), ())
    base = [flat(i * M5, str(100 + i)) for i in range(5)]
    assert resample(base, "5m", "5m").candles == tuple(base)


@pytest.mark.parametrize(
    ("timestamps", "exact", "vectorised"),
    [
        ([0, M5, M5], "candle 300000 follows 300000: input", "candle 300000 at index 2 follows 300000: input"),
        ([0, 2 * M5, M5], "candle 300000 follows 600000", "candle 300000 at index 2 follows 600000"),
        ([0, 60_000], "candle 60000 is not on a 5m boundary", "candle 60000 at index 1 is not on a 5m boundary"),
    ],
)
def test_a_series_that_is_not_strictly_increasing_on_boundaries_is_refused(
    timestamps: list[int], exact: str, vectorised: str
) -> None:
    base = [flat(t) for t in timestamps]
    with pytest.raises(ValidationError, match=exact):
        resample(base, "5m", "1h")
    with pytest.raises(ValidationError, match=vectorised):
        resample_arrays(CandleArrays.from_candles(base), "5m", "1h")


@pytest.mark.parametrize(("base", "target"), [("15m", "5m"), ("3m", "5m"), ("1h", "3m")])
def test_a_timeframe_that_does_not_tile_the_target_is_refused(base: str, target: str) -> None:
    with pytest.raises(ValidationError, match=f"{base} candles cannot be resampled into {target}"):
        resample([], base, target)
    with pytest.raises(ValidationError, match="cannot be resampled"):
        resample_arrays(CandleArrays.from_candles([]), base, target)


def test_candle_arrays_refuse_columns_of_the_wrong_type_or_length() -> None:
    floats = np.zeros(3)
    with pytest.raises(ValidationError, match="timestamps must be a 1-D int64 array"):
        CandleArrays(floats, floats, floats, floats, floats, floats)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="volume: must be a float64 array of 3 values"):
        CandleArrays(np.zeros(3, np.int64), floats, floats, floats, floats, np.zeros(2))


# Properties, on random series with random gaps.

# Both modes: without partial buckets some base candles are left out, with them none are.
partial = st.booleans()


@given(series(), partial)
def test_volume_is_conserved_and_extremes_contain_every_constituent(base: list[Candle], include: bool) -> None:
    result = resample(base, "5m", "1h", include_partial=include)
    for bucket in result.candles:
        members = [c for c in base if Timeframe.parse("1h").floor(c.timestamp) == bucket.timestamp]
        assert bucket.volume == sum((c.volume for c in members), Decimal(0))
        assert all(bucket.high >= c.high and bucket.low <= c.low for c in members)
        assert bucket.high == max(c.high for c in members)
        assert bucket.low == min(c.low for c in members)
        assert (bucket.open, bucket.close) == (members[0].open, members[-1].close)
    if include:
        assert sum((c.volume for c in result.candles), Decimal(0)) == sum((c.volume for c in base), Decimal(0))
        assert sum(12 - b.missing for b in result.incomplete) + 12 * (
            len(result.candles) - len(result.incomplete)
        ) == len(base)


@given(series(), partial)
def test_resampling_in_steps_equals_resampling_at_once(base: list[Candle], include: bool) -> None:
    fifteen = resample(base, "5m", "15m", include_partial=include).candles
    assert (
        resample(fifteen, "15m", "1h", include_partial=include).candles
        == resample(base, "5m", "1h", include_partial=include).candles
    )


@settings(max_examples=200)
@given(series(max_size=300), st.sampled_from(["15m", "1h", "4h"]), partial)
def test_the_numpy_path_agrees_with_the_exact_path(base: list[Candle], target: str, include: bool) -> None:
    assert_paths_agree(base, "5m", target, include_partial=include)


def assert_paths_agree(base: list[Candle], timeframe: str, target: str, *, include_partial: bool = False) -> None:
    exact = resample(base, timeframe, target, include_partial=include_partial)
    fast = resample_arrays(CandleArrays.from_candles(base), timeframe, target, include_partial=include_partial)
    expected = CandleArrays.from_candles(exact.candles)
    for name in ("timestamp", "open", "high", "low", "close"):  # chosen, not computed: identical floats
        np.testing.assert_array_equal(getattr(fast.candles, name), getattr(expected, name), err_msg=name)
    np.testing.assert_allclose(fast.candles.volume, expected.volume, rtol=1e-12, atol=0)
    reported = {bucket.timestamp: bucket.present for bucket in exact.incomplete}
    assert (
        dict(zip(fast.candles.timestamp[fast.incomplete].tolist(), fast.counts[fast.incomplete].tolist(), strict=True))
        == reported
    )


# The real files.


def reference(base: list[Candle], target: Timeframe) -> list[Candle]:
    """A deliberately naive resampler to check against: group, then aggregate each group."""
    out = []
    for start, group in groupby(base, key=lambda c: target.floor(c.timestamp)):
        members = list(group)
        high, low = max(c.high for c in members), min(c.low for c in members)
        volume = sum((c.volume for c in members), Decimal(0))
        out.append(Candle(start, members[0].open, high, low, members[-1].close, volume))
    return out


@pytest.mark.parametrize("target", ["15m", "1h", "4h", "1d"])
def test_btc_usdt_resamples_like_the_naive_reference_on_both_paths(target: str) -> None:
    base = list(real("BTC_USDT-5m.csv"))
    everything = resample(base, "5m", target, include_partial=True)
    assert list(everything.candles) == reference(base, Timeframe.parse(target))
    assert_paths_agree(base, "5m", target)
    assert_paths_agree(base, "5m", target, include_partial=True)


def test_btc_usdt_hours_start_mid_hour_and_end_unfinished() -> None:
    """The file runs 2023-01-02 16:45 → 2023-02-09 21:15 without a gap."""
    result = resample(real("BTC_USDT-5m.csv"), "5m", "1h")
    assert len(result.candles) == 917
    assert result.incomplete == (IncompleteBucket(1672675200000, 3, 12),)  # 16:00, from 16:45, 16:50, 16:55
    assert result.candles[-1].timestamp == 1675972800000  # 20:00; 21:00 holds 21:00–21:15 only, so it is dropped


@pytest.mark.parametrize("pair", BTC_PAIRS)
def test_gappy_real_pairs_agree_on_both_paths(pair: str) -> None:
    base = list(real(f"{pair}_BTC-5m.csv"))
    for target in ("15m", "1h", "4h"):
        assert_paths_agree(base, "5m", target, include_partial=True)


def test_the_one_minute_file_with_538_gaps_agrees_on_both_paths() -> None:
    base = list(real("UNITTEST_BTC-1m.csv"))
    for target in ("5m", "15m", "1h"):
        assert_paths_agree(base, "1m", target)
