"""The unified exchange client: one account on one target, with the venue's manners kept once for all.

Every caller above ``elcaro.exchanges`` reaches a venue through this class, so rate limits,
retries, idempotent order placement, caching and metrics are the same for Bybit, Binance,
HyperLiquid and the paper exchange. It speaks the adapter protocol's vocabulary (it *is* an
``ExchangeAdapter``), plus ``instrument`` and ``conform``.

Writes and the unknown. A request that timed out or lost its connection (``NetworkError``) may
have been carried out. So a write is never simply sent again: the venue is first asked, by the
order's client id, whether it took effect; only when it says no is the write sent again, with
the same client id, so that even a first request still in flight cannot make a second order (the
venue refuses a duplicate id). A refusal is never sent again, but one that may hide an effect is
checked by a look-up first: after an unknown attempt any refusal may be the venue refusing that
duplicate, or the margin the first attempt already used; and an order refused as invalid or
unfunded may have been placed by an earlier call that ended unknown, so an order refusal is
always checked. Whenever a call ends while an attempt's outcome is still unknown, its
``NetworkError`` is raised: the order may exist, and the caller must not act as if it did not
(placing it again with the same client id is always safe). A refusal is reported only when the
venue's own book confirms it.
"""

from __future__ import annotations

import asyncio
import functools
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from decimal import Decimal
from types import MappingProxyType
from typing import Any, Concatenate, Final, ParamSpec, TypeVar

from elcaro.exchanges.client.cache import TtlCache
from elcaro.exchanges.client.metrics import ClientMetrics, metrics_for
from elcaro.exchanges.client.ratelimit import AccountLimiter, RateLimiter, WouldPassDeadline
from elcaro.exchanges.client.retry import TRANSIENT, RetryPolicy
from elcaro.exchanges.client.timing import Timing
from elcaro.exchanges.protocol import ExchangeAdapter, LimitStatus, ReportsLimits
from elcaro.marketdata import reconnecting
from elcaro.models import Balance, Fill, Instrument, MarginMode, Order, Position, Target, Trade
from elcaro.models.errors import (
    ExchangeError,
    InsufficientFundsError,
    InvalidOrderError,
    NetworkError,
    NotFoundError,
    OrderNotFoundError,
    RateLimitedError,
    ValidationError,
)
from elcaro.models.market import Candle, FundingRate, OpenInterest, OrderBook, PublicTrade, Ticker

T = TypeVar("T")
P = ParamSpec("P")

# The method of the request under way in this task, for rate-limit headers an adapter reports.
_current_method: ContextVar[str | None] = ContextVar("elcaro_exchange_method", default=None)

# Words of a venue refusal that blames an instrument rule (tick, step, minimum): the rules we
# rounded with may have changed since they were loaded.
_STALE_RULE: Final = re.compile(
    r"(?i)\b(qty|quantity|price|tick|step|precision|lot[ _-]?size|notional|min(imum)?[ _-]?(qty|size|amount|order))"
)


def _looks_like_stale_rule(error: InvalidOrderError) -> bool:
    return bool(_STALE_RULE.search(f"{error} {error.venue_message or ''}"))


@dataclass(frozen=True, slots=True)
class CachePolicy:
    instruments_ttl: float = 3600.0
    instruments_refresh_on_miss_after: float = 60.0
    """An unknown symbol reloads the instruments (a new listing), but not more often than this (a typo)."""
    ticker_ttl: float = 1.0
    balance_ttl: float = 3.0
    """Also forgotten at every write on the account."""


@dataclass(frozen=True, slots=True)
class ClientSettings:
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    cache: CachePolicy = field(default_factory=CachePolicy)


class SharedTickers:
    """Tickers of one target, cached once for every account a pool holds there: prices are public, and a signal
    fanned out to a thousand accounts needs one ticker request, not a thousand."""

    def __init__(self, policy: CachePolicy, clock: Callable[[], float]) -> None:
        self.by_symbol: TtlCache[str, Ticker] = TtlCache(policy.ticker_ttl, clock)
        self.sets: TtlCache[tuple[str, ...] | None, dict[str, Ticker]] = TtlCache(policy.ticker_ttl, clock)


def _in_use(
    method: Callable[Concatenate[ExchangeClient, P], Coroutine[Any, Any, T]],
) -> Callable[Concatenate[ExchangeClient, P], Coroutine[Any, Any, T]]:
    """Refuse calls on a closed client and keep it from counting as idle while the call runs."""

    @functools.wraps(method)
    async def call(self: ExchangeClient, /, *args: P.args, **kwargs: P.kwargs) -> T:
        self._enter()
        try:
            return await method(self, *args, **kwargs)
        finally:
            self._leave()

    return call


