"""Bybit v5 answers (REST and the private websocket, which share field names) read into the shared models."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from elcaro.exchanges.ccxt.numbers import dec, opt_dec, price
from elcaro.models import (
    Balance,
    Fill,
    Instrument,
    MarginMode,
    Order,
    OrderStatus,
    OrderType,
    Position,
    PositionSide,
    Side,
    Target,
    TimeInForce,
    Trade,
)
from elcaro.models.decimals import ZERO
from elcaro.models.enums import ExitReason
from elcaro.models.market import BookLevel, Candle, FundingRate, OpenInterest, OrderBook, Ticker

SIDES = {Side.BUY: "Buy", Side.SELL: "Sell"}
TIME_IN_FORCE = {
    TimeInForce.GTC: "GTC",
    TimeInForce.IOC: "IOC",
    TimeInForce.FOK: "FOK",
    TimeInForce.POST_ONLY: "PostOnly",
}
_TIME_IN_FORCE_BACK = {wire: ours for ours, wire in TIME_IN_FORCE.items()}
_STATUS = {
    "Created": OrderStatus.PENDING,
    "New": OrderStatus.OPEN,
    "Untriggered": OrderStatus.OPEN,
    "Triggered": OrderStatus.OPEN,
    "PartiallyFilled": OrderStatus.PARTIALLY_FILLED,
    "Filled": OrderStatus.FILLED,
    "Cancelled": OrderStatus.CANCELED,
    "PartiallyFilledCanceled": OrderStatus.CANCELED,
    "Deactivated": OrderStatus.CANCELED,
    "Rejected": OrderStatus.REJECTED,
}
PROTECTION_ORDER_TYPES = frozenset(
    {"TakeProfit", "StopLoss", "PartialTakeProfit", "PartialStopLoss", "TrailingStop", "tpslOrder"}
)
"""``stopOrderType`` of the orders Bybit keeps for a position's TP/SL: part of the position, not orders of ours."""


def _ms(value: object) -> int:
    return int(value) if isinstance(value, str | int) and str(value).isdigit() else 0


def instrument(market: Mapping[str, Any]) -> Instrument:
    """From a ccxt market whose ``info`` is the instruments-info entry."""
    info = market["info"]
    lot, price_filter, leverage = info["lotSizeFilter"], info["priceFilter"], info["leverageFilter"]
    return Instrument(
        symbol=market["symbol"],
        base=market["base"],
        quote=market["quote"],
        settle=market["settle"],
        tick_size=dec(price_filter["tickSize"], field="tickSize"),
        qty_step=dec(lot["qtyStep"], field="qtyStep"),
        min_qty=dec(lot["minOrderQty"], field="minOrderQty"),
        min_notional=opt_dec(lot.get("minNotionalValue"), field="minNotionalValue") or ZERO,
        max_qty=opt_dec(lot.get("maxOrderQty"), field="maxOrderQty"),
        max_leverage=dec(leverage["maxLeverage"], field="maxLeverage"),
        active=info.get("status") == "Trading",
    )


def leverage_step(market: Mapping[str, Any]) -> Decimal:
    return dec(market["info"]["leverageFilter"].get("leverageStep") or "0.01", field="leverageStep")


def order_type(raw: Mapping[str, Any]) -> OrderType:
    is_limit = raw.get("orderType") == "Limit"
    if price(raw.get("triggerPrice")) is not None and raw.get("stopOrderType") not in PROTECTION_ORDER_TYPES:
        return OrderType.STOP_LIMIT if is_limit else OrderType.STOP_MARKET
    return OrderType.LIMIT if is_limit else OrderType.MARKET


def order(raw: Mapping[str, Any], symbol: str) -> Order:
    kind = order_type(raw)
    status = _STATUS.get(raw.get("orderStatus", ""), OrderStatus.OPEN)
    filled = dec(raw.get("cumExecQty") or "0", field="cumExecQty")
    reject = raw.get("rejectReason")
    return Order(
        client_order_id=raw.get("orderLinkId") or raw["orderId"],
        symbol=symbol,
        side=Side.BUY if raw["side"] == "Buy" else Side.SELL,
        type=kind,
        qty=dec(raw["qty"], field="qty"),
        # Bybit gives market orders a protection price of its own: not a price of ours.
        price=price(raw.get("price")) if kind.has_limit_price else None,
        trigger_price=price(raw.get("triggerPrice")) if kind.has_trigger else None,
        time_in_force=_TIME_IN_FORCE_BACK.get(raw.get("timeInForce", ""), TimeInForce.GTC)
        if kind.has_limit_price
        else TimeInForce.GTC,
        reduce_only=bool(raw.get("reduceOnly")),
        take_profit=price(raw.get("takeProfit")),
        stop_loss=price(raw.get("stopLoss")),
        status=status,
        exchange_order_id=raw["orderId"],
        filled_qty=filled,
        avg_fill_price=price(raw.get("avgPrice")) if filled else None,
        fee=opt_dec(raw.get("cumExecFee"), field="cumExecFee") or ZERO,
        created_at=_ms(raw.get("createdTime")),
        updated_at=_ms(raw.get("updatedTime")),
        reject_reason=reject if reject and reject != "EC_NoError" else None,
    )


