"""A trader's desk: balances, positions, orders, manual orders, history, statistics and strategy toggles.

Like freqtrade's RPC layer, this is the one API behind the Telegram bot and the web app: an interface
parses, calls one method and renders what comes back. Closing goes through the position monitor, so its
state machine stays in charge of every managed position; a manual order goes out through the user's
exchange client with a deterministic client order id and its stop attached, and once it fills the
position is adopted by the monitor as strategy ``manual``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from functools import partial
from typing import Any, TypeVar

from elcaro.core.clock import now_ms
from elcaro.models import (
    AuditEntry,
    Balance,
    CredentialInfo,
    Environment,
    Exchange,
    ExchangeKeys,
    Order,
    Position,
    PositionSide,
    SettingsKey,
    SettingsScope,
    Target,
    UserSettings,
    make_client_order_id,
)
from elcaro.models.equity import EquityPeriod
from elcaro.models.errors import ConflictError, ElcaroError, NotFoundError
from elcaro.models.trade_query import ANY_TRADE, TradeChoices, TradeCursor, TradeFilter
from elcaro.services.copy_trading import GLOBAL_PAUSE_FLAG
from elcaro.services.credentials import CredentialService
from elcaro.services.desk.chart import ChartCandles, ChartMarks, MarketChart
from elcaro.services.desk.errors import DeskError
from elcaro.services.desk.manual import ManualOrderRequest, parse_manual_order
from elcaro.services.desk.settings_form import EDITABLE, normalise_number, setting_field
from elcaro.services.desk.views import (
    ExitTarget,
    HistoryPage,
    ManualOption,
    ManualPreview,
    ManualResult,
    OrderView,
    PositionsPage,
    PositionView,
    StrategyView,
    TargetBalance,
    TargetView,
    order_ref,
)
from elcaro.services.equity import EquityCurve, EquityService
from elcaro.services.exchange_access import ExchangeAccess
from elcaro.services.positions import PositionMonitor
from elcaro.services.positions.adoption import MANUAL
from elcaro.services.positions.marks import live_figures
from elcaro.services.positions.record import shown_state
from elcaro.services.statistics import Bucket, PnlHistory, StatisticsService, StatsReport
from elcaro.services.trading_preferences import TradingPreferencesService
from elcaro.storage import Database
from elcaro.trading import Period, TradingSettings
from elcaro.trading.plan import stop_side

log = logging.getLogger(__name__)

T = TypeVar("T")

HUNDRED = Decimal(100)
BUILT_IN_STRATEGIES = ("elcaro", "scryptomera", "scalper", "rsi_bb", "fibonacci", "oi", "cornix", "generic")
"""The strategies of the channel formats in ``shared/SIGNALS.md``; configured sources add their own."""
MAX_HISTORY_PAGES = 50
DEFAULT_ADOPT_INTERVAL = 5.0


@dataclass(frozen=True, slots=True)
class _Awaited:
    """A manual limit order resting on the venue, to be adopted once it fills."""

    user_id: int
    target: Target
    symbol: str
    client_order_id: str


class TradingDesk:
    def __init__(
        self,
        database: Database,
        preferences: TradingPreferencesService,
        credentials: CredentialService,
        access: ExchangeAccess,
        positions: PositionMonitor,
        *,
        statistics: StatisticsService | None = None,
        equity: EquityService | None = None,
        clock: Callable[[], int] = now_ms,
        adopt_interval: float = DEFAULT_ADOPT_INTERVAL,
    ) -> None:
        self._db = database
        self._preferences = preferences
        self._credentials = credentials
        self._access = access
        self._monitor = positions
        self._statistics = statistics or StatisticsService(database, clock=clock)
        self._equity = equity or EquityService(database, clock=clock)
        self._chart = MarketChart(database, access)
        self._clock = clock
        self._adopt_interval = adopt_interval
        self._awaited: dict[str, _Awaited] = {}

    # ------------------------------------------------------------------------------ targets and money

    async def targets(self, user_id: int) -> list[TargetView]:
        return [
            TargetView(stored.target, stored.enabled, stored.live_opt_in_at is not None)
            for stored in await self._preferences.targets(user_id)
        ]

    async def set_target(self, user_id: int, target: Target, *, enabled: bool, live_opt_in: bool = False) -> TargetView:
        """Trade on ``target`` or stop. Enabling a live target without the explicit opt-in is refused."""
        if enabled and target.environment is Environment.LIVE and not live_opt_in:
            raise DeskError("target.live_opt_in", f"{target} trades real money: it needs the explicit opt-in")
        stored = await self._preferences.set_target(user_id, target, enabled=enabled, live_opt_in=live_opt_in)
        return TargetView(stored.target, stored.enabled, stored.live_opt_in_at is not None)

    async def balances(self, user_id: int) -> list[TargetBalance]:
        """The balance of every enabled target, read at once; a target that cannot be read says why."""
        targets = [view.target for view in await self.targets(user_id) if view.enabled]
        results = await asyncio.gather(*(self._balance(user_id, target) for target in targets))
        return list(results)

    async def _balance(self, user_id: int, target: Target) -> TargetBalance:
        try:
            client = await self._access.client(user_id, target)
            return TargetBalance(target, await client.fetch_balance())
        except NotFoundError:
            return TargetBalance(target, None, "no_credentials")
        except ElcaroError as error:
            return TargetBalance(target, None, type(error).__name__)

    # ------------------------------------------------------------------------------ exchange keys

    async def keys(self, user_id: int) -> list[CredentialInfo]:
        """The user's stored credentials as they may be shown: the target and a hint of the key, never a secret."""
        return await self._credentials.list_for_user(user_id)

    async def save_keys(self, user_id: int, target: Target, keys: ExchangeKeys) -> CredentialInfo:
        """Store keys for ``target`` (checked for the venue's shape, encrypted before storage)."""
        info = await self._credentials.save(user_id, target, keys)
        await self._access.pool.discard(user_id, target)  # a client made with the old keys must not be reused
        return info

    async def test_keys(self, user_id: int, credential_id: int) -> tuple[CredentialInfo, Balance]:
        """Prove stored keys work against their venue (a balance read); ``AuthenticationError`` when they do not."""
        info = await self._own_keys(user_id, credential_id)
        return info, await self._access.verify(user_id, info.target)

    async def delete_keys(self, user_id: int, credential_id: int) -> CredentialInfo:
        info = await self._own_keys(user_id, credential_id)
        await self._credentials.delete(user_id, credential_id)
        await self._access.pool.discard(user_id, info.target)
        return info

    async def _own_keys(self, user_id: int, credential_id: int) -> CredentialInfo:
        for info in await self._credentials.list_for_user(user_id):
            if info.id == credential_id:
                return info
        raise DeskError("keys.gone", "these keys are no longer stored")

    # ------------------------------------------------------------------------------ positions

    async def positions(self, user_id: int, *, page: int = 0, page_size: int = 5) -> PositionsPage:
        """Managed open positions, oldest first, one page with live prices and PnL."""
        async with self._db.reading() as tx:
            rows = await tx.positions.list_open(user_id)
        pages = max(1, -(-len(rows) // page_size))
        page = min(max(page, 0), pages - 1)
        chosen = rows[page * page_size : (page + 1) * page_size]
        marks = await self._marks(user_id, chosen)
        items = await self._with_targets(_view(row, marks.get((row.target, row.symbol))) for row in chosen)
        return PositionsPage(items, page, pages, len(rows))

    async def position(self, user_id: int, position_id: int) -> PositionView:
        """One managed open position of the user; ``DeskError`` ``position.closed`` once it is not open."""
        row = await self._open_row(user_id, position_id)
        marks = await self._marks(user_id, [row])
        (view,) = await self._with_targets([_view(row, marks.get((row.target, row.symbol)))])
        return view

    async def unmanaged(self, user_id: int) -> list[PositionView]:
        """Positions on the user's enabled targets that the platform does not manage (opened by hand elsewhere)."""
        found = await self._read_enabled_targets(user_id, "positions", partial(self._monitor.untracked, user_id))
        return [
            _view(_owned(position, user_id, target), position.mark_price)
            for target, venue in found
            for position in venue
        ]

    async def adopt(self, user_id: int, target: Target, symbol: str) -> int:
        """Manage a position opened by hand, as strategy ``manual``; returns its id."""
        return await self._monitor.adopt(user_id, target, symbol)

    async def close_position(self, user_id: int, position_id: int) -> None:
        """Ask the monitor to close the position at market; the close card follows when it has filled."""
        await self._open_row(user_id, position_id)
        try:
            await self._monitor.close_position(position_id, user_id=user_id)
        except NotFoundError:
            raise DeskError("position.closed", f"position {position_id} is no longer open") from None
        await self._audit(user_id, "position.close", {"position_id": position_id})

    async def modify_exits(
        self,
        user_id: int,
        position_id: int,
        *,
        stop: Decimal | None = None,
        target_prices: Sequence[Decimal] | None = None,
    ) -> PositionView:
        """Move the stop (either way) and/or re-price the targets not yet hit, nearest first; the position as it
        then stands. Levels it cannot take are a ``ValidationError`` naming the field (``stop``,
        ``target_prices.N``); ``position.stop_refused`` when the venue would not take the stop, so the position
        is being closed at market rather than left without one."""
        if stop is None and target_prices is None:
            raise DeskError("position.exits_empty", "name a stop or the target prices to change", field="stop")
        await self._open_row(user_id, position_id)
        prices = None if target_prices is None else tuple(target_prices)
        try:
            state = await self._monitor.amend_exits(position_id, stop=stop, target_prices=prices, user_id=user_id)
        except NotFoundError:
            raise DeskError("position.closed", f"position {position_id} is no longer open") from None
        details: dict[str, Any] = {"position_id": position_id, "stop": None if stop is None else str(state.stop)}
        details["target_prices"] = None if prices is None else [str(t.price) for t in state.targets if not t.hit]
        await self._audit(user_id, "position.exits", details)
        if state.closing is not None:
            raise DeskError(
                "position.stop_refused",
                f"the exchange refused the stop {state.stop}: the position is being closed at market instead",
                field="stop",
                stop=str(state.stop),
            )
        return await self.position(user_id, position_id)

    async def _with_targets(self, views: Iterable[PositionView]) -> tuple[PositionView, ...]:
        """The views with the take-profit targets their managed state works (read in one unit of work)."""
        shown: list[PositionView] = []
        async with self._db.reading() as tx:
            for view in views:
                state = None if view.id is None else shown_state(await tx.positions.get_state(view.id))
                targets = () if state is None else tuple(ExitTarget(t.index + 1, t.price, t.hit) for t in state.targets)
                shown.append(replace(view, targets=targets))
        return tuple(shown)

    async def close_all(self, user_id: int) -> int:
        """Close every managed open position of the user; how many closes were asked for."""
        async with self._db.reading() as tx:
            rows = await tx.positions.list_open(user_id)
        closed = 0
        for row in rows:
            assert row.id is not None  # stored rows carry their id
            try:
                await self._monitor.close_position(row.id, user_id=user_id)
                closed += 1
            except NotFoundError:
                continue
        await self._audit(user_id, "position.close_all", {"count": closed})
        return closed

    async def _open_row(self, user_id: int, position_id: int) -> Position:
        async with self._db.reading() as tx:
            row = await tx.positions.get(position_id)
        if row is None or row.user_id != user_id or row.closed_at is not None:
            raise DeskError("position.closed", f"position {position_id} is no longer open")
        return row

    async def _marks(self, user_id: int, rows: Iterable[Position]) -> dict[tuple[Target | None, str], Decimal]:
        by_target: dict[Target, set[str]] = {}
        for row in rows:
            if row.target is not None:
                by_target.setdefault(row.target, set()).add(row.symbol)
        marks: dict[tuple[Target | None, str], Decimal] = {}
        for target, symbols in by_target.items():
            try:
                client = await self._access.client(user_id, target)
                tickers = await client.fetch_tickers(sorted(symbols))
            except ElcaroError as error:  # the card shows the stored figures without live ones
                log.info("user %s: prices on %s not read: %s", user_id, target, error)
                continue
            for symbol, ticker in tickers.items():
                marks[(target, symbol)] = ticker.mark or ticker.last
        return marks

    # ------------------------------------------------------------------------------ orders

    async def open_orders(self, user_id: int) -> list[OrderView]:
        """Resting orders on every enabled target; those of managed positions are marked ``managed``."""

        async def read(target: Target) -> list[Order]:
            return await (await self._access.client(user_id, target)).fetch_open_orders()

        views: list[OrderView] = []
        for target, orders in await self._read_enabled_targets(user_id, "orders", read):
            managed = await self._managed_symbols(user_id, target)
            views.extend(OrderView(target, order, order.symbol in managed) for order in orders)
        return views

    async def cancel_order(self, user_id: int, target: Target, ref: str) -> Order:
        """Cancel the resting order named by ``ref`` (see ``order_ref``); refused for a managed position's order."""
        client = await self._access.client(user_id, target)
        found = [order for order in await client.fetch_open_orders() if order_ref(order.client_order_id) == ref]
        if not found:
            raise DeskError("order.gone", "the order is no longer open")
        order = found[0]
        if order.symbol in await self._managed_symbols(user_id, target):
            raise DeskError(
                "order.managed", f"the order protects or builds a managed {order.symbol} position: close that instead"
            )
        cancelled = await client.cancel_order(order.symbol, order.client_order_id)
        self._awaited.pop(order.client_order_id, None)
        await self._audit(user_id, "order.cancel", {"target": str(target), "client_order_id": order.client_order_id})
        return cancelled

    async def _read_enabled_targets(
        self, user_id: int, what: str, read: Callable[[Target], Awaitable[T]]
    ) -> list[tuple[Target, T]]:
        """``read`` on each enabled target of the user in turn; a target that cannot be read is logged and left out."""
        found: list[tuple[Target, T]] = []
        for view in await self.targets(user_id):
            if not view.enabled:
                continue
            try:
                found.append((view.target, await read(view.target)))
            except ElcaroError as error:
                log.info("user %s: %s on %s not read: %s", user_id, what, view.target, error)
        return found

    async def _managed_symbols(self, user_id: int, target: Target) -> set[str]:
        async with self._db.reading() as tx:
            return await tx.positions.open_symbols(user_id, target)

    # ------------------------------------------------------------------------------ manual orders

    async def prepare_manual(self, user_id: int, text: str) -> ManualPreview:
        """Read a typed order and check it against each enabled target; the options to confirm, or ``DeskError``."""
        request = parse_manual_order(text)
        await self._refuse_when_paused()
        enabled = [view for view in await self.targets(user_id) if view.enabled]
        usable = [view for view in enabled if view.target.environment is not Environment.LIVE or view.live_opted_in]
        if not usable:
            if enabled:
                raise DeskError("manual.live_not_opted_in", "your only targets are live ones you have not opted into")
            raise DeskError("manual.no_target", "choose a target (trading mode) before placing an order")
        options: list[ManualOption] = []
        first_refusal: DeskError | None = None
        for view in usable:
            try:
                options.append(await self._option(user_id, view.target, request))
            except DeskError as refusal:
                first_refusal = first_refusal or refusal
        if not options:
            assert first_refusal is not None  # every usable target refused
            raise first_refusal
        return ManualPreview(request, tuple(options))

    async def place_manual(
        self, user_id: int, request: ManualOrderRequest, option: ManualOption, *, intent: str
    ) -> ManualResult:
        """Send a confirmed manual order. ``intent`` names the confirmation: the same intent is the same client
        order id, so a repeated confirmation finds the order instead of placing a second one."""
        await self._refuse_when_paused()
        target = option.target
        if request.symbol in await self._managed_symbols(user_id, target):
            raise DeskError(
                "manual.symbol_managed",
                f"{request.symbol} on {target} is already a managed position",
                symbol=request.symbol,
                target=str(target),
            )
        client = await self._access.client(user_id, target)
        order = Order(
            client_order_id=make_client_order_id("manual", user_id, target, intent),
            symbol=request.symbol,
            side=request.side.entry_side,
            type=request.order_type,
            qty=option.qty,
            price=option.price,
            stop_loss=option.stop_loss,
            created_at=self._clock(),
        )
        await client.set_leverage(request.symbol, Decimal(option.leverage))
        placed = await client.place_order(order)
        async with self._db.transaction() as tx:
            await tx.orders.save(user_id, target, placed)
            await tx.audit.add(
                AuditEntry(
                    "order.manual",
                    user_id,
                    f"user:{user_id}",
                    {
                        "target": str(target),
                        "symbol": request.symbol,
                        "side": request.side.value,
                        "qty": str(option.qty),
                        "price": None if option.price is None else str(option.price),
                        "client_order_id": order.client_order_id,
                    },
                    self._clock(),
                )
            )
        if placed.filled_qty > 0:
            position_id, error = await self._adopt(user_id, target, request.symbol)
            return ManualResult(placed, position_id, error)
        if not placed.status.is_terminal:
            self._awaited[placed.client_order_id] = _Awaited(user_id, target, request.symbol, placed.client_order_id)
        return ManualResult(placed, None)

    async def _option(self, user_id: int, target: Target, request: ManualOrderRequest) -> ManualOption:
        if request.symbol in await self._managed_symbols(user_id, target):
            raise DeskError(
                "manual.symbol_managed",
                f"{request.symbol} on {target} is already a managed position",
                symbol=request.symbol,
                target=str(target),
            )
        client = await self._access.client(user_id, target)
        try:
            instrument = await client.instrument(request.symbol)
        except NotFoundError:
            raise DeskError(
                "manual.symbol_unknown",
                f"{target} does not list {request.symbol}",
                symbol=request.symbol,
                target=str(target),
            ) from None
        qty = instrument.round_qty(request.qty)
        params = {"symbol": request.symbol, "target": str(target)}
        if qty < instrument.min_qty or qty <= 0:
            raise DeskError("manual.qty_min", "below the minimum quantity", minimum=str(instrument.min_qty), **params)
        if instrument.max_qty is not None and qty > instrument.max_qty:
            raise DeskError("manual.qty_max", "above the maximum quantity", maximum=str(instrument.max_qty), **params)
        price = None if request.price is None else instrument.round_price(request.price)
        reference = price if price is not None else (await client.fetch_ticker(request.symbol)).last
        notional = instrument.notional(qty, reference)
        if notional < instrument.min_notional:
            raise DeskError(
                "manual.notional_min",
                "below the minimum order value",
                minimum=str(instrument.min_notional),
                asset=instrument.quote,
                **params,
            )
        settings = await self._manual_settings(user_id, target, request.side)
        sign = request.side.sign
        stop = instrument.round_price(reference * (1 - sign * settings.sl_pct / HUNDRED), stop_side(request.side))
        leverage = min(settings.leverage, int(instrument.max_leverage))
        return ManualOption(target, qty, price, reference, notional, stop, leverage)

    async def _manual_settings(self, user_id: int, target: Target, side: PositionSide) -> TradingSettings:
        return await self._preferences.effective(user_id, target, MANUAL, side)

    async def _adopt(self, user_id: int, target: Target, symbol: str) -> tuple[int | None, str | None]:
        try:
            return await self._monitor.adopt(user_id, target, symbol), None
        except ConflictError:
            return None, None  # managed already (a fill seen twice)
        except ElcaroError as error:
            log.warning("user %s: manual %s on %s not adopted: %s", user_id, symbol, target, error)
            return None, str(error)

    async def _refuse_when_paused(self) -> None:
        async with self._db.transaction() as tx:
            paused = bool(await tx.system_flags.get(GLOBAL_PAUSE_FLAG))
        if paused:
            raise DeskError("manual.global_pause", "trading is paused for everyone by the admins")

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[TradingDesk]:
        """Adopt manual limit orders as they fill, while the block runs."""
        task = asyncio.create_task(self._adopt_filled_forever(), name="desk: adopt manual fills")
        try:
            yield self
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def adopt_filled(self) -> int:
        """Adopt the resting manual orders that filled, forget those that ended; returns how many were adopted."""
        adopted = 0
        for awaited in list(self._awaited.values()):
            try:
                client = await self._access.client(awaited.user_id, awaited.target)
                order = await client.fetch_order(awaited.symbol, awaited.client_order_id)
            except ElcaroError as error:
                log.info("manual order %s not looked up: %s", awaited.client_order_id, error)
                continue
            if order.filled_qty > 0:
                position_id, _ = await self._adopt(awaited.user_id, awaited.target, awaited.symbol)
                adopted += position_id is not None
            if order.filled_qty > 0 or order.status.is_terminal:
                self._awaited.pop(awaited.client_order_id, None)
        return adopted

    async def _adopt_filled_forever(self) -> None:
        while True:
            await asyncio.sleep(self._adopt_interval)
            try:
                await self.adopt_filled()
            except Exception:  # the loop outlives any one pass
                log.exception("adopting manual fills failed")

    # ------------------------------------------------------------------------------ history and statistics

    async def history(
        self,
        user_id: int,
        *,
        where: TradeFilter = ANY_TRADE,
        page: int = 0,
        page_size: int = 8,
        after: TradeCursor | None = None,
    ) -> HistoryPage:
        """Closed trades matching ``where`` (a partial take-profit is a trade of its own), newest first.

        Pages are counted from the newest trade, or from ``after`` (the ``next`` cursor of a page read before):
        numbered pages stop at ``MAX_HISTORY_PAGES`` (each is an offset the database steps over), the cursor
        reaches every trade at the cost of one page.
        """
        page = min(max(page, 0), MAX_HISTORY_PAGES - 1)
        async with self._db.reading() as tx:
            found = await tx.trades.list_for_user(
                user_id, where, after=after, offset=page * page_size, limit=page_size + 1
            )
        chosen = found[:page_size]
        more = len(found) > page_size
        last = chosen[-1] if more else None
        cursor = None if last is None or last.id is None else TradeCursor(last.closed_at, last.id)
        return HistoryPage(tuple(chosen), page, more and page + 1 < MAX_HISTORY_PAGES, cursor)

    async def history_choices(self, user_id: int) -> TradeChoices:
        """What the history can be filtered on: the symbols, strategies and targets of the user's trades."""
        async with self._db.reading() as tx:
            return await tx.trades.choices(user_id)

    async def statistics(self, user_id: int, period: Period, *, strategy: str | None = None) -> StatsReport:
        return await self._statistics.report(user_id, period=period, strategy=strategy)

    async def pnl_history(
        self, user_id: int, period: Period, *, bucket: Bucket = Bucket.DAY, strategy: str | None = None
    ) -> PnlHistory:
        return await self._statistics.pnl_history(user_id, period=period, bucket=bucket, strategy=strategy)

    async def equity_curve(self, user_id: int, period: EquityPeriod, *, target: Target | None = None) -> EquityCurve:
        """The recorded equity over a rolling period, on one target or all of them added up (at most a few
        hundred points whatever the period)."""
        return await self._equity.curve(user_id, period, target=target)

    # ------------------------------------------------------------------------------ strategies and settings

    async def strategies(self, user_id: int) -> list[StrategyView]:
        """Every strategy a user can follow, with whether they do and in which direction."""
        names = await self.strategy_names(user_id)
        exchange = await self._reference_exchange(user_id)
        views = []
        for name in names:
            settings = await self._preferences.effective(
                user_id, Target(exchange, Environment.PAPER), name, PositionSide.LONG
            )
            views.append(StrategyView(name, settings.enabled, settings.direction.value))
        return views

    async def strategy_names(self, user_id: int) -> list[str]:
        async with self._db.reading() as tx:
            sources = await tx.signal_sources.list()
            stored = await tx.settings.list_for_user(user_id)
        names = set(BUILT_IN_STRATEGIES)
        names.update(source.strategy for source in sources if source.strategy)
        names.update(block.key.strategy for block in stored if block.key.strategy)
        names.discard(MANUAL)
        return sorted(names)

    async def strategy_settings(self, user_id: int, strategy: str) -> TradingSettings:
        exchange = await self._reference_exchange(user_id)
        return await self._preferences.effective(
            user_id, Target(exchange, Environment.PAPER), strategy, PositionSide.LONG
        )

    async def set_strategy_enabled(self, user_id: int, strategy: str, enabled: bool) -> None:
        await self._update(user_id, strategy, {"enabled": enabled})

    async def set_direction(self, user_id: int, strategy: str, direction: str) -> None:
        await self._update(user_id, strategy, {"direction": direction})

    async def update_setting(self, user_id: int, strategy: str, field: str, value: str) -> None:
        """Set one editable field of a strategy from text as typed: a value, ``off`` (where the rule can be
        off) or ``default`` (inherit again). Refusals are ``SettingsError`` naming the field and its range."""
        if field not in EDITABLE:
            raise DeskError("settings.field", f"{field} is not an editable setting", field=field)
        described = setting_field(field)
        word = value.strip().lower()
        key = SettingsKey(SettingsScope.STRATEGY, strategy=strategy)
        if word == "default":
            await self.clear_settings(user_id, key, [field])
            return
        typed: Any = None if word == "off" and described.nullable else value.strip()
        if described.kind in ("number", "whole") and isinstance(typed, str):
            typed = normalise_number(typed)
        await self._update(user_id, strategy, {field: typed})

    async def _update(self, user_id: int, strategy: str, changes: Mapping[str, Any]) -> None:
        await self.change_settings(user_id, SettingsKey(SettingsScope.STRATEGY, strategy=strategy), changes)

    # ------------------------------------------------------------------------------ settings at every level

    async def stored_settings(self, user_id: int) -> list[UserSettings]:
        """Every level the user has set something at, as stored (what a level leaves out comes from below)."""
        return await self._preferences.stored(user_id)

    async def change_settings(self, user_id: int, key: SettingsKey, changes: Mapping[str, Any]) -> UserSettings:
        """Merge ``changes`` into one level; open positions are managed by the new settings from now on."""
        stored = await self._preferences.update(user_id, key, changes)
        await self._monitor.reload_settings(user_id)
        return stored

    async def clear_settings(self, user_id: int, key: SettingsKey, fields: list[str] | None = None) -> None:
        """Drop ``fields`` (all when None) from a level, so the level below applies again, to open positions too."""
        await self._preferences.clear(user_id, key, fields)
        await self._monitor.reload_settings(user_id)

    async def effective_settings(
        self, user_id: int, target: Target, strategy: str, side: PositionSide
    ) -> TradingSettings:
        return await self._preferences.effective(user_id, target, strategy, side)

    async def _reference_exchange(self, user_id: int) -> Exchange:
        """Settings can differ per exchange; a strategy's summary uses the user's first enabled target's."""
        enabled = [view.target for view in await self.targets(user_id) if view.enabled]
        return enabled[0].exchange if enabled else Exchange.BYBIT

    async def _audit(self, user_id: int, action: str, details: dict[str, Any]) -> None:
        async with self._db.transaction() as tx:
            await tx.audit.add(AuditEntry(action, user_id, f"user:{user_id}", details, self._clock()))

    # ------------------------------------------------------------------------------ live chart

    async def candles(
        self, user_id: int, target: Target, symbol: str, timeframe: str, *, limit: int = 300
    ) -> ChartCandles:
        """The last ``limit`` candles of ``symbol`` at ``timeframe`` on ``target`` (cached briefly, shared by every
        caller); ``DeskError`` ``chart.*`` for a symbol or timeframe that cannot be charted."""
        return await self._chart.candles(user_id, target, symbol, timeframe, limit=limit)

    async def chart_marks(
        self, user_id: int, target: Target, symbol: str, *, since: int | None = None, until: int | None = None
    ) -> ChartMarks:
        """The caller's entries and exits on ``symbol`` in the window, and their open position's levels there."""
        return await self._chart.marks(user_id, target, symbol, since=since, until=until)


def _owned(position: Position, user_id: int, target: Target) -> Position:
    return replace(position, user_id=user_id, target=target)


def _view(row: Position, mark: Decimal | None) -> PositionView:
    if mark is None:
        return PositionView(row, None, None, None)
    figures = live_figures(row, mark)  # the live marks on the websocket follow the same rule
    return PositionView(row, mark, figures.unrealized_pnl, figures.change_pct)
