"""The events a fan-out tells users about: entry placed, skipped (with the gate or refusal code), failed; and
admins, a signal that expired before it could be fanned out.

Published only after what they announce is committed, so a user is never told of an entry the platform
does not know about. Figures travel as exact decimal strings; the interfaces format and translate them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal

from elcaro.core.events import EventBus
from elcaro.models import Order, Target
from elcaro.models.events import EventKind, TradingEvent
from elcaro.trading import EntryPlan


class Notices:
    def __init__(self, bus: EventBus[TradingEvent], clock: Callable[[], int]) -> None:
        self._bus = bus
        self._clock = clock

    def placed(self, plan: EntryPlan, orders: Iterable[Order], leverage: Decimal, position_id: int) -> None:
        placed = list(orders)
        filled = sum((order.filled_qty for order in placed), Decimal(0))
        self._publish(
            EventKind.ENTRY_PLACED,
            plan.key.user_id,
            plan.key.target,
            plan.symbol,
            plan.key.signal_id,
            position_id=position_id,
            data={
                "side": plan.side.value,
                "qty": str(plan.qty),
                "filled_qty": str(filled),
                "dca_qty": str(plan.dca_qty),
                "stop_loss": str(plan.stop_loss),
                "leverage": str(leverage),
                "risk": str(plan.risk),
                "risk_budget": str(plan.risk_budget),
                "notional": str(plan.notional),
                "margin": str(plan.margin),
                "orders": str(len(placed)),
            },
            message=plan.summary,
        )

    def skipped(
        self,
        user_id: int,
        target: Target,
        symbol: str,
        signal_id: int,
        code: str,
        message: str,
        *,
        data: Mapping[str, str] | None = None,
        position_id: int | None = None,
    ) -> None:
        self._publish(
            EventKind.ENTRY_SKIPPED,
            user_id,
            target,
            symbol,
            signal_id,
            code=code,
            message=message,
            data=data,
            position_id=position_id,
        )

    def failed(self, user_id: int, target: Target, symbol: str, signal_id: int, code: str, message: str) -> None:
        self._publish(EventKind.ENTRY_FAILED, user_id, target, symbol, signal_id, code=code, message=message)

    def signal_expired(self, signal_id: int, symbol: str, message: str, data: Mapping[str, str]) -> None:
        """For admins (no user): the signal was stored, the platform stopped, and it was too old at the restart."""
        self._bus.publish(
            TradingEvent(
                kind=EventKind.SIGNAL_EXPIRED,
                at=self._clock(),
                symbol=symbol,
                signal_id=signal_id,
                code="signal_expired",
                data=dict(data),
                message=message,
            )
        )

    def _publish(
        self,
        kind: EventKind,
        user_id: int,
        target: Target,
        symbol: str,
        signal_id: int,
        *,
        code: str | None = None,
        message: str = "",
        data: Mapping[str, str] | None = None,
        position_id: int | None = None,
    ) -> None:
        self._bus.publish(
            TradingEvent(
                kind=kind,
                at=self._clock(),
                user_id=user_id,
                target=target,
                symbol=symbol,
                signal_id=signal_id,
                position_id=position_id,
                code=code,
                data=dict(data or {}),
                message=message,
            )
        )