def position(raw: Mapping[str, Any], symbol: str) -> Position | None:
    """None for the empty one-way slot Bybit lists for a symbol with no position."""
    size = opt_dec(raw.get("size"), field="size") or ZERO
    if size <= 0 or raw.get("side") not in ("Buy", "Sell"):
        return None
    return Position(
        symbol=symbol,
        side=PositionSide.LONG if raw["side"] == "Buy" else PositionSide.SHORT,
        qty=size,
        # The REST list says avgPrice, the websocket entryPrice.
        entry_price=dec(raw.get("avgPrice") or raw.get("entryPrice"), field="avgPrice"),
        leverage=price(raw.get("leverage")) or Decimal(1),
        # UTA 2.0 sets the margin mode per account and always reports tradeMode 0 here.
        margin_mode=MarginMode.ISOLATED if str(raw.get("tradeMode")) == "1" else MarginMode.CROSS,
        mark_price=price(raw.get("markPrice")),
        liquidation_price=price(raw.get("liqPrice")),
        unrealized_pnl=opt_dec(raw.get("unrealisedPnl"), field="unrealisedPnl") or ZERO,
        realized_pnl=opt_dec(raw.get("cumRealisedPnl"), field="cumRealisedPnl") or ZERO,
        take_profit=price(raw.get("takeProfit")),
        stop_loss=price(raw.get("stopLoss")),
        opened_at=_ms(raw.get("createdTime")),
        updated_at=_ms(raw.get("updatedTime")),
    )


def balance(account: Mapping[str, Any] | None, asset: str) -> Balance:
    """From one wallet-balance account entry; an asset the account never held is a zero balance."""
    coins = (account or {}).get("coin") or []
    coin = next((entry for entry in coins if entry.get("coin") == asset), None)
    if coin is None:
        return Balance(asset, ZERO, ZERO)
    wallet = dec(coin["walletBalance"], field="walletBalance")
    unrealized = opt_dec(coin.get("unrealisedPnl"), field="unrealisedPnl") or ZERO
    # UTA reports no per-coin free margin any more (availableToWithdraw is deprecated and empty): what is not held
    # by positions, orders or locks, out of the equity, is what a new order can use.
    held = sum(
        (opt_dec(coin.get(name), field=name) or ZERO for name in ("totalPositionIM", "totalOrderIM", "locked")),
        ZERO,
    )
    available = min(max(wallet + unrealized - held, ZERO), wallet)
    return Balance(asset, wallet, available, unrealized)


def fill(raw: Mapping[str, Any], symbol: str, fee_asset: str) -> Fill:
    return Fill(
        trade_id=raw["execId"],
        client_order_id=raw.get("orderLinkId") or raw["orderId"],
        symbol=symbol,
        side=Side.BUY if raw["side"] == "Buy" else Side.SELL,
        qty=dec(raw["execQty"], field="execQty"),
        price=dec(raw["execPrice"], field="execPrice"),
        fee=dec(raw.get("execFee") or "0", field="execFee"),
        fee_asset=fee_asset,
        is_maker=bool(raw.get("isMaker")),
        timestamp=_ms(raw.get("execTime")),
        exchange_order_id=raw.get("orderId"),
    )


def closed_pnl(raw: Mapping[str, Any], symbol: str, target: Target) -> Trade:
    """One closed-pnl record. ``side`` there is the closing order's, so the position was the other way.

    Bybit keeps no opening time on the record; ``opened_at`` is its creation time like ``closed_at``.
    """
    closed_at = _ms(raw.get("updatedTime") or raw.get("createdTime"))
    fees = (opt_dec(raw.get("openFee"), field="openFee") or ZERO) + (
        opt_dec(raw.get("closeFee"), field="closeFee") or ZERO
    )
    return Trade(
        target=target,
        symbol=symbol,
        side=PositionSide.SHORT if raw["side"] == "Buy" else PositionSide.LONG,
        qty=dec(raw.get("closedSize") or raw["qty"], field="closedSize"),
        entry_price=dec(raw["avgEntryPrice"], field="avgEntryPrice"),
        exit_price=dec(raw["avgExitPrice"], field="avgExitPrice"),
        opened_at=_ms(raw.get("createdTime")) or closed_at,
        closed_at=closed_at,
        exit_reason=ExitReason.EXTERNAL,
        fees=max(fees, ZERO),  # a net maker rebate is no fee; Trade keeps fees non-negative
    )


def ticker(raw: Mapping[str, Any], symbol: str, timestamp: int) -> Ticker:
    return Ticker(
        symbol=symbol,
        last=dec(raw["lastPrice"], field="lastPrice"),
        bid=price(raw.get("bid1Price")),
        ask=price(raw.get("ask1Price")),
        mark=price(raw.get("markPrice")),
        index=price(raw.get("indexPrice")),
        volume_24h=opt_dec(raw.get("volume24h"), field="volume24h") or ZERO,
        turnover_24h=opt_dec(raw.get("turnover24h"), field="turnover24h") or ZERO,
        timestamp=timestamp,
    )


def funding_rate(raw: Mapping[str, Any], symbol: str, timestamp: int) -> FundingRate:
    next_at = _ms(raw.get("nextFundingTime"))
    return FundingRate(symbol, dec(raw.get("fundingRate") or "0", field="fundingRate"), next_at or None, timestamp)


def open_interest(raw: Mapping[str, Any], symbol: str, timestamp: int) -> OpenInterest:
    return OpenInterest(
        symbol,
        dec(raw.get("openInterest") or "0", field="openInterest"),
        opt_dec(raw.get("openInterestValue"), field="openInterestValue"),
        timestamp,
    )


def order_book(raw: Mapping[str, Any], symbol: str, depth: int) -> OrderBook:
    def levels(rows: list[list[str]]) -> tuple[BookLevel, ...]:
        return tuple(BookLevel(dec(p, field="price"), dec(q, field="size")) for p, q in rows[:depth])

    return OrderBook(symbol, levels(raw.get("b") or []), levels(raw.get("a") or []), _ms(raw.get("ts")))


def candle(row: list[str]) -> Candle:
    """One kline row: start, open, high, low, close, volume, turnover."""
    start, open_, high, low, close, volume = row[:6]
    return Candle(int(start), dec(open_), dec(high), dec(low), dec(close), dec(volume))
