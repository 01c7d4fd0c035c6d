"""The trader's menus on the paper venue: portfolio, positions with live PnL, history and statistics by period and
strategy, a strategy's direction, help, and switching the language (menu included)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from bot_world import PAPER, bot_world

from elcaro.models import Target

pytestmark = pytest.mark.db

KATE = 9009


async def test_the_traders_menus(tmp_path: Path, empty_database_url: str) -> None:
    async with bot_world(tmp_path, empty_database_url) as world:
        kate = await world.trader(KATE, "Kate")
        user = await world.user(KATE)
        await world.runtime.platform.preferences.set_target(user.id, PAPER)

        await kate.send("💼 Portfolio")
        portfolio = await kate.next("Portfolio")
        assert "Bybit · Paper" in portfolio.plain and "Equity: 10,000.00 USDT" in portfolio.plain

        # A manual position, marked up: live PnL in the list; closed from its card.
        await kate.send("BTCUSDT LONG 0.01")
        await kate.press(await kate.next("Manual order"), "Place on Bybit · Paper")
        await kate.next("Filled")
        world.runtime.exchange.paper.engine.update_mark("BTC/USDT:USDT", Decimal(61000))
        await kate.send("📈 Positions")
        listed = await kate.next("Open positions: 1")
        assert "BTCUSDT Long 0.01 · +10.00 USDT (+1.67%)" in listed.plain
        await kate.press(listed, "BTCUSDT Long")
        await kate.press(await kate.next("Entry: 60,000 · now: 61,000"), "Close at market")
        closed = await kate.next("Position closed: BTCUSDT")
        # 10 USDT less the exit's taker fee: the entry's was paid before the monitor adopted the position.
        assert "PnL: +9.66 USDT (fees 0.34 USDT)" in closed.plain

        # History and statistics.
        await kate.send("📜 History and stats")
        history = await kate.next("Closed trades")
        assert "BTCUSDT Long 0.01: 60,000 → 61,000" in history.plain and "Closed by hand" in history.plain
        await kate.press(history, "Today")
        today = await kate.next("Statistics: Today")
        assert "Trades: 1 (won 1, lost 0)" in today.plain and "manual: 1 trades, win rate 100.0%" in today.plain
        await kate.press(today, "manual")
        await kate.next("Statistics: Today, manual")
        await kate.press(today, data=today.data_of("All time"))
        await kate.next("Statistics: All time")

        # A strategy's direction cycles both → long → short.
        await kate.send("🧠 Strategies")
        await kate.press(await kate.next("Press a strategy"), "elcaro")
        card = await kate.next("You do not follow this strategy · long and short")
        await kate.press(card, "Direction")
        await kate.next("long only")

        # Trading mode: a live target needs the explicit opt-in, and switching it off withdraws it.
        live = Target.parse("bybit:live")
        await kate.send("🎯 Trading mode")
        mode = await kate.next("Trading mode")
        await kate.press(mode, "Bybit · Live")
        warning = await kate.next("Bybit · Live trades real money.")
        await kate.press(warning, "I understand: trade real money")
        await kate.next("Add your API keys for Bybit · Live")
        targets = {t.target: t for t in await world.runtime.platform.preferences.targets(user.id)}
        assert targets[live].enabled and targets[live].live_opt_in_at is not None
        await kate.send("🎯 Trading mode")
        off = await kate.press(await kate.next("Trading mode"), "Bybit · Live")
        assert (await kate.answer_to(off))["text"] == "You no longer trade on Bybit · Live."
        targets = {t.target: t for t in await world.runtime.platform.preferences.targets(user.id)}
        assert not targets[live].enabled and targets[live].live_opt_in_at is None

        # Help, then the language: the menu follows.
        await kate.send("❓ Help")
        await kate.next("How to use ElCaro")
        await kate.send("🌐 Language")
        await kate.press(await kate.next("Choose your language"), "Русский")
        await kate.next("Язык: русский.")
        menu = await kate.next("Меню теперь на русском.")
        assert "💼 Портфель" in str(menu.reply_markup)
        await kate.send("❓ Помощь")
        await kate.next("Как пользоваться ElCaro")
        assert (await world.user(KATE)).language == "ru"
