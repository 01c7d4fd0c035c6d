"""Every post a signal source delivered: accepted signals in full, rejected ones as text and reason.

Beside the parsed extras, a signal's ``extras`` JSON holds two records of what the platform did with it, each
written once: ``fan_out`` (when its fan-out finished, so a restart knows which accepted signals were never
served in full) and ``cancelled_by`` (which cancel post withdrew it, so the same post delivered again — after a
restart too — is recognised and withdraws nothing more). Neither is part of the ``Signal``.
"""

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
_ORIGINALS = (SignalStatus.ACCEPTED, SignalStatus.CANCELLED, SignalStatus.EXPIRED)
_FAN_OUT = "fan_out"
_CANCELLED_BY = "cancelled_by"


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
    fanned_out_at: int | None = None
    """When its fan-out finished (every subscriber served or refused); None: never, or not yet."""


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

    async def mark_fanned_out(self, signal_id: int, at: int) -> None:
        """Record that the fan-out of ``signal_id`` finished; the first mark stands."""
        await self._merge_extras(signal_id, _FAN_OUT, {"done_at": at}, replace_existing=False)

    async def unfinished_fan_outs(self, since: int) -> list[SignalRecord]:
        """Accepted signals received at or after ``since`` whose fan-out never finished, oldest first."""
        query = (
            select(SignalRow)
            .where(SignalRow.status == SignalStatus.ACCEPTED, SignalRow.received_at >= since)
            .order_by(SignalRow.received_at, SignalRow.id)
        )
        return [_record(row) for row in await self._session.scalars(query) if _fanned_out_at(row) is None]

    async def cancel(self, signal_id: int, reason: str, *, post_key: str, posted_at: int) -> None:
        """Mark the signal cancelled by the cancel post ``post_key`` (a hash of its source and text)."""
        await self.set_status(signal_id, SignalStatus.CANCELLED, reason)
        await self._merge_extras(signal_id, _CANCELLED_BY, {"post": post_key, "at": posted_at}, replace_existing=True)

    async def cancelled_by(
        self, source: SignalSource, post_key: str, *, signals_since: int, posted_since: int
    ) -> int | None:
        """The signal of ``source`` (received at or after ``signals_since``) that the cancel post ``post_key``
        withdrew at or after ``posted_since``; None when that post withdrew nothing in that time."""
        query = (
            select(SignalRow)
            .where(
                SignalRow.source_kind == source.kind,
                SignalRow.source_ref == source.ref,
                SignalRow.status == SignalStatus.CANCELLED,
                SignalRow.received_at >= signals_since,
            )
            .order_by(SignalRow.received_at.desc(), SignalRow.id.desc())
        )
        for row in await self._session.scalars(query):
            mark = (row.extras or {}).get(_CANCELLED_BY)
            if isinstance(mark, dict) and mark.get("post") == post_key and int(mark.get("at", 0)) >= posted_since:
                return row.id
        return None

    async def list_recent(self, limit: int = 50) -> list[SignalRecord]:
        """Newest first."""
        query = select(SignalRow).order_by(SignalRow.received_at.desc(), SignalRow.id.desc()).limit(limit)
        return [_record(row) for row in await self._session.scalars(query)]

    async def _merge_extras(self, signal_id: int, key: str, value: dict[str, Any], *, replace_existing: bool) -> None:
        query = (
            select(SignalRow)
            .where(SignalRow.id == signal_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        row = await self._session.scalar(query)
        if row is None:
            raise NotFoundError(f"no signal with id {signal_id}")
        if key in (row.extras or {}) and not replace_existing:
            return
        # A new dict, assigned: the JSON column does not track changes made inside the old one.
        row.extras = {**(row.extras or {}), key: value}
        await self._session.flush()


def _fanned_out_at(row: SignalRow) -> int | None:
    mark = (row.extras or {}).get(_FAN_OUT)
    return int(mark["done_at"]) if isinstance(mark, dict) and "done_at" in mark else None


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
        fanned_out_at=_fanned_out_at(row),
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
