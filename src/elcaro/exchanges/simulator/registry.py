"""What Bybit keeps about an order beyond what the paper engine models: the ``orderLinkId`` as sent, trigger sources,
trigger direction. Kept per account and client order id, and saved with the engine's state.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

from elcaro.core.codec import decode, encode
from elcaro.exchanges.paper.engine import PaperEngine
from elcaro.models import Order

UNNAMED_PREFIX = "sim:"
"""Engine ids of orders sent without an ``orderLinkId``: ``:`` is outside Bybit's orderLinkId alphabet, so such an id
can never meet a client's."""


@dataclass(slots=True)
class OrderMeta:
    link_id: str
    """The ``orderLinkId`` as the client sent it; ``""`` when it sent none."""
    trigger_by: str = ""
    tp_trigger_by: str = ""
    sl_trigger_by: str = ""
    trigger_direction: int = 0
    close_on_trigger: bool = False


class Registry:
    def __init__(self, engine: PaperEngine, meta: dict[str, dict[str, OrderMeta]] | None = None) -> None:
        self._engine = engine
        self._meta = meta or {}
        unnamed = (cid for orders in self._meta.values() for cid in orders if cid.startswith(UNNAMED_PREFIX))
        self._unnamed = itertools.count(max((int(cid.removeprefix(UNNAMED_PREFIX)) for cid in unnamed), default=0) + 1)
        self._by_order_id: dict[tuple[str, str], str] = {}

    def engine_id(self, link_id: str | None) -> str:
        """The engine's client order id for an order sent with ``link_id`` (or none)."""
        return link_id if link_id else f"{UNNAMED_PREFIX}{next(self._unnamed)}"

    def remember(self, account_id: str, client_order_id: str, meta: OrderMeta) -> None:
        """Before the order is placed, so that the engine's events about it already show it as Bybit would."""
        self._meta.setdefault(account_id, {})[client_order_id] = meta

    def forget(self, account_id: str, client_order_id: str) -> None:
        """An order the engine refused: it never existed."""
        self._meta.get(account_id, {}).pop(client_order_id, None)

    def placed(self, account_id: str, order: Order) -> None:
        if order.exchange_order_id is not None:
            self._by_order_id[(account_id, order.exchange_order_id)] = order.client_order_id

    def meta(self, account_id: str, client_order_id: str) -> OrderMeta | None:
        """None for an order the venue placed itself (a position's TP/SL firing, a liquidation)."""
        return self._meta.get(account_id, {}).get(client_order_id)

    def link_id(self, account_id: str, client_order_id: str) -> str:
        meta = self.meta(account_id, client_order_id)
        return "" if meta is None else meta.link_id

    def find(self, account_id: str, order_id: str | None, link_id: str | None) -> Order | None:
        """The order with Bybit's ``orderId`` or ``orderLinkId`` (the link id wins when both are given, as on Bybit)."""
        if link_id:
            return self._engine.find_order(account_id, link_id)
        if not order_id:
            return None
        known = self._by_order_id.get((account_id, order_id))
        if known is not None:
            return self._engine.find_order(account_id, known)
        # The venue's own orders, and every order after a restore, are found by looking.
        found = next((order for order in self._engine.orders(account_id) if order.exchange_order_id == order_id), None)
        if found is not None:
            self._by_order_id[(account_id, order_id)] = found.client_order_id
        return found

    def snapshot(self) -> dict[str, Any]:
        return encode(self._meta)  # type: ignore[no-any-return]

    @classmethod
    def restore(cls, engine: PaperEngine, data: dict[str, Any]) -> Registry:
        return cls(engine, decode(dict[str, dict[str, OrderMeta]], data))
