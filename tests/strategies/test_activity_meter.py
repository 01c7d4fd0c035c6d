"""Activity meter: window figures on the real XRP/ETH trade tape, checked by hand and by brute force; drops."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pydantic
import pytest

from elcaro.marketdata import read_trades
from elcaro.models.enums import Side
from elcaro.models.market import PublicTrade
from elcaro.strategies.breakout.activity import ActivityMeter, ActivitySettings

TRADES = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "trades" / "XRP_ETH-trades.csv"


def settings(**changes: object) -> ActivitySettings:
    values: dict[str, object] = {
        "windows_s": (60, 300, 900),
        "index_short_s": 60,
        "index_long_s": 900,
        "drop_threshold": 0.3,
        "min_baseline_trades": 20,
    }
    return ActivitySettings.model_validate(values | changes)


@pytest.fixture(scope="module")
def tape() -> list[PublicTrade]:
    return list(read_trades(TRADES, "XRP/ETH"))


def trade(timestamp: int, side: Side = Side.BUY, qty: str = "1", number: int = 0) -> PublicTrade:
    return PublicTrade("TEST/USDT:USDT", str(number or timestamp), side, Decimal("1.5"), Decimal(qty), timestamp)


def test_window_figures_at_a_moment_of_the_real_tape_match_a_hand_count(tape: list[PublicTrade]) -> None:
    now = 1_570_756_032_913
    meter = ActivityMeter(settings())
    for item in tape:
        if item.timestamp > now:
            break
        meter.add(item)
    snapshot = meter.snapshot(now)

    # The last 60 s hold six taker buys: 24 + 117 + 22 + 11 + 141 + 141 = 456 XRP, nothing sold.
    minute = snapshot.window(60)
    assert (minute.trades, minute.trades_per_minute) == (6, 6.0)
    assert (minute.buy_qty, minute.sell_qty, minute.volume_delta) == (456.0, 0.0, 456.0)
    assert minute.buy_sell_ratio is None
    # The last 300 s add nine more: buys 95, 293, 11; sells 21, 24, 22, 32, 25, 24.
    five = snapshot.window(300)
    assert (five.trades, five.trades_per_minute) == (15, 3.0)
    assert (five.buy_qty, five.sell_qty, five.volume_delta) == (855.0, 148.0, 707.0)
    assert five.buy_sell_ratio == pytest.approx(855 / 148, rel=1e-15)
    # 42 trades in 15 minutes: 2.8 a minute; the index is 6 / 2.8.
    assert (snapshot.window(900).trades, snapshot.window(900).trades_per_minute) == (42, 2.8)
    assert snapshot.index == pytest.approx(6 / 2.8, rel=1e-15)
    assert all(window.complete for window in snapshot.windows)  # watched since 4021 s before
    assert not meter.dropped(now)


def test_every_window_matches_a_brute_force_count_across_the_whole_tape(tape: list[PublicTrade]) -> None:
    meter = ActivityMeter(settings(windows_s=(30, 60, 300, 900, 3600), index_short_s=30, index_long_s=3600))
    checked = 0
    for position, item in enumerate(tape):
        meter.add(item)
        now = item.timestamp + 7_000
        # Only where no later trade is due by ``now``, so the meter has seen every trade up to it.
        if position % 97 or (position + 1 < len(tape) and tape[position + 1].timestamp <= now):
            continue
        snapshot = meter.snapshot(now)
        for window in snapshot.windows:
            inside = [t for t in tape[: position + 1] if t.timestamp > now - window.seconds * 1000]
            buy = sum((t.qty for t in inside if t.side is Side.BUY), Decimal(0))
            sell = sum((t.qty for t in inside if t.side is Side.SELL), Decimal(0))
            assert window.trades == len(inside)
            assert window.trades_per_minute == len(inside) * 60 / window.seconds
            assert (window.buy_qty, window.sell_qty) == (float(buy), float(sell))
            assert window.volume_delta == float(buy - sell)
        checked += 1
    assert checked >= 40


def steady(meter: ActivityMeter, start: int, end: int, every_ms: int) -> int:
    """Trades every ``every_ms`` from ``start`` to before ``end``, alternating sides; returns the last time."""
    timestamp = start
    while timestamp < end:
        meter.add(trade(timestamp, Side.BUY if timestamp // every_ms % 2 else Side.SELL))
        timestamp += every_ms
    return timestamp - every_ms


def test_a_sharp_drop_after_a_steady_market_is_reported() -> None:
    meter = ActivityMeter(settings(), since=0)
    last = steady(meter, 0, 960_000, 6_000)  # 10 trades a minute for 16 minutes
    assert meter.index(last) == pytest.approx(1.0)
    assert not meter.dropped(last)
    # 50 s of silence: the last minute holds 2 trades against ~143 in the 15-minute baseline.
    quiet = last + 50_000
    index = meter.index(quiet)
    assert index is not None and index < 0.3
    assert meter.dropped(quiet)
    # Trading picks up again: no longer a drop.
    steady(meter, quiet, quiet + 60_000, 6_000)
    assert not meter.dropped(quiet + 60_000 - 6_000)


def test_a_slowdown_above_the_threshold_is_not_a_drop() -> None:
    meter = ActivityMeter(settings(), since=0)
    last = steady(meter, 0, 900_000, 6_000)  # 10 a minute for 15 minutes
    last = steady(meter, last + 12_000, 960_000, 12_000)  # then 5 a minute for one
    index = meter.index(last)
    assert index is not None and 0.3 < index < 1.0
    assert not meter.dropped(last)


def test_a_quiet_market_going_silent_is_not_a_drop() -> None:
    meter = ActivityMeter(settings(min_baseline_trades=20), since=0)
    steady(meter, 0, 900_000, 60_000)  # one trade a minute: 15 in the baseline, fewer than 20
    assert meter.index(960_000) == 0.0
    assert not meter.dropped(960_000)


def test_no_index_before_the_long_window_was_watched_whole() -> None:
    meter = ActivityMeter(settings())  # since = the first trade
    steady(meter, 1_000_000, 1_600_000, 1_000)
    assert meter.index(1_600_000) is None
    assert not meter.dropped(1_850_000)  # silent, but only 850 s watched
    snapshot = meter.snapshot(1_850_000)
    assert [window.complete for window in snapshot.windows] == [True, True, False]
    assert meter.index(1_900_000) == 0.0 and meter.dropped(1_900_000)  # 900 s watched, 600 trades, none lately


def test_window_bounds_are_half_open() -> None:
    meter = ActivityMeter(settings(), since=0)
    meter.add(trade(1_000, qty="2"))
    meter.add(trade(1_001, Side.SELL, qty="3"))
    at = meter.snapshot(61_000).window(60)  # the trade at exactly now − 60 s has left
    assert (at.trades, at.buy_qty, at.sell_qty, at.volume_delta) == (1, 0.0, 3.0, -3.0)
    assert at.buy_sell_ratio == 0.0


def test_late_trades_are_refused_and_counted() -> None:
    meter = ActivityMeter(settings(), since=0)
    meter.add(trade(5_000))
    meter.add(trade(5_000, number=2))  # same millisecond: fine
    meter.add(trade(4_999))
    assert meter.late_trades == 1
    assert meter.snapshot(5_000).window(60).trades == 2


def test_running_sums_stay_exact_through_many_windows() -> None:
    meter = ActivityMeter(settings(windows_s=(1, 60), index_short_s=1, index_long_s=60), since=0)
    for step in range(20_000):
        meter.add(trade(step * 10, Side.BUY if step % 3 else Side.SELL, qty="0.1"))
    quiet = meter.snapshot(200_000 + 61_000)
    assert all((w.trades, w.buy_qty, w.sell_qty) == (0, 0.0, 0.0) for w in quiet.windows)
    assert quiet.index is None  # no trades in the baseline: nothing to compare with


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"windows_s": (300, 60)}, "windows_s", "strictly increasing"),
        ({"windows_s": (0, 60)}, "windows_s", "1…86400"),
        ({"index_short_s": 30}, "index_short_s", "one of windows_s"),
        ({"index_long_s": 60}, "index_long_s", "longer than index_short_s"),
        ({"drop_threshold": 1.0}, "drop_threshold", "less than 1"),
        ({"min_baseline_trades": 0}, "min_baseline_trades", "greater than or equal to 1"),
        ({"window": 60}, "window", "Extra inputs"),
    ],
)
def test_invalid_settings_name_the_field(changes: dict[str, object], field: str, message: str) -> None:
    with pytest.raises(pydantic.ValidationError) as caught:
        settings(**changes)
    error = caught.value.errors()[0]
    assert error["loc"] == (field,)
    assert message in error["msg"]
