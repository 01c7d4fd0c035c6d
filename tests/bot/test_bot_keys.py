"""Exchange keys through the bot: the message with a key is deleted as soon as it is read, even when the key is
malformed; a refused key is named as such; deleting asks first; a key is never shown back."""

from __future__ import annotations

from pathlib import Path

import pytest
from bot_world import bot_world, token
from fake_bot_api import FakeUser

pytestmark = pytest.mark.db

CAROL = 4004


async def _ask_for_keys(carol: FakeUser, exchange: str, environment: str) -> None:
    await carol.send("🔑 Exchanges and keys")
    await carol.press(await carol.next("Exchanges and API keys"), "Add keys")
    await carol.press(await carol.next("Which exchange"), exchange)
    await carol.press(await carol.next("Which environment"), f"{exchange} · {environment}")
    await carol.next(f"Send the API keys for {exchange} · {environment}")


async def test_keys_are_deleted_on_reading_checked_and_never_shown(tmp_path: Path, empty_database_url: str) -> None:
    async with bot_world(tmp_path, empty_database_url) as world:
        carol = await world.trader(CAROL, "Carol")
        user = await world.user(CAROL)
        credentials = world.runtime.platform.credentials

        # Malformed: deleted all the same, explained, nothing stored; the bot keeps waiting for the keys.
        await _ask_for_keys(carol, "Bybit", "Demo")
        malformed = await carol.send("not-a-key")
        await carol.next("That is not a key pair")
        assert malformed.deleted and await credentials.list_for_user(user.id) == []
        short = await carol.send(f"{token(5)} {token(36)}")
        await carol.next("The API key does not look right")
        assert short.deleted and await credentials.list_for_user(user.id) == []

        # Well-formed but wrong: stored, then the venue (the local Bybit API) refuses it.
        wrong = token(36)
        typed = await carol.send(f"{world.exchange_key} {wrong}")
        await carol.next("Keys for Bybit · Demo saved")
        await carol.next("The exchange refused these keys")
        assert typed.deleted
        (stored,) = await credentials.list_for_user(user.id)
        assert stored.last_verified_at is None

        # Deleting asks first; the confirmation works once.
        await carol.send("🔑 Exchanges and keys")
        listed = await carol.next("key …")
        assert wrong[-4:] not in listed.plain
        await carol.press(listed, "Delete")
        confirm = await carol.next("Delete the keys for Bybit · Demo")
        await carol.press(confirm, "Confirm")
        await carol.next("The keys for Bybit · Demo were deleted.")
        assert await credentials.list_for_user(user.id) == []
        again = await carol.answer_to(await carol.press(confirm, data=confirm.data_of("Confirm")))
        assert again["text"].startswith("This button no longer applies")

        # HyperLiquid takes a private key and the main wallet address, in either order.
        await _ask_for_keys(carol, "HyperLiquid", "Testnet")
        private = "1" * 63 + "f"
        typed = await carol.send(f"0x{'ab' * 20} {private}")
        saved = await carol.next("Keys for HyperLiquid · Testnet saved")
        assert typed.deleted and "…abab" in saved.plain
        await carol.next("The keys could not be tested now")  # its venue is unreachable from the test
        (hyperliquid,) = await credentials.list_for_user(user.id)
        assert hyperliquid.wallet_address == f"0x{'ab' * 20}"

        # Keys sent when none were asked for are deleted all the same, unread.
        stray_key, stray_secret = token(16) + "42", token(34) + "7a"
        stray = await carol.send(f"{stray_key} {stray_secret}")
        await carol.next("That looked like API keys, so I deleted it")
        assert stray.deleted and len(await credentials.list_for_user(user.id)) == 1

        everything = " ".join(output.text for output in world.api.chats[CAROL].outputs if output.kind != "delete")
        for secret in (wrong, private, world.exchange_key, stray_key, stray_secret):
            assert secret not in everything
        deletions = [call for call in world.api.calls_of("deleteMessage") if call.ok]
        assert len(deletions) == 5
