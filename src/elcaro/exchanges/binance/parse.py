"""Binance USDⓈ-M answers (REST, and the user-data stream's short keys) read into the shared models."""

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
from elcaro.models.market import BookLevel, Candle, OrderBook, Ticker

SIDES = {Side.BUY: "BUY", Side.SELL: "SELL"}
TIME_IN_FORCE = {TimeInForce.GTC: "GTC", TimeInForce.IOC: "IOC", TimeInForce.FOK: "FOK", TimeInForce.POST_ONLY: "GTX"}
_TIME_IN_FORCE_BACK = {wire: ours for ours, wire in TIME_IN_FORCE.items()}
_STATUS = {
    "NEW": OrderStatus.OPEN,
    "PARTIALLY_FILLED": OrderStatus.PARTIALLY_FILLED,
    "FILLED": OrderStatus.FILLED,
    "CANCELED": OrderStatus.CANCELED,
    "REJECTED": OrderStatus.REJECTED,
    "EXPIRED": OrderStatus.EXPIRED,
    "EXPIRED_IN_MATCH": OrderStatus.EXPIRED,
}
_ALGO_STATUS = {
    "NEW": OrderStatus.OPEN,
    "TRIGGERING": OrderStatus.OPEN,
    "TRIGGERED": OrderStatus.FILLED,  # handed to the book as a regular order (its own id, its own fills)
    "FINISHED": OrderStatus.FILLED,
    "CANCELED": OrderStatus.CANCELED,
    "EXPIRED": OrderStatus.EXPIRED,
    "REJECTED": OrderStatus.REJECTED,
}
_TYPES = {
    "MARKET": OrderType.MARKET,
    "LIMIT": OrderType.LIMIT,
    "STOP_MARKET": OrderType.STOP_MARKET,
    "TAKE_PROFIT_MARKET": OrderType.STOP_MARKET,
    "STOP": OrderType.STOP_LIMIT,
    "TAKE_PROFIT": OrderType.STOP_LIMIT,
}


def _filter(info: Mapping[str, Any], kind: str) -> Mapping[str, Any]:
    return next((entry for entry in info.get("filters") or [] if entry.get("filterType") == kind), {})


def instrument(market: Mapping[str, Any], max_leverage: Decimal) -> Instrument:
    """From a ccxt market whose ``info`` is the exchangeInfo symbol entry; Binance lists leverage elsewhere."""
    info = market["info"]
    prices, lot, notional = _filter(info, "PRICE_FILTER"), _filter(info, "LOT_SIZE"), _filter(info, "MIN_NOTIONAL")
    return Instrument(
        symbol=market["symbol"],
        base=market["base"],
        quote=market["quote"],
        settle=market["settle"],
        tick_size=dec(prices["tickSize"], field="tickSize"),
        qty_step=dec(lot["stepSize"], field="stepSize"),
        min_qty=dec(lot["minQty"], field="minQty"),
        min_notional=opt_dec(notional.get("notional"), field="notional") or ZERO,
        max_qty=opt_dec(lot.get("maxQty"), field="maxQty"),
        max_leverage=max_leverage,
        active=info.get("status") == "TRADING",
    )


def max_leverages(brackets: list[Mapping[str, Any]]) -> dict[str, Decimal]:
    """Each symbol's highest leverage: that of its first (smallest) notional bracket."""
    return {
        entry["symbol"]: dec(entry["brackets"][0]["initialLeverage"], field="initialLeverage")
        for entry in brackets
        if entry.get("brackets")
    }


def order(raw: Mapping[str, Any], symbol: str) -> Order:
    """From /fapi/v1/order and its siblings."""
    kind = _TYPES.get(raw.get("origType") or raw["type"], OrderType.LIMIT)
    filled = dec(raw.get("executedQty") or "0", field="executedQty")
    return Order(
        client_order_id=raw["clientOrderId"],
        symbol=symbol,
        side=Side.BUY if raw["side"] == "BUY" else Side.SELL,
        type=kind,
        qty=dec(raw["origQty"], field="origQty"),
        price=price(raw.get("price")) if kind.has_limit_price else None,
        trigger_price=price(raw.get("stopPrice")) if kind.has_trigger else None,
        time_in_force=_TIME_IN_FORCE_BACK.get(raw.get("timeInForce", ""), TimeInForce.GTC)
        if kind.has_limit_price
        else TimeInForce.GTC,
        reduce_only=bool(raw.get("reduceOnly")),
        status=_STATUS.get(raw["status"], OrderStatus.OPEN),
        exchange_order_id=str(raw["orderId"]),
        filled_qty=filled,
        avg_fill_price=price(raw.get("avgPrice")) if filled else None,
        created_at=int(raw.get("time") or raw.get("updateTime") or 0),
        updated_at=int(raw.get("updateTime") or 0),
    )


