"""Headless Chromium (Debian's ``chromium``, driven by Playwright) against the platform served on loopback.

The tests skip, saying why, when Playwright, the browser or the built dashboard is missing — unless
``ELCARO_REQUIRE_BROWSER=1`` (CI), which turns each of those into a failure. Screenshots of the main pages go
to ``ELCARO_E2E_SCREENSHOTS`` when it is set, else to a directory of the test run; the run's summary says where.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from e2e_browser import CHROMIUM
from e2e_world import STATIC_INDEX, Served, served_platform


def _missing() -> str | None:
    if importlib.util.find_spec("playwright") is None:
        return "the playwright package is not installed (pip install playwright; never `playwright install`)"
    if not CHROMIUM.exists():
        return f"Debian's chromium is not installed at {CHROMIUM} (apt-get install chromium)"
    if not STATIC_INDEX.is_file():
        return "the dashboard is not built: `make test` builds it (or `npm ci && npm run build` in its sources)"
    return None


@pytest.fixture(scope="session")
def browser_ready() -> None:
    reason = _missing()
    if reason is None:
        return
    if os.environ.get("ELCARO_REQUIRE_BROWSER") == "1":
        pytest.fail(f"ELCARO_REQUIRE_BROWSER=1 but {reason}")
    pytest.skip(reason)


_SCREENSHOT_DIRECTORIES: list[Path] = []


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    chosen = os.environ.get("ELCARO_E2E_SCREENSHOTS")
    directory = Path(chosen) if chosen else tmp_path_factory.mktemp("dashboard-screenshots")
    directory.mkdir(parents=True, exist_ok=True)
    _SCREENSHOT_DIRECTORIES.append(directory)
    return directory


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Say where the screenshots are, whatever the capture mode."""
    for directory in _SCREENSHOT_DIRECTORIES:
        taken = sorted(path.name for path in directory.glob("*.png"))
        if taken:
            terminalreporter.write_line(f"dashboard screenshots ({len(taken)}): {directory}")


@pytest.fixture
async def served(browser_ready: None, tmp_path: Path) -> AsyncIterator[Served]:
    async with served_platform(tmp_path) as platform:
        yield platform


@pytest.fixture
async def browser(browser_ready: None) -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright  # noqa: PLC0415 - optional: without it the tests skip

    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=str(CHROMIUM))
        try:
            yield launched
        finally:
            await launched.close()
