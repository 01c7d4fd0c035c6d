"""Binance USDⓈ-M futures, USDT perpetuals, one-way mode.

Binance keeps conditional orders apart from regular ones: since December 2025 stop, take-profit and trailing
orders go through the Algo Order API (``/fapi/v1/algoOrder``) with a ``clientAlgoId``, and the regular order
endpoints refuse them. So:

- market and limit orders are regular orders (``newClientOrderId`` = the client order id, ``newOrderRespType=RESULT``
  so the answer carries the fill);
- stop entries (``STOP_MARKET``/``STOP_LIMIT``) are algo orders on the last price (``workingType=CONTRACT_PRICE``);
- TP/SL, which Binance cannot attach to an entry, are close-position algo orders (``TAKE_PROFIT_MARKET`` and
  ``STOP_MARKET`` with ``closePosition=true`` and ``workingType=MARK_PRICE``) placed right after the entry, with
  client ids derived from the entry's so that a retried entry completes its protection instead of doubling it.

Looking an order up by client id therefore asks the regular endpoint first, then the algo one. Order history and
fills need a symbol on Binance (``allOrders``/``userTrades``); closed PnL comes from the fills that realised PnL.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Iterable, Mapping
from decimal import Decimal
from typing import Any

from elcaro.exchanges.binance import parse
from elcaro.exchanges.binance.exchange import (
    DUPLICATE_CLIENT_ID,
    ERRORS,
    LEVERAGE_REFUSED,
    MARGIN_TYPE_UNCHANGED,
)
from elcaro.exchanges.ccxt.adapter import PRICE_MEMORY_SECONDS, CcxtAdapter, window
from elcaro.exchanges.ccxt.numbers import dec, plain, price
from elcaro.exchanges.protocol import LimitStatus, Scope
from elcaro.models import (
    Balance,
    Fill,
    Instrument,
    MarginMode,
    Order,
    OrderType,
    Position,
    Side,
    Target,
    Trade,
    make_client_order_id,
)
from elcaro.models.errors import ExchangeError, InvalidOrderError, OrderNotFoundError
from elcaro.models.market import Candle, FundingRate, OpenInterest, OrderBook, PublicTrade, Ticker

SETTLE = "USDT"
_BOOK_DEPTHS = (5, 10, 20, 50, 100, 500, 1000)
# Binance USDⓈ-M's published limits, which its X-MBX-* headers count against.
_IP_WEIGHT_PER_MINUTE = 2400
_ORDERS_PER_10S = 300
_TYPES = {OrderType.MARKET: "MARKET", OrderType.LIMIT: "LIMIT", OrderType.STOP_MARKET: "STOP_MARKET"}


def protection_id(client_order_id: str, leg: str) -> str:
    """The clientAlgoId of an entry's take-profit ("tp") or stop-loss ("sl") order."""
    return make_client_order_id(client_order_id, leg)


