"""Orders: create, amend, cancel, cancel all, open orders (realtime) and order history.

Bybit checks an order's own rules before the account's, with its own codes: a quantity off the step or outside the
limits is 10001, a value under the minimum 110094, a reduce-only order with nothing to reduce 110017, a trigger on
the wrong side of the market 110092/110093, a reused ``orderLinkId`` 110072 (before anything else, so a retry is
always recognised). The engine then decides funds (110007) and execution.

Every trigger (stop entries, TP/SL) fires on the engine's mark price whatever ``triggerBy`` says; the simulator's
mark and last price are the same unless an admin sets them apart. TP/SL are whole-position (``tpslMode=Full``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any, Final

from elcaro.exchanges.simulator import codes, render
from elcaro.exchanges.simulator.registry import OrderMeta
from elcaro.exchanges.simulator.routing import Call, Route
from elcaro.exchanges.simulator.venue import Market
from elcaro.exchanges.simulator.wire import (
    SETTLE,
    BybitError,
    category,
    decimal,
    flag,
    integer,
    linear,
    listing,
    page,
    refusals,
    required,
    text,
    window,
)
from elcaro.models import Order, OrderStatus, OrderType, PositionSide, Side, TimeInForce

LINK_ID: Final = re.compile(r"[A-Za-z0-9_-]{1,36}")
TRIGGER_SOURCES: Final = frozenset({"LastPrice", "MarkPrice", "IndexPrice"})
_SIDES: Final = {"Buy": Side.BUY, "Sell": Side.SELL}
_TIME_IN_FORCE: Final = {wire: ours for ours, wire in render.TIME_IN_FORCE.items()}
_FINISHED: Final = {OrderStatus.FILLED: codes.ORDER_FINISHED}


def _check_size(market: Market, qty: Decimal, *, market_order: bool) -> None:
    rules = market.instrument
    if qty < rules.min_qty:
        raise BybitError(codes.PARAMS, "The number of contracts exceeds minimum limit allowed")
    if qty % rules.qty_step:
        raise BybitError(codes.PARAMS, f"Qty invalid: {qty} is not a multiple of qtyStep {rules.qty_step}")
    ceiling = market.config.max_market_qty if market_order else market.config.max_qty
    if qty > ceiling:
        raise BybitError(codes.PARAMS, "The number of contracts exceeds maximum limit allowed")


def _check_tick(market: Market, name: str, price: Decimal | None) -> None:
    tick = market.instrument.tick_size
    if price is not None and (price <= 0 or price % tick):
        raise BybitError(codes.PARAMS, f"{name} invalid: {price} is not a positive multiple of tickSize {tick}")


def _price(params: Mapping[str, Any], name: str) -> Decimal | None:
    """A price where Bybit reads ``"0"`` as none (TP/SL)."""
    value = decimal(params, name)
    return value or None


def _trigger_source(params: Mapping[str, Any], name: str) -> str:
    source = text(params, name, "LastPrice") or "LastPrice"
    if source not in TRIGGER_SOURCES:
        raise BybitError(codes.PARAMS, f"params error: {name} invalid")
    return source


def _side(params: Mapping[str, Any]) -> Side:
    side = _SIDES.get(required(params, "side"))
    if side is None:
        raise BybitError(codes.PARAMS, "params error: side invalid")
    return side


def _time_in_force(params: Mapping[str, Any], *, is_limit: bool) -> TimeInForce:
    wire = text(params, "timeInForce")
    if not is_limit:
        if wire == "PostOnly":
            raise BybitError(codes.PARAMS, "params error: a market order cannot be PostOnly")
        return TimeInForce.IOC
    tif = _TIME_IN_FORCE.get(wire or "GTC")
    if tif is None:
        raise BybitError(codes.PARAMS, "params error: timeInForce invalid")
    return tif


def _check_reduce_only(call: Call, market: Market, side: Side) -> None:
    position = call.venue.engine.position(call.account_id, market.symbol)
    if position is None or position.side is PositionSide.from_side(side):
        raise BybitError(codes.REDUCE_ONLY, codes.message(codes.REDUCE_ONLY))


def _check_trigger(call: Call, market: Market, trigger: Decimal, direction: int) -> None:
    if direction not in (1, 2):
        raise BybitError(codes.PARAMS, "params error: triggerDirection must be 1 (rises to) or 2 (falls to)")
    mark = call.venue.engine.mark_price(market.symbol)
    if mark is None:
        raise BybitError(codes.PARAMS, f"{market.id} has no price yet")
    if direction == 1 and trigger <= mark:
        raise BybitError(codes.EXPECT_RISING, f"expect Rising, but trigger_price[{trigger}] <= current[{mark}]")
    if direction == 2 and trigger >= mark:
        raise BybitError(codes.EXPECT_FALLING, f"expect Falling, but trigger_price[{trigger}] >= current[{mark}]")


def _check_value(call: Call, market: Market, qty: Decimal, reference: Decimal | None) -> None:
    rules = market.instrument
    price = reference or call.venue.engine.last_price(market.symbol)
    if price is not None and rules.notional(qty, price) < rules.min_notional:
        raise BybitError(codes.BELOW_MIN_NOTIONAL, f"Order does not meet minimum order value {rules.min_notional}USDT")


def _refuse_unmodelled(params: Mapping[str, Any]) -> None:
    if text(params, "tpslMode", "Full") != "Full" or "Limit" in (
        text(params, "tpOrderType"),
        text(params, "slOrderType"),
    ):
        raise BybitError(codes.PARAMS, "params error: only tpslMode Full with market TP/SL is simulated")
    if integer(params, "positionIdx", 0) != 0:
        raise BybitError(codes.PARAMS, "position idx not match position mode")


def _new_link_id(call: Call) -> str | None:
    """The ``orderLinkId`` of a new order, refused when malformed or already used by this account."""
    link_id = text(call.params, "orderLinkId")
    if link_id is not None:
        if not LINK_ID.fullmatch(link_id):
            raise BybitError(codes.PARAMS, "params error: orderLinkId must be 1-36 letters, digits, - or _")
        if call.venue.engine.find_order(call.account_id, link_id) is not None:
            raise BybitError(codes.DUPLICATE_LINK_ID, codes.message(codes.DUPLICATE_LINK_ID))
    return link_id


def _place(call: Call, order: Order, meta: OrderMeta) -> Order:
    """Place with the order's Bybit details already known, so the engine's events about it read as Bybit's."""
    registry = call.venue.registry
    registry.remember(call.account_id, order.client_order_id, meta)
    try:
        with refusals():
            placed = call.venue.engine.place_order(call.account_id, order)
    except BybitError:
        registry.forget(call.account_id, order.client_order_id)
        raise
    registry.placed(call.account_id, placed)
    return placed


