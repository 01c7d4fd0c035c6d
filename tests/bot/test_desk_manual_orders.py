"""Manual orders: the text a trader types, parsed exactly or refused with the part that is wrong; through the bot
on the paper venue, a market order is confirmed, filled and managed as strategy ``manual``, a limit order rests,
shows in Orders and can be cancelled, and is taken under management once it fills."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from bot_world import PAPER, bot_world
from hypothesis import given
from hypothesis import strategies as st

from elcaro.bot.callbacks import R
from elcaro.models import PositionSide
from elcaro.services.desk import DeskError, parse_manual_order

amounts = st.decimals(min_value=Decimal("0.0001"), max_value=Decimal(10**6), places=4, allow_nan=False)


@given(
    base=st.sampled_from(["BTC", "ETH", "1000PEPE", "sol"]),
    side=st.sampled_from(["long", "SHORT", "Buy", "sell"]),
    price=st.none() | amounts,
    qty=amounts,
)
def test_typed_orders_read_exactly(base: str, side: str, price: Decimal | None, qty: Decimal) -> None:
    text = " ".join(part for part in (f"{base}USDT", side, None if price is None else f"{price:f}", f"{qty:f}") if part)
    order = parse_manual_order(text)
    assert order.symbol == f"{base.upper()}/USDT:USDT"
    assert order.side is (PositionSide.LONG if side.lower() in ("long", "buy") else PositionSide.SHORT)
    assert order.qty == qty and order.price == price


@given(st.text(max_size=100))
def test_anything_else_is_refused_with_a_code_never_a_crash(text: str) -> None:
    try:
        order = parse_manual_order(text)
    except DeskError as error:
        refusal: str | None = error.code
    else:
        refusal = None
        assert order.qty > 0 and (order.price is None or order.price > 0)
    assert refusal is None or refusal.startswith("manual.")


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("BTCUSDT LONG", "manual.format"),
        ("BTC LONG 1", "manual.symbol"),
        ("BTCUSDT UP 1", "manual.side"),
        ("BTCUSDT LONG -1", "manual.qty"),
        ("BTCUSDT LONG 0", "manual.qty"),
        ("BTCUSDT LONG x 1", "manual.price"),
        ("BTCUSDT SHORT 3,400 1", "manual.ambiguous"),
    ],
)
def test_each_mistake_is_named(text: str, code: str) -> None:
    with pytest.raises(DeskError) as refused:
        parse_manual_order(text)
    assert refused.value.code == code


def test_a_decimal_comma_is_read_where_it_cannot_be_a_thousands_separator() -> None:
    assert parse_manual_order("ETHUSDT SHORT 3400,5 0,25").price == Decimal("3400.5")
    assert parse_manual_order("ETHUSDT SHORT 3400,5 0,25").qty == Decimal("0.25")


DAVE = 5005


@pytest.mark.db
async def test_manual_orders_through_the_bot(tmp_path: Path, empty_database_url: str) -> None:
    async with bot_world(tmp_path, empty_database_url) as world:
        dave = await world.trader(DAVE, "Dave")
        user = await world.user(DAVE)
        await world.runtime.platform.preferences.set_target(user.id, PAPER)
        desk = world.bot.services.desk

        # Market: confirmed, filled, managed as ``manual`` with the stop from the settings (3 % by default).
        await dave.send("BTCUSDT LONG 0.01")
        preview = await dave.next("Manual order")
        assert "market (now about 60,000)" in preview.plain and "stop 58,200" in preview.plain
        await dave.press(preview, "Place on Bybit · Paper")
        filled = await dave.next("Filled: BTCUSDT 0.01 at 60,000")
        await dave.press(filled, "Open position")
        card = await dave.next("BTCUSDT Long")
        assert "manual" in card.plain and "Stop: 58,200" in card.plain

        # A second manual order on a managed symbol is refused before anything is sent.
        await dave.send("BTCUSDT SHORT 0.01")
        await dave.next("BTCUSDT on Bybit · Paper is already a position the platform manages")

        # Limit: rests, shows in Orders beside the managed stop (which cannot be cancelled here), and cancels.
        await dave.send("ETHUSDT SHORT 3400 0.5")
        preview = await dave.next("limit at 3,400")
        await dave.press(preview, "Place on Bybit · Paper")
        await dave.next("Limit order placed: ETHUSDT 0.5 at 3,400")
        await dave.send("📋 Orders")
        orders = await dave.next("Open orders: 2")
        assert "BTCUSDT" in orders.plain and "🔒" in orders.plain
        assert [text for text in orders.button_texts if text.startswith("✖️")] == ["✖️ Cancel ETHUSDT 0.5"]
        managed = next(view for view in await desk.open_orders(user.id) if view.managed)
        refused = await dave.answer_to(await dave.press(orders, data=R.CANCEL_ORDER(str(PAPER), managed.ref)))
        assert refused["text"] == "This order belongs to a position the platform manages. Close the position instead."
        await dave.press(orders, "Cancel ETHUSDT")
        await dave.next("Open orders: 1")
        gone = await dave.answer_to(await dave.press(orders, data=orders.data_of("Cancel ETHUSDT")))
        assert gone["text"] == "This order is no longer open."

        # A resting limit order that fills is taken under management.
        await dave.send("ETHUSDT SHORT 3300 0.5")
        await dave.press(await dave.next("limit at 3,300"), "Place on Bybit · Paper")
        await dave.next("Limit order placed")
        world.runtime.exchange.paper.engine.update_mark("ETH/USDT:USDT", Decimal(3300))
        assert await desk.adopt_filled() == 1
        listed = await desk.positions(user.id)
        assert sorted((view.symbol, view.position.strategy) for view in listed.items) == [
            ("BTC/USDT:USDT", "manual"),
            ("ETH/USDT:USDT", "manual"),
        ]
