"""The paper venue's one error of its own; everything else it raises is in ``elcaro.models.errors``."""

from __future__ import annotations

from elcaro.models.errors import InvalidOrderError
from elcaro.models.orders import Order


class DuplicateClientOrderIdError(InvalidOrderError):
    """The account already has an order with this client order id; ``existing`` is that order.

    Raised instead of creating a second order, so the HTTP simulator can answer with the venue's
    duplicate code and an adapter can hand back the order that already exists.
    """

    def __init__(self, existing: Order) -> None:
        super().__init__(
            f"client order id {existing.client_order_id} is already used by order {existing.exchange_order_id}",
            exchange="paper",
            code="duplicate_client_order_id",
        )
        self.existing = existing
