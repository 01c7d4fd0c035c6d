"""What every ccxt-backed adapter shares: the ccxt instance, instruments, checks, idempotent orders, leverage, streams.

A venue subclass supplies the requests and reads the answers; this base keeps the rules of the adapter protocol
(``elcaro.exchanges.protocol``) in one place:

- a request goes out only for an order that passes ``Instrument.check_order`` (and the tick rule for every price);
- an order whose client id the venue already has is reported, never doubled;
- leverage is clamped to what the instrument allows, and a value the venue refuses leaves the current one in force;
- every ccxt exception leaves as the platform's own error (``translating``).

The subclass talks to ccxt's implicit endpoint methods (``privatePostV5OrderCreate`` and so on) with requests it
builds itself, so each adapter sends exactly the documented parameters and nothing ccxt would add on its own, and it
reads the venue's raw strings (exact decimals) rather than ccxt's float-valued unified dicts.
"""

from __future__ import annotations

import asyncio
import time
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any, TypeVar

from elcaro.exchanges.ccxt.errors import VenueErrors, translating
from elcaro.exchanges.ccxt.numbers import from_float
from elcaro.exchanges.protocol import LimitListener, LimitStatus
from elcaro.models import Instrument, Order, Target
from elcaro.models.decimals import round_to_step
from elcaro.models.errors import ExchangeError, InvalidOrderError, ValidationError
from elcaro.models.market import BookLevel, Candle, OrderBook, Ticker

T = TypeVar("T")

PRICE_MEMORY_SECONDS = 30.0
"""How long a seen price may stand in for the market price when checking a market order's minimum value."""


def window(items: Iterable[T], stamp: Callable[[T], int], since: int | None, limit: int | None) -> list[T]:
    """The protocol's paging, oldest first: from ``since`` the first ``limit`` items, else the latest ``limit``."""
    ordered = sorted(items, key=stamp)
    if since is not None:
        ordered = [item for item in ordered if stamp(item) >= since]
    if limit is None:
        return ordered
    if limit <= 0:
        return []
    return ordered[:limit] if since is not None else ordered[-limit:]


