"""Records Bybit reports that the engine does not keep in that shape: closed-PnL rows (which name the closing order and
its fee) and the funding rate history.

Built from the engine's events: an execution that closes a position publishes its fills, then the closed trade, then
the order, so the fills seen since the last order event are the closing order's.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from elcaro.core.codec import decode, encode
from elcaro.exchanges.paper.engine import PaperEngine
from elcaro.exchanges.paper.events import ClosedPnlEvent, EngineEvent, FillEvent, OrderEvent
from elcaro.exchanges.paper.pricing import money
from elcaro.models import Fill, OrderType, Side, Trade
from elcaro.models.decimals import ZERO


@dataclass(frozen=True, slots=True)
class ClosedPnl:
    trade: Trade
    order_id: str
    client_order_id: str
    side: Side
    """The closing order's side, as Bybit reports it."""
    order_type: OrderType
    order_price: Decimal | None
    order_qty: Decimal
    close_fee: Decimal
    fill_count: int


@dataclass(frozen=True, slots=True)
class FundingPaid:
    symbol: str
    rate: Decimal
    timestamp: int


class Journal:
    def __init__(
        self,
        engine: PaperEngine,
        closed: dict[str, list[ClosedPnl]] | None = None,
        funding: dict[str, list[FundingPaid]] | None = None,
    ) -> None:
        self._engine = engine
        self._closed = closed or {}
        self._funding = funding or {}
        self._fills: dict[str, list[Fill]] = {}
        self.stop = engine.subscribe(self._on_event)

    def closed_pnl(self, account_id: str) -> list[ClosedPnl]:
        return self._closed.get(account_id, [])

    def funding(self, symbol: str) -> list[FundingPaid]:
        return self._funding.get(symbol, [])

    def funding_paid(self, symbol: str, rate: Decimal, timestamp: int) -> None:
        self._funding.setdefault(symbol, []).append(FundingPaid(symbol, rate, timestamp))

    def _on_event(self, event: EngineEvent) -> None:
        if isinstance(event, FillEvent):
            self._fills.setdefault(event.account_id, []).append(event.fill)
        elif isinstance(event, ClosedPnlEvent):
            self._record(event.account_id, event.trade, self._fills.pop(event.account_id, []))
        elif isinstance(event, OrderEvent):
            self._fills.pop(event.account_id, None)

    def _record(self, account_id: str, trade: Trade, fills: list[Fill]) -> None:
        if not fills:
            return
        first = fills[0]
        order = self._engine.find_order(account_id, first.client_order_id)
        filled = sum((fill.qty for fill in fills), ZERO)
        fees = sum((fill.fee for fill in fills), ZERO)
        # A fill that flips the position also opens the new one: only the closing share of its fee is the close's.
        close_fee = fees if filled <= trade.qty else money(fees * trade.qty / filled)
        record = ClosedPnl(
            trade=trade,
            order_id=first.exchange_order_id or "",
            client_order_id=first.client_order_id,
            side=first.side,
            order_type=OrderType.MARKET if order is None else order.type,
            order_price=None if order is None else order.price,
            order_qty=filled if order is None else order.qty,
            close_fee=close_fee,
            fill_count=len(fills),
        )
        self._closed.setdefault(account_id, []).append(record)

    def snapshot(self) -> dict[str, Any]:
        return {"closed_pnl": encode(self._closed), "funding": encode(self._funding)}

    @classmethod
    def restore(cls, engine: PaperEngine, data: dict[str, Any]) -> Journal:
        closed = decode(dict[str, list[ClosedPnl]], data["closed_pnl"])
        funding = decode(dict[str, list[FundingPaid]], data["funding"])
        return cls(engine, closed, funding)
