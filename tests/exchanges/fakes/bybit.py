"""A Bybit v5 fake: HMAC-signed requests, the retCode envelope, a small one-way linear account.

Just enough venue to prove the adapter's requests and its reading of answers: orders fill at the ticker's last price
(market) or rest (limit), positions net one-way, TP/SL are stored on the position and never fire. Prices and sizes
travel as strings, as on Bybit. Every endpoint of ``src/elcaro/exchanges/bybit/ENDPOINTS.md`` is served.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import time
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from aiohttp import web

from fakes.server import FakeVenue

T0 = 1_767_225_600_000  # 2026-01-01T00:00:00Z
LIMIT_HEADERS = {"X-Bapi-Limit": "10", "X-Bapi-Limit-Status": "9"}


@dataclass
class Market:
    symbol: str
    base: str
    last: Decimal
    tick: str = "0.1"
    step: str = "0.001"
    min_qty: str = "0.001"
    max_qty: str = "1190"
    min_notional: str = "5"
    max_leverage: str = "100"
    leverage_step: str = "0.01"
    settle: str = "USDT"


@dataclass
class Position:
    side: str = ""
    size: Decimal = Decimal(0)
    avg_price: Decimal = Decimal(0)
    leverage: str = "10"
    take_profit: str = ""
    stop_loss: str = ""


@dataclass
class Account:
    api_key: str
    secret: str
    wallet: Decimal = Decimal(10_000)
    margin_mode: str = "REGULAR_MARGIN"
    orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    positions: dict[str, Position] = field(default_factory=dict)
    executions: list[dict[str, Any]] = field(default_factory=list)
    closed_pnl: list[dict[str, Any]] = field(default_factory=list)


def _s(value: Decimal) -> str:
    return format(value.normalize(), "f") if value else "0"


class FakeBybit(FakeVenue):
    """One account (``api_key``/``secret``) on BTCUSDT and ETHUSDT linear perpetuals (and one USDC perpetual)."""

    def __init__(self, api_key: str, secret: str) -> None:
        super().__init__()
        self.account = Account(api_key, secret)
        self.markets = {
            "BTCUSDT": Market("BTCUSDT", "BTC", Decimal("30000")),
            "ETHUSDT": Market("ETHUSDT", "ETH", Decimal("2000"), tick="0.01", step="0.01", min_qty="0.01"),
            "BTCPERP": Market("BTCPERP", "BTC", Decimal("30000"), settle="USDC"),
        }
        self._ids = itertools.count(1)
        self._clock = itertools.count(T0, 1000)
        routes = {
            ("GET", "/v5/market/instruments-info"): self._instruments,
            ("GET", "/v5/market/tickers"): self._tickers,
            ("GET", "/v5/market/orderbook"): self._orderbook,
            ("GET", "/v5/market/kline"): self._kline,
            ("GET", "/v5/account/wallet-balance"): self._wallet_balance,
            ("GET", "/v5/position/list"): self._position_list,
            ("POST", "/v5/position/set-leverage"): self._set_leverage,
            ("POST", "/v5/account/set-margin-mode"): self._set_margin_mode,
            ("POST", "/v5/position/trading-stop"): self._trading_stop,
            ("POST", "/v5/order/create"): self._create,
            ("POST", "/v5/order/amend"): self._amend,
            ("POST", "/v5/order/cancel"): self._cancel,
            ("POST", "/v5/order/cancel-all"): self._cancel_all,
            ("GET", "/v5/order/realtime"): self._realtime,
            ("GET", "/v5/order/history"): self._history,
            ("GET", "/v5/execution/list"): self._executions,
            ("GET", "/v5/position/closed-pnl"): self._closed_pnl,
        }
        for (method, path), handler in routes.items():
            self.app.router.add_route(method, path, self._wrap(path, handler))
        self.app.router.add_get("/v5/public/linear", self._public_stream)
        self.app.router.add_get("/v5/private", self._private_stream)
        self._streams: dict[web.WebSocketResponse, set[str]] = {}
        self._subscribed: dict[str, asyncio.Event] = {}

    # ------------------------------------------------------------------------------------- wire format

    @staticmethod
    def envelope(result: Any = None, *, code: int = 0, message: str = "OK") -> dict[str, Any]:
        return {
            "retCode": code,
            "retMsg": message,
            "result": {} if result is None else result,
            "retExtInfo": {},
            "time": int(time.time() * 1000),
        }

    def error(self, code: int, message: str) -> web.Response:
        return web.json_response(self.envelope(code=code, message=message), headers=LIMIT_HEADERS)

    def _wrap(self, path: str, handler: Any) -> Any:
        private = not path.startswith("/v5/market/")

        async def handle(request: web.Request) -> web.Response:
            body = await request.read()
            params = dict(request.query) if request.method == "GET" else (json.loads(body) if body else {})
            if private:
                refused = self._authenticate(request, body)
                if refused is not None:
                    return refused
            try:
                result = handler(params)
            except BybitError as exc:
                return self.error(exc.code, exc.message)
            return web.json_response(self.envelope(result), headers=LIMIT_HEADERS)

        return handle

    def _authenticate(self, request: web.Request, body: bytes) -> web.Response | None:
        headers = request.headers
        key, stamp = headers.get("X-BAPI-API-KEY"), headers.get("X-BAPI-TIMESTAMP")
        window, signature = headers.get("X-BAPI-RECV-WINDOW"), headers.get("X-BAPI-SIGN")
        if key != self.account.api_key:
            return self.error(10003, "API key is invalid.")
        if stamp is None or window is None or signature is None:
            return self.error(10004, "error sign! missing signature headers")
        payload = stamp + key + window + (request.query_string if request.method == "GET" else body.decode())
        expected = hmac.new(self.account.secret.encode(), payload.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, signature):
            return self.error(10004, "error sign! origin_string[...]")
        if abs(time.time() * 1000 - int(stamp)) > int(window):
            return self.error(10002, "invalid request, please check your server timestamp or recv_window param")
        return None

    # ------------------------------------------------------------------------------------------ websockets

    async def subscribed(self, topic: str) -> None:
        """Wait until a client has subscribed to ``topic``."""
        await self._subscribed.setdefault(topic, asyncio.Event()).wait()

    async def _public_stream(self, request: web.Request) -> web.WebSocketResponse:
        return await self._stream(request, private=False)

    async def _private_stream(self, request: web.Request) -> web.WebSocketResponse:
        return await self._stream(request, private=True)

    async def _stream(self, request: web.Request, *, private: bool) -> web.WebSocketResponse:
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        self._streams[socket] = set()
        authenticated = not private
        async for frame in socket:
            message = json.loads(frame.data)
            op = message.get("op")
            if op == "ping":
                await socket.send_json({"success": True, "ret_msg": "pong", "op": "ping", "conn_id": "fake"})
            elif op == "auth":
                key, expires, signature = message["args"]
                expected = hmac.new(self.account.secret.encode(), f"GET/realtime{expires}".encode(), hashlib.sha256)
                authenticated = key == self.account.api_key and hmac.compare_digest(expected.hexdigest(), signature)
                reply = {"success": authenticated, "ret_msg": "" if authenticated else "error:USVC1111", "op": "auth"}
                await socket.send_json(reply | {"conn_id": "fake"})
            elif op == "subscribe" and authenticated:
                await socket.send_json(
                    {"success": True, "ret_msg": "", "conn_id": "fake", "req_id": message.get("req_id"), "op": op}
                )
                for topic in message["args"]:
                    self._streams[socket].add(topic)
                    if not private:
                        await socket.send_json(self._snapshot(topic))
                    self._subscribed.setdefault(topic, asyncio.Event()).set()
        self._streams.pop(socket, None)
        return socket

    def _snapshot(self, topic: str) -> dict[str, Any]:
        kind, *rest = topic.split(".")
        market = self.markets[rest[-1]]
        last = market.last
        if kind == "publicTrade":
            data: Any = [
                {
                    "T": T0,
                    "s": market.symbol,
                    "S": "Sell",
                    "v": "0.015",
                    "p": _s(last),
                    "L": "MinusTick",
                    "i": "trade-1",
                    "BT": False,
                }
            ]
        elif kind == "kline":
            data = [
                {
                    "start": T0,
                    "end": T0 + 59_999,
                    "interval": rest[0],
                    "open": _s(last),
                    "close": _s(last + 1),
                    "high": _s(last + 5),
                    "low": _s(last - 5),
                    "volume": "10.5",
                    "turnover": "315000.25",
                    "confirm": False,
                    "timestamp": T0,
                }
            ]
        else:
            tick = Decimal(market.tick)
            data = {
                "s": market.symbol,
                "b": [[_s(last - tick), "0.5"], [_s(last - 2 * tick), "1"]],
                "a": [[_s(last + tick), "0.25"]],
                "u": 1,
                "seq": 1,
            }
        return {"topic": topic, "type": "snapshot", "ts": T0, "data": data, "cts": T0}

    def _publish(self, topic: str, rows: list[dict[str, Any]]) -> None:
        message = {"id": f"fake-{next(self._ids)}", "topic": topic, "creationTime": T0, "data": rows}
        for socket, topics in self._streams.items():
            if topic in topics:
                asyncio.get_running_loop().create_task(socket.send_json(message))

    # --------------------------------------------------------------------------------------- market data

    def _instruments(self, params: dict[str, Any]) -> dict[str, Any]:
        rows = [] if params.get("status") == "PreLaunch" else [self._instrument(m) for m in self.markets.values()]
        return {"category": "linear", "list": rows, "nextPageCursor": ""}

    @staticmethod
    def _instrument(market: Market) -> dict[str, Any]:
        return {
            "symbol": market.symbol,
            "contractType": "LinearPerpetual",
            "status": "Trading",
            "baseCoin": market.base,
            "quoteCoin": market.settle,
            "settleCoin": market.settle,
            "launchTime": "1585526400000",
            "deliveryTime": "0",
            "priceScale": "2",
            "leverageFilter": {
                "minLeverage": "1",
                "maxLeverage": market.max_leverage,
                "leverageStep": market.leverage_step,
            },
            "priceFilter": {"minPrice": "0.10", "maxPrice": "1999999.80", "tickSize": market.tick},
            "lotSizeFilter": {
                "maxOrderQty": market.max_qty,
                "maxMktOrderQty": "119",
                "minOrderQty": market.min_qty,
                "qtyStep": market.step,
                "minNotionalValue": market.min_notional,
            },
            "fundingInterval": 480,
        }

    def _ticker(self, market: Market) -> dict[str, Any]:
        last = market.last
        tick = Decimal(market.tick)
        return {
            "symbol": market.symbol,
            "lastPrice": _s(last),
            "indexPrice": _s(last - tick),
            "markPrice": _s(last),
            "bid1Price": _s(last - tick),
            "bid1Size": "1.5",
            "ask1Price": _s(last + tick),
            "ask1Size": "2.25",
            "volume24h": "12345.678",
            "turnover24h": "370370340.5",
            "openInterest": "5000.123",
            "openInterestValue": "150003690",
            "fundingRate": "0.0001",
            "nextFundingTime": str(T0 + 8 * 3600 * 1000),
        }

    def _market(self, params: dict[str, Any]) -> Market:
        market = self.markets.get(params.get("symbol", ""))
        if market is None:
            raise BybitError(10001, "params error: symbol invalid")
        return market

    def _tickers(self, params: dict[str, Any]) -> dict[str, Any]:
        markets = [self._market(params)] if "symbol" in params else list(self.markets.values())
        return {"category": "linear", "list": [self._ticker(market) for market in markets]}

    def _orderbook(self, params: dict[str, Any]) -> dict[str, Any]:
        market = self._market(params)
        tick = Decimal(market.tick)
        bids = [[_s(market.last - tick * (i + 1)), _s(Decimal("0.5") * (i + 1))] for i in range(3)]
        asks = [[_s(market.last + tick * (i + 1)), _s(Decimal("0.25") * (i + 1))] for i in range(3)]
        return {"s": market.symbol, "b": bids, "a": asks, "ts": T0, "u": 1, "seq": 7, "cts": T0}

    def _kline(self, params: dict[str, Any]) -> dict[str, Any]:
        market = self._market(params)
        minutes = {"1": 1, "5": 5, "60": 60, "D": 1440}[params["interval"]]
        start = int(params.get("start", T0))
        rows = []
        for i in range(int(params.get("limit", 3))):
            open_ = market.last + i
            ts = start + i * minutes * 60_000
            rows.append([str(ts), _s(open_), _s(open_ + 5), _s(open_ - 5), _s(open_ + 1), "10.5", "315000.25"])
        return {"symbol": market.symbol, "category": "linear", "list": rows[::-1]}  # newest first, as Bybit

    # ------------------------------------------------------------------------------------------- account

    def _wallet_balance(self, params: dict[str, Any]) -> dict[str, Any]:
        assert params["accountType"] == "UNIFIED"
        unrealized = sum((self._unrealized(symbol) for symbol in self.account.positions), Decimal(0))
        im = sum((p.size * p.avg_price / Decimal(p.leverage) for p in self.account.positions.values()), Decimal(0))
        coin = {
            "coin": "USDT",
            "equity": _s(self.account.wallet + unrealized),
            "walletBalance": _s(self.account.wallet),
            "unrealisedPnl": _s(unrealized),
            "availableToWithdraw": "",
            "totalPositionIM": _s(im),
            "totalOrderIM": "0",
            "locked": "0",
            "cumRealisedPnl": "0",
        }
        return {"list": [{"accountType": "UNIFIED", "totalEquity": coin["equity"], "coin": [coin]}]}

    def _unrealized(self, symbol: str) -> Decimal:
        position = self.account.positions[symbol]
        sign = 1 if position.side == "Buy" else -1
        return sign * (self.markets[symbol].last - position.avg_price) * position.size

    def _position_row(self, symbol: str) -> dict[str, Any]:
        position = self.account.positions.get(symbol, Position())
        return {
            "positionIdx": 0,
            "symbol": symbol,
            "side": position.side,
            "size": _s(position.size),
            "avgPrice": _s(position.avg_price),
            "positionValue": _s(position.size * position.avg_price),
            "tradeMode": 0,
            "leverage": position.leverage,
            "markPrice": _s(self.markets[symbol].last),
            "liqPrice": "" if not position.size else "21000.5",
            "unrealisedPnl": _s(self._unrealized(symbol)) if position.size else "0",
            "cumRealisedPnl": "-1.5",
            "takeProfit": position.take_profit or "0",
            "stopLoss": position.stop_loss or "0",
            "tpslMode": "Full",
            "createdTime": str(T0),
            "updatedTime": str(T0 + 1000),
        }

    def _position_list(self, params: dict[str, Any]) -> dict[str, Any]:
        if "symbol" in params:
            return {"category": "linear", "list": [self._position_row(self._market(params).symbol)]}
        settle = params.get("settleCoin")
        if settle is None:
            raise BybitError(10001, "symbol or settleCoin is required")
        symbols = [s for s, p in self.account.positions.items() if p.size and self.markets[s].settle == settle]
        return {"category": "linear", "list": [self._position_row(s) for s in symbols], "nextPageCursor": ""}

    def _set_leverage(self, params: dict[str, Any]) -> dict[str, Any]:
        market = self._market(params)
        if params["buyLeverage"] != params["sellLeverage"]:
            raise BybitError(10001, "buy leverage must equal sell leverage in one-way mode")
        if Decimal(params["buyLeverage"]) > Decimal(market.max_leverage):
            raise BybitError(10001, "leverage invalid")
        position = self.account.positions.setdefault(market.symbol, Position())
        if Decimal(position.leverage) == Decimal(params["buyLeverage"]):
            raise BybitError(110043, "leverage not modified")
        position.leverage = params["buyLeverage"]
        return {}

    def _set_margin_mode(self, params: dict[str, Any]) -> dict[str, Any]:
        if params["setMarginMode"] not in ("ISOLATED_MARGIN", "REGULAR_MARGIN", "PORTFOLIO_MARGIN"):
            raise BybitError(10001, "setMarginMode invalid")
        self.account.margin_mode = params["setMarginMode"]
        return {"reasons": []}

    def _trading_stop(self, params: dict[str, Any]) -> dict[str, Any]:
        market = self._market(params)
        position = self.account.positions.get(market.symbol)
        if position is None or not position.size:
            raise BybitError(10001, "can not set tp/sl/ts for zero position")
        assert params["tpslMode"] == "Full" and params["positionIdx"] == 0
        new_tp, new_sl = params.get("takeProfit", position.take_profit), params.get("stopLoss", position.stop_loss)
        if (new_tp, new_sl) == (position.take_profit, position.stop_loss):
            raise BybitError(34040, "not modified")
        position.take_profit, position.stop_loss = new_tp, new_sl
        return {}

    # ------------------------------------------------------------------------------------------- orders

    def _create(self, params: dict[str, Any]) -> dict[str, Any]:
        market = self._market(params)
        link_id = params.get("orderLinkId", "")
        if link_id and link_id in self.account.orders:
            raise BybitError(110072, "OrderLinkedID is duplicate")
        qty = Decimal(params["qty"])
        if qty < Decimal(market.min_qty) or qty % Decimal(market.step):
            raise BybitError(10001, "Qty invalid")
        position = self.account.positions.setdefault(market.symbol, Position())
        side = params["side"]
        if params.get("reduceOnly") and (not position.size or position.side == side):
            raise BybitError(110017, "current position is zero, cannot fix reduce-only order qty")
        price = Decimal(params.get("price", market.last))
        if not params.get("reduceOnly") and qty * price / Decimal(position.leverage) > self.account.wallet:
            raise BybitError(110007, "ab not enough for new order")
        now = next(self._clock)
        order = {
            "orderId": f"ord-{next(self._ids)}",
            "orderLinkId": link_id,
            "symbol": market.symbol,
            "side": side,
            "orderType": params["orderType"],
            "price": params.get("price", _s(market.last * Decimal("1.05"))),  # Bybit's market protection price
            "qty": params["qty"],
            "timeInForce": params.get("timeInForce", "IOC" if params["orderType"] == "Market" else "GTC"),
            "orderStatus": "Untriggered" if "triggerPrice" in params else "New",
            "triggerPrice": params.get("triggerPrice", "0"),
            "stopOrderType": "Stop" if "triggerPrice" in params else "",
            "reduceOnly": bool(params.get("reduceOnly")),
            "takeProfit": params.get("takeProfit", ""),
            "stopLoss": params.get("stopLoss", ""),
            "cumExecQty": "0",
            "cumExecValue": "0",
            "cumExecFee": "0",
            "avgPrice": "",
            "rejectReason": "EC_NoError",
            "createdTime": str(now),
            "updatedTime": str(now),
        }
        self.account.orders[link_id or order["orderId"]] = order
        if params["orderType"] == "Market" and "triggerPrice" not in params:
            self._fill(order, market)
        self._publish("order", [order | {"category": "linear"}])
        return {"orderId": order["orderId"], "orderLinkId": link_id}

    def _fill(self, order: dict[str, Any], market: Market) -> None:
        qty, price = Decimal(order["qty"]), market.last
        fee = qty * price * Decimal("0.00055")
        order.update(
            orderStatus="Filled",
            cumExecQty=order["qty"],
            cumExecValue=_s(qty * price),
            cumExecFee=_s(fee),
            avgPrice=_s(price),
        )
        now = next(self._clock)
        self.account.executions.append(
            {
                "symbol": market.symbol,
                "orderId": order["orderId"],
                "orderLinkId": order["orderLinkId"],
                "side": order["side"],
                "orderPrice": order["price"],
                "orderQty": order["qty"],
                "leavesQty": "0",
                "orderType": order["orderType"],
                "execFee": _s(fee),
                "execId": f"exec-{next(self._ids)}",
                "execPrice": _s(price),
                "execQty": order["qty"],
                "execType": "Trade",
                "execValue": _s(qty * price),
                "execTime": str(now),
                "isMaker": False,
                "feeRate": "0.00055",
            }
        )
        self._publish("execution", [self.account.executions[-1] | {"category": "linear"}])
        position = self.account.positions[market.symbol]
        if not position.size or position.side == order["side"]:
            total = position.size + qty
            position.avg_price = (position.avg_price * position.size + price * qty) / total
            position.size, position.side = total, order["side"]
            if order["takeProfit"] or order["stopLoss"]:
                position.take_profit, position.stop_loss = order["takeProfit"], order["stopLoss"]
            row = self._position_row(market.symbol)
            self._publish("position", [row | {"category": "linear", "entryPrice": row.pop("avgPrice")}])
            return
        closed = min(qty, position.size)
        sign = 1 if position.side == "Buy" else -1
        self.account.closed_pnl.append(
            {
                "symbol": market.symbol,
                "orderId": order["orderId"],
                "side": order["side"],
                "qty": _s(closed),
                "orderPrice": order["price"],
                "orderType": order["orderType"],
                "execType": "Trade",
                "closedSize": _s(closed),
                "cumEntryValue": _s(position.avg_price * closed),
                "avgEntryPrice": _s(position.avg_price),
                "cumExitValue": _s(price * closed),
                "avgExitPrice": _s(price),
                "closedPnl": _s(sign * (price - position.avg_price) * closed - fee),
                "fillCount": "1",
                "leverage": position.leverage,
                "openFee": "0.5",
                "closeFee": _s(fee),
                "createdTime": str(now),
                "updatedTime": str(now),
            }
        )
        position.size -= closed
        if not position.size:
            position.side, position.avg_price, position.take_profit, position.stop_loss = "", Decimal(0), "", ""

    def _order(self, params: dict[str, Any]) -> dict[str, Any]:
        order = self.account.orders.get(params.get("orderLinkId") or params.get("orderId", ""))
        if order is None or order["symbol"] != params.get("symbol"):
            raise BybitError(110001, "order not exists or too late to cancel")
        return order

    def _amend(self, params: dict[str, Any]) -> dict[str, Any]:
        order = self._order(params)
        if order["orderStatus"] not in ("New", "Untriggered", "PartiallyFilled"):
            raise BybitError(110001, "order not exists or too late to replace")
        for name in ("qty", "price", "triggerPrice"):
            if name in params:
                order[name] = params[name]
        order["updatedTime"] = str(next(self._clock))
        return {"orderId": order["orderId"], "orderLinkId": order["orderLinkId"]}

    def _cancel(self, params: dict[str, Any]) -> dict[str, Any]:
        order = self._order(params)
        if order["orderStatus"] not in ("New", "Untriggered", "PartiallyFilled"):
            raise BybitError(110001, "order not exists or too late to cancel")
        order.update(orderStatus="Cancelled", updatedTime=str(next(self._clock)))
        return {"orderId": order["orderId"], "orderLinkId": order["orderLinkId"]}

    def _cancel_all(self, params: dict[str, Any]) -> dict[str, Any]:
        conditional = params.get("orderFilter") == "StopOrder"
        canceled = []
        for order in self._open(params):
            if bool(order["stopOrderType"]) == conditional:
                order["orderStatus"] = "Cancelled"
                canceled.append({"orderId": order["orderId"], "orderLinkId": order["orderLinkId"]})
        return {"list": canceled, "success": "1"}

    def _open(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        if "symbol" not in params and "settleCoin" not in params:
            raise BybitError(10001, "symbol or settleCoin is required")
        return [
            order
            for order in self.account.orders.values()
            if order["orderStatus"] in ("New", "Untriggered", "PartiallyFilled")
            and order["symbol"] == params.get("symbol", order["symbol"])
            and self.markets[order["symbol"]].settle == params.get("settleCoin", self.markets[order["symbol"]].settle)
        ]

    def _realtime(self, params: dict[str, Any]) -> dict[str, Any]:
        if "orderLinkId" in params:
            order = self.account.orders.get(params["orderLinkId"])
            return {"list": [order] if order is not None else [], "nextPageCursor": "", "category": "linear"}
        return self._page(self._open(params), params)

    def _history(self, params: dict[str, Any]) -> dict[str, Any]:
        orders = [
            order
            for order in self.account.orders.values()
            if order["orderLinkId"] == params.get("orderLinkId", order["orderLinkId"])
            and order["symbol"] == params.get("symbol", order["symbol"])
        ]
        return self._page(orders[::-1], params)

    @staticmethod
    def _page(rows: list[dict[str, Any]], params: dict[str, Any]) -> dict[str, Any]:
        """Bybit's cursor paging: the cursor here is simply the offset of the next page."""
        limit = int(params.get("limit", 20))
        offset = int(params.get("cursor") or 0)
        page = rows[offset : offset + limit]
        cursor = str(offset + limit) if offset + limit < len(rows) else ""
        return {"category": "linear", "list": page, "nextPageCursor": cursor}

    def _filtered(self, rows: list[dict[str, Any]], params: dict[str, Any], stamp: str) -> list[dict[str, Any]]:
        since = int(params.get("startTime", 0))
        wanted = [
            row for row in rows if row["symbol"] == params.get("symbol", row["symbol"]) and int(row[stamp]) >= since
        ]
        return wanted[::-1][: int(params.get("limit", 50))]  # newest first, as Bybit

    def _executions(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            "category": "linear",
            "list": self._filtered(self.account.executions, params, "execTime"),
            "nextPageCursor": "",
        }

    def _closed_pnl(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            "category": "linear",
            "list": self._filtered(self.account.closed_pnl, params, "updatedTime"),
            "nextPageCursor": "",
        }


@dataclass
class BybitError(Exception):
    code: int
    message: str