class CcxtAdapter(ABC):
    """Base of the Bybit, Binance and HyperLiquid adapters; one instance is one account on one target."""

    def __init__(
        self,
        exchange: Any,
        target: Target,
        errors: VenueErrors,
        *,
        settle: str,
        markets: Mapping[str, Any] | None = None,
    ) -> None:
        self._exchange = exchange
        self._target = target
        self._errors = errors
        self._settle = settle
        self._instruments: dict[str, Instrument] | None = None
        self._symbols_by_id: dict[str, str] = {}
        self._loading = asyncio.Lock()
        self._prices: dict[str, tuple[Decimal, float]] = {}
        self._closed = False
        self._limit_listener: LimitListener | None = None
        if markets:
            # Markets loaded once elsewhere (another account's adapter) and handed in: no request here at all.
            exchange.set_markets(markets)

    @property
    def target(self) -> Target:
        return self._target

    @property
    def venue(self) -> str:
        return self._errors.venue

    @property
    def markets(self) -> Mapping[str, Any] | None:
        """ccxt's market table once loaded; ``create_adapter(markets=...)`` spares other accounts the load."""
        markets: Mapping[str, Any] | None = self._exchange.markets
        return markets

    # ------------------------------------------------------------------------------------------- plumbing

    async def _call(self, call: Awaitable[T]) -> T:
        """Await one ccxt coroutine; its exceptions leave as the platform's."""
        with translating(self._errors):
            return await call

    async def _request(self, endpoint: str, params: Mapping[str, Any] | None = None) -> Any:
        """Call one of ccxt's implicit endpoint methods with exactly ``params``, then report the limit headers.

        ccxt keeps the last response's headers on the exchange object; they are read right after the
        awaited call returns, before this task yields again, so they are this request's.
        """
        try:
            return await self._call(getattr(self._exchange, endpoint)(dict(params or {})))
        finally:
            self._report_limits()

    def set_limit_listener(self, listener: LimitListener | None) -> None:
        self._limit_listener = listener

    def _report_limits(self) -> None:
        listener = self._limit_listener
        headers = getattr(self._exchange, "last_response_headers", None)
        if listener is None or not headers:
            return
        lowered = {str(name).lower(): str(value) for name, value in headers.items()}
        for status in self._limit_statuses(lowered):
            listener(status)

    def _limit_statuses(self, headers: Mapping[str, str]) -> Iterable[LimitStatus]:
        """What a venue's rate-limit headers (names lower-cased) say is left; venues that send none say nothing."""
        return ()

    # ---------------------------------------------------------------------------------------- instruments

    @abstractmethod
    def _instrument_from(self, market: Mapping[str, Any]) -> Instrument | None:
        """The instrument for one ccxt market, or None for a market this adapter does not trade."""

    async def _instruments_from(self, markets: Mapping[str, Any]) -> dict[str, Instrument]:
        instruments = (self._instrument_from(market) for market in markets.values())
        return {instrument.symbol: instrument for instrument in instruments if instrument is not None}

    async def load_instruments(self, *, reload: bool = False) -> Mapping[str, Instrument]:
        if self._instruments is not None and not reload:
            return self._instruments
        async with self._loading:  # concurrent first callers share one load
            if self._instruments is None or reload:
                if reload or not self._exchange.markets:
                    await self._call(self._exchange.load_markets(reload))
                markets: Mapping[str, Any] = self._exchange.markets
                self._instruments = await self._instruments_from(markets)
                self._symbols_by_id = {markets[symbol]["id"]: symbol for symbol in self._instruments}
        return self._instruments

    async def _instrument(self, symbol: str) -> Instrument:
        instrument = (await self.load_instruments()).get(symbol)
        if instrument is None:
            message = f"{self.venue} has no {self._settle}-settled perpetual {symbol}"
            raise InvalidOrderError(message, exchange=self.venue, code="unknown_symbol")
        return instrument

    async def _market_id(self, symbol: str) -> str:
        await self._instrument(symbol)
        market_id: str = self._exchange.markets[symbol]["id"]
        return market_id

    def _symbol(self, market_id: str) -> str | None:
        """The canonical symbol of a venue's market id; None for markets this adapter does not trade."""
        return self._symbols_by_id.get(market_id)

    # ---------------------------------------------------------------------------------------------- prices

    def _note_price(self, symbol: str, value: Decimal | None) -> None:
        if value is not None and value > 0:
            self._prices[symbol] = (value, time.monotonic())

    def _note_ticker(self, ticker: Ticker) -> Ticker:
        self._note_price(ticker.symbol, ticker.mark or ticker.last)
        return ticker

    async def fetch_ticker(self, symbol: str) -> Ticker:
        return self._note_ticker(await self._fetch_ticker(symbol))

    async def fetch_tickers(self, symbols: list[str] | None = None) -> dict[str, Ticker]:
        tickers = await self._fetch_tickers(symbols)
        for ticker in tickers.values():
            self._note_ticker(ticker)
        return tickers

    @abstractmethod
    async def _fetch_ticker(self, symbol: str) -> Ticker: ...

    @abstractmethod
    async def _fetch_tickers(self, symbols: list[str] | None) -> dict[str, Ticker]: ...

    async def _market_price(self, symbol: str) -> Decimal:
        """A price to value a market order at: one seen in the last half minute, else the ticker's."""
        seen = self._prices.get(symbol)
        if seen is not None and time.monotonic() - seen[1] <= PRICE_MEMORY_SECONDS:
            return seen[0]
        ticker = await self.fetch_ticker(symbol)
        return ticker.mark or ticker.last

    # ---------------------------------------------------------------------------------------------- orders

    def _check_price(self, instrument: Instrument, value: Decimal, name: str) -> None:
        """Refuse a price the venue would refuse; a venue with more price rules adds them here."""
        if value <= 0 or value % instrument.tick_size:
            raise InvalidOrderError(
                f"{name} {value} is not a positive multiple of the tick {instrument.tick_size} for {instrument.symbol}",
                exchange=self.venue,
                code="invalid_price",
            )

    async def _check(self, instrument: Instrument, order: Order) -> None:
        """Everything ``Instrument`` knows the venue would refuse, refused before a request is spent on it."""
        for name in ("price", "trigger_price", "take_profit", "stop_loss"):
            value = getattr(order, name)
            if value is not None:
                self._check_price(instrument, value, name)
        reference = order.price or order.trigger_price or await self._market_price(order.symbol)
        try:
            # Prices were checked above by the venue's own rule; rounding only keeps check_order's tick test from
            # second-guessing it (a market price, or a HyperLiquid price whose step changes with its magnitude).
            instrument.check_order(order.qty, instrument.round_price(reference), reduce_only=order.reduce_only)
        except ValidationError as exc:
            raise InvalidOrderError(exc.reason, exchange=self.venue, code="invalid_order") from None

    def _check_amendment(
        self, instrument: Instrument, qty: Decimal | None, price: Decimal | None, trigger_price: Decimal | None
    ) -> None:
        """The rules an amendment must keep; a new size's value is checked only when a new price comes with it."""
        for name, value in (("price", price), ("trigger_price", trigger_price)):
            if value is not None:
                self._check_price(instrument, value, name)
        if qty is None:
            return
        try:
            # reduce_only skips the minimum value, which needs a price the amendment may not carry.
            instrument.check_order(qty, price or instrument.tick_size, reduce_only=price is None)
        except ValidationError as exc:
            raise InvalidOrderError(exc.reason, exchange=self.venue, code="invalid_order") from None

    async def place_order(self, order: Order) -> Order:
        """Check, send with the order's client id, and report the venue's order; a known client id is not resent."""
        instrument = await self._instrument(order.symbol)
        await self._check(instrument, order)
        try:
            return await self._submit(order, instrument)
        except ExchangeError as exc:
            if not self._is_duplicate(exc):
                raise
        return await self._resume(order, instrument)

    @abstractmethod
    async def _submit(self, order: Order, instrument: Instrument) -> Order:
        """Send a checked order and report it as the venue acknowledged it."""

    @abstractmethod
    def _is_duplicate(self, error: ExchangeError) -> bool:
        """Whether the venue refused an order because it already has one with that client id."""

    async def _resume(self, order: Order, instrument: Instrument) -> Order:
        """An order the venue already had (a retry after a lost answer): report that one instead."""
        return await self.fetch_order(order.symbol, order.client_order_id)

    @abstractmethod
    async def fetch_order(self, symbol: str, client_order_id: str) -> Order: ...

    # -------------------------------------------------------------------------------------------- leverage

    def _allowed_leverage(self, instrument: Instrument, leverage: Decimal) -> Decimal:
        """Clamped into 1..max and rounded down to the venue's step (whole numbers unless a venue says otherwise)."""
        if leverage <= 0:
            raise InvalidOrderError(f"leverage must be positive, got {leverage}", exchange=self.venue)
        clamped = min(max(leverage, Decimal(1)), instrument.max_leverage)
        return round_to_step(clamped, self._leverage_step(instrument), "down")

    def _leverage_step(self, instrument: Instrument) -> Decimal:
        return Decimal(1)

    async def set_leverage(self, symbol: str, leverage: Decimal) -> Decimal:
        """Clamp, apply, return what is in force. "Not modified" means the value is already set; a value the venue
        refuses (risk limit, open position) keeps the current leverage, which is then reported."""
        instrument = await self._instrument(symbol)
        wanted = self._allowed_leverage(instrument, leverage)
        try:
            await self._apply_leverage(instrument, wanted)
        except ExchangeError as exc:
            if self._leverage_unchanged(exc):
                return wanted
            if not self._leverage_refused(exc):
                raise
            return await self._current_leverage(instrument)
        return wanted

    @abstractmethod
    async def _apply_leverage(self, instrument: Instrument, leverage: Decimal) -> None: ...

    @abstractmethod
    def _leverage_unchanged(self, error: ExchangeError) -> bool:
        """The venue's "leverage not modified": the value asked for is already in force."""

    @abstractmethod
    def _leverage_refused(self, error: ExchangeError) -> bool:
        """The venue will not take this value now (risk limit, position size, margin mode)."""

    @abstractmethod
    async def _current_leverage(self, instrument: Instrument) -> Decimal: ...

    # --------------------------------------------------------------------------------------------- streams

    async def _watch(
        self, watch: Callable[[], Awaitable[Any]], convert: Callable[[Any], Iterable[T]]
    ) -> AsyncIterator[T]:
        """Items from one of ccxt.pro's ``watch_*`` methods, converted, until the adapter closes.

        Each call of a ccxt.pro watch method returns what arrived since the last call (its ``newUpdates`` mode).
        A dropped connection ends the stream with ``NetworkError``: callers re-subscribe (and reconcile by REST).
        """
        while not self._closed:
            try:
                with translating(self._errors):
                    batch = await watch()
            except ExchangeError:
                if self._closed:
                    return
                raise
            except asyncio.CancelledError:
                # close() cancels ccxt's pending futures; a cancellation of the consumer's own task propagates.
                task = asyncio.current_task()
                if self._closed and task is not None and not task.cancelling():
                    return
                raise
            for item in convert(batch):
                yield item

    async def watch_candles(self, symbol: str, timeframe: str) -> AsyncIterator[Candle]:
        """The venue's candle stream through ccxt.pro; the bar being built comes again on every update."""
        await self._instrument(symbol)

        def convert(rows: Any) -> Iterable[Candle]:
            for ts, open_, high, low, close, volume in rows[-1:]:
                yield Candle(int(ts), *(from_float(value) for value in (open_, high, low, close, volume)))

        async for candle in self._watch(lambda: self._exchange.watch_ohlcv(symbol, timeframe), convert):
            yield candle

    async def _watch_book(self, symbol: str, depth: int, subscribed: int | None = None) -> AsyncIterator[OrderBook]:
        """ccxt.pro keeps the streamed book in floats; levels come back through their shortest repr (exact).

        ``subscribed`` is the depth to ask the venue for, where it only offers some (None: the venue's default).
        """
        await self._instrument(symbol)

        def convert(book: Any) -> Iterable[OrderBook]:
            def levels(rows: Any) -> tuple[BookLevel, ...]:
                return tuple(BookLevel(from_float(p), from_float(q)) for p, q, *_ in rows[:depth])

            yield OrderBook(symbol, levels(book["bids"]), levels(book["asks"]), int(book.get("timestamp") or 0))

        watch = (
            (lambda: self._exchange.watch_order_book(symbol))
            if subscribed is None
            else (lambda: self._exchange.watch_order_book(symbol, subscribed))
        )
        async for book in self._watch(watch, convert):
            yield book

    @staticmethod
    def _each(batch: Any) -> Sequence[Any]:
        return batch if isinstance(batch, list) else [batch]

    async def close(self) -> None:
        """Close the HTTP session and every websocket; streams end quietly."""
        self._closed = True
        with translating(self._errors):
            await self._exchange.close()
