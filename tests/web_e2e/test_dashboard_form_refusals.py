"""The dashboard's forms in headless Chromium: a refusal of the API is shown at the input it names, and goes.

The strategy settings, backtest, exits and key forms have their own browser tests; these are the others that
share the one submission hook (``useSubmit``): a wallet transfer, a declared payment, a manual order's
preview and a new promo code.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from e2e_browser import open_mini_app
from e2e_world import ADMIN_TG, TRADER_TG, Served
from playwright.async_api import expect
from test_dashboard_browser import WAIT_MS, assert_clean

pytestmark = pytest.mark.slow


async def test_a_traders_refused_forms_name_the_input_at_fault(served: Served, browser: Any) -> None:
    tab, watched = await open_mini_app(browser, served, TRADER_TG, "wallet")
    transfer = tab.get_by_role("form", name="Send ELC")
    await transfer.get_by_label("To user").fill(str(served.trader.id))
    await transfer.get_by_label("Amount").fill("1")
    await transfer.get_by_role("button", name="Send", exact=True).click()
    to_user = transfer.get_by_label("To user")
    await expect(to_user).to_have_attribute("aria-invalid", "true", timeout=WAIT_MS)
    await expect(to_user).to_have_accessible_description(re.compile("cannot transfer to yourself"))
    await expect(transfer.get_by_label("Amount")).not_to_have_attribute("aria-invalid", "true")
    await expect(transfer.get_by_role("button", name="Send", exact=True)).to_be_enabled()
    assert_clean(watched, served)

    # An invalid request refuses two fields; these forms show the one the answer names, at its input.
    tab, watched = await open_mini_app(browser, served, TRADER_TG, "subscription")
    declare = tab.get_by_role("form", name="Paid by transfer?")
    await declare.get_by_label("Amount").fill("0")
    await declare.get_by_role("button", name="Send for review").click()
    await expect(declare.get_by_label("Amount")).to_have_attribute("aria-invalid", "true", timeout=WAIT_MS)
    await expect(declare.get_by_label("Reference")).not_to_have_attribute("aria-invalid", "true")
    await expect(declare.locator(".note-error")).to_have_count(0)  # said at the field, not again below the form
    assert_clean(watched, served)

    tab, watched = await open_mini_app(browser, served, TRADER_TG, "positions")
    quantity = tab.get_by_label("Quantity", exact=True)
    await tab.get_by_label("Symbol", exact=True).fill("BTCUSDT")
    await quantity.fill("0")
    await tab.get_by_role("button", name="Check", exact=True).click()
    await expect(quantity).to_have_attribute("aria-invalid", "true", timeout=WAIT_MS)
    await expect(quantity).to_have_accessible_description(re.compile("greater than 0"))
    assert_clean(watched, served)


async def test_a_refused_promo_code_is_fixed_and_created(served: Served, browser: Any) -> None:
    tab, watched = await open_mini_app(browser, served, ADMIN_TG, "admin")
    await tab.get_by_role("button", name="Promo codes").click()
    new = tab.get_by_role("form", name="New promo code")
    until = new.get_by_label("Valid until")
    await new.get_by_label("Code").fill("SPRING26")
    await until.fill("2020-01-01")
    await new.get_by_role("button", name="Create").click()
    await expect(until).to_have_attribute("aria-invalid", "true", timeout=WAIT_MS)
    await expect(until).to_have_accessible_description(re.compile("the code would be expired already"))
    await expect(tab.get_by_text("SPRING26", exact=True)).to_have_count(0)

    await until.fill("")
    await new.get_by_role("button", name="Create").click()
    await expect(tab.get_by_text("SPRING26", exact=True)).to_be_visible(timeout=WAIT_MS)
    await expect(until).not_to_have_attribute("aria-invalid", "true")
    await expect(new.get_by_label("Code")).to_have_value("")
    assert [promo.code for promo in await served.runtime.platform.licences.promos(limit=10)] == ["SPRING26"]
    assert_clean(watched, served)
