"""A Binance USDⓈ-M fake: HMAC-SHA256 ``signature`` over the query or form body, ``X-MBX-APIKEY``, Binance's JSON.

Regular orders fill at the last price (market) or rest (limit); conditional orders go through the Algo Order API
and never trigger. Errors are Binance's: ``{"code": -2019, "msg": "Margin is insufficient."}`` with its HTTP status.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import secrets
import time
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web

from fakes.server import FakeVenue

T0 = 1_767_225_600_000


@dataclass
class Market:
    symbol: str
    base: str
    last: Decimal
    tick: str = "0.10"
    step: str = "0.001"
    min_qty: str = "0.001"
    min_notional: str = "100"
    max_leverage: int = 125
    quote: str = "USDT"


@dataclass
class Account:
    api_key: str
    secret: str
    wallet: Decimal = Decimal(10_000)
    orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    algo: dict[str, dict[str, Any]] = field(default_factory=dict)
    positions: dict[str, dict[str, Decimal]] = field(default_factory=dict)
    leverage: dict[str, int] = field(default_factory=dict)
    margin_type: dict[str, str] = field(default_factory=dict)
    trades: list[dict[str, Any]] = field(default_factory=list)


def _s(value: Decimal) -> str:
    return format(value.normalize(), "f") if value else "0"


class BinanceError(Exception):
    def __init__(self, code: int, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


class FakeBinance(FakeVenue):
    """One account on BTCUSDT and ETHUSDT perpetuals (and a quarterly BTC future, which is not traded)."""

    def __init__(self, api_key: str, secret: str) -> None:
        super().__init__()
        self.account = Account(api_key, secret)
        self.markets = {
            "BTCUSDT": Market("BTCUSDT", "BTC", Decimal("30000")),
            "ETHUSDT": Market("ETHUSDT", "ETH", Decimal("2000"), tick="0.01", min_notional="20", max_leverage=100),
        }
        self._ids = itertools.count(8_000_000)
        self._clock = itertools.count(T0, 1000)
        public = {
            "exchangeInfo": self._exchange_info,
            "ticker/24hr": self._ticker_24hr,
            "ticker/bookTicker": self._book_ticker,
            "premiumIndex": self._premium_index,
            "depth": self._depth,
            "klines": self._klines,
            "openInterest": self._open_interest,
        }
        for path, handler in public.items():
            self.app.router.add_get(f"/fapi/v1/{path}", self._wrap(handler, signed=False))
        signed = {
            ("GET", "/fapi/v1/leverageBracket"): self._brackets,
            ("GET", "/fapi/v3/account"): self._account_info,
            ("GET", "/fapi/v2/positionRisk"): self._position_risk,
            ("POST", "/fapi/v1/order"): self._create,
            ("PUT", "/fapi/v1/order"): self._amend,
            ("DELETE", "/fapi/v1/order"): self._cancel,
            ("GET", "/fapi/v1/order"): self._query,
            ("GET", "/fapi/v1/openOrders"): self._open_orders,
            ("GET", "/fapi/v1/allOrders"): self._all_orders,
            ("DELETE", "/fapi/v1/allOpenOrders"): self._cancel_all,
            ("GET", "/fapi/v1/userTrades"): self._user_trades,
            ("POST", "/fapi/v1/leverage"): self._set_leverage,
            ("POST", "/fapi/v1/marginType"): self._set_margin_type,
            ("POST", "/fapi/v1/algoOrder"): self._algo_create,
            ("DELETE", "/fapi/v1/algoOrder"): self._algo_cancel,
            ("GET", "/fapi/v1/algoOrder"): self._algo_query,
            ("GET", "/fapi/v1/openAlgoOrders"): self._algo_open,
        }
        for (method, path), handler in signed.items():
            self.app.router.add_route(method, path, self._wrap(handler, signed=True))
        self.app.router.add_post("/fapi/v1/listenKey", self._listen_key)
        self.app.router.add_get("/{category:public|market|private}/ws{tail:.*}", self._stream)
        self.listen_key = secrets.token_hex(16)
        self._streams: dict[web.WebSocketResponse, set[str]] = {}
        self._subscribed: dict[str, asyncio.Event] = {}

    # ------------------------------------------------------------------------------------------ websockets

    async def subscribed(self, stream: str) -> None:
        """Wait until a client has subscribed to ``stream`` ("btcusdt@aggTrade", ..., "user" for the user data)."""
        await self._subscribed.setdefault(stream, asyncio.Event()).wait()

    async def _listen_key(self, request: web.Request) -> web.Response:
        if request.headers.get("X-MBX-APIKEY") != self.account.api_key:
            return web.json_response(
                self.error_body(-2015, "Invalid API-key, IP, or permissions for action."), status=401
            )
        return web.json_response({"listenKey": self.listen_key})

    async def _stream(self, request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        if request.match_info["category"] == "private":
            if request.query.get("listenKey") != self.listen_key:
                await socket.close(code=4001, message=b"invalid listen key")
                return socket
            self._streams[socket] = {"user"}
            self._subscribed.setdefault("user", asyncio.Event()).set()
        else:
            self._streams[socket] = set()
        async for frame in socket:
            message = json.loads(frame.data)
            if message.get("method") != "SUBSCRIBE":
                continue
            await socket.send_json({"result": None, "id": message["id"]})
            for stream in message["params"]:
                self._streams[socket].add(stream)
                await socket.send_json(self._first(stream))
                self._subscribed.setdefault(stream, asyncio.Event()).set()
        self._streams.pop(socket, None)
        return socket

    def _first(self, stream: str) -> dict[str, Any]:
        market_id, kind = stream.split("@", 1)
        market = self.markets[market_id.upper()]
        last = market.last
        if kind == "trade":
            return {
                "e": "trade",
                "E": T0,
                "T": T0,
                "s": market.symbol,
                "t": 5933014,
                "p": _s(last),
                "q": "0.015",
                "X": "MARKET",
                "m": True,
            }
        if kind == "aggTrade":
            return {
                "e": "aggTrade",
                "E": T0,
                "s": market.symbol,
                "a": 5933014,
                "p": _s(last),
                "q": "0.015",
                "f": 100,
                "l": 105,
                "T": T0,
                "m": True,
            }
        if kind.startswith("kline"):
            return {
                "e": "kline",
                "E": T0,
                "s": market.symbol,
                "k": {
                    "t": T0,
                    "T": T0 + 59_999,
                    "s": market.symbol,
                    "i": kind.split("_")[1],
                    "f": 1,
                    "L": 2,
                    "o": _s(last),
                    "c": _s(last + 1),
                    "h": _s(last + 5),
                    "l": _s(last - 5),
                    "v": "10.5",
                    "n": 2,
                    "x": False,
                    "q": "315000.25",
                    "V": "5",
                    "Q": "150000",
                    "B": "0",
                },
            }
        tick = Decimal(market.tick)
        return {
            "e": "depthUpdate",
            "E": T0,
            "T": T0,
            "s": market.symbol,
            "U": 2,
            "u": 2,
            "pu": 1,
            "b": [[_s(last - tick), "0.75"]],
            "a": [],
        }

    def _publish(self, event: dict[str, Any]) -> None:
        for socket, streams in self._streams.items():
            if "user" in streams:
                asyncio.get_running_loop().create_task(socket.send_json(event))

    def _publish_order(self, order: dict[str, Any], trade: dict[str, Any] | None) -> None:
        data = {
            "s": order["symbol"],
            "c": order["clientOrderId"],
            "S": order["side"],
            "o": order["type"],
            "f": order["timeInForce"],
            "q": order["origQty"],
            "p": order["price"],
            "ap": order["avgPrice"],
            "sp": "0",
            "x": "TRADE" if trade else "NEW",
            "X": order["status"],
            "i": order["orderId"],
            "l": trade["qty"] if trade else "0",
            "z": order["executedQty"],
            "L": trade["price"] if trade else "0",
            "N": "USDT",
            "n": trade["commission"] if trade else "0",
            "T": order["updateTime"],
            "t": trade["id"] if trade else 0,
            "b": "0",
            "a": "0",
            "m": False,
            "R": order["reduceOnly"],
            "wt": "CONTRACT_PRICE",
            "ot": order["origType"],
            "ps": "BOTH",
            "cp": False,
            "rp": trade["realizedPnl"] if trade else "0",
            "pP": False,
            "si": 0,
            "ss": 0,
            "V": "NONE",
            "pm": "NONE",
            "gtd": 0,
        }
        self._publish({"e": "ORDER_TRADE_UPDATE", "E": order["updateTime"], "T": order["updateTime"], "o": data})

    # ------------------------------------------------------------------------------------- wire format

    @staticmethod
    def error_body(code: int, message: str) -> dict[str, Any]:
        return {"code": code, "msg": message}

    def _wrap(self, handler: Any, *, signed: bool) -> Any:
        async def handle(request: web.Request) -> web.Response:
            raw = request.query_string if request.method in ("GET", "DELETE") else (await request.read()).decode()
            params = dict(parse_qsl(raw, keep_blank_values=True))
            try:
                if signed:
                    self._authenticate(request, raw, params)
                return web.json_response(handler(params))
            except BinanceError as exc:
                return web.json_response(self.error_body(exc.code, exc.message), status=exc.status)

        return handle

    def _authenticate(self, request: web.Request, raw: str, params: dict[str, str]) -> None:
        if request.headers.get("X-MBX-APIKEY") != self.account.api_key:
            raise BinanceError(-2015, "Invalid API-key, IP, or permissions for action.", 401)
        payload, _, signature = raw.rpartition("&signature=")
        expected = hmac.new(self.account.secret.encode(), payload.encode(), hashlib.sha256).hexdigest()
        if not signature or not hmac.compare_digest(expected, signature):
            raise BinanceError(-1022, "Signature for this request is not valid.")
        if abs(time.time() * 1000 - int(params["timestamp"])) > int(params.get("recvWindow", 5000)):
            raise BinanceError(-1021, "Timestamp for this request is outside of the recvWindow.")

    def _market(self, params: dict[str, str]) -> Market:
        market = self.markets.get(params.get("symbol", ""))
        if market is None:
            raise BinanceError(-1121, "Invalid symbol.")
        return market

    # --------------------------------------------------------------------------------------- market data

    def _exchange_info(self, params: dict[str, str]) -> Any:
        symbols = [self._symbol_info(market) for market in self.markets.values()]
        future = self._symbol_info(Market("BTCUSDT_260327", "BTC", Decimal("30500")))
        future |= {"contractType": "CURRENT_QUARTER", "deliveryDate": 1774598400000}
        return {
            "timezone": "UTC",
            "serverTime": T0,
            "futuresType": "U_MARGINED",
            "rateLimits": [],
            "exchangeFilters": [],
            "assets": [{"asset": "USDT", "marginAvailable": True}],
            "symbols": [*symbols, future],
        }

    @staticmethod
    def _symbol_info(market: Market) -> dict[str, Any]:
        return {
            "symbol": market.symbol,
            "pair": market.base + market.quote,
            "contractType": "PERPETUAL",
            "deliveryDate": 4133404800000,
            "onboardDate": 1569398400000,
            "status": "TRADING",
            "baseAsset": market.base,
            "quoteAsset": market.quote,
            "marginAsset": market.quote,
            "pricePrecision": 2,
            "quantityPrecision": 3,
            "baseAssetPrecision": 8,
            "quotePrecision": 8,
            "underlyingType": "COIN",
            "underlyingSubType": [],
            "triggerProtect": "0.0500",
            "liquidationFee": "0.012500",
            "marketTakeBound": "0.05",
            "maxMoveOrderLimit": 10000,
            "filters": [
                {"filterType": "PRICE_FILTER", "minPrice": "556.80", "maxPrice": "4529764", "tickSize": market.tick},
                {"filterType": "LOT_SIZE", "stepSize": market.step, "maxQty": "1000", "minQty": market.min_qty},
                {"filterType": "MARKET_LOT_SIZE", "stepSize": market.step, "maxQty": "120", "minQty": market.min_qty},
                {"filterType": "MAX_NUM_ORDERS", "limit": 200},
                {"filterType": "MIN_NOTIONAL", "notional": market.min_notional},
                {
                    "filterType": "PERCENT_PRICE",
                    "multiplierUp": "1.0500",
                    "multiplierDown": "0.9500",
                    "multiplierDecimal": "4",
                },
            ],
            "orderTypes": [
                "LIMIT",
                "MARKET",
                "STOP",
                "STOP_MARKET",
                "TAKE_PROFIT",
                "TAKE_PROFIT_MARKET",
                "TRAILING_STOP_MARKET",
            ],
            "timeInForce": ["GTC", "IOC", "FOK", "GTX", "GTD"],
        }

    def _for(self, params: dict[str, str], row: Any) -> Any:
        if "symbol" in params:
            return row(self._market(params))
        return [row(market) for market in self.markets.values()]

    def _ticker_24hr(self, params: dict[str, str]) -> Any:
        return self._for(
            params,
            lambda m: {
                "symbol": m.symbol,
                "priceChange": "100.00",
                "priceChangePercent": "0.334",
                "weightedAvgPrice": _s(m.last),
                "lastPrice": _s(m.last),
                "lastQty": "0.010",
                "openPrice": _s(m.last - 100),
                "highPrice": _s(m.last + 200),
                "lowPrice": _s(m.last - 300),
                "volume": "123456.789",
                "quoteVolume": "3703703670.50",
                "openTime": T0 - 86_400_000,
                "closeTime": T0,
                "firstId": 1,
                "lastId": 2,
                "count": 2,
            },
        )

    def _book_ticker(self, params: dict[str, str]) -> Any:
        return self._for(
            params,
            lambda m: {
                "symbol": m.symbol,
                "bidPrice": _s(m.last - Decimal(m.tick)),
                "bidQty": "3.5",
                "askPrice": _s(m.last + Decimal(m.tick)),
                "askQty": "1.25",
                "time": T0,
            },
        )

    def _premium_index(self, params: dict[str, str]) -> Any:
        return self._for(
            params,
            lambda m: {
                "symbol": m.symbol,
                "markPrice": _s(m.last + Decimal("0.5")),
                "indexPrice": _s(m.last - 1),
                "estimatedSettlePrice": _s(m.last),
                "lastFundingRate": "0.00010000",
                "interestRate": "0.00010000",
                "nextFundingTime": T0 + 8 * 3_600_000,
                "time": T0,
            },
        )

    def _depth(self, params: dict[str, str]) -> Any:
        m = self._market(params)
        tick = Decimal(m.tick)
        return {
            "lastUpdateId": 1,
            "E": T0,
            "T": T0,
            "bids": [[_s(m.last - tick * (i + 1)), _s(Decimal("0.5") * (i + 1))] for i in range(3)],
            "asks": [[_s(m.last + tick * (i + 1)), _s(Decimal("0.25") * (i + 1))] for i in range(3)],
        }

    def _klines(self, params: dict[str, str]) -> Any:
        m = self._market(params)
        step = {"1m": 60_000, "1h": 3_600_000}[params["interval"]]
        start = int(params.get("startTime", T0))
        return [
            [
                start + i * step,
                _s(m.last + i),
                _s(m.last + i + 5),
                _s(m.last + i - 5),
                _s(m.last + i + 1),
                "10.500",
                start + (i + 1) * step - 1,
                "315000.25",
                42,
                "5.1",
                "153000.1",
                "0",
            ]
            for i in range(int(params.get("limit", 3)))
        ]

    def _open_interest(self, params: dict[str, str]) -> Any:
        return {"symbol": self._market(params).symbol, "openInterest": "5000.123", "time": T0}

    # -------------------------------------------------------------------------------------------- account

    def _brackets(self, params: dict[str, str]) -> Any:
        return [
            {
                "symbol": m.symbol,
                "brackets": [
                    {
                        "bracket": 1,
                        "initialLeverage": m.max_leverage,
                        "notionalCap": 50000,
                        "notionalFloor": 0,
                        "maintMarginRatio": 0.004,
                        "cum": 0.0,
                    },
                    {
                        "bracket": 2,
                        "initialLeverage": 50,
                        "notionalCap": 250000,
                        "notionalFloor": 50000,
                        "maintMarginRatio": 0.005,
                        "cum": 50.0,
                    },
                ],
            }
            for m in self.markets.values()
        ]

    def _unrealized(self, symbol: str) -> Decimal:
        position = self.account.positions[symbol]
        return position["amount"] * (self.markets[symbol].last - position["entry"])

    def _account_info(self, params: dict[str, str]) -> Any:
        unrealized = sum((self._unrealized(s) for s in self.account.positions), Decimal(0))
        margin = sum(
            (abs(p["amount"]) * p["entry"] / self._leverage(s) for s, p in self.account.positions.items()), Decimal(0)
        )
        asset = {
            "asset": "USDT",
            "walletBalance": _s(self.account.wallet),
            "unrealizedProfit": _s(unrealized),
            "marginBalance": _s(self.account.wallet + unrealized),
            "maintMargin": "0",
            "initialMargin": _s(margin),
            "positionInitialMargin": _s(margin),
            "openOrderInitialMargin": "0",
            "crossWalletBalance": _s(self.account.wallet),
            "crossUnPnl": _s(unrealized),
            "availableBalance": _s(self.account.wallet + unrealized - margin),
            "maxWithdrawAmount": _s(self.account.wallet - margin),
            "updateTime": T0,
        }
        return {"totalWalletBalance": asset["walletBalance"], "assets": [asset], "positions": []}

    def _leverage(self, symbol: str) -> int:
        return self.account.leverage.get(symbol, 20)

    def _position_row(self, symbol: str) -> dict[str, Any]:
        position = self.account.positions.get(symbol, {"amount": Decimal(0), "entry": Decimal(0)})
        market = self.markets[symbol]
        return {
            "symbol": symbol,
            "positionAmt": _s(position["amount"]),
            "entryPrice": _s(position["entry"]),
            "breakEvenPrice": "0.0",
            "markPrice": _s(market.last),
            "unRealizedProfit": _s(self._unrealized(symbol)) if position["amount"] else "0.00000000",
            "liquidationPrice": "21000.5" if position["amount"] else "0",
            "leverage": str(self._leverage(symbol)),
            "maxNotionalValue": "50000",
            "marginType": self.account.margin_type.get(symbol, "cross"),
            "isolatedMargin": "0.00000000",
            "isAutoAddMargin": "false",
            "positionSide": "BOTH",
            "notional": _s(position["amount"] * market.last),
            "isolatedWallet": "0",
            "updateTime": T0,
        }

    def _position_risk(self, params: dict[str, str]) -> Any:
        if "symbol" in params:
            return [self._position_row(self._market(params).symbol)]
        return [self._position_row(symbol) for symbol in self.markets]

    def _set_leverage(self, params: dict[str, str]) -> Any:
        market = self._market(params)
        leverage = int(params["leverage"])
        if not 1 <= leverage <= market.max_leverage:
            raise BinanceError(-4028, f"Leverage {leverage} is not valid")
        self.account.leverage[market.symbol] = leverage
        return {"leverage": leverage, "maxNotionalValue": "50000", "symbol": market.symbol}

    def _set_margin_type(self, params: dict[str, str]) -> Any:
        market = self._market(params)
        wanted = {"ISOLATED": "isolated", "CROSSED": "cross"}[params["marginType"]]
        if self.account.margin_type.get(market.symbol, "cross") == wanted:
            raise BinanceError(-4046, "No need to change margin type.")
        self.account.margin_type[market.symbol] = wanted
        return {"code": 200, "msg": "success"}

    # ----------------------------------------------------------------------------------------- orders

    def _create(self, params: dict[str, str]) -> Any:
        market = self._market(params)
        cid = params["newClientOrderId"]
        if cid in self.account.orders:
            raise BinanceError(-4116, "ClientOrderId is duplicated.")
        if params["type"] not in ("MARKET", "LIMIT"):
            raise BinanceError(
                -4120, "Order type not supported for this endpoint. Please use the Algo Order API endpoints instead."
            )
        qty = Decimal(params["quantity"])
        if qty % Decimal(market.step):
            raise BinanceError(-1111, "Precision is over the maximum defined for this asset.")
        price = Decimal(params.get("price", market.last))
        reduce = params.get("reduceOnly") == "true"
        held = self.account.positions.get(market.symbol, {"amount": Decimal(0)})["amount"]
        side = 1 if params["side"] == "BUY" else -1
        if reduce and (not held or (held > 0) == (side > 0)):
            raise BinanceError(-2022, "ReduceOnly Order is rejected.")
        if not reduce and qty * price < Decimal(market.min_notional):
            raise BinanceError(
                -4164,
                f"Order's notional must be no smaller than {market.min_notional} (unless you choose reduce only).",
            )
        if not reduce and qty * price / self._leverage(market.symbol) > self.account.wallet:
            raise BinanceError(-2019, "Margin is insufficient.")
        now = next(self._clock)
        order = {
            "orderId": next(self._ids),
            "symbol": market.symbol,
            "status": "NEW",
            "clientOrderId": cid,
            "price": params.get("price", "0"),
            "avgPrice": "0.00",
            "origQty": params["quantity"],
            "executedQty": "0",
            "cumQuote": "0",
            "timeInForce": params.get("timeInForce", "GTC"),
            "type": params["type"],
            "reduceOnly": reduce,
            "closePosition": False,
            "side": params["side"],
            "positionSide": "BOTH",
            "stopPrice": "0",
            "workingType": "CONTRACT_PRICE",
            "priceProtect": False,
            "origType": params["type"],
            "priceMatch": "NONE",
            "selfTradePreventionMode": "EXPIRE_MAKER",
            "goodTillDate": 0,
            "time": now,
            "updateTime": now,
        }
        self.account.orders[cid] = order
        if params["type"] == "MARKET":
            self._fill(order, market, side, qty, reduce)
        else:
            self._publish_order(order, None)
        return order

    def _fill(self, order: dict[str, Any], market: Market, side: int, qty: Decimal, reduce: bool) -> None:
        price = market.last
        order.update(status="FILLED", executedQty=order["origQty"], avgPrice=_s(price), cumQuote=_s(qty * price))
        position = self.account.positions.setdefault(market.symbol, {"amount": Decimal(0), "entry": Decimal(0)})
        held = position["amount"]
        realized = Decimal(0)
        if held and (held > 0) != (side > 0):
            realized = (price - position["entry"]) * min(qty, abs(held)) * (1 if held > 0 else -1)
            position["amount"] = held + side * qty
        else:
            total = abs(held) + qty
            position["entry"] = (position["entry"] * abs(held) + price * qty) / total
            position["amount"] = held + side * qty
        if not position["amount"]:
            del self.account.positions[market.symbol]
        fee = qty * price * Decimal("0.0005")
        self.account.wallet += realized - fee
        self.account.trades.append(
            {
                "buyer": side > 0,
                "commission": _s(fee),
                "commissionAsset": "USDT",
                "id": next(self._ids),
                "maker": False,
                "orderId": order["orderId"],
                "price": _s(price),
                "qty": order["origQty"],
                "quoteQty": _s(qty * price),
                "realizedPnl": _s(realized),
                "side": order["side"],
                "positionSide": "BOTH",
                "symbol": market.symbol,
                "time": next(self._clock),
            }
        )
        self._publish_order(order, self.account.trades[-1])
        now = self.account.positions.get(market.symbol, {"amount": Decimal(0), "entry": Decimal(0)})
        rows = [
            {
                "s": market.symbol,
                "pa": _s(now["amount"]),
                "ep": _s(now["entry"]),
                "bep": "0",
                "cr": "0",
                "up": "0",
                "mt": "cross",
                "iw": "0",
                "ps": "BOTH",
            }
        ]
        self._publish({"e": "ACCOUNT_UPDATE", "E": T0, "T": T0, "a": {"m": "ORDER", "B": [], "P": rows}})

    def _order(self, params: dict[str, str]) -> dict[str, Any]:
        order = self.account.orders.get(params.get("origClientOrderId", ""))
        if order is None or order["symbol"] != params.get("symbol"):
            raise BinanceError(-2013, "Order does not exist.")
        return order

    def _query(self, params: dict[str, str]) -> Any:
        return self._order(params)

    def _amend(self, params: dict[str, str]) -> Any:
        order = self._order(params)
        if order["status"] != "NEW":
            raise BinanceError(-2013, "Order does not exist.")
        if params["side"] != order["side"]:
            raise BinanceError(-1102, "side must match the order's")
        order.update(origQty=params["quantity"], price=params["price"], updateTime=next(self._clock))
        return order

    def _cancel(self, params: dict[str, str]) -> Any:
        try:
            order = self._order(params)
        except BinanceError:
            raise BinanceError(-2011, "Unknown order sent.") from None
        if order["status"] not in ("NEW", "PARTIALLY_FILLED"):
            raise BinanceError(-2011, "Unknown order sent.")
        order.update(status="CANCELED", updateTime=next(self._clock))
        return order

    def _open_orders(self, params: dict[str, str]) -> Any:
        symbol = params.get("symbol")
        return [o for o in self.account.orders.values() if o["status"] == "NEW" and symbol in (None, o["symbol"])]

    def _all_orders(self, params: dict[str, str]) -> Any:
        symbol = self._market(params).symbol
        since = int(params.get("startTime", 0))
        return [o for o in self.account.orders.values() if o["symbol"] == symbol and o["time"] >= since]

    def _cancel_all(self, params: dict[str, str]) -> Any:
        for order in self._open_orders({"symbol": self._market(params).symbol}):
            order["status"] = "CANCELED"
        return {"code": 200, "msg": "The operation of cancel all open order is done."}

    def _user_trades(self, params: dict[str, str]) -> Any:
        symbol = self._market(params).symbol
        since = int(params.get("startTime", 0))
        return [t for t in self.account.trades if t["symbol"] == symbol and t["time"] >= since]

    # ------------------------------------------------------------------------------------------- algo

    def _algo_create(self, params: dict[str, str]) -> Any:
        market = self._market(params)
        algo_id = params["clientAlgoId"]
        if algo_id in self.account.algo:
            raise BinanceError(-4116, "ClientOrderId is duplicated.")
        if params.get("algoType") != "CONDITIONAL":
            raise BinanceError(-1102, "algoType is mandatory")
        close = params.get("closePosition") == "true"
        if close and "quantity" in params:
            raise BinanceError(-1106, "Parameter 'quantity' sent when not required.")
        now = next(self._clock)
        order = {
            "algoId": next(self._ids),
            "clientAlgoId": algo_id,
            "algoType": "CONDITIONAL",
            "orderType": params["type"],
            "symbol": market.symbol,
            "side": params["side"],
            "positionSide": "BOTH",
            "timeInForce": params.get("timeInForce", "GTC"),
            "quantity": params.get("quantity", "0"),
            "algoStatus": "NEW",
            "triggerPrice": params["triggerPrice"],
            "price": params.get("price", "0"),
            "icebergQuantity": None,
            "selfTradePreventionMode": "EXPIRE_MAKER",
            "workingType": params.get("workingType", "CONTRACT_PRICE"),
            "priceMatch": "NONE",
            "closePosition": close,
            "priceProtect": False,
            "reduceOnly": params.get("reduceOnly") == "true",
            "activatePrice": "",
            "callbackRate": "",
            "createTime": now,
            "updateTime": now,
            "triggerTime": 0,
            "goodTillDate": 0,
        }
        self.account.algo[algo_id] = order
        return order

    def _algo_find(self, params: dict[str, str]) -> dict[str, Any]:
        if "clientAlgoId" in params:
            order = self.account.algo.get(params["clientAlgoId"])
        else:
            order = next((o for o in self.account.algo.values() if str(o["algoId"]) == params.get("algoId")), None)
        if order is None:
            raise BinanceError(-2013, "Order does not exist.")
        return order

    def _algo_cancel(self, params: dict[str, str]) -> Any:
        order = self._algo_find(params)
        if order["algoStatus"] != "NEW":
            raise BinanceError(-2011, "Unknown order sent.")
        order["algoStatus"] = "CANCELED"
        return {"algoId": order["algoId"], "clientAlgoId": order["clientAlgoId"], "code": "200", "msg": "success"}

    def _algo_query(self, params: dict[str, str]) -> Any:
        return self._algo_find(params)

    def _algo_open(self, params: dict[str, str]) -> Any:
        symbol = params.get("symbol")
        return [o for o in self.account.algo.values() if o["algoStatus"] == "NEW" and symbol in (None, o["symbol"])]
