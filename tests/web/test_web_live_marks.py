"""Live marks on the websocket, through a real uvicorn server on loopback and the local exchange.

A price that moves on the venue reaches the owner's socket (``?marks=1``) with the PnL the positions listing
shows at that price, and never another user's socket; a reconnect starts from the current marks, not a
history. The simulator's prices move only when the test moves them, so every figure is known.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from web_world import BOT_TOKEN, World
from websockets.asyncio.client import ClientConnection, connect

from elcaro.core.config import Settings
from elcaro.core.secrets import generate_key
from elcaro.models import Target
from elcaro.services.runtime import Runtime, open_runtime
from elcaro.storage import Database

pytestmark = pytest.mark.db

WAIT_S = 20.0
"""A bound on waiting for what must come (the monitor prices every two seconds), never a measured duration."""
PAPER = "bybit:paper"
SYMBOL = "BTC/USDT:USDT"


@pytest.fixture
async def runtime(database: Database, tmp_path: Path) -> AsyncIterator[Runtime]:
    """The platform with a market that stands still until the test moves it (no synthetic walk)."""
    simulator = tmp_path / "simulator.toml"
    simulator.write_text('[prices]\nkind = "none"\n', encoding="utf-8")
    settings = Settings(
        data_dir=tmp_path,
        database_url=database.url,
        master_key=generate_key(),
        simulator_port=0,
        simulator_config_file=simulator,
        telegram_bot_token=BOT_TOKEN,
        web_port=0,
    )
    async with open_runtime(settings) as running:
        yield running


def _url(world: World, **query: Any) -> str:
    base = world.url.replace("http://", "ws://", 1) + "/api/v1/ws"
    return f"{base}?{urlencode({key: value for key, value in query.items() if value is not None})}"


async def _frame(socket: ClientConnection) -> dict[str, Any]:
    frame: dict[str, Any] = json.loads(await asyncio.wait_for(socket.recv(), WAIT_S))
    return frame


async def _marks_until(socket: ClientConnection, done: Callable[[dict[str, Any]], bool]) -> list[dict[str, Any]]:
    """Every mark the socket got until one satisfies ``done`` (events in between are skipped)."""
    seen: list[dict[str, Any]] = []
    async with asyncio.timeout(WAIT_S):
        while not seen or not done(seen[-1]):
            frame = await _frame(socket)
            assert frame["type"] in ("marks", "event"), frame
            if frame["type"] == "marks":
                seen.extend(frame["marks"])
    return seen


async def _until(condition: Callable[[], bool]) -> None:
    async with asyncio.timeout(WAIT_S):
        while not condition():  # noqa: ASYNC110 - the board has no event to wait on from outside
            await asyncio.sleep(0.01)


async def _trader(world: World, telegram_id: int, side: str, qty: str) -> tuple[int, dict[str, str], int]:
    """A user holding a managed BTC position on the paper venue: (user id, headers, position id)."""
    user = await world.user(telegram_id)
    headers = await world.headers(telegram_id)
    enabled = await world.client.put(f"/api/v1/me/targets/{PAPER}", json={"enabled": True}, headers=headers)
    assert enabled.status_code == 200, enabled.text
    body = {"symbol": "BTCUSDT", "side": side, "qty": qty, "target": PAPER, "intent": uuid.uuid4().hex}
    placed = await world.client.post("/api/v1/trading/manual", json=body, headers=headers)
    assert placed.status_code == 201, placed.text
    position_id = placed.json()["position_id"]
    assert position_id is not None, placed.text
    return user.id, headers, position_id


def _figures(shown: dict[str, Any]) -> tuple[Decimal, Decimal, Decimal]:
    """The figures as numbers: equal values may differ in trailing zeros (``4.505`` read back, ``4.50500`` held)."""
    return Decimal(shown["mark_price"]), Decimal(shown["unrealized_pnl"]), Decimal(shown["change_pct"])


def _move(world: World, price: str) -> None:
    world.runtime.exchange.simulator.venue.set_price("BTCUSDT", Decimal(price))


async def _listed(world: World, headers: dict[str, str], position_id: int) -> dict[str, Any]:
    answer = await world.client.get("/api/v1/trading/positions", params={"page_size": 50}, headers=headers)
    assert answer.status_code == 200, answer.text
    found: dict[str, Any] = next(item for item in answer.json()["items"] if item["id"] == position_id)
    return found


async def test_a_price_move_reaches_the_owner_with_the_listing_pnl_and_no_one_else(served: World) -> None:
    world = served
    alice, alice_headers, long_id = await _trader(world, 5101, "long", "0.01")
    _, bob_headers, short_id = await _trader(world, 5102, "short", "0.02")
    client = await world.runtime.access.client(alice, Target.parse(PAPER))
    contract = (await client.load_instruments())[SYMBOL].contract_size
    feed = world.app.state.services.feed
    alice_token = alice_headers["Authorization"].removeprefix("Bearer ")
    bob_token = bob_headers["Authorization"].removeprefix("Bearer ")

    async with (
        connect(_url(world, token=alice_token, marks=1)) as alices,
        connect(_url(world, token=bob_token, marks=1)) as bobs,
        connect(_url(world, token=alice_token)) as without,  # did not ask for marks
    ):
        for socket in (alices, bobs, without):
            assert (await _frame(socket))["type"] == "hello"
        _move(world, "60450.5")
        got = await _marks_until(alices, lambda mark: mark["mark_price"] == "60450.5")
        theirs = await _marks_until(bobs, lambda mark: mark["mark_price"] == "60450.5")
        assert world.runtime.positions.marks.listeners() == 2  # the socket that did not ask listens to none
        await without.send(json.dumps({"type": "ping"}))
        assert await _frame(without) == {"type": "pong"}

    assert {mark["position_id"] for mark in got} == {long_id}  # never Bob's, though on the same symbol
    assert {mark["position_id"] for mark in theirs} == {short_id}
    mine, his = got[-1], theirs[-1]
    assert mine["target"] == PAPER and mine["symbol"] == SYMBOL and isinstance(mine["at"], int)

    # Exactly what the listing shows at that price (the price still stands), and what the definitions give.
    listed = await _listed(world, alice_headers, long_id)
    assert listed["mark_price"] == "60450.5"
    assert _figures(mine) == _figures(listed)
    entry, qty = Decimal(listed["entry_price"]), Decimal(listed["qty"])
    assert Decimal(mine["unrealized_pnl"]) == (Decimal("60450.5") - entry) * qty * contract
    his_listed = await _listed(world, bob_headers, short_id)
    assert _figures(his) == _figures(his_listed)
    short_entry, short_qty = Decimal(his_listed["entry_price"]), Decimal(his_listed["qty"])
    assert Decimal(his["unrealized_pnl"]) == (short_entry - Decimal("60450.5")) * short_qty * contract
    # Marks are no events: nothing of them was numbered or kept for replay.
    assert all(message["type"] == "event" for message in feed.replay(alice, 0) or [])
    assert all("mark_price" not in message["event"] for message in feed.replay(alice, 0) or [])


async def test_a_reconnect_starts_from_the_current_marks(served: World) -> None:
    world = served
    alice, headers, long_id = await _trader(world, 5201, "long", "0.01")
    await _trader(world, 5202, "long", "0.01")  # another user's position on the same symbol: never in hers
    token = headers["Authorization"].removeprefix("Bearer ")
    board = world.runtime.positions.marks

    async with connect(_url(world, token=token, marks=1)) as first:
        hello = await _frame(first)
        _move(world, "60100")
        await _marks_until(first, lambda mark: mark["mark_price"] == "60100")
    _move(world, "60200")
    _move(world, "60300")  # while away: only where it ended matters
    await _until(lambda: [mark.mark_price for mark in board.current(alice)] == [Decimal(60300)])

    resumed = _url(world, token=token, marks=1, stream=hello["stream"], after=hello["user_seq"])
    async with connect(resumed) as again:
        assert (await _frame(again))["type"] == "hello"
        frame = await _frame(again)
        while frame["type"] == "event":  # events missed while away come first
            frame = await _frame(again)
        assert frame["type"] == "marks", frame
        assert [(mark["position_id"], mark["mark_price"]) for mark in frame["marks"]] == [(long_id, "60300")]
