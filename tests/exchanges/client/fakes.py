"""A scripted fake venue behind the adapter protocol, to drive the client through every failure.

``FakeVenue`` is one account's orders with Bybit's ``orderLinkId`` rule: a client order id is
placed at most once, a second request with it is refused (retCode 110072). ``ScriptedAdapter``
serves the protocol from it; before each request it asks its ``faults`` source what goes wrong
this time: nothing, a refusal, a lost answer after the venue acted, a request that hangs, one that
lands late, a rate-limit header... Scripts (``then``) queue faults per method; a random source
serves the acceptance test.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections import Counter, defaultdict, deque
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal as D
from typing import Any, Protocol, TypeVar

from elcaro.exchanges.client import LimitListener, LimitStatus
from elcaro.models import (
    Balance,
    Environment,
    Exchange,
    Fill,
    Instrument,
    MarginMode,
    Order,
    OrderStatus,
    OrderType,
    Position,
    Side,
    Target,
    Trade,
    make_client_order_id,
)
from elcaro.models.errors import InvalidOrderError, NetworkError, OrderNotFoundError
from elcaro.models.market import BookLevel, Candle, FundingRate, OpenInterest, OrderBook, PublicTrade, Ticker

T = TypeVar("T")

BYBIT_DEMO = Target(Exchange.BYBIT, Environment.DEMO)
BINANCE_TESTNET = Target(Exchange.BINANCE, Environment.TESTNET)
BYBIT_PAPER = Target(Exchange.BYBIT, Environment.PAPER)
BTC = "BTC/USDT:USDT"
ETH = "ETH/USDT:USDT"
DUPLICATE_CODE = 110072


def instrument(symbol: str = BTC) -> Instrument:
    base = symbol.split("/", maxsplit=1)[0]
    return Instrument(
        symbol=symbol,
        base=base,
        quote="USDT",
        settle="USDT",
        tick_size=D("0.1"),
        qty_step=D("0.001"),
        min_qty=D("0.001"),
        min_notional=D("5"),
        max_leverage=D("100"),
    )


def limit_order(tag: object = 1, *, qty: str = "0.010", price: str = "50000.0") -> Order:
    return Order(make_client_order_id("client-test", tag), BTC, Side.BUY, OrderType.LIMIT, D(qty), D(price))


class FakeVenue:
    """One account on a pretend venue: orders by client id, placed at most once each.

    Its order query trails its book by ``query_lag`` seconds, as a real venue's does.
    """

    def __init__(self, *, query_lag: float = 0.0) -> None:
        self.query_lag = query_lag
        self.placed_at: dict[str, float] = {}
        self.orders: dict[str, Order] = {}
        self.placed: Counter[str] = Counter()
        self.refused_duplicates: Counter[str] = Counter()
        self.price = D("50000")
        self.wallet = D("10000")
        self._order_ids = itertools.count(1)

    def place(self, order: Order) -> Order:
        if order.client_order_id in self.orders:
            self.refused_duplicates[order.client_order_id] += 1
            raise InvalidOrderError("OrderLinkedID is duplicate", exchange="bybit", code=DUPLICATE_CODE)
        self.placed[order.client_order_id] += 1
        placed = order.with_update(status=OrderStatus.OPEN, exchange_order_id=str(next(self._order_ids)))
        self.orders[order.client_order_id] = placed
        self.placed_at[order.client_order_id] = asyncio.get_running_loop().time()
        self.wallet -= D(1)  # margin taken: balance reads must see it
        return placed

    def find(self, client_order_id: str) -> Order:
        order = self.orders.get(client_order_id)
        age = asyncio.get_running_loop().time() - self.placed_at.get(client_order_id, 0.0)
        if order is None or age < self.query_lag:
            raise OrderNotFoundError(f"no order {client_order_id}", exchange="bybit", code=110001)
        return order

    def open_order(self, client_order_id: str) -> Order:
        order = self.orders.get(client_order_id)
        if order is None or order.status.is_terminal:
            raise OrderNotFoundError("order not exists or too late to cancel", exchange="bybit", code=110001)
        return order

    def amend(self, client_order_id: str, qty: D | None, price: D | None, trigger_price: D | None) -> Order:
        order = self.open_order(client_order_id)
        amended = order.with_update(
            qty=qty or order.qty, price=price or order.price, trigger_price=trigger_price or order.trigger_price
        )
        self.orders[client_order_id] = amended
        return amended

    def cancel(self, client_order_id: str) -> Order:
        canceled = self.open_order(client_order_id).with_update(status=OrderStatus.CANCELED)
        self.orders[client_order_id] = canceled
        return canceled

    def fill(self, client_order_id: str) -> Order:
        order = self.orders[client_order_id]
        filled = order.with_update(status=OrderStatus.FILLED, filled_qty=order.qty, avg_fill_price=order.price)
        self.orders[client_order_id] = filled
        return filled


class Fault(Protocol):
    async def run(self, adapter: ScriptedAdapter, apply: Callable[[], Any]) -> Any:
        """Serve one request whose effect on the venue is ``apply()``."""
        ...


@dataclass(frozen=True)
class Fail:
    """Refused, or lost on the way: the venue never acts."""

    error: Exception

    async def run(self, adapter: ScriptedAdapter, apply: Callable[[], Any]) -> Any:
        raise self.error


@dataclass(frozen=True)
class LoseAnswer:
    """The venue acts; the answer is lost on the way back."""

    error: Exception = field(default_factory=lambda: NetworkError("connection reset", exchange="bybit"))

    async def run(self, adapter: ScriptedAdapter, apply: Callable[[], Any]) -> Any:
        apply()
        raise self.error


@dataclass(frozen=True)
class Hang:
    """No answer ever; with ``applied`` the venue acted first."""

    applied: bool = False

    async def run(self, adapter: ScriptedAdapter, apply: Callable[[], Any]) -> Any:
        if self.applied:
            apply()
        await asyncio.Event().wait()


@dataclass(frozen=True)
class LandLate:
    """The client hears of a dropped connection now; the request reaches the venue ``after`` seconds later."""

    after: float

    async def run(self, adapter: ScriptedAdapter, apply: Callable[[], Any]) -> Any:
        async def land() -> None:
            await asyncio.sleep(self.after)
            with contextlib.suppress(InvalidOrderError):  # refused as a duplicate: exactly the venue's job
                apply()

        adapter.late.append(asyncio.ensure_future(land()))
        raise NetworkError("connection dropped", exchange="bybit")


@dataclass(frozen=True)
class Slow:
    """The venue answers at once; the answer takes ``seconds`` to arrive."""

    seconds: float

    async def run(self, adapter: ScriptedAdapter, apply: Callable[[], Any]) -> Any:
        result = apply()
        await asyncio.sleep(self.seconds)
        return result


@dataclass(frozen=True)
class Report:
    """The response carries rate-limit headers."""

    status: LimitStatus

    async def run(self, adapter: ScriptedAdapter, apply: Callable[[], Any]) -> Any:
        if adapter.listener is not None:
            adapter.listener(self.status)
        return apply()


@dataclass(frozen=True)
class Then:
    """Answer normally, then let something happen on the venue (a fill, say)."""

    event: Callable[[], object]

    async def run(self, adapter: ScriptedAdapter, apply: Callable[[], Any]) -> Any:
        result = apply()
        self.event()
        return result


FaultSource = Callable[[str], Fault | None]


class ScriptedAdapter:
    """``ExchangeAdapter`` over a ``FakeVenue``, failing as scripted.

    With ``report_duplicates`` it keeps the protocol's rule (a duplicate client id is answered with
    the existing order); without, it passes the venue's refusal on, as a careless adapter would.
    """

    def __init__(
        self,
        venue: FakeVenue | None = None,
        target: Target = BYBIT_DEMO,
        *,
        faults: FaultSource | None = None,
        report_duplicates: bool = False,
    ) -> None:
        self.venue = venue or FakeVenue()
        self._target = target
        self._faults = faults
        self.report_duplicates = report_duplicates
        self.script: defaultdict[str, deque[Fault]] = defaultdict(deque)
        self.calls: list[str] = []
        self.sent: list[tuple[str, Any]] = []
        self.instrument_loads: list[bool] = []
        self.instruments = {BTC: instrument(BTC), ETH: instrument(ETH)}
        self.listener: LimitListener | None = None
        self.late: list[asyncio.Future[None]] = []
        self.closed = False
        self.events: defaultdict[str, asyncio.Queue[Any]] = defaultdict(asyncio.Queue)
        self.stream_opens: Counter[str] = Counter()

    def then(self, method: str, *faults: Fault) -> ScriptedAdapter:
        self.script[method].extend(faults)
        return self

    def count(self, method: str) -> int:
        return self.calls.count(method)

    async def _serve(self, method: str, apply: Callable[[], T], argument: object = None) -> T:
        self.calls.append(method)
        self.sent.append((method, argument))
        fault = self.script[method].popleft() if self.script[method] else None
        if fault is None and self._faults is not None:
            fault = self._faults(method)
        if fault is None:
            return apply()
        result: T = await fault.run(self, apply)
        return result

    async def _stream(self, name: str) -> AsyncIterator[Any]:
        """Yields what a test queues; a queued exception ends the stream with it, as a dropped connection does."""
        self.stream_opens[name] += 1
        while True:
            event = await self.events[name].get()
            if isinstance(event, Exception):
                raise event
            yield event

    # ------------------------------------------------------------------ protocol

    @property
    def target(self) -> Target:
        return self._target

    def set_limit_listener(self, listener: LimitListener | None) -> None:
        self.listener = listener

    async def load_instruments(self, *, reload: bool = False) -> Mapping[str, Instrument]:
        self.instrument_loads.append(reload)
        return await self._serve("load_instruments", lambda: dict(self.instruments))

    def _ticker(self, symbol: str) -> Ticker:
        price = self.venue.price
        return Ticker(symbol, price, price - 1, price + 1, price, price, D(1000), D(50_000_000), 0)

    async def fetch_ticker(self, symbol: str) -> Ticker:
        return await self._serve("fetch_ticker", lambda: self._ticker(symbol))

    async def fetch_tickers(self, symbols: list[str] | None = None) -> dict[str, Ticker]:
        wanted = list(self.instruments) if symbols is None else symbols
        return await self._serve("fetch_tickers", lambda: {symbol: self._ticker(symbol) for symbol in wanted})

    async def fetch_order_book(self, symbol: str, depth: int = 50) -> OrderBook:
        price = self.venue.price
        book = OrderBook(symbol, (BookLevel(price - 1, D(1)),), (BookLevel(price + 1, D(1)),), 0)
        return await self._serve("fetch_order_book", lambda: book)

    async def fetch_ohlcv(
        self, symbol: str, timeframe: str, *, since: int | None = None, limit: int | None = None
    ) -> list[Candle]:
        price = self.venue.price
        return await self._serve("fetch_ohlcv", lambda: [Candle(0, price, price, price, price, D(1))])

    async def fetch_funding_rate(self, symbol: str) -> FundingRate:
        return await self._serve("fetch_funding_rate", lambda: FundingRate(symbol, D("0.0001"), None, 0))

    async def fetch_open_interest(self, symbol: str) -> OpenInterest:
        return await self._serve("fetch_open_interest", lambda: OpenInterest(symbol, D(100), None, 0))

    def watch_candles(self, symbol: str, timeframe: str) -> AsyncIterator[Candle]:
        return self._stream("candles")

    def watch_trades(self, symbol: str) -> AsyncIterator[PublicTrade]:
        return self._stream("trades")

    def watch_order_book(self, symbol: str, depth: int = 50) -> AsyncIterator[OrderBook]:
        return self._stream("books")

    async def fetch_balance(self) -> Balance:
        return await self._serve("fetch_balance", lambda: Balance("USDT", self.venue.wallet, self.venue.wallet))

    async def fetch_positions(self, symbols: list[str] | None = None) -> list[Position]:
        return await self._serve("fetch_positions", list)

    async def fetch_open_orders(self, symbol: str | None = None) -> list[Order]:
        return await self._serve(
            "fetch_open_orders", lambda: [o for o in self.venue.orders.values() if o.is_open], symbol
        )

    async def fetch_order(self, symbol: str, client_order_id: str) -> Order:
        return await self._serve("fetch_order", lambda: self.venue.find(client_order_id), client_order_id)

    async def fetch_order_history(
        self, symbol: str | None = None, *, since: int | None = None, limit: int | None = None
    ) -> list[Order]:
        return await self._serve("fetch_order_history", lambda: list(self.venue.orders.values()))

    async def fetch_fills(
        self, symbol: str | None = None, *, since: int | None = None, limit: int | None = None
    ) -> list[Fill]:
        return await self._serve("fetch_fills", list)

    async def fetch_closed_pnl(
        self, symbol: str | None = None, *, since: int | None = None, limit: int | None = None
    ) -> list[Trade]:
        return await self._serve("fetch_closed_pnl", list)

    async def place_order(self, order: Order) -> Order:
        def place() -> Order:
            try:
                return self.venue.place(order)
            except InvalidOrderError as refusal:
                if self.report_duplicates and refusal.code == DUPLICATE_CODE:
                    return self.venue.orders[order.client_order_id]
                raise

        return await self._serve("place_order", place, order.client_order_id)

    async def amend_order(
        self,
        symbol: str,
        client_order_id: str,
        *,
        qty: D | None = None,
        price: D | None = None,
        trigger_price: D | None = None,
    ) -> Order:
        return await self._serve(
            "amend_order", lambda: self.venue.amend(client_order_id, qty, price, trigger_price), client_order_id
        )

    async def cancel_order(self, symbol: str, client_order_id: str) -> Order:
        return await self._serve("cancel_order", lambda: self.venue.cancel(client_order_id), client_order_id)

    async def cancel_all_orders(self, symbol: str | None = None) -> int:
        def cancel_all() -> int:
            open_ids = [o.client_order_id for o in self.venue.orders.values() if o.is_open]
            for client_order_id in open_ids:
                self.venue.cancel(client_order_id)
            return len(open_ids)

        return await self._serve("cancel_all_orders", cancel_all, symbol)

    async def set_leverage(self, symbol: str, leverage: D) -> D:
        return await self._serve("set_leverage", lambda: min(leverage, self.instruments[symbol].max_leverage))

    async def set_margin_mode(self, symbol: str, mode: MarginMode) -> None:
        await self._serve("set_margin_mode", lambda: None)

    async def set_position_protection(
        self, symbol: str, *, take_profit: D | None = None, stop_loss: D | None = None
    ) -> None:
        await self._serve("set_position_protection", lambda: None)

    def watch_orders(self) -> AsyncIterator[Order]:
        return self._stream("orders")

    def watch_positions(self) -> AsyncIterator[Position]:
        return self._stream("positions")

    def watch_fills(self) -> AsyncIterator[Fill]:
        return self._stream("fills")

    async def close(self) -> None:
        self.closed = True


async def settle(adapter: ScriptedAdapter) -> None:
    """Let every late-landing request reach the venue."""
    await asyncio.gather(*adapter.late)
