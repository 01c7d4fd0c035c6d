"""``/api/v1/ws``: the caller's live events (positions, orders, trades, errors; admins also the admins' feed).

Protocol (JSON text frames):

1. Connect to ``/api/v1/ws``; optionally ``?token=<access token>`` (browsers cannot set headers on a
   websocket). Without it, the first frame must be ``{"type": "auth", "token": "<access token>"}`` within
   10 s — prefer this: a query string can end up in proxy logs.
2. The server answers ``{"type": "hello", "stream": "<id>", "user_seq": n, "admin_seq": m | null}``.
3. Then ``{"type": "event", "stream", "channel": "user" | "admin", "seq", "event": {...}}`` as things happen;
   ``seq`` counts up by one per channel.
4. To resume after a drop, reconnect with ``?stream=<id>&after=<last user seq>`` (admins also
   ``&admin_after=<last admin seq>``): the missed events come first, in order. When they are no longer kept
   (or the server restarted: another stream) the server sends ``{"type": "resync", "channel": …}`` — refetch
   over REST, then carry on from the events that follow.
5. With ``?marks=1`` the client also gets the live figures of its user's open managed positions, as the
   position monitor prices them: ``{"type": "marks", "marks": [{"position_id", "target", "symbol",
   "mark_price", "unrealized_pnl", "change_pct", "at"}, ...]}`` (decimals as exact strings, the same
   figures ``/trading/positions`` shows at that price; ``at`` when the price was read, epoch ms). The
   current ones come right after the hello (and any catch-up); then the changes, at most one a second per
   position and none while a figure stands still. Marks are not numbered and never replayed: the latest
   replaces the one before, so a reconnect gets the current marks, not what it missed. A mark may name a
   position the client does not show yet (ignore it); a closed position gets no more marks.
6. A client may send ``{"type": "ping"}`` and gets ``{"type": "pong"}``. Close codes: 4401 not logged in
   (or, later, the session ended: a logout, a ban), 4408 no auth frame in time, 4409 fell too far behind
   (reconnect and resync).

The connection lives as long as the *session*, not the access token it opened with: every
``SESSION_CHECK_S`` the session and the user are read again, and the socket closes with 4401 once
either is no longer good.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from starlette.websockets import WebSocketDisconnected

from elcaro.models.errors import ElcaroError
from elcaro.services.positions.marks import MarkBoard, MarkListener
from elcaro.services.web_sessions import Caller
from elcaro.web.feed import ADMIN, EventFeed, Listener, marks_message

log = logging.getLogger(__name__)

router = APIRouter(tags=["live"])

AUTH_TIMEOUT_S = 10.0
SESSION_CHECK_S = 30.0


async def _authenticate(socket: WebSocket, token: str | None) -> Caller | None:
    services = socket.app.state.services
    if token is None:
        try:
            first = await asyncio.wait_for(_next_text(socket), AUTH_TIMEOUT_S)
        except TimeoutError:
            await socket.close(4408, "send an auth frame first")
            return None
        try:
            frame = json.loads(first)
        except ValueError:
            frame = None
        token = frame.get("token") if isinstance(frame, dict) and frame.get("type") == "auth" else None
        if not isinstance(token, str):
            await socket.close(4401, "the first frame must be {type: auth, token}")
            return None
    try:
        caller: Caller = await services.sessions.authenticate(token)
    except ElcaroError:
        await socket.close(4401, "not logged in: refresh the access token")
        return None
    return caller


async def _next_text(socket: WebSocket) -> str:
    """The next text frame from the client (binary frames mean nothing in this protocol and are skipped)."""
    while True:
        message = await socket.receive()
        if message["type"] == "websocket.disconnect":
            raise WebSocketDisconnect(message.get("code", 1000), message.get("reason"))
        text = message.get("text")
        if isinstance(text, str):
            return text


def _catch_up(feed: EventFeed, channel: int | str, stream: str | None, after: int | None) -> list[dict[str, Any]]:
    if after is None:
        return []
    missed = feed.replay(channel, after) if stream == feed.stream else None
    if missed is None:
        return [{"type": "resync", "channel": "admin" if channel == ADMIN else "user", "stream": feed.stream}]
    return missed


@router.websocket("/ws")
async def live(
    socket: WebSocket,
    token: str | None = None,
    stream: str | None = None,
    after: int | None = None,
    admin_after: int | None = None,
    marks: bool = False,
) -> None:
    await socket.accept()
    caller = await _authenticate(socket, token)
    if caller is None:
        return
    services = socket.app.state.services
    feed: EventFeed = services.feed
    admin = caller.user.is_admin
    listener = feed.listen(caller.user.id, admin=admin)  # before the catch-up, so nothing falls in between
    board: MarkBoard = services.runtime.positions.marks
    # Before the current marks are read: a change in between is sent twice (harmless), never lost.
    priced = board.listen(caller.user.id) if marks else None
    services.metrics.websockets.inc()
    try:
        await socket.send_json(
            {
                "type": "hello",
                "stream": feed.stream,
                "user_seq": feed.last_seq(caller.user.id),
                "admin_seq": feed.last_seq(ADMIN) if admin else None,
            }
        )
        sent: dict[str, int] = {}
        backlog = _catch_up(feed, caller.user.id, stream, after)
        if admin:
            backlog += _catch_up(feed, ADMIN, stream, admin_after)
        for message in backlog:
            await _send(socket, message, sent)
        current = board.current(caller.user.id) if priced is not None else []
        if current:
            await socket.send_json(marks_message(current))
        await _serve(socket, listener, priced, sent, caller)
    except WebSocketDisconnect:
        pass
    finally:
        listener.close()
        if priced is not None:
            priced.close()
        services.metrics.websockets.dec()


async def _send(socket: WebSocket, message: dict[str, Any], sent: dict[str, int]) -> None:
    """Send an event once: one already sent in the catch-up is not sent again from the live queue."""
    if message.get("type") == "event":
        channel = message["channel"]
        if message["seq"] <= sent.get(channel, 0):
            return
        sent[channel] = message["seq"]
    await socket.send_json(message)


async def _serve(
    socket: WebSocket, listener: Listener, priced: MarkListener | None, sent: dict[str, int], caller: Caller
) -> None:
    async def pump() -> None:
        while True:
            message = await listener.queue.get()
            await _send(socket, message, sent)
            if listener.overflowed and listener.queue.empty():
                await socket.send_json({"type": "resync", "channel": "all"})
                await socket.close(4409, "fell too far behind: reconnect")
                return

    async def read() -> None:
        while True:
            text = await _next_text(socket)
            with contextlib.suppress(ValueError):
                frame = json.loads(text)
                if isinstance(frame, dict) and frame.get("type") == "ping":
                    await socket.send_json({"type": "pong"})

    async def watch() -> None:
        sessions = socket.app.state.services.sessions
        while True:
            await asyncio.sleep(SESSION_CHECK_S)
            try:
                await sessions.recheck(caller)
            except ElcaroError:
                await socket.close(4401, "the session has ended: log in again")
                return
            except Exception:  # the database did not answer: keep the connection, check again next time
                log.warning("websocket of user %s: the session could not be checked", caller.user.id, exc_info=True)

    async def push_marks(marks: MarkListener) -> None:
        while True:
            await socket.send_json(marks_message(await marks.changes()))

    tasks = [asyncio.create_task(pump()), asyncio.create_task(read()), asyncio.create_task(watch())]
    if priced is not None:
        tasks.append(asyncio.create_task(push_marks(priced)))
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            error = task.exception()
            if error is not None and not isinstance(error, WebSocketDisconnect | WebSocketDisconnected):
                raise error
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
