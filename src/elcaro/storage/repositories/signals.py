"""Every post a signal source delivered: accepted signals in full, rejected ones as text and reason."""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from elcaro.models.errors import NotFoundError
from elcaro.models.signal import AtrExit, Entry, EntryKind, Signal, SignalSource, TakeProfit
from elcaro.storage.orm import SignalRow, SignalStatus

#: Statuses of signals that were taken: a repost of one of these is a duplicate.
_ORIGINALS = (SignalStatus.ACCEPTED, SignalStatus.CANCELLED)


@dataclass(frozen=True, slots=True)
class SignalRecord:
    """A stored post as admins review it; ``signal`` is None when the post was rejected."""

    id: int
    source: SignalSource
    strategy: str | None
    symbol: str | None
    status: SignalStatus
    reject_reason: str | None
    raw_text: str
    received_at: int
    signal: Signal | None


class SignalsRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, signal: Signal) -> Signal:
        """Store an accepted signal; returns it with its id."""
        row = SignalRow(
            source_kind=signal.source.kind,
            source_ref=signal.source.ref,
            strategy=signal.strategy,
            symbol=signal.symbol,
            side=signal.side,
            entry={
                "kind": signal.entry.kind.value,
                "prices": _texts(signal.entry.prices),
                "shares": _texts(signal.entry.shares),
            },
            take_profits=[{"price": str(tp.price), "share": _text(tp.share)} for tp in signal.take_profits],
            stop_loss=signal.stop_loss,
            leverage=signal.leverage,
            timeframe=signal.timeframe,
            extras=_extras(signal),
            raw_text=signal.raw_text,
            content_hash=signal.content_hash,
            received_at=signal.received_at,
            status=SignalStatus.ACCEPTED,
        )
        self._session.add(row)
        await self._session.flush()
        return replace(signal, id=row.id)

    async def add_rejected(self, source: SignalSource, raw_text: str, reason: str, received_at: int) -> int:
        """Keep a post that did not make a valid signal, so an admin can see what was refused and why."""
        row = SignalRow(
            source_kind=source.kind,
            source_ref=source.ref,
            raw_text=raw_text,
            received_at=received_at,
            status=SignalStatus.REJECTED,
            reject_reason=reason,
        )
        self._session.add(row)
        await self._session.flush()
        return row.id

    async def get(self, signal_id: int) -> Signal | None:
        """The signal; None for an unknown id and for a rejected post (see :meth:`get_record`)."""
        record = await self.get_record(signal_id)
        return None if record is None else record.signal

    async def get_record(self, signal_id: int) -> SignalRecord | None:
        row = await self._session.scalar(select(SignalRow).where(SignalRow.id == signal_id))
        return None if row is None else _record(row)

    async def find_duplicate(self, content_hash: str, since: int) -> int | None:
        """The id of the first signal with this hash received at or after ``since`` and not rejected."""
        query = (
            select(SignalRow.id)
            .where(
                SignalRow.content_hash == content_hash,
                SignalRow.received_at >= since,
                SignalRow.status.in_(_ORIGINALS),
            )
            .order_by(SignalRow.received_at, SignalRow.id)
            .limit(1)
        )
        return await self._session.scalar(query)

    async def set_status(self, signal_id: int, status: SignalStatus, reason: str | None = None) -> None:
        """Change the status; ``reason`` replaces the stored one (None clears it)."""
        statement = (
            update(SignalRow)
            .where(SignalRow.id == signal_id)
            .values(status=SignalStatus(status), reject_reason=reason)
            .returning(SignalRow.id)
        )
        if (await self._session.execute(statement)).scalar_one_or_none() is None:
            raise NotFoundError(f"no signal with id {signal_id}")

    async def latest_open_for(self, source: SignalSource, symbol: str, since: int) -> SignalRecord | None:
        """The newest accepted signal of ``source`` for ``symbol`` received at or after ``since``: what a
        cancel post ("Cancel #ETH/USDT") withdraws. Cancelled, duplicate and rejected posts never qualify."""
        query = (
            select(SignalRow)
            .where(
                SignalRow.source_kind == source.kind,
                SignalRow.source_ref == source.ref,
                SignalRow.symbol == symbol,
                SignalRow.status == SignalStatus.ACCEPTED,
                SignalRow.received_at >= since,
            )
            .order_by(SignalRow.received_at.desc(), SignalRow.id.desc())
            .limit(1)
        )
        row = await self._session.scalar(query)
        return None if row is None else _record(row)

    async def list_recent(self, limit: int = 50) -> list[SignalRecord]:
        """Newest first."""
        query = select(SignalRow).order_by(SignalRow.received_at.desc(), SignalRow.id.desc()).limit(limit)
        return [_record(row) for row in await self._session.scalars(query)]


def _text(value: Decimal | None) -> str | None:
    # Decimals go into JSON as strings: exact, and str() keeps the exponent, so they read back identical.
    return None if value is None else str(value)


def _texts(values: tuple[Decimal, ...]) -> list[str]:
    return [str(value) for value in values]


def _number(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


def _extras(signal: Signal) -> dict[str, Any]:
    extras: dict[str, Any] = {
        name: _text(getattr(signal, name)) for name in ("score", "quality_score", "rsi", "oi_change_pct")
    }
    extras["quality"] = signal.quality
    if signal.atr_exit is not None:
        extras["atr_exit"] = {
            "period": signal.atr_exit.period,
            "multiplier": str(signal.atr_exit.multiplier),
            "trigger_pct": _text(signal.atr_exit.trigger_pct),
        }
    extras["details"] = dict(signal.details)
    return extras


def _record(row: SignalRow) -> SignalRecord:
    return SignalRecord(
        id=row.id,
        source=SignalSource(row.source_kind, row.source_ref),
        strategy=row.strategy,
        symbol=row.symbol,
        status=row.status,
        reject_reason=row.reject_reason,
        raw_text=row.raw_text,
        received_at=row.received_at,
        signal=_signal(row),
    )


def _signal(row: SignalRow) -> Signal | None:
    if row.strategy is None or row.symbol is None or row.side is None or row.entry is None:
        return None
    extras = row.extras or {}
    atr = extras.get("atr_exit")
    atr_exit = None
    if atr is not None:
        atr_exit = AtrExit(atr["period"], Decimal(atr["multiplier"]), _number(atr["trigger_pct"]))
    return Signal(
        source=SignalSource(row.source_kind, row.source_ref),
        strategy=row.strategy,
        symbol=row.symbol,
        side=row.side,
        entry=Entry(
            kind=EntryKind(row.entry["kind"]),
            prices=tuple(Decimal(p) for p in row.entry["prices"]),
            shares=tuple(Decimal(s) for s in row.entry["shares"]),
        ),
        take_profits=tuple(
            TakeProfit(price=Decimal(tp["price"]), share=_number(tp["share"])) for tp in row.take_profits or ()
        ),
        stop_loss=row.stop_loss,
        leverage=row.leverage,
        timeframe=row.timeframe,
        score=_number(extras.get("score")),
        quality=extras.get("quality"),
        quality_score=_number(extras.get("quality_score")),
        rsi=_number(extras.get("rsi")),
        oi_change_pct=_number(extras.get("oi_change_pct")),
        atr_exit=atr_exit,
        details=extras.get("details", {}),
        raw_text=row.raw_text,
        received_at=row.received_at,
        id=row.id,
    )