class BinanceAdapter(CcxtAdapter):
    """``ExchangeAdapter`` for one Binance USDⓈ-M account; build it with ``elcaro.exchanges.factory.create_adapter``."""

    def __init__(self, exchange: Any, target: Target, *, markets: Mapping[str, Any] | None = None) -> None:
        super().__init__(exchange, target, ERRORS, settle=SETTLE, markets=markets)
        self._max_leverage: dict[str, Decimal] = {}

    # ---------------------------------------------------------------------------------------- instruments

    async def _instruments_from(self, markets: Mapping[str, Any]) -> dict[str, Instrument]:
        """exchangeInfo has no leverage; the brackets (one signed request, with the instruments) do."""
        if self._exchange.apiKey:
            self._max_leverage = parse.max_leverages(await self._request("fapiPrivateGetLeverageBracket"))
        return await super()._instruments_from(markets)

    def _instrument_from(self, market: Mapping[str, Any]) -> Instrument | None:
        """A USDT perpetual; without keys (market data only) its leverage reads as 1x."""
        if not (
            market.get("swap") and market.get("settle") == SETTLE and market["info"].get("contractType") == "PERPETUAL"
        ):
            return None
        return parse.instrument(market, self._max_leverage.get(market["id"], Decimal(1)))

    # ---------------------------------------------------------------------------------------- market data

    async def _ticker_parts(self, market_id: str | None) -> tuple[Any, Any, Any]:
        params = {"symbol": market_id} if market_id else {}
        parts = await asyncio.gather(
            self._request("fapiPublicGetTicker24hr", params),
            self._request("fapiPublicGetTickerBookTicker", params),
            self._request("fapiPublicGetPremiumIndex", params),
        )
        return parts[0], parts[1], parts[2]

    async def _fetch_ticker(self, symbol: str) -> Ticker:
        """Three public requests at once: 24-hour statistics, best bid/ask, mark and index price."""
        day, book, premium = await self._ticker_parts(await self._market_id(symbol))
        return parse.ticker(day, book, premium, symbol)

    async def _fetch_tickers(self, symbols: list[str] | None) -> dict[str, Ticker]:
        await self.load_instruments()
        days, books, premiums = await self._ticker_parts(None)
        books_by_id = {row["symbol"]: row for row in books}
        premiums_by_id = {row["symbol"]: row for row in premiums}
        tickers = {}
        for day in days:
            symbol = self._symbol(day["symbol"])
            if symbol is not None and (symbols is None or symbol in symbols):
                book, premium = books_by_id.get(day["symbol"], {}), premiums_by_id.get(day["symbol"], {})
                tickers[symbol] = parse.ticker(day, book, premium, symbol)
        return tickers

    async def fetch_order_book(self, symbol: str, depth: int = 50) -> OrderBook:
        limit = next((allowed for allowed in _BOOK_DEPTHS if allowed >= depth), _BOOK_DEPTHS[-1])
        book = await self._request("fapiPublicGetDepth", {"symbol": await self._market_id(symbol), "limit": limit})
        return parse.order_book(book, symbol, depth)

    async def fetch_ohlcv(
        self, symbol: str, timeframe: str, *, since: int | None = None, limit: int | None = None
    ) -> list[Candle]:
        interval = self._exchange.timeframes.get(timeframe)
        if interval is None:
            raise ExchangeError(f"binance has no {timeframe} candles", exchange="binance", code="unsupported_timeframe")
        params: dict[str, Any] = {"symbol": await self._market_id(symbol), "interval": interval}
        if since is not None:
            params["startTime"] = since
        if limit is not None:
            params["limit"] = min(limit, 1500)
        rows = await self._request("fapiPublicGetKlines", params)
        return window([parse.candle(row) for row in rows], lambda candle: candle.timestamp, since, limit)

    async def _market_price(self, symbol: str) -> Decimal:
        """A price seen in the last half minute, else the mark price (one light request, not the full ticker)."""
        seen = self._prices.get(symbol)
        if seen is not None and time.monotonic() - seen[1] <= PRICE_MEMORY_SECONDS:
            return seen[0]
        premium = await self._request("fapiPublicGetPremiumIndex", {"symbol": await self._market_id(symbol)})
        mark = dec(premium["markPrice"], field="markPrice")
        self._note_price(symbol, mark)
        return mark

    async def fetch_funding_rate(self, symbol: str) -> FundingRate:
        premium = await self._request("fapiPublicGetPremiumIndex", {"symbol": await self._market_id(symbol)})
        rate = dec(premium.get("lastFundingRate") or "0", field="lastFundingRate")
        return FundingRate(
            symbol, rate, int(premium.get("nextFundingTime") or 0) or None, int(premium.get("time") or 0)
        )

    async def fetch_open_interest(self, symbol: str) -> OpenInterest:
        """Open interest in contracts, valued at the mark price (two requests at once)."""
        params = {"symbol": await self._market_id(symbol)}
        interest, premium = await asyncio.gather(
            self._request("fapiPublicGetOpenInterest", params), self._request("fapiPublicGetPremiumIndex", params)
        )
        contracts = dec(interest["openInterest"], field="openInterest")
        mark = price(premium.get("markPrice"))
        return OpenInterest(symbol, contracts, contracts * mark if mark else None, int(interest.get("time") or 0))

    # -------------------------------------------------------------------------------------------- account

    async def fetch_balance(self) -> Balance:
        return parse.balance(await self._request("fapiPrivateV3GetAccount"), SETTLE)

    async def _open_algo_orders(self, market_id: str | None) -> list[dict[str, Any]]:
        orders: list[dict[str, Any]] = await self._request(
            "fapiPrivateGetOpenAlgoOrders", {"symbol": market_id} if market_id else {}
        )
        return orders

    async def fetch_positions(self, symbols: list[str] | None = None) -> list[Position]:
        """positionRisk, and the open close-position orders for each position's TP/SL (two requests at once)."""
        await self.load_instruments()
        market_id = await self._market_id(symbols[0]) if symbols is not None and len(symbols) == 1 else None
        params = {"symbol": market_id} if market_id else {}
        rows, algo = await asyncio.gather(
            self._request("fapiPrivateV2GetPositionRisk", params), self._open_algo_orders(market_id)
        )
        positions = []
        for row in rows:
            symbol = self._symbol(row["symbol"])
            if symbol is None or (symbols is not None and symbol not in symbols):
                continue
            position = parse.position(row, symbol, parse.protection(algo, row["symbol"]))
            if position is not None:
                self._note_price(symbol, position.mark_price)
                positions.append(position)
        return positions

    async def fetch_open_orders(self, symbol: str | None = None) -> list[Order]:
        """Regular and conditional orders; the close-position TP/SL orders are on the positions."""
        await self.load_instruments()
        market_id = None if symbol is None else await self._market_id(symbol)
        regular, algo = await asyncio.gather(
            self._request("fapiPrivateGetOpenOrders", {"symbol": market_id} if market_id else {}),
            self._open_algo_orders(market_id),
        )
        orders = [parse.order(row, sym) for row in regular if (sym := self._symbol(row["symbol"])) is not None]
        orders += [
            parse.algo_order(row, sym)
            for row in algo
            if not parse.is_protection(row) and (sym := self._symbol(row["symbol"])) is not None
        ]
        return orders

    async def fetch_order(self, symbol: str, client_order_id: str) -> Order:
        market_id = await self._market_id(symbol)
        try:
            raw = await self._request(
                "fapiPrivateGetOrder", {"symbol": market_id, "origClientOrderId": client_order_id}
            )
            return parse.order(raw, symbol)
        except OrderNotFoundError:
            pass
        try:
            return parse.algo_order(
                await self._request("fapiPrivateGetAlgoOrder", {"clientAlgoId": client_order_id}), symbol
            )
        except OrderNotFoundError:
            message = f"binance has no {symbol} order with client order id {client_order_id}"
            raise OrderNotFoundError(message, exchange="binance", code="not_found") from None

    async def _required_id(self, symbol: str | None, what: str) -> str:
        if symbol is None:
            raise ExchangeError(f"binance gives {what} per symbol only", exchange="binance", code="symbol_required")
        return await self._market_id(symbol)

    async def _all_orders(self, market_id: str, since: int | None, limit: int | None) -> list[dict[str, Any]]:
        params: dict[str, Any] = {"symbol": market_id}
        if since is not None:
            params["startTime"] = since
        if limit is not None:
            params["limit"] = min(limit, 1000)
        orders: list[dict[str, Any]] = await self._request("fapiPrivateGetAllOrders", params)
        return orders

    async def fetch_order_history(
        self, symbol: str | None = None, *, since: int | None = None, limit: int | None = None
    ) -> list[Order]:
        market_id = await self._required_id(symbol, "order history")
        assert symbol is not None
        orders = [parse.order(row, symbol) for row in await self._all_orders(market_id, since, limit)]
        return window(orders, lambda order: order.created_at, since, limit)

    async def _user_trades(self, market_id: str, since: int | None, limit: int | None) -> list[dict[str, Any]]:
        params: dict[str, Any] = {"symbol": market_id}
        if since is not None:
            params["startTime"] = since
        if limit is not None:
            params["limit"] = min(limit, 1000)
        trades: list[dict[str, Any]] = await self._request("fapiPrivateGetUserTrades", params)
        return trades

    async def fetch_fills(
        self, symbol: str | None = None, *, since: int | None = None, limit: int | None = None
    ) -> list[Fill]:
        """userTrades names orders by id only; allOrders, asked at the same time, gives their client ids."""
        market_id = await self._required_id(symbol, "fills")
        assert symbol is not None
        trades, orders = await asyncio.gather(
            self._user_trades(market_id, since, limit), self._all_orders(market_id, since, None)
        )
        client_ids = {row["orderId"]: row["clientOrderId"] for row in orders}
        fills = [parse.fill(row, symbol, client_ids.get(row["orderId"])) for row in trades]
        return window(fills, lambda fill: fill.timestamp, since, limit)

    async def fetch_closed_pnl(
        self, symbol: str | None = None, *, since: int | None = None, limit: int | None = None
    ) -> list[Trade]:
        market_id = await self._required_id(symbol, "closed PnL")
        assert symbol is not None
        trades = [
            parse.closed_trade(row, symbol, self.target) for row in await self._user_trades(market_id, since, None)
        ]
        return window([trade for trade in trades if trade is not None], lambda trade: trade.closed_at, since, limit)

    # -------------------------------------------------------------------------------------------- trading

    def _regular_request(self, order: Order, market_id: str) -> dict[str, Any]:
        request: dict[str, Any] = {
            "symbol": market_id,
            "side": parse.SIDES[order.side],
            "type": _TYPES[order.type],
            "quantity": plain(order.qty),
            "newClientOrderId": order.client_order_id,
            "newOrderRespType": "RESULT",
        }
        if order.price is not None:
            request["price"] = plain(order.price)
            request["timeInForce"] = parse.TIME_IN_FORCE[order.time_in_force]
        if order.reduce_only:
            request["reduceOnly"] = "true"
        return request

    def _stop_request(self, order: Order, market_id: str) -> dict[str, Any]:
        assert order.trigger_price is not None
        request: dict[str, Any] = {
            "algoType": "CONDITIONAL",
            "symbol": market_id,
            "side": parse.SIDES[order.side],
            "type": "STOP" if order.type is OrderType.STOP_LIMIT else "STOP_MARKET",
            "quantity": plain(order.qty),
            "triggerPrice": plain(order.trigger_price),
            "workingType": "CONTRACT_PRICE",
            "clientAlgoId": order.client_order_id,
        }
        if order.price is not None:
            request["price"] = plain(order.price)
            request["timeInForce"] = parse.TIME_IN_FORCE[order.time_in_force]
        if order.reduce_only:
            request["reduceOnly"] = "true"
        return request

    def _protection_request(
        self, market_id: str, exit_side: Side, leg: str, trigger: Decimal, algo_id: str
    ) -> dict[str, Any]:
        return {
            "algoType": "CONDITIONAL",
            "symbol": market_id,
            "side": parse.SIDES[exit_side],
            "type": "TAKE_PROFIT_MARKET" if leg == "tp" else "STOP_MARKET",
            "triggerPrice": plain(trigger),
            "workingType": "MARK_PRICE",
            "closePosition": "true",
            "clientAlgoId": algo_id,
        }

    async def _submit(self, order: Order, instrument: Instrument) -> Order:
        market_id = self._exchange.markets[order.symbol]["id"]
        if order.type.has_trigger:
            placed = parse.algo_order(
                await self._request("fapiPrivatePostAlgoOrder", self._stop_request(order, market_id)), order.symbol
            )
        else:
            placed = parse.order(
                await self._request("fapiPrivatePostOrder", self._regular_request(order, market_id)), order.symbol
            )
        await self._protect_entry(order, market_id)
        return placed

    async def _protect_entry(self, order: Order, market_id: str) -> None:
        """The entry's TP/SL as close-position orders; one already placed (a retried entry) is left as it is."""
        for leg, trigger in (("tp", order.take_profit), ("sl", order.stop_loss)):
            if trigger is None:
                continue
            request = self._protection_request(
                market_id, order.side.opposite, leg, trigger, protection_id(order.client_order_id, leg)
            )
            try:
                await self._request("fapiPrivatePostAlgoOrder", request)
            except ExchangeError as exc:
                if not self._is_duplicate(exc):
                    raise

    def _is_duplicate(self, error: ExchangeError) -> bool:
        return error.code == DUPLICATE_CLIENT_ID

    async def _resume(self, order: Order, instrument: Instrument) -> Order:
        """A retried entry: report the existing one, and finish placing its TP/SL if that was interrupted."""
        existing = await self.fetch_order(order.symbol, order.client_order_id)
        await self._protect_entry(order, self._exchange.markets[order.symbol]["id"])
        return existing

    async def amend_order(
        self,
        symbol: str,
        client_order_id: str,
        *,
        qty: Decimal | None = None,
        price: Decimal | None = None,
        trigger_price: Decimal | None = None,
    ) -> Order:
        """Binance amends limit orders only, and wants side, quantity and price each time: the order is read first."""
        instrument = await self._instrument(symbol)
        if trigger_price is not None:
            raise InvalidOrderError("binance cannot amend a conditional order", exchange="binance", code="no_amend")
        self._check_amendment(instrument, qty, price, None)
        current = await self.fetch_order(symbol, client_order_id)
        if current.type is not OrderType.LIMIT:
            raise InvalidOrderError(
                f"binance amends limit orders only, not {current.type}", exchange="binance", code="no_amend"
            )
        params = {
            "symbol": self._exchange.markets[symbol]["id"],
            "origClientOrderId": client_order_id,
            "side": parse.SIDES[current.side],
            "quantity": plain(qty or current.qty),
            "price": plain(price or current.price or Decimal(0)),
        }
        return parse.order(await self._request("fapiPrivatePutOrder", params), symbol)

    async def cancel_order(self, symbol: str, client_order_id: str) -> Order:
        """A regular order, else a conditional one; either way, what the venue reports once it ended."""
        market_id = await self._market_id(symbol)
        try:
            raw = await self._request(
                "fapiPrivateDeleteOrder", {"symbol": market_id, "origClientOrderId": client_order_id}
            )
            return parse.order(raw, symbol)
        except OrderNotFoundError:
            pass
        with contextlib.suppress(OrderNotFoundError):  # not open: filled, canceled or unknown, as the read-back tells
            await self._request("fapiPrivateDeleteAlgoOrder", {"clientAlgoId": client_order_id})
        return await self.fetch_order(symbol, client_order_id)

    async def cancel_all_orders(self, symbol: str | None = None) -> int:
        """Regular orders per symbol with allOpenOrders, conditional entries one by one; the TP/SL orders stay."""
        await self.load_instruments()
        market_id = None if symbol is None else await self._market_id(symbol)
        regular, algo = await asyncio.gather(
            self._request("fapiPrivateGetOpenOrders", {"symbol": market_id} if market_id else {}),
            self._open_algo_orders(market_id),
        )
        regular = [row for row in regular if self._symbol(row["symbol"]) is not None]
        entries = [row for row in algo if not parse.is_protection(row) and self._symbol(row["symbol"]) is not None]
        for market in sorted({row["symbol"] for row in regular}):
            await self._request("fapiPrivateDeleteAllOpenOrders", {"symbol": market})
        for row in entries:
            await self._request("fapiPrivateDeleteAlgoOrder", {"algoId": row["algoId"]})
        return len(regular) + len(entries)

    # ------------------------------------------------------------------------------------ leverage & margin

    async def _apply_leverage(self, instrument: Instrument, leverage: Decimal) -> None:
        params = {"symbol": self._exchange.markets[instrument.symbol]["id"], "leverage": int(leverage)}
        await self._request("fapiPrivatePostLeverage", params)

    def _leverage_unchanged(self, error: ExchangeError) -> bool:
        return False  # Binance accepts the value already set

    def _leverage_refused(self, error: ExchangeError) -> bool:
        return error.code in LEVERAGE_REFUSED

    async def _current_leverage(self, instrument: Instrument) -> Decimal:
        params = {"symbol": self._exchange.markets[instrument.symbol]["id"]}
        rows = await self._request("fapiPrivateV2GetPositionRisk", params)
        return dec(rows[0]["leverage"], field="leverage") if rows else Decimal(1)

    async def set_margin_mode(self, symbol: str, mode: MarginMode) -> None:
        wire = "ISOLATED" if mode is MarginMode.ISOLATED else "CROSSED"
        try:
            await self._request(
                "fapiPrivatePostMarginType", {"symbol": await self._market_id(symbol), "marginType": wire}
            )
        except ExchangeError as exc:
            if exc.code != MARGIN_TYPE_UNCHANGED:
                raise

    async def set_position_protection(
        self, symbol: str, *, take_profit: Decimal | None = None, stop_loss: Decimal | None = None
    ) -> None:
        """Place the new close-position TP/SL on the mark price, then cancel the ones they replace."""
        instrument = await self._instrument(symbol)
        levels = {leg: value for leg, value in (("tp", take_profit), ("sl", stop_loss)) if value is not None}
        for leg, value in levels.items():
            self._check_price(instrument, value, "take_profit" if leg == "tp" else "stop_loss")
        if not levels:
            return
        positions = await self.fetch_positions([symbol])
        if not positions:
            raise InvalidOrderError(f"no {symbol} position to protect", exchange="binance", code="no_position")
        market_id = self._exchange.markets[symbol]["id"]
        existing = [row for row in await self._open_algo_orders(market_id) if parse.is_protection(row)]
        replaced = []
        for leg, value in levels.items():
            prefix = "TAKE_PROFIT" if leg == "tp" else "STOP"
            replaced += [row["algoId"] for row in existing if str(row.get("orderType", "")).startswith(prefix)]
            algo_id = make_client_order_id("protect", symbol, leg, value, self._exchange.milliseconds())
            request = self._protection_request(market_id, positions[0].side.exit_side, leg, value, algo_id)
            await self._request("fapiPrivatePostAlgoOrder", request)
        for algo_id in replaced:
            await self._request("fapiPrivateDeleteAlgoOrder", {"algoId": algo_id})

    def _limit_statuses(self, headers: Mapping[str, str]) -> Iterable[LimitStatus]:
        """Used request weight per minute (per IP) and orders per 10 s (per account), against Binance's limits."""
        weight = headers.get("x-mbx-used-weight-1m")
        if weight is not None and weight.isdigit():
            yield LimitStatus(max(0.0, _IP_WEIGHT_PER_MINUTE - int(weight)), None, Scope.IP)
        orders = headers.get("x-mbx-order-count-10s")
        if orders is not None and orders.isdigit():
            yield LimitStatus(max(0.0, _ORDERS_PER_10S - int(orders)), None, Scope.ACCOUNT)

    # --------------------------------------------------------------------------------------------- streams

    async def watch_trades(self, symbol: str) -> AsyncIterator[PublicTrade]:
        """The trade stream; the taker sold when the buyer was the maker (``m``)."""
        await self._instrument(symbol)

        def convert(trades: Any) -> Iterable[PublicTrade]:
            for trade in self._each(trades):
                raw = trade["info"]
                side = Side.SELL if raw.get("m") else Side.BUY
                yield PublicTrade(
                    symbol, str(raw.get("a") or raw.get("t")), side, dec(raw["p"]), dec(raw["q"]), int(raw["T"])
                )

        async for trade in self._watch(lambda: self._exchange.watch_trades(symbol), convert):
            yield trade

    def watch_order_book(self, symbol: str, depth: int = 50) -> AsyncIterator[OrderBook]:
        return self._watch_book(symbol, depth)

    async def watch_orders(self) -> AsyncIterator[Order]:
        """Regular orders from the user-data stream (ccxt.pro opens it with a listen key)."""
        await self.load_instruments()

        def convert(orders: Any) -> Iterable[Order]:
            for order in self._each(orders):
                raw = order["info"]
                symbol = self._symbol(raw.get("s", ""))
                if symbol is not None and "c" in raw:
                    yield parse.stream_order(raw, symbol)

        async for order in self._watch(self._exchange.watch_orders, convert):
            yield order

    async def watch_positions(self) -> AsyncIterator[Position]:
        """Open positions from the user-data stream's account updates (without TP/SL)."""
        await self.load_instruments()

        def convert(positions: Any) -> Iterable[Position]:
            for item in self._each(positions):
                raw = item["info"]
                symbol = self._symbol(raw.get("s", ""))
                if symbol is None:
                    continue
                row = {
                    "positionAmt": raw["pa"],
                    "entryPrice": raw["ep"],
                    "unRealizedProfit": raw.get("up"),
                    "marginType": raw.get("mt"),
                }
                position = parse.position(row, symbol, (None, None))
                if position is not None:
                    yield position

        async for position in self._watch(self._exchange.watch_positions, convert):
            yield position

    async def watch_fills(self) -> AsyncIterator[Fill]:
        await self.load_instruments()

        def convert(trades: Any) -> Iterable[Fill]:
            for trade in self._each(trades):
                raw = trade["info"]
                symbol = self._symbol(raw.get("s", ""))
                if symbol is not None and raw.get("x") == "TRADE":
                    yield parse.stream_fill(raw, symbol, SETTLE)

        async for fill in self._watch(self._exchange.watch_my_trades, convert):
            yield fill
