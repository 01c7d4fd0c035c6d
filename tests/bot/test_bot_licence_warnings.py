"""Licence expiry warnings: what the hourly job sends reaches the holder through the bot, in their language, once."""

from __future__ import annotations

from pathlib import Path

import pytest
from bot_world import bot_world

pytestmark = pytest.mark.db


async def test_the_expiry_warning_job_reaches_the_holder_in_their_language(
    tmp_path: Path, empty_database_url: str
) -> None:
    async with bot_world(tmp_path, empty_database_url) as world:
        platform = world.runtime.platform
        olga = await world.trader(4401, "Olga", language="ru")
        ann = await world.trader(4402, "Ann")
        for telegram_id in (4401, 4402):
            user = await world.user(telegram_id)
            await platform.licences.grant(None, user.id, "premium", 2, "ends within the first warning")

        # What the scheduled job runs (services.jobs, every hour): one warning for each, delivered by the bot.
        assert len(await platform.licences.send_expiry_warnings()) == 2
        await olga.next("Ваша лицензия Премиум закончится через 3 дн.")
        await ann.next("Your Premium licence ends in 3 days")
        assert await platform.licences.send_expiry_warnings() == []  # claimed: never sent twice
