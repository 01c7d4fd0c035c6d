"""The admin menu through the bot: broadcast with its delivery count, the global pause and what it stops, signals
with their execution records, closing a strategy's positions, finding and pausing a user, system status, and a
channel the bot was made admin of."""

from __future__ import annotations

from pathlib import Path

import pytest
from bot_world import ADMIN_ID, CHANNEL, PAPER, BotWorld, bot_world
from fake_bot_api import FakeUser

from elcaro.models import SettingsKey, SettingsScope

pytestmark = pytest.mark.db

FRANK, GINA = 7007, 7008


async def _follows_scalper(world: BotWorld, telegram_id: int) -> int:
    user = await world.user(telegram_id)
    preferences = world.runtime.platform.preferences
    await preferences.set_target(user.id, PAPER)
    await preferences.update(user.id, SettingsKey(SettingsScope.STRATEGY, strategy="scalper"), {"enabled": True})
    return user.id


async def _open(admin: FakeUser, part: str) -> None:
    await admin.send("🛠 Admin")
    await admin.press(await admin.next("Trading:"), part)


async def test_the_admin_menu(tmp_path: Path, empty_database_url: str) -> None:
    async with bot_world(tmp_path, empty_database_url) as world:
        admin = await world.admin()
        frank = await world.trader(FRANK, "Frank")
        gina = await world.trader(GINA, "Гина", language="ru")
        frank_id = await _follows_scalper(world, FRANK)

        # Pending approvals: listed with their buttons.
        newcomer = world.api.user(7010, "Nina", username="nina")
        await newcomer.send("/start")
        await newcomer.next("Terms of use")
        await admin.next("New user: @nina")
        await _open(admin, "Approvals")
        pending = await admin.next("Waiting for approval: 1")
        await admin.press(pending, "Approve")
        await admin.next("Status: approved")
        await newcomer.next("Your account has been approved")
        await world.runtime.platform.signal_sources.add_channel(str(CHANNEL), strategy="scalper")

        # Broadcast to everyone: one of them has blocked the bot; the count says so and she is marked.
        world.api.block(GINA)
        await _open(admin, "Broadcast")
        await admin.press(await admin.next("Who should get the message?"), "Everyone")
        await admin.next("Send the message for Everyone")
        await admin.send("Maintenance at <b>22:00</b> & more")
        preview = await admin.next("To Everyone (4 people)")
        assert "Maintenance at <b>22:00</b> & more" in preview.plain  # shown as typed, not as markup
        await admin.press(preview, "Send")
        await admin.next("Broadcast done: 3 of 4 delivered, 1 have blocked the bot, 0 failed.")
        assert (await frank.next("Maintenance")).plain == "Maintenance at <b>22:00</b> & more"
        assert (await world.user(GINA)).bot_blocked_at is not None
        world.api.blocked.discard(GINA)

        # Global pause: manual orders and copied signals stop; the signal's records say why.
        await _open(admin, "Global pause")
        await admin.press(await admin.next("Trading is ▶️ running"), "Pause all trading")
        await admin.press(await admin.next("Pause all new entries for every user?"), "Confirm")
        await admin.next("Trading is paused for everyone.")
        await frank.send("BTCUSDT LONG 0.01")
        await frank.next("Trading is paused for everyone by the admins")
        await world.api.post(CHANNEL, "SCALPER LONG BTCUSDT @ 60000")
        await frank.next("Signal not copied: BTCUSDT (Bybit · Paper): trading is paused for everyone.")
        await _open(admin, "Signals")
        signals = await admin.next("Recent signals")
        assert "accepted · scalper · BTCUSDT Long" in signals.plain
        await admin.press(signals, "#1")
        record = await admin.next("Signal #1 from channel:")
        assert "Executions: skipped: 1" in record.plain
        assert f"user #{frank_id} on Bybit · Paper: skipped trading is paused for everyone" in record.plain

        # Resumed: the next signal is copied; closing the strategy closes it for everyone.
        await _open(admin, "Global pause")
        await admin.press(await admin.next("Trading is ⏸ paused for everyone"), "Resume all trading")
        await admin.press(await admin.next("Resume trading for every user?"), "Confirm")
        await admin.next("Trading is resumed for everyone.")
        await world.api.post(CHANNEL, "SCALPER LONG ETHUSDT @ 3000")
        await frank.next("Entry placed: ETHUSDT Long")
        await _open(admin, "Close a strategy")
        await admin.press(await admin.next("Press a strategy"), "scalper: 1 open")
        confirm = await admin.next("Close all 1 open positions of scalper")
        await admin.press(confirm, "Confirm")
        await admin.next("Closing 1 positions of scalper at market.")
        await frank.next("Position closed: ETHUSDT")

        # Finding a user and pausing their trading.
        await _open(admin, "Users")
        await admin.next("Send a platform id")
        await admin.send("fra")
        found = await admin.next("Users found: 1")
        await admin.press(found, "Frank")
        card = await admin.next("trading paused: no")
        await admin.press(card, "Pause trading")
        await admin.next("trading paused: yes")
        assert (await world.user(FRANK)).trading_paused

        # Status.
        await _open(admin, "Status")
        status = await admin.next("System status")
        assert "Trading: ▶️ running" in status.plain and "blocked: 1" in status.plain
        assert "Last signal:" in status.plain and "none yet" not in status.plain

        # The bot made admin of a channel: every admin hears its id, to map it.
        await world.api.bot_made_admin(-1009, by=ADMIN_ID)
        await admin.next("I was made an admin of the channel Signals (id -1009)")
        assert not any("made an admin" in output.plain for output in world.api.chats[GINA].outputs)

        # Gina, who had blocked the bot, writes again: reachable, and answered in her language.
        await gina.send("/menu")
        await gina.next("Выберите действие в меню ниже")
        assert (await world.user(GINA)).bot_blocked_at is None
