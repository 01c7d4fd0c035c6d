from datetime import UTC, datetime

import ccxt  # type: ignore[import-untyped]
import pytest
from hypothesis import given
from hypothesis import strategies as st

from elcaro.core.clock import from_datetime
from elcaro.marketdata import TIMEFRAMES, Timeframe, floor_timestamp, timeframe_ms
from elcaro.models.errors import ValidationError


def utc(moment: str) -> int:
    return from_datetime(datetime.fromisoformat(moment).replace(tzinfo=UTC))


@pytest.mark.parametrize(
    ("name", "ms"),
    [("1m", 60_000), ("3m", 180_000), ("5m", 300_000), ("15m", 900_000), ("30m", 1_800_000), ("1h", 3_600_000),
     ("2h", 7_200_000), ("4h", 14_400_000), ("6h", 21_600_000), ("12h", 43_200_000), ("1d", 86_400_000),
     ("1w", 604_800_000)],
)  # fmt: skip
def test_every_supported_timeframe_parses_to_its_length(name: str, ms: int) -> None:
    assert timeframe_ms(name) == ms
    assert Timeframe.parse(f" {name} ") == Timeframe(name, ms)
    assert str(Timeframe.parse(name)) == name


def test_the_supported_list_is_exactly_the_brief_shortest_first() -> None:
    assert TIMEFRAMES == ("1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "6h", "12h", "1d", "1w")


@pytest.mark.parametrize("bad", ["1M", "7m", "60s", "", "1 h", "H1", "1D"])
def test_an_unknown_timeframe_is_refused_with_the_allowed_list(bad: str) -> None:
    with pytest.raises(ValidationError, match="allowed: 1m, 3m, 5m, 15m, 30m, 1h, 2h, 4h, 6h, 12h, 1d, 1w") as error:
        Timeframe.parse(bad)
    assert error.value.field == "timeframe"


def test_a_timeframe_cannot_be_built_with_a_wrong_length() -> None:
    with pytest.raises(ValidationError, match="not 60000 ms"):
        Timeframe("5m", 60_000)


def test_floor_to_minutes_hours_and_days_is_utc_and_epoch_aligned() -> None:
    moment = utc("2023-01-02 16:47:31")
    assert floor_timestamp(moment, "5m") == utc("2023-01-02 16:45")
    assert floor_timestamp(moment, "15m") == utc("2023-01-02 16:45")
    assert floor_timestamp(moment, "4h") == utc("2023-01-02 16:00")
    assert floor_timestamp(moment, "12h") == utc("2023-01-02 12:00")
    assert floor_timestamp(moment, "1d") == utc("2023-01-02")
    assert floor_timestamp(utc("2023-01-02 16:45"), "5m") == utc("2023-01-02 16:45")


def test_weeks_start_on_monday_at_midnight_utc_as_ccxt_and_bybit_do() -> None:
    week = Timeframe.parse("1w")
    monday = utc("2023-01-02")  # 2 January 2023 was a Monday
    assert week.floor(monday) == monday
    assert week.floor(utc("2023-01-08 23:59")) == monday  # the Sunday after
    assert week.floor(utc("2023-01-09")) == utc("2023-01-09")
    assert week.floor(utc("1970-01-01")) == utc("1969-12-29")  # the epoch was a Thursday
    assert week.is_boundary(monday)
    assert not week.is_boundary(utc("2023-01-05"))


def test_containment_decides_what_can_be_resampled_into_what() -> None:
    five, fifteen, hour, three = (Timeframe.parse(n) for n in ("5m", "15m", "1h", "3m"))
    assert hour.contains(five)
    assert hour.contains(fifteen)
    assert fifteen.contains(five)
    assert not five.contains(three)
    assert not fifteen.contains(hour)
    assert Timeframe.parse("1w").contains(Timeframe.parse("1d"))


@given(st.integers(min_value=-(10**13), max_value=10**13), st.sampled_from(TIMEFRAMES))
def test_floor_gives_the_boundary_at_or_before(timestamp: int, name: str) -> None:
    timeframe = Timeframe.parse(name)
    floored = timeframe.floor(timestamp)
    assert floored <= timestamp < floored + timeframe.ms
    assert timeframe.is_boundary(floored)
    assert timeframe.floor(floored) == floored


@given(st.integers(min_value=0, max_value=4 * 10**12), st.sampled_from(TIMEFRAMES))
def test_floor_agrees_with_ccxt_round_timeframe(timestamp: int, name: str) -> None:
    assert floor_timestamp(timestamp, name) == ccxt.Exchange.round_timeframe(name, timestamp)
