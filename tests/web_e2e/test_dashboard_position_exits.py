"""Editing a live position's stop from its card in headless Chromium: refused at the field, then set on the venue."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from e2e_browser import open_mini_app, shoot
from e2e_world import PAPER, TRADER_TG, Served
from playwright.async_api import expect

from elcaro.models import Target

pytestmark = pytest.mark.slow

WAIT_MS = 30_000
"""How long a condition may take to show on a loaded machine: generous, never a measured duration."""
ANSWERED_4XX = re.compile(r"Failed to load resource: the server responded with a status of 4\d\d")


async def venue_stop(served: Served, symbol: str) -> Decimal | None:
    client = await served.runtime.access.client(served.trader.id, Target.parse(PAPER))
    (held,) = await client.fetch_positions([symbol])
    return held.stop_loss


async def test_the_stop_of_a_live_position_is_edited_on_its_card(
    served: Served, browser: Any, screenshots: Path
) -> None:
    tab, watched = await open_mini_app(browser, served, TRADER_TG, "positions")
    card = tab.get_by_test_id(f"position-{served.positions['BTC']}")
    await expect(card).to_be_visible(timeout=WAIT_MS)
    before = await venue_stop(served, "BTC/USDT:USDT")
    assert before is not None and before < Decimal(59000)  # the manual settings' stop under the 60 000 entry

    await card.get_by_role("button", name="Edit the stop and targets of BTC/USDT long").click()
    form = card.get_by_test_id("exits-form")
    stop = form.get_by_label("Stop-loss")
    await stop.fill("61000")  # above a long's price: it would close the position at once
    await form.get_by_role("button", name="Save").click()
    await expect(form.get_by_role("alert")).to_contain_text("below the last price", timeout=WAIT_MS)
    await expect(stop).to_have_attribute("aria-invalid", "true")
    assert await venue_stop(served, "BTC/USDT:USDT") == before
    await shoot(tab, screenshots, "position-exits-refused")

    await stop.fill("59000")
    await form.get_by_role("button", name="Save").click()
    await expect(form).to_have_count(0, timeout=WAIT_MS)
    stop_figure = card.locator(".figure").filter(has_text=re.compile("^Stop"))
    await expect(stop_figure).to_contain_text("59,000", timeout=WAIT_MS)
    assert await venue_stop(served, "BTC/USDT:USDT") == Decimal(59000)
    await shoot(tab, screenshots, "position-exits-saved")

    errors = [text for text in watched.errors if not ANSWERED_4XX.match(text)]
    assert errors == []
