"""What a managed position's step tells its owner, as ``TradingEvent``s.

Figures travel as exact decimal strings (plain notation, never ``1E+1``, no trailing zeros) for the interfaces to
format in the user's language. A target order filling is TAKE_PROFIT (with the target's number); a
partial take-profit step closing at market is PARTIAL_TAKE_PROFIT; the first move of the stop to
break-even is BREAK_EVEN and a trailing move is STOP_MOVED, as is a stop moved by hand (code
``by_hand``, whichever way it went); entries withdrawn before they filled are ENTRY_CANCELLED.
POSITION_CLOSED is told once the position's row is closed, with the final figures (funding included where the
venue reports it), and only for a position that held something: one whose entries never filled ends with its
ENTRY_CANCELLED.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal

from elcaro.models import ExitReason, Fill, Target, Trade
from elcaro.models.events import EventKind, TradingEvent
from elcaro.services.positions.record import Ledger
from elcaro.services.positions.routing import add_kind, target_number
from elcaro.trading import AmendExits, Event, LegKind, PositionState, SetStop, Step, WithdrawEntries

BY_HAND = "by_hand"
"""The code of a STOP_MOVED the owner asked for (``AmendExits``), whichever way the stop went."""
SIGNAL_CANCELLED = "signal_cancelled"
"""The code of entries withdrawn because the signal's source cancelled it (copy trading's code as well)."""


def figure(value: Decimal) -> str:
    """Exact, without the trailing zeros the arithmetic leaves (``258.17987``, not ``258.17987000``)."""
    return format(value.normalize(), "f")


@dataclass(frozen=True, slots=True)
class Owner:
    """Whose position it is, stamped on every event about it."""

    position_id: int
    user_id: int
    target: Target
    signal_id: int | None

    def event(self, kind: EventKind, at: int, symbol: str, data: dict[str, str]) -> TradingEvent:
        return TradingEvent(
            kind=kind,
            at=at,
            user_id=self.user_id,
            target=self.target,
            symbol=symbol,
            signal_id=self.signal_id,
            position_id=self.position_id,
            data=data,
        )


def step_notices(
    owner: Owner,
    before: PositionState,
    event: Event,
    result: Step,
    trades: list[Trade],
    at: int,
    *,
    withdrawal_code: str = SIGNAL_CANCELLED,
) -> list[TradingEvent]:
    """``trades`` are ``result.exits`` as recorded; ``withdrawal_code`` says why a ``WithdrawEntries`` came."""
    state = result.state
    symbol = state.instrument.symbol
    notices: list[TradingEvent] = []
    if isinstance(event, Fill) and event.side is before.side.entry_side and not before.is_closed:
        kind = (
            EventKind.DCA_FILLED if add_kind(before, event.client_order_id) is LegKind.DCA else EventKind.ENTRY_FILLED
        )
        data = {"price": figure(event.price), "qty": figure(event.qty), "entry_price": figure(state.entry_price)}
        notices.append(owner.event(kind, at, symbol, data | {"position_qty": figure(state.qty)}))
    for trade in trades:
        number = target_number(before, event.client_order_id) if isinstance(event, Fill) else None
        if number is not None:
            notices.append(owner.event(EventKind.TAKE_PROFIT, at, symbol, _part(trade) | {"target": str(number)}))
        elif trade.exit_reason is ExitReason.TAKE_PROFIT:
            notices.append(owner.event(EventKind.PARTIAL_TAKE_PROFIT, at, symbol, _part(trade)))
    previous = before.stop
    by_hand = isinstance(event, AmendExits)
    for action in result.actions:
        if not isinstance(action, SetStop) or (action.kind is ExitReason.STOP_LOSS and not by_hand):
            continue
        automatic_break_even = action.kind is ExitReason.BREAK_EVEN and not by_hand
        kind = EventKind.BREAK_EVEN if automatic_break_even else EventKind.STOP_MOVED
        data = {"stop": figure(action.price), "previous_stop": figure(previous), "stop_kind": action.kind.value}
        notice = owner.event(kind, at, symbol, data)
        notices.append(replace(notice, code=BY_HAND) if by_hand else notice)
        previous = action.price
    if isinstance(event, WithdrawEntries):
        withdrawn = _withdrawn(before, state)
        if withdrawn is not None:
            notices.append(replace(owner.event(EventKind.ENTRY_CANCELLED, at, symbol, withdrawn), code=withdrawal_code))
    return notices


def closed_notice(owner: Owner, state: PositionState, ledger: Ledger, at: int) -> TradingEvent | None:
    """POSITION_CLOSED with the position's final figures; None for one that never held anything."""
    if state.peak_qty <= 0:
        return None
    reason = state.exit_reason or ExitReason.EXTERNAL
    data = {
        "exit_reason": reason.value,
        "realized_pnl": figure(ledger.realized_pnl),
        "fees": figure(ledger.fees),
        "funding": figure(ledger.funding),
        "funding_included": str(ledger.funding_reported).lower(),
        "qty": figure(state.peak_qty),
        "entry_price": figure(state.entry_price),
    }
    if state.last_price is not None:
        data["exit_price"] = figure(state.last_price)
    event = owner.event(EventKind.POSITION_CLOSED, at, state.instrument.symbol, data)
    return replace(event, code=ledger.closing_code)


def _withdrawn(before: PositionState, after: PositionState) -> dict[str, str] | None:
    """What a withdrawal took off the venue: the legs resting before and not after (None: nothing)."""
    still = {leg.client_order_id for leg in after.adds if leg.resting}
    legs = [leg for leg in before.adds if leg.resting and leg.client_order_id not in still]
    if not legs:
        return None
    return {
        "withdrawn": str(len(legs)),
        "withdrawn_qty": figure(sum((leg.qty - leg.filled for leg in legs), Decimal(0))),
        "position_qty": figure(after.qty),
        "position_open": str(after.is_open).lower(),
    }


def _part(trade: Trade) -> dict[str, str]:
    return {
        "qty": figure(trade.qty),
        "price": figure(trade.exit_price),
        "entry_price": figure(trade.entry_price),
        "pnl": figure(trade.net_pnl),
        "fees": figure(trade.fees),
        "exit_reason": trade.exit_reason.value,
    }
