"""HyperLiquid perpetuals (USDC), through ccxt with the fast signer hooked in and no builder fee or referrer.

An account is a main wallet (``wallet_address``, the one every ``/info`` query names) traded by an approved agent
(API wallet) key, which signs every ``/exchange`` action. The client order id is HyperLiquid's ``cloid``.

Choices that a trader would notice:

- A market order is an IOC limit 5% through the current mid price (``allMids``), as ccxt and HyperLiquid's UI do.
- TP/SL attached to an entry are HyperLiquid's ``normalTpsl`` children (market triggers, active once the entry
  fills) with their own cloids derived from the entry's; position TP/SL are ``positionTpsl`` orders (the whole
  position, whatever its size). HyperLiquid's triggers use the mark price.
- A stop entry is a trigger order; HyperLiquid has no fill-or-kill, so FOK orders are refused before sending.
- Order history, fills and closed PnL are what ``historicalOrders`` and ``userFills`` return (HyperLiquid's latest
  2000); closed PnL comes from closing fills, with the entry price their realised PnL implies.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator, Iterable, Mapping
from decimal import Decimal
from typing import Any

from elcaro.exchanges.ccxt.adapter import CcxtAdapter, window
from elcaro.exchanges.ccxt.numbers import dec, plain, price
from elcaro.exchanges.hyperliquid import parse
from elcaro.exchanges.hyperliquid.exchange import ERRORS, MARKET_SLIPPAGE, is_duplicate
from elcaro.models import (
    Balance,
    Fill,
    Instrument,
    MarginMode,
    Order,
    OrderStatus,
    Position,
    Side,
    Target,
    TimeInForce,
    Trade,
    make_client_order_id,
)
from elcaro.models.errors import ExchangeError, InsufficientFundsError, InvalidOrderError, OrderNotFoundError
from elcaro.models.market import Candle, FundingRate, OpenInterest, OrderBook, PublicTrade, Ticker
from elcaro.models.timeframe import HOUR_MS

SETTLE = "USDC"
_TIME_IN_FORCE = {TimeInForce.GTC: "Gtc", TimeInForce.IOC: "Ioc", TimeInForce.POST_ONLY: "Alo"}
_CLOID = re.compile(r"0x[0-9a-fA-F]{32}")


def child_cloid(client_order_id: str, leg: str) -> str:
    """The cloid of an entry's TP or SL child: HyperLiquid wants every cloid unique, and a retry must match."""
    return make_client_order_id(client_order_id, leg)


