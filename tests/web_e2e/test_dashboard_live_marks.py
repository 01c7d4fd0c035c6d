"""Pushed marks in headless Chromium: a price move shows on the positions page with no refetch behind it.

While the live feed is up the page does not poll ``/trading/positions``; the server's ``marks`` frames carry
the new mark and PnL, which the page applies to the positions it shows. Every request the page makes is
watched, so a figure that changed because of a refetch would fail the test.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from e2e_browser import open_mini_app, shoot
from e2e_world import TRADER_TG, Served
from playwright.async_api import expect

pytestmark = pytest.mark.slow

WAIT_MS = 30_000
"""How long a figure may take to show (the monitor prices every two seconds): generous, never measured."""
LISTING = "/api/v1/trading/positions"


async def test_marks_move_with_the_market_without_a_refetch(served: Served, browser: Any, screenshots: Path) -> None:
    tab, watched = await open_mini_app(browser, served, TRADER_TG, "positions")
    listings: list[str] = []
    tab.on("request", lambda request: listings.append(request.url) if urlsplit(request.url).path == LISTING else None)
    await expect(tab.get_by_test_id("live-status")).to_have_attribute("data-status", "live", timeout=WAIT_MS)
    btc = tab.get_by_test_id(f"position-{served.positions['BTC']}")
    eth = tab.get_by_test_id(f"position-{served.positions['ETH']}")
    await expect(btc.get_by_test_id("mark")).to_have_text("60,000", timeout=WAIT_MS)
    await expect(eth.get_by_test_id("mark")).to_have_text("3,000", timeout=WAIT_MS)
    fetched = len(listings)

    # 0.01 BTC long from 60,000 gains 3 USDT at 60,300; the 0.20 ETH short from 3,000 loses 6 at 3,030.
    served.move_price("BTCUSDT", "60300")
    served.move_price("ETHUSDT", "3030")
    await expect(btc.get_by_test_id("mark")).to_have_text("60,300", timeout=WAIT_MS)
    await expect(btc.get_by_test_id("pnl")).to_have_text("+3.00 (+0.5 %)")
    await expect(eth.get_by_test_id("mark")).to_have_text("3,030", timeout=WAIT_MS)
    await expect(eth.get_by_test_id("pnl")).to_have_text("−6.00 (−1 %)")
    assert listings[fetched:] == []  # pushed, not polled: the list was not asked for again

    served.move_price("BTCUSDT", "59900")  # and back below the entry
    await expect(btc.get_by_test_id("mark")).to_have_text("59,900", timeout=WAIT_MS)
    await expect(btc.get_by_test_id("pnl")).to_have_text("−1.00 (−0.17 %)")
    assert listings[fetched:] == []
    await shoot(tab, screenshots, "positions-live-marks")
    assert watched.errors == []
