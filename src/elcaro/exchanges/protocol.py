"""The one adapter protocol every venue implements (paper, Bybit, Binance, HyperLiquid).

Everything above ``elcaro.exchanges`` talks to an exchange only through this protocol (wrapped by
the unified client, which adds rate limits, retries, caching and metrics once for every venue).
Adapters speak the shared models, never a library's dicts, and raise only the errors of
``elcaro.models.errors`` (``ExchangeError`` and its subclasses, with the venue's code and message).

Rules every adapter keeps:

- Symbols are canonical (``BTC/USDT:USDT``); quantities are in contracts of the instrument.
- ``place_order`` rounds nothing silently: the caller rounds with the ``Instrument`` and the
  adapter checks ``Instrument.check_order`` before anything is sent, so a refused order costs no
  request.
- ``place_order`` sends the order's ``client_order_id``; a venue that already has that id must
  never get a second order (the adapter reports the existing one instead).
- Timestamps are UTC epoch milliseconds.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Protocol, runtime_checkable

from elcaro.models import Balance, Fill, Instrument, MarginMode, Order, Position, Target, Trade
from elcaro.models.market import Candle, FundingRate, OpenInterest, OrderBook, PublicTrade, Ticker


@runtime_checkable
class MarketData(Protocol):
    """Public data: needs no credentials."""

    async def load_instruments(self, *, reload: bool = False) -> Mapping[str, Instrument]: ...

    async def fetch_ticker(self, symbol: str) -> Ticker: ...

    async def fetch_tickers(self, symbols: list[str] | None = None) -> dict[str, Ticker]: ...

    async def fetch_order_book(self, symbol: str, depth: int = 50) -> OrderBook: ...

    async def fetch_ohlcv(
        self, symbol: str, timeframe: str, *, since: int | None = None, limit: int | None = None
    ) -> list[Candle]: ...

    async def fetch_funding_rate(self, symbol: str) -> FundingRate: ...

    async def fetch_open_interest(self, symbol: str) -> OpenInterest: ...

    def watch_candles(self, symbol: str, timeframe: str) -> AsyncIterator[Candle]: ...

    def watch_trades(self, symbol: str) -> AsyncIterator[PublicTrade]: ...

    def watch_order_book(self, symbol: str, depth: int = 50) -> AsyncIterator[OrderBook]: ...


@runtime_checkable
class ExchangeAdapter(MarketData, Protocol):
    """One account on one target."""

    @property
    def target(self) -> Target: ...

    async def fetch_balance(self) -> Balance: ...

    async def fetch_positions(self, symbols: list[str] | None = None) -> list[Position]: ...

    async def fetch_open_orders(self, symbol: str | None = None) -> list[Order]: ...

    async def fetch_order(self, symbol: str, client_order_id: str) -> Order:
        """Raises ``OrderNotFoundError`` when the venue has no order with that client id."""
        ...

    async def fetch_order_history(
        self, symbol: str | None = None, *, since: int | None = None, limit: int | None = None
    ) -> list[Order]: ...

    async def fetch_fills(
        self, symbol: str | None = None, *, since: int | None = None, limit: int | None = None
    ) -> list[Fill]: ...

    async def fetch_closed_pnl(
        self, symbol: str | None = None, *, since: int | None = None, limit: int | None = None
    ) -> list[Trade]:
        """Closed position records as the venue reports them (exit reason ``EXTERNAL`` unless known)."""
        ...

    async def place_order(self, order: Order) -> Order: ...

    async def amend_order(
        self,
        symbol: str,
        client_order_id: str,
        *,
        qty: Decimal | None = None,
        price: Decimal | None = None,
        trigger_price: Decimal | None = None,
    ) -> Order: ...

    async def cancel_order(self, symbol: str, client_order_id: str) -> Order: ...

    async def cancel_all_orders(self, symbol: str | None = None) -> int:
        """Returns how many orders were canceled."""
        ...

    async def set_leverage(self, symbol: str, leverage: Decimal) -> Decimal:
        """Clamp to the instrument's maximum, apply, and return the leverage now in force."""
        ...

    async def set_margin_mode(self, symbol: str, mode: MarginMode) -> None: ...

    async def set_position_protection(
        self, symbol: str, *, take_profit: Decimal | None = None, stop_loss: Decimal | None = None
    ) -> None:
        """Set or change the whole position's TP/SL (triggered on mark price where the venue allows)."""
        ...

    def watch_orders(self) -> AsyncIterator[Order]: ...

    def watch_positions(self) -> AsyncIterator[Position]: ...

    def watch_fills(self) -> AsyncIterator[Fill]: ...

    async def close(self) -> None: ...


class Scope(StrEnum):
    ACCOUNT = "account"
    IP = "ip"


@dataclass(frozen=True, slots=True)
class LimitStatus:
    """What a response said about the limit its request counted against.

    ``remaining`` requests (or weight) are left in the venue's window, which starts again in
    ``reset_after`` seconds when the venue says. Bybit: X-Bapi-Limit-Status and
    X-Bapi-Limit-Reset-Timestamp, per account. Binance: 2400 − X-MBX-USED-WEIGHT-1M per IP, or
    300 − X-MBX-ORDER-COUNT-10S per account.
    """

    remaining: float
    reset_after: float | None = None
    scope: Scope = Scope.ACCOUNT


LimitListener = Callable[[LimitStatus], None]


@runtime_checkable
class ReportsLimits(Protocol):
    """Implemented by an adapter that reads rate-limit headers; the unified client registers its listener.

    The adapter calls the listener during the request the headers came with, in the same task, so
    the client knows which call (and so which buckets) they are about.
    """

    def set_limit_listener(self, listener: LimitListener | None) -> None: ...