_KINDS: Final = {
    (False, False): OrderType.MARKET,
    (True, False): OrderType.LIMIT,
    (False, True): OrderType.STOP_MARKET,
    (True, True): OrderType.STOP_LIMIT,
}
"""The engine's order type by (is a limit order, has a trigger)."""


def create(call: Call) -> Mapping[str, Any]:
    params, venue = call.params, call.venue
    linear(params)
    link_id = _new_link_id(call)
    market = venue.market(required(params, "symbol"))
    side = _side(params)
    order_type = required(params, "orderType")
    if order_type not in ("Market", "Limit"):
        raise BybitError(codes.PARAMS, "params error: orderType invalid")
    is_limit = order_type == "Limit"
    _refuse_unmodelled(params)
    qty = decimal(params, "qty")
    if qty is None:
        raise BybitError(codes.PARAMS, "params error: qty is required")
    _check_size(market, qty, market_order=not is_limit)
    price = decimal(params, "price") if is_limit else None
    if is_limit and price is None:
        raise BybitError(codes.PARAMS, "params error: price is required for a limit order")
    trigger = _price(params, "triggerPrice")
    take_profit, stop_loss = _price(params, "takeProfit"), _price(params, "stopLoss")
    for name, value in (
        ("price", price),
        ("triggerPrice", trigger),
        ("takeProfit", take_profit),
        ("stopLoss", stop_loss),
    ):
        _check_tick(market, name, value)
    reduce_only, close_on_trigger = flag(params, "reduceOnly"), flag(params, "closeOnTrigger")
    if reduce_only or close_on_trigger:
        _check_reduce_only(call, market, side)
    direction = integer(params, "triggerDirection", 0)
    if trigger is not None:
        _check_trigger(call, market, trigger, direction)
    if not reduce_only:
        _check_value(call, market, qty, price or trigger)
    time_in_force = _time_in_force(params, is_limit=is_limit)
    if trigger is not None and time_in_force is TimeInForce.POST_ONLY:
        raise BybitError(codes.PARAMS, "params error: a conditional order cannot be PostOnly")
    meta = OrderMeta(
        link_id=link_id or "",
        trigger_by=_trigger_source(params, "triggerBy") if trigger is not None else "",
        tp_trigger_by=_trigger_source(params, "tpTriggerBy") if take_profit is not None else "",
        sl_trigger_by=_trigger_source(params, "slTriggerBy") if stop_loss is not None else "",
        trigger_direction=direction if trigger is not None else 0,
        close_on_trigger=close_on_trigger,
    )
    with refusals():
        order = Order(
            client_order_id=venue.registry.engine_id(link_id),
            symbol=market.symbol,
            side=side,
            type=_KINDS[(is_limit, trigger is not None)],
            qty=qty,
            price=price,
            trigger_price=trigger,
            time_in_force=time_in_force if is_limit else TimeInForce.GTC,
            reduce_only=reduce_only or close_on_trigger,
            take_profit=take_profit,
            stop_loss=stop_loss,
        )
    placed = _place(call, order, meta)
    return {"orderId": placed.exchange_order_id, "orderLinkId": meta.link_id}


