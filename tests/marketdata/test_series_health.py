import random

import pytest
from hypothesis import given
from hypothesis import strategies as st
from marketdata_builders import BTC_PAIRS, FIVE_MINUTES, flat, real, series

from elcaro.marketdata import Misplaced, Run, SeriesHealth, Timeframe, check_health
from elcaro.models.errors import ValidationError
from elcaro.models.market import Candle

M5 = FIVE_MINUTES


# What the real files hold, counted by this detector and checked by hand against the raw timestamps.
# "gaps" are runs of missing candles, "missing" the candles in them, within each file's own first→last span.
@pytest.mark.parametrize(
    ("name", "timeframe", "rows", "missing", "gaps"),
    [
        ("ADA_BTC-5m.csv", "5m", 5720, 40, 5),
        ("DASH_BTC-5m.csv", "5m", 5758, 2, 2),
        ("ETC_BTC-5m.csv", "5m", 5759, 0, 0),
        ("ETH_BTC-5m.csv", "5m", 5760, 0, 0),
        ("LTC_BTC-5m.csv", "5m", 5760, 0, 0),
        ("NXT_BTC-5m.csv", "5m", 5760, 0, 0),
        ("TRX_BTC-5m.csv", "5m", 5754, 6, 6),
        ("XLM_BTC-5m.csv", "5m", 5760, 0, 0),
        ("XMR_BTC-5m.csv", "5m", 5758, 2, 2),
        ("ZEC_BTC-5m.csv", "5m", 5757, 2, 2),
        ("BTC_USDT-5m.csv", "5m", 10999, 0, 0),
        ("XRP_USDT_USDT-5m.csv", "5m", 1999, 0, 0),
        ("XRP_USDT_USDT-1h.csv", "1h", 100, 0, 0),
        ("UNITTEST_BTC-1m.csv", "1m", 13681, 717, 538),
    ],
)
def test_the_real_files_hold_what_the_detector_reports(
    name: str, timeframe: str, rows: int, missing: int, gaps: int
) -> None:
    health = check_health(real(name), timeframe)
    assert (health.rows, health.present, health.missing, len(health.gaps)) == (rows, rows, missing, gaps)
    assert health.expected == rows + missing
    assert not (health.duplicates)
    assert not (health.out_of_order)
    assert not (health.misaligned)
    assert not (health.zero_volume)
    assert health.is_healthy is (missing == 0)


def test_ada_gaps_are_listed_as_runs_with_their_first_and_last_missing_open_time() -> None:
    assert check_health(real("ADA_BTC-5m.csv"), "5m").gaps == (
        Run(1516011000000, 1516011000000, 1),
        Run(1516012200000, 1516012200000, 1),
        Run(1516014600000, 1516015500000, 4),
        Run(1516016700000, 1516016700000, 1),
        Run(1516017600000, 1516027200000, 33),  # 2018-01-15 12:00 → 14:40 UTC
    )


def test_the_one_minute_file_has_538_gaps_holding_717_candles() -> None:
    health = check_health(real("UNITTEST_BTC-1m.csv"), "1m")
    assert sorted({gap.count for gap in health.gaps}) == [1, 2, 3, 4, 5, 6, 7]
    assert health.summary() == (
        "1m: 13681/14398 candles (95.02%), 717 missing in 538 gaps, 0 duplicates, 0 out of order, 0 misaligned, "
        "0 zero-volume in 0 runs"
    )


def test_on_their_common_window_two_btc_pairs_also_miss_the_last_candle() -> None:
    """The window is 2018-01-10 04:55 → 2018-01-30 04:50 UTC (5,760 candles); ETC and ZEC stop at 04:45."""
    start, end = 1515560100000, 1517287800000
    missing = {pair: check_health(real(f"{pair}_BTC-5m.csv"), "5m", start=start, end=end) for pair in BTC_PAIRS}
    assert {pair: health.missing for pair, health in missing.items()} == {
        "ADA": 40, "DASH": 2, "ETC": 1, "ETH": 0, "LTC": 0, "NXT": 0, "TRX": 6, "XLM": 0, "XMR": 2, "ZEC": 3,
    }  # fmt: skip
    assert {health.expected for health in missing.values()} == {5760}
    assert missing["ETC"].gaps == (Run(end, end, 1),)


def test_duplicates_out_of_order_and_misaligned_rows_are_each_reported_at_their_index() -> None:
    rows = [flat(0), flat(M5), flat(M5), flat(3 * M5), flat(2 * M5), flat(60_000), flat(4 * M5), flat(0)]
    health = check_health(rows, "5m")
    assert health.duplicates == (Misplaced(2, M5, M5), Misplaced(7, 0, 4 * M5))
    assert health.out_of_order == (Misplaced(4, 2 * M5, 3 * M5),)
    assert health.misaligned == (5,)
    assert (health.rows, health.present, health.missing, health.gaps) == (8, 5, 0, ())
    assert not health.is_healthy


def test_zero_volume_runs_are_found_and_do_not_make_a_series_unhealthy() -> None:
    volumes = ["1", "0", "0", "2", "0", "1", "0", "0", "0"]
    rows = [flat(i * M5, volume=v) for i, v in enumerate(volumes) if i != 7]  # a missing candle splits the last run
    health = check_health(rows, "5m")
    assert health.zero_volume == (
        Run(M5, 2 * M5, 2),
        Run(4 * M5, 4 * M5, 1),
        Run(6 * M5, 6 * M5, 1),
        Run(8 * M5, 8 * M5, 1),
    )
    assert health.gaps == (Run(7 * M5, 7 * M5, 1),)
    assert check_health([flat(0, volume="0"), flat(M5, volume="0")], "5m").is_healthy


def test_a_window_counts_leading_and_trailing_gaps_and_leaves_out_rows_outside_it() -> None:
    rows = [flat(i * M5) for i in (0, 3, 4, 9)]
    health = check_health(rows, "5m", start=2 * M5 - 1, end=7 * M5 + 1)  # rounded inwards to 2 and 7
    assert (health.start, health.end, health.expected, health.present, health.outside) == (2 * M5, 7 * M5, 6, 2, 2)
    assert health.gaps == (Run(2 * M5, 2 * M5, 1), Run(5 * M5, 7 * M5, 3))
    assert health.coverage_pct == pytest.approx(100 * 2 / 6)


def test_an_empty_series_is_unhealthy_and_a_window_without_candles_is_refused() -> None:
    empty = check_health([], "1h")
    assert empty == SeriesHealth(Timeframe.parse("1h"), None, None, 0, 0, (), (), (), (), 0, ())
    assert (empty.expected, empty.coverage_pct, empty.is_healthy) == (0, 0.0, False)
    assert check_health([], "5m", start=0, end=M5).gaps == (Run(0, M5, 2),)
    assert check_health([flat(0)], "5m", start=10 * M5).expected == 0
    with pytest.raises(ValidationError, match="holds no 5m candle"):
        check_health([], "5m", start=M5 + 1, end=2 * M5 - 1)


@given(series(), st.randoms(use_true_random=False))
def test_missing_and_present_make_up_the_span_whatever_the_row_order(rows: list[Candle], rng: random.Random) -> None:
    health = check_health(rows, "5m")
    assert health.present + health.missing == health.expected
    assert health.is_healthy is bool(rows and health.missing == 0)
    present = {c.timestamp for c in rows}
    assert all(gap.start - M5 in present and gap.end + M5 in present for gap in health.gaps)
    shuffled = rows[:]
    rng.shuffle(shuffled)
    again = check_health(shuffled, "5m")
    assert (again.gaps, again.present, again.duplicates) == (health.gaps, health.present, ())