class HyperliquidAdapter(CcxtAdapter):
    """``ExchangeAdapter`` for one HyperLiquid wallet; build it with ``elcaro.exchanges.factory.create_adapter``."""

    def __init__(self, exchange: Any, target: Target, *, markets: Mapping[str, Any] | None = None) -> None:
        super().__init__(exchange, target, ERRORS, settle=SETTLE, markets=markets)
        self._coins: dict[str, str] = {}

    # ------------------------------------------------------------------------------------------- plumbing

    @property
    def _user(self) -> str:
        user: str | None = self._exchange.walletAddress
        if not user:
            raise ExchangeError("hyperliquid: no wallet address to query", exchange="hyperliquid", code="no_wallet")
        return user

    async def _info(self, request: Mapping[str, Any]) -> Any:
        return await self._request("publicPostInfo", request)

    async def _act(self, action: dict[str, Any]) -> Any:
        """Sign one L1 action (with the hooked-in signer) and send it, as ccxt's own methods do."""
        nonce = self._exchange.incrementing_nonce()
        signature = self._exchange.sign_l1_action(action, nonce, None)
        return await self._request("privatePostExchange", {"action": action, "nonce": nonce, "signature": signature})

    def _coin(self, symbol: str) -> str:
        coin: str = self._exchange.markets[symbol]["info"]["name"]
        return coin

    def _asset(self, symbol: str) -> int:
        return int(self._exchange.markets[symbol]["baseId"])

    def _symbol_of_coin(self, coin: str) -> str | None:
        return self._coins.get(coin)

    # ---------------------------------------------------------------------------------------- instruments

    async def _instruments_from(self, markets: Mapping[str, Any]) -> dict[str, Instrument]:
        """HyperLiquid names markets by coin ("BTC") in /info answers: keep the coin → symbol table beside them."""
        instruments = await super()._instruments_from(markets)
        self._coins = {markets[symbol]["info"]["name"]: symbol for symbol in instruments}
        return instruments

    def _instrument_from(self, market: Mapping[str, Any]) -> Instrument | None:
        if not (market.get("swap") and market.get("settle") == SETTLE and ":" not in market["info"].get("name", ":")):
            return None
        return parse.instrument(market)

    def _check_price(self, instrument: Instrument, value: Decimal, name: str) -> None:
        """HyperLiquid's rule instead of a fixed tick: 5 significant figures, at most 6 − szDecimals decimals."""
        problem = "is not positive" if value <= 0 else parse.price_error(value, self._sz_decimals(instrument.symbol))
        if problem is not None:
            message = f"{name} {value} {problem} for {instrument.symbol} on hyperliquid"
            raise InvalidOrderError(message, exchange="hyperliquid", code="invalid_price")

    def _sz_decimals(self, symbol: str) -> int:
        return parse.size_decimals(self._exchange.markets[symbol])

    async def _check(self, instrument: Instrument, order: Order) -> None:
        if order.time_in_force is TimeInForce.FOK:
            raise InvalidOrderError("hyperliquid has no fill-or-kill orders", exchange="hyperliquid", code="no_fok")
        if not _CLOID.fullmatch(order.client_order_id):
            message = f"a hyperliquid cloid is 0x and 32 hex digits, not {order.client_order_id!r}"
            raise InvalidOrderError(message, exchange="hyperliquid", code="invalid_cloid")
        await super()._check(instrument, order)

    # ---------------------------------------------------------------------------------------- market data

    async def _contexts(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        meta, contexts = await self._info({"type": "metaAndAssetCtxs"})
        return meta["universe"], contexts

    async def _context(self, symbol: str) -> dict[str, Any]:
        await self._instrument(symbol)
        _, contexts = await self._contexts()
        context: dict[str, Any] = contexts[self._asset(symbol)]
        return context

    async def _fetch_ticker(self, symbol: str) -> Ticker:
        return parse.ticker(symbol, await self._context(symbol), self._exchange.milliseconds())

    async def _fetch_tickers(self, symbols: list[str] | None) -> dict[str, Ticker]:
        await self.load_instruments()
        universe, contexts = await self._contexts()
        now = self._exchange.milliseconds()
        tickers = {}
        for meta, context in zip(universe, contexts, strict=False):
            symbol = self._symbol_of_coin(meta["name"])
            if symbol is not None and (symbols is None or symbol in symbols):
                tickers[symbol] = parse.ticker(symbol, context, now)
        return tickers

    async def _market_price(self, symbol: str) -> Decimal:
        """Always the current mid (``allMids``): it sets the market order's limit, not just the value check."""
        mids = await self._info({"type": "allMids"})
        mid = dec(mids[self._coin(symbol)], field="mid")
        self._note_price(symbol, mid)
        return mid

    async def fetch_order_book(self, symbol: str, depth: int = 50) -> OrderBook:
        await self._instrument(symbol)
        book = await self._info({"type": "l2Book", "coin": self._coin(symbol)})
        return parse.order_book(book, symbol, depth)

    async def fetch_ohlcv(
        self, symbol: str, timeframe: str, *, since: int | None = None, limit: int | None = None
    ) -> list[Candle]:
        await self._instrument(symbol)
        if timeframe not in self._exchange.timeframes:
            raise ExchangeError(
                f"hyperliquid has no {timeframe} candles", exchange="hyperliquid", code="unsupported_timeframe"
            )
        span = self._exchange.parse_timeframe(timeframe) * 1000 * (limit or 500)
        now = self._exchange.milliseconds()
        start = since if since is not None else now - span
        request = {
            "type": "candleSnapshot",
            "req": {"coin": self._coin(symbol), "interval": timeframe, "startTime": start, "endTime": start + span},
        }
        rows = await self._info(request)
        return window([parse.candle(row) for row in rows or []], lambda candle: candle.timestamp, since, limit)

    async def fetch_funding_rate(self, symbol: str) -> FundingRate:
        """HyperLiquid funds every hour, at the hour."""
        context = await self._context(symbol)
        now = self._exchange.milliseconds()
        next_hour = (now // HOUR_MS + 1) * HOUR_MS
        return FundingRate(symbol, dec(context.get("funding") or "0", field="funding"), next_hour, now)

    async def fetch_open_interest(self, symbol: str) -> OpenInterest:
        context = await self._context(symbol)
        contracts = dec(context.get("openInterest") or "0", field="openInterest")
        mark = price(context.get("markPx"))
        return OpenInterest(symbol, contracts, contracts * mark if mark else None, self._exchange.milliseconds())

    # -------------------------------------------------------------------------------------------- account

    async def _state(self) -> dict[str, Any]:
        state: dict[str, Any] = await self._info({"type": "clearinghouseState", "user": self._user})
        return state

    async def _open_orders_raw(self) -> list[dict[str, Any]]:
        orders: list[dict[str, Any]] = await self._info({"type": "frontendOpenOrders", "user": self._user})
        return orders or []

    async def fetch_balance(self) -> Balance:
        return parse.balance(await self._state(), SETTLE)

    async def fetch_positions(self, symbols: list[str] | None = None) -> list[Position]:
        """Positions from clearinghouseState, their TP/SL from the open trigger orders (two requests at once)."""
        await self.load_instruments()
        state, open_orders = await asyncio.gather(self._state(), self._open_orders_raw())
        positions = []
        for item in state.get("assetPositions") or []:
            raw = item["position"]
            symbol = self._symbol_of_coin(raw["coin"])
            if symbol is None or (symbols is not None and symbol not in symbols):
                continue
            position = parse.position(raw, symbol, parse.protection(open_orders, raw["coin"]))
            if position is not None:
                positions.append(position)
        return positions

    def _orders(self, entries: Iterable[tuple[Mapping[str, Any], str, int | None]]) -> list[Order]:
        orders = []
        for raw, status, status_time in entries:
            symbol = self._symbol_of_coin(raw.get("coin", ""))
            if symbol is not None and not parse.is_protection(raw):
                orders.append(parse.order(raw, symbol, status, status_time))
        return orders

    async def fetch_open_orders(self, symbol: str | None = None) -> list[Order]:
        """Resting and untriggered orders; reduce-only triggers are the positions' TP/SL and show there."""
        await self.load_instruments()
        if symbol is not None:
            await self._instrument(symbol)
        orders = self._orders((raw, "open", None) for raw in await self._open_orders_raw())
        return [order for order in orders if symbol is None or order.symbol == symbol]

    async def fetch_order(self, symbol: str, client_order_id: str) -> Order:
        await self._instrument(symbol)
        answer = await self._info({"type": "orderStatus", "user": self._user, "oid": client_order_id})
        entry = answer.get("order") if isinstance(answer, dict) else None
        if not entry or entry["order"].get("coin") != self._coin(symbol):
            message = f"hyperliquid has no {symbol} order with client order id {client_order_id}"
            raise OrderNotFoundError(message, exchange="hyperliquid", code="not_found")
        return parse.order(entry["order"], symbol, entry.get("status", "open"), entry.get("statusTimestamp"))

    async def fetch_order_history(
        self, symbol: str | None = None, *, since: int | None = None, limit: int | None = None
    ) -> list[Order]:
        await self.load_instruments()
        rows = await self._info({"type": "historicalOrders", "user": self._user})
        orders = self._orders((row["order"], row.get("status", ""), row.get("statusTimestamp")) for row in rows or [])
        orders = [order for order in orders if symbol is None or order.symbol == symbol]
        return window(orders, lambda order: order.created_at, since, limit)

    async def _fills_raw(self, since: int | None) -> list[dict[str, Any]]:
        await self.load_instruments()
        if since is None:
            request: dict[str, Any] = {"type": "userFills", "user": self._user}
        else:
            request = {"type": "userFillsByTime", "user": self._user, "startTime": since}
        fills: list[dict[str, Any]] = await self._info(request)
        return fills or []

    async def fetch_fills(
        self, symbol: str | None = None, *, since: int | None = None, limit: int | None = None
    ) -> list[Fill]:
        fills = []
        for raw in await self._fills_raw(since):
            fill_symbol = self._symbol_of_coin(raw.get("coin", ""))
            if fill_symbol is not None and (symbol is None or fill_symbol == symbol):
                fills.append(parse.fill(raw, fill_symbol, SETTLE))
        return window(fills, lambda fill: fill.timestamp, since, limit)

    async def fetch_closed_pnl(
        self, symbol: str | None = None, *, since: int | None = None, limit: int | None = None
    ) -> list[Trade]:
        trades = []
        for raw in await self._fills_raw(since):
            trade_symbol = self._symbol_of_coin(raw.get("coin", ""))
            if trade_symbol is None or (symbol is not None and trade_symbol != symbol):
                continue
            trade = parse.closed_trade(raw, trade_symbol, self.target)
            if trade is not None:
                trades.append(trade)
        return window(trades, lambda trade: trade.closed_at, since, limit)

    # -------------------------------------------------------------------------------------------- trading

    def _leg(self, symbol: str, kind: str, side: Side, qty: str, price: Decimal, params: dict[str, Any]) -> Any:
        """One order of an ``order`` action, built by ccxt (asset id, price and size formats, key order)."""
        params = {"slippage": MARKET_SLIPPAGE} | params
        return self._exchange.create_order_request(symbol, kind, side.value, qty, plain(price), params)

    def _entry_leg(self, order: Order, mid: Decimal | None = None) -> Any:
        """The order's own leg; ``mid`` is the current mid price a market order's limit is set from."""
        params: dict[str, Any] = {"clientOrderId": order.client_order_id, "reduceOnly": order.reduce_only}
        if order.trigger_price is not None:
            params["triggerPrice"] = plain(order.trigger_price)  # a stop entry: HyperLiquid's "sl" trigger
        if order.type.has_limit_price:
            params["timeInForce"] = _TIME_IN_FORCE[order.time_in_force]
        # A market order (or a stop-market once triggered) is limited 5% through its reference price.
        reference = order.price or order.trigger_price or mid
        if reference is None:
            raise InvalidOrderError(f"no price to bound market order {order.client_order_id}", exchange="hyperliquid")
        kind = "limit" if order.type.has_limit_price else "market"
        return self._leg(order.symbol, kind, order.side, plain(order.qty), reference, params)

    def _protection_legs(
        self, symbol: str, exit_side: Side, qty: str, tp: Decimal | None, sl: Decimal | None, cloid: str | None
    ) -> list[Any]:
        legs = []
        for trigger, name, leg in ((tp, "takeProfitPrice", "tp"), (sl, "stopLossPrice", "sl")):
            if trigger is None:
                continue
            params: dict[str, Any] = {name: plain(trigger), "reduceOnly": True}
            if cloid is not None:
                params["clientOrderId"] = child_cloid(cloid, leg)
            legs.append(self._leg(symbol, "market", exit_side, qty, trigger, params))
        return legs

    async def _submit(self, order: Order, instrument: Instrument) -> Order:
        # _check has just asked allMids for a market order, so the mid noted there is current.
        mid = self._prices[order.symbol][0] if order.symbol in self._prices else None
        legs = [self._entry_leg(order, mid)]
        children = self._protection_legs(
            order.symbol,
            order.side.opposite,
            plain(order.qty),
            order.take_profit,
            order.stop_loss,
            order.client_order_id,
        )
        action = {"type": "order", "orders": legs + children, "grouping": "normalTpsl" if children else "na"}
        answer = await self._act(action)
        return self._placed(order, answer["response"]["data"]["statuses"][0], self._exchange.milliseconds())

    @staticmethod
    def _placed(order: Order, status: Any, now: int) -> Order:
        """The entry as its status in the ``order`` answer describes it (resting, filled, or waiting)."""
        if isinstance(status, dict) and "filled" in status:
            filled = status["filled"]
            total = dec(filled["totalSz"], field="totalSz")
            return order.with_update(
                status=OrderStatus.FILLED if total >= order.qty else OrderStatus.CANCELED,  # an IOC's rest is canceled
                exchange_order_id=str(filled["oid"]),
                filled_qty=min(total, order.qty),
                avg_fill_price=dec(filled["avgPx"], field="avgPx"),
                created_at=now,
                updated_at=now,
            )
        oid = status["resting"]["oid"] if isinstance(status, dict) and "resting" in status else None
        return order.with_update(
            status=OrderStatus.OPEN, exchange_order_id=None if oid is None else str(oid), created_at=now, updated_at=now
        )

    def _is_duplicate(self, error: ExchangeError) -> bool:
        return is_duplicate(error.venue_message)

    async def amend_order(
        self,
        symbol: str,
        client_order_id: str,
        *,
        qty: Decimal | None = None,
        price: Decimal | None = None,
        trigger_price: Decimal | None = None,
    ) -> Order:
        """HyperLiquid modifies by restating the whole order: it is read first, then sent with the changes."""
        instrument = await self._instrument(symbol)
        self._check_amendment(instrument, qty, price, trigger_price)
        current = await self.fetch_order(symbol, client_order_id)
        if not current.is_open:
            raise InvalidOrderError(
                f"order {client_order_id} is {current.status}", exchange="hyperliquid", code="not_open"
            )
        changed = current.with_update(
            qty=qty or current.qty, price=price or current.price, trigger_price=trigger_price or current.trigger_price
        )
        assert current.exchange_order_id is not None  # orderStatus always names the oid
        action = {
            "type": "batchModify",
            "modifies": [{"oid": int(current.exchange_order_id), "order": self._entry_leg(changed)}],
        }
        await self._act(action)
        return await self.fetch_order(symbol, client_order_id)

    async def cancel_order(self, symbol: str, client_order_id: str) -> Order:
        """Cancel by cloid; an order already filled or canceled is reported as it ended."""
        await self._instrument(symbol)
        action = {"type": "cancelByCloid", "cancels": [{"asset": self._asset(symbol), "cloid": client_order_id}]}
        with contextlib.suppress(OrderNotFoundError):
            await self._act(action)
        return await self.fetch_order(symbol, client_order_id)

    async def cancel_all_orders(self, symbol: str | None = None) -> int:
        """Every open order (of ``symbol``) but the positions' TP/SL, in one cancel action."""
        await self.load_instruments()
        targets = [
            raw
            for raw in await self._open_orders_raw()
            if not parse.is_protection(raw)
            and (sym := self._symbol_of_coin(raw.get("coin", ""))) is not None
            and (symbol is None or sym == symbol)
        ]
        if not targets:
            return 0
        cancels = [{"a": self._asset(self._coins[raw["coin"]]), "o": int(raw["oid"])} for raw in targets]
        answer = await self._act({"type": "cancel", "cancels": cancels})
        return sum(1 for status in answer["response"]["data"]["statuses"] if status == "success")

    # ------------------------------------------------------------------------------------ leverage & margin

    async def _asset_data(self, symbol: str) -> dict[str, Any]:
        data: dict[str, Any] = await self._info(
            {"type": "activeAssetData", "user": self._user, "coin": self._coin(symbol)}
        )
        return data

    async def _update_leverage(self, symbol: str, *, cross: bool, leverage: int) -> None:
        action = {"type": "updateLeverage", "asset": self._asset(symbol), "isCross": cross, "leverage": leverage}
        await self._act(action)

    async def _apply_leverage(self, instrument: Instrument, leverage: Decimal) -> None:
        """Leverage and margin mode are one setting on HyperLiquid: the current mode is kept."""
        current = (await self._asset_data(instrument.symbol)).get("leverage") or {}
        await self._update_leverage(
            instrument.symbol, cross=current.get("type", "cross") == "cross", leverage=int(leverage)
        )

    def _leverage_unchanged(self, error: ExchangeError) -> bool:
        return False  # HyperLiquid accepts the value already set

    def _leverage_refused(self, error: ExchangeError) -> bool:
        """An invalid value, a mode switch with a position open, or too little margin for the new value."""
        return isinstance(error, InvalidOrderError | InsufficientFundsError)

    async def _current_leverage(self, instrument: Instrument) -> Decimal:
        current = (await self._asset_data(instrument.symbol)).get("leverage") or {}
        return dec(current.get("value") or 1, field="leverage")

    async def set_margin_mode(self, symbol: str, mode: MarginMode) -> None:
        """Sent with the leverage in force, which HyperLiquid's updateLeverage sets together with the mode."""
        instrument = await self._instrument(symbol)
        leverage = await self._current_leverage(instrument)
        await self._update_leverage(symbol, cross=mode is MarginMode.CROSS, leverage=int(leverage))

    async def set_position_protection(
        self, symbol: str, *, take_profit: Decimal | None = None, stop_loss: Decimal | None = None
    ) -> None:
        """Place the new whole-position TP/SL, then cancel the ones they replace (never a moment unprotected)."""
        instrument = await self._instrument(symbol)
        for name, value in (("take_profit", take_profit), ("stop_loss", stop_loss)):
            if value is not None:
                self._check_price(instrument, value, name)
        if take_profit is None and stop_loss is None:
            return
        positions = await self.fetch_positions([symbol])
        if not positions:
            raise InvalidOrderError(f"no {symbol} position to protect", exchange="hyperliquid", code="no_position")
        coin = self._coin(symbol)
        replaced = [
            int(raw["oid"])
            for raw in await self._open_orders_raw()
            if raw.get("coin") == coin
            and raw.get("isPositionTpsl")
            and (take_profit if str(raw.get("orderType", "")).startswith("Take Profit") else stop_loss) is not None
        ]
        legs = self._protection_legs(symbol, positions[0].side.exit_side, "0", take_profit, stop_loss, None)
        await self._act({"type": "order", "orders": legs, "grouping": "positionTpsl"})
        if replaced:
            await self._act({"type": "cancel", "cancels": [{"a": self._asset(symbol), "o": oid} for oid in replaced]})

    # --------------------------------------------------------------------------------------------- streams

    async def watch_trades(self, symbol: str) -> AsyncIterator[PublicTrade]:
        await self._instrument(symbol)

        def convert(trades: Any) -> Iterable[PublicTrade]:
            for trade in self._each(trades):
                raw = trade["info"]
                side = Side.BUY if raw["side"] == "B" else Side.SELL
                yield PublicTrade(symbol, str(raw["tid"]), side, dec(raw["px"]), dec(raw["sz"]), int(raw["time"]))

        async for trade in self._watch(lambda: self._exchange.watch_trades(symbol), convert):
            yield trade

    def watch_order_book(self, symbol: str, depth: int = 50) -> AsyncIterator[OrderBook]:
        return self._watch_book(symbol, depth)

    async def watch_orders(self) -> AsyncIterator[Order]:
        await self.load_instruments()

        def convert(orders: Any) -> Iterable[Order]:
            entries = (order["info"] for order in self._each(orders))
            return self._orders(
                (entry.get("order", entry), entry.get("status", "open"), entry.get("statusTimestamp"))
                for entry in entries
            )

        async for order in self._watch(self._exchange.watch_orders, convert):
            yield order

    async def watch_positions(self) -> AsyncIterator[Position]:
        """Open positions as they change (without TP/SL, which HyperLiquid streams as orders)."""
        await self.load_instruments()

        def convert(positions: Any) -> Iterable[Position]:
            for item in self._each(positions):
                raw = item["info"].get("position", item["info"])
                symbol = self._symbol_of_coin(raw.get("coin", ""))
                position = None if symbol is None else parse.position(raw, symbol, (None, None))
                if position is not None:
                    yield position

        async for position in self._watch(self._exchange.watch_positions, convert):
            yield position

    async def watch_fills(self) -> AsyncIterator[Fill]:
        await self.load_instruments()

        def convert(trades: Any) -> Iterable[Fill]:
            for trade in self._each(trades):
                raw = trade["info"]
                symbol = self._symbol_of_coin(raw.get("coin", ""))
                if symbol is not None:
                    yield parse.fill(raw, symbol, SETTLE)

        async for fill in self._watch(self._exchange.watch_my_trades, convert):
            yield fill
