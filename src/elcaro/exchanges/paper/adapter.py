"""The paper exchange behind the one adapter protocol: one account of a ``PaperEngine``."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import replace
from decimal import Decimal
from typing import Any, TypeVar

from elcaro.exchanges.paper.engine import PaperEngine
from elcaro.exchanges.paper.errors import DuplicateClientOrderIdError
from elcaro.exchanges.paper.events import (
    BookEvent,
    CandleEvent,
    EngineEvent,
    FillEvent,
    OrderEvent,
    PositionEvent,
    PublicTradeEvent,
)
from elcaro.exchanges.paper.streams import EventStream
from elcaro.models import Balance, Environment, Fill, Instrument, MarginMode, Order, Position, Target, Trade
from elcaro.models.decimals import ZERO
from elcaro.models.errors import ExchangeError, InvalidOrderError, OrderNotFoundError, ValidationError
from elcaro.models.market import Candle, FundingRate, OpenInterest, OrderBook, PublicTrade, Ticker

T = TypeVar("T")


def _window(items: Sequence[T], stamp: Callable[[T], int], since: int | None, limit: int | None) -> list[T]:
    """ccxt's paging: from ``since`` the first ``limit`` items, without it the latest ``limit``; oldest first."""
    if limit is not None and limit <= 0:
        return []
    if since is not None:
        return [item for item in items if stamp(item) >= since][:limit]
    return list(items[-limit:] if limit is not None else items)


