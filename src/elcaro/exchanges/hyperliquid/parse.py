"""HyperLiquid ``/info`` answers (and the websocket's, which share field names) read into the shared models."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
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

MIN_NOTIONAL = Decimal(10)
"""HyperLiquid's minimum order value, in USDC, for every perpetual."""
SIGNIFICANT_FIGURES = 5
MAX_DECIMALS = 6
"""A perpetual's price has at most 6 − szDecimals decimals and, unless whole, 5 significant figures."""

_TIME_IN_FORCE = {"Gtc": TimeInForce.GTC, "Ioc": TimeInForce.IOC, "Alo": TimeInForce.POST_ONLY}
_TYPES = {
    "Limit": OrderType.LIMIT,
    "Market": OrderType.MARKET,
    "Stop Market": OrderType.STOP_MARKET,
    "Stop Limit": OrderType.STOP_LIMIT,
    "Take Profit Market": OrderType.STOP_MARKET,
    "Take Profit Limit": OrderType.STOP_LIMIT,
}


def size_decimals(market: Mapping[str, Any]) -> int:
    return int(market["info"]["szDecimals"])


def tick_size(mark: Decimal, sz_decimals: int) -> Decimal:
    """The price step at ``mark``: 5 significant figures, never finer than 6 − szDecimals decimals, never over 1.

    The same step ccxt derives for its market precision, computed exactly.
    """
    finest = Decimal(1).scaleb(-(MAX_DECIMALS - sz_decimals))
    if mark <= 0:
        return max(finest, Decimal(1).scaleb(-SIGNIFICANT_FIGURES))
    return min(max(Decimal(1).scaleb(mark.adjusted() - SIGNIFICANT_FIGURES + 1), finest), Decimal(1))


def price_error(value: Decimal, sz_decimals: int) -> str | None:
    """Why HyperLiquid would refuse ``value`` as a price, or None."""
    exponent = value.normalize().as_tuple().exponent
    decimals = -exponent if isinstance(exponent, int) and exponent < 0 else 0
    if decimals > MAX_DECIMALS - sz_decimals:
        return f"has more than {MAX_DECIMALS - sz_decimals} decimals"
    if decimals and len(value.normalize().as_tuple().digits) > SIGNIFICANT_FIGURES:
        return f"has more than {SIGNIFICANT_FIGURES} significant figures"
    return None


def instrument(market: Mapping[str, Any]) -> Instrument:
    """From a ccxt market whose ``info`` is the perpetual's meta entry merged with its asset context."""
    info = market["info"]
    sz_decimals = size_decimals(market)
    step = Decimal(1).scaleb(-sz_decimals)
    return Instrument(
        symbol=market["symbol"],
        base=market["base"],
        quote=market["quote"],
        settle=market["settle"],
        tick_size=tick_size(opt_dec(info.get("markPx"), field="markPx") or ZERO, sz_decimals),
        qty_step=step,
        min_qty=step,
        min_notional=MIN_NOTIONAL,
        max_leverage=dec(info["maxLeverage"], field="maxLeverage"),
        active=not info.get("isDelisted", False),
    )


def is_protection(raw: Mapping[str, Any]) -> bool:
    """A position's TP/SL: a reduce-only trigger order (HyperLiquid keeps TP/SL as orders)."""
    return bool(raw.get("isPositionTpsl")) or (bool(raw.get("isTrigger")) and bool(raw.get("reduceOnly")))


def _status(status: str, original: Decimal, remaining: Decimal) -> OrderStatus:
    if status in ("open", "triggered"):
        return OrderStatus.PARTIALLY_FILLED if ZERO < remaining < original else OrderStatus.OPEN
    if status == "filled":
        return OrderStatus.FILLED
    if status == "rejected" or status.endswith("Rejected"):
        return OrderStatus.REJECTED
    return OrderStatus.CANCELED  # canceled, marginCanceled, reduceOnlyCanceled, siblingFilledCanceled, ...


def order(raw: Mapping[str, Any], symbol: str, status: str = "open", status_time: int | None = None) -> Order:
    """From an order entry (frontendOpenOrders, or the ``order`` of orderStatus / historicalOrders)."""
    kind = _TYPES.get(raw.get("orderType") or "Limit", OrderType.LIMIT)
    original = dec(raw.get("origSz") or raw["sz"], field="origSz")
    remaining = dec(raw["sz"], field="sz")
    filled = original - remaining if status != "filled" else original
    return Order(
        client_order_id=raw.get("cloid") or str(raw["oid"]),
        symbol=symbol,
        side=Side.BUY if raw["side"] == "B" else Side.SELL,
        type=kind,
        qty=original,
        price=price(raw.get("limitPx")) if kind.has_limit_price else None,
        trigger_price=price(raw.get("triggerPx")) if kind.has_trigger else None,
        time_in_force=_TIME_IN_FORCE.get(raw.get("tif") or "", TimeInForce.GTC)
        if kind.has_limit_price
        else TimeInForce.GTC,
        reduce_only=bool(raw.get("reduceOnly")),
        status=_status(status, original, remaining),
        exchange_order_id=str(raw["oid"]),
        filled_qty=max(filled, ZERO),
        created_at=int(raw.get("timestamp") or 0),
        updated_at=int(status_time or raw.get("timestamp") or 0),
    )


