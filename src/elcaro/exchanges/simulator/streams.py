"""Bybit v5 websockets: ``/v5/public/linear`` (publicTrade, orderbook, kline) and ``/v5/private`` (order, execution,
position), fed by the engine's events and the venue's price moves.

Messages are Bybit's: ``{"op": "subscribe", "req_id", "args": [topics]}`` is answered with ``{"success", "ret_msg",
"conn_id", "req_id", "op"}``, ``{"op": "ping"}`` with ``ret_msg: "pong"``; private streams first take
``{"op": "auth", "args": [api_key, expires_ms, hex HMAC-SHA256 of "GET/realtime" + expires]}``. Data comes as
``{"topic", "type", "ts", "data"}`` (public) and ``{"id", "topic", "creationTime", "data": [rows]}`` (private), rows
as the REST lists write them. Order books are sent whole (a ``snapshot``) each time they change, which Bybit's
protocol allows and clients handle by resetting theirs.

A row is rendered when its event happens, so it shows the order or position as it was then; each connection has a
queue its own task writes from, so a slow client never holds up the venue.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import itertools
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

from aiohttp import WSMsgType, web

from elcaro.exchanges.paper.events import EngineEvent, FillEvent, OrderEvent, PositionEvent, PublicTradeEvent
from elcaro.exchanges.simulator import market as market_data
from elcaro.exchanges.simulator import render
from elcaro.exchanges.simulator.config import AccountConfig
from elcaro.exchanges.simulator.venue import Market, Venue
from elcaro.exchanges.simulator.wire import dumps, now_ms, num, on_step
from elcaro.models.timeframe import Timeframe

log = logging.getLogger(__name__)

PUBLIC_PATH: Final = "/v5/public/linear"
PRIVATE_PATH: Final = "/v5/private"
PRIVATE_TOPICS: Final = frozenset({"order", "execution", "position"})
BOOK_DEPTHS: Final = frozenset({1, 50, 200, 500, 1000})


@dataclass(eq=False)
class _Connection:
    socket: web.WebSocketResponse
    id: str
    private: bool
    topics: set[str] = field(default_factory=set)
    account: AccountConfig | None = None
    kline_starts: dict[str, int] = field(default_factory=dict)
    """Per kline topic, the start of the bar last sent: a bar that gives way to a new one is sent once more, closed."""
    outbox: asyncio.Queue[str | None] = field(default_factory=asyncio.Queue)

    def send(self, message: dict[str, Any]) -> None:
        self.outbox.put_nowait(dumps(message))


class Streams:
    def __init__(self, venue: Venue, accounts: Callable[[str], AccountConfig | None]) -> None:
        self._accounts = accounts
        self._connections: set[_Connection] = set()
        self._ids = itertools.count(1)
        self._venue = venue
        self._unsubscribe: list[Callable[[], None]] = []
        self.bind(venue)

    def bind(self, venue: Venue) -> None:
        """Follow ``venue`` (the one a restore put in place of the previous one)."""
        for stop in self._unsubscribe:
            stop()
        self._venue = venue
        self._unsubscribe = [venue.engine.subscribe(self._on_event), venue.watch_prices(self._on_price)]

    def routes(self) -> list[web.RouteDef]:
        return [web.get(PUBLIC_PATH, self._public), web.get(PRIVATE_PATH, self._private)]

    async def close(self) -> None:
        for stop in self._unsubscribe:
            stop()
        self._unsubscribe = []
        for connection in list(self._connections):
            await connection.socket.close()

    # ------------------------------------------------------------------------------------------ connections

    async def _public(self, request: web.Request) -> web.StreamResponse:
        return await self._serve(request, private=False)

    async def _private(self, request: web.Request) -> web.StreamResponse:
        return await self._serve(request, private=True)

    async def _serve(self, request: web.Request, *, private: bool) -> web.StreamResponse:
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        connection = _Connection(socket, f"sim-{next(self._ids)}", private)
        self._connections.add(connection)
        writer = asyncio.create_task(self._write(connection))
        try:
            async for message in socket:
                if message.type is not WSMsgType.TEXT:
                    continue
                try:
                    self._handle(connection, json.loads(message.data))
                except (ValueError, TypeError, AttributeError):
                    connection.send({"success": False, "ret_msg": "error:request is not JSON", "op": ""})
        finally:
            self._connections.discard(connection)
            connection.outbox.put_nowait(None)
            with contextlib.suppress(ConnectionError):
                await writer
        return socket

    @staticmethod
    async def _write(connection: _Connection) -> None:
        while (text := await connection.outbox.get()) is not None:
            await connection.socket.send_str(text)

    def _handle(self, connection: _Connection, message: dict[str, Any]) -> None:
        op, req_id = message.get("op"), message.get("req_id")
        answer: dict[str, Any] = {"success": True, "ret_msg": "", "conn_id": connection.id, "op": op}
        if req_id is not None:
            answer["req_id"] = req_id
        args = message.get("args") or []
        if op == "ping":
            answer["ret_msg"] = "pong"
        elif op == "auth" and connection.private:
            refusal = self._authenticate(connection, args)
            answer |= {"success": refusal is None, "ret_msg": refusal or ""}
        elif op == "subscribe":
            refusal = self._subscribe(connection, [str(topic) for topic in args])
            answer |= {"success": refusal is None, "ret_msg": refusal or ""}
        elif op == "unsubscribe":
            connection.topics.difference_update(str(topic) for topic in args)
        else:
            answer |= {"success": False, "ret_msg": f"error:unknown op {op}"}
        connection.send(answer)
        if op == "subscribe" and answer["success"]:
            for topic in args:
                self._greet(connection, str(topic))

    def _authenticate(self, connection: _Connection, args: list[Any]) -> str | None:
        if len(args) != 3:
            return "error:params error, args must be [api_key, expires, signature]"
        api_key, expires, signature = (str(arg) for arg in args)
        account = self._accounts(api_key)
        if account is None:
            return "error:Invalid apikey"
        if not expires.isdigit() or int(expires) <= now_ms():
            return "error:request expired"
        expected = hmac.new(
            account.api_secret.get_secret_value().encode(), f"GET/realtime{expires}".encode(), hashlib.sha256
        ).hexdigest()
        if not hmac.compare_digest(expected, signature.lower()):
            return "error:signature verification failed"
        connection.account = account
        return None

    def _subscribe(self, connection: _Connection, topics: list[str]) -> str | None:
        for topic in topics:
            if connection.private:
                if connection.account is None:
                    return "error:Request not authorized"
                if topic not in PRIVATE_TOPICS:
                    return f"error:handler not found,topic:{topic}"
            elif self._public_market(topic) is None:
                return f"error:handler not found,topic:{topic}"
        connection.topics.update(topics)
        return None

    def _public_market(self, topic: str) -> Market | None:
        """The market of a public topic this venue can serve (``publicTrade.X``, ``orderbook.N.X``, ``kline.I.X``)."""
        parts = topic.split(".")
        kind, market_id = parts[0], parts[-1]
        market = self._venue.markets.get(market_id)
        valid = {
            "publicTrade": len(parts) == 2,
            "orderbook": len(parts) == 3 and parts[1].isdigit() and int(parts[1]) in BOOK_DEPTHS,
            "kline": len(parts) == 3 and parts[1] in market_data.INTERVALS,
        }
        return market if valid.get(kind, False) else None

    def _greet(self, connection: _Connection, topic: str) -> None:
        """What a new subscriber sees at once: the whole book, the bar being built."""
        market = self._public_market(topic) if not connection.private else None
        if market is None:
            return
        if topic.startswith("orderbook."):
            self._send_book(connection, topic, market)
        elif topic.startswith("kline."):
            self._send_bar(connection, topic, market)

    # ------------------------------------------------------------------------------------------- publishing

    def _on_event(self, event: EngineEvent) -> None:
        # The engine has changed state by now: a fault here must cost a stream message, never the request.
        try:
            self._publish(event)
        except Exception:
            log.exception("simulator: could not stream %s", type(event).__name__)

    def _publish(self, event: EngineEvent) -> None:
        if isinstance(event, PublicTradeEvent):
            self._on_trade(event)
            return
        if not isinstance(event, OrderEvent | FillEvent | PositionEvent):
            return
        topic = {OrderEvent: "order", FillEvent: "execution", PositionEvent: "position"}[type(event)]
        listeners = [
            connection
            for connection in self._connections
            if connection.account is not None
            and connection.account.account_id == event.account_id
            and topic in connection.topics
        ]
        if not listeners:
            return
        row = self._private_row(event) | {"category": "linear"}
        now = now_ms()
        for connection in listeners:
            connection.send({"id": f"{connection.id}-{now}", "topic": topic, "creationTime": now, "data": [row]})

    def _private_row(self, event: OrderEvent | FillEvent | PositionEvent) -> dict[str, Any]:
        venue, account_id = self._venue, event.account_id
        if isinstance(event, OrderEvent):
            return render.order(venue, account_id, event.order)
        if isinstance(event, FillEvent):
            fill = event.fill
            order = venue.engine.find_order(account_id, fill.client_order_id)
            link_id = venue.registry.link_id(account_id, fill.client_order_id)
            return render.execution(venue.markets[venue.market_id(fill.symbol)], fill, link_id, order)
        market = venue.markets[venue.market_id(event.symbol)]
        engine = venue.engine
        leverage = engine.leverage(account_id, event.symbol)
        row = render.position(market, event.position, leverage, engine.now(), engine.config.maintenance_margin_rate)
        return row | {"entryPrice": row["avgPrice"]}

    def _on_trade(self, event: PublicTradeEvent) -> None:
        trade = event.trade
        market_id = self._venue.market_id(trade.symbol)
        market = self._venue.markets[market_id]
        row = {
            "T": trade.timestamp,
            "s": market_id,
            "S": render.SIDES[trade.side],
            "v": on_step(trade.qty, market.instrument.qty_step),
            "p": on_step(trade.price, market.instrument.tick_size),
            "L": "ZeroPlusTick",
            "i": trade.trade_id,
            "BT": False,
        }
        topic = f"publicTrade.{market_id}"
        for connection in self._connections:
            if topic in connection.topics:
                connection.send({"topic": topic, "type": "snapshot", "ts": trade.timestamp, "data": [row]})
        self._on_price(trade.symbol)  # a taker may have used up book levels; the bar has more volume

    def _on_price(self, symbol: str) -> None:
        market_id = self._venue.market_id(symbol)
        market = self._venue.markets[market_id]
        for connection in self._connections:
            for topic in list(connection.topics):
                if not topic.endswith(f".{market_id}"):
                    continue
                if topic.startswith("orderbook."):
                    self._send_book(connection, topic, market)
                elif topic.startswith("kline."):
                    self._send_bar(connection, topic, market)

    def _send_book(self, connection: _Connection, topic: str, market: Market) -> None:
        depth = int(topic.split(".")[1])
        bids, asks = render.top_of_book(self._venue, market)
        tick, now = market.instrument.tick_size, self._venue.engine.now()
        data = {
            "s": market.id,
            "b": [[on_step(level.price, tick), num(level.qty)] for level in bids[:depth]],
            "a": [[on_step(level.price, tick), num(level.qty)] for level in asks[:depth]],
            "u": now,
            "seq": now,
        }
        connection.send({"topic": topic, "type": "snapshot", "ts": now, "data": data, "cts": now})

    def _send_bar(self, connection: _Connection, topic: str, market: Market) -> None:
        timeframe = Timeframe.parse(market_data.INTERVALS[topic.split(".")[1]])
        bars = market_data.candles(self._venue, market, timeframe)
        if not bars:
            return
        last_start = connection.kline_starts.get(topic)
        closing = [bar for bar in bars[-2:-1] if last_start is not None and bar.timestamp == last_start]
        connection.kline_starts[topic] = bars[-1].timestamp
        tick, interval = market.instrument.tick_size, topic.split(".")[1]
        rows = [
            {
                "start": bar.timestamp,
                "end": bar.timestamp + timeframe.ms - 1,
                "interval": interval,
                "open": on_step(bar.open, tick),
                "close": on_step(bar.close, tick),
                "high": on_step(bar.high, tick),
                "low": on_step(bar.low, tick),
                "volume": num(bar.volume),
                "turnover": num(bar.volume * bar.close),
                "confirm": bar is not bars[-1],
                "timestamp": self._venue.engine.now(),
            }
            for bar in (*closing, bars[-1])
        ]
        connection.send({"topic": topic, "type": "snapshot", "ts": self._venue.engine.now(), "data": rows})
