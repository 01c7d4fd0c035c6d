"""What happened to a user's trading: the events the Telegram bot and the web app show.

Events carry a stable ``kind`` and, for refusals and errors, a stable ``code``; the interfaces
render them in the user's language from those, with ``data`` for the figures. ``message`` is an
English fallback for logs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from elcaro.models.target import Target


class EventKind(StrEnum):
    SIGNAL_REJECTED = "signal_rejected"
    SIGNAL_EXPIRED = "signal_expired"
    """For admins: an accepted signal the platform stopped before fanning out was too old to trade at restart."""
    ENTRY_PLACED = "entry_placed"
    ENTRY_SKIPPED = "entry_skipped"
    ENTRY_FAILED = "entry_failed"
    ENTRY_CANCELLED = "entry_cancelled"
    """Entry or DCA orders that had not filled were withdrawn (``code``: ``signal_cancelled`` when the signal's
    source cancelled it, ``entries_gone`` when they vanished from the venue); ``data`` says how much was withdrawn
    and what stays open."""
    ENTRY_FILLED = "entry_filled"
    TAKE_PROFIT = "take_profit"
    PARTIAL_TAKE_PROFIT = "partial_take_profit"
    BREAK_EVEN = "break_even"
    STOP_MOVED = "stop_moved"
    DCA_FILLED = "dca_filled"
    POSITION_CLOSED = "position_closed"
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class TradingEvent:
    kind: EventKind
    at: int
    user_id: int | None = None
    """None: for admins (a rejected signal, a system error)."""
    target: Target | None = None
    symbol: str | None = None
    signal_id: int | None = None
    position_id: int | None = None
    code: str | None = None
    """Stable reason code of a skip, refusal or error (e.g. a gate code), for translation."""
    data: Mapping[str, str] = field(default_factory=dict, hash=False, compare=False)
    """Figures as exact decimal strings (price, qty, pnl, exit_reason, ...), formatted by the interface."""
    message: str = ""
