import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from elcaro.core.logging import MASK, register_secret, scrub, setup_logging


@pytest.mark.parametrize(
    "line",
    [
        "api_secret=Zq8Lm2Nn4Pp6Rr8Tt0Vv",
        'payload {"apiKey": "Zq8Lm2Nn4Pp6Rr8Tt0Vv", "x": 1}',
        "private key 0x" + "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318",
        "token: " + "aB3dE5fG7hI9jK1lM3nO5pQ7rS9tU1vW3xY5",
        "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIB\n-----END EC PRIVATE KEY-----",
        "binance key wSxQ3E4r5t6Y7u8I9o0PaSdFgHjKlZxCvBnMqWeRtYuIoPaSdFgHjKlZxCvBnM12",
    ],
)
def test_key_shaped_values_are_masked(line: str) -> None:
    scrubbed = scrub(line)
    assert MASK in scrubbed
    for fragment in ("Zq8Lm2", "4c0883a6", "aB3dE5", "MHcCAQ", "wSxQ3E"):
        assert fragment not in scrubbed


def test_ordinary_trading_lines_stay_readable() -> None:
    line = (
        "order 0x1f2e3d4c5b6a79881f2e3d4c5b6a7988 BTC/USDT:USDT buy 0.012 @ 67250.5 for wallet "
        "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed on bybit:demo"
    )
    assert scrub(line) == line


def test_registered_secrets_are_masked_wherever_they_appear() -> None:
    register_secret("Short18CharKey0001")
    assert scrub("request failed for key Short18CharKey0001.") == f"request failed for key {MASK}."


@pytest.fixture
def restore_root_logger() -> Iterator[None]:
    root = logging.getLogger()
    saved, level = list(root.handlers), root.level
    yield
    for handler in list(root.handlers):
        root.removeHandler(handler)
        handler.close()
    for handler in saved:
        root.addHandler(handler)
    root.setLevel(level)


@pytest.mark.usefixtures("restore_root_logger")
def test_log_files_and_tracebacks_are_scrubbed(tmp_path: Path) -> None:
    log_file = tmp_path / "elcaro.log"
    setup_logging("INFO", "json", log_file)
    register_secret("CanarySecretValue42")
    log = logging.getLogger("elcaro.test")
    log.info("saving %s", "CanarySecretValue42")
    try:
        raise RuntimeError("exchange said: bad key CanarySecretValue42")
    except RuntimeError:
        log.exception("failed")
    for handler in logging.getLogger().handlers:
        handler.flush()
    text = log_file.read_text()
    assert "CanarySecretValue42" not in text
    assert text.count(MASK) >= 2 and "RuntimeError" in text
