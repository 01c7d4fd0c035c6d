"""Carrying out one position-manager action on the venue, through the user's unified client.

The client already retries what is safe and never doubles an order; what reaches here is the final
word. An outcome is DONE, FAILED (the venue refused, or the order is gone: nothing more to do but
say so), or RETRY (the venue could not be reached in time: the action stays pending and is tried
again later, with the same client id). A stop the venue will not take is FAILED whatever the cause,
because a position must never be left without one: the caller closes it.

``replay`` marks an action that may already have reached the venue (tried before a crash, or before
a lost answer): an order is then looked up by its client id first, and not placed again if found.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from elcaro.exchanges.client.retry import TRANSIENT
from elcaro.exchanges.protocol import ExchangeAdapter
from elcaro.models import Order
from elcaro.models.errors import ExchangeError, OrderNotFoundError
from elcaro.trading import Action, AmendOrder, CancelOrder, ClosePosition, PlaceOrder, SetStop


class Outcome(Enum):
    DONE = "done"
    FAILED = "failed"
    RETRY = "retry"


@dataclass(frozen=True, slots=True)
class Executed:
    outcome: Outcome
    error: ExchangeError | None = None


def action_id(action: Action) -> str:
    """The client id an action is about (the stop's for ``SetStop``)."""
    if isinstance(action, PlaceOrder | ClosePosition):
        return action.order.client_order_id
    return action.client_order_id


async def execute(client: ExchangeAdapter, symbol: str, action: Action, *, replay: bool) -> Executed:
    try:
        await _send(client, symbol, action, replay=replay)
    except OrderNotFoundError as error:
        # Cancelling an order the venue never had (or no longer has) leaves what was wanted.
        return Executed(Outcome.DONE if isinstance(action, CancelOrder) else Outcome.FAILED, error)
    except TRANSIENT as error:
        return Executed(Outcome.FAILED if isinstance(action, SetStop) else Outcome.RETRY, error)
    except ExchangeError as error:
        return Executed(Outcome.FAILED, error)
    return Executed(Outcome.DONE)


async def _send(client: ExchangeAdapter, symbol: str, action: Action, *, replay: bool) -> None:
    if isinstance(action, SetStop):
        await client.set_position_protection(symbol, stop_loss=action.price)
    elif isinstance(action, PlaceOrder | ClosePosition):
        if not replay or not await _exists(client, action.order):
            await client.place_order(action.order)
    elif isinstance(action, AmendOrder):
        await client.amend_order(symbol, action.client_order_id, qty=action.qty, price=action.price)
    else:
        await client.cancel_order(symbol, action.client_order_id)


async def _exists(client: ExchangeAdapter, order: Order) -> bool:
    try:
        await client.fetch_order(order.symbol, order.client_order_id)
    except OrderNotFoundError:
        return False
    return True
