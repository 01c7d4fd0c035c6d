"""What a fan-out, a resume or a cancel did for each (user, target): returned to the caller, stored as executions."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from elcaro.models import Target
from elcaro.storage import ExecutionRecord, ExecutionStatus


class CopyCode(StrEnum):
    """Reason codes of this service's own, beside gate codes, plan refusals and exchange error class names."""

    INVALID_SETTINGS = "invalid_settings"
    """The user's stored settings contradict each other; nothing can be sized until they are fixed."""
    UNKNOWN_SYMBOL = "unknown_symbol"
    """The target's venue does not list the signal's instrument."""
    SIGNAL_CANCELLED = "signal_cancelled"
    """The signal's source cancelled it: entries not yet filled are withdrawn (or were never placed)."""
    SIGNAL_EXPIRED = "signal_expired"
    """The platform stopped before serving this user, and at the next start the signal was too old to trade."""
    STOP_NOT_ATTACHED = "stop_not_attached"
    """The venue took an entry without its stop: the entry was withdrawn and anything filled closed at market."""
    PLAN_UNREADABLE = "plan_unreadable"
    """A stored plan this version cannot decode; nothing is placed from it."""
    INTERNAL_ERROR = "internal_error"


@dataclass(frozen=True, slots=True)
class PairOutcome:
    """One (signal, user, target): where its execution record stands now, and why."""

    user_id: int
    target: Target
    status: ExecutionStatus
    code: str | None = None
    """The stable reason code of a skip or failure (a gate code, a plan refusal, an error class)."""
    reason: str | None = None
    execution_id: int | None = None
    position_id: int | None = None

    @classmethod
    def of(cls, record: ExecutionRecord) -> PairOutcome:
        return cls(
            record.user_id,
            record.target,
            record.status,
            record.reason_code,
            record.reason,
            record.id,
            record.position_id,
        )


@dataclass(frozen=True, slots=True)
class FanOutReport:
    signal_id: int
    outcomes: tuple[PairOutcome, ...]
    """One per subscriber and target, in the order subscribers were selected."""

    def count(self, *statuses: ExecutionStatus) -> int:
        return sum(1 for outcome in self.outcomes if outcome.status in statuses)

    def count_code(self, code: str) -> int:
        return sum(1 for outcome in self.outcomes if outcome.code == code)

    def by_user(self, user_id: int) -> list[PairOutcome]:
        return [outcome for outcome in self.outcomes if outcome.user_id == user_id]
