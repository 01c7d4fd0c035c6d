"""What became of signals for a user: each execution (signal × target) with its signal, as a trader reviews it.

Copy trading records one execution per (signal, user, target) as it fans a signal out (planned, placing,
placed, filled, closed; or skipped / failed with a reason code). This service only reads them: a user's
own, newest first, and — for admins — every execution of one signal.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from elcaro.models import SignalSource, Target
from elcaro.models.errors import NotFoundError, ValidationError
from elcaro.services.users import require_admin
from elcaro.storage import Database, UnitOfWork
from elcaro.storage.repositories import ExecutionRecord, SignalRecord

MAX_LIMIT = 500


@dataclass(frozen=True, slots=True)
class SignalBrief:
    """The signal an execution carried out, as much of it as a trader needs to recognise it."""

    id: int
    source: SignalSource
    strategy: str | None
    symbol: str | None
    side: str | None
    status: str
    received_at: int


@dataclass(frozen=True, slots=True)
class ExecutionEntry:
    id: int
    user_id: int
    target: Target
    status: str
    """``planned``, ``placing``, ``placed``, ``filled``, ``closed``, ``skipped`` or ``failed``."""
    reason_code: str | None
    """Why it was skipped or failed, as a stable code (a gate's, a venue's)."""
    reason: str | None
    position_id: int | None
    created_at: int
    updated_at: int
    signal: SignalBrief


class ExecutionHistoryService:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def for_user(self, user_id: int, *, limit: int = 50) -> list[ExecutionEntry]:
        """The user's executions, newest first."""
        _check_limit(limit)
        async with self._db.reading() as tx:
            records = await tx.executions.for_user(user_id, limit=limit)
            signals = await _signals(tx, (record.signal_id for record in records))
        return [_entry(record, signals[record.signal_id]) for record in records]

    async def for_signal(self, actor_id: int | None, signal_id: int) -> list[ExecutionEntry]:
        """Every execution of one signal, in the order the fan-out claimed them (admins only)."""
        async with self._db.reading() as tx:
            await require_admin(tx, actor_id)
            signals = await _signals(tx, (signal_id,))
            if signal_id not in signals:
                raise NotFoundError(f"no signal {signal_id}")
            records = await tx.executions.for_signal(signal_id)
        return [_entry(record, signals[signal_id]) for record in records]


def _check_limit(limit: int) -> None:
    if not 1 <= limit <= MAX_LIMIT:
        raise ValidationError(f"1 to {MAX_LIMIT}, got {limit}", field="limit")


async def _signals(tx: UnitOfWork, ids: Iterable[int]) -> dict[int, SignalBrief]:
    """Each signal once, however many of the executions carried it out."""
    found: dict[int, SignalBrief] = {}
    for signal_id in dict.fromkeys(ids):
        record = await tx.signals.get_record(signal_id)
        if record is not None:
            found[signal_id] = _brief(record)
    return found


def _brief(record: SignalRecord) -> SignalBrief:
    return SignalBrief(
        id=record.id,
        source=record.source,
        strategy=record.strategy,
        symbol=record.symbol,
        side=None if record.signal is None else record.signal.side.value,
        status=record.status.value,
        received_at=record.received_at,
    )


def _entry(record: ExecutionRecord, signal: SignalBrief) -> ExecutionEntry:
    return ExecutionEntry(
        id=record.id,
        user_id=record.user_id,
        target=record.target,
        status=record.status.value,
        reason_code=record.reason_code,
        reason=record.reason,
        position_id=record.position_id,
        created_at=record.created_at,
        updated_at=record.updated_at,
        signal=signal,
    )