def is_protection(raw: Mapping[str, Any]) -> bool:
    """A position's TP/SL: a close-position conditional order (the only kind this adapter places as protection)."""
    return bool(raw.get("closePosition"))


def algo_order(raw: Mapping[str, Any], symbol: str) -> Order:
    """From /fapi/v1/algoOrder and its siblings: conditional orders live apart from regular ones on Binance."""
    kind = _TYPES.get(raw.get("orderType", ""), OrderType.STOP_MARKET)
    return Order(
        client_order_id=raw["clientAlgoId"],
        symbol=symbol,
        side=Side.BUY if raw["side"] == "BUY" else Side.SELL,
        type=kind,
        qty=dec(raw["quantity"], field="quantity"),
        price=price(raw.get("price")) if kind.has_limit_price else None,
        trigger_price=price(raw.get("triggerPrice")),
        time_in_force=_TIME_IN_FORCE_BACK.get(raw.get("timeInForce", ""), TimeInForce.GTC)
        if kind.has_limit_price
        else TimeInForce.GTC,
        reduce_only=bool(raw.get("reduceOnly")),
        status=_ALGO_STATUS.get(raw.get("algoStatus", ""), OrderStatus.OPEN),
        exchange_order_id=str(raw["algoId"]),
        created_at=int(raw.get("createTime") or 0),
        updated_at=int(raw.get("updateTime") or 0),
    )


def stream_order(raw: Mapping[str, Any], symbol: str) -> Order:
    """From the ``o`` of an ORDER_TRADE_UPDATE event (the user-data stream's short keys)."""
    kind = _TYPES.get(raw.get("ot") or raw["o"], OrderType.LIMIT)
    filled = dec(raw.get("z") or "0", field="z")
    return Order(
        client_order_id=raw["c"],
        symbol=symbol,
        side=Side.BUY if raw["S"] == "BUY" else Side.SELL,
        type=kind,
        qty=dec(raw["q"], field="q"),
        price=price(raw.get("p")) if kind.has_limit_price else None,
        trigger_price=price(raw.get("sp")) if kind.has_trigger else None,
        time_in_force=_TIME_IN_FORCE_BACK.get(raw.get("f", ""), TimeInForce.GTC)
        if kind.has_limit_price
        else TimeInForce.GTC,
        reduce_only=bool(raw.get("R")),
        status=_STATUS.get(raw["X"], OrderStatus.OPEN),
        exchange_order_id=str(raw["i"]),
        filled_qty=filled,
        avg_fill_price=price(raw.get("ap")) if filled else None,
        fee=opt_dec(raw.get("n"), field="n") or ZERO,
        updated_at=int(raw.get("T") or 0),
    )


def stream_fill(raw: Mapping[str, Any], symbol: str, fee_asset: str) -> Fill:
    """The trade in an ORDER_TRADE_UPDATE event whose execution type is TRADE."""
    return Fill(
        trade_id=str(raw["t"]),
        client_order_id=raw["c"],
        symbol=symbol,
        side=Side.BUY if raw["S"] == "BUY" else Side.SELL,
        qty=dec(raw["l"], field="l"),
        price=dec(raw["L"], field="L"),
        fee=opt_dec(raw.get("n"), field="n") or ZERO,
        fee_asset=raw.get("N") or fee_asset,
        is_maker=bool(raw.get("m")),
        timestamp=int(raw["T"]),
        exchange_order_id=str(raw["i"]),
    )


def position(raw: Mapping[str, Any], symbol: str, protection: tuple[Decimal | None, Decimal | None]) -> Position | None:
    """From /fapi/v2/positionRisk; None for a symbol with no position."""
    amount = dec(raw["positionAmt"], field="positionAmt")
    if not amount:
        return None
    return Position(
        symbol=symbol,
        side=PositionSide.LONG if amount > 0 else PositionSide.SHORT,
        qty=abs(amount),
        entry_price=dec(raw["entryPrice"], field="entryPrice"),
        leverage=price(raw.get("leverage")) or Decimal(1),
        margin_mode=MarginMode.ISOLATED if raw.get("marginType") == "isolated" else MarginMode.CROSS,
        mark_price=price(raw.get("markPrice")),
        liquidation_price=price(raw.get("liquidationPrice")),
        unrealized_pnl=opt_dec(raw.get("unRealizedProfit"), field="unRealizedProfit") or ZERO,
        take_profit=protection[0],
        stop_loss=protection[1],
        updated_at=int(raw.get("updateTime") or 0),
    )


