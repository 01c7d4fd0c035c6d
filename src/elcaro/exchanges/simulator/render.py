"""The engine's models as Bybit v5 rows: orders, positions, executions, closed PnL, instruments, tickers, balances.

Field names and enum spellings are Bybit's; numbers are strings, prices and sizes written to the instrument's tick
and step. Whatever Bybit reports that the paper venue does not model (index price, risk limits, ADL rank) gets the
value Bybit shows for an ordinary account.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from elcaro.exchanges.paper.pricing import money, slipped
from elcaro.exchanges.simulator.journal import ClosedPnl
from elcaro.exchanges.simulator.venue import Market, Venue
from elcaro.exchanges.simulator.wire import num, on_step
from elcaro.models import Balance, ExitReason, Fill, MarginMode, Order, OrderStatus, Position, Side, TimeInForce
from elcaro.models.decimals import ZERO
from elcaro.models.market import BookLevel

SIDES = {Side.BUY: "Buy", Side.SELL: "Sell"}
TIME_IN_FORCE = {
    TimeInForce.GTC: "GTC",
    TimeInForce.IOC: "IOC",
    TimeInForce.FOK: "FOK",
    TimeInForce.POST_ONLY: "PostOnly",
}
_VENUE_ORDERS = {
    ExitReason.TAKE_PROFIT: ("TakeProfit", "CreateByTakeProfit"),
    ExitReason.STOP_LOSS: ("StopLoss", "CreateByStopLoss"),
    ExitReason.LIQUIDATION: ("", "CreateByLiq"),
}


_UNTRIGGERED, _MARKET = "untriggered", "market"
_ENDED: dict[tuple[OrderStatus, object], tuple[str, str]] = {
    (OrderStatus.FILLED, None): ("Filled", "EC_NoError"),
    (OrderStatus.REJECTED, TimeInForce.POST_ONLY): ("Cancelled", "EC_PostOnlyWillTakeLiquidity"),
    (OrderStatus.REJECTED, None): ("Rejected", "EC_Others"),
    (OrderStatus.EXPIRED, TimeInForce.FOK): ("Cancelled", "EC_CancelForNoFullFill"),
    (OrderStatus.EXPIRED, None): ("Cancelled", "EC_NoImmediateQtyToFill"),
    (OrderStatus.CANCELED, _UNTRIGGERED): ("Deactivated", "EC_NoError"),
    (OrderStatus.CANCELED, _MARKET): ("Cancelled", "EC_NoEnoughQtyToFill"),
    (OrderStatus.CANCELED, None): ("Cancelled", "EC_PerCancelRequest"),
}
"""Bybit's ``orderStatus`` and ``rejectReason`` of an order that ended, by the engine's status and the most specific
detail that has an entry. Derivatives show a canceled order as Cancelled even when part filled, a stop ended before
it fired as Deactivated, a post-only order that would take as Cancelled."""


def _status(order: Order, untriggered: bool) -> tuple[str, str]:
    if order.is_open:
        state = "Untriggered" if untriggered else "PartiallyFilled" if order.filled_qty else "New"
        return state, "EC_NoError"
    details = (_UNTRIGGERED if untriggered else None, order.time_in_force, _MARKET if order.price is None else None)
    for detail in (*(detail for detail in details if detail is not None), None):
        ended = _ENDED.get((order.status, detail))
        if ended is not None:
            return ended
    return "Cancelled", "EC_Others"  # unreached: every terminal status has an entry above


def order(venue: Venue, account_id: str, order: Order) -> dict[str, Any]:
    market = venue.markets[venue.market_id(order.symbol)]
    tick, step = market.instrument.tick_size, market.instrument.qty_step
    meta = venue.registry.meta(account_id, order.client_order_id)
    untriggered = venue.engine.untriggered(account_id, order.client_order_id)
    status, reject_reason = _status(order, untriggered)
    if meta is None:
        reason = venue.engine.closing_reason(account_id, order.client_order_id)
        stop_order_type, create_type = _VENUE_ORDERS.get(reason, ("", "CreateByUser")) if reason else ("", "")
    else:
        stop_order_type, create_type = ("Stop" if order.trigger_price is not None else ""), "CreateByUser"
    filled = order.filled_qty
    value = filled * order.avg_fill_price * market.instrument.contract_size if order.avg_fill_price else ZERO
    leaves = order.remaining_qty if order.is_open else ZERO
    limit_price = order.price if order.price is not None else ZERO
    has_protection = order.take_profit is not None or order.stop_loss is not None
    return {
        "orderId": order.exchange_order_id or "",
        "orderLinkId": "" if meta is None else meta.link_id,
        "blockTradeId": "",
        "symbol": market.id,
        "price": on_step(limit_price, tick) if order.price is not None else "0",
        "qty": on_step(order.qty, step),
        "side": SIDES[order.side],
        "isLeverage": "",
        "positionIdx": 0,
        "orderStatus": status,
        "createType": create_type,
        "cancelType": "CancelByUser" if status in ("Cancelled", "Deactivated") else "UNKNOWN",
        "rejectReason": reject_reason,
        "avgPrice": num(order.avg_fill_price) if filled else "",
        "leavesQty": on_step(leaves, step),
        "leavesValue": num(leaves * limit_price * market.instrument.contract_size),
        "cumExecQty": on_step(filled, step),
        "cumExecValue": num(value),
        "cumExecFee": num(order.fee),
        "cumFeeDetail": {"USDT": num(order.fee)} if order.fee else {},
        "timeInForce": TIME_IN_FORCE[order.time_in_force] if order.price is not None else "IOC",
        "orderType": "Limit" if order.price is not None else "Market",
        "stopOrderType": stop_order_type,
        "orderIv": "",
        "marketUnit": "",
        "triggerPrice": on_step(order.trigger_price, tick) if order.trigger_price is not None else "0",
        "takeProfit": on_step(order.take_profit, tick) if order.take_profit is not None else "0",
        "stopLoss": on_step(order.stop_loss, tick) if order.stop_loss is not None else "0",
        "tpslMode": "Full" if has_protection else "UNKNOWN",
        "ocoTriggerBy": "",
        "tpLimitPrice": "",
        "slLimitPrice": "",
        "tpTriggerBy": meta.tp_trigger_by if meta is not None and order.take_profit is not None else "",
        "slTriggerBy": meta.sl_trigger_by if meta is not None and order.stop_loss is not None else "",
        "triggerDirection": 0 if meta is None else meta.trigger_direction,
        "triggerBy": meta.trigger_by if meta is not None and order.trigger_price is not None else "",
        "lastPriceOnCreated": "",
        "reduceOnly": order.reduce_only,
        "closeOnTrigger": meta is not None and meta.close_on_trigger,
        "placeType": "",
        "smpType": "None",
        "smpGroup": 0,
        "smpOrderId": "",
        "createdTime": str(order.created_at),
        "updatedTime": str(order.updated_at),
    }


def position(
    market: Market, position: Position | None, leverage: Decimal, now: int, maintenance_rate: Decimal
) -> dict[str, Any]:
    """A position row; ``None`` is the empty one-way slot Bybit lists for a symbol without a position."""
    tick, step = market.instrument.tick_size, market.instrument.qty_step
    if position is None:
        return {
            "positionIdx": 0,
            "riskId": 1,
            "riskLimitValue": "2000000",
            "symbol": market.id,
            "side": "",
            "size": "0",
            "avgPrice": "0",
            "positionValue": "0",
            "tradeMode": 0,
            "autoAddMargin": 0,
            "positionStatus": "Normal",
            "leverage": num(leverage),
            "markPrice": "",
            "liqPrice": "",
            "bustPrice": "",
            "positionIM": "0",
            "positionMM": "0",
            "tpslMode": "Full",
            "takeProfit": "0",
            "stopLoss": "0",
            "trailingStop": "0",
            "unrealisedPnl": "0",
            "curRealisedPnl": "0",
            "cumRealisedPnl": "0",
            "adlRankIndicator": 0,
            "isReduceOnly": False,
            "createdTime": str(now),
            "updatedTime": str(now),
            "seq": -1,
        }
    value = position.qty * position.entry_price * position.contract_size
    mark = position.mark_price
    maintenance = money(value * maintenance_rate)
    return {
        "positionIdx": 0,
        "riskId": 1,
        "riskLimitValue": "2000000",
        "symbol": market.id,
        "side": "Buy" if position.side.entry_side is Side.BUY else "Sell",
        "size": on_step(position.qty, step),
        "avgPrice": num(position.entry_price),
        "positionValue": num(value),
        "tradeMode": 1 if position.margin_mode is MarginMode.ISOLATED else 0,
        "autoAddMargin": 0,
        "positionStatus": "Normal",
        "leverage": num(position.leverage),
        "markPrice": on_step(mark, tick) if mark is not None else "",
        "liqPrice": on_step(position.liquidation_price, tick) if position.liquidation_price is not None else "",
        "bustPrice": "",
        "positionIM": num(money(value / position.leverage, "up")),
        "positionMM": num(maintenance),
        "positionBalance": num(money(value / position.leverage, "up")),
        "tpslMode": "Full",
        "takeProfit": on_step(position.take_profit, tick) if position.take_profit is not None else "0",
        "stopLoss": on_step(position.stop_loss, tick) if position.stop_loss is not None else "0",
        "trailingStop": "0",
        "sessionAvgPrice": "",
        "unrealisedPnl": num(money(position.unrealized_pnl)),
        "curRealisedPnl": num(position.realized_pnl),
        "cumRealisedPnl": num(position.realized_pnl),
        "adlRankIndicator": 2,
        "isReduceOnly": False,
        "createdTime": str(position.opened_at),
        "updatedTime": str(position.updated_at),
        "seq": position.updated_at,
    }


def execution(market: Market, fill: Fill, link_id: str, order: Order | None) -> dict[str, Any]:
    tick, step = market.instrument.tick_size, market.instrument.qty_step
    value = fill.qty * fill.price * market.instrument.contract_size
    fee_rate = fill.fee / value if value else ZERO
    return {
        "symbol": market.id,
        "orderId": fill.exchange_order_id or "",
        "orderLinkId": link_id,
        "side": SIDES[fill.side],
        "orderPrice": on_step(order.price, tick) if order is not None and order.price is not None else "0",
        "orderQty": on_step(order.qty, step) if order is not None else on_step(fill.qty, step),
        "leavesQty": on_step(order.remaining_qty if order.is_open else ZERO, step) if order is not None else "0",
        "createType": "CreateByUser",
        "orderType": "Limit" if order is not None and order.price is not None else "Market",
        "stopOrderType": "",
        "execFee": num(fill.fee),
        "feeCurrency": fill.fee_asset,
        "execId": fill.trade_id,
        "execPrice": on_step(fill.price, tick),
        "execQty": on_step(fill.qty, step),
        "execType": "Trade",
        "execValue": num(value),
        "execTime": str(fill.timestamp),
        "isMaker": fill.is_maker,
        "feeRate": num(fee_rate.quantize(Decimal("0.000001"))),
        "tradeIv": "",
        "markIv": "",
        "markPrice": "",
        "indexPrice": "",
        "underlyingPrice": "",
        "blockTradeId": "",
        "closedSize": "",
        "seq": int(fill.trade_id) if fill.trade_id.isdigit() else 0,
    }


def closed_pnl(market: Market, record: ClosedPnl, leverage: Decimal) -> dict[str, Any]:
    trade = record.trade
    tick, step = market.instrument.tick_size, market.instrument.qty_step
    size = market.instrument.contract_size * trade.qty
    open_fee = trade.fees - record.close_fee
    return {
        "symbol": market.id,
        "orderId": record.order_id,
        "side": SIDES[record.side],
        "qty": on_step(record.order_qty, step),
        "orderPrice": on_step(record.order_price, tick) if record.order_price is not None else "0",
        "orderType": "Limit" if record.order_price is not None else "Market",
        "execType": "Trade",
        "closedSize": on_step(trade.qty, step),
        "cumEntryValue": num(size * trade.entry_price),
        "avgEntryPrice": num(trade.entry_price),
        "cumExitValue": num(size * trade.exit_price),
        "avgExitPrice": num(trade.exit_price),
        "closedPnl": num(money(trade.net_pnl)),
        "fillCount": str(record.fill_count),
        "leverage": num(leverage),
        "openFee": num(open_fee),
        "closeFee": num(record.close_fee),
        "createdTime": str(trade.closed_at),
        "updatedTime": str(trade.closed_at),
    }


def instrument(market: Market, launched: int, funding_minutes: int) -> dict[str, Any]:
    config, rules = market.config, market.instrument
    tick_exponent = rules.tick_size.as_tuple().exponent
    return {
        "symbol": market.id,
        "contractType": "LinearPerpetual",
        "status": "Trading" if rules.active else "Closed",
        "baseCoin": rules.base,
        "quoteCoin": "USDT",
        "settleCoin": "USDT",
        "launchTime": str(launched),
        "deliveryTime": "0",
        "deliveryFeeRate": "",
        "priceScale": str(-tick_exponent if isinstance(tick_exponent, int) else 0),
        "leverageFilter": {
            "minLeverage": "1",
            "maxLeverage": on_step(config.max_leverage, config.leverage_step),
            "leverageStep": num(config.leverage_step),
        },
        "priceFilter": {
            "minPrice": num(rules.tick_size),
            "maxPrice": on_step(rules.tick_size * 10**9 - rules.tick_size, rules.tick_size),
            "tickSize": num(rules.tick_size),
        },
        "lotSizeFilter": {
            "maxOrderQty": num(config.max_qty),
            "minOrderQty": num(rules.min_qty),
            "qtyStep": num(rules.qty_step),
            "postOnlyMaxOrderQty": num(config.max_qty),
            "maxMktOrderQty": num(config.max_market_qty),
            "minNotionalValue": num(rules.min_notional),
        },
        "unifiedMarginTrade": True,
        "fundingInterval": funding_minutes,
        "settleCoinList": [],
        "copyTrading": "both",
        "upperFundingRate": "0.005",
        "lowerFundingRate": "-0.005",
        "isPreListing": False,
        "preListingInfo": None,
    }


def top_of_book(venue: Venue, market: Market) -> tuple[tuple[BookLevel, ...], tuple[BookLevel, ...]]:
    """The engine's order book where one is set; otherwise where a taker fills now (the last price moved by the
    slippage) with the largest market order as its size, since without a book the paper venue's depth is unlimited."""
    book = venue.engine.order_book(market.symbol)
    if book is not None:
        return book.bids, book.asks
    last = venue.engine.last_price(market.symbol)
    if last is None:
        return (), ()
    tick, bps, size = market.instrument.tick_size, venue.engine.config.slippage_bps, market.config.max_market_qty
    return (BookLevel(slipped(last, Side.SELL, bps, tick), size),), (
        BookLevel(slipped(last, Side.BUY, bps, tick), size),
    )


