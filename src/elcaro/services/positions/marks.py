"""Live marks of open positions: the latest price and unrealised PnL of each, for the screens that show them.

The monitor's price pass learns the price of every symbol held and offers each managed position's figures
here. They are not news, as trading events are: they go to no chat and are kept as no history. The board
holds, per user, the latest figures of each open position; a listener (one web socket) is handed the changes
of its user's positions only, and a slow one gets the latest value of each, never a backlog. One that
(re)connects starts from ``current``.

At most one change per position goes out per ``interval_ms``, and none while its figures stand still: the
price pass runs every few seconds for every position, mostly unchanged. A change held back goes out with
the first pass after its interval (the latest value by then), so nothing is lost but the steps between.
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from decimal import Decimal

from elcaro.models import Position, Target
from elcaro.models.errors import ValidationError

DEFAULT_INTERVAL_MS = 1000


@dataclass(frozen=True, slots=True)
class LiveFigures:
    unrealized_pnl: Decimal
    change_pct: Decimal
    """The price move since the entry, in the position's favour (positive) or against it, in percent."""


def live_figures(position: Position, mark: Decimal) -> LiveFigures:
    """The figures of ``position`` at ``mark``: one rule for every screen (the desk's listing and the live marks)."""
    return LiveFigures(position.pnl_at(mark), position.move_pct_at(mark))


@dataclass(frozen=True, slots=True)
class PositionMark:
    """One managed open position at one price."""

    user_id: int
    position_id: int
    target: Target
    symbol: str
    mark_price: Decimal
    unrealized_pnl: Decimal
    change_pct: Decimal
    at: int
    """When the price was read (epoch ms)."""

    @classmethod
    def of(cls, position: Position, mark: Decimal, at: int) -> PositionMark:
        if position.id is None or position.user_id is None or position.target is None:
            raise ValidationError(f"position {position.id} is not a stored position with an owner and a target")
        figures = live_figures(position, mark)
        return cls(
            position.user_id,
            position.id,
            position.target,
            position.symbol,
            mark,
            figures.unrealized_pnl,
            figures.change_pct,
            at,
        )

    def same_figures(self, other: PositionMark) -> bool:
        return (self.mark_price, self.unrealized_pnl, self.change_pct) == (
            other.mark_price,
            other.unrealized_pnl,
            other.change_pct,
        )


@dataclass
class _Slot:
    latest: PositionMark
    sent: PositionMark | None = None


class MarkListener:
    """The changed marks of one user's positions, the latest of each, until ``close``."""

    def __init__(self, board: MarkBoard, user_id: int) -> None:
        self._board = board
        self.user_id = user_id
        self._pending: dict[int, PositionMark] = {}
        self._ready = asyncio.Event()

    def offer(self, mark: PositionMark) -> None:
        self._pending[mark.position_id] = mark  # a newer mark of the same position replaces one not yet taken
        self._ready.set()

    async def changes(self) -> list[PositionMark]:
        """Wait for marks changed since the last ones taken; each position's latest."""
        while not self._pending:
            self._ready.clear()
            await self._ready.wait()
        return self.take()

    def take(self) -> list[PositionMark]:
        """The marks changed since the last ones taken (none: an empty list), without waiting."""
        taken = list(self._pending.values())
        self._pending.clear()
        return taken

    def close(self) -> None:
        self._board._forget(self)


class MarkBoard:
    def __init__(self, interval_ms: int = DEFAULT_INTERVAL_MS) -> None:
        if interval_ms < 0:
            raise ValidationError(f"the mark interval cannot be negative, got {interval_ms} ms", field="interval_ms")
        self._interval_ms = interval_ms
        self._slots: dict[int, dict[int, _Slot]] = {}
        self._listeners: dict[int, set[MarkListener]] = {}

    def offer(self, marks: Iterable[PositionMark]) -> None:
        """The figures of positions at the price just read; changes go to their owners' listeners (see above)."""
        for mark in marks:
            slots = self._slots.setdefault(mark.user_id, {})
            slot = slots.get(mark.position_id)
            if slot is None:
                slot = slots[mark.position_id] = _Slot(mark)
            slot.latest = mark
            sent = slot.sent
            if sent is not None and (mark.same_figures(sent) or mark.at - sent.at < self._interval_ms):
                continue
            slot.sent = mark
            for listener in self._listeners.get(mark.user_id, ()):
                listener.offer(mark)

    def keep(self, position_ids: Collection[int]) -> None:
        """Forget the positions not among ``position_ids`` (closed, or no longer managed)."""
        for user_id, slots in list(self._slots.items()):
            for position_id in [pid for pid in slots if pid not in position_ids]:
                del slots[position_id]
            if not slots:
                del self._slots[user_id]

    def current(self, user_id: int) -> list[PositionMark]:
        """The latest figures of each of the user's open positions that has been priced."""
        return [slot.latest for slot in self._slots.get(user_id, {}).values()]

    def listen(self, user_id: int) -> MarkListener:
        listener = MarkListener(self, user_id)
        self._listeners.setdefault(user_id, set()).add(listener)
        return listener

    def listeners(self) -> int:
        return sum(len(found) for found in self._listeners.values())

    def _forget(self, listener: MarkListener) -> None:
        found = self._listeners.get(listener.user_id)
        if found is None:
            return
        found.discard(listener)
        if not found:
            del self._listeners[listener.user_id]
