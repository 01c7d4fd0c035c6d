"""The paper exchange: an in-process simulated derivatives venue (linear perpetuals, one-way positions).

One engine is one venue: instruments and their prices are shared, accounts (keyed by any string)
are not. It is driven from outside: ``update_mark`` / ``apply_candle`` move prices, trading calls
act at the current prices, and time is whatever the injected clock says, so the same calls always
give the same results. Every price and candle it is given, and every fill, also goes into one-minute
bars, so the venue has candles of any timeframe whatever drives it (a replay, a synthetic walk, a live feed).

What happens when a price moves, in this order, repeated until nothing more happens at that price
(an entry that fills may bring a TP/SL that is already crossed):

1. positions whose liquidation price the mark reached are liquidated at that price (account order),
   their orders on the symbol canceled: the venue's risk check comes before anyone's orders;
2. stops whose trigger the mark reached fire (placement order), as market or limit orders;
3. positions whose TP or SL the mark reached close at market (account order);
4. resting limit orders the market reached (the last price, or the book's opposite side when a book
   is known) fill at their own price as makers (placement order).

Fills: a taker walks the order book if one was set for the symbol (consuming it), otherwise fills
at the last price moved ``slippage_bps`` against it. Accounts never trade with each other.
Exit reasons of closed trades: TAKE_PROFIT / STOP_LOSS when a position's TP/SL closed it,
LIQUIDATION, and EXTERNAL for any close by a client's order, since the venue cannot know why the
client closed (the platform, which placed the order, records its own reason).
"""

from __future__ import annotations

import functools
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import replace
from decimal import Decimal
from types import MappingProxyType
from typing import Any, Concatenate, Final, ParamSpec, TypeVar

from elcaro.core.clock import now_ms
from elcaro.core.codec import decode, encode
from elcaro.exchanges.paper.config import LimitFill, PaperConfig
from elcaro.exchanges.paper.errors import DuplicateClientOrderIdError
from elcaro.exchanges.paper.events import (
    BookEvent,
    CandleEvent,
    ClosedPnlEvent,
    EngineEvent,
    FillEvent,
    OrderEvent,
    PositionEvent,
    PublicTradeEvent,
)
from elcaro.exchanges.paper.margin import (
    available,
    leverage_of,
    liquidation_price_of,
    margin_mode_of,
    opening_cost,
    opening_qty,
)
from elcaro.exchanges.paper.pricing import (
    Leg,
    bar_path,
    limit_fills,
    money,
    reached,
    slipped,
    walk_book,
    within_limit,
)
from elcaro.exchanges.paper.rules import check_protection, check_rules, trigger_direction, trim_reduce_only
from elcaro.exchanges.paper.settlement import settle
from elcaro.exchanges.paper.state import AccountState, PositionState, WorkingOrder
from elcaro.marketdata.bars import MinuteBars
from elcaro.models import (
    Balance,
    Environment,
    Exchange,
    ExitReason,
    Fill,
    Instrument,
    MarginMode,
    Order,
    OrderStatus,
    OrderType,
    Position,
    PositionSide,
    Side,
    Target,
    TimeInForce,
    Trade,
)
from elcaro.models.decimals import ZERO
from elcaro.models.errors import (
    ConflictError,
    InsufficientFundsError,
    InvalidOrderError,
    NotFoundError,
    OrderNotFoundError,
    ValidationError,
)
from elcaro.models.market import BookLevel, Candle, FundingRate, OrderBook, PublicTrade, Ticker
from elcaro.models.position import pnl

DEFAULT_TARGET: Final = Target(Exchange.BYBIT, Environment.PAPER)
SNAPSHOT_FORMAT: Final = 1
_DAY_MS: Final = 86_400_000

_P = ParamSpec("_P")
_R = TypeVar("_R")


