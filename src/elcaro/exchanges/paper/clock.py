"""A clock that a replay or a test moves by hand, so simulated time is exact and repeatable."""

from __future__ import annotations

from elcaro.models.errors import ValidationError


class ManualClock:
    """Epoch milliseconds that only move when told to, and never backwards."""

    def __init__(self, start_ms: int = 0) -> None:
        self._now = start_ms

    def __call__(self) -> int:
        return self._now

    def set(self, ms: int) -> None:
        if ms < self._now:
            raise ValidationError(f"time cannot run backwards from {self._now} to {ms}", field="clock")
        self._now = ms

    def advance(self, ms: int) -> None:
        self.set(self._now + ms)