class ExchangeClient:
    """One account on one target, on top of its adapter. See the module docstring for the write rules.

    ``limiter`` is this account's view of the process's rate limiter (the pool shares one limiter
    among all its clients, as the venue shares one IP budget among all accounts); a client made
    alone gets a limiter of its own.
    """

    def __init__(
        self,
        adapter: ExchangeAdapter,
        *,
        limiter: AccountLimiter | None = None,
        settings: ClientSettings | None = None,
        metrics: ClientMetrics | None = None,
        timing: Timing | None = None,
        tickers: SharedTickers | None = None,
    ) -> None:
        self._adapter = adapter
        self._target = adapter.target
        self._timing = timing or Timing()
        self._settings = settings or ClientSettings()
        self._retry = self._settings.retry
        self._limiter = limiter or RateLimiter(timing=self._timing).for_account(self._target, None)
        self._metrics = metrics or metrics_for()
        self._venue = (self._target.exchange.value, self._target.environment.value)
        clock = self._timing.clock
        cache = self._settings.cache
        self._instruments: TtlCache[str, dict[str, Instrument]] = TtlCache(
            cache.instruments_ttl, clock, on_lookup=self._counter("instruments")
        )
        self._instruments_reload = False
        self._instruments_loaded_at = clock()
        shared = tickers or SharedTickers(cache, clock)
        self._tickers, self._ticker_sets = shared.by_symbol, shared.sets
        self._count_ticker, self._count_tickers = self._counter("ticker"), self._counter("tickers")
        self._balance: TtlCache[str, Balance] = TtlCache(cache.balance_ttl, clock, on_lookup=self._counter("balance"))
        self._active = 0
        self._last_used = clock()
        self._closed = False
        if isinstance(adapter, ReportsLimits):
            adapter.set_limit_listener(self._on_limit_status)

    @property
    def target(self) -> Target:
        return self._target

    @property
    def closed(self) -> bool:
        return self._closed

    def idle_seconds(self) -> float | None:
        """Seconds since the last call or stream ended; ``None`` while one is under way."""
        return None if self._active else self._timing.clock() - self._last_used

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if isinstance(self._adapter, ReportsLimits):
            self._adapter.set_limit_listener(None)
        await self._adapter.close()

    # ------------------------------------------------------------------------------ instruments

    @_in_use
    async def load_instruments(self, *, reload: bool = False) -> Mapping[str, Instrument]:
        if reload:
            self._instruments.invalidate()
        return MappingProxyType(await self._instruments.get("all", self._fetch_instruments))

    @_in_use
    async def instrument(self, symbol: str) -> Instrument:
        """The rules of ``symbol``; raises ``NotFoundError`` when the venue does not list it."""
        found = (await self.load_instruments()).get(symbol)
        if found is None:
            age = self._timing.clock() - self._instruments_loaded_at
            if age >= self._settings.cache.instruments_refresh_on_miss_after:
                found = (await self.load_instruments(reload=True)).get(symbol)
        if found is None:
            raise NotFoundError(f"{self._target} has no instrument {symbol}")
        return found

    @_in_use
    async def conform(self, order: Order, *, reference_price: Decimal | None = None) -> Order:
        """``order`` rounded to its instrument — quantity down, prices to the nearest tick — and checked.

        Raises ``ValidationError`` (with a reason a trader can act on) for what the venue would
        refuse. A market order's value is checked at ``reference_price``, or at the last price.
        """
        instrument = await self.instrument(order.symbol)

        def tick(price: Decimal | None) -> Decimal | None:
            return None if price is None else instrument.round_price(price)

        qty = instrument.round_qty(order.qty)
        if qty < instrument.min_qty:  # name what the trader asked for, not the zero rounding made of it
            raise ValidationError(
                f"quantity {order.qty} is below the minimum {instrument.min_qty} for {order.symbol}", field="qty"
            )
        price, trigger = tick(order.price), tick(order.trigger_price)
        valued_at = price or trigger or reference_price or (await self.fetch_ticker(order.symbol)).last
        instrument.check_order(qty, instrument.round_price(valued_at), reduce_only=order.reduce_only)
        return order.with_update(
            qty=qty,
            price=price,
            trigger_price=trigger,
            take_profit=tick(order.take_profit),
            stop_loss=tick(order.stop_loss),
        )

    async def _fetch_instruments(self) -> dict[str, Instrument]:
        # Every load after the first is a refresh (expired or stale): the adapter's own copy will not do.
        reload, self._instruments_reload = self._instruments_reload, True
        instruments = await self._retrying("load_instruments", lambda: self._adapter.load_instruments(reload=reload))
        self._instruments_loaded_at = self._timing.clock()
        return dict(instruments)

    # ------------------------------------------------------------------------------ market data

    @_in_use
    async def fetch_ticker(self, symbol: str) -> Ticker:
        return await self._tickers.get(
            symbol,
            lambda: self._retrying("fetch_ticker", lambda: self._adapter.fetch_ticker(symbol)),
            on_lookup=self._count_ticker,
        )

    @_in_use
    async def fetch_tickers(self, symbols: list[str] | None = None) -> dict[str, Ticker]:
        key = None if symbols is None else tuple(sorted(set(symbols)))
        tickers = await self._ticker_sets.get(key, lambda: self._fetch_tickers(symbols), on_lookup=self._count_tickers)
        return dict(tickers)  # a copy: the cached one is shared

    async def _fetch_tickers(self, symbols: list[str] | None) -> dict[str, Ticker]:
        tickers = await self._retrying(
            "fetch_tickers", lambda: self._adapter.fetch_tickers(symbols), all_symbols=symbols is None
        )
        for symbol, ticker in tickers.items():
            self._tickers.put(symbol, ticker)
        return tickers

    @_in_use
    async def fetch_order_book(self, symbol: str, depth: int = 50) -> OrderBook:
        return await self._retrying("fetch_order_book", lambda: self._adapter.fetch_order_book(symbol, depth))

    @_in_use
    async def fetch_ohlcv(
        self, symbol: str, timeframe: str, *, since: int | None = None, limit: int | None = None
    ) -> list[Candle]:
        return await self._retrying(
            "fetch_ohlcv", lambda: self._adapter.fetch_ohlcv(symbol, timeframe, since=since, limit=limit)
        )

    @_in_use
    async def fetch_funding_rate(self, symbol: str) -> FundingRate:
        return await self._retrying("fetch_funding_rate", lambda: self._adapter.fetch_funding_rate(symbol))

    @_in_use
    async def fetch_open_interest(self, symbol: str) -> OpenInterest:
        return await self._retrying("fetch_open_interest", lambda: self._adapter.fetch_open_interest(symbol))

    def watch_candles(self, symbol: str, timeframe: str) -> AsyncIterator[Candle]:
        return self._stream(lambda: self._adapter.watch_candles(symbol, timeframe))

    def watch_trades(self, symbol: str) -> AsyncIterator[PublicTrade]:
        return self._stream(lambda: self._adapter.watch_trades(symbol))

    def watch_order_book(self, symbol: str, depth: int = 50) -> AsyncIterator[OrderBook]:
        return self._stream(lambda: self._adapter.watch_order_book(symbol, depth))

    # ------------------------------------------------------------------------------ account reads
    # Positions, orders and fills are never cached nor shared between callers: a caller who has
    # just placed an order must not be answered by a request that left before it.

    @_in_use
    async def fetch_balance(self) -> Balance:
        return await self._balance.get("balance", lambda: self._retrying("fetch_balance", self._adapter.fetch_balance))

    @_in_use
    async def fetch_positions(self, symbols: list[str] | None = None) -> list[Position]:
        return await self._retrying(
            "fetch_positions", lambda: self._adapter.fetch_positions(symbols), all_symbols=symbols is None
        )

    @_in_use
    async def fetch_open_orders(self, symbol: str | None = None) -> list[Order]:
        return await self._retrying(
            "fetch_open_orders", lambda: self._adapter.fetch_open_orders(symbol), all_symbols=symbol is None
        )

    @_in_use
    async def fetch_order(self, symbol: str, client_order_id: str) -> Order:
        return await self._retrying("fetch_order", lambda: self._adapter.fetch_order(symbol, client_order_id))

    @_in_use
    async def fetch_order_history(
        self, symbol: str | None = None, *, since: int | None = None, limit: int | None = None
    ) -> list[Order]:
        return await self._retrying(
            "fetch_order_history",
            lambda: self._adapter.fetch_order_history(symbol, since=since, limit=limit),
            all_symbols=symbol is None,
        )

    @_in_use
    async def fetch_fills(
        self, symbol: str | None = None, *, since: int | None = None, limit: int | None = None
    ) -> list[Fill]:
        return await self._retrying(
            "fetch_fills",
            lambda: self._adapter.fetch_fills(symbol, since=since, limit=limit),
            all_symbols=symbol is None,
        )

    @_in_use
    async def fetch_closed_pnl(
        self, symbol: str | None = None, *, since: int | None = None, limit: int | None = None
    ) -> list[Trade]:
        return await self._retrying(
            "fetch_closed_pnl",
            lambda: self._adapter.fetch_closed_pnl(symbol, since=since, limit=limit),
            all_symbols=symbol is None,
        )

    def watch_orders(self) -> AsyncIterator[Order]:
        return self._stream(self._adapter.watch_orders)

    def watch_positions(self) -> AsyncIterator[Position]:
        return self._stream(self._adapter.watch_positions)

    def watch_fills(self) -> AsyncIterator[Fill]:
        return self._stream(self._adapter.watch_fills)

    # ------------------------------------------------------------------------------ writes

    @_in_use
    async def place_order(self, order: Order) -> Order:
        """Place ``order`` once: see the module docstring for what happens when an answer is lost."""
        symbol, client_order_id = order.symbol, order.client_order_id

        async def placed(deadline: float) -> Order | None:
            try:
                return await self._lookup(symbol, client_order_id, deadline)
            except OrderNotFoundError:
                return None

        # A refusal is looked up too: an adapter may pass on the venue's refusal of a client id it
        # already holds (placed by an earlier call that ended unknown) instead of reporting that order.
        return await self._write(
            "place_order",
            lambda: self._adapter.place_order(order),
            placed,
            recover_on=(InvalidOrderError, InsufficientFundsError),
        )

    @_in_use
    async def amend_order(
        self,
        symbol: str,
        client_order_id: str,
        *,
        qty: Decimal | None = None,
        price: Decimal | None = None,
        trigger_price: Decimal | None = None,
    ) -> Order:
        """Amend an open order. After a lost answer it is looked up and amended again only if the change is missing."""

        async def amended(deadline: float) -> Order | None:
            order = await self._lookup(symbol, client_order_id, deadline)
            wanted = ((qty, order.qty), (price, order.price), (trigger_price, order.trigger_price))
            if all(want is None or want == have for want, have in wanted):
                return order
            if order.status.is_terminal:
                raise InvalidOrderError(
                    f"order {client_order_id} is {order.status}: too late to amend",
                    exchange=self._target.exchange.value,
                )
            return None

        return await self._write(
            "amend_order",
            lambda: self._adapter.amend_order(
                symbol, client_order_id, qty=qty, price=price, trigger_price=trigger_price
            ),
            amended,
        )

    @_in_use
    async def cancel_order(self, symbol: str, client_order_id: str) -> Order:
        """Cancel, idempotently: an order that is already canceled or filled is returned as it is.

        A venue answers "not found" for an order it no longer holds open — canceled by an earlier
        attempt whose answer was lost, or filled — so that answer is checked with a look-up.
        """

        async def closed(deadline: float) -> Order | None:
            order = await self._lookup(symbol, client_order_id, deadline)
            return order if order.status.is_terminal else None

        return await self._write(
            "cancel_order",
            lambda: self._adapter.cancel_order(symbol, client_order_id),
            closed,
            recover_on=(OrderNotFoundError,),
        )

    # The settings below are absolute ("leverage 10", "cancel all"): repeating one changes nothing,
    # so they are retried like reads. After a retry, cancel_all_orders counts only what the last
    # attempt canceled.

    @_in_use
    async def cancel_all_orders(self, symbol: str | None = None) -> int:
        return await self._setting(
            "cancel_all_orders", lambda: self._adapter.cancel_all_orders(symbol), all_symbols=symbol is None
        )

    @_in_use
    async def set_leverage(self, symbol: str, leverage: Decimal) -> Decimal:
        return await self._setting("set_leverage", lambda: self._adapter.set_leverage(symbol, leverage))

    @_in_use
    async def set_margin_mode(self, symbol: str, mode: MarginMode) -> None:
        await self._setting("set_margin_mode", lambda: self._adapter.set_margin_mode(symbol, mode))

    @_in_use
    async def set_position_protection(
        self, symbol: str, *, take_profit: Decimal | None = None, stop_loss: Decimal | None = None
    ) -> None:
        await self._setting(
            "set_position_protection",
            lambda: self._adapter.set_position_protection(symbol, take_profit=take_profit, stop_loss=stop_loss),
        )

    # ------------------------------------------------------------------------------ machinery

    async def _setting(self, method: str, send: Callable[[], Awaitable[T]], *, all_symbols: bool = False) -> T:
        self._balance.invalidate()
        try:
            return await self._retrying(method, send, all_symbols=all_symbols)
        finally:
            self._balance.invalidate()

    async def _lookup(self, symbol: str, client_order_id: str, deadline: float) -> Order:
        return await self._retrying(
            "fetch_order", lambda: self._adapter.fetch_order(symbol, client_order_id), deadline=deadline
        )

    async def _write(
        self,
        method: str,
        send: Callable[[], Awaitable[T]],
        took_effect: Callable[[float], Awaitable[T | None]],
        *,
        recover_on: tuple[type[ExchangeError], ...] = (),
    ) -> T:
        """Send a write that must take effect once.

        ``took_effect(deadline)`` asks the venue: it returns the result if the write is in effect,
        ``None`` if it is not (so it may be sent again), or raises a definitive answer. It is asked
        after the back-off that follows an attempt whose outcome is unknown, and after a first
        back-off when a refusal follows such an attempt or is of a type in ``recover_on``.
        """
        deadline = self._deadline()
        self._balance.invalidate()
        try:
            failures = 0
            unknown: NetworkError | None = None  # an attempt of this call that may have taken effect
            failure: ExchangeError | None = None
            while True:
                try:
                    return await self._request(method, send, deadline)
                except WouldPassDeadline as late:
                    raise unknown or failure or self._too_late(method, late) from None
                except TRANSIENT as error:
                    failure = error
                    if isinstance(error, NetworkError):
                        unknown = error
                    failures += 1
                    if not await self._wait_to_retry(method, error, failures, deadline):
                        raise unknown or error  # noqa: B904 - the unknown outcome is the news; this error is its context
                    if error is unknown:
                        result = await self._recover(method, took_effect, deadline, error)
                        if result is not None:
                            return result
                except ExchangeError as refusal:
                    if unknown is None and not isinstance(refusal, recover_on):
                        raise
                    await self._let_the_venue_catch_up(refusal, deadline)
                    result = await self._recover(method, took_effect, deadline, unknown or refusal)
                    if result is None:
                        # Not in effect, as far as the venue's query can tell yet; after an unknown
                        # attempt that is not proof, so the outcome stays unknown.
                        raise unknown or refusal  # noqa: B904 - the refusal is the context, not the news
                    return result
        finally:
            self._balance.invalidate()

    async def _recover(
        self,
        method: str,
        took_effect: Callable[[float], Awaitable[T | None]],
        deadline: float,
        unanswered: ExchangeError,
    ) -> T | None:
        """Ask whether a write took effect; if the venue cannot say in time, ``unanswered`` is the answer."""
        try:
            result = await took_effect(deadline)
        except TRANSIENT as error:
            raise unanswered from error
        if result is not None:
            self._metrics.recovered.labels(*self._venue, method).inc()
        return result

    async def _retrying(
        self,
        method: str,
        send: Callable[[], Awaitable[T]],
        *,
        deadline: float | None = None,
        all_symbols: bool = False,
    ) -> T:
        """A request that is safe to repeat, repeated after transient errors within the deadline."""
        deadline = self._deadline() if deadline is None else deadline
        failures = 0
        last: ExchangeError | None = None
        while True:
            try:
                return await self._request(method, send, deadline, all_symbols=all_symbols)
            except WouldPassDeadline as late:
                raise last or self._too_late(method, late) from None
            except TRANSIENT as error:
                last = error
                failures += 1
                if not await self._wait_to_retry(method, error, failures, deadline):
                    raise

    async def _request(
        self, method: str, send: Callable[[], Awaitable[T]], deadline: float, *, all_symbols: bool = False
    ) -> T:
        """One request: wait for its rate-limit buckets, send it under a timeout, count what happened.

        Raises ``WouldPassDeadline`` without sending when no time is left for it.
        """
        waits = await self._limiter.acquire(method, all_symbols=all_symbols, deadline=deadline)
        for bucket, seconds in waits:
            self._metrics.rate_limit_wait_seconds.labels(*self._venue, bucket).observe(seconds)
        clock = self._timing.clock
        start = clock()
        timeout = min(self._retry.request_timeout, deadline - start)
        if timeout <= 0:
            raise WouldPassDeadline(0.0)
        token = _current_method.set(method)
        try:
            async with asyncio.timeout(timeout):
                return await send()
        except TimeoutError:
            lost = NetworkError(
                f"{self._target} did not answer {method} within {timeout:.3g} s", exchange=self._venue[0]
            )
            self._count_error(method, lost)
            raise lost from None
        except Exception as error:
            self._count_error(method, error)
            if isinstance(error, RateLimitedError):
                self._limiter.penalize(method, error)
            elif isinstance(error, InvalidOrderError) and _looks_like_stale_rule(error):
                self._instruments.invalidate()
            raise
        finally:
            _current_method.reset(token)
            self._metrics.request_seconds.labels(*self._venue, method).observe(clock() - start)

    async def _wait_to_retry(self, method: str, error: ExchangeError, failures: int, deadline: float) -> bool:
        """Back off before attempt ``failures + 1``; False when attempts or time have run out."""
        if failures >= self._retry.attempts:
            return False
        delay = self._retry.delay(failures, error, self._timing.random())
        if self._timing.clock() + delay >= deadline:
            return False
        self._metrics.retries.labels(*self._venue, method, type(error).__name__).inc()
        await self._timing.sleep(delay)
        return True

    async def _let_the_venue_catch_up(self, refusal: ExchangeError, deadline: float) -> None:
        """Wait a first back-off before a look-up prompted by a refusal.

        A venue's order query trails its book by a moment: an order placed just before (by a
        request that landed late) may not show yet.
        """
        delay = self._retry.delay(1, refusal, self._timing.random())
        if self._timing.clock() + delay < deadline:
            await self._timing.sleep(delay)

    def _too_late(self, method: str, late: WouldPassDeadline) -> RateLimitedError:
        error = RateLimitedError(
            f"{self._target}: the rate limit would hold {method} past its deadline",
            retry_after=late.wait,
            exchange=self._venue[0],
            code="client",
        )
        self._count_error(method, error)
        return error

    def _deadline(self) -> float:
        return self._timing.clock() + self._retry.deadline

    def _count_error(self, method: str, error: Exception) -> None:
        code = getattr(error, "code", None)
        labels = (*self._venue, method, type(error).__name__, "" if code is None else str(code))
        self._metrics.errors.labels(*labels).inc()

    def _counter(self, cache: str) -> Callable[[bool], None]:
        hits = self._metrics.cache_lookups.labels(*self._venue, cache, "hit")
        misses = self._metrics.cache_lookups.labels(*self._venue, cache, "miss")
        return lambda hit: (hits if hit else misses).inc()

    def _on_limit_status(self, status: LimitStatus) -> None:
        method = _current_method.get()
        if method is not None:
            self._limiter.observe(method, status)

    async def _stream(self, open_stream: Callable[[], AsyncIterator[T]]) -> AsyncIterator[T]:
        """The adapter's stream, subscribed again after a dropped connection or an outage.

        Waits between attempts grow as for reads (``reconnecting``), and reset once an item
        arrives; an error that is not transient (a bad key) ends the stream. A consumer should
        reconcile by REST after a gap: updates sent while the stream was down are not replayed.
        """
        self._enter()
        source: AsyncIterator[T] | None = None

        async def next_item() -> T:
            nonlocal source
            if source is None:
                source = open_stream()
            try:
                return await anext(source)
            except StopAsyncIteration:
                raise _StreamEnded from None
            except Exception:
                await _close(source)
                source = None
                raise

        policy = self._settings.retry
        try:
            async for item in reconnecting(
                next_item,
                backoff_initial=policy.backoff_initial,
                backoff_max=policy.backoff_max,
                jitter=policy.jitter,
                is_retryable=lambda error: isinstance(error, TRANSIENT),
                sleep=self._timing.sleep,
                rng=self._timing.random,
            ):
                yield item
        except _StreamEnded:
            return
        finally:
            self._leave()
            if source is not None:
                await _close(source)

    def _enter(self) -> None:
        if self._closed:
            raise ExchangeError(f"the client for {self._target} is closed", exchange=self._venue[0])
        self._active += 1

    def _leave(self) -> None:
        self._active -= 1
        self._last_used = self._timing.clock()


class _StreamEnded(Exception):
    """The adapter's stream finished (the adapter closed): not an error to reconnect after."""


async def _close(source: AsyncIterator[Any]) -> None:
    close = getattr(source, "aclose", None)
    if close is not None:
        await close()
