"""Deterministic client order ids for copy trading.

Every order of one (signal, user, target) is named by what it is for — its leg kind and index —
so rebuilding a plan after a crash or a retry produces the very ids already sent, and the venue
(or the unified client's look-up by client id) recognises them instead of doubling an order.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from elcaro.models import Target, make_client_order_id


class LegKind(StrEnum):
    ENTRY = "entry"
    DCA = "dca"
    TP = "tp"
    STOP = "stop"
    """Only for venues that need the stop as an order of its own; it is one order, amended as it moves."""
    CLOSE = "close"
    """Market closes the position manager decides on, numbered in the order it issued them."""


@dataclass(frozen=True, slots=True)
class OrderKey:
    """Whose orders these are: one signal executed for one user on one target."""

    signal_id: int
    user_id: int
    target: Target

    def client_order_id(self, kind: LegKind, index: int, revision: int = 0) -> str:
        """``make_client_order_id(signal_id, user_id, "bybit:demo", kind, index)``.

        ``revision`` counts re-placements of the same leg after a cancel (a venue may refuse an id
        it has seen before); the first placement is revision 0 and adds nothing to the id.
        """
        parts: list[object] = [self.signal_id, self.user_id, str(self.target), kind.value, index]
        if revision:
            parts.append(revision)
        return make_client_order_id(*parts)
