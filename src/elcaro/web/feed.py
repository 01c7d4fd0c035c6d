"""The live feed behind the websocket: the platform's notices, numbered per user, with a short replay buffer.

One subscription to ``Notifications`` (everyone's notices) feeds every connection. Each notice goes to a
*channel* — its user's (``user``) or, for notices that belong to no user, the admins' (``admin``) — and
takes the next sequence number of that channel. The last ``buffer`` messages of each channel are kept, so
a client that reconnects with the last number it saw gets what it missed, in order, before anything new.
When the gap is older than the buffer (or the feed restarted: ``stream`` differs), the client is told to
``resync`` — refetch what it shows — instead of being handed a silently incomplete history.

A connection that falls behind by more than its queue holds is closed with ``resync`` rather than
slowing the feed for everyone.

Marks (each open position's mark price and unrealised PnL, ``marks_message``) travel beside the events, not
among them: they come from the position monitor's ``MarkBoard``, are not numbered and are not kept here — the
latest value replaces the one before, and a connection starts from the current ones instead of a history.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections import deque
from collections.abc import AsyncIterator, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from elcaro.services.notifications import ErrorDigest, Notice, Notifications
from elcaro.services.positions.marks import PositionMark

log = logging.getLogger(__name__)

DEFAULT_BUFFER = 200
LISTENER_QUEUE = 1000
ADMIN = "admin"


def notice_json(notice: Notice) -> dict[str, Any]:
    """A notice as JSON-ready values (decimals are already exact strings in ``data``)."""
    if isinstance(notice, ErrorDigest):
        return {
            "kind": "error_digest",
            "at": notice.at,
            "count": notice.count,
            "codes": dict(notice.codes),
            "first_at": notice.first_at,
            "last_at": notice.last_at,
            "message": notice.last_message,
        }
    return {
        "kind": notice.kind.value,
        "at": notice.at,
        "target": None if notice.target is None else str(notice.target),
        "symbol": notice.symbol,
        "signal_id": notice.signal_id,
        "position_id": notice.position_id,
        "code": notice.code,
        "data": dict(notice.data),
        "message": notice.message,
    }


def marks_message(marks: Iterable[PositionMark]) -> dict[str, Any]:
    """A ``marks`` frame: the latest figures of some of the user's open positions, exact decimals as strings."""
    return {
        "type": "marks",
        "marks": [
            {
                "position_id": mark.position_id,
                "target": str(mark.target),
                "symbol": mark.symbol,
                "mark_price": str(mark.mark_price),
                "unrealized_pnl": str(mark.unrealized_pnl),
                "change_pct": str(mark.change_pct),
                "at": mark.at,
            }
            for mark in marks
        ],
    }


@dataclass
class _Channel:
    buffer: int
    seq: int = 0
    recent: deque[dict[str, Any]] = field(default_factory=deque)

    def add(self, message: dict[str, Any]) -> None:
        self.recent.append(message)
        while len(self.recent) > self.buffer:
            self.recent.popleft()


class Listener:
    """One connection's queue of messages for its channels; ``overflowed`` once it fell too far behind."""

    def __init__(self, feed: EventFeed, channels: tuple[int | str, ...]) -> None:
        self._feed = feed
        self.channels = channels
        self.queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(LISTENER_QUEUE)
        self.overflowed = False

    def offer(self, message: dict[str, Any]) -> None:
        if self.overflowed:
            return
        try:
            self.queue.put_nowait(message)
        except asyncio.QueueFull:
            self.overflowed = True  # nothing more is queued: the connection ends with ``resync``

    def close(self) -> None:
        self._feed._listeners.discard(self)


class EventFeed:
    def __init__(self, notifications: Notifications, *, buffer: int = DEFAULT_BUFFER) -> None:
        self._notifications = notifications
        self._buffer = buffer
        self.stream = secrets.token_hex(4)
        """Names this feed's numbering: a reconnect carrying another stream's numbers must resync."""
        self._channels: dict[int | str, _Channel] = {}
        self._listeners: set[Listener] = set()
        self.published = 0

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[EventFeed]:
        task = asyncio.create_task(self._pump(), name="web live feed")
        try:
            yield self
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def listen(self, user_id: int, *, admin: bool) -> Listener:
        """Messages of the user's channel (and the admins' for an admin) from now on."""
        listener = Listener(self, (user_id, ADMIN) if admin else (user_id,))
        self._listeners.add(listener)
        return listener

    def last_seq(self, channel: int | str) -> int:
        found = self._channels.get(channel)
        return found.seq if found else 0

    def replay(self, channel: int | str, after: int) -> list[dict[str, Any]] | None:
        """Messages of ``channel`` numbered above ``after``; None when some of them are no longer kept."""
        found = self._channels.get(channel)
        if found is None:
            return [] if after == 0 else None
        if after > found.seq:
            return None  # numbers this feed never gave: another stream's
        missed = [message for message in found.recent if message["seq"] > after]
        first_kept = found.recent[0]["seq"] if found.recent else found.seq + 1
        if after + 1 < first_kept:
            return None
        return missed

    def connections(self) -> int:
        return len(self._listeners)

    def publish(self, channel: int | str, event: Mapping[str, Any]) -> dict[str, Any]:
        """Number ``event`` in ``channel``, keep it for replay and hand it to every listener of the channel."""
        slot = self._channels.setdefault(channel, _Channel(self._buffer))
        slot.seq += 1
        message = {
            "type": "event",
            "stream": self.stream,
            "channel": "admin" if channel == ADMIN else "user",
            "seq": slot.seq,
            "event": dict(event),
        }
        slot.add(message)
        self.published += 1
        for listener in list(self._listeners):
            if channel in listener.channels:
                listener.offer(message)
        return message

    async def _pump(self) -> None:
        stream = self._notifications.subscribe(None)
        try:
            async for notice in stream:
                channel: int | str = ADMIN if notice.user_id is None else notice.user_id
                try:
                    self.publish(channel, notice_json(notice))
                except Exception:  # one odd notice must not end the feed for everyone
                    log.exception("a notice could not be published to the live feed")
        finally:
            stream.close()
