"""Bybit v5, USDT linear perpetuals, one-way mode, on a unified trading account (UTA 2.0).

Every request this adapter makes is listed in ``ENDPOINTS.md`` beside this file (the local Bybit-compatible
simulator implements exactly that list). Choices that a trader would notice:

- TP/SL are whole-position (``tpslMode=Full``) and trigger on the mark price, both when attached to an entry and when
  set on the position afterwards; they fire as market orders.
- Stop entries (``STOP_MARKET``/``STOP_LIMIT``) trigger on the last price: a buy stop when the price rises to it, a
  sell stop when it falls to it.
- Margin mode on a UTA is one setting for the whole account, so ``set_margin_mode`` changes it for every symbol.
- Order, fill and closed-PnL history return at most one page (Bybit's page sizes: 50, 100, 100).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator, Iterable, Mapping
from decimal import Decimal
from typing import Any

from elcaro.exchanges.bybit import parse
from elcaro.exchanges.bybit.exchange import (
    ALREADY_FINAL,
    DUPLICATE_CLIENT_ID,
    ERRORS,
    LEVERAGE_NOT_MODIFIED,
    LEVERAGE_REFUSED,
    MARGIN_MODE_NOT_MODIFIED,
    PROTECTION_NOT_MODIFIED,
)
from elcaro.exchanges.ccxt.adapter import CcxtAdapter, window
from elcaro.exchanges.ccxt.numbers import dec, plain
from elcaro.exchanges.protocol import LimitStatus, Scope
from elcaro.models import (
    Balance,
    Fill,
    Instrument,
    MarginMode,
    Order,
    OrderStatus,
    OrderType,
    Position,
    Side,
    Target,
    TimeInForce,
    Trade,
)
from elcaro.models.errors import ExchangeError, InvalidOrderError, OrderNotFoundError
from elcaro.models.market import Candle, FundingRate, OpenInterest, OrderBook, PublicTrade, Ticker

CATEGORY = "linear"
SETTLE = "USDT"
MAX_PAGES = 20
"""Safety stop for paged lists (open orders, positions): 20 pages of 50 to 200 items is past any real account."""
_BOOK_DEPTHS = (1, 50, 200, 500)
_WS_BOOK_DEPTHS = (1, 50, 200, 1000)


def _depth(wanted: int, allowed: Iterable[int]) -> int:
    return next((depth for depth in allowed if depth >= wanted), max(allowed))


class BybitAdapter(CcxtAdapter):
    """``ExchangeAdapter`` for one Bybit account; build it with ``elcaro.exchanges.factory.create_adapter``."""

    def __init__(self, exchange: Any, target: Target, *, markets: Mapping[str, Any] | None = None) -> None:
        super().__init__(exchange, target, ERRORS, settle=SETTLE, markets=markets)

    # ------------------------------------------------------------------------------------------- plumbing

    def _limit_statuses(self, headers: Mapping[str, str]) -> Iterable[LimitStatus]:
        """X-Bapi-Limit-Status: requests left in this endpoint's window; its reset as an epoch-ms timestamp."""
        remaining = headers.get("x-bapi-limit-status")
        if remaining is None or not remaining.isdigit():
            return
        reset = headers.get("x-bapi-limit-reset-timestamp", "")
        reset_after = max(0.0, (int(reset) - time.time() * 1000) / 1000) if reset.isdigit() else None
        yield LimitStatus(float(remaining), reset_after, Scope.ACCOUNT)

    async def _result(self, endpoint: str, params: Mapping[str, Any]) -> tuple[Any, int]:
        """The ``result`` of Bybit's envelope and the envelope's ``time`` (ccxt has raised on a non-zero retCode)."""
        envelope = await self._request(endpoint, params)
        return envelope.get("result") or {}, int(envelope.get("time") or 0)

    async def _list(self, endpoint: str, params: Mapping[str, Any], *, pages: int = 1) -> list[dict[str, Any]]:
        """``result.list``, following ``nextPageCursor`` for up to ``pages`` pages."""
        items: list[dict[str, Any]] = []
        query = dict(params)
        for _ in range(pages):
            result, _ = await self._result(endpoint, query)
            batch = result.get("list") or []
            items.extend(batch)
            cursor = result.get("nextPageCursor")
            if not batch or not cursor:
                break
            query["cursor"] = cursor
        return items

    def _scope(self, market_id: str | None) -> dict[str, str]:
        """Bybit wants a symbol or a settle coin on linear order and position lists."""
        return {"category": CATEGORY} | ({"symbol": market_id} if market_id else {"settleCoin": SETTLE})

    async def _optional_id(self, symbol: str | None) -> str | None:
        return None if symbol is None else await self._market_id(symbol)

    # ---------------------------------------------------------------------------------------- instruments

    def _instrument_from(self, market: Mapping[str, Any]) -> Instrument | None:
        if not (market.get("swap") and market.get("linear") and market.get("settle") == SETTLE):
            return None
        return parse.instrument(market)

    def _leverage_step(self, instrument: Instrument) -> Decimal:
        return parse.leverage_step(self._exchange.markets[instrument.symbol])

    # ---------------------------------------------------------------------------------------- market data

    async def _tickers(self, market_id: str | None) -> tuple[list[dict[str, Any]], int]:
        params = {"category": CATEGORY} | ({"symbol": market_id} if market_id else {})
        result, timestamp = await self._result("publicGetV5MarketTickers", params)
        return result.get("list") or [], timestamp

    async def _ticker_row(self, symbol: str) -> tuple[dict[str, Any], int]:
        rows, timestamp = await self._tickers(await self._market_id(symbol))
        if not rows:
            raise InvalidOrderError(f"bybit sent no ticker for {symbol}", exchange="bybit", code="unknown_symbol")
        return rows[0], timestamp

    async def _fetch_ticker(self, symbol: str) -> Ticker:
        row, timestamp = await self._ticker_row(symbol)
        return parse.ticker(row, symbol, timestamp)

    async def _fetch_tickers(self, symbols: list[str] | None) -> dict[str, Ticker]:
        await self.load_instruments()
        rows, timestamp = await self._tickers(None)
        wanted = None if symbols is None else set(symbols)
        tickers = {}
        for row in rows:
            symbol = self._symbol(row["symbol"])
            if symbol is not None and (wanted is None or symbol in wanted):
                tickers[symbol] = parse.ticker(row, symbol, timestamp)
        return tickers

    async def fetch_order_book(self, symbol: str, depth: int = 50) -> OrderBook:
        params = {"category": CATEGORY, "symbol": await self._market_id(symbol), "limit": _depth(depth, _BOOK_DEPTHS)}
        result, _ = await self._result("publicGetV5MarketOrderbook", params)
        return parse.order_book(result, symbol, depth)

    async def fetch_ohlcv(
        self, symbol: str, timeframe: str, *, since: int | None = None, limit: int | None = None
    ) -> list[Candle]:
        interval = self._exchange.timeframes.get(timeframe)
        if interval is None:
            raise ExchangeError(f"bybit has no {timeframe} candles", exchange="bybit", code="unsupported_timeframe")
        params: dict[str, Any] = {"category": CATEGORY, "symbol": await self._market_id(symbol), "interval": interval}
        if since is not None:
            params["start"] = since
            if limit is not None:
                # Bybit answers the newest candles of [start, end]: bound the end to get the first ones after since.
                params["end"] = since + limit * self._exchange.parse_timeframe(timeframe) * 1000 - 1
        if limit is not None:
            params["limit"] = min(limit, 1000)
        result, _ = await self._result("publicGetV5MarketKline", params)
        candles = [parse.candle(row) for row in result.get("list") or []]
        return window(candles, lambda candle: candle.timestamp, since, limit)

    async def fetch_funding_rate(self, symbol: str) -> FundingRate:
        """From the ticker, which carries the current rate and the next funding time."""
        row, timestamp = await self._ticker_row(symbol)
        return parse.funding_rate(row, symbol, timestamp)

    async def fetch_open_interest(self, symbol: str) -> OpenInterest:
        """From the ticker, which carries open interest in contracts and in USDT."""
        row, timestamp = await self._ticker_row(symbol)
        return parse.open_interest(row, symbol, timestamp)

    # -------------------------------------------------------------------------------------------- account

    async def fetch_balance(self) -> Balance:
        params = {"accountType": "UNIFIED", "coin": SETTLE}
        accounts = await self._list("privateGetV5AccountWalletBalance", params)
        return parse.balance(accounts[0] if accounts else None, SETTLE)

    async def fetch_positions(self, symbols: list[str] | None = None) -> list[Position]:
        await self.load_instruments()
        market_id = await self._market_id(symbols[0]) if symbols is not None and len(symbols) == 1 else None
        rows = await self._list("privateGetV5PositionList", self._scope(market_id) | {"limit": 200}, pages=MAX_PAGES)
        positions = []
        for row in rows:
            symbol = self._symbol(row["symbol"])
            if symbol is None or (symbols is not None and symbol not in symbols):
                continue
            position = parse.position(row, symbol)
            if position is not None:
                self._note_price(symbol, position.mark_price)
                positions.append(position)
        return positions

    def _orders(self, rows: Iterable[Mapping[str, Any]]) -> list[Order]:
        orders = []
        for row in rows:
            symbol = self._symbol(row["symbol"])
            if symbol is not None and row.get("stopOrderType") not in parse.PROTECTION_ORDER_TYPES:
                orders.append(parse.order(row, symbol))
        return orders

    async def fetch_open_orders(self, symbol: str | None = None) -> list[Order]:
        """Resting and untriggered orders; the orders Bybit keeps for a position's TP/SL are on the position."""
        await self.load_instruments()
        params = self._scope(await self._optional_id(symbol)) | {"openOnly": 0, "limit": 50}
        return self._orders(await self._list("privateGetV5OrderRealtime", params, pages=MAX_PAGES))

    async def fetch_order(self, symbol: str, client_order_id: str) -> Order:
        """Live orders and those finished in the last minutes are in realtime; older ones only in history."""
        params = {"category": CATEGORY, "symbol": await self._market_id(symbol), "orderLinkId": client_order_id}
        for endpoint in ("privateGetV5OrderRealtime", "privateGetV5OrderHistory"):
            rows = await self._list(endpoint, params)
            if rows:
                return parse.order(rows[0], symbol)
        raise OrderNotFoundError(
            f"bybit has no {symbol} order with client order id {client_order_id}", exchange="bybit", code="not_found"
        )

    async def fetch_order_history(
        self, symbol: str | None = None, *, since: int | None = None, limit: int | None = None
    ) -> list[Order]:
        await self.load_instruments()
        params: dict[str, Any] = self._scope(await self._optional_id(symbol)) | {"limit": min(limit or 50, 50)}
        if since is not None:
            params["startTime"] = since
        orders = self._orders(await self._list("privateGetV5OrderHistory", params))
        return window(orders, lambda order: order.created_at, since, limit)

    async def fetch_fills(
        self, symbol: str | None = None, *, since: int | None = None, limit: int | None = None
    ) -> list[Fill]:
        await self.load_instruments()
        params: dict[str, Any] = {"category": CATEGORY, "limit": min(limit or 100, 100)}
        if symbol is not None:
            params["symbol"] = await self._market_id(symbol)
        if since is not None:
            params["startTime"] = since
        fills = []
        for row in await self._list("privateGetV5ExecutionList", params):
            fill_symbol = self._symbol(row["symbol"])
            # Funding and settlement rows are executions too, with no quantity traded.
            if fill_symbol is not None and row.get("execType") in ("Trade", "AdlTrade", "BustTrade"):
                fills.append(parse.fill(row, fill_symbol, SETTLE))
        return window(fills, lambda fill: fill.timestamp, since, limit)

    async def fetch_closed_pnl(
        self, symbol: str | None = None, *, since: int | None = None, limit: int | None = None
    ) -> list[Trade]:
        await self.load_instruments()
        params: dict[str, Any] = {"category": CATEGORY, "limit": min(limit or 100, 100)}
        if symbol is not None:
            params["symbol"] = await self._market_id(symbol)
        if since is not None:
            params["startTime"] = since
        trades = []
        for row in await self._list("privateGetV5PositionClosedPnl", params):
            trade_symbol = self._symbol(row["symbol"])
            if trade_symbol is not None:
                trades.append(parse.closed_pnl(row, trade_symbol, self.target))
        return window(trades, lambda trade: trade.closed_at, since, limit)

    # -------------------------------------------------------------------------------------------- trading

    def _create_request(self, order: Order, market_id: str) -> dict[str, Any]:
        request: dict[str, Any] = {
            "category": CATEGORY,
            "symbol": market_id,
            "side": parse.SIDES[order.side],
            "orderType": "Limit" if order.type.has_limit_price else "Market",
            "qty": plain(order.qty),
            "orderLinkId": order.client_order_id,
            "positionIdx": 0,  # one-way mode
        }
        if order.price is not None:
            request["price"] = plain(order.price)
            request["timeInForce"] = parse.TIME_IN_FORCE[order.time_in_force]
        if order.reduce_only:
            request["reduceOnly"] = True
        if order.trigger_price is not None:
            request["triggerPrice"] = plain(order.trigger_price)
            request["triggerDirection"] = 1 if order.side is Side.BUY else 2  # 1: rises to it, 2: falls to it
            request["triggerBy"] = "LastPrice"
        if order.take_profit is not None or order.stop_loss is not None:
            request["tpslMode"] = "Full"
            if order.take_profit is not None:
                request["takeProfit"] = plain(order.take_profit)
                request["tpTriggerBy"] = "MarkPrice"
            if order.stop_loss is not None:
                request["stopLoss"] = plain(order.stop_loss)
                request["slTriggerBy"] = "MarkPrice"
        return request

    async def _submit(self, order: Order, instrument: Instrument) -> Order:
        """Create; an order decided on arrival (market, IOC, FOK) is read back for its fill, a resting one is not."""
        market_id = self._exchange.markets[order.symbol]["id"]
        result, timestamp = await self._result("privatePostV5OrderCreate", self._create_request(order, market_id))
        immediate = order.type is OrderType.MARKET or order.time_in_force in (TimeInForce.IOC, TimeInForce.FOK)
        if immediate:
            # The order is accepted whatever the read-back finds; one not visible yet is reported as acknowledged.
            with contextlib.suppress(OrderNotFoundError):
                return await self.fetch_order(order.symbol, order.client_order_id)
        return order.with_update(
            status=OrderStatus.OPEN,
            exchange_order_id=result.get("orderId"),
            created_at=timestamp,
            updated_at=timestamp,
        )

    def _is_duplicate(self, error: ExchangeError) -> bool:
        return error.code == DUPLICATE_CLIENT_ID

    async def amend_order(
        self,
        symbol: str,
        client_order_id: str,
        *,
        qty: Decimal | None = None,
        price: Decimal | None = None,
        trigger_price: Decimal | None = None,
    ) -> Order:
        instrument = await self._instrument(symbol)
        self._check_amendment(instrument, qty, price, trigger_price)
        params: dict[str, Any] = {
            "category": CATEGORY,
            "symbol": self._exchange.markets[symbol]["id"],
            "orderLinkId": client_order_id,
        }
        for name, value in (("qty", qty), ("price", price), ("triggerPrice", trigger_price)):
            if value is not None:
                params[name] = plain(value)
        await self._result("privatePostV5OrderAmend", params)
        return await self.fetch_order(symbol, client_order_id)

    async def cancel_order(self, symbol: str, client_order_id: str) -> Order:
        """Cancel and report the order as it ended; one that had already filled or ended is reported as it is."""
        params = {"category": CATEGORY, "symbol": await self._market_id(symbol), "orderLinkId": client_order_id}
        try:
            await self._result("privatePostV5OrderCancel", params)
        except ExchangeError as exc:
            if exc.code not in ALREADY_FINAL:
                raise
        return await self.fetch_order(symbol, client_order_id)

    async def cancel_all_orders(self, symbol: str | None = None) -> int:
        """Resting orders and stop entries; the position's own TP/SL stay (they are the position's protection)."""
        scope = self._scope(await self._optional_id(symbol))
        canceled = 0
        for kind in ({"orderFilter": "Order"}, {"orderFilter": "StopOrder", "stopOrderType": "Stop"}):
            result, _ = await self._result("privatePostV5OrderCancelAll", scope | kind)
            canceled += len(result.get("list") or [])
        return canceled

    # ------------------------------------------------------------------------------------ leverage & margin

    async def _apply_leverage(self, instrument: Instrument, leverage: Decimal) -> None:
        value = plain(leverage.normalize())
        params = {
            "category": CATEGORY,
            "symbol": self._exchange.markets[instrument.symbol]["id"],
            "buyLeverage": value,
            "sellLeverage": value,
        }
        await self._result("privatePostV5PositionSetLeverage", params)

    def _leverage_unchanged(self, error: ExchangeError) -> bool:
        return error.code == LEVERAGE_NOT_MODIFIED

    def _leverage_refused(self, error: ExchangeError) -> bool:
        return error.code in LEVERAGE_REFUSED

    async def _current_leverage(self, instrument: Instrument) -> Decimal:
        market_id = self._exchange.markets[instrument.symbol]["id"]
        rows = await self._list("privateGetV5PositionList", {"category": CATEGORY, "symbol": market_id})
        return dec(rows[0]["leverage"], field="leverage") if rows and rows[0].get("leverage") else Decimal(1)

    async def set_margin_mode(self, symbol: str, mode: MarginMode) -> None:
        """Account-wide on a UTA: every symbol follows. Already in that mode is no error."""
        await self._instrument(symbol)
        wire = "ISOLATED_MARGIN" if mode is MarginMode.ISOLATED else "REGULAR_MARGIN"
        try:
            await self._result("privatePostV5AccountSetMarginMode", {"setMarginMode": wire})
        except ExchangeError as exc:
            if exc.code != MARGIN_MODE_NOT_MODIFIED:
                raise

    async def set_position_protection(
        self, symbol: str, *, take_profit: Decimal | None = None, stop_loss: Decimal | None = None
    ) -> None:
        """Whole-position TP/SL on the mark price; a level left None stays as it is."""
        instrument = await self._instrument(symbol)
        params: dict[str, Any] = {
            "category": CATEGORY,
            "symbol": self._exchange.markets[symbol]["id"],
            "positionIdx": 0,
            "tpslMode": "Full",
        }
        if take_profit is not None:
            self._check_price(instrument, take_profit, "take_profit")
            params |= {"takeProfit": plain(take_profit), "tpTriggerBy": "MarkPrice"}
        if stop_loss is not None:
            self._check_price(instrument, stop_loss, "stop_loss")
            params |= {"stopLoss": plain(stop_loss), "slTriggerBy": "MarkPrice"}
        if take_profit is None and stop_loss is None:
            return
        try:
            await self._result("privatePostV5PositionTradingStop", params)
        except ExchangeError as exc:
            if exc.code != PROTECTION_NOT_MODIFIED:
                raise

    # --------------------------------------------------------------------------------------------- streams

    async def watch_trades(self, symbol: str) -> AsyncIterator[PublicTrade]:
        await self._instrument(symbol)

        def convert(trades: Any) -> Iterable[PublicTrade]:
            for trade in self._each(trades):
                raw = trade["info"]
                side = Side.BUY if raw["S"] == "Buy" else Side.SELL
                yield PublicTrade(symbol, str(raw["i"]), side, dec(raw["p"]), dec(raw["v"]), int(raw["T"]))

        async for trade in self._watch(lambda: self._exchange.watch_trades(symbol), convert):
            yield trade

    def watch_order_book(self, symbol: str, depth: int = 50) -> AsyncIterator[OrderBook]:
        return self._watch_book(symbol, depth, _depth(depth, _WS_BOOK_DEPTHS))

    async def watch_orders(self) -> AsyncIterator[Order]:
        await self.load_instruments()

        def convert(orders: Any) -> Iterable[Order]:
            return self._orders(order["info"] for order in self._each(orders))

        async for order in self._watch(self._exchange.watch_orders, convert):
            yield order

    async def watch_positions(self) -> AsyncIterator[Position]:
        """Open positions as they change; a position closing shows as an order and a fill, not here."""
        await self.load_instruments()

        def convert(positions: Any) -> Iterable[Position]:
            for item in self._each(positions):
                raw = item["info"]
                symbol = self._symbol(raw.get("symbol", ""))
                position = None if symbol is None else parse.position(raw, symbol)
                if position is not None:
                    yield position

        async for position in self._watch(self._exchange.watch_positions, convert):
            yield position

    async def watch_fills(self) -> AsyncIterator[Fill]:
        await self.load_instruments()

        def convert(trades: Any) -> Iterable[Fill]:
            for trade in self._each(trades):
                raw = trade["info"]
                symbol = self._symbol(raw.get("symbol", ""))
                if symbol is not None and raw.get("execType", "Trade") in ("Trade", "AdlTrade", "BustTrade"):
                    yield parse.fill(raw, symbol, SETTLE)

        async for fill in self._watch(self._exchange.watch_my_trades, convert):
            yield fill
