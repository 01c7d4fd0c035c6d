"""The portfolio's equity curve in headless Chromium: empty until equity is recorded, then drawn from the snapshots.

Snapshots are recorded the platform's way (the equity service reading the trading desk's balances of the paper
venue) at moments the test chooses, with the market moved in between, so the figures on screen are known.
"""

from __future__ import annotations

import asyncio
import re
import time
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import pytest
from e2e_browser import DESKTOP, open_mini_app, shoot
from e2e_world import PAPER, TRADER_TG, Served
from playwright.async_api import expect
from test_dashboard_browser import WAIT_MS, assert_clean

from elcaro.services.equity import EquityService

pytestmark = pytest.mark.slow

INTERVAL = 15 * 60_000


async def _equity(served: Served) -> Decimal:
    [paper] = [item for item in await served.runtime.desk.balances(served.trader.id) if str(item.target) == PAPER]
    assert paper.balance is not None
    return paper.balance.equity


async def _record(served: Served, at: int) -> None:
    service = EquityService(served.runtime.platform.database, interval_ms=INTERVAL, clock=lambda: at)
    assert (await service.record(served.runtime.desk.balances)).recorded >= 1


async def _moved(served: Served, since: Decimal) -> Decimal:
    """The trader's equity once the paper venue has marked the positions to the moved price."""
    async with asyncio.timeout(WAIT_MS / 1000):
        while True:
            now = await _equity(served)
            if now != since:
                return now
            await asyncio.sleep(0.05)


def _money(value: Decimal) -> str:
    """As the page writes money: two places, half away from zero, thousands grouped (en-US)."""
    return f"{value.quantize(Decimal('0.01'), ROUND_HALF_UP):,.2f}"


async def test_the_equity_curve_appears_once_equity_is_recorded(
    served: Served, browser: Any, screenshots: Path
) -> None:
    tab, watched = await open_mini_app(browser, served, TRADER_TG, "portfolio", viewport=DESKTOP)
    card = tab.get_by_test_id("equity-card")
    await expect(card.get_by_text("No equity recorded yet")).to_be_visible(timeout=WAIT_MS)
    await expect(card.get_by_text("the first point appears within 15 minutes")).to_be_visible()
    await expect(card.get_by_test_id("equity-curve")).to_have_count(0)

    now = int(time.time() * 1000)
    first = await _equity(served)
    await _record(served, now - now % INTERVAL - 8 * INTERVAL)
    served.move_price("BTCUSDT", "61000")  # the trader's 0.01 BTC long gains 10 USDT
    last = await _moved(served, first)
    await _record(served, now - now % INTERVAL - 4 * INTERVAL)
    assert last - first == Decimal(10)

    await card.get_by_role("button", name="7 d").click()
    await expect(card.get_by_test_id("equity-curve").locator("canvas").first).to_be_visible(timeout=WAIT_MS)
    await expect(card.get_by_test_id("equity-latest")).to_have_text(f"{_money(last)} USDT")
    await expect(card.get_by_test_id("equity-figures")).to_contain_text("+10.00")
    label = rf"Recorded equity, 2 points since .+: from {re.escape(_money(first))} to {re.escape(_money(last))}\."
    await expect(card.get_by_role("img")).to_have_attribute("aria-label", re.compile(label))
    # The realised-PnL curve is still there beside it.
    await expect(tab.get_by_test_id("pnl-curve").locator("canvas").first).to_be_visible()
    await shoot(tab, screenshots, "portfolio-equity-desktop")
    assert_clean(watched, served)
