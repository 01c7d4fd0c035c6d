"""The websocket through a real uvicorn server on loopback, with the ``websockets`` client a browser stands for.

Events reach their user only, numbered per channel; a dropped connection resumes with ``?stream=&after=``
(the missed events first, in order, then the live ones), or is told to ``resync`` when the numbers are not
this feed's; a logout or a ban closes a connection that is already open.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import pytest
from web_world import World
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from elcaro.models.events import EventKind, TradingEvent
from elcaro.web.feed import EventFeed
from elcaro.web.routes import live

pytestmark = pytest.mark.db

WAIT_S = 20.0
"""A bound on waiting for what must come, so a broken feed fails the test instead of hanging it."""


def _url(world: World, **query: Any) -> str:
    base = world.url.replace("http://", "ws://", 1) + "/api/v1/ws"
    given = urlencode({key: value for key, value in query.items() if value is not None})
    return f"{base}?{given}" if given else base


async def _frame(socket: ClientConnection) -> dict[str, Any]:
    frame: dict[str, Any] = json.loads(await asyncio.wait_for(socket.recv(), WAIT_S))
    return frame


async def _close_code(socket: ClientConnection) -> int | None:
    """Read until the server closes; the code it closed with."""
    try:
        while True:
            await asyncio.wait_for(socket.recv(), WAIT_S)
    except ConnectionClosed as ended:
        return None if ended.rcvd is None else ended.rcvd.code


async def _until(condition: Callable[[], bool]) -> None:
    async with asyncio.timeout(WAIT_S):
        while not condition():  # noqa: ASYNC110 - the feed's counters have no event to wait on
            await asyncio.sleep(0.01)


def _feed(world: World) -> EventFeed:
    feed: EventFeed = world.app.state.services.feed
    return feed


def _event(user_id: int | None, n: int, kind: EventKind = EventKind.ENTRY_PLACED) -> TradingEvent:
    return TradingEvent(kind, at=n, user_id=user_id, symbol="BTC/USDT:USDT", message=f"#{n}")


async def test_events_are_the_callers_only_numbered_and_resumed_after_a_drop(served: World) -> None:
    world = served
    alice = await world.user(4001)
    bob = await world.user(4002)
    token = (await world.login(4001))["access_token"]
    bus, feed = world.runtime.bus, _feed(world)

    first = await connect(_url(world, token=token))
    hello = await _frame(first)
    assert hello == {"type": "hello", "stream": feed.stream, "user_seq": 0, "admin_seq": None}
    bus.publish(_event(bob.id, 1))
    bus.publish(_event(alice.id, 2))
    bus.publish(_event(alice.id, 3))
    got = [await _frame(first), await _frame(first)]
    assert [m["seq"] for m in got] == [1, 2] and [m["channel"] for m in got] == ["user", "user"]
    assert [m["event"]["message"] for m in got] == ["#2", "#3"]  # never Bob's
    assert got[0]["event"]["kind"] == "entry_placed" and got[0]["event"]["symbol"] == "BTC/USDT:USDT"

    first.transport.abort()  # the network drops: no closing handshake
    await _until(lambda: feed.connections() == 0)
    bus.publish(_event(alice.id, 4))
    bus.publish(_event(alice.id, 5))
    await _until(lambda: feed.last_seq(alice.id) == 4)

    async with connect(_url(world, token=token, stream=hello["stream"], after=got[-1]["seq"])) as again:
        assert (await _frame(again))["user_seq"] == 4
        missed = [await _frame(again), await _frame(again)]
        assert [m["seq"] for m in missed] == [3, 4] and [m["event"]["message"] for m in missed] == ["#4", "#5"]
        bus.publish(_event(alice.id, 6))
        live_one = await _frame(again)
        assert live_one["seq"] == 5 and live_one["event"]["message"] == "#6"  # then live, no gap, no repeat

    async with connect(_url(world, token=token, stream=hello["stream"], after=5)) as caught_up:
        await _frame(caught_up)
        bus.publish(_event(alice.id, 7))
        assert (await _frame(caught_up))["seq"] == 6  # nothing missed: straight to what is new

    async with connect(_url(world, token=token, stream="0ther", after=2)) as elsewhere:
        await _frame(elsewhere)
        assert await _frame(elsewhere) == {"type": "resync", "channel": "user", "stream": feed.stream}


async def test_a_resume_older_than_the_buffer_is_told_to_resync(served: World) -> None:
    world = served
    alice = await world.user(4011)
    token = (await world.login(4011))["access_token"]
    feed = _feed(world)
    async with connect(_url(world, token=token)) as socket:
        stream = (await _frame(socket))["stream"]
    for n in range(feed._buffer + 5):
        world.runtime.bus.publish(_event(alice.id, n))
    await _until(lambda: feed.last_seq(alice.id) == feed._buffer + 5)
    async with connect(_url(world, token=token, stream=stream, after=1)) as late:
        await _frame(late)
        assert (await _frame(late))["type"] == "resync"
        world.runtime.bus.publish(_event(alice.id, 999))
        assert (await _frame(late))["seq"] == feed._buffer + 6  # and the live events carry on


async def test_the_token_may_come_in_the_first_frame_and_bad_or_missing_ones_close(
    served: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = served
    await world.user(4003)
    token = (await world.login(4003))["access_token"]
    async with connect(_url(world)) as socket:
        await socket.send(json.dumps({"type": "auth", "token": token}))
        assert (await _frame(socket))["type"] == "hello"
        await socket.send(json.dumps({"type": "ping"}))
        assert await _frame(socket) == {"type": "pong"}
        await socket.send("not json")  # ignored, the connection stays
        await socket.send(b"\x00binary")  # so is a binary frame
        await socket.send(json.dumps({"type": "ping"}))
        assert await _frame(socket) == {"type": "pong"}

    async with connect(_url(world, token="not-a-token")) as refused:
        assert await _close_code(refused) == 4401
    async with connect(_url(world)) as wrong_first:
        await wrong_first.send(json.dumps({"type": "hello"}))
        assert await _close_code(wrong_first) == 4401
    async with connect(_url(world)) as binary_first:
        await binary_first.send(b"\x01")  # skipped: the auth frame may still follow
        await binary_first.send(json.dumps({"type": "auth", "token": token}))
        assert (await _frame(binary_first))["type"] == "hello"
    monkeypatch.setattr(live, "AUTH_TIMEOUT_S", 0.2)
    async with connect(_url(world)) as silent:
        assert await _close_code(silent) == 4408


@pytest.mark.parametrize("ending", ["logout", "ban"])
async def test_an_open_connection_closes_when_its_session_ends(
    served: World, monkeypatch: pytest.MonkeyPatch, ending: str
) -> None:
    world = served
    monkeypatch.setattr(live, "SESSION_CHECK_S", 0.05)
    await world.user(4004, admin=True)
    user = await world.user(4005)
    tokens = await world.login(4005)
    async with connect(_url(world, token=tokens["access_token"])) as socket:
        await _frame(socket)
        if ending == "logout":
            answer = await world.client.post("/api/v1/auth/logout", json={"refresh_token": tokens["refresh_token"]})
        else:
            admin = await world.headers(4004)
            answer = await world.client.post(f"/api/v1/admin/users/{user.id}/ban", json={}, headers=admin)
        assert answer.status_code in (200, 204)
        assert await _close_code(socket) == 4401


async def test_admins_also_get_the_admins_channel(served: World) -> None:
    world = served
    trader = await world.user(4006)
    await world.user(4007, admin=True)
    feed = _feed(world)
    async with (
        connect(_url(world, token=(await world.login(4007))["access_token"])) as admin,
        connect(_url(world, token=(await world.login(4006))["access_token"])) as user,
    ):
        hello = await _frame(admin)
        assert hello["admin_seq"] == 0
        await _frame(user)
        world.runtime.bus.publish(_event(None, 1, EventKind.SIGNAL_REJECTED))  # no user: the admins'
        world.runtime.bus.publish(_event(trader.id, 2))
        message = await _frame(admin)
        assert message["channel"] == "admin" and message["event"]["kind"] == "signal_rejected"
        assert (await _frame(user))["event"]["message"] == "#2"  # the user never saw the admins' event
    world.runtime.bus.publish(_event(None, 3, EventKind.SIGNAL_REJECTED))
    await _until(lambda: feed.last_seq("admin") == 2)
    token = (await world.login(4007))["access_token"]
    async with connect(_url(world, token=token, stream=feed.stream, admin_after=1)) as back:
        await _frame(back)
        missed = await _frame(back)
        assert missed["channel"] == "admin" and missed["seq"] == 2 and missed["event"]["message"] == "#3"


async def test_closing_a_real_position_is_pushed_live(served: World) -> None:
    """Placed and closed through the API on the paper venue; the monitor's event reaches the socket."""
    world = served
    await world.user(4008)
    headers = await world.headers(4008)
    client = world.client
    enabled = await client.put("/api/v1/me/targets/bybit:paper", json={"enabled": True}, headers=headers)
    assert enabled.status_code == 200, enabled.text
    token = headers["Authorization"].removeprefix("Bearer ")
    async with connect(_url(world, token=token)) as socket:
        await _frame(socket)
        placed = await client.post(
            "/api/v1/trading/manual",
            json={
                "symbol": "BTCUSDT",
                "side": "long",
                "qty": "0.01",
                "target": "bybit:paper",
                "intent": uuid.uuid4().hex,
            },
            headers=headers,
        )
        assert placed.status_code == 201, placed.text
        position_id = placed.json()["position_id"]
        closing = await client.post(f"/api/v1/trading/positions/{position_id}/close", headers=headers)
        assert closing.status_code == 202, closing.text
        seen: list[dict[str, Any]] = []
        while not any(m["event"]["kind"] == "position_closed" for m in seen):
            message = await _frame(socket)
            assert message["type"] == "event", message
            seen.append(message)
    closed = next(m for m in seen if m["event"]["kind"] == "position_closed")
    assert closed["event"]["position_id"] == position_id and closed["event"]["symbol"] == "BTC/USDT:USDT"
    assert [m["seq"] for m in seen] == list(range(1, len(seen) + 1))
    still_open = await client.get(f"/api/v1/trading/positions/{position_id}", headers=headers)
    assert still_open.status_code == 404  # closed: no longer among the open positions
