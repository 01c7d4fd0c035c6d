"""Channel posts and edited posts go to signal ingest; only configured channels count; admins hear of posts
that looked like signals and were refused."""

from __future__ import annotations

from pathlib import Path

import pytest
from bot_world import CHANNEL, bot_world

pytestmark = pytest.mark.db


async def test_posts_and_edited_posts_become_signals(tmp_path: Path, empty_database_url: str) -> None:
    async with bot_world(tmp_path, empty_database_url) as world:
        api = world.api
        admin = await world.admin()
        await world.runtime.platform.signal_sources.add_channel(str(CHANNEL), strategy="scryptomera")

        await api.post(-100999, "SCRIPTOMER LONG ETHUSDT @ 3000")  # a channel nobody configured
        chatter = await api.post(CHANNEL, "Good morning, traders")
        await api.edit_post(CHANNEL, chatter.message_id, "SCRIPTOMER LONG BTCUSDT @ 60000")
        await api.post(CHANNEL, "SCRIPTOMER LONG BTCUSDT @ sixty thousand")  # looks like a signal, is not one

        # One chat's updates are handled in order: once the last post's refusal reaches the admin, all are in.
        rejected = await admin.next("rejected from channel:")
        assert f"channel:{CHANNEL}" in rejected.plain
        recent = await world.runtime.platform.signal_sources.recent_signals(10)
        assert [(str(s.source), s.symbol, s.status) for s in reversed(recent)] == [
            (f"channel:{CHANNEL}", "BTC/USDT:USDT", "accepted"),
            (f"channel:{CHANNEL}", None, "rejected"),
        ]
