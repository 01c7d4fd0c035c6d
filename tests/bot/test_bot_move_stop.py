"""Moving a position's stop from its card in the bot: a typo and a refused level are explained and the next
try awaited; a good price reaches the paper venue and the card shows it."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from bot_world import PAPER, bot_world

from elcaro.services.exchange_access import paper_account_id

pytestmark = pytest.mark.db

LEO = 9031
BTC = "BTC/USDT:USDT"


async def test_the_stop_is_moved_from_the_position_card(tmp_path: Path, empty_database_url: str) -> None:
    async with bot_world(tmp_path, empty_database_url) as world:
        leo = await world.trader(LEO, "Leo")
        user = await world.user(LEO)
        await world.runtime.platform.preferences.set_target(user.id, PAPER)
        engine = world.runtime.exchange.paper.engine

        await leo.send("BTCUSDT LONG 0.01")
        await leo.press(await leo.next("Manual order"), "Place on Bybit · Paper")
        await leo.next("Filled")
        before = engine.position(paper_account_id(user.id), BTC).stop_loss
        assert before is not None and before < Decimal(58500)

        await leo.send("📈 Positions")
        await leo.press(await leo.next("Open positions: 1"), "BTCUSDT Long")
        await leo.press(await leo.next("Entry: 60,000 · now: 60,000"), "Move the stop")
        await leo.next("Send the new stop price")

        await leo.send("soon")
        await leo.next("soon is not a price")
        await leo.send("61000")  # above a long's price: it would fire at once
        refused = await leo.next("This stop cannot be set")
        assert "below the last price 60000" in refused.plain
        assert engine.position(paper_account_id(user.id), BTC).stop_loss == before

        await leo.send("58500")
        await leo.next("Stop of BTCUSDT set to 58,500")
        card = await leo.next("Stop: 58,500")
        assert "Move the stop" in " ".join(card.button_texts)
        assert engine.position(paper_account_id(user.id), BTC).stop_loss == Decimal(58500)

        await leo.send("58000")  # the question was answered: this is no stop any more
        await leo.next("I didn't understand that")