def protection(algo_orders: list[Mapping[str, Any]], market_id: str) -> tuple[Decimal | None, Decimal | None]:
    """The take-profit and stop-loss triggers of a symbol's open close-position orders."""
    take_profit = stop_loss = None
    for raw in algo_orders:
        if raw.get("symbol") != market_id or not is_protection(raw):
            continue
        if str(raw.get("orderType", "")).startswith("TAKE_PROFIT"):
            take_profit = price(raw.get("triggerPrice"))
        else:
            stop_loss = price(raw.get("triggerPrice"))
    return take_profit, stop_loss


def balance(account: Mapping[str, Any], asset: str) -> Balance:
    """From /fapi/v3/account's ``assets``."""
    entry = next((item for item in account.get("assets") or [] if item.get("asset") == asset), None)
    if entry is None:
        return Balance(asset, ZERO, ZERO)
    wallet = dec(entry["walletBalance"], field="walletBalance")
    unrealized = opt_dec(entry.get("unrealizedProfit"), field="unrealizedProfit") or ZERO
    available = dec(entry.get("availableBalance") or "0", field="availableBalance")
    return Balance(asset, wallet, min(max(available, ZERO), wallet), unrealized)


def fill(raw: Mapping[str, Any], symbol: str, client_order_id: str | None) -> Fill:
    """From /fapi/v1/userTrades, which names the order by id only: the caller supplies its client id if known."""
    return Fill(
        trade_id=str(raw["id"]),
        client_order_id=client_order_id or str(raw["orderId"]),
        symbol=symbol,
        side=Side.BUY if raw["side"] == "BUY" else Side.SELL,
        qty=dec(raw["qty"], field="qty"),
        price=dec(raw["price"], field="price"),
        fee=dec(raw.get("commission") or "0", field="commission"),
        fee_asset=raw.get("commissionAsset") or "USDT",
        is_maker=bool(raw.get("maker")),
        timestamp=int(raw["time"]),
        exchange_order_id=str(raw["orderId"]),
    )


def closed_trade(raw: Mapping[str, Any], symbol: str, target: Target) -> Trade | None:
    """A user trade that realised PnL, as a closed trade; the entry price is the one that PnL implies.

    Binance keeps no closed-position records with prices, only each fill's ``realizedPnl`` (and the income history
    with amounts alone); a selling fill that realises PnL closed a long, a buying one a short.
    """
    realized = dec(raw.get("realizedPnl") or "0", field="realizedPnl")
    if not realized:
        return None
    side = PositionSide.LONG if raw["side"] == "SELL" else PositionSide.SHORT
    qty, exit_price = dec(raw["qty"], field="qty"), dec(raw["price"], field="price")
    at = int(raw["time"])
    return Trade(
        target=target,
        symbol=symbol,
        side=side,
        qty=qty,
        entry_price=exit_price - realized / (side.sign * qty),
        exit_price=exit_price,
        opened_at=at,
        closed_at=at,
        exit_reason=ExitReason.EXTERNAL,
        fees=max(dec(raw.get("commission") or "0", field="commission"), ZERO),
    )


def ticker(day: Mapping[str, Any], book: Mapping[str, Any], premium: Mapping[str, Any], symbol: str) -> Ticker:
    """From the 24-hour ticker, the book ticker and the premium index of one symbol."""
    return Ticker(
        symbol=symbol,
        last=dec(day["lastPrice"], field="lastPrice"),
        bid=price(book.get("bidPrice")),
        ask=price(book.get("askPrice")),
        mark=price(premium.get("markPrice")),
        index=price(premium.get("indexPrice")),
        volume_24h=opt_dec(day.get("volume"), field="volume") or ZERO,
        turnover_24h=opt_dec(day.get("quoteVolume"), field="quoteVolume") or ZERO,
        timestamp=int(day.get("closeTime") or 0),
    )


def order_book(raw: Mapping[str, Any], symbol: str, depth: int) -> OrderBook:
    def levels(rows: list[list[str]]) -> tuple[BookLevel, ...]:
        return tuple(BookLevel(dec(p, field="price"), dec(q, field="qty")) for p, q in rows[:depth])

    return OrderBook(symbol, levels(raw.get("bids") or []), levels(raw.get("asks") or []), int(raw.get("T") or 0))


def candle(row: list[Any]) -> Candle:
    """One kline: open time, open, high, low, close, volume, close time, ..."""
    return Candle(int(row[0]), dec(row[1]), dec(row[2]), dec(row[3]), dec(row[4]), dec(row[5]))
