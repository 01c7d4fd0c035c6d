"""A live market chart: a venue's candles for one symbol, and the caller's own trades and position drawn on them.

Candles are public, so one short-lived copy per (target, symbol, timeframe) serves every dashboard that watches
it: a hundred pages refreshing the last candle cost the venue one request per ``candle_ttl``, not a hundred. The
venue is reached through the caller's own exchange client (the pool's rate limits and retries apply as to any
other read), so a real venue needs the caller's keys there; paper targets need none.

Markers are the caller's alone: the entries and exits of their closed trades on the symbol in the chart's window,
and for an open managed position its entry, stop and take-profit levels.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from elcaro.exchanges.client import ExchangeClient
from elcaro.exchanges.client.cache import TtlCache
from elcaro.models import ExitReason, Position, PositionSide, Target, Trade
from elcaro.models.errors import ExchangeError, NotFoundError, ValidationError
from elcaro.models.market import Candle
from elcaro.models.timeframe import TIMEFRAMES, Timeframe
from elcaro.models.trade_query import TradeFilter
from elcaro.services.desk.errors import DeskError
from elcaro.services.exchange_access import ExchangeAccess
from elcaro.services.positions.record import shown_state
from elcaro.signals.symbols import read_symbol
from elcaro.storage import Database

MAX_CANDLES = 1000
"""The most candles one request gets: what Bybit answers at once (Binance and HyperLiquid give as many)."""
DEFAULT_CANDLE_TTL = 2.0
"""Seconds a venue's candles are served from memory: shorter than any dashboard's refresh is useful for."""
MAX_CACHED_SERIES = 256
"""Series kept at once; past it the cache starts afresh, so symbols nobody watches any more are not kept."""
MAX_MARKED_TRADES = 1000
"""Trades marked in one window at most (the newest): more would hide the candles under their arrows."""

# A venue's "no such timeframe" (the adapters' code) and the paper exchange's "no candles fed at this timeframe".
_UNSUPPORTED_TIMEFRAME = "unsupported_timeframe"
_NO_DATA = "no_data"


class LevelKind(StrEnum):
    ENTRY = "entry"
    STOP = "stop"
    TAKE_PROFIT = "take_profit"


class MarkKind(StrEnum):
    ENTRY = "entry"
    EXIT = "exit"


@dataclass(frozen=True, slots=True)
class ChartMark:
    """An entry or an exit at ``time`` (epoch ms). A position closed in parts has one entry and an exit per part."""

    kind: MarkKind
    time: int
    side: PositionSide
    price: Decimal
    trade_id: int | None = None
    """The trade an exit closed (None for an entry, which the parts of one position share)."""
    position_id: int | None = None
    """The open position an entry opened (None for a closed trade's)."""
    exit_reason: ExitReason | None = None
    net_pnl: Decimal | None = None


@dataclass(frozen=True, slots=True)
class PriceLevel:
    """A price an open position works at: its entry, its stop, or one of its take-profit targets."""

    kind: LevelKind
    price: Decimal
    position_id: int
    index: int | None = None
    """The take-profit target's number (0 first)."""
    hit: bool = False
    """A take-profit target already reached (its part is closed)."""


@dataclass(frozen=True, slots=True)
class ChartMarks:
    target: Target
    symbol: str
    marks: tuple[ChartMark, ...]
    """Oldest first."""
    levels: tuple[PriceLevel, ...]
    position: Position | None
    """The open managed position on the symbol, when there is one."""


@dataclass(frozen=True, slots=True)
class ChartCandles:
    target: Target
    symbol: str
    """Canonical (``BTC/USDT:USDT``), however it was asked for."""
    timeframe: str
    candles: tuple[Candle, ...]
    """Oldest first; the last one may still be forming."""


class MarketChart:
    def __init__(
        self,
        database: Database,
        access: ExchangeAccess,
        *,
        candle_ttl: float = DEFAULT_CANDLE_TTL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._db = database
        self._access = access
        self._ttl = candle_ttl
        self._clock = clock
        self._cache = self._new_cache()
        self._series: set[tuple[Target, str, str]] = set()
        self.venue_reads = 0
        """Requests made to venues for candles (the cache's misses): what a dashboard costs them."""

    async def candles(
        self, user_id: int, target: Target, symbol: str, timeframe: str, *, limit: int = 300
    ) -> ChartCandles:
        """The last ``limit`` candles of ``symbol`` at ``timeframe``; none while a paper market has had no candles at
        that timeframe yet.

        ``DeskError`` ``chart.timeframe``, ``chart.symbol_unknown`` or ``chart.limit`` for what cannot be charted;
        ``NotFoundError`` when the caller has no keys for a real venue.
        """
        tf = _timeframe(timeframe)
        if not 1 <= limit <= MAX_CANDLES:
            raise DeskError(
                "chart.limit", f"between 1 and {MAX_CANDLES} candles", field="limit", maximum=str(MAX_CANDLES)
            )
        client = await self._access.client(user_id, target)
        listed = await _listed(client, target, symbol)
        key = (target, listed, tf.name)
        if key not in self._series and len(self._series) >= MAX_CACHED_SERIES:
            self._cache, self._series = self._new_cache(), set()  # loads under way still answer their callers
        self._series.add(key)
        series = await self._cache.get(key, lambda: self._fetch(client, listed, tf))
        return ChartCandles(target, listed, tf.name, series[-limit:])

    async def marks(
        self, user_id: int, target: Target, symbol: str, *, since: int | None = None, until: int | None = None
    ) -> ChartMarks:
        """The caller's entries and exits on ``symbol`` at ``target`` in ``[since, until]`` (any trade that was open
        in the window), and the levels of their open managed position there."""
        listed = _canonical(symbol)
        async with self._db.reading() as tx:
            where = TradeFilter(target=target, symbol=listed, closed_since=since)
            trades = await tx.trades.list_for_user(user_id, where, limit=MAX_MARKED_TRADES)
            open_rows = [row for row in await tx.positions.list_open(user_id, target) if row.symbol == listed]
            position = open_rows[0] if open_rows else None
            state = None if position is None or position.id is None else await tx.positions.get_state(position.id)
        chosen = [trade for trade in trades if until is None or trade.opened_at <= until]
        marks = _trade_marks(chosen)
        levels: tuple[PriceLevel, ...] = ()
        if position is not None and position.id is not None:
            levels = _levels(position, position.id, state)
            # Its parts already closed (partial take-profits) marked its entry: that one mark is the position's.
            shared = [
                m for m in marks if m.kind is MarkKind.ENTRY and (m.time, m.side) == (position.opened_at, position.side)
            ]
            marks = [m for m in marks if m not in shared]
            marks.append(
                ChartMark(
                    MarkKind.ENTRY, position.opened_at, position.side, position.entry_price, position_id=position.id
                )
            )
        marks.sort(key=lambda mark: (mark.time, mark.kind != MarkKind.ENTRY))
        return ChartMarks(target, listed, tuple(marks), levels, position)

    def _new_cache(self) -> TtlCache[tuple[Target, str, str], tuple[Candle, ...]]:
        return TtlCache(self._ttl, self._clock)

    async def _fetch(self, client: ExchangeClient, symbol: str, tf: Timeframe) -> tuple[Candle, ...]:
        self.venue_reads += 1
        try:
            candles = await client.fetch_ohlcv(symbol, tf.name, limit=MAX_CANDLES)
        except ExchangeError as error:
            if error.code == _NO_DATA:
                return ()
            if error.code == _UNSUPPORTED_TIMEFRAME:
                raise DeskError(
                    "chart.timeframe",
                    f"{client.target} has no {tf.name} candles",
                    field="timeframe",
                    timeframe=tf.name,
                    target=str(client.target),
                ) from None
            raise
        return tuple(sorted(candles, key=lambda candle: candle.timestamp)[-MAX_CANDLES:])


def _timeframe(name: str) -> Timeframe:
    try:
        return Timeframe.parse(name)
    except ValidationError:
        raise DeskError(
            "chart.timeframe",
            f"unknown timeframe {name!r} (allowed: {', '.join(TIMEFRAMES)})",
            field="timeframe",
            timeframe=name,
        ) from None


def _canonical(symbol: str) -> str:
    """``BTCUSDT``, ``BTC/USDT`` and ``BTC/USDT:USDT`` all name the linear perpetual the platform trades."""
    found = read_symbol(symbol)
    if found is None:
        raise DeskError(
            "chart.symbol", f"{symbol!r} is not a USDT or USDC pair such as BTCUSDT", field="symbol", symbol=symbol
        )
    return found


async def _listed(client: ExchangeClient, target: Target, symbol: str) -> str:
    listed = _canonical(symbol)
    try:
        await client.instrument(listed)
    except NotFoundError:
        raise DeskError(
            "chart.symbol_unknown",
            f"{target} does not list {listed}",
            field="symbol",
            symbol=listed,
            target=str(target),
        ) from None
    return listed


def _trade_marks(trades: list[Trade]) -> list[ChartMark]:
    """An exit per trade; one entry per position, which its parts (partial take-profits) share."""
    marks: list[ChartMark] = []
    entries: set[tuple[int, PositionSide, Decimal]] = set()
    for trade in sorted(trades, key=lambda trade: (trade.closed_at, trade.id or 0)):
        entry = (trade.opened_at, trade.side, trade.entry_price)
        if entry not in entries:
            entries.add(entry)
            marks.append(ChartMark(MarkKind.ENTRY, trade.opened_at, trade.side, trade.entry_price))
        marks.append(
            ChartMark(
                MarkKind.EXIT,
                trade.closed_at,
                trade.side,
                trade.exit_price,
                trade_id=trade.id,
                exit_reason=trade.exit_reason,
                net_pnl=trade.net_pnl,
            )
        )
    return marks


def _levels(position: Position, position_id: int, state: dict[str, object] | None) -> tuple[PriceLevel, ...]:
    """Entry, stop and every take-profit target of the managed state; the row's figures when it has none."""
    levels = [PriceLevel(LevelKind.ENTRY, position.entry_price, position_id)]
    managed = shown_state(state)  # None: shown with the row's figures rather than not at all
    stop = managed.stop if managed is not None and managed.stop > 0 else position.stop_loss
    if stop is not None:
        levels.append(PriceLevel(LevelKind.STOP, stop, position_id))
    if managed is not None and managed.targets:
        levels.extend(
            PriceLevel(LevelKind.TAKE_PROFIT, leg.price, position_id, index=leg.index, hit=leg.hit)
            for leg in managed.targets
        )
    elif position.take_profit is not None:
        levels.append(PriceLevel(LevelKind.TAKE_PROFIT, position.take_profit, position_id, index=0))
    return tuple(levels)