def wallet(balance: Balance, position_margin: Decimal) -> dict[str, Any]:
    """One UNIFIED account with its USDT coin; free margin is what positions and orders do not hold."""
    held = balance.wallet - balance.available
    order_margin = max(held - position_margin, ZERO)
    equity = balance.equity
    coin = {
        "coin": balance.asset,
        "equity": num(equity),
        "usdValue": num(equity),
        "walletBalance": num(balance.wallet),
        "locked": "0",
        "spotHedgingQty": "0",
        "borrowAmount": "0",
        "availableToWithdraw": "",
        "availableToBorrow": "",
        "accruedInterest": "0",
        "totalOrderIM": num(order_margin),
        "totalPositionIM": num(position_margin),
        "totalPositionMM": "0",
        "unrealisedPnl": num(money(balance.unrealized_pnl)),
        "cumRealisedPnl": "0",
        "bonus": "0",
        "marginCollateral": True,
        "collateralSwitch": True,
    }
    return {
        "accountType": "UNIFIED",
        "accountIMRate": "0",
        "accountMMRate": "0",
        "accountLTV": "0",
        "totalEquity": num(equity),
        "totalWalletBalance": num(balance.wallet),
        "totalMarginBalance": num(equity),
        "totalAvailableBalance": num(max(balance.available, ZERO)),
        "totalPerpUPL": num(money(balance.unrealized_pnl)),
        "totalInitialMargin": num(held),
        "totalMaintenanceMargin": "0",
        "coin": [coin],
    }
