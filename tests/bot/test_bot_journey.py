"""The issue's journey through the real PTB application and the fake Bot API server, on the running platform:
registration (with a referral code) → approval → terms → adding a key → trading mode → following a strategy →
a channel post becomes a signal → the entry card → the positions menu shows it → its close button closes it."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from bot_world import ADMIN_ID, CHANNEL, DEMO, bot_world
from fake_bot_api import FakeBotApi

from elcaro.models import ExitReason, PositionSide, Target

pytestmark = pytest.mark.db

ALICE = 1001


async def test_from_registration_to_a_closed_copied_position(tmp_path: Path, empty_database_url: str) -> None:
    async with bot_world(tmp_path, empty_database_url) as world:
        api, platform = world.api, world.runtime.platform
        admin = await world.admin()
        referrer = await world.user(ADMIN_ID)

        # Registration through the deep link: pending, the terms at once, and the admin asked to approve.
        alice = api.user(ALICE, "Alice", username="alice")
        await alice.send(f"/start {referrer.referral_code}")
        await alice.next("You are registered")
        terms = await alice.next("Terms of use and risk disclaimer")
        request = await admin.next("New user: @alice")
        registered = await world.user(ALICE)
        assert registered.referred_by == referrer.id and not registered.may_trade

        # Approval by the admin's button: the user is told.
        answer = await admin.answer_to(await admin.press(request, "Approve"))
        assert answer["text"] == "@alice approved."
        await alice.next("Your account has been approved")
        assert (await world.user(ALICE)).approval.value == "approved"

        # Terms accepted: the main menu appears.
        await alice.press(terms, "I accept")
        await alice.next("Thank you: you accepted the terms")
        menu = await alice.next("Choose what to do")
        assert "💼 Portfolio" in str(menu.reply_markup)
        assert (await world.user(ALICE)).may_trade

        # Adding a key: its message is deleted as soon as it is read; the key is never shown back.
        await alice.send("🔑 Exchanges and keys")
        keys = await alice.next("No keys stored yet")
        await alice.press(keys, "Add keys")
        await alice.press(await alice.next("Which exchange"), "Bybit")
        await alice.press(await alice.next("Which environment"), "Bybit · Demo")
        await alice.next("Send the API keys for Bybit · Demo")
        secret_message = await alice.send(f"{world.exchange_key}\n{world.exchange_secret}")
        saved = await alice.next("saved")
        assert secret_message.deleted
        assert f"…{world.exchange_key[-4:]}" in saved.plain
        await alice.next("The keys for Bybit · Demo work. Equity: 5,000.00 USDT.")
        stored = await platform.credentials.list_for_user(registered.id)
        assert [info.target for info in stored] == [DEMO] and stored[0].last_verified_at is not None
        said = " ".join(_bot_texts(api, ALICE))
        assert world.exchange_key not in said and world.exchange_secret not in said

        # Trading mode: paper trading on the local exchange.
        await alice.send("🎯 Trading mode")
        mode = await alice.next("Trading mode")
        answer = await alice.answer_to(await alice.press(mode, "Bybit · Paper"))
        assert answer["text"] == "You now trade on Bybit · Paper."
        targets = await platform.preferences.targets(registered.id)
        assert [(t.target, t.enabled) for t in targets] == [(Target.parse("bybit:paper"), True)]

        # Following a strategy.
        await alice.send("🧠 Strategies")
        await alice.press(await alice.next("Press a strategy"), "scryptomera")
        card = await alice.next("You do not follow this strategy")
        await alice.press(card, "Follow")
        await alice.next("You follow this strategy")
        settings = await platform.preferences.effective(
            registered.id, Target.parse("bybit:paper"), "scryptomera", PositionSide.LONG
        )
        assert settings.enabled

        # The admin maps the signal channel to the strategy.
        await admin.send("🛠 Admin")
        await admin.press(await admin.next("Trading: ▶️ running"), "Channels")
        await admin.press(await admin.next("No channel is configured"), "Add a channel")
        await admin.next("Send the channel's numeric id")
        await admin.send(f"{CHANNEL} scryptomera")
        await admin.next(f"Channel {CHANNEL} added")

        # A channel post becomes a signal, copied to Alice: the entry card.
        await api.post(CHANNEL, "SCRIPTOMER LONG BTCUSDT @ 60000")
        entry = await alice.next("Entry placed: BTCUSDT Long")
        assert "Bybit · Paper" in entry.plain and "Stop: 58,200" in entry.plain

        # The positions menu shows it; its close button closes it.
        await alice.send("📈 Positions")
        listed = await alice.next("Open positions: 1")
        assert "BTCUSDT Long" in listed.plain
        await alice.press(listed, "BTCUSDT Long")
        position = await alice.next(lambda output: "Entry: 60,000" in output.plain and output.kind == "edit")
        close = await alice.press(position, "Close at market")
        assert (await alice.answer_to(close))["text"] == "Closing…"
        closed = await alice.next("Position closed: BTCUSDT")
        assert "Closed by hand" in closed.plain
        async with platform.database.transaction() as tx:
            logged = await tx.trades.list_for_user(registered.id)
            still_open = await tx.positions.list_open(registered.id)
        assert [(t.symbol, t.exit_reason) for t in logged] == [("BTC/USDT:USDT", ExitReason.MANUAL)]
        assert logged[0].entry_price == Decimal(60000) and not still_open

        # The close button pressed again (from a copy of the card shown before), and the entry card's button:
        # stale, each gets a clear answer and nothing is done.
        again = await alice.press(position, data=position.data_of("Close at market"))
        assert (await alice.answer_to(again))["text"] == "This position is already closed. Nothing was done."
        old = await alice.press(entry, "Open position")
        assert (await alice.answer_to(old))["text"] == "This position is already closed. Nothing was done."
        await alice.next("No open positions")
        async with platform.database.transaction() as tx:
            assert len(await tx.trades.list_for_user(registered.id)) == 1


def _bot_texts(api: FakeBotApi, chat_id: int) -> list[str]:
    """Everything the bot wrote in the chat (sent or edited)."""
    return [output.text for output in api.chats[chat_id].outputs if output.kind in ("send", "edit")]