class PaperExchangeAdapter:
    """``ExchangeAdapter`` for account ``account_id`` of ``engine``.

    Market data is what the engine has: its instruments, prices, book, and candles of any supported timeframe
    (those it was fed at that timeframe, else its minute bars resampled). ``watch_*`` streams start at the call
    and end at ``close()``. A position closing is not a ``watch_positions`` item (a ``Position`` cannot be flat);
    ``watch_orders`` and ``watch_fills`` show it.
    """

    def __init__(self, engine: PaperEngine, account_id: str, *, target: Target | None = None) -> None:
        target = target or engine.target
        if target.environment is not Environment.PAPER:
            raise ValidationError(f"a paper adapter serves paper targets, not {target}", field="target")
        engine.balance(account_id)  # an unknown account fails here, not at the first call
        self._engine = engine
        self._account_id = account_id
        self._target = target
        self._streams: set[EventStream[Any]] = set()

    @property
    def target(self) -> Target:
        return self._target

    @property
    def account_id(self) -> str:
        return self._account_id

    # ---------------------------------------------------------------------------------- market data

    async def load_instruments(self, *, reload: bool = False) -> Mapping[str, Instrument]:
        return dict(self._engine.instruments)

    async def fetch_ticker(self, symbol: str) -> Ticker:
        ticker = self._engine.ticker(symbol)
        if ticker is None:
            raise ExchangeError(f"the paper exchange has no price for {symbol} yet", exchange="paper", code="no_data")
        return ticker

    async def fetch_tickers(self, symbols: list[str] | None = None) -> dict[str, Ticker]:
        wanted = list(self._engine.instruments) if symbols is None else symbols
        tickers = {symbol: self._engine.ticker(symbol) for symbol in wanted}
        return {symbol: ticker for symbol, ticker in tickers.items() if ticker is not None}

    async def fetch_order_book(self, symbol: str, depth: int = 50) -> OrderBook:
        self._instrument(symbol)
        book = self._engine.order_book(symbol)
        if book is None:
            raise ExchangeError(f"the paper exchange has no order book for {symbol}", exchange="paper", code="no_data")
        return replace(book, bids=book.bids[:depth], asks=book.asks[:depth])

    async def fetch_ohlcv(
        self, symbol: str, timeframe: str, *, since: int | None = None, limit: int | None = None
    ) -> list[Candle]:
        self._instrument(symbol)
        try:
            candles = self._engine.ohlcv(symbol, timeframe)
        except ValidationError:
            raise ExchangeError(
                f"the paper exchange has no {timeframe} candles", exchange="paper", code="unsupported_timeframe"
            ) from None
        if not candles:
            raise ExchangeError(
                f"the paper exchange has seen no {timeframe} candles for {symbol}", exchange="paper", code="no_data"
            )
        return _window(candles, lambda candle: candle.timestamp, since, limit)

    async def fetch_funding_rate(self, symbol: str) -> FundingRate:
        self._instrument(symbol)
        rate = self._engine.funding_rate(symbol)
        return rate if rate is not None else FundingRate(symbol, ZERO, None, self._engine.now())

    async def fetch_open_interest(self, symbol: str) -> OpenInterest:
        instrument = self._instrument(symbol)
        contracts = self._engine.open_interest(symbol)
        mark = self._engine.mark_price(symbol)
        value = None if mark is None else instrument.notional(contracts, mark)
        return OpenInterest(symbol, contracts, value, self._engine.now())

    def watch_candles(self, symbol: str, timeframe: str) -> AsyncIterator[Candle]:
        def select(event: EngineEvent) -> Candle | None:
            matches = isinstance(event, CandleEvent) and event.symbol == symbol and event.timeframe == timeframe
            return event.candle if matches and isinstance(event, CandleEvent) else None

        return self._stream(select)

    def watch_trades(self, symbol: str) -> AsyncIterator[PublicTrade]:
        def select(event: EngineEvent) -> PublicTrade | None:
            return event.trade if isinstance(event, PublicTradeEvent) and event.trade.symbol == symbol else None

        return self._stream(select)

    def watch_order_book(self, symbol: str, depth: int = 50) -> AsyncIterator[OrderBook]:
        def select(event: EngineEvent) -> OrderBook | None:
            if not isinstance(event, BookEvent) or event.book.symbol != symbol:
                return None
            return replace(event.book, bids=event.book.bids[:depth], asks=event.book.asks[:depth])

        return self._stream(select)

    # --------------------------------------------------------------------------------------- account

    async def fetch_balance(self) -> Balance:
        return self._engine.balance(self._account_id)

    async def fetch_positions(self, symbols: list[str] | None = None) -> list[Position]:
        return self._engine.positions(self._account_id, symbols)

    async def fetch_open_orders(self, symbol: str | None = None) -> list[Order]:
        return self._engine.open_orders(self._account_id, symbol)

    async def fetch_order(self, symbol: str, client_order_id: str) -> Order:
        order = self._engine.find_order(self._account_id, client_order_id)
        if order is None or order.symbol != symbol:
            raise OrderNotFoundError(f"no {symbol} order with client order id {client_order_id}", exchange="paper")
        return order

    async def fetch_order_history(
        self, symbol: str | None = None, *, since: int | None = None, limit: int | None = None
    ) -> list[Order]:
        orders = self._engine.order_history(self._account_id, symbol)
        return _window(orders, lambda order: order.created_at, since, limit)

    async def fetch_fills(
        self, symbol: str | None = None, *, since: int | None = None, limit: int | None = None
    ) -> list[Fill]:
        return _window(self._engine.fills(self._account_id, symbol), lambda fill: fill.timestamp, since, limit)

    async def fetch_closed_pnl(
        self, symbol: str | None = None, *, since: int | None = None, limit: int | None = None
    ) -> list[Trade]:
        trades = _window(self._engine.closed_pnl(self._account_id, symbol), lambda t: t.closed_at, since, limit)
        if self._target == self._engine.target:
            return trades
        return [replace(trade, target=self._target) for trade in trades]

    # -------------------------------------------------------------------------------------- trading

    async def place_order(self, order: Order) -> Order:
        """Check the instrument's rules first (a refused order costs no request); a retry returns the first order."""
        existing = self._engine.find_order(self._account_id, order.client_order_id)
        if existing is not None:
            return existing
        instrument = self._instrument(order.symbol)
        reference = order.price or order.trigger_price or self._engine.last_price(order.symbol)
        if reference is None:
            raise InvalidOrderError(f"no price for {order.symbol} yet", exchange="paper")
        try:
            instrument.check_order(
                order.qty, instrument.round_price(reference, "nearest"), reduce_only=order.reduce_only
            )
        except ValidationError as exc:
            raise InvalidOrderError(exc.reason, exchange="paper") from None
        try:
            return self._engine.place_order(self._account_id, order)
        except DuplicateClientOrderIdError as duplicate:
            return duplicate.existing

    async def amend_order(
        self,
        symbol: str,
        client_order_id: str,
        *,
        qty: Decimal | None = None,
        price: Decimal | None = None,
        trigger_price: Decimal | None = None,
    ) -> Order:
        await self.fetch_order(symbol, client_order_id)
        return self._engine.amend_order(
            self._account_id, client_order_id, qty=qty, price=price, trigger_price=trigger_price
        )

    async def cancel_order(self, symbol: str, client_order_id: str) -> Order:
        await self.fetch_order(symbol, client_order_id)
        return self._engine.cancel_order(self._account_id, client_order_id)

    async def cancel_all_orders(self, symbol: str | None = None) -> int:
        return len(self._engine.cancel_all_orders(self._account_id, symbol))

    async def set_leverage(self, symbol: str, leverage: Decimal) -> Decimal:
        return self._engine.set_leverage(self._account_id, symbol, leverage)

    async def set_margin_mode(self, symbol: str, mode: MarginMode) -> None:
        self._engine.set_margin_mode(self._account_id, symbol, mode)

    async def set_position_protection(
        self, symbol: str, *, take_profit: Decimal | None = None, stop_loss: Decimal | None = None
    ) -> None:
        self._engine.set_position_protection(self._account_id, symbol, take_profit=take_profit, stop_loss=stop_loss)

    # -------------------------------------------------------------------------------------- streams

    def watch_orders(self) -> AsyncIterator[Order]:
        def select(event: EngineEvent) -> Order | None:
            return event.order if isinstance(event, OrderEvent) and event.account_id == self._account_id else None

        return self._stream(select)

    def watch_positions(self) -> AsyncIterator[Position]:
        def select(event: EngineEvent) -> Position | None:
            mine = isinstance(event, PositionEvent) and event.account_id == self._account_id
            return event.position if mine and isinstance(event, PositionEvent) else None

        return self._stream(select)

    def watch_fills(self) -> AsyncIterator[Fill]:
        def select(event: EngineEvent) -> Fill | None:
            return event.fill if isinstance(event, FillEvent) and event.account_id == self._account_id else None

        return self._stream(select)

    async def close(self) -> None:
        """End every stream this adapter opened. The engine and the account carry on."""
        for stream in list(self._streams):
            await stream.aclose()
        self._streams.clear()

    def _stream(self, select: Callable[[EngineEvent], T | None]) -> EventStream[T]:
        stream = EventStream(self._engine, select)
        self._streams.add(stream)
        return stream

    def _instrument(self, symbol: str) -> Instrument:
        instrument = self._engine.instruments.get(symbol)
        if instrument is None:
            raise InvalidOrderError(f"unknown symbol {symbol} on the paper exchange", exchange="paper")
        return instrument
