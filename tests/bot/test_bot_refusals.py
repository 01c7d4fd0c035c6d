"""What the bot cannot do gets a clear answer in the user's language and changes nothing: unknown commands and
text, malformed manual orders, invalid setting values, stale and forged buttons, a confirmation used twice."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from bot_world import PAPER, BotWorld, bot_world

from elcaro.models import PositionSide

pytestmark = pytest.mark.db

BORIS = 2002


async def _venue_state(world: BotWorld, user_id: int) -> tuple[int, int]:
    client = await world.runtime.access.client(user_id, PAPER)
    return len(await client.fetch_open_orders()), len(await client.fetch_positions())


async def test_refusals_are_answered_in_russian_and_change_nothing(tmp_path: Path, empty_database_url: str) -> None:
    async with bot_world(tmp_path, empty_database_url) as world:
        boris = await world.trader(BORIS, "Борис", language="ru")
        user = await world.user(BORIS)
        assert user.language == "ru"
        await world.runtime.platform.preferences.set_target(user.id, PAPER)

        # Unknown command, unknown text.
        await boris.send("/moon")
        await boris.next("Я не знаю такой команды")
        await boris.send("привет")
        await boris.next("Я не понял")

        # Malformed manual orders: each names what is wrong; nothing reaches the venue.
        for text, answer in (
            ("BTCUSDT LONG abc", "Количество должно быть положительным числом, а не abc"),
            ("BTCUSDT LONG 3,400 0.5", "запятая может быть и десятичной"),
            ("FOO LONG 1", "FOO не похоже на пару к USDT"),
            ("BTCUSDT LONG 1 2 3", "Напишите ордер так"),
            ("BTCUSDT LONG 0.0001", "Количество меньше минимума 0,001 для BTCUSDT на Bybit · Бумажная"),
            ("BTCUSDT SHORT 0.00005", "Количество меньше минимума 0,001"),
        ):
            await boris.send(text)
            refused = await boris.next("Не выставлено")
            assert answer in refused.plain, (text, refused.plain)
        assert await _venue_state(world, user.id) == (0, 0)

        # Invalid setting values: the field and its allowed range, in Russian; the stored settings stay.
        await boris.send("🧠 Стратегии")
        await boris.press(await boris.next("Нажмите на стратегию"), "scalper")
        card = await boris.next("Вы не следуете этой стратегии")
        await boris.press(card, "Риск на сделку, %")
        await boris.next("Отправьте новое значение")
        for typed in ("50", "abc", "0"):
            await boris.send(typed)
            refused = await boris.next("Не сохранено, ничего не изменилось")
            assert "Риск на сделку, %: число от 0,01 до 10." in refused.plain
        preferences = world.runtime.platform.preferences
        settings = await preferences.effective(user.id, PAPER, "scalper", PositionSide.LONG)
        assert settings.risk_pct == Decimal(1)
        await boris.send("1,5")  # a Russian keyboard's decimal comma
        await boris.next("Сохранено: Риск на сделку, % теперь 1,5%")
        settings = await preferences.effective(user.id, PAPER, "scalper", PositionSide.LONG)
        assert settings.risk_pct == Decimal("1.5")

        # Forged, outdated and unknown buttons.
        for data in ("1|pv|abc", "0|pv|1", "1|zz|1", "1|pv|1|2", "garbage"):
            answer = await boris.answer_to(await boris.press(card, data=data))
            assert answer["text"].startswith("Эта кнопка больше не действует"), data

        # A confirmation works once: pressed again it is stale and no second order is placed.
        await boris.send("BTCUSDT LONG 0.01")
        preview = await boris.next("Ручной ордер")
        assert "0,01" in preview.plain and "Bybit · Бумажная" in preview.plain
        place = preview.data_of("Выставить на Bybit · Бумажная")
        await boris.press(preview, data=place)
        await boris.next("Исполнено: BTCUSDT 0,01")
        again = await boris.answer_to(await boris.press(preview, data=place))
        assert again["text"].startswith("Эта кнопка больше не действует")
        assert await _venue_state(world, user.id) == (1, 1)  # the position, and its stop resting


async def test_people_not_yet_allowed_are_told_why(tmp_path: Path, empty_database_url: str) -> None:
    async with bot_world(tmp_path, empty_database_url) as world:
        admin = await world.admin()
        stranger = world.api.user(3003, "Stranger")
        await stranger.send("💼 Portfolio")
        await stranger.next("Please send /start first to register.")

        newcomer = world.api.user(3004, "Newcomer", username="newcomer")
        await newcomer.send("/start")
        terms = await newcomer.next("Terms of use")
        await newcomer.press(terms, "I accept")
        await newcomer.next("waiting for an admin's approval")
        await newcomer.send("📈 Positions")
        await newcomer.next("waiting for an admin's approval")

        # Banned: a short notice only, whatever they send.
        request = await admin.next("New user: @newcomer")
        await admin.press(request, "Ban")
        await admin.next("Banned: yes")
        newcomer.skip_all()
        await newcomer.send("/start")
        notice = await newcomer.next()
        assert notice.plain == "Your access to this bot has been blocked."
        assert notice.reply_markup == {"remove_keyboard": True}  # and the menu is taken away
        await newcomer.send("BTCUSDT LONG 0.01")
        assert (await newcomer.next()).plain == "Your access to this bot has been blocked."
        # A stale Approve/Ban button on a banned user: a clear answer, nothing changes.
        again = await admin.answer_to(await admin.press(request, data=request.data_of("Ban")))
        assert again["text"] == "@newcomer is already banned. Nothing was changed."
