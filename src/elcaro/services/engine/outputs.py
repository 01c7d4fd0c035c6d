"""What the engine leaves behind: closed trades in the trade log, and its entries as copy-trading signals.

Trades are stored like the position monitor stores copy-trading ones (strategy ``elcaro``, the
operator user, the target), so statistics count the engine with every other strategy. Entries are
published through signal ingest's engine path as strategy ``elcaro``: users who follow that
strategy get the same trade with their own risk settings. The engine publishes an entry only after
its own filled and was protected, so followers never get a trade the engine did not take.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from decimal import Decimal
from typing import Protocol

from elcaro.models import (
    Entry,
    EntryKind,
    Instrument,
    PositionSide,
    Signal,
    SignalSource,
    SourceKind,
    TakeProfit,
    Target,
    Trade,
)
from elcaro.models.decimals import Rounding
from elcaro.services.engine.config import STRATEGY
from elcaro.services.engine.execution import Closed
from elcaro.services.signal_ingest import IngestOutcome, IngestResult
from elcaro.storage import Database
from elcaro.strategies.breakout.signals import BreakoutSignal

log = logging.getLogger(__name__)

ENGINE_SOURCE = SignalSource(SourceKind.ENGINE, STRATEGY)


class EngineSignalSink(Protocol):
    """Signal ingest's engine path (``SignalIngestService.ingest_engine``)."""

    async def ingest_engine(self, signal: Signal) -> IngestResult: ...


class TradeSink(Protocol):
    async def record(self, closed: Closed, signal_id: int | None) -> Trade:
        """Keep one closed part of an engine trade; returns it as a ``Trade``."""
        ...


def as_trade(closed: Closed, target: Target, user_id: int | None, signal_id: int | None) -> Trade:
    return Trade(
        target=target,
        symbol=closed.symbol,
        side=closed.side,
        qty=closed.qty,
        entry_price=closed.entry_price,
        exit_price=closed.exit_price,
        opened_at=closed.opened_at,
        closed_at=closed.closed_at,
        exit_reason=closed.reason,
        strategy=STRATEGY,
        fees=closed.fees,
        contract_size=closed.contract_size,
        user_id=user_id,
        signal_id=signal_id,
    )


class TradeLog:
    """Stores the engine's closed trades; the position id is left empty (the engine keeps no position rows)."""

    def __init__(self, database: Database, user_id: int, target: Target) -> None:
        self._db = database
        self._user_id = user_id
        self._target = target

    async def record(self, closed: Closed, signal_id: int | None) -> Trade:
        async with self._db.transaction() as tx:
            return await tx.trades.add(as_trade(closed, self._target, self._user_id, signal_id))


class TradeList:
    """Keeps the closed trades in memory (a replay, which has no database)."""

    def __init__(self, target: Target) -> None:
        self._target = target
        self.trades: list[Trade] = []

    async def record(self, closed: Closed, signal_id: int | None) -> Trade:
        trade = as_trade(closed, self._target, None, signal_id)
        self.trades.append(trade)
        return trade


def engine_signal(
    signal: BreakoutSignal,
    instrument: Instrument,
    *,
    entry_price: Decimal,
    stop: Decimal,
    timeframe: str,
    preset: str,
    tp1_share: float,
    tp2_share: float,
    received_at: int,
) -> Signal:
    """The copy-trading ``Signal`` of an entry the engine took: market entry, the engine's stop and both targets.

    Targets are rounded away from the entry, so a follower's target is never nearer than the engine's;
    raises ``InvalidSignalError`` when rounding leaves them inconsistent (a range below a few ticks).
    """
    side = PositionSide.from_side(signal.side)
    away: Rounding = "up" if side is PositionSide.LONG else "down"
    tp1 = instrument.round_price(Decimal(repr(signal.tp1)), away)
    tp2 = instrument.round_price(Decimal(repr(signal.tp2)), away)
    shares = (Decimal(repr(tp1_share)), Decimal(repr(tp2_share)))
    text = (
        f"ElCaro engine ({preset}): {side.value.upper()} {signal.symbol} {signal.kind} breakout of "
        f"{signal.level.price:g} at {entry_price}, stop {stop}, TP1 {tp1}, TP2 {tp2}, bar {signal.bar_ts}"
    )
    return Signal(
        source=ENGINE_SOURCE,
        strategy=STRATEGY,
        symbol=signal.symbol,
        side=side,
        entry=Entry(EntryKind.MARKET, (entry_price,)),
        take_profits=(TakeProfit(tp1, shares[0]), TakeProfit(tp2, shares[1])),
        stop_loss=stop,
        timeframe=timeframe,
        score=Decimal(repr(round(signal.confidence * 100, 2))),
        details={"kind": signal.kind, "level": f"{signal.level.price:g}", "preset": preset},
        raw_text=text,
        received_at=received_at,
    )


class SignalPublisher:
    def __init__(self, sink: EngineSignalSink, clock: Callable[[], int]) -> None:
        self._sink = sink
        self._clock = clock

    async def publish(self, signal: Signal) -> int | None:
        """Hand ``signal`` to ingest; returns the stored signal's id (``None`` when ingest stored none)."""
        result = await self._sink.ingest_engine(signal)
        if result.outcome is not IngestOutcome.ACCEPTED:
            log.info("engine signal for %s: ingest says %s %s", signal.symbol, result.outcome, result.reason or "")
        return result.signal_id
