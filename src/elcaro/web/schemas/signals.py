"""What became of signals: executions with the signal each carried out."""

from __future__ import annotations

from elcaro.services.execution_history import ExecutionEntry
from elcaro.web.schemas.common import Model


class SignalBriefOut(Model):
    id: int
    source_kind: str
    """``channel``, ``webhook``, ``engine`` ...: where the signal came from."""
    strategy: str | None
    symbol: str | None
    side: str | None
    status: str
    received_at: int


class ExecutionEntryOut(Model):
    id: int
    user_id: int
    target: str
    status: str
    reason_code: str | None
    reason: str | None
    position_id: int | None
    created_at: int
    updated_at: int
    signal: SignalBriefOut

    @classmethod
    def of(cls, entry: ExecutionEntry) -> ExecutionEntryOut:
        s = entry.signal
        return cls(
            id=entry.id,
            user_id=entry.user_id,
            target=str(entry.target),
            status=entry.status,
            reason_code=entry.reason_code,
            reason=entry.reason,
            position_id=entry.position_id,
            created_at=entry.created_at,
            updated_at=entry.updated_at,
            signal=SignalBriefOut(
                id=s.id,
                source_kind=s.source.kind.value,
                strategy=s.strategy,
                symbol=s.symbol,
                side=s.side,
                status=s.status,
                received_at=s.received_at,
            ),
        )