def _publishes(method: Callable[Concatenate[PaperEngine, _P], _R]) -> Callable[Concatenate[PaperEngine, _P], _R]:
    """Deliver the events of a public call once it is done, so subscribers never see a half-made change
    and may call the engine back."""

    @functools.wraps(method)
    def wrapper(engine: PaperEngine, /, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        engine._depth += 1
        try:
            return method(engine, *args, **kwargs)
        finally:
            engine._depth -= 1
            if engine._depth == 0:
                engine._flush()

    return wrapper


class PaperEngine:
    def __init__(
        self,
        instruments: Iterable[Instrument] = (),
        *,
        clock: Callable[[], int] = now_ms,
        config: PaperConfig | None = None,
        target: Target = DEFAULT_TARGET,
    ) -> None:
        if target.environment is not Environment.PAPER:
            raise ValidationError(f"the paper engine serves paper targets, not {target}", field="target")
        self._clock = clock
        self._config = config or PaperConfig()
        self._target = target
        self._instruments: dict[str, Instrument] = {}
        self._marks: dict[str, Decimal] = {}
        self._lasts: dict[str, Decimal] = {}
        self._books: dict[str, OrderBook] = {}
        self._candles: dict[tuple[str, str], deque[Candle]] = {}
        self._minutes = MinuteBars(self._config.candle_history)
        self._funding: dict[str, FundingRate] = {}
        self._accounts: dict[str, AccountState] = {}
        # Open orders by symbol and by account, each keyed by placement sequence (dicts keep insertion order).
        self._open_by_symbol: dict[str, dict[int, WorkingOrder]] = {}
        self._open_by_account: dict[str, dict[int, WorkingOrder]] = {}
        self._next_id = 1
        self._subscribers: list[Callable[[EngineEvent], None]] = []
        self._pending: list[EngineEvent] = []
        self._depth = 0
        for instrument in instruments:
            self.add_instrument(instrument)

    # ----------------------------------------------------------------------------------------- venue

    @property
    def config(self) -> PaperConfig:
        return self._config

    @property
    def target(self) -> Target:
        return self._target

    @property
    def instruments(self) -> Mapping[str, Instrument]:
        return MappingProxyType(self._instruments)

    def add_instrument(self, instrument: Instrument) -> None:
        """Add or replace an instrument. Every instrument settles in the engine's one settle asset."""
        settle_asset = instrument.settle or instrument.quote
        if settle_asset != self._config.settle_asset:
            raise ValidationError(
                f"{instrument.symbol} settles in {settle_asset}, this engine in {self._config.settle_asset}",
                field="instrument",
            )
        self._instruments[instrument.symbol] = instrument

    def now(self) -> int:
        return self._clock()

    # -------------------------------------------------------------------------------------- accounts

    def open_account(self, account_id: str, deposit: Decimal = ZERO) -> None:
        if account_id in self._accounts:
            raise ConflictError(f"paper account {account_id!r} already exists")
        if deposit < 0:
            raise ValidationError(f"cannot be negative, got {deposit}", field="deposit")
        self._accounts[account_id] = AccountState(account_id, deposit)

    @property
    def account_ids(self) -> list[str]:
        return list(self._accounts)

    def deposit(self, account_id: str, amount: Decimal) -> Balance:
        if amount <= 0:
            raise ValidationError(f"must be positive, got {amount}", field="amount")
        self._account(account_id).wallet += amount
        return self.balance(account_id)

    def withdraw(self, account_id: str, amount: Decimal) -> Balance:
        account = self._account(account_id)
        if amount <= 0:
            raise ValidationError(f"must be positive, got {amount}", field="amount")
        free = self._available(account)
        if amount > free:
            raise InsufficientFundsError(f"cannot withdraw {amount}: {free} {self._config.settle_asset} available")
        account.wallet -= amount
        return self.balance(account_id)

    def balance(self, account_id: str) -> Balance:
        account = self._account(account_id)
        unrealized = sum((self._unrealized(position) for position in account.positions.values()), ZERO)
        return Balance(self._config.settle_asset, account.wallet, self._available(account), unrealized)

    def positions(self, account_id: str, symbols: Iterable[str] | None = None) -> list[Position]:
        account = self._account(account_id)
        wanted = None if symbols is None else set(symbols)
        return [
            self._position_model(account, position)
            for symbol, position in sorted(account.positions.items())
            if wanted is None or symbol in wanted
        ]

    def position(self, account_id: str, symbol: str) -> Position | None:
        account = self._account(account_id)
        position = account.positions.get(symbol)
        return None if position is None else self._position_model(account, position)

    def open_orders(self, account_id: str, symbol: str | None = None) -> list[Order]:
        self._account(account_id)
        return [
            working.order
            for working in self._open_by_account.get(account_id, {}).values()
            if symbol is None or working.order.symbol == symbol
        ]

    def order_history(self, account_id: str, symbol: str | None = None) -> list[Order]:
        """Orders that are done (filled, canceled, rejected, expired), oldest first."""
        return [
            working.order
            for working in self._account(account_id).orders.values()
            if not working.order.is_open and (symbol is None or working.order.symbol == symbol)
        ]

    def orders(self, account_id: str, symbol: str | None = None) -> list[Order]:
        """Every order of the account, open or done, the client's and those the venue placed for it, oldest first."""
        return [
            working.order
            for working in self._account(account_id).orders.values()
            if symbol is None or working.order.symbol == symbol
        ]

    def untriggered(self, account_id: str, client_order_id: str) -> bool:
        """Whether the order is a stop that never fired: still waiting for its trigger, or ended before it did.

        An HTTP venue shows the first as untriggered and the second as deactivated rather than canceled.
        """
        working = self._account(account_id).orders.get(client_order_id)
        return working is not None and working.waiting_for_trigger

    def closing_reason(self, account_id: str, client_order_id: str) -> ExitReason | None:
        """Why the venue placed this order itself (TAKE_PROFIT, STOP_LOSS, LIQUIDATION); None for a client's order."""
        working = self._account(account_id).orders.get(client_order_id)
        return None if working is None else working.reason

    def find_order(self, account_id: str, client_order_id: str) -> Order | None:
        working = self._account(account_id).orders.get(client_order_id)
        return None if working is None else working.order

    def get_order(self, account_id: str, client_order_id: str) -> Order:
        order = self.find_order(account_id, client_order_id)
        if order is None:
            raise OrderNotFoundError(f"no order with client order id {client_order_id}", exchange="paper")
        return order

    def fills(self, account_id: str, symbol: str | None = None) -> list[Fill]:
        return [fill for fill in self._account(account_id).fills if symbol is None or fill.symbol == symbol]

    def closed_pnl(self, account_id: str, symbol: str | None = None) -> list[Trade]:
        return [trade for trade in self._account(account_id).trades if symbol is None or trade.symbol == symbol]

    def leverage(self, account_id: str, symbol: str) -> Decimal:
        return leverage_of(self._account(account_id), self._instrument(symbol), self._config)

    def margin_mode(self, account_id: str, symbol: str) -> MarginMode:
        self._instrument(symbol)
        return margin_mode_of(self._account(account_id), symbol)

    # ---------------------------------------------------------------------------------- market state

    def mark_price(self, symbol: str) -> Decimal | None:
        return self._marks.get(symbol)

    def last_price(self, symbol: str) -> Decimal | None:
        return self._lasts.get(symbol)

    def order_book(self, symbol: str) -> OrderBook | None:
        return self._books.get(symbol)

    def candles(self, symbol: str, timeframe: str) -> list[Candle]:
        """The candles fed at ``timeframe`` (see ``apply_candle``), oldest first."""
        return list(self._candles.get((symbol, timeframe), ()))

    def ohlcv(self, symbol: str, timeframe: str) -> list[Candle]:
        """The market's candles at ``timeframe``, oldest first, the last one possibly still forming.

        Candles fed at that timeframe (a replay's) when there are any, else the venue's one-minute bars of every
        price and candle it was given, resampled. ``ValidationError`` for a timeframe that is not a supported one.
        """
        fed = self.candles(symbol, timeframe)
        return fed if fed else self._minutes.candles(symbol, timeframe)

    @property
    def bars(self) -> MinuteBars:
        """The one-minute bars of every price, candle and fill of the venue, to read (the engine records them)."""
        return self._minutes

    def funding_rate(self, symbol: str) -> FundingRate | None:
        return self._funding.get(symbol)

    def open_interest(self, symbol: str) -> Decimal:
        """Contracts held on ``symbol`` by all accounts (the paper venue is every position's only counterparty)."""
        self._instrument(symbol)
        return sum((a.positions[symbol].qty for a in self._accounts.values() if symbol in a.positions), ZERO)

    def ticker(self, symbol: str) -> Ticker | None:
        """None until the symbol has a price. Volumes come from the candles seen over the last 24 hours."""
        self._instrument(symbol)
        last = self._lasts.get(symbol)
        if last is None:
            return None
        now = self._clock()
        book = self._books.get(symbol)
        series = next((series for (name, _), series in self._candles.items() if name == symbol), ())
        recent = [candle for candle in series if candle.timestamp > now - _DAY_MS]
        return Ticker(
            symbol=symbol,
            last=last,
            bid=book.bids[0].price if book and book.bids else None,
            ask=book.asks[0].price if book and book.asks else None,
            mark=self._marks.get(symbol),
            index=None,
            volume_24h=sum((candle.volume for candle in recent), ZERO),
            turnover_24h=sum((candle.volume * candle.close for candle in recent), ZERO),
            timestamp=now,
        )

    # --------------------------------------------------------------------------------------- events

    def subscribe(self, callback: Callable[[EngineEvent], None]) -> Callable[[], None]:
        """Call ``callback`` with every event from now on; returns the function that unsubscribes.

        Events are delivered synchronously when the engine call that caused them is complete. A
        callback must not raise (the engine's state has already changed when it runs).
        """
        self._subscribers.append(callback)

        def unsubscribe() -> None:
            if callback in self._subscribers:
                self._subscribers.remove(callback)

        return unsubscribe

    # -------------------------------------------------------------------------------------- trading

    @_publishes
    def place_order(self, account_id: str, order: Order) -> Order:
        """Accept an order and execute what it can at the current prices.

        Raises DuplicateClientOrderIdError (carrying the existing order) for a client order id the
        account already used, InvalidOrderError for any rule it breaks, InsufficientFundsError when
        the available balance cannot cover the margin and fee it would open. A post-only order that
        would take is returned REJECTED, as venues do.
        """
        account = self._account(account_id)
        existing = account.orders.get(order.client_order_id)
        if existing is not None:
            raise DuplicateClientOrderIdError(existing.order)
        instrument = self._instrument(order.symbol)
        order = self._admit(account, instrument, order)
        rises = trigger_direction(order, self._marks.get(order.symbol)) if order.type.has_trigger else None
        if not order.reduce_only:
            self._require_funds(account, instrument, order.side, order.qty, self._worst_price(instrument, order))
        now = self._clock()
        seq = self._new_seq()
        working = WorkingOrder(
            account_id,
            seq,
            order.with_update(
                status=OrderStatus.OPEN,
                exchange_order_id=str(seq),
                filled_qty=ZERO,
                avg_fill_price=None,
                fee=ZERO,
                created_at=now,
                updated_at=now,
                reject_reason=None,
            ),
            rises=rises,
        )
        account.orders[order.client_order_id] = working
        if working.waiting_for_trigger:
            self._rest(working)
            self._emit_order(working)
        else:
            self._execute(working)
            self._process(order.symbol)
        return working.order

    @_publishes
    def amend_order(
        self,
        account_id: str,
        client_order_id: str,
        *,
        qty: Decimal | None = None,
        price: Decimal | None = None,
        trigger_price: Decimal | None = None,
    ) -> Order:
        """Change an open order's total quantity, limit price or (before it fires) trigger price.

        A limit order amended across the market executes what it now can, like a new one; a
        post-only order amended across the market is refused and stays as it was.
        """
        working = self._open_order(account_id, client_order_id)
        account = self._accounts[account_id]
        instrument = self._instrument(working.order.symbol)
        amended = self._amendment(account, instrument, working, qty, price, trigger_price)
        rises = (
            trigger_direction(amended, self._marks.get(amended.symbol)) if trigger_price is not None else working.rises
        )
        if amended.time_in_force is TimeInForce.POST_ONLY and self._would_take(amended):
            raise InvalidOrderError("the amended post-only order would take liquidity", exchange="paper")
        free_before = self._available(account)
        previous = working.order, working.rises
        working.order, working.rises = amended, rises
        free_after = self._available(account)
        if free_after < 0 and free_after < free_before:
            working.order, working.rises = previous
            raise InsufficientFundsError(
                f"the amended order needs {free_before - free_after} {self._config.settle_asset} more margin, "
                f"{free_before} available",
                exchange="paper",
            )
        self._emit_order(working)
        if not working.waiting_for_trigger and self._would_take(working.order):
            self._execute(working)
        self._process(amended.symbol)
        return working.order

    @_publishes
    def cancel_order(self, account_id: str, client_order_id: str) -> Order:
        working = self._open_order(account_id, client_order_id)
        self._finish(working, OrderStatus.CANCELED)
        return working.order

    @_publishes
    def cancel_all_orders(self, account_id: str, symbol: str | None = None) -> list[Order]:
        self._account(account_id)
        canceled = []
        for working in list(self._open_by_account.get(account_id, {}).values()):
            if symbol is None or working.order.symbol == symbol:
                self._finish(working, OrderStatus.CANCELED)
                canceled.append(working.order)
        return canceled

    @_publishes
    def set_leverage(self, account_id: str, symbol: str, leverage: Decimal) -> Decimal:
        """Clamp to the instrument's maximum and apply to the position and orders; returns the leverage in force.

        Lowering leverage raises the margin held; it is refused when the balance cannot cover that.
        """
        account = self._account(account_id)
        instrument = self._instrument(symbol)
        if leverage < 1:
            raise InvalidOrderError(f"leverage must be at least 1, got {leverage}", exchange="paper")
        value = min(leverage, instrument.max_leverage)
        before = leverage_of(account, instrument, self._config)
        chosen = account.leverage.get(symbol)
        free_before = self._available(account)
        account.leverage[symbol] = value
        free_after = self._available(account)
        if free_after < 0 and free_after < free_before:
            if chosen is None:
                del account.leverage[symbol]
            else:
                account.leverage[symbol] = chosen
            raise InsufficientFundsError(
                f"leverage {value} needs {free_before - free_after} {self._config.settle_asset} more margin "
                f"than {before}, {free_before} available",
                exchange="paper",
            )
        self._emit_position(account, symbol)
        return value

    def set_margin_mode(self, account_id: str, symbol: str, mode: MarginMode) -> None:
        account = self._account(account_id)
        self._instrument(symbol)
        busy = symbol in account.positions or any(
            working.order.symbol == symbol for working in self._open_by_account.get(account_id, {}).values()
        )
        if busy and margin_mode_of(account, symbol) is not mode:
            raise InvalidOrderError(
                f"cannot switch {symbol} to {mode} margin with an open position or open orders", exchange="paper"
            )
        account.margin_mode[symbol] = mode

    @_publishes
    def set_position_protection(
        self,
        account_id: str,
        symbol: str,
        *,
        take_profit: Decimal | None = None,
        stop_loss: Decimal | None = None,
    ) -> Position:
        """Set or change the position's TP/SL (None leaves a level as it is, 0 removes it).

        Triggered on the mark price; closes the whole position at market. A level on the wrong side
        of the mark (a long's TP below it, say) is refused rather than fired at once.
        """
        account = self._account(account_id)
        instrument = self._instrument(symbol)
        position = account.positions.get(symbol)
        if position is None:
            raise InvalidOrderError(f"there is no position on {symbol} to protect", exchange="paper")
        base = self._marks.get(symbol, position.entry_price)
        check_protection(
            instrument,
            position.side.entry_side,
            base,
            take_profit or None,
            stop_loss or None,
            against="the mark price",
        )
        if take_profit is not None:
            position.take_profit = take_profit or None
        if stop_loss is not None:
            position.stop_loss = stop_loss or None
        position.updated_at = self._clock()
        self._emit_position(account, symbol)
        return self._position_model(account, position)

    # --------------------------------------------------------------------------------------- prices

    @_publishes
    def update_mark(self, symbol: str, price: Decimal, *, last: Decimal | None = None) -> None:
        """Move the mark price (and the last price, to ``last`` or the same price) and act on it at once.

        The move is a jump: a stop passed over fills at the new price, not at its trigger. Use
        ``apply_candle`` for a path through the prices in between.
        """
        self._instrument(symbol)
        last = price if last is None else last
        if price <= 0 or last <= 0:
            raise ValidationError(f"prices must be positive, got mark {price} and last {last}", field="price")
        # Recorded before anything fills at it, so the fills' volume lands in this price's minute.
        self._minutes.price(symbol, self._clock(), last)
        self._move(symbol, price, last)

    @_publishes
    def apply_candle(self, symbol: str, candle: Candle, *, timeframe: str | None = None) -> None:
        """Walk the bar's path (see ``pricing.bar_path``) and act on every level it passes.

        The bar's open is a jump from the previous price; from there the price moves continuously,
        so a stop, TP/SL, limit or liquidation price inside the bar is acted on at exactly its own
        level. ``timeframe`` files the candle for ``candles()``; the clock is the caller's to move.
        """
        self._instrument(symbol)
        self._minutes.candle(symbol, candle)
        path = bar_path(candle)
        self._move(symbol, path[0], path[0])
        for point in path[1:]:
            self._walk(symbol, point)
        if timeframe is not None:
            self._record_candle(symbol, timeframe, candle)
        self._emit(CandleEvent(symbol, timeframe, candle))

    @_publishes
    def set_order_book(self, book: OrderBook) -> None:
        """Takers on this symbol walk this book from now on (and use it up) until it is replaced or cleared.

        While a book is known, resting limit orders fill when its opposite side reaches them, not on the
        last price.
        """
        self._instrument(book.symbol)
        self._books[book.symbol] = book
        self._emit(BookEvent(book))
        self._process(book.symbol)

    def clear_order_book(self, symbol: str) -> None:
        self._books.pop(symbol, None)

    @_publishes
    def apply_funding(self, symbol: str, rate: Decimal) -> None:
        """Settle one funding interval: longs pay ``rate`` × position value at the mark to shorts (or the reverse)."""
        instrument = self._instrument(symbol)
        for account in self._accounts.values():
            position = account.positions.get(symbol)
            if position is None:
                continue
            value = instrument.notional(position.qty, self._marks.get(symbol, position.entry_price))
            received = money(value * rate) * (-position.side.sign)
            account.wallet += received
            position.funding += received
            position.realized_pnl += received
            self._emit_position(account, symbol)
        self._funding[symbol] = FundingRate(symbol, rate, None, self._clock())

    # ---------------------------------------------------------------------------------- persistence

    def snapshot(self) -> dict[str, Any]:
        """Everything needed to carry on after a restart, JSON-ready (Decimals as strings).

        Order books, candles and subscribers are market data and wiring, not account state; they are
        not kept.
        """
        return {
            "format": SNAPSHOT_FORMAT,
            "target": str(self._target),
            "config": encode(self._config),
            "instruments": encode(list(self._instruments.values())),
            "marks": encode(self._marks),
            "lasts": encode(self._lasts),
            "funding_rates": encode(list(self._funding.values())),
            "next_id": self._next_id,
            "accounts": encode(list(self._accounts.values())),
        }

    @classmethod
    def restore(cls, snapshot: Mapping[str, Any], *, clock: Callable[[], int] = now_ms) -> PaperEngine:
        """Rebuild an engine from ``snapshot()``. The clock must not be earlier than the snapshot's last event."""
        if snapshot.get("format") != SNAPSHOT_FORMAT:
            raise ValidationError(f"unknown snapshot format {snapshot.get('format')!r}", field="snapshot")
        engine = cls(
            decode(list[Instrument], snapshot["instruments"]),
            clock=clock,
            config=decode(PaperConfig, snapshot["config"]),
            target=decode(Target, snapshot["target"]),
        )
        engine._marks = decode(dict[str, Decimal], snapshot["marks"])
        engine._lasts = decode(dict[str, Decimal], snapshot["lasts"])
        engine._funding = {rate.symbol: rate for rate in decode(list[FundingRate], snapshot["funding_rates"])}
        engine._next_id = decode(int, snapshot["next_id"])
        accounts: list[AccountState] = decode(list[AccountState], snapshot["accounts"])
        engine._accounts = {account.id: account for account in accounts}
        open_orders = (working for account in accounts for working in account.orders.values() if working.order.is_open)
        for working in sorted(open_orders, key=lambda working: working.seq):
            engine._rest(working)
        return engine

    # ============================================================================ internals: lookup

    def _account(self, account_id: str) -> AccountState:
        try:
            return self._accounts[account_id]
        except KeyError:
            raise NotFoundError(f"no paper account {account_id!r}") from None

    def _instrument(self, symbol: str) -> Instrument:
        try:
            return self._instruments[symbol]
        except KeyError:
            raise InvalidOrderError(f"unknown symbol {symbol} on the paper exchange", exchange="paper") from None

    def _open_order(self, account_id: str, client_order_id: str) -> WorkingOrder:
        working = self._account(account_id).orders.get(client_order_id)
        if working is None or not working.order.is_open:
            state = "no" if working is None else f"no open ({working.order.status})"
            raise OrderNotFoundError(f"{state} order with client order id {client_order_id}", exchange="paper")
        return working

    def _new_seq(self) -> int:
        seq = self._next_id
        self._next_id += 1
        return seq

    def _new_id(self) -> str:
        return str(self._new_seq())

    def _available(self, account: AccountState) -> Decimal:
        return available(account, self._open_by_account.get(account.id, {}).values(), self._instruments, self._config)

    def _unrealized(self, position: PositionState) -> Decimal:
        mark = self._marks.get(position.symbol)
        if mark is None:
            return ZERO
        contract_size = self._instruments[position.symbol].contract_size
        return pnl(position.side, position.qty, position.entry_price, mark, contract_size)

    def _liquidation_price(self, account: AccountState, position: PositionState) -> Decimal | None:
        cross = margin_mode_of(account, position.symbol) is MarginMode.CROSS
        free = self._available(account) if cross else ZERO
        return liquidation_price_of(account, position, self._instruments[position.symbol], self._config, free)

    def _position_model(self, account: AccountState, position: PositionState) -> Position:
        instrument = self._instruments[position.symbol]
        return Position(
            symbol=position.symbol,
            side=position.side,
            qty=position.qty,
            entry_price=position.entry_price,
            leverage=leverage_of(account, instrument, self._config),
            margin_mode=margin_mode_of(account, position.symbol),
            mark_price=self._marks.get(position.symbol),
            liquidation_price=self._liquidation_price(account, position),
            unrealized_pnl=self._unrealized(position),
            realized_pnl=position.realized_pnl,
            take_profit=position.take_profit,
            stop_loss=position.stop_loss,
            contract_size=instrument.contract_size,
            opened_at=position.opened_at,
            updated_at=position.updated_at,
        )

    # ======================================================================== internals: admission

    def _admit(self, account: AccountState, instrument: Instrument, order: Order) -> Order:
        """Check an incoming order against the venue's rules; returns it with a reduce-only size trimmed."""
        if not instrument.active:
            raise InvalidOrderError(f"{instrument.symbol} is not trading", exchange="paper")
        reference = self._base_price(order)
        if reference is None:
            raise InvalidOrderError(
                f"no price for {order.symbol} yet: a market order needs a last price or an order book",
                exchange="paper",
            )
        check_rules(instrument, order.qty, reference, order.trigger_price, reduce_only=order.reduce_only)
        check_protection(instrument, order.side, reference, order.take_profit, order.stop_loss)
        if not order.reduce_only:
            return order
        return trim_reduce_only(order, account.positions.get(order.symbol))

    def _amendment(
        self,
        account: AccountState,
        instrument: Instrument,
        working: WorkingOrder,
        qty: Decimal | None,
        price: Decimal | None,
        trigger_price: Decimal | None,
    ) -> Order:
        order = working.order
        if qty is None and price is None and trigger_price is None:
            raise InvalidOrderError("nothing to amend: give a quantity, a price or a trigger price", exchange="paper")
        if price is not None and not order.type.has_limit_price:
            raise InvalidOrderError(f"a {order.type} order has no limit price to amend", exchange="paper")
        if trigger_price is not None and not working.waiting_for_trigger:
            raise InvalidOrderError(
                "only a stop waiting for its trigger has a trigger price to amend", exchange="paper"
            )
        new_qty = order.qty if qty is None else qty
        if new_qty <= order.filled_qty:
            raise InvalidOrderError(f"quantity {new_qty} must be above the {order.filled_qty} filled", exchange="paper")
        try:
            amended = order.with_update(
                qty=new_qty,
                price=order.price if price is None else price,
                trigger_price=order.trigger_price if trigger_price is None else trigger_price,
                updated_at=self._clock(),
            )
        except ValidationError as exc:
            raise InvalidOrderError(str(exc), exchange="paper") from None
        reference = self._base_price(amended)
        if reference is not None:
            check_rules(instrument, new_qty, reference, amended.trigger_price, reduce_only=order.reduce_only)
            check_protection(instrument, order.side, reference, order.take_profit, order.stop_loss)
        position = account.positions.get(order.symbol)
        if order.reduce_only and position is not None and new_qty - order.filled_qty > position.qty:
            amended = amended.with_update(qty=order.filled_qty + position.qty)
        return amended

    def _base_price(self, order: Order) -> Decimal | None:
        """The price an order is judged at: its limit, else its trigger, else where a market order would trade."""
        if order.price is not None:
            return order.price
        if order.trigger_price is not None:
            return order.trigger_price
        instrument = self._instruments[order.symbol]
        book = self._books.get(order.symbol)
        levels = (book.asks if order.side is Side.BUY else book.bids) if book is not None else ()
        if levels:
            return levels[0].price
        last = self._lasts.get(order.symbol)
        return None if last is None else instrument.round_price(last)

    def _worst_price(self, instrument: Instrument, order: Order) -> Decimal | None:
        """The least favourable price the order can fill at now, which funds are checked against."""
        if order.price is not None:
            return order.price
        if order.trigger_price is not None:
            return order.trigger_price
        return self._market_price(instrument, order.side, order.qty)

    def _market_price(self, instrument: Instrument, side: Side, qty: Decimal) -> Decimal | None:
        legs = self._plan(instrument, side, qty, None)
        return legs[-1].price if legs else None

    def _require_funds(
        self, account: AccountState, instrument: Instrument, side: Side, qty: Decimal, price: Decimal | None
    ) -> None:
        qty = opening_qty(account.positions.get(instrument.symbol), side, qty)
        if not qty or price is None:
            return
        leverage = leverage_of(account, instrument, self._config)
        needed = opening_cost(instrument, qty, price, leverage, self._config.taker_fee)
        free = self._available(account)
        if needed > free:
            raise InsufficientFundsError(
                f"the order needs {needed} {self._config.settle_asset} of margin and fees at {leverage}x; "
                f"{free} available",
                exchange="paper",
            )

    # ======================================================================== internals: execution

    def _execute(self, working: WorkingOrder) -> None:
        """Execute an order that is live (new, or a stop that just fired): take what it can, then rest or end."""
        if working.order.price is None:
            self._execute_market(working)
        else:
            self._execute_limit(working)

    def _execute_market(self, working: WorkingOrder) -> None:
        qty = self._fillable(working)
        legs = self._plan(self._instruments[working.order.symbol], working.order.side, qty, None) if qty else []
        if legs:
            self._settle(working, legs, maker=False)
        if working.order.is_open:
            self._finish(working, OrderStatus.CANCELED, "no liquidity left for the rest of the market order")

    def _execute_limit(self, working: WorkingOrder) -> None:
        order = working.order
        takes = self._would_take(order)
        if takes and order.time_in_force is TimeInForce.POST_ONLY:
            self._finish(working, OrderStatus.REJECTED, "post-only order would take liquidity")
            return
        legs: list[Leg] = []
        if takes:
            qty = self._fillable(working)
            if not working.order.is_open:
                return
            legs = self._plan(self._instruments[order.symbol], order.side, qty, order.price)
        immediate = order.time_in_force in (TimeInForce.IOC, TimeInForce.FOK)
        if (
            order.time_in_force is TimeInForce.FOK
            and sum((leg.qty for leg in legs), ZERO) < working.order.remaining_qty
        ):
            legs = []  # fill or kill: all of it now, or nothing
        if legs:
            self._settle(working, legs, maker=False)
        if not working.order.is_open:
            return
        if immediate:
            self._finish(working, OrderStatus.EXPIRED, "immediate-or-cancel remainder" if legs else "could not fill")
            return
        self._rest(working)
        if not legs:
            self._emit_order(working)

    def _would_take(self, order: Order) -> bool:
        """Whether a limit order at its price meets the book (or, with no book, the last price)."""
        if order.price is None:
            return True
        book = self._books.get(order.symbol)
        if book is not None:
            levels = book.asks if order.side is Side.BUY else book.bids
            return bool(levels) and within_limit(order.side, levels[0].price, order.price)
        last = self._lasts.get(order.symbol)
        return last is not None and within_limit(order.side, last, order.price)

    def _plan(self, instrument: Instrument, side: Side, qty: Decimal, limit: Decimal | None) -> list[Leg]:
        """How a taker would fill now: down the book if there is one, else at the slipped last price."""
        book = self._books.get(instrument.symbol)
        if book is not None:
            return walk_book(book.asks if side is Side.BUY else book.bids, side, qty, limit)
        last = self._lasts.get(instrument.symbol)
        if last is None:
            return []
        price = slipped(last, side, self._config.slippage_bps, instrument.tick_size)
        if not within_limit(side, price, limit):
            if limit is None or not within_limit(side, last, limit):
                return []
            price = limit
        return [Leg(price, qty)]

    def _fillable(self, working: WorkingOrder) -> Decimal:
        """What the order may fill now. A reduce-only order is trimmed to the position, or canceled without one."""
        order = working.order
        if not order.reduce_only:
            return order.remaining_qty
        position = self._accounts[working.account_id].positions.get(order.symbol)
        if position is None or position.side.exit_side is not order.side:
            self._finish(working, OrderStatus.CANCELED, "reduce-only order has no position left to reduce")
            return ZERO
        if position.qty < order.remaining_qty:
            working.order = order.with_update(qty=order.filled_qty + position.qty)
        return working.order.remaining_qty

    def _settle(self, working: WorkingOrder, legs: list[Leg], *, maker: bool) -> None:
        account = self._accounts[working.account_id]
        instrument = self._instruments[working.order.symbol]
        result = settle(
            account,
            instrument,
            working,
            legs,
            maker=maker,
            fee_rate=self._config.maker_fee if maker else self._config.taker_fee,
            fee_asset=self._config.settle_asset,
            target=self._target,
            now=self._clock(),
            new_id=self._new_id,
        )
        account.fills.extend(result.fills)
        for fill in result.fills:
            self._minutes.trade(fill.symbol, fill.timestamp, fill.price, fill.qty)
        if not maker and instrument.symbol in self._books:
            self._consume_book(instrument.symbol, working.order.side, legs)
        if not working.order.is_open:
            self._retire(working)
        if self._subscribers:
            for fill in result.fills:
                self._emit(FillEvent(account.id, fill))
                taker_side = fill.side.opposite if maker else fill.side
                tape = PublicTrade(fill.symbol, fill.trade_id, taker_side, fill.price, fill.qty, fill.timestamp)
                self._emit(PublicTradeEvent(tape))
            if result.trade is not None:
                self._emit(ClosedPnlEvent(account.id, result.trade))
        self._emit_order(working)
        self._emit_position(account, instrument.symbol)
        if instrument.symbol not in account.positions:
            self._drop_reduce_only(account.id, instrument.symbol)

    def _consume_book(self, symbol: str, side: Side, legs: list[Leg]) -> None:
        book = self._books[symbol]
        levels = list(book.asks if side is Side.BUY else book.bids)
        for leg in legs:  # legs were taken from the front of the book, in order
            left = levels[0].qty - leg.qty
            levels = [BookLevel(levels[0].price, left), *levels[1:]] if left > 0 else levels[1:]
        if side is Side.BUY:
            self._books[symbol] = replace(book, asks=tuple(levels))
        else:
            self._books[symbol] = replace(book, bids=tuple(levels))

    def _drop_reduce_only(self, account_id: str, symbol: str) -> None:
        """A flat position cancels its reduce-only orders, as venues do, so none is left to fire later."""
        for working in list(self._open_by_account.get(account_id, {}).values()):
            if working.order.symbol == symbol and working.order.reduce_only:
                self._finish(working, OrderStatus.CANCELED, "position closed")

    def _finish(self, working: WorkingOrder, status: OrderStatus, reason: str | None = None) -> None:
        working.order = working.order.with_update(status=status, reject_reason=reason, updated_at=self._clock())
        self._retire(working)
        self._emit_order(working)

    def _rest(self, working: WorkingOrder) -> None:
        # setdefault keeps an order already resting at its place in the sequence.
        self._open_by_symbol.setdefault(working.order.symbol, {}).setdefault(working.seq, working)
        self._open_by_account.setdefault(working.account_id, {}).setdefault(working.seq, working)

    def _retire(self, working: WorkingOrder) -> None:
        self._open_by_symbol.get(working.order.symbol, {}).pop(working.seq, None)
        self._open_by_account.get(working.account_id, {}).pop(working.seq, None)

    def _system_order(self, account: AccountState, position: PositionState, reason: ExitReason) -> WorkingOrder:
        """A reduce-only market order the venue places itself to close a position (TP/SL, liquidation)."""
        seq = self._new_seq()
        now = self._clock()
        # A client may have picked this very id for an order of its own: never overwrite that one.
        client_order_id = f"paper-{reason}-{seq}"
        while client_order_id in account.orders:
            client_order_id += "-venue"
        order = Order(
            client_order_id=client_order_id,
            symbol=position.symbol,
            side=position.side.exit_side,
            type=OrderType.MARKET,
            qty=position.qty,
            reduce_only=True,
            status=OrderStatus.OPEN,
            exchange_order_id=str(seq),
            created_at=now,
            updated_at=now,
        )
        working = WorkingOrder(account.id, seq, order, reason=reason)
        account.orders[order.client_order_id] = working
        return working

    # ===================================================================== internals: price moves

    def _move(self, symbol: str, mark: Decimal, last: Decimal) -> None:
        self._marks[symbol] = mark
        self._lasts[symbol] = last
        self._process(symbol)

    def _process(self, symbol: str) -> None:
        if symbol not in self._marks:
            return
        steps = (self._liquidate, self._fire_stops, self._fire_protection, self._fill_resting)
        # A list, not a generator: every step runs in every round, in this order.
        while any([step(symbol) for step in steps]):
            pass

    def _resting(self, symbol: str) -> list[WorkingOrder]:
        return list(self._open_by_symbol.get(symbol, {}).values())

    def _is_open(self, working: WorkingOrder) -> bool:
        return working.seq in self._open_by_symbol.get(working.order.symbol, {})

    def _fire_stops(self, symbol: str) -> bool:
        mark = self._marks[symbol]
        fired = False
        for working in self._resting(symbol):
            trigger = working.order.trigger_price
            if working.rises is None or trigger is None or not self._is_open(working):
                continue
            if reached(mark, trigger, working.rises):
                fired = True
                self._trigger(working)
        return fired

    def _trigger(self, working: WorkingOrder) -> None:
        working.rises = None
        order = working.order
        if not order.reduce_only:
            account = self._accounts[working.account_id]
            instrument = self._instruments[order.symbol]
            price = order.price or self._market_price(instrument, order.side, order.remaining_qty)
            try:
                self._require_funds(account, instrument, order.side, order.remaining_qty, price)
            except InsufficientFundsError as exc:
                self._finish(working, OrderStatus.REJECTED, f"triggered without funds: {exc}")
                return
        self._execute(working)

    def _fire_protection(self, symbol: str) -> bool:
        mark = self._marks[symbol]
        fired = False
        for account in list(self._accounts.values()):
            position = account.positions.get(symbol)
            if position is None:
                continue
            sign = position.side.sign
            if position.take_profit is not None and sign * (mark - position.take_profit) >= 0:
                position.take_profit = None
                reason = ExitReason.TAKE_PROFIT
            elif position.stop_loss is not None and sign * (mark - position.stop_loss) <= 0:
                position.stop_loss = None
                reason = ExitReason.STOP_LOSS
            else:
                continue
            fired = True
            self._execute(self._system_order(account, position, reason))
        return fired

    def _fill_resting(self, symbol: str) -> bool:
        on_touch = self._config.limit_fill is LimitFill.TOUCH
        filled = False
        for working in self._resting(symbol):
            price = working.order.price
            if price is None or working.waiting_for_trigger or not self._is_open(working):
                continue
            market = self._market_against(symbol, working.order.side)
            if market is not None and limit_fills(working.order.side, price, market, on_touch=on_touch):
                filled = True
                qty = self._fillable(working)
                if qty:
                    self._settle(working, [Leg(price, qty)], maker=True)
        return filled

    def _market_against(self, symbol: str, side: Side) -> Decimal | None:
        """The price a resting order on ``side`` is filled against: the best opposite level when a book is
        known (the book is then the market, and a last price older than it means nothing), else the last price."""
        book = self._books.get(symbol)
        if book is None:
            return self._lasts.get(symbol)
        levels = book.asks if side is Side.BUY else book.bids
        return levels[0].price if levels else None

    def _liquidate(self, symbol: str) -> bool:
        mark = self._marks[symbol]
        liquidated = False
        for account in list(self._accounts.values()):
            position = account.positions.get(symbol)
            price = None if position is None else self._liquidation_price(account, position)
            if position is None or price is None or not reached(mark, price, position.side is PositionSide.SHORT):
                continue
            liquidated = True
            for working in list(self._open_by_account.get(account.id, {}).values()):
                if working.order.symbol == symbol:
                    self._finish(working, OrderStatus.CANCELED, "canceled by liquidation")
            working = self._system_order(account, position, ExitReason.LIQUIDATION)
            self._settle(working, [Leg(price, position.qty)], maker=False)
        return liquidated

    def _walk(self, symbol: str, target: Decimal) -> None:
        """Move the price to ``target`` through every level in between, stopping at each in turn."""
        while (level := self._next_level(symbol, self._marks[symbol], target)) is not None:
            self._move(symbol, level, level)
        if self._marks[symbol] != target or self._lasts[symbol] != target:
            self._move(symbol, target, target)

    def _next_level(self, symbol: str, current: Decimal, target: Decimal) -> Decimal | None:
        if target > current:
            return min((level for level in self._levels(symbol) if current < level < target), default=None)
        return max((level for level in self._levels(symbol) if target < level < current), default=None)

    def _levels(self, symbol: str) -> Iterator[Decimal]:
        """Every price at which something would happen on this symbol."""
        for working in self._open_by_symbol.get(symbol, {}).values():
            level = working.order.trigger_price if working.waiting_for_trigger else working.order.price
            if level is not None:
                yield level
        for account in self._accounts.values():
            position = account.positions.get(symbol)
            if position is None:
                continue
            for level in (position.take_profit, position.stop_loss, self._liquidation_price(account, position)):
                if level is not None:
                    yield level

    def _record_candle(self, symbol: str, timeframe: str, candle: Candle) -> None:
        series = self._candles.setdefault((symbol, timeframe), deque(maxlen=self._config.candle_history))
        if series and series[-1].timestamp == candle.timestamp:
            series[-1] = candle  # the same bar again, updated (a live bar still forming)
        elif not series or series[-1].timestamp < candle.timestamp:
            series.append(candle)

    # ====================================================================== internals: publishing

    def _emit(self, event: EngineEvent) -> None:
        if self._subscribers:
            self._pending.append(event)

    def _emit_order(self, working: WorkingOrder) -> None:
        self._emit(OrderEvent(working.account_id, working.order))

    def _emit_position(self, account: AccountState, symbol: str) -> None:
        if self._subscribers:
            position = account.positions.get(symbol)
            model = None if position is None else self._position_model(account, position)
            self._emit(PositionEvent(account.id, symbol, model))

    def _flush(self) -> None:
        while self._pending:
            batch, self._pending = self._pending, []
            for event in batch:
                for callback in list(self._subscribers):
                    callback(event)