def _find(call: Call) -> tuple[Market, Order]:
    params = call.params
    linear(params)
    market = call.venue.market(required(params, "symbol"))
    order_id, link_id = text(params, "orderId"), text(params, "orderLinkId")
    if order_id is None and link_id is None:
        raise BybitError(codes.PARAMS, "params error: orderId or orderLinkId is required")
    order = call.venue.registry.find(call.account_id, order_id, link_id)
    if order is None or order.symbol != market.symbol:
        raise BybitError(codes.ORDER_NOT_FOUND, codes.message(codes.ORDER_NOT_FOUND))
    return market, order


def _ids(call: Call, order: Order) -> dict[str, Any]:
    link_id = call.venue.registry.link_id(call.account_id, order.client_order_id)
    return {"orderId": order.exchange_order_id, "orderLinkId": link_id}


def amend(call: Call) -> Mapping[str, Any]:
    market, order = _find(call)
    if not order.is_open:
        raise BybitError(codes.ORDER_NOT_FOUND, "order not exists or too late to replace")
    params = call.params
    if _price(params, "takeProfit") or _price(params, "stopLoss"):
        raise BybitError(codes.PARAMS, "params error: amending an order's TP/SL is not simulated; use trading-stop")
    qty, price, trigger = decimal(params, "qty"), decimal(params, "price"), _price(params, "triggerPrice")
    if qty is None and price is None and trigger is None:
        raise BybitError(codes.PARAMS, "The order remains unchanged as the parameters entered match the existing ones.")
    if qty is not None:
        _check_size(market, qty, market_order=order.price is None)
        if qty <= order.filled_qty:
            raise BybitError(
                codes.QTY_NOT_ABOVE_FILLED,
                "The number of contracts modified cannot be less than or equal to the filled quantity",
            )
    _check_tick(market, "price", price)
    _check_tick(market, "triggerPrice", trigger)
    with refusals():
        call.venue.engine.amend_order(
            call.account_id, order.client_order_id, qty=qty, price=price, trigger_price=trigger
        )
    return _ids(call, order)


def cancel(call: Call) -> Mapping[str, Any]:
    _, order = _find(call)
    if not order.is_open:
        code = _FINISHED.get(order.status, codes.ORDER_CANCELED)
        raise BybitError(code, codes.message(code))
    with refusals():
        call.venue.engine.cancel_order(call.account_id, order.client_order_id)
    return _ids(call, order)


def _in_scope(call: Call, orders: Iterable[Order]) -> list[Order]:
    """Orders of the ``symbol``, ``baseCoin`` or ``settleCoin`` asked for (every order of the account without one)."""
    params = call.params
    symbol = text(params, "symbol")
    wanted = call.venue.market(symbol).symbol if symbol is not None else None
    base, settle = text(params, "baseCoin"), text(params, "settleCoin")
    if settle is not None and settle != SETTLE:
        return []
    return [
        order
        for order in orders
        if (wanted is None or order.symbol == wanted)
        and (base is None or call.venue.markets[call.venue.market_id(order.symbol)].instrument.base == base)
    ]


