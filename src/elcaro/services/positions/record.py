"""What ``positions.state`` holds for a tracked position, and how it reads back.

The JSON is ``encode(PositionState)`` — exactly what the fan-out stores when it opens a position —
plus one key, ``monitor``, that only the position monitor writes:

- the venue fills already applied, so a fill seen twice (by stream and by poll, or again after a
  restart) counts once;
- the actions decided but not yet confirmed on the venue, so a crash between deciding and doing is
  finished on restart (their client ids let the venue recognise what already arrived);
- the running realised PnL and fees of the parts closed so far;
- once the position is over, the funding it paid or received (where the venue reports it) and the code of a
  close the platform recorded without seeing its fill.

``decode`` reads only a dataclass's own fields, so the state decodes the same with or without it. Ledger
fields added since a state was stored take their defaults.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from elcaro.core.codec import decode, encode
from elcaro.models import ZERO, Fill, Trade
from elcaro.models.errors import ValidationError
from elcaro.trading import Action, AmendOrder, CancelOrder, ClosePosition, PlaceOrder, PositionState, SetStop

MONITOR_KEY = "monitor"

_ACTION_TYPES: Mapping[str, type[Any]] = {
    "set_stop": SetStop,
    "place_order": PlaceOrder,
    "amend_order": AmendOrder,
    "cancel_order": CancelOrder,
    "close_position": ClosePosition,
}
_ACTION_NAMES = {kind: name for name, kind in _ACTION_TYPES.items()}


@dataclass(frozen=True, slots=True)
class Ledger:
    fills: tuple[str, ...] = ()
    """Trade ids of the venue fills applied, oldest first."""
    fills_since: int | None = None
    """Venue time of the newest fill applied: where the next look-up of fills starts."""
    realized_pnl: Decimal = ZERO
    """Net of fees, over the parts closed so far; of funding too once the position is over (``funding``)."""
    fees: Decimal = ZERO
    funding: Decimal = ZERO
    """Funding received (positive) or paid (negative) over the position's life, booked when it closes."""
    funding_reported: bool = False
    """Whether the venue reported the position's funding; when not, ``funding`` is zero and PnL leaves it out."""
    closing_code: str | None = None
    """Why the position ended without a venue fill saying so (``entries_gone``, ``no_closing_fill``)."""

    def after(self, fill: Fill | None, trades: Iterable[Trade]) -> Ledger:
        closed = list(trades)
        ledger = replace(
            self,
            realized_pnl=self.realized_pnl + sum((trade.net_pnl for trade in closed), ZERO),
            fees=self.fees + sum((trade.fees for trade in closed), ZERO),
        )
        if fill is None:
            return ledger
        since = fill.timestamp if self.fills_since is None else max(self.fills_since, fill.timestamp)
        return replace(ledger, fills=(*self.fills, fill.trade_id), fills_since=since)


@dataclass(frozen=True, slots=True)
class Stored:
    state: PositionState
    ledger: Ledger = field(default_factory=Ledger)
    pending: tuple[Action, ...] = ()

    def to_json(self) -> dict[str, Any]:
        monitor = encode(self.ledger) | {"pending": [_encode_action(action) for action in self.pending]}
        return {**encode(self.state), MONITOR_KEY: monitor}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Stored:
        state = decode(PositionState, dict(data))
        monitor = data.get(MONITOR_KEY)
        if monitor is None:  # as the fan-out stored it: nothing applied yet
            return cls(state)
        pending = tuple(_decode_action(item) for item in monitor.get("pending", ()))
        return cls(state, decode(Ledger, {**_LEDGER_DEFAULTS, **monitor}), pending)


_LEDGER_DEFAULTS: Mapping[str, Any] = encode(Ledger())


def shown_state(data: Mapping[str, Any] | None) -> PositionState | None:
    """A position's managed state, for showing it: None when it has none, or one this version cannot read (the
    monitor leaves such a position unmanaged and says so in its log; a view falls back to the row's figures)."""
    if not data:
        return None
    try:
        return Stored.from_json(data).state
    except ValidationError:
        return None


def _encode_action(action: Action) -> dict[str, Any]:
    return {"type": _ACTION_NAMES[type(action)], **encode(action)}


def _decode_action(data: Mapping[str, Any]) -> Action:
    kind = _ACTION_TYPES.get(data.get("type", ""))
    if kind is None:
        raise ValidationError(f"unknown pending action {data.get('type')!r}", field="state")
    action: Action = decode(kind, dict(data))
    return action
