"""The bot id Telegram's login page asks for comes from the token's public half, and only from a well-formed token."""

from __future__ import annotations

import pytest

from elcaro.services.telegram_login import bot_id


def test_the_bot_id_is_the_number_before_the_colon() -> None:
    assert bot_id("7012345678:AAH-made-up-secret-half") == 7012345678


@pytest.mark.parametrize("token", ["", "no-colon-at-all", ":secret", "12ab:secret", "1" * 21 + ":secret"])
def test_a_token_without_a_numeric_id_gives_none(token: str) -> None:
    assert bot_id(token) is None