def _filtered(call: Call, orders: Iterable[Order]) -> list[Order]:
    """Bybit's ``orderFilter``: ``Order`` active orders, ``StopOrder`` conditional orders not yet triggered,
    ``tpslOrder`` TP/SL orders (the simulator keeps a position's TP/SL on the position, so there are none)."""
    wanted = text(call.params, "orderFilter")
    if wanted is None:
        return list(orders)
    if wanted not in ("Order", "StopOrder", "tpslOrder"):
        raise BybitError(codes.PARAMS, "params error: orderFilter invalid")
    if wanted == "tpslOrder":
        return []
    untriggered = call.venue.engine.untriggered
    conditional = wanted == "StopOrder"
    return [order for order in orders if untriggered(call.account_id, order.client_order_id) is conditional]


def _require_scope(params: Mapping[str, Any]) -> None:
    if not any(text(params, name) for name in ("symbol", "baseCoin", "settleCoin")):
        raise BybitError(
            codes.PARAMS, "Missing some parameters that must be filled in, symbol or settleCoin or baseCoin"
        )


def cancel_all(call: Call) -> Mapping[str, Any]:
    linear(call.params)
    _require_scope(call.params)
    account_id, engine = call.account_id, call.venue.engine
    targets = _filtered(call, _in_scope(call, engine.open_orders(account_id)))
    with refusals():
        for order in targets:
            engine.cancel_order(account_id, order.client_order_id)
    return {"list": [_ids(call, order) for order in targets], "success": "1"}


def _rows(call: Call, orders: list[Order], *, default: int, maximum: int) -> Mapping[str, Any]:
    newest_first = sorted(orders, key=lambda order: (order.created_at, int(order.exchange_order_id or 0)), reverse=True)
    chunk, cursor = page(newest_first, call.params, default=default, maximum=maximum)
    return listing([render.order(call.venue, call.account_id, order) for order in chunk], cursor)


def _one(call: Call) -> list[Order] | None:
    """The order an ``orderId`` or ``orderLinkId`` names (empty when unknown); None when neither is given."""
    order_id, link_id = text(call.params, "orderId"), text(call.params, "orderLinkId")
    if order_id is None and link_id is None:
        return None
    order = call.venue.registry.find(call.account_id, order_id, link_id)
    return [] if order is None else [order]


def realtime(call: Call) -> Mapping[str, Any]:
    """Open orders; one named by id whatever its state; with ``openOnly=1`` the 500 most recent finished ones."""
    if not category(call.params):
        return listing([], "")
    _require_scope(call.params)
    named = _one(call)
    engine, account_id = call.venue.engine, call.account_id
    if named is not None:
        orders = named
    elif integer(call.params, "openOnly", 0) == 0:
        orders = engine.open_orders(account_id)
    else:
        orders = engine.order_history(account_id)[-500:]
    return _rows(call, _filtered(call, _in_scope(call, orders)), default=20, maximum=50)


def history(call: Call) -> Mapping[str, Any]:
    """Orders of every state, newest first, created within the time window (7 days by default)."""
    if not category(call.params):
        return listing([], "")
    named = _one(call)
    if named is None:
        start, end = window(call.params, call.venue.engine.now())
        orders = [order for order in call.venue.engine.orders(call.account_id) if start <= order.created_at <= end]
    else:
        orders = named
    status = text(call.params, "orderStatus")
    selected = _filtered(call, _in_scope(call, orders))
    if status is not None:
        selected = [
            order for order in selected if render.order(call.venue, call.account_id, order)["orderStatus"] == status
        ]
    return _rows(call, selected, default=20, maximum=50)


ROUTES = (
    Route("POST", "/v5/order/create", create, signed=True),
    Route("POST", "/v5/order/amend", amend, signed=True),
    Route("POST", "/v5/order/cancel", cancel, signed=True),
    Route("POST", "/v5/order/cancel-all", cancel_all, signed=True),
    Route("GET", "/v5/order/realtime", realtime, signed=True),
    Route("GET", "/v5/order/history", history, signed=True),
)
