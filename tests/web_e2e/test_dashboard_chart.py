"""The live chart in headless Chromium: the paper market's candles with the trader's own entries and exits on them.

The paper market is fed a real recording (BTC/USDT 5-minute bars, summed into hours and scaled to SOL's price),
re-timed to end now, so the seeded SOL short of a week ago falls inside the chart's window.
"""

from __future__ import annotations

import re
import time
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from e2e_browser import DESKTOP, open_mini_app, shoot
from e2e_world import BTC_CANDLES, TRADER_TG, Served
from playwright.async_api import expect
from test_dashboard_browser import WAIT_MS, assert_clean

from elcaro.marketdata import read_candles, resample
from elcaro.models.market import Candle

pytestmark = pytest.mark.slow

HOUR = 3_600_000
BARS = 300


def recorded_hours(count: int, *, level: str, tick: str) -> list[Candle]:
    """``count`` real hourly bars ending with the one forming now, scaled to close at ``level`` (on ``tick``)."""
    hours = list(resample(list(read_candles(BTC_CANDLES)), "5m", "1h").candles)[-count:]
    factor = Decimal(level) / hours[-1].close
    step = Decimal(tick)
    shift = int(time.time() * 1000) // HOUR * HOUR - hours[-1].timestamp

    def scaled(price: Decimal) -> Decimal:
        return (price * factor / step).to_integral_value() * step

    return [
        replace(
            bar,
            timestamp=bar.timestamp + shift,
            open=scaled(bar.open),
            high=scaled(bar.high),
            low=scaled(bar.low),
            close=scaled(bar.close),
        )
        for bar in hours
    ]


def feed(served: Served, market: str, bars: list[Candle]) -> None:
    for bar in bars:
        served.runtime.exchange.simulator.venue.apply_candle(market, bar, "1h")


async def test_the_chart_shows_candles_and_the_traders_entries_and_exits(
    served: Served, browser: Any, screenshots: Path
) -> None:
    bars = recorded_hours(BARS + 1, level="150", tick="0.010")
    feed(served, "SOLUSDT", bars[:-1])
    tab, watched = await open_mini_app(
        browser, served, TRADER_TG, "chart?target=bybit:paper&symbol=SOLUSDT&timeframe=1h", viewport=DESKTOP
    )
    chart = tab.get_by_test_id("live-chart")
    await expect(chart).to_have_attribute("data-ready", "true", timeout=WAIT_MS)
    await expect(chart).to_have_attribute("data-candles", str(BARS))
    await expect(chart.locator("canvas").first).to_be_visible()
    # The seeded SOL short of a week ago (155 → 149, closed by hand) is in the window: its entry and its exit.
    await expect(chart).to_have_attribute("data-markers", "2", timeout=WAIT_MS)
    marks = tab.get_by_test_id("chart-marks").locator("tbody tr")
    await expect(marks).to_have_count(2)
    await expect(marks.nth(0)).to_have_attribute("data-kind", "exit")
    await expect(marks.nth(0)).to_contain_text("149")
    await expect(marks.nth(1)).to_have_attribute("data-kind", "entry")
    await expect(marks.nth(1)).to_contain_text("155")
    await shoot(tab, screenshots, "chart-desktop")

    # The next hour's bar opens on the venue: the chart draws it without being reloaded.
    feed(served, "SOLUSDT", bars[-1:])
    await expect(chart).to_have_attribute("data-candles", str(BARS + 1), timeout=WAIT_MS)
    await expect(chart).to_have_attribute("data-last", str(bars[-1].timestamp))

    # A symbol the venue does not list is refused in words, not with an empty chart.
    picker = tab.get_by_test_id("chart-picker")
    await picker.get_by_label("Symbol").fill("NOPEUSDT")
    await picker.get_by_role("button", name="Show").click()
    await expect(tab.get_by_test_id("chart-card").get_by_role("alert")).to_contain_text(
        "bybit:paper does not list NOPE/USDT:USDT", timeout=WAIT_MS
    )
    assert_clean(watched, served)


async def test_an_open_position_is_drawn_with_its_entry_and_exit_prices(
    served: Served, browser: Any, screenshots: Path
) -> None:
    # The last day of the recording closes at the position's entry and never reaches its stop (3 % below) or
    # its target (6 % above), so the position stays open while the chart is read.
    bars = recorded_hours(24, level="60000", tick="0.10")
    assert min(bar.low for bar in bars) > Decimal(58200) and max(bar.high for bar in bars) < Decimal(63600)
    feed(served, "BTCUSDT", bars)
    position_id = served.positions["BTC"]
    tab, watched = await open_mini_app(browser, served, TRADER_TG, "positions", viewport=DESKTOP)
    await tab.get_by_test_id(f"position-{position_id}").get_by_role("link", name="Chart of BTC/USDT").click()
    # The paper market was fed hours; the link's 15-minute chart is built from the venue's own minute bars.
    chart = tab.get_by_test_id("live-chart")
    await expect(chart).to_have_attribute("data-ready", "true", timeout=WAIT_MS)
    await expect(chart).to_have_attribute("data-candles", re.compile(r"^[1-9][0-9]*$"))
    await tab.get_by_test_id("chart-picker").get_by_label("Timeframe").select_option("1h")
    await expect(chart).to_have_attribute("data-ready", "true", timeout=WAIT_MS)
    await expect(chart).to_have_attribute("data-candles", str(len(bars)))
    assert "symbol=BTC%2FUSDT%3AUSDT" in tab.url and "target=bybit%3Apaper" in tab.url and "timeframe=1h" in tab.url
    levels = tab.get_by_test_id("chart-levels")
    await expect(levels).to_contain_text("Entry")
    await expect(levels).to_contain_text("60,000")
    await expect(levels).to_contain_text("Stop")
    await expect(levels).to_contain_text("58,200")
    drawn = await levels.locator("dt").count()
    await expect(chart).to_have_attribute("data-lines", str(drawn))
    await expect(chart).to_have_attribute("data-markers", "1")  # the position's entry, on the bar forming now
    await expect(tab.get_by_test_id("chart-marks").locator("tbody tr")).to_have_count(1)
    await shoot(tab, screenshots, "chart-position-desktop")
    assert_clean(watched, served)
