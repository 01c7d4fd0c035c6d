"""The account's executions (fills), newest first, within Bybit's 7-day window."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from elcaro.exchanges.simulator import codes, render
from elcaro.exchanges.simulator.routing import Call, Route
from elcaro.exchanges.simulator.wire import BybitError, category, listing, page, text, window


def execution_list(call: Call) -> Mapping[str, Any]:
    """Only trades: the paper venue books funding on the wallet, not as executions."""
    params = call.params
    if not category(params):
        return listing([], "")
    venue, account_id = call.venue, call.account_id
    symbol = text(params, "symbol")
    wanted = venue.market(symbol).symbol if symbol is not None else None
    exec_type = text(params, "execType")
    if exec_type not in (None, "Trade", "AdlTrade", "Funding", "BustTrade", "Settle"):
        raise BybitError(codes.PARAMS, "params error: execType invalid")
    order_id, link_id = text(params, "orderId"), text(params, "orderLinkId")
    named = venue.registry.find(account_id, order_id, link_id) if order_id or link_id else None
    if (order_id or link_id) and named is None:
        return listing([], "")
    start, end = window(params, venue.engine.now())
    fills = [
        fill
        for fill in venue.engine.fills(account_id, wanted)
        if start <= fill.timestamp <= end
        and exec_type in (None, "Trade")
        and (named is None or fill.client_order_id == named.client_order_id)
    ]
    chunk, cursor = page(fills[::-1], params, default=50, maximum=100)
    rows = []
    for fill in chunk:
        market = venue.markets[venue.market_id(fill.symbol)]
        order = venue.engine.find_order(account_id, fill.client_order_id)
        rows.append(render.execution(market, fill, venue.registry.link_id(account_id, fill.client_order_id), order))
    return listing(rows, cursor)


ROUTES = (Route("GET", "/v5/execution/list", execution_list, signed=True),)