def protection(orders: Iterable[Mapping[str, Any]], coin: str) -> tuple[Decimal | None, Decimal | None]:
    """The TP and SL trigger prices among a coin's open protection orders (whole-position ones first)."""
    take_profit = stop_loss = None
    for raw in sorted(orders, key=lambda raw: not raw.get("isPositionTpsl")):
        if raw.get("coin") != coin or not is_protection(raw):
            continue
        trigger = price(raw.get("triggerPx"))
        if str(raw.get("orderType", "")).startswith("Take Profit"):
            take_profit = take_profit or trigger
        else:
            stop_loss = stop_loss or trigger
    return take_profit, stop_loss


def position(
    raw: Mapping[str, Any], symbol: str, protections: tuple[Decimal | None, Decimal | None]
) -> Position | None:
    signed = dec(raw["szi"], field="szi")
    if not signed:
        return None
    qty = abs(signed)
    leverage = raw.get("leverage") or {}
    value = opt_dec(raw.get("positionValue"), field="positionValue")
    return Position(
        symbol=symbol,
        side=PositionSide.LONG if signed > 0 else PositionSide.SHORT,
        qty=qty,
        entry_price=dec(raw["entryPx"], field="entryPx"),
        leverage=dec(leverage.get("value") or 1, field="leverage"),
        margin_mode=MarginMode.ISOLATED if leverage.get("type") == "isolated" else MarginMode.CROSS,
        # HyperLiquid values the position at the mark price: value ÷ size is that mark, exactly.
        mark_price=value / qty if value else None,
        liquidation_price=price(raw.get("liquidationPx")),
        unrealized_pnl=opt_dec(raw.get("unrealizedPnl"), field="unrealizedPnl") or ZERO,
        take_profit=protections[0],
        stop_loss=protections[1],
    )


def balance(state: Mapping[str, Any], asset: str) -> Balance:
    """From clearinghouseState: equity is the account value, free margin what can be withdrawn."""
    equity = dec(state["marginSummary"]["accountValue"], field="accountValue")
    unrealized = sum(
        (dec(item["position"].get("unrealizedPnl") or "0") for item in state.get("assetPositions") or []), ZERO
    )
    wallet = equity - unrealized
    available = min(max(dec(state.get("withdrawable") or "0", field="withdrawable"), ZERO), max(wallet, ZERO))
    return Balance(asset, wallet, available, unrealized)


def fill(raw: Mapping[str, Any], symbol: str, fee_asset: str) -> Fill:
    return Fill(
        trade_id=str(raw["tid"]),
        client_order_id=raw.get("cloid") or str(raw["oid"]),
        symbol=symbol,
        side=Side.BUY if raw["side"] == "B" else Side.SELL,
        qty=dec(raw["sz"], field="sz"),
        price=dec(raw["px"], field="px"),
        fee=dec(raw.get("fee") or "0", field="fee"),
        fee_asset=raw.get("feeToken") or fee_asset,
        is_maker=not raw.get("crossed", True),
        timestamp=int(raw["time"]),
        exchange_order_id=str(raw["oid"]),
    )


def closed_trade(raw: Mapping[str, Any], symbol: str, target: Target) -> Trade | None:
    """A fill that closed (part of) a position, as a trade; None for fills that only opened.

    HyperLiquid keeps no position records, only fills with the PnL they realised; the entry price is the one that
    PnL implies (exit − pnl ÷ (sign × size)), and the fees are the closing fill's.
    """
    direction = raw.get("dir", "")
    if direction in ("Close Long", "Long > Short"):
        side = PositionSide.LONG
    elif direction in ("Close Short", "Short > Long"):
        side = PositionSide.SHORT
    else:
        return None
    size = dec(raw["sz"], field="sz")
    qty = size if direction.startswith("Close") else abs(dec(raw.get("startPosition") or "0"))
    if not qty:
        return None
    exit_price = dec(raw["px"], field="px")
    entry_price = exit_price - dec(raw.get("closedPnl") or "0", field="closedPnl") / (side.sign * qty)
    at = int(raw["time"])
    return Trade(
        target=target,
        symbol=symbol,
        side=side,
        qty=qty,
        entry_price=entry_price,
        exit_price=exit_price,
        opened_at=at,
        closed_at=at,
        exit_reason=ExitReason.EXTERNAL,
        fees=max(dec(raw.get("fee") or "0", field="fee"), ZERO),
    )


def order_book(raw: Mapping[str, Any], symbol: str, depth: int) -> OrderBook:
    bids, asks = (raw.get("levels") or [[], []])[:2]

    def levels(rows: list[dict[str, Any]]) -> tuple[BookLevel, ...]:
        return tuple(BookLevel(dec(row["px"]), dec(row["sz"])) for row in rows[:depth])

    return OrderBook(symbol, levels(bids), levels(asks), int(raw.get("time") or 0))


def candle(raw: Mapping[str, Any]) -> Candle:
    return Candle(int(raw["t"]), dec(raw["o"]), dec(raw["h"]), dec(raw["l"]), dec(raw["c"]), dec(raw["v"]))


def ticker(symbol: str, context: Mapping[str, Any], now: int) -> Ticker:
    """HyperLiquid's asset context has no last trade or best bid/ask: last is the mid (or mark) price."""
    mark = price(context.get("markPx"))
    return Ticker(
        symbol=symbol,
        last=price(context.get("midPx")) or mark or ZERO,
        bid=None,
        ask=None,
        mark=mark,
        index=price(context.get("oraclePx")),
        volume_24h=opt_dec(context.get("dayBaseVlm"), field="dayBaseVlm") or ZERO,
        turnover_24h=opt_dec(context.get("dayNtlVlm"), field="dayNtlVlm") or ZERO,
        timestamp=now,
    )
