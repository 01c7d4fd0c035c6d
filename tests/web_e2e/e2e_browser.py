"""Driving the dashboard as Telegram opens it: the launch fragment, a watched tab, screenshots."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from e2e_world import Served, mini_app_init_data

CHROMIUM = Path("/usr/bin/chromium")
MOBILE = {"width": 390, "height": 844}
"""An ordinary phone: the Mini App's width."""
DESKTOP = {"width": 1280, "height": 860}
TELEGRAM_DARK_THEME = {
    "bg_color": "#17212b",
    "secondary_bg_color": "#232e3c",
    "section_bg_color": "#17212b",
    "text_color": "#f5f5f5",
    "hint_color": "#708499",
    "link_color": "#6ab3f3",
    "button_color": "#5288c1",
    "button_text_color": "#ffffff",
}


@dataclass
class Watched:
    """What a page did besides what the test asked: console errors and every request's origin."""

    errors: list[str] = field(default_factory=list)
    origins: set[str] = field(default_factory=set)


def launch_fragment(telegram_id: int, *, dark: bool = False) -> str:
    """The URL fragment Telegram opens a Mini App with: the signed initData and the client's theme."""
    fragment = f"tgWebAppData={quote(mini_app_init_data(telegram_id))}&tgWebAppVersion=8.0&tgWebAppPlatform=android"
    if dark:
        fragment += "&tgWebAppThemeParams=" + quote(json.dumps(TELEGRAM_DARK_THEME))
    return fragment


async def open_mini_app(
    browser: Any, served: Served, telegram_id: int, page: str, *, viewport: dict[str, int] = MOBILE, dark: bool = False
) -> tuple[Any, Watched]:
    """A fresh browser context opened as Telegram opens the Mini App, on ``/app/<page>``, logged in."""
    context = await browser.new_context(viewport=viewport, locale="en-US", timezone_id="UTC")
    tab = await context.new_page()
    watched = Watched()
    tab.on("console", lambda message: watched.errors.append(message.text) if message.type == "error" else None)
    tab.on("pageerror", lambda error: watched.errors.append(str(error)))
    tab.on("request", lambda request: watched.origins.add("{0.scheme}://{0.netloc}".format(urlsplit(request.url))))
    await tab.goto(f"{served.url}/app/{page}#{launch_fragment(telegram_id, dark=dark)}")
    await tab.wait_for_selector("#page-title")
    return tab, watched


async def shoot(tab: Any, directory: Path, name: str) -> Path:
    path = directory / f"{name}.png"
    await tab.evaluate("window.scrollTo(0, 0)")  # the sticky header at the top of a full-page picture
    await tab.screenshot(path=str(path), full_page=True)
    return path
