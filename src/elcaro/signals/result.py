"""The one outcome of parsing a message: a signal, a cancel, nothing, or a rejection with its reason."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from elcaro.models import Signal, SignalCancel
from elcaro.models.errors import InvalidSignalError


class Outcome(StrEnum):
    SIGNAL = "signal"
    CANCEL = "cancel"
    NOTHING = "nothing"
    """Not a signal (chat, news, an alert without a side): dropped without a trace."""
    REJECTED = "rejected"
    """A signal in a known format that contradicts itself or lacks a part: kept for admins."""


@dataclass(frozen=True, slots=True)
class ParseResult:
    outcome: Outcome
    parser: str | None = None
    """The parser that claimed the message (``None`` for nothing)."""
    signal: Signal | None = None
    cancel: SignalCancel | None = None
    reason: str | None = None
    field: str | None = None
    """The part of the signal the rejection is about (``stop_loss``, ``entry``...), when one is."""

    @classmethod
    def of(cls, parser: str, value: Signal | SignalCancel) -> ParseResult:
        if isinstance(value, Signal):
            return cls(Outcome.SIGNAL, parser, signal=value)
        return cls(Outcome.CANCEL, parser, cancel=value)

    @classmethod
    def rejected(cls, parser: str, error: InvalidSignalError) -> ParseResult:
        return cls(Outcome.REJECTED, parser, reason=error.reason, field=error.field)

    @property
    def value(self) -> Signal | SignalCancel | None:
        return self.signal or self.cancel


NOTHING = ParseResult(Outcome.NOTHING)
