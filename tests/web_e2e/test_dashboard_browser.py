"""The dashboard in headless Chromium, as Telegram opens the Mini App, against the real platform on loopback.

Each test gets its own platform (fresh SQLite database, the local paper exchange, the position monitor, an
idle strategy engine) served by uvicorn, and its own browser context. Prices move only when a test moves
them, so every figure the page should show is known exactly.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from e2e_browser import DESKTOP, Watched, open_mini_app, shoot
from e2e_world import ADMIN_TG, BOT_TOKEN, CANDLE_EXCHANGE, CANDLE_SYMBOL, TRADER_TG, Served, mini_app_init_data
from playwright.async_api import expect

pytestmark = pytest.mark.slow

ANSWERED_4XX = re.compile(r"Failed to load resource: the server responded with a status of 4\d\d")
WAIT_MS = 30_000
"""How long a condition may take to show (the page refreshes marks every few seconds; a backtest runs in a
fresh worker process): generous for a loaded machine, never a measured duration."""


def assert_clean(watched: Watched, served: Served) -> None:
    """No script error or refused policy on the page, and nothing fetched from any origin but the app's own.

    Chromium logs every 4xx answer as a console error; those the page asked for and handled (a refused
    setting is a 422) are not errors of the page."""
    errors = [text for text in watched.errors if not ANSWERED_4XX.match(text)]
    assert errors == []
    assert watched.origins <= {served.url, "data://"}, watched.origins


async def test_a_forged_login_is_refused_and_nothing_else_logs_in(served: Served, browser: Any) -> None:
    context = await browser.new_context(viewport={"width": 390, "height": 844}, locale="en-US")
    tab = await context.new_page()
    forged = mini_app_init_data(TRADER_TG, bot_token=BOT_TOKEN.replace("424242", "999999"))
    await tab.goto(f"{served.url}/app/positions#tgWebAppData={quote(forged)}")
    await expect(tab.get_by_role("alert")).to_contain_text("could not be verified", timeout=WAIT_MS)
    await expect(tab.get_by_role("heading", name="Positions")).to_have_count(0)

    plain = await context.new_page()
    await plain.goto(f"{served.url}/")
    await expect(plain.get_by_text("Open ElCaro from its Telegram bot")).to_be_visible()
    assert plain.url.endswith("/app/portfolio")


async def test_positions_follow_the_market_and_close_live(served: Served, browser: Any, screenshots: Path) -> None:
    tab, watched = await open_mini_app(browser, served, TRADER_TG, "positions")
    await expect(tab.get_by_test_id("live-status")).to_have_attribute("data-status", "live", timeout=WAIT_MS)
    btc = tab.get_by_test_id(f"position-{served.positions['BTC']}")
    eth = tab.get_by_test_id(f"position-{served.positions['ETH']}")
    await expect(btc.get_by_test_id("mark")).to_have_text("60,000")
    await expect(btc.get_by_test_id("pnl")).to_contain_text("0.00")

    # The market moves: 0.01 BTC long from 60,000 is worth 10 USDT more at 61,000.
    served.move_price("BTCUSDT", "61000")
    await expect(btc.get_by_test_id("mark")).to_have_text("61,000", timeout=WAIT_MS)
    await expect(btc.get_by_test_id("pnl")).to_contain_text("+10.00 (+1.67 %)")
    await shoot(tab, screenshots, "positions-mobile")

    # ETH falls through the short's take-profit (2,820): the exchange closes it, the monitor records it, and
    # the websocket's position_closed event takes it off the page and says so.
    served.move_price("ETHUSDT", "2810")
    await expect(tab.get_by_test_id("toasts").get_by_text("ETH/USDT closed")).to_be_visible(timeout=WAIT_MS)
    await expect(eth).to_have_count(0, timeout=WAIT_MS)

    # Close BTC by hand: asked first, then closed at market.
    await btc.get_by_role("button", name="Close BTC/USDT Long at market").click()
    await tab.get_by_role("dialog").get_by_role("button", name="Confirm").click()
    await expect(tab.get_by_test_id("toasts").get_by_text("BTC/USDT closed")).to_be_visible(timeout=WAIT_MS)
    await expect(btc).to_have_count(0, timeout=WAIT_MS)
    await expect(tab.get_by_text("No open positions.")).to_be_visible()

    await tab.get_by_role("button", name="Menu").click()
    await tab.get_by_role("link", name="History").click()
    summary = tab.get_by_test_id("history-summary")
    await expect(summary).to_contain_text("Trades: 10,", timeout=WAIT_MS)
    rows = tab.get_by_test_id("history-table").locator("tbody tr")
    await expect(rows.first).to_contain_text("BTC/USDT")
    await expect(rows.first).to_contain_text("closed by hand")
    await tab.get_by_label("Result").select_option("loss")
    await expect(summary).to_contain_text("Trades: 3,")
    await shoot(tab, screenshots, "history-mobile")
    assert_clean(watched, served)


async def test_a_refused_setting_names_its_range_and_a_good_one_is_saved(
    served: Served, browser: Any, screenshots: Path
) -> None:
    tab, watched = await open_mini_app(browser, served, TRADER_TG, "strategies")
    form = tab.get_by_test_id("settings-form")
    await form.get_by_label("Level").select_option("strategy")
    await form.get_by_label("Strategy", exact=True).select_option("scryptomera")
    risk = form.get_by_label("Risk per trade, %")

    await risk.fill("55")
    await form.get_by_role("button", name="Save").click()
    await expect(form.get_by_text("risk_pct must be between 0.01 and 10, got 55")).to_be_visible(timeout=WAIT_MS)
    await expect(risk).to_have_attribute("aria-invalid", "true")
    await shoot(tab, screenshots, "settings-refused-mobile")

    await risk.fill("2,5")  # as a Russian keyboard types it
    await form.get_by_role("button", name="Save").click()
    await expect(form.get_by_text("Stored at this level: Risk per trade, %: 2.5")).to_be_visible(timeout=WAIT_MS)
    await expect(risk).to_have_attribute("placeholder", "2.5")

    follow = tab.get_by_role("checkbox", name="Follow scryptomera")
    await follow.check()
    await expect(follow).to_be_checked()
    async with httpx.AsyncClient(base_url=served.url) as client:
        login = await client.post("/api/v1/auth/telegram/mini-app", json={"init_data": mini_app_init_data(TRADER_TG)})
        headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
        stored = await client.get(
            "/api/v1/me/settings/effective",
            params={"target": "bybit:paper", "strategy": "scryptomera"},
            headers=headers,
        )
        strategies = (await client.get("/api/v1/me/strategies", headers=headers)).json()
    assert stored.json()["risk_pct"] == "2.5"
    assert {"name": "scryptomera", "enabled": True, "direction": "both"} in strategies
    assert_clean(watched, served)


async def test_api_keys_are_stored_and_never_shown_back(served: Served, browser: Any, screenshots: Path) -> None:
    tab, watched = await open_mini_app(browser, served, TRADER_TG, "exchanges")
    api_key, api_secret = "Zq" + "7" * 14 + "KeyX", "s3cr3t" + "w" * 30
    adding = tab.get_by_role("form", name="Add a key")
    await adding.get_by_label("For").select_option("bybit:demo")
    await adding.get_by_label("API key").fill(api_key)
    await adding.get_by_label("API secret").fill(api_secret)
    await adding.get_by_role("button", name="Save key").click()
    listed = tab.get_by_test_id("keys")
    await expect(listed).to_contain_text("…KeyX", timeout=WAIT_MS)
    await expect(adding.get_by_label("API secret")).to_have_value("")
    await shoot(tab, screenshots, "keys-mobile")
    page_text = await tab.content()
    assert api_secret not in page_text and api_key not in page_text

    await listed.get_by_role("button", name="Delete").click()
    await tab.get_by_role("dialog").get_by_role("button", name="Confirm").click()
    await expect(tab.get_by_text("No keys stored yet.")).to_be_visible(timeout=WAIT_MS)

    # Logging out ends the session on the server too, and the Mini App waits to be asked to log in again.
    session = json.loads(await tab.evaluate("sessionStorage.getItem('elcaro.session')"))
    await tab.get_by_role("button", name="Menu").click()
    await tab.get_by_role("link", name="Account").click()
    await tab.get_by_role("button", name="Log out", exact=True).click()
    await expect(tab.get_by_role("button", name="Log in")).to_be_visible(timeout=WAIT_MS)
    assert await tab.evaluate("sessionStorage.getItem('elcaro.session')") is None
    async with httpx.AsyncClient(base_url=served.url) as client:
        reused = await client.post("/api/v1/auth/refresh", json={"refresh_token": session["refresh_token"]})
    assert reused.status_code == 401
    await tab.get_by_role("button", name="Log in").click()
    await expect(tab.get_by_role("heading", name="Account")).to_be_visible(timeout=WAIT_MS)
    assert_clean(watched, served)


async def test_a_backtest_runs_and_draws_its_charts(served: Served, browser: Any, screenshots: Path) -> None:
    tab, watched = await open_mini_app(browser, served, TRADER_TG, "backtests", viewport=DESKTOP)
    form = tab.get_by_test_id("backtest-form")
    await form.get_by_label("Strategy", exact=True).select_option("donchian")
    await form.get_by_label("Candles from").fill(CANDLE_EXCHANGE)
    await form.get_by_label("Symbols").fill(CANDLE_SYMBOL)
    await form.get_by_label("First day").fill("2023-01-03")
    await form.get_by_label("Last day").fill("2023-02-08")
    await form.get_by_role("button", name="Run backtest").click()

    result = tab.get_by_test_id("backtest-result")
    await expect(result).to_be_visible(timeout=WAIT_MS * 4)
    for chart in ("backtest-equity", "backtest-drawdown", "backtest-candles"):
        await expect(result.get_by_test_id(chart).locator("canvas").first).to_be_visible()
    trades = result.locator("table tbody tr")
    count = await trades.count()
    assert count > 0
    await expect(result.locator(".figure").filter(has_text=re.compile("^Trades"))).to_contain_text(str(count))
    await expect(tab.get_by_test_id("backtest-runs")).to_contain_text("done")
    await shoot(tab, screenshots, "backtest-desktop")

    bad = tab.get_by_test_id("backtest-form")
    await bad.get_by_label("Symbols").fill("NOPE/USDT:USDT")
    await bad.get_by_role("button", name="Run backtest").click()
    # The server's reason, under the field it names.
    await expect(bad.get_by_label("Symbols")).to_have_attribute("aria-invalid", "true", timeout=WAIT_MS)
    await expect(bad.get_by_role("alert")).to_contain_text("NOPE/USDT:USDT")
    assert_clean(watched, served)


async def test_admin_pages_and_the_telegram_theme(served: Served, browser: Any, screenshots: Path) -> None:
    tab, watched = await open_mini_app(browser, served, ADMIN_TG, "engine", dark=True)
    await expect(tab.get_by_test_id("engine-state")).to_have_text("idle", timeout=WAIT_MS)
    background = await tab.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(23, 33, 43)"  # Telegram's bg_color, not ours
    await shoot(tab, screenshots, "engine-dark-mobile")

    await tab.get_by_role("button", name="Menu").click()
    await tab.get_by_role("link", name="Admin").click()
    await expect(tab.get_by_text("Open positions")).to_be_visible(timeout=WAIT_MS)
    await tab.get_by_role("button", name="Users").click()
    users = tab.get_by_test_id("admin-users")
    await expect(users).to_contain_text("@user7001", timeout=WAIT_MS)
    await shoot(tab, screenshots, "admin-users-dark-mobile")

    # A transfer the trader declared is reviewed here: approved, it grants the subscription.
    await served.runtime.platform.payments.declare(
        served.trader.id, "basic", 1, amount=Decimal(25), currency="USDT", reference="bank transfer 77"
    )
    await tab.get_by_role("button", name="Payments").click()
    review = tab.get_by_role("listitem").filter(has_text="bank transfer 77")
    await expect(review).to_contain_text(f"from user #{served.trader.id} for Basic × 1", timeout=WAIT_MS)
    await review.get_by_role("button", name="Approve").click()
    await tab.get_by_role("dialog").get_by_role("button", name="Confirm").click()
    await expect(tab.get_by_text("Nothing to review.")).to_be_visible(timeout=WAIT_MS)
    licence = await served.runtime.platform.licences.current(served.trader.id)
    assert licence.tier is not None and licence.tier.value == "basic"
    assert_clean(watched, served)


async def test_a_trader_sees_no_admin_pages_and_reads_russian(served: Served, browser: Any, screenshots: Path) -> None:
    tab, watched = await open_mini_app(browser, served, TRADER_TG, "portfolio", viewport=DESKTOP)
    await expect(tab.get_by_test_id("pnl-curve").locator("canvas").first).to_be_visible(timeout=WAIT_MS)
    await expect(tab.get_by_text("+102.41").first).to_be_visible()  # the seeded month of trades, added up exactly
    await shoot(tab, screenshots, "portfolio-desktop")
    navigation = tab.get_by_role("navigation", name="Main")
    await expect(navigation.get_by_role("link", name="Admin")).to_have_count(0)
    await expect(navigation.get_by_role("link", name="Engine")).to_have_count(0)

    await navigation.get_by_role("link", name="Account").click()
    await tab.get_by_label("Language").select_option("ru")
    await expect(tab.get_by_role("heading", name="Аккаунт")).to_be_visible(timeout=WAIT_MS)
    await tab.get_by_role("navigation", name="Главное меню").get_by_role("link", name="Портфель").click()
    await expect(tab.get_by_role("heading", name="Портфель")).to_be_visible()
    await expect(tab.get_by_text("Всё время")).to_be_visible()
    await expect(tab.get_by_test_id("pnl-curve").locator("canvas").first).to_be_visible(timeout=WAIT_MS)
    await expect(tab.get_by_text("Доля прибыльных").first).to_be_visible(timeout=WAIT_MS)
    await shoot(tab, screenshots, "portfolio-ru-desktop")
    assert_clean(watched, served)
