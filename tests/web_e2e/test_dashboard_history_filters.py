"""The history page in headless Chromium: filters applied by the server, kept in the page's URL across a reload,
and "load older trades" following the server's cursor under a filter."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from e2e_browser import Watched, open_mini_app, shoot
from e2e_world import TRADER_TG, Served
from playwright.async_api import expect

from elcaro.models import ExitReason, PositionSide, Target, Trade

pytestmark = pytest.mark.slow

WAIT_MS = 30_000
"""How long a page may take to show an answer on a loaded machine: generous, never a measured duration."""
BULK = 130
"""Trades of one more strategy: more than a page (100), so the rest comes through the cursor."""


async def seed_bulk(served: Served) -> None:
    first = 1_700_000_000_000
    async with served.runtime.platform.database.transaction() as tx:  # a fixture: trades as the monitor stores them
        for n in range(BULK):
            await tx.trades.add(
                Trade(
                    target=Target.parse("bybit:paper"),
                    symbol="DOGE/USDT:USDT",
                    side=PositionSide.LONG,
                    qty=Decimal(100),
                    entry_price=Decimal("0.1"),
                    exit_price=Decimal("0.1001"),  # +0.01 each
                    opened_at=first + n * 60_000,
                    closed_at=first + n * 60_000 + 30_000,
                    exit_reason=ExitReason.TAKE_PROFIT,
                    strategy="bulk",
                    user_id=served.trader.id,
                )
            )


def assert_clean(watched: Watched, served: Served) -> None:
    assert watched.errors == []
    assert watched.origins <= {served.url, "data://"}, watched.origins


async def test_filters_are_the_servers_and_stay_in_the_url(served: Served, browser: Any, screenshots: Path) -> None:
    tab, watched = await open_mini_app(browser, served, TRADER_TG, "history")
    summary = tab.get_by_test_id("history-summary")
    rows = tab.get_by_test_id("history-table").locator("tbody tr")
    await expect(summary).to_contain_text("Trades: 8,", timeout=WAIT_MS)  # the seeded month

    # Choices come from the server: every symbol of the trader's trades, not only those on the page.
    symbol = tab.get_by_label("Symbol")
    await symbol.select_option("BTC/USDT:USDT")
    await expect(summary).to_contain_text("Trades: 3,", timeout=WAIT_MS)
    await tab.get_by_label("Result").select_option("loss")
    await expect(summary).to_contain_text("Trades: 1,", timeout=WAIT_MS)
    await expect(rows).to_have_count(1)
    await expect(rows.first).to_contain_text("stop loss")
    await expect(summary).to_contain_text("−7.00")  # 0.015 × (60,100 − 60,500) − 0.9982 fees
    query = parse_qs(urlsplit(tab.url).query)
    assert query == {"symbol": ["BTC/USDT:USDT"], "result": ["loss"]}
    await shoot(tab, screenshots, "history-filtered-mobile")

    await tab.reload()
    await expect(summary).to_contain_text("Trades: 1,", timeout=WAIT_MS)
    await expect(tab.get_by_label("Symbol")).to_have_value("BTC/USDT:USDT")
    await expect(tab.get_by_label("Result")).to_have_value("loss")

    await tab.get_by_label("Strategy").select_option("manual")
    await expect(tab.get_by_text("No trade matches these filters.")).to_be_visible(timeout=WAIT_MS)
    await tab.get_by_role("button", name="Clear filters").click()
    await expect(summary).to_contain_text("Trades: 8,", timeout=WAIT_MS)
    assert urlsplit(tab.url).query == ""
    assert_clean(watched, served)


async def test_older_trades_load_through_the_cursor_under_a_filter(served: Served, browser: Any) -> None:
    await seed_bulk(served)
    tab, watched = await open_mini_app(browser, served, TRADER_TG, "history?strategy=bulk")
    summary = tab.get_by_test_id("history-summary")
    rows = tab.get_by_test_id("history-table").locator("tbody tr")
    await expect(summary).to_contain_text("Trades: the newest 100 (older ones below)", timeout=WAIT_MS)
    await expect(rows).to_have_count(100)
    await tab.get_by_role("button", name="Load older trades").click()
    await expect(summary).to_contain_text(f"Trades: {BULK},", timeout=WAIT_MS)
    await expect(summary).to_contain_text("+1.30")  # 130 × 0.01, added exactly
    await expect(rows).to_have_count(BULK)
    await expect(rows.last).to_contain_text("DOGE/USDT")
    await expect(tab.get_by_role("button", name="Load older trades")).to_have_count(0)
    assert_clean(watched, served)
